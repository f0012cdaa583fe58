"""The target-bonus import through a real Celery worker and Redis broker, as in production (skipped
without PostgreSQL and a broker, as tests/people/test_import_worker.py explains)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incentives.models import TargetBonus, TargetBonusImport
from incentives.services.target_imports import target_import_start
from people.models import ImportStatus
from tests.incentives.factories import plan_world

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_import_runs_on_a_real_worker_and_reports_progress(real_worker, cast):
    cast, _, plan = plan_world(cast)
    people = (cast.employee, cast.manager, cast.chief, cast.stranger)
    content = "employee_id,amount\n" + "".join(f"{p.employee_id},{1000 + i}\n" for i, p in enumerate(people))
    record = target_import_start(
        user=cast.hr.user, plan=plan, file_name="t.csv", content=SimpleUploadedFile("t.csv", content.encode())
    )
    deadline = time.monotonic() + 60
    while not record.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        record = TargetBonusImport.objects.get(pk=record.pk)
    assert record.status == ImportStatus.SUCCEEDED, (record.status, record.errors)
    assert (record.total_rows, record.processed_rows, record.summary) == (4, 4, {"imported": 4})
    assert TargetBonus.objects.get(plan=plan, employee=cast.chief).amount == Decimal("1002")

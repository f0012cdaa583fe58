"""The org-chart import through a real Celery worker and Redis broker, as in production.

It needs PostgreSQL (the worker is another process and must see the test
database) and a reachable broker; where either is missing it is skipped with
a message. CI provides both.
"""

from __future__ import annotations

import time

import pytest

from people.models import Employee, ImportStatus, OrgChartImport
from people.org_import import start_import
from tests.factories import UserFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_import_runs_on_a_real_worker_and_reports_progress(real_worker):
    rows = "".join(
        f"W{i},Worker Person {i},w{i}@example.org,Claims processing,{'W0' if i else ''},Claims officer,2022-03-0{1 + i % 9}\n"
        for i in range(40)
    )
    content = ("employee_id,name,email,department,manager_id,job_title,hire_date\n" + rows).encode()
    record = start_import(user=UserFactory(), file_name="org.csv", content=content, deactivate_missing=False)

    deadline = time.monotonic() + 60
    while not record.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        record = OrgChartImport.objects.get(pk=record.pk)
    assert record.status == ImportStatus.SUCCEEDED, (record.status, record.errors)
    assert (record.total_rows, record.processed_rows, record.summary["created"]) == (40, 40, 40)
    assert Employee.objects.filter(manager__employee_id="W0").count() == 39

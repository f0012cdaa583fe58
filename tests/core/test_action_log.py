"""The action log: one entry per change, written with the change or not at all."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import RequestFactory

from core import log
from core.middleware import ActionSourceMiddleware
from core.models import ActionLogEntry

pytestmark = pytest.mark.django_db


def test_an_entry_names_who_did_what_to_which_record_and_only_what_changed(cast):
    entry = log.log_action(
        cast.employee,
        "employee.updated",
        user=cast.hr.user,
        changes={"job_title": ("Nurse", "Senior nurse"), "full_name": ("Staff Nurse", "Staff Nurse")},
        data={"reason": "Promotion", "at": datetime.date(2026, 3, 1), "salary": Decimal("1.50")},
    )
    entry.refresh_from_db()
    assert entry.actor == cast.hr.user
    assert entry.actor_label == cast.hr.user.get_username()
    assert entry.kind == "people.employee"
    assert entry.object_id == cast.employee.pk
    assert entry.object_repr == str(cast.employee)
    assert entry.changes == {"job_title": ["Nurse", "Senior nurse"]}
    assert entry.data == {"reason": "Promotion", "at": "2026-03-01", "salary": "1.5"}


def test_an_entry_is_not_kept_when_the_change_is_rolled_back(cast):
    with pytest.raises(RuntimeError), transaction.atomic():
        log.log_action(cast.employee, "employee.updated", user=cast.hr.user)
        raise RuntimeError("the change failed")
    assert not ActionLogEntry.objects.exists()


def test_a_snapshot_and_diff_give_old_and_new_values(cast):
    before = log.snapshot(cast.employee, ["job_title", "manager"])
    cast.employee.job_title = "Charge nurse"
    cast.employee.manager = cast.chief
    assert log.diff(before, cast.employee) == {
        "job_title": (before["job_title"], "Charge nurse"),
        "manager": (cast.manager.pk, cast.chief.pk),
    }


def test_entries_written_during_a_request_name_the_request(cast):
    def view(request):
        log.log_action(cast.employee, "employee.viewed", user=cast.hr.user)
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().post("/people/1/edit/")
    ActionSourceMiddleware(view)(request)
    entry = ActionLogEntry.objects.get()
    assert entry.source == f"POST /people/1/edit/ · {request.request_id}"
    # Outside a request, nothing is claimed.
    assert log.log_action(cast.employee, "employee.touched").source == ""


def test_a_bulk_change_writes_one_entry_per_record(cast):
    people = [cast.employee, cast.manager, cast.stranger]
    with log.source("job appraisals.launch_cycle · abc"):
        assert log.log_actions(people, "participant.created", user=None, data={"cycle": "Review 2026"}) == 3
    entries = ActionLogEntry.objects.order_by("object_repr")
    assert sorted(e.object_id for e in entries) == sorted(p.pk for p in people)
    assert {e.source for e in entries} == {"job appraisals.launch_cycle · abc"}
    assert all(e.actor is None and e.data == {"cycle": "Review 2026"} for e in entries)

"""The to-do emails a launch sends go once: the email task run again (a message redelivered after
its worker was killed) sends only what it had not sent."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from appraisals import notifications, tasks
from appraisals.models import CycleState, ToDo
from appraisals.services import cycles
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, ReviewCycleFactory

pytestmark = pytest.mark.django_db


def test_the_email_task_run_twice_emails_each_person_once(cast, django_capture_on_commit_callbacks):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    cycle = ReviewCycleFactory(year=timezone.localdate().year, state=CycleState.SETUP, phase=None, launched_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    todos = list(ToDo.objects.filter(cycle=cycle).values_list("pk", flat=True))
    sent = len(mail.outbox)
    assert todos and sent == len({t.employee_id for t in ToDo.objects.filter(cycle=cycle)})
    assert not ToDo.objects.filter(cycle=cycle, emailed_at__isnull=True).exists()

    assert tasks.send_todo_emails(todos) == 0  # delivered again
    assert len(mail.outbox) == sent


def test_a_task_killed_half_way_sends_the_rest_and_only_the_rest(cast, monkeypatch):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    cycle = ReviewCycleFactory(year=timezone.localdate().year, state=CycleState.SETUP, phase=None, launched_at=None)
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycles.run_launch(cycle.pk, notify=False)  # the records and to-dos, no emails yet
    todos = list(ToDo.objects.filter(cycle=cycle).order_by("employee_id", "pk"))
    people = sorted({t.employee_id for t in todos})
    assert len(people) > 2
    monkeypatch.setattr(notifications, "SEND_BATCH", 2)
    # The first batch went out and was stamped before the worker died.
    assert notifications.send_new_todos([t.pk for t in todos if t.employee_id in people[:2]]) == 2

    assert notifications.send_new_todos([t.pk for t in todos]) == len(people) - 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        {t.employee.user.email for t in todos if t.employee.user.email}
    )

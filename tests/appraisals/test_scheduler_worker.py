"""The review-cycle tasks through a real Celery worker and Redis broker, as in production, and their
daily schedule in django-celery-beat.

The worker tests need PostgreSQL (the worker is another process and must see the test database)
and a reachable broker; where either is missing they are skipped with a message. CI provides both.
"""

from __future__ import annotations

import time

import pytest
from django_celery_beat.models import PeriodicTask

from appraisals import tasks
from appraisals.models import CycleState, Participant, Phase, ReviewCycle, ToDo, ToDoKind
from appraisals.services import cycles
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, data_around_today

# Cycles set up here review the organisation's open period (tests/appraisals/conftest.py).
pytestmark = pytest.mark.usefixtures("goal_period")

on_a_worker = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def form():
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_launch_runs_on_a_real_worker(cast, form, real_worker):
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(Phase.DO))
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)  # no transaction around it: queued at once

    assert wait_for(lambda: ReviewCycle.objects.get(pk=cycle.pk).state == CycleState.ACTIVE)
    cycle.refresh_from_db()
    assert (cycle.phase, cycle.launch_done, cycle.launch_total) == (Phase.DO, 5, 5)
    assert Participant.objects.filter(cycle=cycle).count() == 5


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_daily_phase_move_runs_on_a_real_worker(cast, form, real_worker):
    # Running in Plan, though today lies in the Do window: the daily job's case.
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(Phase.DO))
    Participant.objects.create(cycle=cycle, employee=cast.employee, form_version=form, reviewer=cast.manager)
    ReviewCycle.objects.filter(pk=cycle.pk).update(state=CycleState.ACTIVE, phase=Phase.PLAN)

    tasks.advance_phases.delay()

    assert wait_for(lambda: ReviewCycle.objects.get(pk=cycle.pk).phase == Phase.DO)
    assert set(ToDo.objects.filter(cycle=cycle, kind=ToDoKind.CHECK_IN).values_list("employee", flat=True)) == {
        cast.employee.pk,
        cast.manager.pk,
    }


# ---------------------------------------------------------------- the schedule (no worker needed)


@pytest.mark.django_db
def test_the_daily_jobs_are_in_the_beat_schedule():
    scheduled = {
        t.task: t for t in PeriodicTask.objects.select_related("crontab").filter(task__startswith="appraisals.")
    }
    assert set(scheduled) == {"appraisals.advance_phases", "appraisals.send_reminders"}
    advance, remind = scheduled["appraisals.advance_phases"], scheduled["appraisals.send_reminders"]
    assert (advance.crontab.hour, advance.crontab.minute, advance.enabled) == ("6", "0", True)
    assert (remind.crontab.hour, remind.crontab.minute) == ("7", "0")


@pytest.mark.django_db
def test_registering_again_keeps_what_hr_changed():
    task = PeriodicTask.objects.get(task="appraisals.send_reminders")
    task.enabled = False
    task.save()
    tasks.register_periodic_tasks()
    tasks.register_periodic_tasks()
    assert PeriodicTask.objects.filter(task__startswith="appraisals.").count() == 2
    assert PeriodicTask.objects.get(task="appraisals.send_reminders").enabled is False


@pytest.mark.django_db
def test_the_tasks_take_ids_and_call_the_services(cast, form):
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(Phase.DO))
    ReviewCycle.objects.filter(pk=cycle.pk).update(state=CycleState.LAUNCHING)
    assert tasks.launch_cycle.delay(cycle.pk).get() == CycleState.ACTIVE  # eager in tests
    assert tasks.advance_phases.delay().get() == []
    assert tasks.send_reminders.delay().get() == 0

"""Launching a review cycle: the bulk creation task, its idempotency and resumption, people added later."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from appraisals import notifications, tasks
from appraisals.models import (
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleState,
    DevelopmentPlan,
    DialogueAnswer,
    HistoryEntry,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
    ToDoKind,
)
from appraisals.services import cycles
from cascade.models import Approval, Goal
from competencies.models import AssignmentRule, DialogueQuestion, QuestionKey
from tests.appraisals.factories import (
    ParticipantWithRecordsFactory,
    PublishedFormVersionFactory,
    ReviewCycleFactory,
    data_around_today,
)
from tests.cascade.factories import QualityPriorityFactory
from tests.factories import EmployeeFactory

# Cycles set up here review the organisation's open period (tests/appraisals/conftest.py).
pytestmark = pytest.mark.usefixtures("goal_period")


@pytest.fixture
def form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


@pytest.fixture
def cycle(cast, form) -> ReviewCycle:
    return cycles.cycle_create(user=cast.hr.user, data=data_around_today())


def counts(cycle: ReviewCycle) -> tuple[int, int, int, int, int]:
    return (
        Participant.objects.filter(cycle=cycle).count(),
        Appraisal.objects.filter(participant__cycle=cycle).count(),
        CheckIn.objects.filter(participant__cycle=cycle).count(),
        DevelopmentPlan.objects.filter(participant__cycle=cycle).count(),
        ToDo.objects.filter(cycle=cycle).count(),
    )


def test_launch_creates_everyones_records_in_the_background(cast, cycle, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        launched = cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
        assert launched.state == CycleState.LAUNCHING  # the task waits for the commit
    assert len(callbacks) >= 1  # the task was queued on commit (and ran: eager in tests)
    cycle.refresh_from_db()
    assert (cycle.state, cycle.phase) == (CycleState.ACTIVE, Phase.PLAN)
    assert (cycle.launch_total, cycle.launch_done, cycle.launch_error) == (5, 5, "")
    assert cycle.launched_at is not None
    participant = Participant.objects.select_related("appraisal").get(cycle=cycle, employee=cast.employee)
    assert participant.reviewer == cast.manager
    assert participant.appraisal.state == AppraisalState.DRAFT
    assert counts(cycle)[:4] == (5, 5, 5, 5)
    # Plan: everyone sets goals; managers approve their reports'.
    assert set(ToDo.objects.filter(employee=cast.manager).values_list("kind", "participant__employee")) == {
        (ToDoKind.SET_GOALS, cast.manager.pk),
        (ToDoKind.APPROVE_GOALS, cast.employee.pk),
    }
    assert {m.to[0] for m in mail.outbox} == {
        e.user.email for e in (cast.chief, cast.manager, cast.employee, cast.stranger, cast.hr)
    }
    assert HistoryEntry.objects.filter(cycle=cycle, action="launched").exists()


def test_launch_refuses_when_someone_has_no_form(cast, db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, department=cast.employee.department)
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today())
    with pytest.raises(ValidationError) as caught:
        cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    message = caught.value.messages[0]
    assert message.startswith("2 people have no appraisal form:")
    assert "Pharmacist" in message and "HR Admin" in message
    cycle.refresh_from_db()
    assert cycle.state == CycleState.SETUP
    assert not Participant.objects.filter(cycle=cycle).exists()


def test_a_launched_cycle_cannot_be_launched_again(cast, cycle):
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycles.run_launch(cycle.pk)
    with pytest.raises(ValidationError):
        cycles.cycle_launch(user=cast.hr.user, cycle=cycle)


def test_running_the_task_twice_creates_nothing_twice(cast, cycle):
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)  # queued on commit: not run inside the test's transaction
    cycles.run_launch(cycle.pk)
    first = counts(cycle)
    assert first[:4] == (5, 5, 5, 5)
    cycles.run_launch(cycle.pk)  # a redelivered message: the cycle is active, nothing to do
    assert counts(cycle) == first
    # Even forced through the whole body again, the unique constraints keep one of everything.
    ReviewCycle.objects.filter(pk=cycle.pk).update(state=CycleState.LAUNCHING)
    again = cycles.run_launch(cycle.pk)
    assert again.state == CycleState.ACTIVE
    assert counts(cycle) == first


def test_a_launch_that_died_half_way_finishes_when_run_again(cast, cycle, monkeypatch):
    # A participant left without its records by an earlier run, as a crash between writes would.
    Participant.objects.create(
        cycle=cycle, employee=cast.employee, form_version=cycles.assign(cycle, [cast.employee]).forms[cast.employee.pk]
    )
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    monkeypatch.setattr(cycles, "BATCH_SIZE", 2)
    real = cycles._create_records
    calls = {"n": 0}

    def dies_on_the_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(cycles, "_create_records", dies_on_the_second_batch)
    stopped = cycles.run_launch(cycle.pk)
    assert stopped.state == CycleState.LAUNCHING
    assert stopped.launch_done == 2
    assert "Launch again" in stopped.launch_error
    # The first batch whole; the left-over participant (in the batch that died) still without records.
    assert counts(cycle)[:4] == (3, 2, 2, 2)

    monkeypatch.setattr(cycles, "_create_records", real)
    finished = cycles.run_launch(cycle.pk)
    assert (finished.state, finished.launch_done, finished.launch_error) == (CycleState.ACTIVE, 5, "")
    assert counts(cycle)[:4] == (5, 5, 5, 5)
    assert Appraisal.objects.filter(participant__employee=cast.employee, participant__cycle=cycle).count() == 1


def test_launch_applies_the_overrides(cast, cycle):
    special = PublishedFormVersionFactory()
    cycles.override_set(
        user=cast.hr.user, cycle=cycle, employee=cast.employee, form_version=special, reviewer=cast.chief
    )
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycles.run_launch(cycle.pk)
    participant = Participant.objects.get(cycle=cycle, employee=cast.employee)
    assert (participant.form_version, participant.reviewer) == (special, cast.chief)


def test_launch_puts_the_cycle_in_the_phase_of_the_date(cast, form):
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(Phase.DO))
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    launched = cycles.run_launch(cycle.pk)
    assert launched.phase == Phase.DO
    assert set(ToDo.objects.filter(cycle=cycle).values_list("kind", flat=True)) == {ToDoKind.CHECK_IN}
    # The employee and their reviewer each hold the check-in.
    assert set(ToDo.objects.filter(participant__employee=cast.employee).values_list("employee", flat=True)) == {
        cast.employee.pk,
        cast.manager.pk,
    }


def test_launch_turns_last_cycles_next_cycle_goals_into_draft_goals(cast, cycle, form):
    QualityPriorityFactory(title="Improve medication safety")
    previous = ReviewCycleFactory(year=2025, state=CycleState.CLOSED, phase=Phase.ACT, name="2025 review")
    participant = ParticipantWithRecordsFactory(cycle=previous, employee=cast.employee, form_version=form)
    question = DialogueQuestion.objects.get(version=form, key=QuestionKey.NEXT_CYCLE_GOALS)
    DialogueAnswer.objects.create(
        appraisal=participant.appraisal, question=question, text="- Test bedside scanning on Ward 7\n"
    )
    Appraisal.objects.filter(pk=participant.appraisal.pk).update(state=AppraisalState.LOCKED)
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycles.run_launch(cycle.pk)
    goal = Goal.objects.get(owner=cast.employee, period=cycle.period)
    assert (goal.title, goal.approval) == ("Test bedside scanning on Ward 7", Approval.DRAFT)


# ---------------------------------------------------------------- people added later


@pytest.fixture
def running(cast, cycle) -> ReviewCycle:
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    return cycles.run_launch(cycle.pk)


def test_people_added_later_get_the_same_records_and_todos(cast, running, django_capture_on_commit_callbacks):
    newcomer = EmployeeFactory(full_name="New Nurse", department=cast.employee.department, manager=cast.manager)
    with django_capture_on_commit_callbacks(execute=True):
        added = cycles.participants_add(user=cast.hr.user, cycle=running, employees=[newcomer, cast.employee])
    assert [p.employee for p in added] == [newcomer]  # the employee was in already
    participant = added[0]
    assert participant.reviewer == cast.manager
    assert Appraisal.objects.filter(participant=participant).exists()
    assert CheckIn.objects.filter(participant=participant).exists()
    assert DevelopmentPlan.objects.filter(participant=participant).exists()
    assert set(ToDo.objects.filter(participant=participant).values_list("employee", "kind")) == {
        (newcomer.pk, ToDoKind.SET_GOALS),
        (cast.manager.pk, ToDoKind.APPROVE_GOALS),
    }
    assert {m.to[0] for m in mail.outbox} == {newcomer.user.email, cast.manager.user.email}
    assert HistoryEntry.objects.filter(participant=participant, action="added to the cycle").exists()


def test_people_added_during_study_have_their_appraisal_started(cast, running):
    ReviewCycle.objects.filter(pk=running.pk).update(phase=Phase.STUDY)
    running.refresh_from_db()
    newcomer = EmployeeFactory(department=cast.employee.department, manager=cast.manager)
    participant = cycles.participants_add(user=cast.hr.user, cycle=running, employees=[newcomer])[0]
    assert Appraisal.objects.get(participant=participant).state == AppraisalState.SELF_ASSESSMENT
    assert set(ToDo.objects.filter(participant=participant).values_list("employee", "kind")) == {
        (newcomer.pk, ToDoKind.SELF_ASSESSMENT),
        (cast.manager.pk, ToDoKind.MANAGER_REVIEW),
    }


def test_people_added_later_lose_an_exclusion(cast, form):
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(), excluded=[cast.stranger])
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycles.run_launch(cycle.pk)
    assert not Participant.objects.filter(cycle=cycle, employee=cast.stranger).exists()
    cycles.participants_add(user=cast.hr.user, cycle=cycle, employees=[cast.stranger])
    assert cast.stranger not in cycle.excluded.all()


def test_adding_people_is_refused_before_launch_and_for_the_inactive(cast, cycle, running):
    setup = cycles.cycle_create(user=cast.hr.user, data=data_around_today(name="Not launched"))
    with pytest.raises(ValidationError):
        cycles.participants_add(user=cast.hr.user, cycle=setup, employees=[cast.employee])
    leaver = EmployeeFactory(is_active=False)
    with pytest.raises(ValidationError) as caught:
        cycles.participants_add(user=cast.hr.user, cycle=running, employees=[leaver])
    assert "employees" in caught.value.message_dict


def test_the_launch_queues_its_emails_as_tasks_of_whole_people(
    cast, cycle, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(notifications, "EMAIL_TASK_CHUNK", 2)
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.send_todo_emails, "delay", queued.append)
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    with django_capture_on_commit_callbacks(execute=True):
        cycles.run_launch(cycle.pk)
    holders = [set(ToDo.objects.filter(pk__in=chunk).values_list("employee", flat=True)) for chunk in queued]
    assert sorted(pk for chunk in queued for pk in chunk) == sorted(
        ToDo.objects.filter(cycle=cycle).values_list("pk", flat=True)
    )
    # The manager holds two to-dos (their goals and their report's): never split between two emails.
    assert sum(cast.manager.pk in people for people in holders) == 1
    assert mail.outbox == []  # held back here; the worker sends them

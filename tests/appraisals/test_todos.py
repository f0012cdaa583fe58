"""To-dos: the list, ticking off (by hand and by the workflow), adding mid-phase, reminders and nudges."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from appraisals.models import (
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleState,
    DevelopmentPlan,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
    ToDoKind,
)
from appraisals.services import cycles, todos
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, data_around_today

# Cycles set up here review the organisation's open period (tests/appraisals/conftest.py).
pytestmark = pytest.mark.usefixtures("goal_period")


@pytest.fixture
def form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


@pytest.fixture
def cycle(cast, form) -> ReviewCycle:
    """Launched into the Do phase: everyone and their reviewer hold a check-in to-do."""
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(Phase.DO))
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    return cycles.run_launch(cycle.pk, notify=False)


def participant_of(cycle: ReviewCycle, employee) -> Participant:
    return Participant.objects.get(cycle=cycle, employee=employee)


def day_after(date: datetime.date, n: int = 1) -> datetime.date:
    return date + datetime.timedelta(days=n)


# ---------------------------------------------------------------- the list


def test_the_list_shows_open_todos_with_who_they_are_about(cast, cycle):
    titles = [todos.todo_title(t) for t in todos.todos_for(cast.manager)]
    assert sorted(titles) == ["Hold your check-in", "Hold your check-in: Staff Nurse"]
    employee_check_in = todos.todos_for(cast.employee).get()
    assert (
        todos.todo_link(employee_check_in) == f"/reviews/check-ins/{participant_of(cycle, cast.employee).check_in.pk}/"
    )


def test_the_list_leaves_out_done_todos_and_closed_cycles(cast, cycle):
    todo = todos.todos_for(cast.employee).get()
    todos.todo_done(user=cast.employee.user, todo=todo)
    assert not todos.todos_for(cast.employee).exists()
    assert list(todos.todos_for(cast.employee, open_only=False)) == [todo]
    ReviewCycle.objects.filter(pk=cycle.pk).update(state=CycleState.CLOSED)
    assert not todos.todos_for(cast.manager).exists()


def test_the_list_drops_a_step_the_records_show_done_before_anyone_ticks_it(cast, cycle):
    participant = participant_of(cycle, cast.employee)
    CheckIn.objects.filter(pk=participant.check_in.pk).update(completed_at=timezone.now())
    assert not todos.todos_for(cast.employee).exists()
    assert [t.participant.employee for t in todos.todos_for(cast.manager)] == [cast.manager]


# ---------------------------------------------------------------- ticking off


def test_only_the_holder_ticks_a_todo_and_twice_changes_nothing(cast, cycle):
    todo = todos.todos_for(cast.employee).get()
    for other in (cast.manager, cast.hr, cast.stranger):
        with pytest.raises(PermissionDenied):
            todos.todo_done(user=other.user, todo=todo)
    first = todos.todo_done(user=cast.employee.user, todo=todo).done_at
    assert first is not None
    assert todos.todo_done(user=cast.employee.user, todo=todo).done_at == first


def test_the_workflow_ticks_every_holders_todo_when_the_record_moves_on(cast, cycle):
    participant = participant_of(cycle, cast.employee)
    assert todos.complete_todos(participant=participant, kind=ToDoKind.CHECK_IN) == 2
    assert not ToDo.objects.filter(participant=participant, done_at__isnull=True).exists()
    assert todos.complete_todos(participant=participant, kind=ToDoKind.CHECK_IN) == 0
    # The manager's own check-in (about themself) is another participant's: untouched.
    assert todos.todos_for(cast.manager).get().participant.employee == cast.manager


def test_the_workflow_can_tick_one_holders_todo(cast, cycle):
    participant = participant_of(cycle, cast.employee)
    assert todos.complete_todos(participant=participant, kind=ToDoKind.CHECK_IN, employee=cast.employee) == 1
    assert ToDo.objects.get(participant=participant, done_at__isnull=True).employee == cast.manager


def test_a_step_mid_phase_adds_a_todo_and_tells_its_holder(cast, cycle, django_capture_on_commit_callbacks):
    participant = participant_of(cycle, cast.employee)
    with django_capture_on_commit_callbacks(execute=True):
        todo = todos.todo_add(participant=participant, kind=ToDoKind.ACKNOWLEDGE)
    assert (todo.employee, todo.due) == (cast.employee, cycle.do_end)
    assert [m.to for m in mail.outbox] == [[cast.employee.user.email]]
    assert mail.outbox[0].subject == f"To do in {cycle.name}: Acknowledge your appraisal"
    # Added again while open: nothing new, no second email.
    with django_capture_on_commit_callbacks(execute=True):
        assert todos.todo_add(participant=participant, kind=ToDoKind.ACKNOWLEDGE) == todo
    assert len(mail.outbox) == 1
    # Done, then asked for again (the step was sent back): reopened.
    todos.complete_todos(participant=participant, kind=ToDoKind.ACKNOWLEDGE)
    reopened = todos.todo_add(participant=participant, kind=ToDoKind.ACKNOWLEDGE)
    assert reopened.pk == todo.pk and reopened.done_at is None


# ---------------------------------------------------------------- reminders


def test_reminders_chase_only_the_overdue(cast, cycle):
    assert todos.send_reminders(today=cycle.do_end) == 0  # due today is not overdue yet
    assert mail.outbox == []


def test_reminders_go_once_per_person_and_not_twice_a_day(cast, cycle):
    todos.todo_done(user=cast.stranger.user, todo=todos.todos_for(cast.stranger).get())
    late = day_after(cycle.do_end)
    assert todos.send_reminders(today=late) == 4  # everyone with an open overdue to-do, the stranger done
    manager_mail = next(m for m in mail.outbox if m.to == [cast.manager.user.email])
    assert manager_mail.subject == "Reminder: 2 overdue things to do"
    assert "Hold your check-in: Staff Nurse" in manager_mail.body
    assert todos.send_reminders(today=late) == 0
    assert len(mail.outbox) == 4
    assert ToDo.objects.filter(cycle=cycle, done_at__isnull=True, last_reminded_at__isnull=True).count() == 0


def test_reminders_come_again_after_the_interval(cast, cycle, monkeypatch):
    monkeypatch.setattr(todos, "REMINDER_INTERVAL_DAYS", 3)
    late = day_after(cycle.do_end)
    assert todos.send_reminders(today=late) == 5
    assert todos.send_reminders(today=day_after(late, 2)) == 0
    assert todos.send_reminders(today=day_after(late, 3)) == 5


def test_reminders_never_chase_a_step_the_records_show_done(cast, cycle):
    participant = participant_of(cycle, cast.employee)
    CheckIn.objects.filter(pk=participant.check_in.pk).update(completed_at=timezone.now())  # complete_todos not called
    assert todos.send_reminders(today=day_after(cycle.do_end)) == 4
    assert cast.employee.user.email not in {m.to[0] for m in mail.outbox}
    assert not ToDo.objects.filter(participant=participant, done_at__isnull=True).exists()


def test_tick_finished_follows_each_kind_of_record(cast, cycle):
    participant = participant_of(cycle, cast.employee)
    for kind in (ToDoKind.SELF_ASSESSMENT, ToDoKind.ACKNOWLEDGE, ToDoKind.DEVELOPMENT_PLAN):
        todos.todo_add(participant=participant, kind=kind, notify=False)
    Appraisal.objects.filter(participant=participant).update(state=AppraisalState.MANAGER_REVIEW)
    assert todos.tick_finished(cycle=cycle) == 1  # the self-assessment: submitted
    Appraisal.objects.filter(participant=participant).update(state=AppraisalState.ACKNOWLEDGED)
    DevelopmentPlan.objects.filter(participant=participant).update(agreed_at=timezone.now())
    assert todos.tick_finished(cycle=cycle) == 2
    assert todos.tick_finished(cycle=cycle) == 0
    assert [t.kind for t in todos.todos_for(cast.employee)] == [ToDoKind.CHECK_IN]


def test_reminders_leave_closed_cycles_alone(cast, cycle):
    ReviewCycle.objects.filter(pk=cycle.pk).update(state=CycleState.CLOSED)
    assert todos.send_reminders(today=day_after(cycle.do_end, 30)) == 0


# ---------------------------------------------------------------- nudges


def test_hr_nudges_the_late_in_a_cycle(cast, cycle):
    ToDo.objects.filter(cycle=cycle).update(due=day_after(cycle.plan_start))  # all overdue now
    assert todos.nudge(user=cast.hr.user, cycle=cycle, employees=[cast.employee]) == 1
    assert [m.to for m in mail.outbox] == [[cast.employee.user.email]]
    assert todos.nudge(user=cast.hr.user, cycle=cycle) == 5
    for who in (cast.manager, cast.employee, cast.stranger):
        with pytest.raises(PermissionDenied):
            todos.nudge(user=who.user, cycle=cycle)

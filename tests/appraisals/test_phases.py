"""Phases: HR moving a cycle, the daily move by date, what entering a phase does, and closing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from appraisals.models import (
    Appraisal,
    AppraisalState,
    CycleState,
    HistoryEntry,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
    ToDoKind,
)
from appraisals.services import cycles, todos
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, data_around_today, days

# Cycles set up here review the organisation's open period (tests/appraisals/conftest.py).
pytestmark = pytest.mark.usefixtures("goal_period")


@pytest.fixture
def form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


def launched(cast, phase: str = Phase.PLAN, **changes: object) -> ReviewCycle:
    """A cycle launched today, whose ``phase`` window contains today."""
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today(phase, **changes))
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    return cycles.run_launch(cycle.pk, notify=False)


def phase_entries(cycle: ReviewCycle) -> list[tuple[object, object, int | None]]:
    rows = HistoryEntry.objects.filter(cycle=cycle, participant=None, field="phase").order_by("at", "pk")
    return [(e.old, e.new, e.actor_id) for e in rows]


# ---------------------------------------------------------------- HR moves


def test_hr_moves_the_cycle_forwards_and_it_is_recorded(cast, form):
    cycle = launched(cast)
    moved = cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.DO)
    assert moved.phase == Phase.DO
    assert phase_entries(cycle)[-1] == ("plan", "do", cast.hr.user.pk)
    assert ToDo.objects.filter(cycle=cycle, kind=ToDoKind.CHECK_IN, employee=cast.employee).exists()


def test_hr_moves_the_cycle_back_without_doubling_anything(cast, form):
    cycle = launched(cast, Phase.DO)
    cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.STUDY)
    before = ToDo.objects.filter(cycle=cycle).count()
    cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.DO)
    cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.STUDY)
    assert ToDo.objects.filter(cycle=cycle).count() == before
    assert [(old, new) for old, new, _ in phase_entries(cycle)[-3:]] == [
        ("do", "study"),
        ("study", "do"),
        ("do", "study"),
    ]
    # Appraisals opened by the first entry into Study stay open.
    assert set(Appraisal.objects.filter(participant__cycle=cycle).values_list("state", flat=True)) == {
        AppraisalState.SELF_ASSESSMENT
    }


def test_a_move_to_the_current_phase_or_an_unknown_one_is_refused(cast, form):
    cycle = launched(cast)
    with pytest.raises(ValidationError) as caught:
        cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.PLAN)
    assert "phase" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        cycles.phase_move(user=cast.hr.user, cycle=cycle, phase="celebrate")
    assert "phase" in caught.value.message_dict


def test_only_a_running_cycle_moves(cast, form):
    cycle = cycles.cycle_create(user=cast.hr.user, data=data_around_today())
    with pytest.raises(ValidationError):
        cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.DO)


# ---------------------------------------------------------------- entering a phase


def test_entering_study_starts_appraisals_and_tells_people(cast, form, django_capture_on_commit_callbacks):
    cycle = launched(cast, Phase.DO)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.STUDY)
    assert set(Appraisal.objects.filter(participant__cycle=cycle).values_list("state", flat=True)) == {
        AppraisalState.SELF_ASSESSMENT
    }
    mine = todos.todos_for(cast.employee)
    assert [t.kind for t in mine if t.cycle_id == cycle.pk and t.kind != ToDoKind.CHECK_IN] == [
        ToDoKind.SELF_ASSESSMENT
    ]
    review = ToDo.objects.get(cycle=cycle, employee=cast.manager, kind=ToDoKind.MANAGER_REVIEW)
    assert review.participant.employee == cast.employee
    assert review.due == cycle.study_end
    # One email per person, listing what is new for them.
    by_address = {m.to[0]: m for m in mail.outbox}
    assert len(by_address) == len(mail.outbox) == 5
    assert "Write your self-assessment" in by_address[cast.employee.user.email].body
    manager_mail = by_address[cast.manager.user.email]
    assert "Review your team member: Staff Nurse" in manager_mail.body
    assert "Write your self-assessment" in manager_mail.body
    assert "/reviews/todo/" in manager_mail.body
    assert manager_mail.subject == f"2 things to do in {cycle.name}"


def test_entering_a_phase_skips_steps_already_done(cast, form):
    cycle = launched(cast, Phase.PLAN)
    participant = Participant.objects.get(cycle=cycle, employee=cast.employee)
    participant.check_in.__class__.objects.filter(pk=participant.check_in.pk).update(completed_at=timezone.now())
    cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.DO)
    assert not ToDo.objects.filter(participant=participant, kind=ToDoKind.CHECK_IN).exists()


# ---------------------------------------------------------------- the daily move by date


def test_advance_by_date_moves_a_cycle_into_the_window_of_the_day(cast, form):
    cycle = launched(cast, Phase.PLAN)
    assert cycles.advance_by_date(today=days(0)) == []  # still in Plan's window
    moved = cycles.advance_by_date(today=cycle.do_start)
    assert [c.pk for c in moved] == [cycle.pk]
    cycle.refresh_from_db()
    assert cycle.phase == Phase.DO
    assert phase_entries(cycle)[-1] == ("plan", "do", None)  # the scheduler, not a person
    assert cycles.advance_by_date(today=cycle.do_start) == []  # the same day again: nothing


def test_advance_by_date_can_jump_a_phase_and_starts_appraisals(cast, form):
    cycle = launched(cast, Phase.PLAN)
    cycles.advance_by_date(today=cycle.study_start)
    cycle.refresh_from_db()
    assert cycle.phase == Phase.STUDY
    assert not Appraisal.objects.filter(participant__cycle=cycle, state=AppraisalState.DRAFT).exists()


def test_advance_by_date_keeps_the_phase_in_a_gap_between_windows(cast, form):
    cycle = launched(cast, Phase.PLAN, do_start=days(25))  # a gap between Plan (ends day 19) and Do
    assert cycles.advance_by_date(today=days(22)) == []
    cycle.refresh_from_db()
    assert cycle.phase == Phase.PLAN


def test_advance_by_date_never_moves_back_and_leaves_other_cycles_alone(cast, form):
    cycle = launched(cast, Phase.STUDY)
    setup = cycles.cycle_create(user=cast.hr.user, data=data_around_today(name="Still being set up"))
    assert cycles.advance_by_date(today=cycle.plan_start) == []
    assert [c.pk for c in cycles.advance_by_date(today=setup.act_start)] == [cycle.pk]
    setup.refresh_from_db()
    assert (setup.state, setup.phase) == (CycleState.SETUP, None)


def test_an_hr_move_holds_until_the_next_window_opens(cast, form):
    cycle = launched(cast, Phase.STUDY)
    cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.DO)  # more time for check-ins
    assert cycles.advance_by_date(today=days(1)) == []  # still Study's window: HR's choice stands
    cycle.refresh_from_db()
    assert cycle.phase == Phase.DO
    cycles.advance_by_date(today=cycle.act_start)
    cycle.refresh_from_db()
    assert cycle.phase == Phase.ACT


# ---------------------------------------------------------------- closing


def test_closing_locks_every_appraisal(cast, form):
    cycle = launched(cast, Phase.STUDY)
    assert todos.todos_for(cast.employee).exists()
    closed = cycles.cycle_close(user=cast.hr.user, cycle=cycle)
    assert closed.state == CycleState.CLOSED and closed.closed_at is not None
    assert set(Appraisal.objects.filter(participant__cycle=cycle).values_list("state", flat=True)) == {
        AppraisalState.LOCKED
    }
    assert HistoryEntry.objects.filter(cycle=cycle, participant=None, action="closed").exists()
    locked = HistoryEntry.objects.filter(cycle=cycle, participant__isnull=False, action="locked")
    assert locked.values("participant").distinct().count() == 5
    assert not todos.todos_for(cast.employee).exists()  # a closed cycle's to-dos drop off the list
    with pytest.raises(ValidationError):
        cycles.cycle_close(user=cast.hr.user, cycle=cycle)
    with pytest.raises(ValidationError):
        cycles.phase_move(user=cast.hr.user, cycle=cycle, phase=Phase.ACT)
    with pytest.raises(ValidationError):
        Appraisal.objects.filter(participant__cycle=cycle).update(employee_comment="changed after the close")

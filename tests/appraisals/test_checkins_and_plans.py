"""Check-ins (Do) and development plans (Act): who writes what, completion and
agreement, target levels, 409 on a stale save, and the history of each change."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from appraisals.models import ActionStatus, CheckIn, CycleState, DevelopmentAction, DevelopmentPlan, HistoryEntry
from appraisals.services import checkins, development
from core.errors import ConflictError
from tests.appraisals.factories import CompetencyFactory, appraisal_scenario


def user_of(employee):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(pk=employee.user_id)


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def _check_in(s) -> CheckIn:  # type: ignore[no-untyped-def]
    return CheckIn.objects.select_related("participant__cycle", "participant__employee").get(pk=s.check_in.pk)


def _plan(s) -> DevelopmentPlan:  # type: ignore[no-untyped-def]
    return DevelopmentPlan.objects.select_related("participant__cycle", "participant__employee").get(pk=s.plan.pk)


# ---------------------------------------------------------------- check-ins


def test_the_employee_writes_their_notes_and_obstacles(s, cast):
    c = checkins.checkin_save(
        user=user_of(cast.employee),
        check_in=_check_in(s),
        expected_version=1,
        data={"employee_notes": " On track ", "obstacles": "Short-staffed"},
    )
    assert (c.employee_notes, c.obstacles, c.version) == ("On track", "Short-staffed", 2)


def test_the_reviewer_writes_notes_coaching_and_obstacles(s, cast):
    c = checkins.checkin_save(
        user=user_of(cast.manager),
        check_in=_check_in(s),
        expected_version=1,
        data={"manager_notes": "Good", "coaching_notes": "Try a run chart", "obstacles": "Rota"},
    )
    assert (c.manager_notes, c.coaching_notes, c.obstacles) == ("Good", "Try a run chart", "Rota")


@pytest.mark.parametrize(
    ("who", "field"),
    [("employee", "manager_notes"), ("employee", "coaching_notes"), ("manager", "employee_notes")],
)
def test_each_side_is_refused_the_others_fields_naming_them(s, cast, who, field):
    with pytest.raises(ValidationError) as refused:
        checkins.checkin_save(
            user=user_of(getattr(cast, who)), check_in=_check_in(s), expected_version=1, data={field: "x"}
        )
    assert field in refused.value.message_dict
    assert _check_in(s).version == 1


def test_unknown_fields_are_refused(s, cast):
    with pytest.raises(ValidationError) as refused:
        checkins.checkin_save(
            user=user_of(cast.employee), check_in=_check_in(s), expected_version=1, data={"goal_snapshot": []}
        )
    assert "goal_snapshot" in refused.value.message_dict


@pytest.mark.parametrize("who", ["chief", "hr", "stranger"])
def test_readers_and_strangers_do_not_write_check_ins(s, cast, who):
    with pytest.raises(PermissionDenied):
        checkins.checkin_save(
            user=user_of(getattr(cast, who)), check_in=_check_in(s), expected_version=1, data={"obstacles": "x"}
        )


def test_a_stale_check_in_save_answers_conflict_and_keeps_the_first(s, cast):
    checkins.checkin_save(
        user=user_of(cast.employee), check_in=_check_in(s), expected_version=1, data={"employee_notes": "First"}
    )
    with pytest.raises(ConflictError):
        checkins.checkin_save(
            user=user_of(cast.manager), check_in=_check_in(s), expected_version=1, data={"obstacles": "Second"}
        )
    c = _check_in(s)
    assert (c.employee_notes, c.obstacles, c.version) == ("First", "", 2)


def test_the_reviewer_completes_the_check_in_with_a_snapshot_of_progress(s, cast):
    s.goals[0].progress = Decimal("40.00")
    s.goals[0].save()
    with pytest.raises(PermissionDenied):
        checkins.checkin_complete(user=user_of(cast.employee), check_in=_check_in(s), expected_version=1)
    c = checkins.checkin_complete(user=user_of(cast.manager), check_in=_check_in(s), expected_version=1)
    assert c.completed_at is not None
    assert c.goal_snapshot[0] == {
        "goal": s.goals[0].pk,
        "title": "Goal 1",
        "weight": 60,
        "progress": "40.00",
        "approval": "draft",
        "status": "open",
    }
    with pytest.raises(ValidationError, match="was completed on"):
        checkins.checkin_complete(user=user_of(cast.manager), check_in=c, expected_version=c.version)
    with pytest.raises(ValidationError, match="was completed on"):
        checkins.checkin_save(
            user=user_of(cast.employee), check_in=c, expected_version=c.version, data={"obstacles": "x"}
        )


def test_a_closed_cycles_check_ins_do_not_change(s, cast):
    s.cycle.state = CycleState.CLOSED
    s.cycle.save()
    with pytest.raises(ValidationError, match="cycle is closed"):
        checkins.checkin_save(
            user=user_of(cast.employee), check_in=_check_in(s), expected_version=1, data={"obstacles": "x"}
        )


def test_check_in_history_keeps_who_old_and_new(s, cast):
    c = checkins.checkin_save(
        user=user_of(cast.employee), check_in=_check_in(s), expected_version=1, data={"obstacles": "Rota"}
    )
    checkins.checkin_save(user=user_of(cast.manager), check_in=c, expected_version=2, data={"obstacles": "Rota fixed"})
    entries = HistoryEntry.objects.filter(participant=s.participant, record="check-in", field="obstacles").order_by(
        "pk"
    )
    assert [(e.actor_id, e.old, e.new) for e in entries] == [
        (cast.employee.user_id, "", "Rota"),
        (cast.manager.user_id, "Rota", "Rota fixed"),
    ]
    checkins.checkin_complete(user=user_of(cast.manager), check_in=_check_in(s), expected_version=3)
    assert HistoryEntry.objects.filter(participant=s.participant, record="check-in", action="completed").exists()


# ---------------------------------------------------------------- development plans


@pytest.fixture
def competency():  # type: ignore[no-untyped-def]
    return CompetencyFactory(name="Process thinking")  # five indicator levels


@pytest.mark.parametrize("who", ["employee", "manager"])
def test_the_person_and_reviewer_write_the_plan(s, cast, who, competency):
    plan = development.plan_save(user=user_of(getattr(cast, who)), plan=_plan(s), expected_version=1, summary="SPC")
    assert (plan.summary, plan.version) == ("SPC", 2)
    action = development.action_add(
        user=user_of(getattr(cast, who)),
        plan=plan,
        description="Run a PDSA cycle",
        competency=competency,
        target_level=4,
        due_date=datetime.date(2026, 11, 30),
    )
    assert (action.competency, action.target_level, action.status) == (competency, 4, ActionStatus.PLANNED)


@pytest.mark.parametrize("who", ["chief", "hr", "stranger"])
def test_readers_and_strangers_do_not_write_plans(s, cast, who):
    with pytest.raises(PermissionDenied):
        development.plan_save(user=user_of(getattr(cast, who)), plan=_plan(s), expected_version=1, summary="x")
    with pytest.raises(PermissionDenied):
        development.action_add(user=user_of(getattr(cast, who)), plan=_plan(s), description="x")


@pytest.mark.parametrize(
    ("level", "competency_given", "message"),
    [
        (6, True, "has levels 1 to 5; 6 is not one of them"),
        (0, True, "has levels 1 to 5; 0 is not one of them"),
        (3, False, "Choose the competency"),
    ],
)
def test_a_target_level_must_exist_on_the_competency(s, cast, competency, level, competency_given, message):
    with pytest.raises(ValidationError, match=message) as refused:
        development.action_add(
            user=user_of(cast.manager),
            plan=_plan(s),
            description="Lead a redesign",
            competency=competency if competency_given else None,
            target_level=level,
        )
    assert "target_level" in refused.value.message_dict
    assert not DevelopmentAction.objects.exists()


def test_a_competency_with_fewer_levels_bounds_the_target(s, cast):
    short = CompetencyFactory(indicators=["Reads a figure.", "Keeps a run chart."])
    with pytest.raises(ValidationError, match="levels 1 to 2"):
        development.action_add(
            user=user_of(cast.manager), plan=_plan(s), description="x", competency=short, target_level=3
        )


def test_a_retired_competency_is_refused(s, cast):
    retired = CompetencyFactory(status="retired")
    with pytest.raises(ValidationError, match="retired"):
        development.action_add(user=user_of(cast.manager), plan=_plan(s), description="x", competency=retired)


def test_agreeing_needs_an_action_and_then_fixes_the_plan(s, cast, competency):
    with pytest.raises(ValidationError, match="at least one development action"):
        development.plan_agree(user=user_of(cast.employee), plan=_plan(s), expected_version=1)
    action = development.action_add(user=user_of(cast.manager), plan=_plan(s), description="Learn SPC")
    plan = development.plan_agree(user=user_of(cast.employee), plan=_plan(s), expected_version=1)
    assert plan.agreed_at is not None
    with pytest.raises(ValidationError, match="already been agreed"):
        development.plan_agree(user=user_of(cast.manager), plan=plan, expected_version=plan.version)
    with pytest.raises(ValidationError, match="was agreed on"):
        development.plan_save(user=user_of(cast.employee), plan=plan, expected_version=plan.version, summary="New")
    with pytest.raises(ValidationError, match="was agreed on"):
        development.action_add(user=user_of(cast.employee), plan=plan, description="Another")
    with pytest.raises(ValidationError, match="was agreed on"):
        development.action_update(user=user_of(cast.employee), action=action, data={"description": "Changed"})
    moved = development.action_update(user=user_of(cast.employee), action=action, data={"status": ActionStatus.DONE})
    assert moved.status == ActionStatus.DONE and moved.completed_at is not None
    back = development.action_update(user=user_of(cast.manager), action=moved, data={"status": "in_progress"})
    assert back.completed_at is None


def test_an_unknown_status_or_field_is_refused(s, cast):
    action = development.action_add(user=user_of(cast.manager), plan=_plan(s), description="Learn SPC")
    with pytest.raises(ValidationError) as refused:
        development.action_update(user=user_of(cast.manager), action=action, data={"status": "finished"})
    assert "status" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        development.action_update(user=user_of(cast.manager), action=action, data={"plan": 3})
    assert "plan" in refused.value.message_dict


def test_a_stale_plan_save_answers_conflict(s, cast):
    development.plan_save(user=user_of(cast.employee), plan=_plan(s), expected_version=1, summary="First")
    with pytest.raises(ConflictError):
        development.plan_save(user=user_of(cast.manager), plan=_plan(s), expected_version=1, summary="Second")
    assert _plan(s).summary == "First"


def test_plan_history_keeps_who_old_and_new(s, cast, competency):
    development.plan_save(user=user_of(cast.employee), plan=_plan(s), expected_version=1, summary="SPC")
    action = development.action_add(
        user=user_of(cast.manager), plan=_plan(s), description="Run a PDSA", competency=competency, target_level=2
    )
    development.action_update(user=user_of(cast.employee), action=action, data={"target_level": 3})
    summary = HistoryEntry.objects.get(participant=s.participant, field="summary")
    assert (summary.actor_id, summary.old, summary.new) == (cast.employee.user_id, "", "SPC")
    added = HistoryEntry.objects.get(participant=s.participant, action="added", field="competency")
    assert (added.actor_id, added.new) == (cast.manager.user_id, competency.pk)
    changed = HistoryEntry.objects.get(participant=s.participant, action="changed")
    assert (changed.field, changed.old, changed.new) == ("target_level", 2, 3)

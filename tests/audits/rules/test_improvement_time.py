"""Insufficient time for improvement work: planned hours, overdue check-ins, goals without progress updates."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from appraisals.models import CheckIn, CycleState
from audits.models import Severity, SubjectType
from audits.rules.improvement_time import ImprovementTime
from cascade.models import Approval, Goal, GoalSetEvent, GoalStatus, GoalUpdate, ProgressMode, ReviewAction
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.audits.rules.helpers import by_key, evaluate, queries_of
from tests.cascade.factories import (
    GoalPeriodFactory,
    IndividualGoalFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
D = Decimal


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(9), tzinfo=timezone.get_current_timezone())


def of_kind(drafts, suffix):
    return [d for d in drafts if d.key.endswith(suffix)]


@pytest.fixture
def team():
    """Mo manages Ann, Ben and Cy in Nursing; each has one approved open goal set on 10 January 2026."""
    period = GoalPeriodFactory()
    nursing = DepartmentFactory(name="Nursing")
    mo = EmployeeFactory(full_name="Mo Manager", department=nursing)
    priority = QualityPriorityFactory(owner=mo)
    people, goals = [], []
    for name, hours in (("Ann", "0"), ("Ben", "1"), ("Cy", "4")):
        person = EmployeeFactory(full_name=name, department=nursing, manager=mo)
        goal = IndividualGoalFactory(
            owner=person,
            priority=priority,
            period=period,
            approval=Approval.APPROVED,
            improvement_hours_per_month=D(hours),
        )
        people.append(person)
        goals.append(goal)
    Goal.objects.filter(pk__in=[g.pk for g in goals]).update(created_at=at(datetime.date(2026, 1, 10)))
    return {"period": period, "nursing": nursing, "mo": mo, "priority": priority, "people": people, "goals": goals}


# ---------------------------------------------------------------- planned time


def test_a_team_whose_goals_mostly_plan_too_little_time_is_reported(team):
    drafts = by_key(of_kind(evaluate(ImprovementTime), "planned_time"))
    key = f"team:{team['mo'].pk}:planned_time"
    assert list(drafts) == [key]
    finding = drafts[key]
    assert finding.subject_type == SubjectType.TEAM
    assert finding.subject_id == team["mo"].pk
    assert finding.subject_label == "Team of Mo Manager: too little planned improvement time"
    assert finding.department_id == team["nursing"].pk
    assert finding.severity == Severity.MEDIUM
    assert finding.message == (
        "Mo Manager's team: 2 of 3 open goals (66.7 %) in 2026 plan less than 2 hours of improvement work a month "
        "(1 with none at all); the limit is 50 %."
    )
    ann, ben, _ = team["people"]
    assert finding.details["goals"] == sorted([team["goals"][0].pk, team["goals"][1].pk])
    assert finding.details["employees"] == sorted([ann.pk, ben.pk])
    assert finding.details["departments"] == [team["nursing"].pk]
    assert finding.details["figures"]["short_share_percent"] == 66.67


def test_the_hours_and_share_thresholds_move_the_result(team):
    assert of_kind(evaluate(ImprovementTime, max_short_share=70), "planned_time") == []
    assert of_kind(evaluate(ImprovementTime, min_hours="0.5"), "planned_time") == []  # only Ann's, a third
    (finding,) = of_kind(evaluate(ImprovementTime, min_hours=5), "planned_time")
    assert finding.severity == Severity.HIGH  # every open goal is short


def test_goals_with_enough_time_or_no_longer_open_are_fine(team):
    Goal.objects.filter(pk=team["goals"][0].pk).update(status=GoalStatus.ACHIEVED)
    Goal.objects.filter(pk=team["goals"][1].pk).update(improvement_hours_per_month=D("2"))
    assert of_kind(evaluate(ImprovementTime), "planned_time") == []


# ---------------------------------------------------------------- progress updates


def test_approved_goals_without_a_recent_update_are_reported(team):
    ann_goal, ben_goal, _ = team["goals"]
    ann, ben, cy = team["people"]
    update = GoalUpdate.objects.create(goal=ben_goal, author=ben, progress_after=D("20"))
    GoalUpdate.objects.filter(pk=update.pk).update(created_at=at(datetime.date(2026, 8, 1)))
    event = GoalSetEvent.objects.create(period=team["period"], owner=cy, action=ReviewAction.APPROVED, actor=team["mo"])
    GoalSetEvent.objects.filter(pk=event.pk).update(created_at=at(datetime.date(2026, 7, 20)))
    # A measure-driven goal moves with its measure's observations, not with updates: left out.
    IndividualGoalFactory(
        owner=ann,
        priority=team["priority"],
        period=team["period"],
        approval=Approval.APPROVED,
        progress_mode=ProgressMode.MEASURE,
        measure=QualityMeasureFactory(priority=team["priority"]),
    )
    drafts = by_key(of_kind(evaluate(ImprovementTime), "progress_updates"))
    finding = drafts[f"team:{team['mo'].pk}:progress_updates"]
    # Ann's goal, never updated, counts from its creation on 10 January: 217 days.
    assert finding.message == (
        "Mo Manager's team: 1 of 3 approved open goals (33.3 %) have had no progress update for more than 45 days "
        "(the quietest for 217 days)."
    )
    assert finding.severity == Severity.MEDIUM
    assert finding.details["goals"] == [ann_goal.pk]
    assert finding.details["employees"] == [ann.pk]
    assert finding.details["figures"]["longest_days_without_update"] == 217


def test_the_days_without_update_threshold_and_the_day_move_the_result(team):
    assert of_kind(evaluate(ImprovementTime, stale_update_days=300), "progress_updates") == []
    assert of_kind(evaluate(ImprovementTime, today=datetime.date(2026, 2, 1)), "progress_updates") == []
    (finding,) = of_kind(evaluate(ImprovementTime), "progress_updates")
    assert finding.severity == Severity.HIGH  # all three quiet since January


def test_draft_goals_are_not_expected_to_have_updates(team):
    Goal.objects.filter(pk__in=[g.pk for g in team["goals"]]).update(approval=Approval.SUBMITTED)
    assert of_kind(evaluate(ImprovementTime), "progress_updates") == []


# ---------------------------------------------------------------- check-ins


@pytest.fixture
def checkins(team):
    """A running cycle whose Do phase ended on 30 June 2026; Mo reviews his three people."""
    cycle = ReviewCycleFactory(name="Review 2026", period=team["period"])
    form = PublishedFormVersionFactory()
    ann, ben, cy = team["people"]
    done = ParticipantFactory(cycle=cycle, employee=ann, form_version=form, reviewer=team["mo"])
    CheckIn.objects.create(participant=done, completed_at=at(datetime.date(2026, 6, 20)))
    waiting = ParticipantFactory(cycle=cycle, employee=ben, form_version=form, reviewer=team["mo"])
    CheckIn.objects.create(participant=waiting)
    ParticipantFactory(cycle=cycle, employee=cy, form_version=form, reviewer=team["mo"])  # no check-in record
    return {"cycle": cycle}


def test_check_ins_not_held_after_the_do_phase_and_its_grace_are_reported(team, checkins):
    drafts = by_key(of_kind(evaluate(ImprovementTime), "checkins"))
    finding = drafts[f"team:{team['mo'].pk}:checkins"]
    assert finding.subject_label == "Team of Mo Manager: check-ins not held"
    assert finding.severity == Severity.HIGH  # two of three
    assert finding.message == (
        "Mo Manager's team: 2 of 3 check-ins in “Review 2026” are not held, though the Do phase ended on "
        "30 Jun 2026 (46 days ago; grace 7 days)."
    )
    _, ben, cy = team["people"]
    assert finding.details["employees"] == sorted([ben.pk, cy.pk])
    assert finding.details["figures"]["cycles"] == [checkins["cycle"].pk]


def test_within_the_grace_or_in_a_closed_cycle_check_ins_are_not_overdue(team, checkins):
    assert of_kind(evaluate(ImprovementTime, checkin_grace_days=46), "checkins") == []
    assert len(of_kind(evaluate(ImprovementTime, checkin_grace_days=45), "checkins")) == 1
    assert of_kind(evaluate(ImprovementTime, today=datetime.date(2026, 7, 5)), "checkins") == []
    checkins["cycle"].state = CycleState.CLOSED
    checkins["cycle"].save(update_fields=["state"])
    assert of_kind(evaluate(ImprovementTime), "checkins") == []


def test_a_team_with_time_updates_and_check_ins_gives_nothing(team, checkins):
    Goal.objects.filter(pk__in=[g.pk for g in team["goals"]]).update(improvement_hours_per_month=D("4"))
    CheckIn.objects.filter(participant__cycle=checkins["cycle"]).update(completed_at=at(datetime.date(2026, 6, 25)))
    CheckIn.objects.create(
        participant=checkins["cycle"].participants.get(employee=team["people"][2]),
        completed_at=at(datetime.date(2026, 7, 2)),
    )
    for goal, person in zip(team["goals"], team["people"], strict=True):
        GoalUpdate.objects.create(goal=goal, author=person, progress_after=D("10"))
    GoalUpdate.objects.update(created_at=at(datetime.date(2026, 8, 10)))
    assert evaluate(ImprovementTime) == []


def test_its_queries_do_not_grow_with_the_number_of_teams(team, checkins):
    first = queries_of(lambda: evaluate(ImprovementTime))
    form = PublishedFormVersionFactory()
    for index in range(4):
        manager = EmployeeFactory(department=DepartmentFactory(name=f"Ward {index}"))
        for _ in range(2):
            person = EmployeeFactory(department=manager.department, manager=manager)
            goal = IndividualGoalFactory(
                owner=person, priority=team["priority"], period=team["period"], approval=Approval.APPROVED
            )
            Goal.objects.filter(pk=goal.pk).update(created_at=at(datetime.date(2026, 1, 10)))
            ParticipantFactory(cycle=checkins["cycle"], employee=person, form_version=form, reviewer=manager)
    assert len(evaluate(ImprovementTime)) == 15
    assert queries_of(lambda: evaluate(ImprovementTime)) == first <= 10

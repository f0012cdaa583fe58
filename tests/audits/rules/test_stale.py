"""Priorities not cascaded, and goals under retired or out-of-period priorities (stale criteria)."""

from __future__ import annotations

import datetime

import pytest

from audits.models import Severity, SubjectType
from audits.rules.stale import PrioritiesNotCascaded, StaleCriteria
from cascade.models import Approval, GoalStatus, PriorityStatus
from tests.audits.rules.helpers import TODAY, by_key, evaluate, queries_of
from tests.cascade.factories import (
    FunctionalGoalFactory,
    GoalPeriodFactory,
    IndividualGoalFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def base():
    period = GoalPeriodFactory()
    lead = EmployeeFactory(full_name="Quinn Quality", department=DepartmentFactory(name="Quality office"))
    pharmacy = DepartmentFactory(name="Pharmacy")
    nursing = DepartmentFactory(name="Nursing")
    return {"period": period, "lead": lead, "pharmacy": pharmacy, "nursing": nursing}


# ---------------------------------------------------------------- priorities not cascaded


def test_a_priority_nobody_has_taken_up_is_reported_high(base):
    flow = QualityPriorityFactory(title="Patient flow", owner=base["lead"])
    drafts = by_key(evaluate(PrioritiesNotCascaded))
    finding = drafts[f"priority:{flow.pk}"]
    assert finding.subject_type == SubjectType.PRIORITY
    assert finding.subject_id == flow.pk
    assert finding.subject_label == "Patient flow"
    assert finding.department_id is None
    assert finding.severity == Severity.HIGH
    # 1 January to 15 August 2026.
    assert finding.message == (
        "“Patient flow” has been running for 226 days, but in 2026 no department has an approved department "
        "goal under it and nobody has an individual goal under it."
    )
    assert finding.details["priorities"] == [flow.pk]
    assert finding.details["figures"]["supporting_departments"] == 0
    assert finding.details["figures"]["individual_goals"] == 0


def test_a_priority_with_department_and_individual_goals_is_cascaded(base):
    flow = QualityPriorityFactory(title="Patient flow", owner=base["lead"])
    ward = FunctionalGoalFactory(
        priority=flow, department=base["nursing"], period=base["period"], approval=Approval.APPROVED
    )
    IndividualGoalFactory(owner=EmployeeFactory(department=base["nursing"]), parent_goal=ward)
    assert evaluate(PrioritiesNotCascaded) == []


def test_draft_department_goals_do_not_count_but_contributing_departments_do(base):
    flow = QualityPriorityFactory(title="Patient flow", owner=base["lead"])
    draft = FunctionalGoalFactory(priority=flow, department=base["nursing"], period=base["period"])
    IndividualGoalFactory(owner=EmployeeFactory(department=base["nursing"]), parent_goal=draft)
    (finding,) = evaluate(PrioritiesNotCascaded)
    assert finding.severity == Severity.MEDIUM
    assert "no department has an approved department goal under it" in finding.message
    assert "nobody has an individual goal" not in finding.message
    FunctionalGoalFactory(
        priority=flow,
        department=base["nursing"],
        period=base["period"],
        approval=Approval.APPROVED,
        contributing_departments=[base["pharmacy"]],
    )
    assert evaluate(PrioritiesNotCascaded) == []
    # Two departments support it: enough for a minimum of 2, not of 3.
    assert evaluate(PrioritiesNotCascaded, min_departments=2) == []
    (finding,) = evaluate(PrioritiesNotCascaded, min_departments=3)
    assert "only 2 departments (Nursing and Pharmacy) have an approved department goal" in finding.message
    assert finding.details["departments"] == sorted([base["nursing"].pk, base["pharmacy"].pk])


def test_a_young_priority_retired_or_finished_ones_are_left_alone(base):
    young = QualityPriorityFactory(title="New", owner=base["lead"], period_start=datetime.date(2026, 7, 20))
    QualityPriorityFactory(title="Retired", owner=base["lead"], status=PriorityStatus.RETIRED)
    QualityPriorityFactory(
        title="Finished",
        owner=base["lead"],
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 12, 31),
    )
    # 26 days old: inside the 30-day grace, outside a 20-day one.
    assert evaluate(PrioritiesNotCascaded) == []
    assert [d.subject_id for d in evaluate(PrioritiesNotCascaded, grace_days=20)] == [young.pk]
    # Early in the year the goal period itself is young, whatever the priority's age.
    QualityPriorityFactory(title="Long-running", owner=base["lead"], period_start=datetime.date(2024, 1, 1))
    assert evaluate(PrioritiesNotCascaded, today=datetime.date(2026, 1, 20)) == []


def test_its_queries_do_not_grow_with_the_number_of_priorities(base):
    QualityPriorityFactory(owner=base["lead"])
    first = queries_of(lambda: evaluate(PrioritiesNotCascaded))
    for _ in range(5):
        priority = QualityPriorityFactory(owner=base["lead"])
        FunctionalGoalFactory(priority=priority, department=base["pharmacy"], period=base["period"])
    assert len(evaluate(PrioritiesNotCascaded)) == 6
    assert queries_of(lambda: evaluate(PrioritiesNotCascaded)) == first <= 8


# ---------------------------------------------------------------- stale criteria


@pytest.fixture
def stale(base):
    retired = QualityPriorityFactory(title="Paper charts", owner=base["lead"], status=PriorityStatus.RETIRED)
    old = QualityPriorityFactory(
        title="Winter pressures 2025",
        owner=base["lead"],
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 12, 31),
    )
    ward = FunctionalGoalFactory(
        priority=retired, department=base["nursing"], period=base["period"], approval=Approval.APPROVED
    )
    nurse = EmployeeFactory(full_name="Nora Nurse", department=base["nursing"])
    pharmacist = EmployeeFactory(full_name="Phil Pharmacist", department=base["pharmacy"])
    under_ward = IndividualGoalFactory(owner=nurse, parent_goal=ward, approval=Approval.APPROVED)
    direct = IndividualGoalFactory(owner=pharmacist, priority=retired, period=base["period"])
    winter = IndividualGoalFactory(owner=nurse, priority=old, period=base["period"], approval=Approval.APPROVED)
    # Not open: done or cancelled goals are history, not criteria people are still judged on.
    IndividualGoalFactory(owner=nurse, priority=retired, period=base["period"], status=GoalStatus.ACHIEVED)
    IndividualGoalFactory(owner=nurse, priority=retired, period=base["period"], status=GoalStatus.CANCELLED)
    return {
        "retired": retired,
        "old": old,
        "goals": [ward.pk, under_ward.pk, direct.pk],
        "winter": winter,
        "nurse": nurse,
        "pharmacist": pharmacist,
    }


def test_open_goals_under_a_retired_priority_are_one_finding_with_the_goals_and_people(base, stale):
    drafts = by_key(evaluate(StaleCriteria))
    finding = drafts[f"priority:{stale['retired'].pk}"]
    assert finding.subject_type == SubjectType.PRIORITY
    assert finding.subject_label == "Paper charts"
    assert finding.department_id is None  # two departments
    # Three goals against a minimum of 1: from three times the minimum it is medium.
    assert finding.severity == Severity.MEDIUM
    assert finding.message == (
        "“Paper charts” is retired, yet 3 open goals in 2026 still hang under it (1 department, 2 individual, "
        "held by 2 people in Nursing and Pharmacy)."
    )
    assert finding.details["goals"] == sorted(stale["goals"])
    assert finding.details["employees"] == sorted([stale["nurse"].pk, stale["pharmacist"].pk])
    assert finding.details["priorities"] == [stale["retired"].pk]
    assert finding.details["figures"]["open_goals"] == 3


def test_goals_under_a_priority_that_ended_before_the_period_are_stale_too(base, stale):
    finding = by_key(evaluate(StaleCriteria))[f"priority:{stale['old'].pk}"]
    assert finding.message.startswith("“Winter pressures 2025” ran from 1 Jan 2025 to 31 Dec 2025, outside the goal")
    assert finding.details["goals"] == [stale["winter"].pk]
    assert finding.department_id == base["nursing"].pk
    assert finding.severity == Severity.LOW


def test_the_minimum_number_of_goals_moves_the_result(base, stale):
    assert [d.subject_id for d in evaluate(StaleCriteria, min_goals=2)] == [stale["retired"].pk]
    assert evaluate(StaleCriteria, min_goals=4) == []


def test_goals_under_current_active_priorities_are_not_stale(base):
    priority = QualityPriorityFactory(owner=base["lead"])
    IndividualGoalFactory(owner=EmployeeFactory(), priority=priority, period=base["period"])
    assert evaluate(StaleCriteria) == []


def test_stale_goals_of_an_earlier_period_are_not_read(base, stale):
    GoalPeriodFactory(name="2027", start=datetime.date(2027, 1, 1), end=datetime.date(2027, 12, 31))
    assert evaluate(StaleCriteria, today=datetime.date(2027, 3, 1)) == []
    assert len(evaluate(StaleCriteria, today=TODAY)) == 2


def test_stale_queries_do_not_grow_with_the_data(base, stale):
    first = queries_of(lambda: evaluate(StaleCriteria))
    for _ in range(4):
        retired = QualityPriorityFactory(owner=base["lead"], status=PriorityStatus.RETIRED)
        IndividualGoalFactory(owner=EmployeeFactory(), priority=retired, period=base["period"])
    assert len(evaluate(StaleCriteria)) == 6
    assert queries_of(lambda: evaluate(StaleCriteria)) == first <= 10

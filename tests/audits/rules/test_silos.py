"""Siloed goal setting: one-department priorities and sibling goals pulling a measure apart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audits.models import Severity, SubjectType
from audits.rules.silos import SiloedGoals
from cascade.models import Approval, GoalStatus
from tests.audits.rules.helpers import by_key, evaluate, queries_of
from tests.cascade.factories import (
    FunctionalGoalFactory,
    GoalPeriodFactory,
    IndividualGoalFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def org():
    period = GoalPeriodFactory()
    pharmacy = DepartmentFactory(name="Pharmacy")
    nursing = DepartmentFactory(name="Nursing")
    lead = EmployeeFactory(department=DepartmentFactory(name="Quality office"))
    safety = QualityPriorityFactory(title="Medication safety", owner=lead)
    errors = QualityMeasureFactory(priority=safety, name="Dispensing errors", department=pharmacy)
    QualityMeasureFactory(priority=safety, name="Administration errors", department=nursing)
    return {"period": period, "pharmacy": pharmacy, "nursing": nursing, "safety": safety, "errors": errors}


def test_a_priority_whose_measures_span_departments_but_one_department_supports_is_reported(org):
    FunctionalGoalFactory(priority=org["safety"], department=org["pharmacy"], period=org["period"])
    drafts = by_key(evaluate(SiloedGoals))
    finding = drafts[f"priority:{org['safety'].pk}"]
    assert finding.subject_type == SubjectType.PRIORITY
    assert finding.subject_label == "Medication safety"
    assert finding.department_id == org["pharmacy"].pk
    assert finding.severity == Severity.MEDIUM
    assert finding.message == (
        "“Medication safety”: its 2 measures are owned by 2 departments (Nursing and Pharmacy), but only "
        "Pharmacy supports it with a department goal in 2026."
    )
    assert finding.details["priorities"] == [org["safety"].pk]
    assert finding.details["departments"] == sorted([org["pharmacy"].pk, org["nursing"].pk])
    assert finding.details["figures"]["supporting_departments"] == [org["pharmacy"].pk]


def test_no_supporting_department_at_all_is_high(org):
    (finding,) = evaluate(SiloedGoals)
    assert finding.severity == Severity.HIGH
    assert "no department supports it with a department goal" in finding.message


def test_a_second_department_contributing_ends_the_silo(org):
    FunctionalGoalFactory(
        priority=org["safety"],
        department=org["pharmacy"],
        period=org["period"],
        contributing_departments=[org["nursing"]],
    )
    assert evaluate(SiloedGoals) == []


def test_cancelled_department_goals_do_not_count_as_support(org):
    FunctionalGoalFactory(priority=org["safety"], department=org["pharmacy"], period=org["period"])
    FunctionalGoalFactory(
        priority=org["safety"], department=org["nursing"], period=org["period"], status=GoalStatus.CANCELLED
    )
    assert len(evaluate(SiloedGoals)) == 1


def test_the_thresholds_move_the_result(org):
    FunctionalGoalFactory(priority=org["safety"], department=org["pharmacy"], period=org["period"])
    assert evaluate(SiloedGoals, max_supporting_departments=0) == []
    assert evaluate(SiloedGoals, min_measure_departments=3) == []
    assert len(evaluate(SiloedGoals, max_supporting_departments=1)) == 1


def test_a_priority_whose_measures_one_department_owns_is_not_a_silo(org):
    org["safety"].measures.update(department=org["pharmacy"])
    assert evaluate(SiloedGoals) == []


@pytest.fixture
def siblings(org):
    """A ward goal with three people's goals on the dispensing-errors measure (baseline 50)."""
    ward = FunctionalGoalFactory(
        priority=org["safety"],
        department=org["nursing"],
        period=org["period"],
        title="Ward 4: safer medicines",
        approval=Approval.APPROVED,
        contributing_departments=[org["pharmacy"]],  # no silo: only the siblings are reported
    )
    nurse = EmployeeFactory(full_name="Nora Nurse", department=org["nursing"])
    other = EmployeeFactory(full_name="Olga Other", department=org["nursing"])
    third = EmployeeFactory(full_name="Theo Third", department=org["nursing"])
    up = IndividualGoalFactory(
        owner=nurse,
        parent_goal=ward,
        title="Raise checks",
        measure=org["errors"],
        baseline=D("50"),
        target=D("70"),
        approval=Approval.APPROVED,
    )
    # No baseline of its own: judged from the measure's (50).
    down = IndividualGoalFactory(
        owner=other,
        parent_goal=ward,
        title="Cut checks",
        measure=org["errors"],
        target=D("40"),
        approval=Approval.APPROVED,
    )
    also_up = IndividualGoalFactory(
        owner=third, parent_goal=ward, title="More checks", measure=org["errors"], baseline=D("55"), target=D("60")
    )
    return {"ward": ward, "up": up, "down": down, "also_up": also_up}


def test_siblings_pulling_one_measure_in_opposite_directions_are_one_finding(org, siblings):
    drafts = by_key(evaluate(SiloedGoals))
    key = f"siblings:goal:{siblings['ward'].pk}:measure:{org['errors'].pk}"
    assert list(drafts) == [key]
    finding = drafts[key]
    assert finding.subject_type == SubjectType.GOAL
    assert finding.subject_id == siblings["ward"].pk
    assert finding.subject_label == "Ward 4: safer medicines"
    assert finding.department_id == org["nursing"].pk
    # Approved goals on both sides: the conflict is in force.
    assert finding.severity == Severity.HIGH
    assert finding.message == (
        "Under “Ward 4: safer medicines”, goals pull “Dispensing errors” in opposite directions: 2 goals up "
        "(“Raise checks” (Nora Nurse) 50 → 70 and “More checks” (Theo Third) 55 → 60) and 1 goal down "
        "(“Cut checks” (Olga Other) 50 → 40)."
    )
    assert finding.details["goals"] == sorted([siblings["up"].pk, siblings["down"].pk, siblings["also_up"].pk])
    assert finding.details["figures"]["goals_up"] == 2


def test_a_conflict_not_yet_approved_on_both_sides_is_medium(org, siblings):
    siblings["down"].approval = Approval.SUBMITTED
    siblings["down"].save(update_fields=["approval"])
    (finding,) = evaluate(SiloedGoals)
    assert finding.severity == Severity.MEDIUM


def test_siblings_pulling_the_same_way_or_under_different_parents_are_fine(org, siblings):
    siblings["down"].target = D("75")
    siblings["down"].save(update_fields=["target"])
    assert evaluate(SiloedGoals) == []
    siblings["down"].target = D("40")
    siblings["down"].parent_goal = None
    siblings["down"].save(update_fields=["target", "parent_goal"])
    assert evaluate(SiloedGoals) == []


def test_department_goals_straight_under_a_priority_are_siblings_too(org):
    FunctionalGoalFactory(
        priority=org["safety"], department=org["pharmacy"], period=org["period"], measure=org["errors"],
        baseline=D("50"), target=D("30"),
    )  # fmt: skip
    FunctionalGoalFactory(
        priority=org["safety"], department=org["nursing"], period=org["period"], measure=org["errors"],
        baseline=D("50"), target=D("60"),
    )  # fmt: skip
    drafts = by_key(evaluate(SiloedGoals))
    finding = drafts[f"siblings:priority:{org['safety'].pk}:measure:{org['errors'].pk}"]
    assert finding.subject_type == SubjectType.PRIORITY
    assert finding.department_id is None
    assert finding.message.startswith("Under the priority “Medication safety”, goals pull “Dispensing errors”")


def test_its_queries_do_not_grow_with_the_data(org, siblings):
    def add_silo_and_conflict(index: int) -> None:
        priority = QualityPriorityFactory(owner=siblings["up"].owner)
        QualityMeasureFactory(priority=priority, department=DepartmentFactory(name=f"Lab {index}"))
        QualityMeasureFactory(priority=priority, department=org["pharmacy"])
        ward = FunctionalGoalFactory(priority=priority, department=org["nursing"], period=org["period"])
        measure = QualityMeasureFactory(priority=priority, department=org["nursing"])
        for target in ("70", "30"):
            IndividualGoalFactory(
                owner=EmployeeFactory(), parent_goal=ward, measure=measure, baseline=D("50"), target=D(target)
            )

    add_silo_and_conflict(0)
    first = queries_of(lambda: evaluate(SiloedGoals))
    for index in range(1, 5):
        add_silo_and_conflict(index)
    assert len(evaluate(SiloedGoals)) == 11
    assert queries_of(lambda: evaluate(SiloedGoals)) == first <= 8

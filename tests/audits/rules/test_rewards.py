"""Reward misalignment: incentive plans whose QI-linked weight is below the floor."""

from __future__ import annotations

import pytest
from django.test import override_settings

from appraisals.models import CycleState
from audits.models import Severity, SubjectType
from audits.rules.rewards import RewardMisalignment
from incentives.models import ComponentKind, IncentivePlan, PlanComponent, PlanState
from tests.appraisals.factories import ReviewCycleFactory
from tests.audits.rules.helpers import by_key, evaluate, queries_of
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def plan(cycle, name, state=PlanState.DRAFT, departments=(), **weights):
    """A plan with components of the given weights: qi=…, score=…, measure=…."""
    made = IncentivePlan.objects.create(cycle=cycle, name=name)
    made.departments.set(departments)
    kinds = {"qi": ComponentKind.QI_GOALS, "score": ComponentKind.APPRAISAL_SCORE, "measure": ComponentKind.ORG_MEASURE}
    labels = {"qi": "QI goals", "score": "Appraisal score", "measure": "Patient flow"}
    for position, (key, weight) in enumerate(weights.items()):
        PlanComponent.objects.create(plan=made, kind=kinds[key], name=labels[key], weight=weight, position=position)
    if state != PlanState.DRAFT:
        made.state = state
        made.save()
    return made


@pytest.fixture
def cycle():
    return ReviewCycleFactory(name="Review 2026")


def test_a_plan_with_a_small_qi_share_is_reported_with_its_components(cycle):
    pharmacy = DepartmentFactory(name="Pharmacy")
    bonus = plan(cycle, "Pharmacy bonus", departments=[pharmacy], qi=15, score=60, measure=25)
    drafts = by_key(evaluate(RewardMisalignment))
    finding = drafts[f"plan:{bonus.pk}"]
    assert finding.subject_type == SubjectType.PLAN
    assert finding.subject_id == bonus.pk
    assert finding.subject_label == "Pharmacy bonus (Review 2026)"
    assert finding.department_id == pharmacy.pk
    assert finding.severity == Severity.MEDIUM  # under half the floor
    assert finding.message == (
        "“Pharmacy bonus” for Pharmacy in “Review 2026” (draft) puts only 15 % on QI-linked goals (QI goals 15 %, "
        "Appraisal score 60 %, Patient flow 25 %); the floor is 40 %."
    )
    assert finding.details["plans"] == [bonus.pk]
    assert finding.details["departments"] == [pharmacy.pk]
    assert finding.details["figures"]["qi_weight"] == 15
    assert finding.details["figures"]["components"][0] == {"kind": "qi_goals", "name": "QI goals", "weight": 15}


def test_a_plan_with_no_qi_component_at_all_is_high(cycle):
    sales = plan(cycle, "Everyone", score=100)
    (finding,) = evaluate(RewardMisalignment)
    assert finding.subject_id == sales.pk
    assert finding.severity == Severity.HIGH
    assert finding.department_id is None
    assert "has no QI-linked component at all" in finding.message


def test_plans_at_or_above_the_floor_or_without_components_are_left_alone(cycle):
    plan(cycle, "Balanced", qi=40, score=60)
    plan(cycle, "Being designed")
    assert evaluate(RewardMisalignment) == []


def test_the_floor_moves_the_result_and_defaults_to_the_setting(cycle):
    plan(cycle, "Light", qi=30, score=70)
    (finding,) = evaluate(RewardMisalignment)
    assert finding.severity == Severity.LOW  # 30: under the floor, not under half of it
    assert evaluate(RewardMisalignment, min_qi_weight=30) == []
    assert RewardMisalignment.defaults()["min_qi_weight"] == 40


@override_settings(THROUGHLINE_MIN_QI_WEIGHT=25)
def test_the_floor_given_to_the_rule_wins_over_the_plans_own_warning(cycle):
    plan(cycle, "Light", qi=30, score=70)
    assert len(evaluate(RewardMisalignment, min_qi_weight=40)) == 1


def test_published_plans_of_closed_cycles_are_history_but_unpublished_ones_still_count(cycle):
    closed = ReviewCycleFactory(name="Review 2025", year=2025)
    plan(closed, "Paid out", state=PlanState.PUBLISHED, score=100)
    pending = plan(closed, "Approved, not yet published", state=PlanState.APPROVED, score=100)
    live = plan(cycle, "Published this year", state=PlanState.PUBLISHED, score=100)
    closed.state = CycleState.CLOSED
    closed.save(update_fields=["state"])
    assert {d.subject_id for d in evaluate(RewardMisalignment)} == {pending.pk, live.pk}


def test_its_queries_do_not_grow_with_the_number_of_plans(cycle):
    plan(cycle, "First", score=100)
    first = queries_of(lambda: evaluate(RewardMisalignment))
    for index in range(5):
        plan(cycle, f"Plan {index}", departments=[DepartmentFactory()], qi=10, score=90)
    assert len(evaluate(RewardMisalignment)) == 6
    assert queries_of(lambda: evaluate(RewardMisalignment)) == first <= 3

"""Over-emphasis on end results: forms with little process weight, departments with few process goals."""

from __future__ import annotations

import pytest
from django.test import override_settings

from appraisals.models import CycleState
from audits.models import Severity, SubjectType
from audits.rules.emphasis import EndResultEmphasis
from cascade.models import Approval, GoalKind, GoalStatus
from tests.appraisals.factories import (
    AppraisalFormFactory,
    ParticipantFactory,
    PublishedFormVersionFactory,
    ReviewCycleFactory,
)
from tests.audits.rules.helpers import by_key, evaluate, queries_of
from tests.cascade.factories import GoalPeriodFactory, IndividualGoalFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def forms_only(drafts):
    return [d for d in drafts if d.subject_type == SubjectType.FORM]


def departments_only(drafts):
    return [d for d in drafts if d.subject_type == SubjectType.DEPARTMENT]


# ---------------------------------------------------------------- forms


def test_a_form_in_use_whose_competencies_weigh_below_the_floor_is_reported(db):
    heavy = PublishedFormVersionFactory(
        form=AppraisalFormFactory(name="Ward staff"), goals_weight=90, competencies_weight=10
    )
    PublishedFormVersionFactory(form=AppraisalFormFactory(name="Balanced"))  # 60 / 40
    cycle = ReviewCycleFactory()
    for _ in range(2):
        ParticipantFactory(cycle=cycle, form_version=heavy)
    drafts = by_key(forms_only(evaluate(EndResultEmphasis)))
    assert list(drafts) == [f"form:{heavy.form_id}:version:1"]
    finding = drafts[f"form:{heavy.form_id}:version:1"]
    assert finding.subject_type == SubjectType.FORM
    assert finding.subject_id == heavy.form_id
    assert finding.subject_label == "Ward staff (version 1)"
    assert finding.department_id is None
    assert finding.severity == Severity.HIGH  # 10 % is under half the 30 % floor
    assert finding.message == (
        "“Ward staff” version 1 rates 2 people in a running review cycle, but only 10 % of it rates how people "
        "improve the work (competencies) against 90 % for results; the floor is 30 %."
    )
    assert finding.details["forms"] == [heavy.form_id]
    figures = finding.details["figures"]
    assert (figures["form_version"], figures["process_weight"], figures["participants_in_open_cycles"]) == (
        heavy.pk,
        10,
        2,
    )


def test_the_published_version_is_checked_even_before_a_cycle_uses_it(db):
    version = PublishedFormVersionFactory(
        form=AppraisalFormFactory(name="Pharmacy"), goals_weight=75, competencies_weight=25
    )
    (finding,) = forms_only(evaluate(EndResultEmphasis))
    assert finding.severity == Severity.MEDIUM  # 25 of 30: under 85 % of the floor
    assert "is the published version the next review cycle will hand out" in finding.message
    assert finding.details["forms"] == [version.form_id]


def test_a_retired_version_counts_while_an_open_cycle_uses_it_and_not_after(db):
    form = AppraisalFormFactory(name="Ward staff")
    old = PublishedFormVersionFactory(form=form, goals_weight=80, competencies_weight=20)
    cycle = ReviewCycleFactory()
    ParticipantFactory(cycle=cycle, form_version=old)
    PublishedFormVersionFactory(form=form, number=2)  # publishing v2 (60 / 40) retires v1
    assert [d.key for d in forms_only(evaluate(EndResultEmphasis))] == [f"form:{form.pk}:version:1"]
    cycle.state = CycleState.CLOSED
    cycle.save(update_fields=["state"])
    assert forms_only(evaluate(EndResultEmphasis)) == []


def test_the_floor_is_a_threshold_defaulting_to_the_setting(db):
    PublishedFormVersionFactory(goals_weight=70, competencies_weight=30)
    assert forms_only(evaluate(EndResultEmphasis)) == []
    assert len(forms_only(evaluate(EndResultEmphasis, min_process_weight=35))) == 1
    assert EndResultEmphasis.defaults()["min_process_weight"] == 30


@override_settings(THROUGHLINE_MIN_PROCESS_WEIGHT=50)
def test_the_rule_reuses_the_form_builders_balance_not_its_own_sum(db):
    # The balance's own floor follows the setting; the rule compares its process weight with the rule's limit.
    version = PublishedFormVersionFactory(goals_weight=60, competencies_weight=40)
    assert forms_only(evaluate(EndResultEmphasis, min_process_weight=30)) == []
    (finding,) = forms_only(evaluate(EndResultEmphasis, min_process_weight=50))
    assert finding.details["figures"]["form_version"] == version.pk


# ---------------------------------------------------------------- departments


@pytest.fixture
def goals():
    period = GoalPeriodFactory()
    pharmacy = DepartmentFactory(name="Pharmacy")
    nursing = DepartmentFactory(name="Nursing")
    lead = EmployeeFactory(department=nursing)
    priority = QualityPriorityFactory(owner=lead)
    mixed = EmployeeFactory(department=pharmacy)
    results_only = EmployeeFactory(department=pharmacy)

    def goal(owner, weight, kind, **extra):
        extra.setdefault("approval", Approval.APPROVED)
        return IndividualGoalFactory(owner=owner, priority=priority, period=period, weight=weight, kind=kind, **extra)

    goal(mixed, 90, GoalKind.RESULT)
    goal(mixed, 10, GoalKind.PROCESS)
    goal(results_only, 100, GoalKind.RESULT)
    # Returned and cancelled goals do not count either way.
    goal(results_only, 100, GoalKind.PROCESS, status=GoalStatus.CANCELLED, approval=Approval.DRAFT)
    goal(results_only, 50, GoalKind.PROCESS, approval=Approval.RETURNED)
    goal(lead, 50, GoalKind.RESULT)
    goal(lead, 50, GoalKind.PROCESS)
    return {"pharmacy": pharmacy, "nursing": nursing, "results_only": results_only, "mixed": mixed}


def test_a_department_with_little_weight_on_process_goals_is_reported(goals):
    drafts = by_key(departments_only(evaluate(EndResultEmphasis)))
    assert list(drafts) == [f"department:{goals['pharmacy'].pk}"]
    finding = drafts[f"department:{goals['pharmacy'].pk}"]
    assert finding.subject_label == "Pharmacy"
    assert finding.department_id == goals["pharmacy"].pk
    # 10 of 200 weight: 5 %, a quarter of the 20 % floor.
    assert finding.severity == Severity.HIGH
    assert finding.message == (
        "Pharmacy: process and improvement-activity goals carry 5 % of the weight of its people's goals in 2026; "
        "the floor is 20 %. 1 person has no process goal at all."
    )
    assert finding.details["employees"] == [goals["results_only"].pk]
    assert finding.details["figures"]["goal_weight"] == 200
    assert finding.details["figures"]["process_weight"] == 10


def test_the_department_floor_moves_the_result(goals):
    assert departments_only(evaluate(EndResultEmphasis, min_process_goal_weight=5)) == []
    assert {d.subject_label for d in departments_only(evaluate(EndResultEmphasis, min_process_goal_weight=60))} == {
        "Pharmacy",
        "Nursing",
    }


def test_balanced_departments_and_forms_give_nothing(goals):
    assert evaluate(EndResultEmphasis, min_process_goal_weight=5) == []


def test_its_queries_do_not_grow_with_the_data(goals):
    PublishedFormVersionFactory(goals_weight=90, competencies_weight=10)
    first = queries_of(lambda: evaluate(EndResultEmphasis))
    cycle = ReviewCycleFactory()
    period = GoalPeriodFactory()
    priority = QualityPriorityFactory(owner=goals["mixed"])
    for index in range(4):
        version = PublishedFormVersionFactory(goals_weight=80, competencies_weight=20)
        department = DepartmentFactory(name=f"Ward {index}")
        person = EmployeeFactory(department=department)
        ParticipantFactory(cycle=cycle, form_version=version, employee=person)
        IndividualGoalFactory(owner=person, priority=priority, period=period, approval=Approval.APPROVED)
    # The cycle's period is current now too, and only its participants are in scope: the four wards.
    assert len(evaluate(EndResultEmphasis)) == 9
    assert queries_of(lambda: evaluate(EndResultEmphasis)) == first <= 8

"""The unaligned-goals rule and the alignment score."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from audits.models import Severity, SubjectType
from audits.rules.alignment import UnalignedGoals, alignment_scores
from cascade.models import Approval, GoalStatus, PriorityStatus
from tests.appraisals.factories import ParticipantFactory, ReviewCycleFactory
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
def org():
    """Pharmacy: one aligned person of four (a draft, a retired priority, no goals at all).
    Nursing: both people aligned, one of them through a department goal."""
    period = GoalPeriodFactory()
    pharmacy = DepartmentFactory(name="Pharmacy")
    nursing = DepartmentFactory(name="Nursing")
    aligned = EmployeeFactory(full_name="Ada Aligned", department=pharmacy)
    safety = QualityPriorityFactory(title="Medication safety", owner=aligned)
    retired = QualityPriorityFactory(title="Paper charts", status=PriorityStatus.RETIRED, owner=aligned)
    drafting = EmployeeFactory(full_name="Dan Draft", department=pharmacy)
    stale = EmployeeFactory(full_name="Rita Retired", department=pharmacy)
    idle = EmployeeFactory(full_name="Ned Nogoals", department=pharmacy)
    nurse_a = EmployeeFactory(department=nursing)
    nurse_b = EmployeeFactory(department=nursing)
    IndividualGoalFactory(owner=aligned, priority=safety, period=period, approval=Approval.APPROVED)
    draft = IndividualGoalFactory(owner=drafting, priority=safety, period=period, approval=Approval.DRAFT)
    under_retired = IndividualGoalFactory(owner=stale, priority=retired, period=period, approval=Approval.APPROVED)
    ward_goal = FunctionalGoalFactory(department=nursing, priority=safety, period=period, approval=Approval.APPROVED)
    IndividualGoalFactory(owner=nurse_a, parent_goal=ward_goal, approval=Approval.APPROVED)
    IndividualGoalFactory(owner=nurse_b, priority=safety, period=period, approval=Approval.APPROVED)
    return {
        "period": period,
        "pharmacy": pharmacy,
        "nursing": nursing,
        "safety": safety,
        "retired": retired,
        "people": {"aligned": aligned, "drafting": drafting, "stale": stale, "idle": idle},
        "goals": {"draft": draft, "under_retired": under_retired},
        "ward_goal": ward_goal,
        "nurses": (nurse_a, nurse_b),
    }


def test_it_reports_a_department_below_the_floor_with_the_people_and_goals_behind_it(org):
    drafts = by_key(evaluate(UnalignedGoals))
    assert list(drafts) == [f"department:{org['pharmacy'].pk}"]
    finding = drafts[f"department:{org['pharmacy'].pk}"]
    assert finding.subject_type == SubjectType.DEPARTMENT
    assert finding.subject_id == org["pharmacy"].pk
    assert finding.subject_label == "Pharmacy"
    assert finding.department_id == org["pharmacy"].pk
    # 25 % is under half of the 70 % floor.
    assert finding.severity == Severity.HIGH
    assert finding.message.startswith(
        "Pharmacy: 1 of 4 people (25 %) have an approved goal that reaches an active quality priority; "
        "the floor is 70 %."
    )
    assert "1 person has no goals in 2026" in finding.message
    assert "1 goal is still waiting for approval" in finding.message
    assert "1 goal hangs under a retired priority" in finding.message
    people = org["people"]
    assert finding.details["employees"] == sorted([people["drafting"].pk, people["stale"].pk, people["idle"].pk])
    assert finding.details["goals"] == sorted([org["goals"]["draft"].pk, org["goals"]["under_retired"].pk])
    assert finding.details["priorities"] == [org["retired"].pk]
    figures = finding.details["figures"]
    assert figures["people"] == 4
    assert figures["aligned"] == 1
    assert figures["alignment_percent"] == 25
    assert figures["floor_percent"] == 70
    assert figures["without_goals"] == 1


def test_it_stays_quiet_when_every_department_is_above_the_floor(org):
    assert evaluate(UnalignedGoals, min_alignment_percent=25) == []


def test_the_threshold_moves_the_result_and_the_severity(org):
    # 25 % against a floor of 40: under 85 % of it, not under half.
    (finding,) = evaluate(UnalignedGoals, min_alignment_percent=40)
    assert finding.severity == Severity.MEDIUM
    # Nursing is at 100 %: only a floor of 100 is above it, and only strictly below counts.
    assert {d.subject_label for d in evaluate(UnalignedGoals, min_alignment_percent=100)} == {"Pharmacy"}


def test_a_goal_under_a_priority_outside_its_period_or_a_cancelled_department_goal_does_not_align(org):
    nurse_a, nurse_b = org["nurses"]
    org["ward_goal"].status = GoalStatus.CANCELLED
    org["ward_goal"].approval = Approval.DRAFT  # a cancelled goal is never left approved
    org["ward_goal"].save(update_fields=["status", "approval"])
    old = QualityPriorityFactory(
        title="Old priority",
        owner=nurse_a,
        period_start=datetime.date(2024, 1, 1),
        period_end=datetime.date(2024, 12, 31),
    )
    nurse_b.goals.update(priority=old)
    (finding,) = [d for d in evaluate(UnalignedGoals) if d.department_id == org["nursing"].pk]
    assert finding.details["figures"]["aligned"] == 0
    assert finding.details["figures"]["goals_out_of_period"] == 1
    assert finding.details["figures"]["goals_under_cancelled_parent"] == 1
    assert finding.details["priorities"] == [old.pk]
    assert "under a cancelled department goal" in finding.message


def test_the_audit_reads_the_goals_of_the_day_it_is_given(org):
    # On a day of 2027 no open period contains the day; the latest open one (2026) is still read.
    assert [d.subject_label for d in evaluate(UnalignedGoals, today=datetime.date(2027, 2, 1))] == ["Pharmacy"]
    # Once a 2027 period opens, 2026's goals no longer count and nobody is aligned.
    GoalPeriodFactory(name="2027", start=datetime.date(2027, 1, 1), end=datetime.date(2027, 12, 31))
    labels = {d.subject_label for d in evaluate(UnalignedGoals, today=datetime.date(2027, 2, 1))}
    assert labels == {"Pharmacy", "Nursing"}
    assert {d.subject_label for d in evaluate(UnalignedGoals, today=TODAY)} == {"Pharmacy"}


def test_a_running_cycle_decides_who_is_in_scope(org):
    cycle = ReviewCycleFactory(period=org["period"])
    people = org["people"]
    for person in (people["aligned"], people["drafting"], *org["nurses"]):
        ParticipantFactory(cycle=cycle, employee=person)
    # Pharmacy is now Ada (aligned) and Dan (draft): 50 %.
    (finding,) = evaluate(UnalignedGoals)
    assert finding.details["figures"]["people"] == 2
    assert finding.details["employees"] == [people["drafting"].pk]


def test_inactive_people_are_not_counted(org):
    for key in ("drafting", "stale", "idle"):
        org["people"][key].is_active = False
        org["people"][key].save(update_fields=["is_active"])
    assert evaluate(UnalignedGoals) == []


def test_the_alignment_score_covers_the_organisation_and_every_department(org):
    DepartmentFactory(name="Estates")  # nobody in it
    scores = alignment_scores(TODAY)
    # Aligned: Ada and both nurses, of six people.
    assert scores.organisation == Decimal("50.00")
    by_name = {d.name: d for d in scores.departments}
    assert (by_name["Pharmacy"].people, by_name["Pharmacy"].aligned, by_name["Pharmacy"].score) == (
        4,
        1,
        Decimal("25.00"),
    )
    assert by_name["Nursing"].score == Decimal("100.00")
    assert by_name["Estates"].people == 0
    assert by_name["Estates"].score is None


def test_no_current_period_means_no_findings_and_no_score(db):
    EmployeeFactory()
    assert evaluate(UnalignedGoals) == []
    assert alignment_scores(TODAY).organisation is None


def test_the_number_of_queries_does_not_grow_with_the_organisation(org):
    first = queries_of(lambda: evaluate(UnalignedGoals, min_alignment_percent=100))
    score_queries = queries_of(lambda: alignment_scores(TODAY))
    for index in range(6):
        department = DepartmentFactory(name=f"Ward {index}")
        for _ in range(3):
            person = EmployeeFactory(department=department)
            IndividualGoalFactory(owner=person, priority=org["safety"], period=org["period"])
    # Pharmacy and the six wards, whose goals are drafts.
    assert len(evaluate(UnalignedGoals, min_alignment_percent=100)) == 7
    assert queries_of(lambda: evaluate(UnalignedGoals, min_alignment_percent=100)) == first <= 6
    assert queries_of(lambda: alignment_scores(TODAY)) == score_queries <= 4

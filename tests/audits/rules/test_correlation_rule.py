"""Ratings disconnected from QI outcomes: the weak_qi_link rule, its findings and the run's results.

The ρ values are worked out by hand in tests/audits/test_correlation.py (UNTIED, WEAK); the
negative set is the untied one reversed:
  y ranks 9 10 6 5 8 7 3 4 1 2 against x ranks 1..10 (UNTIED_Y read backwards)
  d²: 64 64 9 1 9 1 16 16 64 64 → Σd² = 308;  ρ = 1 − 6·308/990 = −0.8667 (= −13/15).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from appraisals.models import Appraisal
from audits.models import AnalysisUnit, AuditRun, CorrelationResult, CorrelationScope, RunState, Severity, SubjectType
from audits.rules.base import AuditContext
from audits.rules.correlation import WeakQILink
from audits.services import correlation
from cascade.models import Approval
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.audits.helpers import UNTIED_RHO, UNTIED_X, UNTIED_Y, WEAK_RHO, WEAK_X, WEAK_Y, people
from tests.audits.rules.helpers import TODAY, by_key, evaluate
from tests.cascade.factories import (
    FunctionalGoalFactory,
    ObservationFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

NEGATIVE_Y = list(reversed(UNTIED_Y))
NEGATIVE_RHO = 1 - 6 * 308 / 990


@pytest.fixture
def cycle():
    return ReviewCycleFactory(name="Review 2026")


@pytest.fixture
def nursing():
    return DepartmentFactory(name="Nursing")


def test_an_absent_link_is_a_medium_finding_for_the_organisation_and_the_department(cycle, nursing):
    people(cycle, nursing, WEAK_X, WEAK_Y)
    drafts = by_key(evaluate(WeakQILink))
    assert set(drafts) == {"organisation:person:qi_goals", f"department:{nursing.pk}:person:qi_goals"}
    organisation = drafts["organisation:person:qi_goals"]
    assert organisation.severity == Severity.MEDIUM
    assert organisation.subject_type == SubjectType.CORRELATION
    assert organisation.subject_id is None and organisation.department_id is None
    assert organisation.subject_label == "Organisation: QI goals and appraisal scores"
    figures = organisation.details["figures"]
    assert figures["link"] == "absent"
    assert figures["rho"] == pytest.approx(WEAK_RHO, abs=5e-4)  # 13/165 ≈ 0.079
    assert figures["n"] == 10
    assert figures["interval_low"] < 0 < figures["interval_high"]
    assert figures["each_point_is"] == "one person"
    low, high = (f"{v:.2f}".replace("-", "\u2212") for v in (figures["interval_low"], figures["interval_high"]))
    assert organisation.message == (
        f"Across the organisation, appraisal scores in “Review 2026” and QI goal achievement move together weakly "
        f"(ρ = 0.08, 95 % interval {low} to {high}, n = 10 people); a link counts from ρ = 0.2."
    )
    department = drafts[f"department:{nursing.pk}:person:qi_goals"]
    assert department.department_id == nursing.pk and department.subject_id == nursing.pk
    assert department.details["departments"] == [nursing.pk]
    assert department.message.startswith("In Nursing, appraisal scores in “Review 2026” and QI goal achievement")


def test_a_negative_link_is_a_high_finding_that_does_not_claim_a_cause(cycle, nursing):
    people(cycle, nursing, UNTIED_X, NEGATIVE_Y)
    finding = by_key(evaluate(WeakQILink))["organisation:person:qi_goals"]
    assert finding.severity == Severity.HIGH
    assert finding.details["figures"]["link"] == "negative"
    assert finding.details["figures"]["rho"] == pytest.approx(NEGATIVE_RHO, abs=5e-4)
    assert finding.details["figures"]["interval_high"] < 0
    assert "move in opposite directions (ρ = \u22120.87, 95 % interval" in finding.message
    assert "people who achieve more of their QI goals tend to have lower scores" in finding.message
    assert "association, not proof of a cause" in finding.message
    for word in ("because", "causes", "leads to", "drives"):
        assert word not in finding.message


def test_a_strong_positive_link_is_not_a_finding(cycle, nursing):
    people(cycle, nursing, UNTIED_X, UNTIED_Y)
    assert evaluate(WeakQILink) == []
    # ρ = 13/15 ≈ 0.87: only a bar above it turns it into "absent".
    assert len(evaluate(WeakQILink, min_rho="0.9")) == 2
    assert UNTIED_RHO < 0.9


def test_a_negative_link_between_departments_measures_and_their_mean_scores(cycle):
    """Ten departments, one scored person each; each department's goal is linked to a measure from 50 up to
    80 whose latest value is 50 + 0.3·x, so its improvement is x % (x = 10, 20, …, 100). Mean scores are
    UNTIED_Y reversed: ρ = −13/15 as above, now with one point per department."""
    priority = QualityPriorityFactory()
    form = PublishedFormVersionFactory(competencies=1)
    for index, (x, y) in enumerate(zip(WEAK_X, NEGATIVE_Y, strict=True)):
        department = DepartmentFactory(name=f"Ward {index}")
        measure = QualityMeasureFactory(priority=priority, baseline=Decimal(50), target=Decimal(80))
        ObservationFactory(measure=measure, date=datetime.date(2026, 6, 1), value=Decimal(50) + Decimal("0.3") * x)
        FunctionalGoalFactory(
            department=department, measure=measure, priority=priority, period=cycle.period, approval=Approval.APPROVED
        )
        participant = ParticipantFactory(
            cycle=cycle, employee=EmployeeFactory(department=department), form_version=form
        )
        Appraisal.objects.create(participant=participant, score=Decimal(y))
    finding = by_key(evaluate(WeakQILink))["organisation:department:measures"]
    assert finding.severity == Severity.HIGH
    assert finding.subject_label == "Organisation: linked measures and appraisal scores"
    assert finding.details["figures"]["rho"] == pytest.approx(NEGATIVE_RHO, abs=5e-4)
    assert finding.details["figures"]["each_point_is"] == "one department"
    assert finding.message.startswith(
        "Across the organisation, departments' mean appraisal scores in “Review 2026” and the improvement of the "
        "measures linked to their goals move in opposite directions (ρ = \u22120.87, 95 % interval"
    )
    assert "n = 10 departments" in finding.message
    assert "departments whose linked measures improved more tend to have lower mean scores" in finding.message


def test_groups_below_the_floor_are_never_findings(cycle, nursing):
    people(cycle, nursing, WEAK_X[:9], WEAK_Y[:9])
    assert evaluate(WeakQILink) == []
    people(cycle, DepartmentFactory(name="Pharmacy"), [40], [90])  # the organisation reaches 10
    drafts = by_key(evaluate(WeakQILink))
    assert list(drafts) == ["organisation:person:qi_goals"]
    assert evaluate(WeakQILink, min_n=11) == []  # HR raised the floor


def test_the_thresholds_and_their_bounds():
    assert WeakQILink.defaults() == {"min_rho": Decimal("0.2"), "min_n": Decimal("10")}
    min_n = next(t for t in WeakQILink.thresholds if t.key == "min_n")
    assert min_n.minimum == 10 and min_n.whole


def _run() -> AuditRun:
    return AuditRun.objects.create(state=RunState.RUNNING)


def analyse_for(run: AuditRun, limits) -> None:
    """Evaluate the rule for a run and store what it hands back, as the run does."""
    ctx = AuditContext(today=TODAY, run=run)
    list(WeakQILink().evaluate(ctx, limits))
    correlation.store_results(run=run, rows=ctx.correlation_results)


def test_the_run_gets_its_results_and_a_rerun_leaves_one_set(cycle, nursing):
    people(cycle, nursing, WEAK_X, WEAK_Y)
    people(cycle, DepartmentFactory(name="Pharmacy"), [10, 90], [50, 60])
    run = _run()
    limits = WeakQILink.defaults()
    analyse_for(run, limits)
    first = list(CorrelationResult.objects.filter(run=run).values_list("pk", flat=True))
    analyse_for(run, limits)  # the same run again
    results = {(r.scope, r.department_id, r.unit): r for r in CorrelationResult.objects.filter(run=run)}
    assert len(results) == CorrelationResult.objects.count() == 4
    assert not set(first) & set(CorrelationResult.objects.values_list("pk", flat=True))  # replaced, not added

    organisation = results[(CorrelationScope.ORGANISATION, None, AnalysisUnit.PERSON)]
    assert organisation.n == 12
    assert organisation.rho is not None and len(organisation.points) == 12
    assert organisation.note.startswith("Appraisal scores from “Review 2026”.")
    nursing_result = results[(CorrelationScope.DEPARTMENT, nursing.pk, AnalysisUnit.PERSON)]
    assert nursing_result.rho == pytest.approx(WEAK_RHO, abs=1e-9)
    assert nursing_result.ci_low < nursing_result.rho < nursing_result.ci_high
    pharmacy = next(r for (scope, dept, _), r in results.items() if dept not in (None, nursing.pk))
    assert pharmacy.n == 2 and pharmacy.rho is None and pharmacy.points == []  # nothing kept for a hidden result
    assert "Fewer than 10 people (n = 2): not shown" in pharmacy.note
    by_department = results[(CorrelationScope.ORGANISATION, None, AnalysisUnit.DEPARTMENT)]
    assert by_department.n == 0 and by_department.rho is None  # no measures linked in this set

    other = _run()
    analyse_for(other, limits)
    assert CorrelationResult.objects.filter(run=run).count() == 4  # another run leaves this one's alone
    assert CorrelationResult.objects.count() == 8


def test_the_rule_writes_nothing_it_hands_its_results_to_the_run(cycle, nursing):
    people(cycle, nursing, WEAK_X, WEAK_Y)
    ctx = AuditContext(today=TODAY, run=_run())
    list(WeakQILink().evaluate(ctx, WeakQILink.defaults()))
    assert not CorrelationResult.objects.exists()
    assert ctx.correlation_results and all(r.pk is None for r in ctx.correlation_results)

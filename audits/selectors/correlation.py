"""The pairs the correlation analysis compares, read from the database in a handful of queries.

Appraisal scores come from the latest review cycle in which at least one appraisal has a
score (``audits.selectors.scope.latest_scored_cycle``). Two units of analysis:

- **Person** (for the organisation and for each department, by the person's department):
  one point per person with a score in that cycle. x = achievement of their QI-linked goals in
  the cycle's goal period — the mean progress of their approved individual goals, weighted by
  goal weight, an achieved goal counting 100 % (``incentives.payout_formula.qi_goal_achievement``, the
  figure incentive plans pay on; every goal hangs under a quality priority, so every goal is
  QI-linked). y = the appraisal score. People with a score but no approved goals have no x and
  are left out; the note counts them.
- **Department** (for the organisation): one point per department. x = the mean improvement of
  the quality measures linked to the department's goals in the period (approved, not cancelled,
  owned by the department or by one of its people), each measure's improvement being its
  progress from baseline towards target at its latest observation up to the period's end
  (``cascade.progress.progress_towards``: clamped to 0–100 %, honouring the direction of
  improvement). y = the mean appraisal score of the department's people. Measures with no
  observation by then, and departments with no such measure or no score, are left out.

Values are floats (the statistics need no more); ``points`` keep two decimals for the scatter plot.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from appraisals.models import Appraisal, ReviewCycle
from audits.models import AnalysisUnit, CorrelationScope, QIOutcome
from audits.selectors import scope as s
from cascade.models import Approval, Goal, GoalLevel, GoalStatus, Observation, QualityMeasure
from cascade.progress import counted_goals, progress_towards
from incentives.payout_formula import GoalFigure, qi_goal_achievement

ORGANISATION = "Organisation"
NOUNS = {AnalysisUnit.PERSON: "people", AnalysisUnit.DEPARTMENT: "departments"}
AXIS_NAMES = {
    QIOutcome.QI_GOALS: "QI goal achievement",
    QIOutcome.MEASURES: "the improvement of linked measures",
}


@dataclass(frozen=True)
class PairSet:
    """The pairs of one analysis: an outcome against appraisal scores, in one scope and unit."""

    scope: str  # CorrelationScope
    department_id: int | None
    label: str  # "Organisation" or the department's name
    unit: str  # AnalysisUnit
    outcome: str  # QIOutcome
    x: list[float]
    y: list[float]
    # Department names at department level; people are never named.
    point_labels: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def noun(self) -> str:
        return NOUNS[AnalysisUnit(self.unit)]

    def points(self) -> list[list[float | str]]:
        """[[x, y], …] (or [[x, y, name], …] for departments), two decimals, for the scatter plot."""
        rows: list[list[float | str]] = [[round(x, 2), round(y, 2)] for x, y in zip(self.x, self.y, strict=True)]
        if self.point_labels:
            for row, label in zip(rows, self.point_labels, strict=True):
                row.append(label)
        return rows


@dataclass(frozen=True)
class CorrelationData:
    cycle: ReviewCycle | None
    pair_sets: list[PairSet]


def collect() -> CorrelationData:
    """Every pair set, organisation first, then departments by name (seven queries, whatever the size)."""
    cycle = s.latest_scored_cycle()
    if cycle is None:
        return CorrelationData(cycle=None, pair_sets=[])
    period = cycle.period  # one query; the period's end bounds the measures' observations
    scores: dict[int, tuple[int, float]] = {
        employee_id: (department_id, float(score))
        for employee_id, department_id, score in Appraisal.objects.filter(
            participant__cycle=cycle, score__isnull=False
        ).values_list("participant__employee_id", "participant__employee__department_id", "score")
    }
    achievement = _goal_achievement(cycle)
    improvement = _department_improvement(cycle.period_id, period.end)
    departments = s.department_names({d for d, _ in scores.values()} | set(improvement))
    source = f"Appraisal scores from “{cycle.name}”."
    sets = [_people(None, ORGANISATION, scores, achievement, source)]
    sets.append(_departments(scores, improvement, departments, source))
    by_department: dict[int, dict[int, tuple[int, float]]] = defaultdict(dict)
    for employee_id, (department_id, score) in scores.items():
        by_department[department_id][employee_id] = (department_id, score)
    for department_id in sorted(by_department, key=lambda d: (departments.get(d, ""), d)):
        sets.append(
            _people(
                department_id, departments.get(department_id, "?"), by_department[department_id], achievement, source
            )
        )
    return CorrelationData(cycle=cycle, pair_sets=sets)


def _goal_achievement(cycle: ReviewCycle) -> dict[int, float]:
    """Employee id → achievement of their approved individual goals in the cycle's period (one query)."""
    figures: dict[int, list[GoalFigure]] = defaultdict(list)
    scored = Appraisal.objects.filter(participant__cycle=cycle, score__isnull=False).values("participant__employee_id")
    for owner_id, weight, progress, status in (
        Goal.objects.filter(
            period_id=cycle.period_id, level=GoalLevel.INDIVIDUAL, approval=Approval.APPROVED, owner_id__in=scored
        )
        .exclude(status=GoalStatus.CANCELLED)
        .order_by()
        .values_list("owner_id", "weight", "progress", "status")
    ):
        figures[owner_id].append(GoalFigure(weight, progress, status == GoalStatus.ACHIEVED))
    return {owner_id: float(qi_goal_achievement(goals)) for owner_id, goals in figures.items()}


def _department_improvement(period_id: int, period_end: datetime.date) -> dict[int, float]:
    """Department id → mean improvement (%) of the measures linked to its goals in the period (two queries)."""
    links = (
        counted_goals()
        .filter(period_id=period_id, measure__isnull=False)
        .order_by()
        .values_list("department_id", "measure_id")
        .distinct()
    )
    measures: dict[int, set[int]] = defaultdict(set)
    for department_id, measure_id in links:
        measures[department_id].add(measure_id)
    wanted = set().union(*measures.values()) if measures else set()
    latest = Observation.objects.filter(measure=OuterRef("pk"), date__lte=period_end).order_by("-date", "-pk")
    progress: dict[int, Decimal] = {}
    for measure_id, baseline, target, value in (
        QualityMeasure.objects.filter(pk__in=wanted)
        .annotate(latest=Subquery(latest.values("value")[:1]))
        .filter(latest__isnull=False)
        .order_by()
        .values_list("pk", "baseline", "target", "latest")
    ):
        progress[measure_id] = progress_towards(baseline=baseline, target=target, latest=value)
    improvement = {}
    for department_id, ids in measures.items():
        known = [progress[m] for m in ids if m in progress]
        if known:
            improvement[department_id] = float(sum(known) / len(known))
    return improvement


def _people(
    department_id: int | None,
    label: str,
    scores: dict[int, tuple[int, float]],
    achievement: dict[int, float],
    source: str,
) -> PairSet:
    x, y = [], []
    for employee_id in sorted(scores):
        if employee_id in achievement:
            x.append(achievement[employee_id])
            y.append(scores[employee_id][1])
    missing = len(scores) - len(x)
    note = source
    if missing:
        who = "person" if missing == 1 else "people"
        note += f" {missing} {who} with a score but no approved goals in its goal period left out."
    return PairSet(
        scope=CorrelationScope.ORGANISATION if department_id is None else CorrelationScope.DEPARTMENT,
        department_id=department_id,
        label=label,
        unit=AnalysisUnit.PERSON,
        outcome=QIOutcome.QI_GOALS,
        x=x,
        y=y,
        note=note,
    )


def _departments(
    scores: dict[int, tuple[int, float]], improvement: dict[int, float], names: dict[int, str], source: str
) -> PairSet:
    totals: dict[int, list[float]] = defaultdict(list)
    for department_id, score in scores.values():
        totals[department_id].append(score)
    both = sorted(set(totals) & set(improvement), key=lambda d: (names.get(d, ""), d))
    left_out = len(set(totals) - set(improvement))
    note = f"{source} Measures at their latest observation up to the end of its goal period."
    if left_out:
        which = "department" if left_out == 1 else "departments"
        note += f" {left_out} {which} with scores but no linked measure with data left out."
    return PairSet(
        scope=CorrelationScope.ORGANISATION,
        department_id=None,
        label=ORGANISATION,
        unit=AnalysisUnit.DEPARTMENT,
        outcome=QIOutcome.MEASURES,
        x=[improvement[d] for d in both],
        y=[sum(totals[d]) / len(totals[d]) for d in both],
        point_labels=[names.get(d, "?") for d in both],
        note=note,
    )

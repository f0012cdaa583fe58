"""The appraisal score: one documented formula, versioned.

Formula version 1
-----------------
1. Each manager rating is normalised to 0–100 on its own scale:
   ``(value − lowest level) / (highest level − lowest level) × 100``.
2. Goals section = the mean of the rated goals' normalised ratings, weighted by
   each goal's weight (its share among the person's goals in the cycle).
3. Competencies section = the mean of the rated competencies' normalised
   ratings, weighted by each row's weight on the form (``FormCompetency.weight``).
4. Total = goals weight % × goals section + competencies weight % × competencies
   section, with the two section weights taken from the form version the
   participant was given at launch.
5. Arithmetic is exact (Decimal) and the total is rounded once, to two places,
   half up. Section and item figures in the breakdown are rounded for display only.

Only the manager's ratings are scored; self ratings are shown beside them on the
page but never counted. Missing ratings: a section is computed over its rated
items, and the breakdown lists what is missing. A section with weight above zero
but nothing rated is left out and the other section's weight is scaled up to 100
(the breakdown says so); with nothing rated at all there is no score.

A change to any of this is a new ``FORMULA_VERSION``: stored scores keep the
version they were computed with in their breakdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet

from appraisals.models import CompetencyRating, GoalRating
from cascade.models import Goal, GoalStatus
from competencies.models import FormCompetency, ScaleLevel
from core.formatting import plain

FORMULA_VERSION = "1"
FORMULA = (
    "Each manager rating is normalised to 0–100 on its scale ((value − lowest) / (highest − lowest) × 100). "
    "Goals: mean weighted by goal weight. Competencies: mean weighted by the form's competency weights. "
    "Total: goals weight % × goals + competencies weight % × competencies, weights from the form version; "
    "rounded once to two places, half up. Self ratings are not scored. Unrated items are left out of their "
    "section; a section with nothing rated is left out and the other takes its weight."
)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ScoredItem:
    """One rated (or not yet rated) line of a section."""

    id: int
    label: str
    weight: int
    rating: Decimal | None
    scale_min: Decimal | None
    scale_max: Decimal | None

    @property
    def normalised(self) -> Decimal | None:
        if self.rating is None or self.scale_min is None or self.scale_max is None:
            return None
        if self.scale_max == self.scale_min:
            return None
        return (Decimal(self.rating) - self.scale_min) / (self.scale_max - self.scale_min) * HUNDRED


@dataclass(frozen=True)
class ScoreResult:
    total: Decimal | None
    breakdown: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return bool(self.breakdown.get("complete"))


def _display(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)  # the breakdown keeps null for "not rated"


def _section(name: str, weight: int, items: Sequence[ScoredItem]) -> tuple[Decimal | None, dict[str, Any]]:
    rated = [(item, item.normalised) for item in items]
    counted = [(item, value) for item, value in rated if value is not None and item.weight > 0]
    total_weight = sum(item.weight for item, _ in counted)
    score = sum(Decimal(item.weight) * value for item, value in counted) / total_weight if total_weight else None
    missing = [item for item, value in rated if value is None]
    return score, {
        "weight": weight,
        "score": _display(score),
        "rated": len(counted),
        "of": len(items),
        "items": [
            {
                "id": item.id,
                "label": item.label,
                "weight": item.weight,
                "rating": _plain(item.rating),
                "scale": [_plain(item.scale_min), _plain(item.scale_max)],
                "normalised": _display(value),
            }
            for item, value in rated
        ],
        "missing": [{"id": item.id, "label": item.label} for item in missing],
    }


def compute(
    *, goals_weight: int, competencies_weight: int, goals: Sequence[ScoredItem], competencies: Sequence[ScoredItem]
) -> ScoreResult:
    """The score from already-loaded items (no queries): used by ``score`` and the appraisal page."""
    goals_score, goals_part = _section("goals", goals_weight, goals)
    comp_score, comp_part = _section("competencies", competencies_weight, competencies)
    parts = [(goals_weight, goals_score), (competencies_weight, comp_score)]
    counted = [(Decimal(w), s) for w, s in parts if w > 0 and s is not None]
    weight_sum = sum(w for w, _ in counted)
    notes = []
    for label, weight, section_score, part in (
        ("goals", goals_weight, goals_score, goals_part),
        ("competencies", competencies_weight, comp_score, comp_part),
    ):
        if weight > 0 and part["missing"]:
            notes.append(
                f"{len(part['missing'])} of {part['of']} {label} have no manager rating"
                + ("; the section is the mean of the rated ones." if section_score is not None else ".")
            )
        if weight > 0 and section_score is None:
            notes.append(f"Nothing in the {label} section is rated, so it is left out of the total.")
    total = None
    if weight_sum:
        exact = sum(w * s for w, s in counted) / weight_sum
        total = exact.quantize(CENT, rounding=ROUND_HALF_UP)
        if weight_sum != goals_weight + competencies_weight:
            notes.append(f"The total is scaled from the {_plain(weight_sum)} % of the form that is rated.")
    # The share of the total each section actually carries (its form weight, scaled up when the other is unrated).
    for part, score in ((goals_part, goals_score), (comp_part, comp_score)):
        counts = weight_sum and part["weight"] > 0 and score is not None
        part["effective_weight"] = _display(Decimal(part["weight"]) * HUNDRED / weight_sum) if counts else "0.00"
    complete = not goals_part["missing"] and not comp_part["missing"] and total is not None
    return ScoreResult(
        total=total,
        breakdown={
            "formula_version": FORMULA_VERSION,
            "formula": FORMULA,
            "total": _display(total),
            "complete": complete,
            "sections": {"goals": goals_part, "competencies": comp_part},
            "notes": notes,
        },
    )


# ---------------------------------------------------------------- loading an appraisal's figures


def appraised_goals(participant) -> QuerySet[Goal]:  # type: ignore[no-untyped-def]
    """The goals an appraisal rates: the person's goals in the cycle's period, not cancelled."""
    return (
        Goal.objects.filter(owner_id=participant.employee_id, period_id=participant.cycle.period_id)
        .exclude(status=GoalStatus.CANCELLED)
        .order_by("-weight", "title", "pk")
    )


def scale_bounds(scale_ids: Sequence[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Lowest and highest level value of each scale (one query)."""
    bounds: dict[int, tuple[Decimal, Decimal]] = {}
    for scale_id, value in ScaleLevel.objects.filter(scale_id__in=set(scale_ids)).values_list("scale_id", "value"):
        low, high = bounds.get(scale_id, (value, value))
        bounds[scale_id] = (min(low, value), max(high, value))
    return bounds


def goal_items(goals: Sequence[Goal], ratings: dict[int, Decimal | None], bounds: tuple | None) -> list[ScoredItem]:
    low, high = bounds or (None, None)
    return [ScoredItem(g.pk, g.title, g.weight, ratings.get(g.pk), low, high) for g in goals]


def competency_items(
    rows: Sequence[FormCompetency], ratings: dict[int, Decimal | None], bounds: dict[int, tuple]
) -> list[ScoredItem]:
    items = []
    for row in rows:
        low, high = bounds.get(row.scale_id, (None, None))
        label = (row.frozen or {}).get("name") or row.competency.name
        items.append(ScoredItem(row.pk, label, row.weight, ratings.get(row.pk), low, high))
    return items


def score(appraisal) -> ScoreResult:  # type: ignore[no-untyped-def]
    """The appraisal's score from its manager ratings, by formula version 1 (a fixed number of queries)."""
    return score_many([appraisal])[appraisal.pk]


def score_many(appraisals: Sequence, *, chunk: int = 1000) -> dict[int, ScoreResult]:  # type: ignore[type-arg]
    """Scores of many appraisals (closing a cycle) in six queries per ``chunk`` of them.

    Load the appraisals with ``select_related("participant__cycle", "participant__form_version")``
    to spare a query each.
    """
    results: dict[int, ScoreResult] = {}
    for start in range(0, len(appraisals), chunk):
        results.update(_score_chunk(appraisals[start : start + chunk]))
    return results


def _score_chunk(appraisals: Sequence) -> dict[int, ScoreResult]:  # type: ignore[type-arg]
    participants = [a.participant for a in appraisals]
    versions = {p.form_version_id: p.form_version for p in participants}
    rows_by_version: dict[int, list[FormCompetency]] = {pk: [] for pk in versions}
    for row in FormCompetency.objects.filter(version_id__in=versions).select_related("competency"):
        rows_by_version[row.version_id].append(row)
    bounds = scale_bounds(
        [v.goals_scale_id for v in versions.values()] + [r.scale_id for rows in rows_by_version.values() for r in rows]
    )
    goals_by_owner: dict[tuple[int, int], list[Goal]] = {}
    goals = (
        Goal.objects.filter(
            owner_id__in={p.employee_id for p in participants}, period_id__in={p.cycle.period_id for p in participants}
        )
        .exclude(status=GoalStatus.CANCELLED)
        .order_by("-weight", "title", "pk")
    )
    for goal in goals:
        goals_by_owner.setdefault((goal.owner_id, goal.period_id), []).append(goal)
    ids = [a.pk for a in appraisals]
    goal_ratings: dict[int, dict[int, Decimal | None]] = {pk: {} for pk in ids}
    for appraisal_id, goal_id, rating in GoalRating.objects.filter(appraisal_id__in=ids).values_list(
        "appraisal_id", "goal_id", "manager_rating"
    ):
        goal_ratings[appraisal_id][goal_id] = rating
    competency_ratings: dict[int, dict[int, Decimal | None]] = {pk: {} for pk in ids}
    for appraisal_id, row_id, rating in CompetencyRating.objects.filter(appraisal_id__in=ids).values_list(
        "appraisal_id", "form_competency_id", "manager_rating"
    ):
        competency_ratings[appraisal_id][row_id] = rating
    results = {}
    for appraisal in appraisals:
        participant = appraisal.participant
        version = versions[participant.form_version_id]
        results[appraisal.pk] = compute(
            goals_weight=version.goals_weight,
            competencies_weight=version.competencies_weight,
            goals=goal_items(
                goals_by_owner.get((participant.employee_id, participant.cycle.period_id), []),
                goal_ratings[appraisal.pk],
                bounds.get(version.goals_scale_id),
            ),
            competencies=competency_items(rows_by_version[version.pk], competency_ratings[appraisal.pk], bounds),
        )
    return results

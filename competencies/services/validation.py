"""The rules a scale, a competency's indicators and a form must satisfy, in one place.

The services check every write here; the admin, and the builder's checklist (through
competencies.selectors.version_problems), ask here too, so that every path refuses
the same things in the same words. Functions take plain values (or a version
with its rows) and either return problems or raise ValidationError keyed by
the field a person would correct.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from django.core.exceptions import ValidationError

from competencies.models import FormCompetency, FormVersion
from core.formatting import plain
from core.weights import weights_total_problem

MAX_LEVELS = 10
MAX_LEVEL_VALUE = Decimal("9999.99")


# ---------------------------------------------------------------- rating scale levels


@dataclass(frozen=True)
class LevelSpec:
    """One level of a scale as given, lowest first; its position is its order."""

    value: Decimal
    label: str
    descriptor: str = ""


def _number(value: object) -> Decimal | None:
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def level_specs(levels: Iterable[LevelSpec | Mapping[str, object]]) -> list[LevelSpec]:
    """Levels from specs or mappings with value, label and descriptor; a value that is no number is refused."""
    specs = []
    for position, level in enumerate(levels, start=1):
        if isinstance(level, LevelSpec):
            value, label, descriptor = level.value, level.label, level.descriptor
        else:
            value, label, descriptor = level.get("value"), level.get("label"), level.get("descriptor")
        number = _number(value)
        if number is None:
            raise ValidationError({"levels": f"Level {position}: {value!r} is not a number."})
        specs.append(LevelSpec(value=number, label=str(label or "").strip(), descriptor=str(descriptor or "").strip()))
    return specs


def level_problems(levels: Sequence[LevelSpec]) -> list[str]:
    """Everything wrong with a scale's levels, in the order a person would fix it."""
    if len(levels) < 2:
        have = "none" if not levels else "only one"
        return [f"A rating scale needs at least two levels; this one has {have}."]
    problems = []
    if len(levels) > MAX_LEVELS:
        problems.append(f"A rating scale has at most {MAX_LEVELS} levels; this one has {len(levels)}.")
    for position, level in enumerate(levels, start=1):
        if not level.label.strip():
            problems.append(f"Level {position} needs a label.")
        if abs(level.value) > MAX_LEVEL_VALUE or -level.value.as_tuple().exponent > 2:  # type: ignore[operator]
            problems.append(f"Level {position}: {level.value} is not a value up to 9999.99 with two decimals at most.")
    for position, (lower, upper) in enumerate(pairwise(levels), start=2):
        if upper.value <= lower.value:
            problems.append(
                f"Values must strictly increase from one level to the next: level {position} "
                f"“{upper.label.strip()}” ({plain(upper.value)}) is not above level {position - 1} "
                f"“{lower.label.strip()}” ({plain(lower.value)})."
            )
    seen: dict[str, int] = {}
    for position, level in enumerate(levels, start=1):
        key = level.label.strip().casefold()
        if not key:
            continue
        if key in seen:
            problems.append(
                f"Each level needs its own label: “{level.label.strip()}” is used by levels {seen[key]} and {position}."
            )
        else:
            seen[key] = position
    return problems


def validate_levels(levels: Sequence[LevelSpec]) -> None:
    problems = level_problems(levels)
    if problems:
        raise ValidationError({"levels": problems})


# ---------------------------------------------------------------- behavioural indicators


def validate_indicators(texts: Sequence[str]) -> None:
    """Indicators are given lowest level first; level n is the n-th text."""
    problems = []
    if len(texts) > MAX_LEVELS:
        problems.append(f"A competency has indicators for at most {MAX_LEVELS} levels; this one has {len(texts)}.")
    problems += [f"The indicator for level {n} is empty." for n, text in enumerate(texts, start=1) if not text.strip()]
    if problems:
        raise ValidationError({"indicators": problems})


# ---------------------------------------------------------------- weights


def section_weights_problem(goals_weight: int, competencies_weight: int) -> str | None:
    return weights_total_problem(
        [("goals", goals_weight), ("competencies", competencies_weight)], what="section weights"
    )


def competency_weights_problem(weights: Sequence[tuple[str, int]]) -> str | None:
    """``weights`` are (competency name, weight) pairs in form order; a form with none is not judged here."""
    return weights_total_problem(weights, what="competency weights", empty_ok=True)


def weight_range_problems(goals_weight: int, competencies_weight: int) -> dict[str, str]:
    problems = {}
    for field, label, value in (
        ("goals_weight", "goals", goals_weight),
        ("competencies_weight", "competencies", competencies_weight),
    ):
        if not 0 <= value <= 100:
            problems[field] = f"The {label} section weight must be between 0 and 100, not {value}."
    return problems


# ---------------------------------------------------------------- publishing


def publish_problems(version: FormVersion, rows: Sequence[FormCompetency]) -> dict[str, list[str]]:
    """What stops this version being published; empty when it may be.

    ``rows`` are the version's competencies with ``competency`` and ``scale`` loaded.
    """
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str | None) -> None:
        if message:
            problems.setdefault(field, []).append(message)

    for field, message in weight_range_problems(version.goals_weight, version.competencies_weight).items():
        add(field, message)
    add("weights", section_weights_problem(version.goals_weight, version.competencies_weight))
    if version.goals_weight > 0 and version.goals_scale_id is None:
        add("goals_scale", "Choose the rating scale for the goals section.")
    if not rows:
        add("competencies", "Add at least one competency.")
    add("competencies", competency_weights_problem([(row.competency.name, row.weight) for row in rows]))
    for row in rows:
        if row.competency.is_retired:
            add("competencies", f"“{row.competency.name}” is retired; remove it before publishing.")
    return problems

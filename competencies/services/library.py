"""Writes for the library: competencies with their behavioural indicators, and rating scales with their levels.

HR admins only. Indicators and levels are replaced as a whole and validated
together, since "values strictly increase" is a rule about all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from competencies import validation
from competencies.models import (
    BehaviouralIndicator,
    Competency,
    CompetencyStatus,
    FormCompetency,
    FormVersion,
    Methodology,
    RatingScale,
    ScaleLevel,
)
from competencies.services._common import apply, require_hr, save_or_explain, save_versioned
from competencies.validation import LevelSpec

LIBRARY_ONLY_HR = "Only HR admins can change the competency library."
SCALES_ONLY_HR = "Only HR admins can change rating scales."

# ---------------------------------------------------------------- competencies

COMPETENCY_FIELDS = frozenset({"name", "description", "category", "status"})


def competency_create(
    *,
    user,
    name: str,
    description: str = "",
    category: str = "Quality improvement",
    indicators: Sequence[str] = (),
) -> Competency:
    """A new, active competency. ``indicators`` are texts lowest level first: level n is the n-th."""
    require_hr(user, LIBRARY_ONLY_HR)
    competency = Competency()
    apply(competency, {"name": name, "description": description, "category": category}, COMPETENCY_FIELDS)
    validation.validate_indicators(indicators)
    with transaction.atomic():
        competency.full_clean()
        save_or_explain(competency)
        _replace_indicators(competency, indicators)
    return competency


def competency_update(
    *,
    user,
    competency: Competency,
    expected_version: int | None,
    data: Mapping[str, object],
    indicators: Sequence[str] | None = None,
) -> Competency:
    """Change name, description, category or status (active/retired), and optionally replace the indicators.

    Published forms keep the wording they were published with; drafts show the new wording.
    """
    require_hr(user, LIBRARY_ONLY_HR)
    if indicators is not None:
        validation.validate_indicators(indicators)
    with transaction.atomic():
        apply(competency, data, COMPETENCY_FIELDS)
        competency.full_clean()
        save_versioned(Competency, competency, expected_version)
        if indicators is not None:
            _replace_indicators(competency, indicators)
    return competency


def competency_retire(*, user, competency: Competency, expected_version: int | None) -> Competency:
    """A retired competency stays on the forms that use it but cannot be added to a draft."""
    return competency_update(
        user=user, competency=competency, expected_version=expected_version, data={"status": CompetencyStatus.RETIRED}
    )


def competency_reinstate(*, user, competency: Competency, expected_version: int | None) -> Competency:
    return competency_update(
        user=user, competency=competency, expected_version=expected_version, data={"status": CompetencyStatus.ACTIVE}
    )


def _replace_indicators(competency: Competency, texts: Sequence[str]) -> None:
    competency.indicators.all().delete()
    BehaviouralIndicator.objects.bulk_create(
        BehaviouralIndicator(competency=competency, level=level, text=text.strip())
        for level, text in enumerate(texts, start=1)
    )


# ---------------------------------------------------------------- rating scales

SCALE_FIELDS = frozenset({"name", "methodology", "description"})


def scale_create(
    *,
    user,
    name: str,
    levels: Iterable[LevelSpec | Mapping[str, object]],
    methodology: str = Methodology.GENERIC,
    description: str = "",
) -> RatingScale:
    """A scale with its levels, lowest first (each a LevelSpec or a mapping of value, label, descriptor)."""
    require_hr(user, SCALES_ONLY_HR)
    specs = validation.level_specs(levels)
    validation.validate_levels(specs)
    scale = RatingScale()
    apply(scale, {"name": name, "methodology": methodology, "description": description}, SCALE_FIELDS)
    with transaction.atomic():
        scale.full_clean()
        save_or_explain(scale)
        _write_levels(scale, specs)
    return scale


def scale_update(
    *,
    user,
    scale: RatingScale,
    expected_version: int | None,
    data: Mapping[str, object],
    levels: Iterable[LevelSpec | Mapping[str, object]] | None = None,
) -> RatingScale:
    """Rename or describe a scale, and optionally replace its levels as a whole.

    Levels cannot change once a published form uses the scale (the ratings given on it
    would change meaning); sending the same levels again is not a change.
    """
    require_hr(user, SCALES_ONLY_HR)
    specs = None
    if levels is not None:
        specs = validation.level_specs(levels)
        validation.validate_levels(specs)
    with transaction.atomic():
        apply(scale, data, SCALE_FIELDS)
        scale.full_clean()
        save_versioned(RatingScale, scale, expected_version)
        if specs is not None and specs != current_levels(scale):
            if scale.is_locked():
                raise ValidationError({"levels": scale.locked_message()})
            scale.levels.all().delete()
            _write_levels(scale, specs)
    return scale


def scale_delete(*, user, scale: RatingScale) -> None:
    """Only a scale no form version uses; a used one stays, for the ratings given on it."""
    require_hr(user, SCALES_ONLY_HR)
    used = FormVersion.objects.filter(goals_scale=scale).exists() or FormCompetency.objects.filter(scale=scale).exists()
    if used:
        raise ValidationError(f"“{scale.name}” is used by an appraisal form, so it cannot be deleted.")
    with transaction.atomic():
        scale.levels.all().delete()
        scale.delete()


def current_levels(scale: RatingScale) -> list[LevelSpec]:
    return [
        LevelSpec(value=lv.value, label=lv.label, descriptor=lv.descriptor) for lv in scale.levels.order_by("order")
    ]


def _write_levels(scale: RatingScale, specs: Sequence[LevelSpec]) -> None:
    ScaleLevel.objects.bulk_create(
        ScaleLevel(
            scale=scale, order=order, value=spec.value, label=spec.label.strip(), descriptor=spec.descriptor.strip()
        )
        for order, spec in enumerate(specs, start=1)
    )

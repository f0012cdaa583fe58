"""Writes for the library: competencies with their behavioural indicators, and rating scales with their levels.

HR admins only (competencies.access). Indicators and levels are replaced as a whole and
validated together, since "values strictly increase" is a rule about all of them at once.
Every change is written to the action log in its transaction, old → new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from competencies import access
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
from competencies.services import validation
from competencies.services._common import apply, changes_since, save_or_explain, save_versioned, stored
from competencies.services.validation import LevelSpec
from core.access import deny_unless
from core.log import log_action

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
    deny_unless(access.can_manage_library(user), access.LIBRARY_ONLY_HR)
    competency = Competency()
    apply(competency, {"name": name, "description": description, "category": category}, COMPETENCY_FIELDS)
    validation.validate_indicators(indicators)
    with transaction.atomic():
        competency.full_clean()
        save_or_explain(competency)
        _replace_indicators(competency, indicators)
        log_action(
            competency,
            "competency.created",
            user=user,
            data={"name": competency.name, "category": competency.category, "indicators": list(indicators)},
        )
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
    deny_unless(access.can_manage_library(user), access.LIBRARY_ONLY_HR)
    if indicators is not None:
        validation.validate_indicators(indicators)
    with transaction.atomic():
        before = stored(Competency, competency.pk, COMPETENCY_FIELDS)
        apply(competency, data, COMPETENCY_FIELDS)
        competency.full_clean()
        save_versioned(Competency, competency, expected_version)
        changes = changes_since(before, competency)
        if indicators is not None:
            old = list(competency.indicators.order_by("level").values_list("text", flat=True))
            _replace_indicators(competency, indicators)
            changes["indicators"] = (old, [text.strip() for text in indicators])
        log_action(competency, _competency_action(before["status"], competency.status), user=user, changes=changes)
    return competency


def _competency_action(old_status: object, new_status: str) -> str:
    if old_status != new_status:
        return "competency.retired" if new_status == CompetencyStatus.RETIRED else "competency.reinstated"
    return "competency.updated"


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
    deny_unless(access.can_manage_scales(user), access.SCALES_ONLY_HR)
    specs = validation.level_specs(levels)
    validation.validate_levels(specs)
    scale = RatingScale()
    apply(scale, {"name": name, "methodology": methodology, "description": description}, SCALE_FIELDS)
    with transaction.atomic():
        scale.full_clean()
        save_or_explain(scale)
        _write_levels(scale, specs)
        log_action(
            scale,
            "rating_scale.created",
            user=user,
            data={"name": scale.name, "methodology": scale.methodology, "levels": _logged(specs)},
        )
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
    deny_unless(access.can_manage_scales(user), access.SCALES_ONLY_HR)
    specs = None
    if levels is not None:
        specs = validation.level_specs(levels)
        validation.validate_levels(specs)
    with transaction.atomic():
        before = stored(RatingScale, scale.pk, SCALE_FIELDS)
        apply(scale, data, SCALE_FIELDS)
        scale.full_clean()
        save_versioned(RatingScale, scale, expected_version)
        changes = changes_since(before, scale)
        old_levels = current_levels(scale)
        if specs is not None and specs != old_levels:
            if scale.is_locked():
                raise ValidationError({"levels": scale.locked_message()})
            scale.levels.all().delete()
            _write_levels(scale, specs)
            changes["levels"] = (_logged(old_levels), _logged(specs))
        log_action(scale, "rating_scale.updated", user=user, changes=changes)
    return scale


def scale_delete(*, user, scale: RatingScale) -> None:
    """Only a scale no form version uses; a used one stays, for the ratings given on it."""
    deny_unless(access.can_manage_scales(user), access.SCALES_ONLY_HR)
    used = FormVersion.objects.filter(goals_scale=scale).exists() or FormCompetency.objects.filter(scale=scale).exists()
    if used:
        raise ValidationError(f"“{scale.name}” is used by an appraisal form, so it cannot be deleted.")
    with transaction.atomic():
        log_action(scale, "rating_scale.deleted", user=user, data={"name": scale.name})
        scale.levels.all().delete()
        scale.delete()


def current_levels(scale: RatingScale) -> list[LevelSpec]:
    return [
        LevelSpec(value=lv.value, label=lv.label, descriptor=lv.descriptor) for lv in scale.levels.order_by("order")
    ]


def _logged(specs: Sequence[LevelSpec]) -> list[list[object]]:
    """Levels as the log keeps them: [value, label] lowest first."""
    return [[spec.value, spec.label.strip()] for spec in specs]


def _write_levels(scale: RatingScale, specs: Sequence[LevelSpec]) -> None:
    ScaleLevel.objects.bulk_create(
        ScaleLevel(
            scale=scale, order=order, value=spec.value, label=spec.label.strip(), descriptor=spec.descriptor.strip()
        )
        for order, spec in enumerate(specs, start=1)
    )

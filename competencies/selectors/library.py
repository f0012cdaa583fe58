"""Reads for the competency library and the rating scales, scoped by competencies.access."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from competencies import access
from competencies.models import Competency, CompetencyStatus, FormCompetency, FormVersion, RatingScale, VersionStatus
from core.access import get_visible_or_404

UNCATEGORISED = "Uncategorised"


def competencies(*, user) -> QuerySet[Competency]:  # type: ignore[no-untyped-def]
    """The library as this person may read it, with its indicators."""
    return access.competencies_visible_to(user).prefetch_related("indicators")


def get_competency(*, user, pk: object) -> Competency:  # type: ignore[no-untyped-def]
    return get_visible_or_404(competencies(user=user), pk=pk)


def library_by_category(*, user, status: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The library page's groups: competencies with ``status`` (any other value: all), by category,
    each counting its indicators and the forms using it that this person may see (HR: drafts too)."""
    rows = access.competencies_visible_to(user)
    if status in CompetencyStatus.values:
        rows = rows.filter(status=status)
    visible = Q(form_rows__version__in=access.form_versions_visible_to(user))
    rows = rows.annotate(
        indicator_count=Count("indicators", distinct=True),
        form_count=Count("form_rows__version__form", filter=visible, distinct=True),
    ).order_by(Lower("category"), Lower("name"), "pk")
    groups: dict[str, dict[str, object]] = {}
    for competency in rows:
        category = competency.category.strip() or UNCATEGORISED
        group = groups.setdefault(category.casefold(), {"category": category, "competencies": []})
        group["competencies"].append(competency)  # type: ignore[union-attr]
    return list(groups.values())


def categories() -> list[str]:
    """Categories already in use, for the category field's suggestions."""
    names = Competency.objects.exclude(category="").values_list("category", flat=True).distinct()
    return sorted(set(names), key=str.casefold)


def versions_using(*, user, condition: Q) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The appraisal forms (with their version numbers and states) this person may see whose versions
    match ``condition`` — those that use a competency or a scale."""
    versions = (
        access.form_versions_visible_to(user)
        .select_related("form")
        .filter(condition)
        .distinct()
        .order_by(Lower("form__name"), "form_id", "number")
    )
    forms: dict[int, dict[str, object]] = {}
    for version in versions:
        entry = forms.setdefault(version.form_id, {"form": version.form, "versions": []})
        entry["versions"].append(version)  # type: ignore[union-attr]
    return list(forms.values())


# ---------------------------------------------------------------- rating scales


def with_lock_state(scales: QuerySet[RatingScale]) -> QuerySet[RatingScale]:
    """``locked``, as RatingScale.is_locked() answers it, for a whole list in one query."""
    frozen = ~Q(status=VersionStatus.DRAFT)
    for_goals = FormVersion.objects.filter(frozen, goals_scale=OuterRef("pk"))
    for_competencies = FormCompetency.objects.filter(scale=OuterRef("pk")).exclude(version__status=VersionStatus.DRAFT)
    return scales.annotate(locked=Exists(for_goals) | Exists(for_competencies))


def rating_scales(*, user) -> QuerySet[RatingScale]:  # type: ignore[no-untyped-def]
    """The scales this person may read, with their levels and whether a published form locks them."""
    return with_lock_state(access.rating_scales_visible_to(user).prefetch_related("levels"))


def get_scale(*, user, pk: object) -> RatingScale:  # type: ignore[no-untyped-def]
    return get_visible_or_404(rating_scales(user=user), pk=pk)

"""Reads for the competencies app: who sees which forms and versions, and which form applies to whom.

Visibility: the competency library and the rating scales are not secret; anyone
signed in reads them. Published (and retired) form versions are readable by
anyone signed in; drafts are HR's work in progress and answer 404 to everyone
else, as does a form that has never been published.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from competencies import validation
from competencies.models import (
    AppraisalForm,
    AssignmentRule,
    Competency,
    FormCompetency,
    FormVersion,
    RatingScale,
    VersionStatus,
)
from people import selectors as people
from people.models import Department, Employee

# ---------------------------------------------------------------- the library


def competencies_visible_to(*, user) -> QuerySet[Competency]:
    if not user.is_authenticated:
        return Competency.objects.none()
    return Competency.objects.prefetch_related("indicators")


def get_competency(*, user, pk: int) -> Competency:
    try:
        return competencies_visible_to(user=user).get(pk=pk)
    except (Competency.DoesNotExist, ValueError):
        raise Http404("No such competency.") from None


def scales_visible_to(*, user) -> QuerySet[RatingScale]:
    if not user.is_authenticated:
        return RatingScale.objects.none()
    return RatingScale.objects.prefetch_related("levels")


def get_scale(*, user, pk: int) -> RatingScale:
    try:
        return scales_visible_to(user=user).get(pk=pk)
    except (RatingScale.DoesNotExist, ValueError):
        raise Http404("No such rating scale.") from None


# ---------------------------------------------------------------- forms and versions


def forms_visible_to(*, user) -> QuerySet[AppraisalForm]:
    """HR sees every form; anyone else signed in, the forms with a published version."""
    if not user.is_authenticated:
        return AppraisalForm.objects.none()
    forms = AppraisalForm.objects.all()
    if people.is_hr_admin(user):
        return forms
    published = FormVersion.objects.filter(form=OuterRef("pk"), status=VersionStatus.PUBLISHED)
    return forms.filter(Exists(published))


def get_form(*, user, pk: int) -> AppraisalForm:
    try:
        return forms_visible_to(user=user).get(pk=pk)
    except (AppraisalForm.DoesNotExist, ValueError):
        raise Http404("No such appraisal form.") from None


def versions_visible_to(*, user, form: AppraisalForm | None = None) -> QuerySet[FormVersion]:
    """HR sees drafts too; anyone else the published and retired versions of forms they may see."""
    versions = FormVersion.objects.select_related("form", "goals_scale")
    if form is not None:
        versions = versions.filter(form=form)
    if people.is_hr_admin(user):
        return versions
    return versions.filter(form__in=forms_visible_to(user=user)).exclude(status=VersionStatus.DRAFT)


def get_version(*, user, form: AppraisalForm, number: int) -> FormVersion:
    try:
        return versions_visible_to(user=user, form=form).get(number=number)
    except (FormVersion.DoesNotExist, ValueError):
        raise Http404("No such version of this form.") from None


def published_version(form: AppraisalForm) -> FormVersion | None:
    """The version new cycles take; None when the form is not (or no longer) published."""
    return form.versions.filter(status=VersionStatus.PUBLISHED).first()


def draft_of(form: AppraisalForm) -> FormVersion | None:
    """The form's one draft, if HR is editing it."""
    return form.versions.filter(status=VersionStatus.DRAFT).first()


def with_rows(versions: QuerySet[FormVersion]) -> QuerySet[FormVersion]:
    """Versions with their competency rows (competency, indicators, scale, levels) and questions: no query per row."""
    rows = FormCompetency.objects.select_related("competency", "scale").prefetch_related(
        "competency__indicators", "scale__levels"
    )
    return versions.select_related("goals_scale").prefetch_related(
        Prefetch("competencies", queryset=rows), "questions", "goals_scale__levels"
    )


def version_problems(version: FormVersion) -> dict[str, list[str]]:
    """What stops this version being published (empty when nothing does): the builder shows it live."""
    rows = list(version.competencies.select_related("competency").order_by("order", "pk"))
    return validation.publish_problems(version, rows)


def version_balance(version: FormVersion) -> validation.Balance:
    """Results against process for the builder's balance bar and its "over-emphasis on end results" warning."""
    return validation.balance(version)


# ---------------------------------------------------------------- which form applies to whom

# Most specific first: job title and department, job title, department, the default.
TIER_TITLE_AND_DEPARTMENT, TIER_TITLE, TIER_DEPARTMENT, TIER_DEFAULT = range(4)


def form_for(employee: Employee) -> FormVersion | None:
    """The published version of the form that applies to this person, or None.

    [4/6] calls this (or ``forms_for`` for many people) when a cycle is launched.
    """
    return forms_for([employee])[employee.pk]


def forms_for(employees: Iterable[Employee]) -> dict[int, FormVersion | None]:
    """Employee id → the published version that applies, in three queries whatever the number of people.

    A rule matches by job title (exact, ignoring case and surrounding spaces) and/or
    department (the person's department or one above it). The most specific kind of
    matching rule wins — job title and department, then job title, then department, then
    the default. Among rules of one kind (department rules for a ward and for its
    division, say) the lowest priority number wins, then the nearest department, then the
    oldest rule. A rule whose form has no published version is skipped, so the next rule
    down applies.
    """
    employees = list(employees)
    rules = list(AssignmentRule.objects.all())
    published = {
        v.form_id: v
        for v in FormVersion.objects.select_related("form").filter(
            status=VersionStatus.PUBLISHED, form_id__in={r.form_id for r in rules}
        )
    }
    usable = [r for r in rules if r.form_id in published]
    parents: dict[int, int | None] = {}
    if any(r.department_id for r in usable):
        parents = dict(Department.objects.values_list("pk", "parent_id"))
    result: dict[int, FormVersion | None] = {}
    for employee in employees:
        rule = _best_rule(usable, employee, _distances(employee.department_id, parents))
        result[employee.pk] = published[rule.form_id] if rule else None
    return result


def _distances(department_id: int | None, parents: dict[int, int | None]) -> dict[int, int]:
    """The person's department at 0, its parent at 1, and so on up the tree."""
    distances: dict[int, int] = {}
    current = department_id
    while current is not None and current not in distances:
        distances[current] = len(distances)
        current = parents.get(current)
    return distances


def _best_rule(rules: list[AssignmentRule], employee: Employee, distances: dict[int, int]) -> AssignmentRule | None:
    title = employee.job_title.strip().casefold()
    best_key, best = None, None
    for rule in rules:
        if rule.is_default:
            tier, distance = TIER_DEFAULT, 0
        else:
            if rule.job_title and rule.job_title.strip().casefold() != title:
                continue
            if rule.department_id and rule.department_id not in distances:
                continue
            distance = distances.get(rule.department_id, 0) if rule.department_id else 0
            if rule.job_title and rule.department_id:
                tier = TIER_TITLE_AND_DEPARTMENT
            elif rule.job_title:
                tier = TIER_TITLE
            else:
                tier = TIER_DEPARTMENT
        key = (tier, rule.priority, distance, rule.pk)
        if best_key is None or key < best_key:
            best_key, best = key, rule
    return best

"""Reads for assignment rules: which appraisal form applies to whom."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from competencies import access
from competencies.models import AssignmentRule, FormVersion, VersionStatus
from core.inputs import id_or_none
from people import access as people_access
from people.models import Department, Employee

LOOKUP_LIMIT = 20

# Most specific first: job title and department, job title, department, the default.
TIER_TITLE_AND_DEPARTMENT, TIER_TITLE, TIER_DEPARTMENT, TIER_DEFAULT = range(4)


def rules_with_published(*, user) -> list[tuple[AssignmentRule, int | None]]:  # type: ignore[no-untyped-def]
    """Every rule, defaults last, each with the number of its form's published version (None: skipped)."""
    rules = access.rules_visible_to(user).select_related("form", "department").order_by("is_default", "priority", "pk")
    published = dict(FormVersion.objects.published().values_list("form_id", "number"))
    return [(rule, published.get(rule.form_id)) for rule in rules]


def get_rule(*, user, raw: str) -> AssignmentRule | None:  # type: ignore[no-untyped-def]
    """The rule named by a posted or queried id, if it (still) exists."""
    pk = id_or_none(raw)
    return access.rules_visible_to(user).filter(pk=pk).first() if pk else None


def who_gets_what(*, user, query: str) -> list[tuple[Employee, FormVersion | None]]:  # type: ignore[no-untyped-def]
    """The rules page's lookup: people this user may see matching ``query`` (name, employee id,
    username or job title), at most LOOKUP_LIMIT, each with the published version that applies."""
    if not query:
        return []
    found = list(
        people_access.employees_visible_to(user)
        .filter(
            Q(full_name__icontains=query)
            | Q(employee_id__iexact=query)
            | Q(user__username__iexact=query)
            | Q(job_title__icontains=query)
        )
        .order_by("full_name")[:LOOKUP_LIMIT]
    )
    applying = forms_for(found)
    return [(person, applying[person.pk]) for person in found]


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

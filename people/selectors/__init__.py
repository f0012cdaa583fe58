"""Reads about people: reporting chains, the department tree, the people a user may see
(scoped by people.access).

Every function here issues a fixed number of queries, whatever the depth or
size of the organisation: the stored manager path turns "everyone under X"
into one prefix match and "X's chain" into one lookup by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.access import get_visible_or_404

# Who may see what is decided in people.access. The role predicates are re-exported here only
# for callers not yet moved to it; new code imports them from people.access.
from people.access import (  # noqa: F401
    employee_for_user,
    employees_visible_to,
    is_hr_admin,
    is_manager,
    is_quality_lead,
)
from people.models import Department, Employee


def with_is_manager(queryset: QuerySet[Employee]) -> QuerySet[Employee]:
    """Annotate ``is_manager``: a manager is anyone with at least one active report."""
    reports = Employee.objects.filter(manager=OuterRef("pk"), is_active=True)
    return queryset.annotate(is_manager=Exists(reports))


def get_visible_employee(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Employee:
    """One employee the user may see (HR: also people who have left), or 404 so that
    others' existence does not leak."""
    return get_visible_or_404(employees_visible_to(user, include_inactive=is_hr_admin(user)), pk=pk)


def reports_of(*, employee: Employee, direct_only: bool = False) -> QuerySet[Employee]:
    queryset = Employee.objects.filter(is_active=True).select_related("department")
    if direct_only:
        return queryset.filter(manager=employee)
    return queryset.filter(path__startswith=employee.path).exclude(pk=employee.pk)


def reporting_chain(*, employee: Employee) -> list[Employee]:
    """The managers above this person, the top of the organisation first (one query)."""
    ids = employee.chain_ids()
    if not ids:
        return []
    by_id = Employee.objects.select_related("department").in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


@dataclass
class DepartmentNode:
    department: Department
    children: list[DepartmentNode] = field(default_factory=list)
    headcount: int = 0


def department_tree() -> list[DepartmentNode]:
    """All departments as a forest, with active headcounts (one query)."""
    departments = list(
        Department.objects.select_related("head").annotate(
            active_count=Count("employees", filter=Q(employees__is_active=True))
        )
    )
    nodes = {d.pk: DepartmentNode(department=d, headcount=d.active_count) for d in departments}
    roots: list[DepartmentNode] = []
    for node in nodes.values():
        parent_id = node.department.parent_id
        (nodes[parent_id].children if parent_id in nodes else roots).append(node)
    return roots

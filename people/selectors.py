"""Reads about people: who a user may see, reporting chains, the department tree.

Every function here issues a fixed number of queries, whatever the depth or
size of the organisation: the stored manager path turns "everyone under X"
into one prefix match and "X's chain" into one lookup by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from people.models import Department, Employee


def employee_for_user(user: AbstractBaseUser | AnonymousUser) -> Employee | None:
    """The signed-in person's employee record, cached on the user for the request."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_throughline_employee"):
        user._throughline_employee = (  # type: ignore[union-attr]
            Employee.objects.select_related("department").filter(user=user, is_active=True).first()
        )
    return user._throughline_employee  # type: ignore[union-attr]


def is_hr_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:  # type: ignore[union-attr]
        return True
    employee = employee_for_user(user)
    return bool(employee and employee.is_hr_admin)


def is_quality_lead(user: AbstractBaseUser | AnonymousUser) -> bool:
    employee = employee_for_user(user)
    return bool(employee and employee.is_quality_lead)


def with_is_manager(queryset: QuerySet[Employee]) -> QuerySet[Employee]:
    """Annotate ``is_manager``: a manager is anyone with at least one active report."""
    reports = Employee.objects.filter(manager=OuterRef("pk"), is_active=True)
    return queryset.annotate(is_manager=Exists(reports))


def is_manager(employee: Employee) -> bool:
    return Employee.objects.filter(manager=employee, is_active=True).exists()


def employees_visible_to(
    *, user: AbstractBaseUser | AnonymousUser, include_inactive: bool = False
) -> QuerySet[Employee]:
    """Everyone this user may see: HR sees all; anyone else sees themselves and
    their direct and indirect reports; a user without an employee record sees no one."""
    queryset = Employee.objects.select_related("department", "manager")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    if is_hr_admin(user):
        return queryset
    employee = employee_for_user(user)
    if employee is None:
        return queryset.none()
    return queryset.filter(path__startswith=employee.path)


def get_visible_employee(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Employee:
    """One employee the user may see, or 404 so that others' existence does not leak."""
    try:
        return employees_visible_to(user=user, include_inactive=is_hr_admin(user)).get(pk=pk)
    except Employee.DoesNotExist:
        raise Http404("No such person.") from None


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

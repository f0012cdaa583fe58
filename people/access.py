"""Who may see and do what about people — the one place that decides it.

The shape every app's ``access.py`` follows: ``<things>_visible_to(user)`` querysets (what a
user may see; a record outside them answers 404) and ``can_<verb>(user[, obj])`` checks
(what they may do; a role-reserved page or endpoint answers 403). The role predicates
(``is_hr_admin``, ``is_quality_lead``, ``is_manager``) live here too, because every other
app's rules are built from them: import them from ``people.access``.

Views, the API, selectors, templates and services ask these functions; none re-derives a rule.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from people.models import Department, Employee, OrgChartImport

User = AbstractBaseUser | AnonymousUser

HR_ONLY = "Only HR admins may do this."
HR_ONLY_HISTORY = "Only HR admins may read the action log."
HR_ONLY_IMPORT = "Only HR admins may import the org chart."
HR_ONLY_PEOPLE = "Only HR admins may change people and departments."
HR_ONLY_SIGN_IN_LOCKS = "Only HR admins may see and lift sign-in locks."


# ---------------------------------------------------------------- who the user is


def employee_for_user(user: User) -> Employee | None:
    """The signed-in person's active employee record, cached on the user for the request."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_throughline_employee"):
        user._throughline_employee = (  # type: ignore[union-attr]
            Employee.objects.select_related("department").filter(user=user, is_active=True).first()
        )
    return user._throughline_employee  # type: ignore[union-attr]


# ---------------------------------------------------------------- roles


def is_hr_admin(user: User) -> bool:
    """HR admins (and superusers) set the organisation up and see everyone."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:  # type: ignore[union-attr]
        return True
    employee = employee_for_user(user)
    return bool(employee and employee.is_hr_admin)


def is_quality_lead(user: User) -> bool:
    employee = employee_for_user(user)
    return bool(employee and employee.is_quality_lead)


def is_manager(employee: Employee) -> bool:
    """A manager is anyone with at least one active report."""
    return Employee.objects.filter(manager=employee, is_active=True).exists()


# ---------------------------------------------------------------- what a user may see


def employees_visible_to(user: User, *, include_inactive: bool = False) -> QuerySet[Employee]:
    """Everyone this user may see: HR sees all; anyone else sees themselves and their direct
    and indirect reports; a user without an employee record sees no one."""
    queryset = Employee.objects.select_related("department", "manager")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    if is_hr_admin(user):
        return queryset
    employee = employee_for_user(user)
    if employee is None:
        return queryset.none()
    return queryset.filter(path__startswith=employee.path)


def departments_visible_to(user: User) -> QuerySet[Department]:
    """Departments are not secret: everyone signed in sees the whole tree."""
    if not user.is_authenticated:
        return Department.objects.none()
    return Department.objects.all()


def imports_visible_to(user: User) -> QuerySet[OrgChartImport]:
    """Org-chart imports are HR's business; to anyone else they do not exist (404)."""
    if not is_hr_admin(user):
        return OrgChartImport.objects.none()
    return OrgChartImport.objects.all()


# ---------------------------------------------------------------- what a user may do


def can_manage_people(user: User) -> bool:
    """Create and edit people and departments, including their roles."""
    return is_hr_admin(user)


def can_import_org_chart(user: User) -> bool:
    return is_hr_admin(user)


def can_read_action_log(user: User) -> bool:
    """The action log (who changed what, across the organisation) is HR's to read."""
    return is_hr_admin(user)


def can_unlock_sign_ins(user: User) -> bool:
    """See who is locked out of signing in (accounts and addresses) and lift a lock."""
    return is_hr_admin(user)

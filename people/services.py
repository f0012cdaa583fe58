"""Writes about people. Every change to who reports to whom goes through here,
because the stored manager paths must move with it."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from axes.models import AccessAttempt
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr

from core.access import deny_unless
from core.errors import ConflictError
from core.log import changed, diff, log_action, snapshot
from people import access, bulk
from people.models import PATH_SEPARATOR, Department, Employee
from people.selectors.sign_in_locks import ACCOUNT, ADDRESS

UserModel = get_user_model()
User = AbstractBaseUser


def department_create(
    *, name: str, parent: Department | None = None, head: Employee | None = None, user: User | None = None
) -> Department:
    with transaction.atomic():
        department = Department(name=name.strip(), parent=parent, head=head)
        department.full_clean()
        department.save()
        log_action(
            department,
            "department.created",
            user=user,
            changes={name: (None, value) for name, value in snapshot(department, DEPARTMENT_FIELDS).items()},
        )
    return department


DEPARTMENT_FIELDS = ("name", "parent", "head")


def department_update(*, department: Department, data: Mapping[str, object], user: User | None = None) -> Department:
    """Rename a department, change its head or move it under another (never into a loop)."""
    unknown = set(data) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    with transaction.atomic():
        current = Department.objects.select_for_update().get(pk=department.pk)
        before = snapshot(current, DEPARTMENT_FIELDS)
        if "parent" in data:
            _check_parent(current, data["parent"])  # type: ignore[arg-type]
        for name, value in data.items():
            setattr(current, name, value.strip() if isinstance(value, str) else value)
        current.full_clean()
        current.save(update_fields=list(DEPARTMENT_FIELDS))
        changes = diff(before, current)
        if changed(changes):
            log_action(current, "department.updated", user=user, changes=changes)
    for name in DEPARTMENT_FIELDS:
        setattr(department, name, getattr(current, name))
    return department


def department_set_parent(*, department: Department, parent: Department | None, user: User | None = None) -> Department:
    """Move a department under another, refusing to make the tree a loop."""
    return department_update(department=department, data={"parent": parent}, user=user)


def _check_parent(department: Department, parent: Department | None) -> None:
    ancestor = parent
    seen: set[int] = set()
    while ancestor is not None and ancestor.pk not in seen:
        if ancestor.pk == department.pk:
            raise ValidationError({"parent": "A department cannot sit under itself or one of its own sub-departments."})
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


def employee_create(
    *,
    employee_id: str,
    full_name: str,
    email: str,
    department: Department,
    username: str | None = None,
    manager: Employee | None = None,
    job_title: str = "",
    hire_date: datetime.date | None = None,
    is_hr_admin: bool = False,
    is_quality_lead: bool = False,
    password: str | None = None,
    user: User | None = None,
) -> Employee:
    """A new person with their sign-in account; ``user`` is who creates them (for the log)."""
    actor = user
    with transaction.atomic():
        user = UserModel(username=username or email.lower(), email=email.lower(), is_staff=is_hr_admin)
        first, _, last = full_name.partition(" ")
        user.first_name, user.last_name = first[:150], last[:150]
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        employee = Employee(
            user=user,
            employee_id=employee_id,
            full_name=full_name,
            department=department,
            manager=manager,
            job_title=job_title,
            hire_date=hire_date,
            is_hr_admin=is_hr_admin,
            is_quality_lead=is_quality_lead,
        )
        employee.full_clean(exclude=["user"])
        employee.save()
        employee.path = _path_for(employee.pk, manager)
        employee.save(update_fields=["path"])
        log_action(
            employee,
            "employee.created",
            user=actor,
            changes={name: (None, value) for name, value in snapshot(employee, LOGGED_FIELDS).items()},
            data={"employee_id": employee.employee_id},
        )
    return employee


EDITABLE_FIELDS = frozenset(
    {"full_name", "department", "manager", "job_title", "hire_date", "is_active", "is_hr_admin", "is_quality_lead"}
)
# What the action log records of a person, old → new (roles, reporting line and status included).
LOGGED_FIELDS = (
    "full_name",
    "department",
    "manager",
    "job_title",
    "hire_date",
    "is_active",
    "is_hr_admin",
    "is_quality_lead",
)
# A change to one of these is also a change of who may see or do what: the log names it apart.
ROLE_FIELDS = frozenset({"is_hr_admin", "is_quality_lead", "manager", "department", "is_active"})


def employee_update(
    *, employee: Employee, expected_version: int | None, data: Mapping[str, object], user: User | None = None
) -> Employee:
    """Apply an edit read at ``expected_version``; a newer save in between is a conflict.

    Moving someone to a new manager moves their whole team with them. ``user`` is who
    makes the edit: the log entry names them.
    """
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    with transaction.atomic():
        current = Employee.objects.select_for_update().get(pk=employee.pk)
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        old_path = current.path
        before = snapshot(current, LOGGED_FIELDS)
        for name, value in data.items():
            setattr(current, name, value)
        if "manager" in data:
            check_manager(current, current.manager)
        current.full_clean(exclude=["user"])
        current.version = F("version") + 1
        current.save()
        if "manager" in data:
            new_path = _path_for(current.pk, current.manager)
            if new_path != old_path:
                _move_subtree(old_path, new_path)
        if {"is_hr_admin", "is_active", "full_name"} & set(data):
            _sync_user(current)
        current.refresh_from_db()
        changes = changed(diff(before, current))
        if changes:
            # "employee.roles_changed" when who they are in the organisation moved (a role,
            # their manager or department, leaving or returning); else a plain update.
            action = "employee.roles_changed" if ROLE_FIELDS & set(changes) else "employee.updated"
            log_action(current, action, user=user, changes=diff(before, current))
    return current


def _sync_user(employee: Employee) -> None:
    """Keep the sign-in account in step with the employee record it belongs to."""
    user = UserModel.objects.get(pk=employee.user_id)
    user.first_name, _, user.last_name = employee.full_name.partition(" ")
    user.first_name, user.last_name = user.first_name[:150], user.last_name[:150]
    user.is_active = employee.is_active
    # HR admins use the admin site; superusers keep their access whatever their HR flag says.
    user.is_staff = employee.is_hr_admin or user.is_superuser
    user.save(update_fields=["first_name", "last_name", "is_active", "is_staff"])


def check_manager(employee: Employee, manager: Employee | None) -> None:
    """Refuse a manager that would make the chain a loop (ValidationError on ``manager``)."""
    if manager is None:
        return
    if manager.pk == employee.pk:
        raise ValidationError({"manager": "A person cannot be their own manager."})
    if f"{PATH_SEPARATOR}{employee.pk}{PATH_SEPARATOR}" in manager.path:
        raise ValidationError(
            {"manager": f"{manager.full_name} reports to {employee.full_name}; that would make a loop in the chain."}
        )


def _path_for(pk: int, manager: Employee | None) -> str:
    prefix = manager.path if manager is not None else PATH_SEPARATOR
    return f"{prefix}{pk}{PATH_SEPARATOR}"


def _move_subtree(old_path: str, new_path: str) -> None:
    # One UPDATE rewrites the prefix of everyone under the moved person.
    Employee.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", Length(Value(old_path)) + 1))
    )


def compute_paths(manager_of: Mapping[int, int | None]) -> dict[int, str]:
    """Paths for a whole organisation from ``{employee_id: manager_id}``.

    Raises ValueError naming the people in a loop, if any.
    """
    paths: dict[int, str] = {}
    for start in manager_of:
        trail: list[int] = []
        on_trail: set[int] = set()
        node: int | None = start
        while node is not None and node not in paths:
            if node in on_trail:
                loop = trail[trail.index(node) :]
                raise ValueError(loop)
            trail.append(node)
            on_trail.add(node)
            node = manager_of.get(node)
        prefix = paths[node] if node is not None else PATH_SEPARATOR
        for member in reversed(trail):
            prefix = f"{prefix}{member}{PATH_SEPARATOR}"
            paths[member] = prefix
    return paths


def rebuild_paths() -> int:
    """Recompute every stored path from the manager links; returns how many changed."""
    rows = list(Employee.objects.values_list("pk", "manager_id", "path"))
    paths = compute_paths({pk: manager_id for pk, manager_id, _ in rows})
    changed = {pk: paths[pk] for pk, _, old in rows if paths[pk] != old}
    # One UPDATE on PostgreSQL (people.bulk): a bulk_update of 100,000 paths took minutes.
    bulk.set_values(Employee, "path", changed)
    return len(changed)


# ---------------------------------------------------------------- sign-in locks


def unlock_sign_in(*, kind: str, value: str, user: User) -> int:
    """HR lifts a sign-in lock: axes forgets every failure of the account (``kind`` ACCOUNT,
    ``value`` the username as typed) or from the address (ADDRESS), through its own reset.

    Returns how many failure records were forgotten; 0 when there were none (the lock had
    already lifted by itself), and then nothing is logged. The log entry sits on the person
    whose account it is, so it shows in their history; for an address, or a username that is
    no one's, on the newest failure record (gone after the reset; the entry keeps what it was).
    """
    deny_unless(access.can_unlock_sign_ins(user), access.HR_ONLY_SIGN_IN_LOCKS)
    if kind not in (ACCOUNT, ADDRESS) or not value:
        raise ValidationError("Say which account or address to unlock.")
    with transaction.atomic():
        lookup = {"username": value} if kind == ACCOUNT else {"ip_address": value}
        attempts = list(AccessAttempt.objects.select_for_update().filter(**lookup).order_by("-attempt_time"))
        if not attempts:
            return 0
        subject = Employee.objects.filter(user__username=value).first() if kind == ACCOUNT else None
        log_action(
            subject or attempts[0],
            "sign_in.unlocked",
            user=user,
            data={
                kind: value,
                "failures": sum(attempt.failures_since_start for attempt in attempts),
                "last_failure": attempts[0].attempt_time,
            },
        )
        return reset(username=value) if kind == ACCOUNT else reset(ip=value)

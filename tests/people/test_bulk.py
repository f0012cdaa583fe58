"""people.bulk: COPY on PostgreSQL, bulk_create elsewhere; the rows read back the same either way."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model

from people import bulk
from people.models import Department, Employee

User = get_user_model()
pytestmark = pytest.mark.django_db
AWKWARD = "Tab\there, new\nline, back\\slash, \\N, quote ' and “curly”"


def new_people(department: Department, names: list[str]) -> list[Employee]:
    users = [User(username=f"bulk{n}", email=f"bulk{n}@example.org") for n in range(len(names))]
    bulk.give_ids(users)
    bulk.copy_in(User, users)
    employees = [
        Employee(user_id=user.pk, employee_id=f"B{n}", full_name=name, department=department, job_title="")
        for n, (user, name) in enumerate(zip(users, names, strict=True))
    ]
    bulk.give_ids(employees)
    bulk.copy_in(Employee, employees)
    return employees


def test_copy_in_writes_every_field_as_given_and_the_defaults() -> None:
    department = Department.objects.create(name="Bulk")
    employees = new_people(department, [AWKWARD, "Plain Name"])
    stored = Employee.objects.select_related("user").get(employee_id="B0")
    assert stored.full_name == AWKWARD
    assert stored.user.username == "bulk0"
    assert stored.is_active and not stored.is_hr_admin and stored.version == 1
    assert stored.hire_date is None and stored.manager_id is None
    assert {e.pk for e in employees} == set(Employee.objects.filter(department=department).values_list("pk", flat=True))


def test_copy_values_fills_the_columns_not_given_with_their_defaults() -> None:
    department = Department.objects.create(name="Bulk")
    users = [User(username="rowuser", email="rowuser@example.org")]
    bulk.copy_in(User, users)
    user = User.objects.get(username="rowuser")
    written = bulk.copy_values(
        Employee,
        ("user_id", "employee_id", "full_name", "department_id", "hire_date"),
        [(user.pk, "R1", AWKWARD, department.pk, datetime.date(2020, 2, 29))],
    )
    assert written == 1
    stored = Employee.objects.get(employee_id="R1")
    assert (stored.full_name, stored.hire_date, stored.job_title, stored.path) == (
        AWKWARD,
        datetime.date(2020, 2, 29),
        "",
        "",
    )
    assert stored.is_active and stored.version == 1


def test_set_values_changes_only_the_rows_named() -> None:
    department = Department.objects.create(name="Bulk")
    first, second, third = new_people(department, ["A One", "B Two", "C Three"])
    changed = bulk.set_values(Employee, "manager_id", {second.pk: first.pk, third.pk: first.pk})
    assert changed == 2
    managers = dict(Employee.objects.filter(department=department).values_list("employee_id", "manager_id"))
    assert managers == {"B0": None, "B1": first.pk, "B2": first.pk}
    bulk.set_values(Employee, "path", {first.pk: f"/{first.pk}/"})
    assert Employee.objects.get(pk=first.pk).path == f"/{first.pk}/"
    assert Employee.objects.get(pk=second.pk).path == ""


def test_nothing_to_write_writes_nothing() -> None:
    assert bulk.copy_in(Employee, []) == 0
    assert bulk.copy_values(Employee, ("full_name",), []) == 0
    assert bulk.set_values(Employee, "path", {}) == 0

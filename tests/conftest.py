"""Shared fixtures: the four kinds of user every permission test needs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from people.models import Employee
from tests.factories import DepartmentFactory, EmployeeFactory


@dataclass
class Cast:
    """A small organisation: a chief over a manager over an employee, a
    stranger in another team, and an HR admin in HR."""

    chief: Employee
    manager: Employee
    employee: Employee
    stranger: Employee
    hr: Employee


@pytest.fixture
def cast(db) -> Cast:
    nursing = DepartmentFactory(name="Nursing")
    pharmacy = DepartmentFactory(name="Pharmacy")
    hr_dept = DepartmentFactory(name="HR")
    chief = EmployeeFactory(user__username="chief", full_name="Chief Nurse", department=nursing)
    manager = EmployeeFactory(user__username="manager", full_name="Ward Manager", department=nursing, manager=chief)
    employee = EmployeeFactory(user__username="employee", full_name="Staff Nurse", department=nursing, manager=manager)
    stranger = EmployeeFactory(user__username="stranger", full_name="Pharmacist", department=pharmacy)
    hr = EmployeeFactory(user__username="hradmin", full_name="HR Admin", department=hr_dept, is_hr_admin=True)
    hr.user.is_staff = True
    hr.user.save(update_fields=["is_staff"])
    return Cast(chief=chief, manager=manager, employee=employee, stranger=stranger, hr=hr)

"""Changing who reports to whom keeps every stored path right and never makes a loop."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.errors import ConflictError
from people import selectors, services
from people.models import Department, Employee
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_moving_a_manager_moves_their_whole_team(cast):
    services.employee_update(
        employee=cast.manager, expected_version=cast.manager.version, data={"manager": cast.stranger}
    )
    employee = Employee.objects.get(pk=cast.employee.pk)
    assert selectors.reporting_chain(employee=employee) == [cast.stranger, Employee.objects.get(pk=cast.manager.pk)]
    assert services.rebuild_paths() == 0  # the incremental move left nothing to repair


def test_it_refuses_a_manager_who_reports_to_the_person(cast):
    with pytest.raises(ValidationError) as excinfo:
        services.employee_update(employee=cast.chief, expected_version=None, data={"manager": cast.employee})
    assert "loop" in excinfo.value.message_dict["manager"][0]
    assert Employee.objects.get(pk=cast.chief.pk).manager is None


def test_it_refuses_being_ones_own_manager(cast):
    with pytest.raises(ValidationError):
        services.employee_update(employee=cast.chief, expected_version=None, data={"manager": cast.chief})


def test_it_refuses_a_stale_version(cast):
    services.employee_update(employee=cast.employee, expected_version=1, data={"job_title": "Senior nurse"})
    with pytest.raises(ConflictError):
        services.employee_update(employee=cast.employee, expected_version=1, data={"job_title": "Charge nurse"})
    assert Employee.objects.get(pk=cast.employee.pk).job_title == "Senior nurse"


def test_it_refuses_fields_that_are_not_editable(cast):
    with pytest.raises(ValidationError):
        services.employee_update(employee=cast.employee, expected_version=None, data={"path": "/1/"})


def test_granting_hr_admin_opens_the_admin_site(cast):
    services.employee_update(employee=cast.stranger, expected_version=None, data={"is_hr_admin": True})
    cast.stranger.user.refresh_from_db()
    assert cast.stranger.user.is_staff


def test_employee_create_sets_the_path_under_the_manager(cast):
    person = services.employee_create(
        employee_id="N1",
        full_name="New Nurse",
        email="new@example.org",
        department=cast.employee.department,
        manager=cast.employee,
    )
    assert person.path == f"{cast.employee.path}{person.pk}/"
    assert not person.user.has_usable_password()


def test_a_department_cannot_sit_under_its_own_child():
    top = services.department_create(name="Clinical")
    child = services.department_create(name="Wards", parent=top)
    with pytest.raises(ValidationError):
        services.department_set_parent(department=top, parent=child)
    assert Department.objects.get(pk=top.pk).parent is None


def test_compute_paths_names_the_people_in_a_loop():
    with pytest.raises(ValueError) as excinfo:
        services.compute_paths({1: None, 2: 3, 3: 4, 4: 2})
    assert set(excinfo.value.args[0]) == {2, 3, 4}


def test_rebuild_paths_repairs_a_damaged_path(cast):
    Employee.objects.filter(pk=cast.employee.pk).update(path="/broken/")
    assert services.rebuild_paths() == 1
    assert Employee.objects.get(pk=cast.employee.pk).path == f"{cast.manager.path}{cast.employee.pk}/"


def test_factories_leave_consistent_paths():
    top = EmployeeFactory()
    child = EmployeeFactory(manager=top)
    assert Employee.objects.get(pk=child.pk).path == f"/{top.pk}/{child.pk}/"

"""People's changes write the action log in the same transaction: who, what, old → new."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.errors import ConflictError
from core.models import ActionLogEntry
from people import services
from people.models import Department, Employee, OrgChartImport
from people.org_import import start_import
from people.selectors.history import entries_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = "employee_id,name,email,department,manager_id,job_title,hire_date\n"


def latest(obj) -> ActionLogEntry:
    return entries_for(obj).first()


def test_granting_a_role_is_logged_with_who_and_old_to_new(cast):
    services.employee_update(
        employee=cast.stranger, expected_version=None, data={"is_hr_admin": True}, user=cast.hr.user
    )
    entry = latest(cast.stranger)
    assert entry.action == "employee.roles_changed"
    # The name is kept with the entry, so it outlives the account (the cast's users have no full name).
    assert entry.actor == cast.hr.user and entry.actor_label == "hradmin"
    assert entry.changes == {"is_hr_admin": [False, True]}
    assert entry.object_repr == "Pharmacist"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("is_quality_lead", True, lambda cast: [False, True]),
        ("manager", "stranger", lambda cast: [cast.manager.pk, cast.stranger.pk]),
        ("department", "pharmacy", lambda cast: [cast.employee.department_id, cast.stranger.department_id]),
        ("is_active", False, lambda cast: [True, False]),
    ],
)
def test_each_change_of_standing_is_a_role_change(cast, field, value, expected):
    if value == "stranger":
        value = cast.stranger
    elif value == "pharmacy":
        value = cast.stranger.department
    services.employee_update(employee=cast.employee, expected_version=None, data={field: value}, user=cast.hr.user)
    entry = latest(cast.employee)
    assert entry.action == "employee.roles_changed"
    assert entry.changes == {field: expected(cast)}


def test_a_plain_edit_is_an_update_and_an_edit_that_changes_nothing_writes_nothing(cast):
    services.employee_update(
        employee=cast.employee, expected_version=None, data={"job_title": "Charge nurse"}, user=cast.hr.user
    )
    entry = latest(cast.employee)
    assert entry.action == "employee.updated"
    assert entry.changes == {"job_title": [cast.employee.job_title, "Charge nurse"]}
    services.employee_update(
        employee=cast.employee, expected_version=None, data={"job_title": "Charge nurse"}, user=cast.hr.user
    )
    assert entries_for(cast.employee).count() == 1


def test_a_refused_edit_writes_no_entry(cast):
    with pytest.raises(ValidationError):
        services.employee_update(employee=cast.chief, expected_version=None, data={"manager": cast.employee})
    with pytest.raises(ConflictError):
        services.employee_update(employee=cast.chief, expected_version=99, data={"job_title": "x"})
    assert not entries_for(cast.chief).exists()


def test_creating_a_person_logs_their_starting_values(cast):
    person = services.employee_create(
        employee_id="N9",
        full_name="New Nurse",
        email="n9@example.org",
        department=cast.employee.department,
        manager=cast.manager,
        is_quality_lead=True,
        user=cast.hr.user,
    )
    entry = latest(person)
    assert entry.action == "employee.created" and entry.actor == cast.hr.user
    assert entry.changes["manager"] == [None, cast.manager.pk]
    assert entry.changes["is_quality_lead"] == [None, True]


def test_department_changes_are_logged(cast):
    radiology = services.department_create(name="Radiology", user=cast.hr.user)
    assert latest(radiology).action == "department.created"
    services.department_set_parent(department=radiology, parent=cast.employee.department, user=cast.hr.user)
    entry = latest(radiology)
    assert entry.action == "department.updated"
    assert entry.changes == {"parent": [None, cast.employee.department_id]}
    services.department_update(department=radiology, data={"name": "Imaging"}, user=cast.hr.user)
    assert latest(radiology).changes == {"name": ["Radiology", "Imaging"]}
    assert Department.objects.get(pk=radiology.pk).name == "Imaging"


def test_the_api_edit_names_the_hr_admin_and_the_request(cast, api_client_for):
    response = api_client_for(cast.hr).patch(
        f"/api/v1/employees/{cast.employee.pk}/", {"version": 1, "is_quality_lead": True}, format="json"
    )
    assert response.status_code == 200
    entry = latest(cast.employee)
    assert entry.actor == cast.hr.user and entry.changes == {"is_quality_lead": [False, True]}
    assert f"/api/v1/employees/{cast.employee.pk}/" in entry.source


def test_an_import_logs_itself_and_each_person_it_created_or_changed(cast, django_capture_on_commit_callbacks):
    importer = cast.hr.user
    text = (
        HEADER
        + f"{cast.employee.employee_id},Staff Nurse,{cast.employee.user.email},Nursing,,Senior Nurse,\n"
        + "N1,Nia Brown,nia@example.org,Radiology,,Radiographer,2020-02-02\n"
        + "N2,Ned Brown,ned@example.org,Radiology,N1,Radiographer,2020-02-02\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        record = start_import(user=importer, file_name="org.csv", content=text.encode(), deactivate_missing=False)
    record = OrgChartImport.objects.get(pk=record.pk)
    actions = list(entries_for(record).values_list("action", flat=True))
    assert actions == ["org_import.applied", "org_import.started"]
    applied = latest(record)
    assert applied.actor == importer and applied.data["created"] == 2
    nia = Employee.objects.get(employee_id="N1")
    assert latest(nia).action == "employee.created" and latest(nia).data["import"] == record.pk
    assert latest(cast.employee).action == "employee.updated"
    radiology = Department.objects.get(name="Radiology")
    assert latest(radiology).action == "department.created"
    # Created people, the changed one and the new department: one entry each, all naming the import.
    assert ActionLogEntry.objects.filter(data__import=record.pk).count() == 4


def test_a_rejected_import_is_logged_and_changes_no_one(db, django_capture_on_commit_callbacks):
    importer = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        record = start_import(
            user=importer,
            file_name="org.csv",
            content=(HEADER + "X1,X,x@example.org,HR,NOPE,,\n").encode(),
            deactivate_missing=False,
        )
    assert latest(record).action == "org_import.rejected"
    assert latest(record).data == {"problems": 1}
    assert not Employee.objects.exists()

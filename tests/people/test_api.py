"""The people API: who may see and change what, list scoping, optimistic
locking, token authentication, org-chart imports and query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from people.models import Department, Employee, ImportStatus, OrgChartImport
from tests.factories import DepartmentFactory, EmployeeFactory, UserFactory

API = "/api/v1"
ROLES = ("chief", "manager", "employee", "stranger", "hr")


def url(template: str, cast) -> str:
    ids = {role: getattr(cast, role).pk for role in ROLES}
    ids["nursing"] = cast.employee.department_id
    return API + template.format(**ids)


def ids_of(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# ---------------------------------------------------------------- permissions

EDIT = {"version": 1, "job_title": "Charge nurse"}

PERMISSION_TABLE = [
    # Someone's record: themselves, their managers up the chain, and HR.
    ("employee", "get", "/employees/{employee}/", None, 200),
    ("manager", "get", "/employees/{employee}/", None, 200),
    ("chief", "get", "/employees/{employee}/", None, 200),
    ("stranger", "get", "/employees/{employee}/", None, 404),
    ("hr", "get", "/employees/{employee}/", None, 200),
    # Visibility runs down the chart, not up it.
    ("employee", "get", "/employees/{manager}/", None, 404),
    ("manager", "get", "/employees/{chief}/", None, 404),
    ("employee", "get", "/employees/{employee}/chain/", None, 200),
    ("chief", "get", "/employees/{employee}/chain/", None, 200),
    ("stranger", "get", "/employees/{employee}/chain/", None, 404),
    # Only HR edits people; outside your scope the record does not exist.
    ("employee", "patch", "/employees/{employee}/", EDIT, 403),
    ("manager", "patch", "/employees/{employee}/", EDIT, 403),
    ("chief", "patch", "/employees/{employee}/", EDIT, 403),
    ("stranger", "patch", "/employees/{employee}/", EDIT, 404),
    ("hr", "patch", "/employees/{employee}/", EDIT, 200),
    ("employee", "get", "/employees/me/", None, 200),
    ("hr", "get", "/employees/me/", None, 200),
    # Departments are not secret, but only HR changes them.
    ("employee", "get", "/departments/", None, 200),
    ("stranger", "get", "/departments/{nursing}/", None, 200),
    ("employee", "post", "/departments/", {"name": "Radiology"}, 403),
    ("manager", "post", "/departments/", {"name": "Radiology"}, 403),
    ("hr", "post", "/departments/", {"name": "Radiology"}, 201),
    ("chief", "patch", "/departments/{nursing}/", {"parent": None}, 403),
    ("hr", "patch", "/departments/{nursing}/", {"parent": None}, 200),
    # Importing is reserved to HR: the list and the upload answer 403, as the pages do
    # (a particular import answers 404: see test_an_import_is_404_to_anyone_but_hr).
    ("employee", "get", "/org-imports/", None, 403),
    ("manager", "get", "/org-imports/", None, 403),
    ("chief", "get", "/org-imports/", None, 403),
    ("stranger", "get", "/org-imports/", None, 403),
    ("hr", "get", "/org-imports/", None, 200),
    ("chief", "post", "/org-imports/", None, 403),
]


@pytest.mark.parametrize("role, method, template, body, expected", PERMISSION_TABLE)
def test_it_validates_ownership(cast, api_client_for, role, method, template, body, expected):
    client = api_client_for(getattr(cast, role))
    response = getattr(client, method)(url(template, cast), body, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    "method, template",
    [
        ("get", "/employees/"),
        ("get", "/employees/{employee}/"),
        ("get", "/employees/me/"),
        ("patch", "/employees/{employee}/"),
        ("get", "/departments/"),
        ("get", "/org-imports/"),
    ],
)
def test_it_refuses_anonymous_requests(cast, api_client_for, method, template):
    response = getattr(api_client_for(None), method)(url(template, cast), EDIT, format="json")
    # 403 while session authentication is listed first (it sends no WWW-Authenticate challenge).
    assert response.status_code in (401, 403)


def test_a_record_outside_scope_and_a_missing_one_look_the_same(cast, api_client_for):
    client = api_client_for(cast.stranger)
    hidden = client.get(url("/employees/{employee}/", cast))
    missing = client.get(f"{API}/employees/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# ---------------------------------------------------------------- lists


@pytest.mark.parametrize(
    "role, expected",
    [
        ("employee", {"employee"}),
        ("manager", {"manager", "employee"}),
        ("chief", {"chief", "manager", "employee"}),
        ("stranger", {"stranger"}),
        ("hr", set(ROLES)),
    ],
)
def test_each_user_lists_exactly_the_people_they_may_see(cast, api_client_for, role, expected):
    response = api_client_for(getattr(cast, role)).get(f"{API}/employees/")
    assert response.status_code == 200
    assert ids_of(response) == {getattr(cast, name).pk for name in expected}


def test_the_list_shows_the_fields_a_client_needs(cast, api_client_for):
    response = api_client_for(cast.manager).get(f"{API}/employees/", {"search": "Ward"})
    [row] = response.json()["results"]
    assert row == {
        "id": cast.manager.pk,
        "employee_id": cast.manager.employee_id,
        "full_name": "Ward Manager",
        "email": "manager@example.org",
        "department": {"id": cast.manager.department_id, "name": "Nursing"},
        "manager": {"id": cast.chief.pk, "name": "Chief Nurse"},
        "job_title": "Staff nurse",
        "hire_date": "2020-01-06",
        "is_active": True,
        "roles": [],
        "is_manager": True,
        "version": 1,
    }


def test_it_filters_by_department_manager_and_search(cast, api_client_for):
    client = api_client_for(cast.hr)
    nursing = cast.employee.department_id
    assert ids_of(client.get(f"{API}/employees/", {"department": nursing})) == {
        cast.chief.pk,
        cast.manager.pk,
        cast.employee.pk,
    }
    assert ids_of(client.get(f"{API}/employees/", {"manager": cast.manager.pk})) == {cast.employee.pk}
    assert ids_of(client.get(f"{API}/employees/", {"search": "pharm"})) == {cast.stranger.pk}
    assert ids_of(client.get(f"{API}/employees/", {"search": cast.hr.employee_id})) == {cast.hr.pk}


def test_only_hr_sees_people_who_have_left(cast, api_client_for):
    Employee.objects.filter(pk=cast.employee.pk).update(is_active=False)
    hr = api_client_for(cast.hr)
    assert cast.employee.pk not in ids_of(hr.get(f"{API}/employees/"))
    assert ids_of(hr.get(f"{API}/employees/", {"active": "false"})) == {cast.employee.pk}
    assert hr.get(url("/employees/{employee}/", cast)).status_code == 200
    manager = api_client_for(cast.manager)
    assert ids_of(manager.get(f"{API}/employees/", {"active": "false"})) == set()
    assert manager.get(url("/employees/{employee}/", cast)).status_code == 404


def test_it_refuses_a_malformed_filter_with_400(cast, api_client_for):
    response = api_client_for(cast.hr).get(f"{API}/employees/", {"department": "nursing", "active": "maybe"})
    assert response.status_code == 400
    assert set(response.json()) == {"department", "active"}


def test_the_employee_list_costs_the_same_queries_for_3_or_30_people(cast, api_client_for):
    nursing = Department.objects.get(name="Nursing")

    def queries_for_list(viewer: Employee) -> int:
        client = api_client_for(viewer)
        with CaptureQueriesContext(connection) as context:
            response = client.get(f"{API}/employees/")
        assert response.status_code == 200
        return len(context)

    EmployeeFactory.create_batch(3, department=nursing, manager=cast.manager)
    few = {role: queries_for_list(getattr(cast, role)) for role in ("hr", "chief")}
    EmployeeFactory.create_batch(27, department=nursing, manager=cast.manager)
    many = {role: queries_for_list(getattr(cast, role)) for role in ("hr", "chief")}
    assert few == many


def test_the_department_list_costs_the_same_queries_for_any_number_of_departments(cast, api_client_for):
    def queries() -> int:
        client = api_client_for(cast.employee)
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"{API}/departments/").status_code == 200
        return len(context)

    before = queries()
    for n in range(10):
        DepartmentFactory(name=f"Ward {n}", parent=Department.objects.get(name="Nursing"), head=cast.chief)
    assert queries() == before


# ---------------------------------------------------------------- me and the chain


def test_me_answers_with_the_signed_in_persons_roles_and_whether_they_manage(cast, api_client_for):
    manager = api_client_for(cast.manager).get(f"{API}/employees/me/").json()
    assert (manager["id"], manager["roles"], manager["is_manager"]) == (cast.manager.pk, [], True)
    employee = api_client_for(cast.employee).get(f"{API}/employees/me/").json()
    assert (employee["id"], employee["is_manager"]) == (cast.employee.pk, False)
    hr = api_client_for(cast.hr).get(f"{API}/employees/me/").json()
    assert hr["roles"] == ["HR admin"]


def test_me_is_404_for_a_user_without_an_employee_record(db):
    client = APIClient()
    client.force_authenticate(user=UserFactory(username="service-account"))
    assert client.get(f"{API}/employees/me/").status_code == 404


def test_the_chain_lists_the_managers_above_top_first(cast, api_client_for):
    response = api_client_for(cast.employee).get(url("/employees/{employee}/chain/", cast))
    assert [link["id"] for link in response.json()] == [cast.chief.pk, cast.manager.pk]
    assert response.json()[0]["department"]["name"] == "Nursing"


# ---------------------------------------------------------------- editing people


def patch_employee(client: APIClient, employee: Employee, body: dict):
    return client.patch(f"{API}/employees/{employee.pk}/", body, format="json")


def test_hr_edits_a_person_and_the_version_goes_up(cast, api_client_for):
    response = patch_employee(api_client_for(cast.hr), cast.employee, {"version": 1, "job_title": "Charge nurse"})
    assert response.status_code == 200
    assert (response.json()["job_title"], response.json()["version"]) == ("Charge nurse", 2)
    cast.employee.refresh_from_db()
    assert (cast.employee.job_title, cast.employee.version) == ("Charge nurse", 2)


def test_it_refuses_a_stale_version_with_409(cast, api_client_for):
    client = api_client_for(cast.hr)
    assert patch_employee(client, cast.employee, {"version": 1, "job_title": "Charge nurse"}).status_code == 200
    response = patch_employee(client, cast.employee, {"version": 1, "job_title": "Night sister"})
    assert response.status_code == 409
    assert "detail" in response.json()
    cast.employee.refresh_from_db()
    assert (cast.employee.job_title, cast.employee.version) == ("Charge nurse", 2)


def test_it_refuses_a_manager_loop_with_400_on_the_manager_field(cast, api_client_for):
    response = patch_employee(api_client_for(cast.hr), cast.chief, {"version": 1, "manager": cast.employee.pk})
    assert response.status_code == 400
    assert "loop" in response.json()["manager"][0]
    cast.chief.refresh_from_db()
    assert (cast.chief.manager_id, cast.chief.version) == (None, 1)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"version": 1, "department": 999999}, "department"),
        ({"version": 1, "manager": 999999}, "manager"),
        ({"version": 1, "manager": "the boss"}, "manager"),
        ({"job_title": "Charge nurse"}, "version"),
        ({"version": 1, "employee_id": "X1"}, "employee_id"),
        ({"version": 1, "hire_date": "last tuesday"}, "hire_date"),
    ],
)
def test_it_refuses_bad_input_with_400_naming_the_field(cast, api_client_for, body, field):
    response = patch_employee(api_client_for(cast.hr), cast.employee, body)
    assert response.status_code == 400
    assert field in response.json()
    cast.employee.refresh_from_db()
    assert cast.employee.version == 1


def test_moving_a_manager_brings_their_team_into_the_new_managers_view(cast, api_client_for):
    response = patch_employee(api_client_for(cast.hr), cast.manager, {"version": 1, "manager": cast.stranger.pk})
    assert response.status_code == 200
    assert response.json()["manager"] == {"id": cast.stranger.pk, "name": "Pharmacist"}
    assert ids_of(api_client_for(cast.stranger).get(f"{API}/employees/")) == {
        cast.stranger.pk,
        cast.manager.pk,
        cast.employee.pk,
    }
    assert ids_of(api_client_for(cast.chief).get(f"{API}/employees/")) == {cast.chief.pk}


def test_a_refused_edit_changes_nothing(cast, api_client_for):
    response = patch_employee(api_client_for(cast.manager), cast.employee, {"version": 1, "job_title": "Matron"})
    assert response.status_code == 403
    cast.employee.refresh_from_db()
    assert (cast.employee.job_title, cast.employee.version) == ("Staff nurse", 1)


# ---------------------------------------------------------------- departments


def test_departments_show_their_active_headcount(cast, api_client_for):
    Employee.objects.filter(pk=cast.employee.pk).update(is_active=False)
    response = api_client_for(cast.employee).get(f"{API}/departments/")
    counts = {row["name"]: row["headcount"] for row in response.json()["results"]}
    assert counts == {"HR": 1, "Nursing": 2, "Pharmacy": 1}


def test_hr_creates_a_department_under_a_parent_with_a_head(cast, api_client_for):
    nursing = cast.employee.department_id
    body = {"name": "Theatre", "parent": nursing, "head": cast.manager.pk}
    response = api_client_for(cast.hr).post(f"{API}/departments/", body, format="json")
    assert response.status_code == 201
    assert response.json() == {
        "id": Department.objects.get(name="Theatre").pk,
        "name": "Theatre",
        "parent": {"id": nursing, "name": "Nursing"},
        "head": {"id": cast.manager.pk, "name": "Ward Manager"},
        "headcount": 0,
    }


def test_it_refuses_a_duplicate_department_name_with_400(cast, api_client_for):
    response = api_client_for(cast.hr).post(f"{API}/departments/", {"name": "Nursing"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_it_refuses_a_loop_in_the_department_tree_with_400_on_parent(cast, api_client_for):
    nursing = Department.objects.get(name="Nursing")
    ward = DepartmentFactory(name="Ward 7", parent=nursing)
    client = api_client_for(cast.hr)
    response = client.patch(f"{API}/departments/{nursing.pk}/", {"parent": ward.pk}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()
    nursing.refresh_from_db()
    assert nursing.parent_id is None


def test_a_department_can_only_be_moved_not_renamed_here(cast, api_client_for):
    nursing = cast.employee.department_id
    response = api_client_for(cast.hr).patch(f"{API}/departments/{nursing}/", {"name": "Midwifery"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name"}


# ---------------------------------------------------------------- tokens


def test_a_token_from_the_token_endpoint_authenticates_api_calls(cast):
    client = APIClient()
    response = client.post(f"{API}/auth/token/", {"username": "employee", "password": "throughline-test"})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    listed = client.get(f"{API}/employees/")
    assert listed.status_code == 200
    assert ids_of(listed) == {cast.employee.pk}


def test_bad_credentials_get_400_with_a_message(cast):
    response = APIClient().post(f"{API}/auth/token/", {"username": "employee", "password": "wrong"})
    assert response.status_code == 400
    assert response.json()["non_field_errors"]
    missing = APIClient().post(f"{API}/auth/token/", {"username": "employee"})
    assert "password" in missing.json()


# ---------------------------------------------------------------- org-chart imports

GOOD_CSV = (
    "employee_id,name,email,department,manager_id,job_title,hire_date\n"
    "N100,Nadia Okafor,nadia@example.org,Nursing,,Director of Nursing,2019-04-01\n"
    "N101,Sam Patel,sam@example.org,Theatre,N100,Scrub nurse,2021-09-13\n"
)


def upload(client: APIClient, name: str, text: str, capture, **extra: object):
    with capture(execute=True):
        return client.post(
            f"{API}/org-imports/",
            {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"), **extra},
            format="multipart",
        )


def test_hr_uploads_an_org_chart_and_sees_it_succeed(cast, api_client_for, django_capture_on_commit_callbacks):
    client = api_client_for(cast.hr)
    response = upload(client, "org.csv", GOOD_CSV, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    created = response.json()
    assert {"id", "status", "url"} <= set(created)
    assert response["Location"] == created["url"]

    record = client.get(created["url"]).json()
    assert record["status"] == ImportStatus.SUCCEEDED
    assert (record["total_rows"], record["processed_rows"], record["percent"]) == (2, 2, 100)
    assert record["errors"] == []
    assert record["summary"]["created"] == 2
    assert record["summary"]["departments_created"] == ["Theatre"]
    assert "content" not in record
    sam = Employee.objects.get(employee_id="N101")
    assert sam.manager.employee_id == "N100"


def test_a_rejected_import_lists_each_problem_by_row_and_field(
    cast, api_client_for, django_capture_on_commit_callbacks
):
    text = "employee_id,name,email,department,manager_id\nN200,Ada Lovelace,ada@example.org,Nursing,N999\n"
    client = api_client_for(cast.hr)
    response = upload(client, "org.csv", text, django_capture_on_commit_callbacks)
    record = client.get(response.json()["url"]).json()
    assert record["status"] == ImportStatus.REJECTED
    assert record["errors"] == [
        {"row": 2, "field": "manager_id", "message": "Unknown manager: no one has employee ID N999."}
    ]
    assert not Employee.objects.filter(employee_id="N200").exists()


def test_it_refuses_a_file_that_is_not_csv_or_xlsx_with_400(cast, api_client_for, django_capture_on_commit_callbacks):
    response = upload(api_client_for(cast.hr), "org.txt", GOOD_CSV, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not OrgChartImport.objects.exists()


def test_it_passes_deactivate_missing_through(cast, api_client_for, django_capture_on_commit_callbacks):
    client = api_client_for(cast.hr)
    response = upload(client, "org.csv", GOOD_CSV, django_capture_on_commit_callbacks, deactivate_missing="true")
    assert response.json()["deactivate_missing"] is True
    assert OrgChartImport.objects.get().deactivate_missing is True


def test_an_import_is_404_to_anyone_but_hr(cast, api_client_for, django_capture_on_commit_callbacks):
    created = upload(api_client_for(cast.hr), "org.csv", GOOD_CSV, django_capture_on_commit_callbacks).json()
    for role in ("chief", "manager", "employee", "stranger"):
        assert api_client_for(getattr(cast, role)).get(created["url"]).status_code == 404

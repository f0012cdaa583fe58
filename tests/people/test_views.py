"""People pages: home per role, the directory, profiles, and the import screens."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from people.models import Employee, ImportStatus, OrgChartImport

pytestmark = pytest.mark.django_db


def test_home_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_each_role_gets_its_own_home(cast, client_for):
    employee_page = client_for(cast.employee).get("/").content.decode()
    assert "My goals" in employee_page and "Your team" not in employee_page and "HR administration" not in employee_page
    manager_page = client_for(cast.manager).get("/").content.decode()
    assert "Your team" in manager_page and "Staff Nurse" in manager_page
    hr_page = client_for(cast.hr).get("/").content.decode()
    assert "HR administration" in hr_page and "Import org chart" in hr_page


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("employee", "employee", 200),
        ("manager", "employee", 200),
        ("chief", "employee", 200),
        ("stranger", "employee", 404),
        ("hr", "employee", 200),
        ("employee", "manager", 404),
        ("manager", "chief", 404),
    ],
)
def test_profiles_follow_the_org_chart(cast, who, target, status, client_for):
    response = client_for(getattr(cast, who)).get(reverse("people:detail", args=[getattr(cast, target).pk]))
    assert response.status_code == status


def test_directory_lists_only_people_in_scope(cast, client_for):
    page = client_for(cast.manager).get(reverse("people:directory")).content.decode()
    links = {reverse("people:detail", args=[e.pk]) for e in (cast.employee, cast.manager, cast.chief, cast.stranger)}
    assert {link for link in links if f'href="{link}"' in page} == {
        reverse("people:detail", args=[cast.employee.pk]),
        reverse("people:detail", args=[cast.manager.pk]),
    }


def test_directory_searches_by_name(cast, client_for):
    page = client_for(cast.hr).get(reverse("people:directory"), {"q": "pharm"}).content.decode()
    assert "Pharmacist" in page and "Staff Nurse" not in page


@pytest.mark.parametrize("who", ["employee", "manager", "stranger"])
@pytest.mark.parametrize("name", ["people:import", "people:import_template"])
def test_import_pages_are_reserved_to_hr(cast, who, name, client_for):
    # The same answer as the API's: 403 with the reason, for a page reserved to a role.
    response = client_for(getattr(cast, who)).get(reverse(name))
    assert response.status_code == 403
    assert "Only HR admins may import the org chart." in response.content.decode()


def test_someone_elses_import_detail_is_404_for_non_hr(cast, client_for):
    record = OrgChartImport.objects.create(created_by=cast.hr.user, file_name="x.csv", content=b"")
    for name in ("people:import_detail", "people:import_errors"):
        assert client_for(cast.manager).get(reverse(name, args=[record.pk])).status_code == 404
        assert client_for(cast.hr).get(reverse(name, args=[record.pk])).status_code == 200


def test_hr_uploads_a_file_and_follows_its_progress(cast, django_capture_on_commit_callbacks, client_for):
    client = client_for(cast.hr)
    csv = (
        "employee_id,name,email,department,manager_id,job_title,hire_date\n"
        "N1,Nia Brown,nia@example.org,Radiology,,Radiographer,2020-02-02\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("people:import"), {"file": SimpleUploadedFile("org.csv", csv.encode())})
    record = OrgChartImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people:import_detail", args=[record.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Imported" in page and "<progress" in page
    # The htmx poll gets only the status fragment, and stops polling once finished.
    fragment = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="import-status"') and "hx-trigger" not in fragment


def test_a_running_import_keeps_polling(cast, client_for):
    record = OrgChartImport.objects.create(
        created_by=cast.hr.user,
        file_name="x.csv",
        content=b"",
        status=ImportStatus.VALIDATING,
        total_rows=10,
        processed_rows=4,
    )
    page = client_for(cast.hr).get(reverse("people:import_detail", args=[record.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="36"' in page


def test_a_rejected_import_lists_the_rows_to_fix(cast, django_capture_on_commit_callbacks, client_for):
    client = client_for(cast.hr)
    csv = "employee_id,name,email,department,manager_id,job_title,hire_date\nQ1,Q,q@example.org,HR,NOPE,x,2020-13-01\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("people:import"), {"file": SimpleUploadedFile("org.csv", csv.encode())})
    page = client.get(response["Location"]).content.decode()
    assert "nothing was changed" in page
    assert "Unknown manager" in page and "YYYY-MM-DD" in page
    # A rejection did nothing: no progress bar left part-full, only how many rows were checked.
    assert "<progress" not in page and "1 of 1 row checked." in page
    errors = client.get(reverse("people:import_errors", args=[OrgChartImport.objects.get().pk])).content.decode()
    assert errors.splitlines()[0] == "row,field,message" and len(errors.splitlines()) == 3


def test_upload_form_refuses_other_file_types_with_a_400(cast, client_for):
    response = client_for(cast.hr).post(reverse("people:import"), {"file": SimpleUploadedFile("org.pdf", b"%PDF")})
    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert not OrgChartImport.objects.exists()


def test_upload_form_without_a_file_is_a_400_with_a_message(cast, client_for):
    response = client_for(cast.hr).post(reverse("people:import"), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_departments_page_shows_the_tree(cast, client_for):
    page = client_for(cast.employee).get(reverse("people:departments")).content.decode()
    assert "Nursing" in page and "Pharmacy" in page


def test_the_admin_is_for_hr_only(cast, client_for):
    assert client_for(cast.hr).get("/admin/people/employee/").status_code == 200
    assert client_for(cast.manager).get("/admin/people/employee/").status_code == 302  # to the admin login


def test_hr_cannot_make_a_loop_through_the_admin(cast, client_for):
    client = client_for(cast.hr)
    url = f"/admin/people/employee/{cast.chief.pk}/change/"
    data = {
        "full_name": cast.chief.full_name,
        "department": cast.chief.department_id,
        "manager": cast.employee.pk,
        "job_title": "Chief",
        "hire_date": "2020-01-06",
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "loop" in response.content.decode()
    assert Employee.objects.get(pk=cast.chief.pk).manager is None


def test_login_logout_and_password_change(cast):
    client = Client()
    cast.employee.user.set_password("old-password-1")
    cast.employee.user.save()
    assert (
        "Please enter a correct username"
        in client.post(reverse("login"), {"username": "employee", "password": "x"}).content.decode()
    )
    assert client.post(reverse("login"), {"username": "employee", "password": "old-password-1"}).status_code == 302
    response = client.post(
        reverse("password_change"),
        {"old_password": "old-password-1", "new_password1": "Br1ght-new-pass", "new_password2": "Br1ght-new-pass"},
    )
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert client.get("/").status_code == 302
    # authenticate() needs a request: the sign-in locks (axes) count failures per account and address.
    assert client.login(request=HttpRequest(), username="employee", password="Br1ght-new-pass")


def test_pages_carry_a_csp_without_inline_script(cast, client_for):
    response = client_for(cast.employee).get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()
    assert " style=" not in response.content.decode()

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.http import HttpRequest

from people.demo import DEMO_PASSWORD, HOSPITAL_TOP, HOSPITAL_UNITS, SYNTHETIC_EMAIL_DOMAIN
from people.models import Department, Employee

User = get_user_model()
LOGINS = ("hradmin", "quality", "manager", "employee")
pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def employee_of(username: str) -> Employee:
    return Employee.objects.select_related("manager", "department", "user").get(user__username=username)


def assert_paths_consistent(employees: list[Employee]) -> None:
    for employee in employees:
        prefix = employee.manager.path if employee.manager else "/"
        assert employee.path == f"{prefix}{employee.pk}/", employee.employee_id


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Employee.objects.count(), Department.objects.count()


@pytest.fixture
def hospital() -> str:
    return seed()


# authenticate() is given a request: the sign-in locks (axes) count failures per account and address.
def test_the_four_logins_sign_in_with_the_demo_password(hospital: str) -> None:
    for username in LOGINS:
        user = authenticate(HttpRequest(), username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.employee.is_active


def test_no_other_user_can_sign_in(hospital: str) -> None:
    others = list(User.objects.exclude(username__in=LOGINS))
    assert len(others) > 50
    assert not any(user.has_usable_password() for user in others)
    assert authenticate(HttpRequest(), username=others[0].username, password=DEMO_PASSWORD) is None


def test_manager_manages_employee(hospital: str) -> None:
    manager, employee = employee_of("manager"), employee_of("employee")
    assert employee.manager == manager
    assert manager.reports.count() >= 3


def test_hradmin_is_an_hr_admin_in_hr(hospital: str) -> None:
    hradmin = employee_of("hradmin")
    assert hradmin.is_hr_admin and hradmin.user.is_staff
    assert hradmin.department.name == "HR"


def test_quality_is_the_quality_lead_in_the_quality_office(hospital: str) -> None:
    quality = employee_of("quality")
    assert quality.is_quality_lead and not quality.is_hr_admin
    assert quality.department.name == "Quality office"


def test_only_hradmin_is_staff_or_privileged(hospital: str) -> None:
    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == ["hradmin"]
    assert list(Employee.objects.filter(is_hr_admin=True).values_list("user__username", flat=True)) == ["hradmin"]
    assert list(Employee.objects.filter(is_quality_lead=True).values_list("user__username", flat=True)) == ["quality"]


def test_every_department_exists_with_people_and_a_head(hospital: str) -> None:
    names = [HOSPITAL_TOP, *(unit.department for unit in HOSPITAL_UNITS)]
    assert {
        "Emergency",
        "Pharmacy",
        "Nursing",
        "Radiology",
        "Claims processing",
        "Quality office",
        "HR",
        "Finance",
    } < set(names)
    departments = Department.objects.filter(name__in=names).annotate(people=Count("employees"))
    assert len(departments) == len(names)
    for department in departments:
        assert department.people > 0, department.name
        assert department.head is not None and department.head.department == department


def test_it_builds_about_sixty_people_under_one_chief_executive(hospital: str) -> None:
    assert 55 <= Employee.objects.count() <= 65
    top = Employee.objects.get(manager=None)
    assert top.job_title == "Chief Executive"
    heads = Employee.objects.filter(manager=top)
    assert {head.department.name for head in heads} == {unit.department for unit in HOSPITAL_UNITS}


def test_manager_paths_are_consistent(hospital: str) -> None:
    assert_paths_consistent(list(Employee.objects.select_related("manager")))


def test_it_prints_the_logins(hospital: str) -> None:
    for username in LOGINS:
        assert username in hospital
    assert DEMO_PASSWORD in hospital


def test_running_it_twice_creates_nothing_new(hospital: str) -> None:
    before = counts()
    output = seed()
    assert counts() == before
    assert "already loaded" in output


def test_it_builds_a_synthetic_organisation_with_one_root() -> None:
    output = seed("--employees", "200")
    people = list(Employee.objects.select_related("manager"))
    assert len(people) == 200
    assert [e.employee_id for e in people if e.manager is None] == ["S000001"]
    assert all(e.user.email.endswith(f"@{SYNTHETIC_EMAIL_DOMAIN}") for e in Employee.objects.select_related("user"))
    assert_paths_consistent(people)
    assert "Top manager: s000001" in output


def test_synthetic_spans_of_control_stay_realistic() -> None:
    seed("--employees", "200")
    spans = Employee.objects.filter(manager__isnull=False).values("manager").annotate(n=Count("pk"))
    assert max(span["n"] for span in spans) <= 10


def test_rerunning_the_synthetic_seed_does_not_duplicate() -> None:
    seed("--employees", "200")
    before = counts()
    output = seed("--employees", "200")
    assert counts() == before
    assert "already loaded" in output


def test_synthetic_and_hospital_organisations_coexist(hospital: str) -> None:
    seed("--employees", "200")
    assert Employee.objects.filter(manager=None).count() == 2
    assert authenticate(HttpRequest(), username="manager", password=DEMO_PASSWORD) is not None
    assert_paths_consistent(list(Employee.objects.select_related("manager")))


def test_it_refuses_to_resize_a_synthetic_organisation() -> None:
    seed("--employees", "50")
    with pytest.raises(CommandError, match="already loaded"):
        seed("--employees", "60")
    assert Employee.objects.count() == 50


def test_it_refuses_a_size_below_one() -> None:
    with pytest.raises(CommandError):
        seed("--employees", "0")

"""The org-chart import: good files, every kind of bad row, re-imports."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook

from people.models import Department, Employee, ImportStatus
from people.org_import import start_import
from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "employee_id,name,email,department,manager_id,job_title,hire_date\n"
GOOD = (
    HEADER
    + "A1,Ada Lovelace,ada@example.org,Nursing,,Chief Nurse,2015-03-02\n"
    + "A2,Ben Okafor,ben@example.org,Nursing,A1,Ward Manager,2018-11-19\n"
    + "A3,Cara Singh,cara@example.org,Pharmacy,A2,Pharmacist,2021-07-05\n"
)


@pytest.fixture
def importer(db):
    return UserFactory(username="importer")


@pytest.fixture
def run(importer, django_capture_on_commit_callbacks):
    """Upload a file and let its task run (Celery is eager in tests); return the refreshed record."""

    def _run(text: str | bytes, *, name: str = "org.csv", deactivate_missing: bool = False):
        content = text.encode() if isinstance(text, str) else text
        with django_capture_on_commit_callbacks(execute=True):
            record = start_import(user=importer, file_name=name, content=content, deactivate_missing=deactivate_missing)
        record.refresh_from_db()
        return record

    return _run


def problems(record) -> list[tuple[int, str]]:
    return [(e["row"], e["field"]) for e in record.errors]


def test_a_good_file_creates_people_departments_and_the_hierarchy(run):
    record = run(GOOD)
    assert record.status == ImportStatus.SUCCEEDED, record.errors
    assert record.summary["created"] == 3
    assert sorted(record.summary["departments_created"]) == ["Nursing", "Pharmacy"]
    cara = Employee.objects.get(employee_id="A3")
    assert cara.manager.employee_id == "A2"
    assert cara.manager.manager.employee_id == "A1"
    assert cara.path == f"/{cara.manager.manager.pk}/{cara.manager.pk}/{cara.pk}/"
    assert cara.hire_date.isoformat() == "2021-07-05"
    assert cara.user.email == "cara@example.org"
    assert not cara.user.has_usable_password()
    assert record.percent == 100


def test_an_xlsx_file_with_real_date_cells_imports(run):
    import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Employee ID", "Name", "Email", "Department", "Manager's employee ID", "Job title", "Hire date"])
    sheet.append(
        ["X1", "Dee Jones", "dee@example.org", "Radiology", None, "Radiographer", datetime.datetime(2019, 5, 1)]
    )
    sheet.append(["X2", "Eli Park", "eli@example.org", "Radiology", "X1", "Sonographer", "2020-02-03"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    record = run(buffer.getvalue(), name="org.xlsx")
    assert record.status == ImportStatus.SUCCEEDED, record.errors
    assert Employee.objects.get(employee_id="X1").hire_date == datetime.date(2019, 5, 1)
    assert Employee.objects.get(employee_id="X2").manager.employee_id == "X1"


def test_it_rejects_an_unknown_manager_and_writes_nothing(run):
    record = run(GOOD + "A4,Dan Wu,dan@example.org,Nursing,Z9,Nurse,2022-01-10\n")
    assert record.status == ImportStatus.REJECTED
    assert problems(record) == [(5, "manager_id")]
    assert "Z9" in record.errors[0]["message"]
    assert not Employee.objects.exists()
    assert not Department.objects.exists()
    assert not get_user_model().objects.filter(email="ada@example.org").exists()


def test_it_rejects_a_loop_in_the_manager_chain(run):
    record = run(
        HEADER
        + "L1,Top Person,top@example.org,Finance,,CFO,2010-01-01\n"
        + "L2,Loop One,one@example.org,Finance,L3,Analyst,2020-01-01\n"
        + "L3,Loop Two,two@example.org,Finance,L4,Analyst,2020-01-01\n"
        + "L4,Loop Three,three@example.org,Finance,L2,Analyst,2020-01-01\n"
    )
    assert record.status == ImportStatus.REJECTED
    assert problems(record) == [(3, "manager_id"), (4, "manager_id"), (5, "manager_id")]
    assert "Loop in the manager chain" in record.errors[0]["message"]
    assert not Employee.objects.exists()


def test_it_rejects_a_loop_through_someone_already_here(run):
    top = EmployeeFactory(employee_id="P1")
    EmployeeFactory(employee_id="P2", manager=top, department=top.department)
    # P1 would report to P2, who already reports to P1.
    record = run(HEADER + f"P1,Top,{top.user.email},Finance,P2,Boss,2010-01-01\n")
    assert record.status == ImportStatus.REJECTED
    assert problems(record) == [(2, "manager_id")]


def test_it_rejects_someone_managing_themselves(run):
    record = run(HEADER + "S1,Self Made,self@example.org,HR,S1,Officer,2020-01-01\n")
    assert problems(record) == [(2, "manager_id")]
    assert "own manager" in record.errors[0]["message"]


def test_it_rejects_duplicate_ids_and_emails(run):
    record = run(GOOD + "A2,Ben Again,ben@example.org,Nursing,A1,Nurse,2020-01-01\n")
    assert record.status == ImportStatus.REJECTED
    assert problems(record) == [(5, "employee_id"), (5, "email")]
    assert "row 3" in record.errors[0]["message"]


def test_it_rejects_bad_dates_with_the_expected_format(run):
    record = run(HEADER + "D1,Date Person,date@example.org,HR,,Officer,31/02/2020\n")
    assert problems(record) == [(2, "hire_date")]
    assert "YYYY-MM-DD" in record.errors[0]["message"]


def test_it_rejects_missing_required_values_and_bad_emails(run):
    record = run(HEADER + ",,not-an-email,,,,\n")
    assert problems(record) == [(2, "employee_id"), (2, "name"), (2, "email"), (2, "department")]


def test_it_rejects_an_email_that_belongs_to_someone_else(run):
    EmployeeFactory(employee_id="OLD1", user__username="taken", user__email="taken@example.org")
    record = run(HEADER + "NEW1,New Person,taken@example.org,HR,,Officer,2020-01-01\n")
    assert problems(record) == [(2, "email")]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (GOOD, "org.txt", "csv or .xlsx"),
        ("name,email\nA,a@example.org\n", "org.csv", "Missing column"),
        ("", "org.csv", "empty"),
        (HEADER, "org.csv", "no people"),
        (b"\xff\xfe\x00garbage", "org.csv", "UTF-8"),
        (b"not a workbook", "org.xlsx", "xlsx"),
    ],
)
def test_it_explains_a_file_it_cannot_read(run, content, name, message):
    if name.endswith((".txt", ".xlsx")) or isinstance(content, bytes):
        # Refused on upload, before anything is recorded (core.tabular.check_upload).
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match=message):
            run(content, name=name)
        return
    record = run(content, name=name)
    assert record.status == ImportStatus.REJECTED
    assert record.errors[0]["row"] == 0
    assert message in record.errors[0]["message"]


def test_reimport_updates_people_instead_of_duplicating_them(run):
    assert run(GOOD).status == ImportStatus.SUCCEEDED
    cara = Employee.objects.get(employee_id="A3")
    changed = GOOD.replace(
        "A3,Cara Singh,cara@example.org,Pharmacy,A2,Pharmacist",
        "A3,Cara Singh,cara@example.org,Pharmacy,A1,Lead Pharmacist",
    )
    record = run(changed)
    assert record.status == ImportStatus.SUCCEEDED, record.errors
    assert record.summary == {**record.summary, "created": 0, "updated": 1, "unchanged": 2}
    assert Employee.objects.count() == 3
    cara.refresh_from_db()
    assert cara.job_title == "Lead Pharmacist"
    assert cara.manager.employee_id == "A1"
    assert cara.path == f"{cara.manager.path}{cara.pk}/"
    assert cara.version == 2


def test_a_manager_change_alone_counts_as_an_update(run):
    run(GOOD)
    record = run(GOOD.replace("Pharmacy,A2,", "Pharmacy,A1,"))
    assert (record.summary["updated"], record.summary["unchanged"]) == (1, 2)


def test_people_missing_from_a_reimport_stay_unless_asked(run):
    run(GOOD)
    without_cara = GOOD.rsplit("A3,", 1)[0]
    record = run(without_cara)
    assert record.summary["deactivated"] == 0
    assert Employee.objects.get(employee_id="A3").is_active


def test_people_missing_from_a_reimport_can_be_deactivated_never_deleted(run):
    run(GOOD)
    without_cara = GOOD.rsplit("A3,", 1)[0]
    record = run(without_cara, deactivate_missing=True)
    assert record.summary["deactivated"] == 1
    cara = Employee.objects.get(employee_id="A3")
    assert not cara.is_active
    assert not cara.user.is_active
    # ... and a later import that lists them again brings them back.
    record = run(GOOD)
    assert record.summary["reactivated"] == 1
    cara.refresh_from_db()
    assert cara.is_active and cara.user.is_active


def test_deactivating_never_locks_out_the_person_importing(run, importer):
    EmployeeFactory(user=importer, employee_id="HR1")
    record = run(GOOD, deactivate_missing=True)
    assert record.summary["deactivated"] == 0
    assert record.summary["kept_active"] == [Employee.objects.get(employee_id="HR1").full_name]
    assert Employee.objects.get(employee_id="HR1").is_active


def test_a_manager_who_would_be_deactivated_is_refused(run):
    run(GOOD)
    record = run(HEADER + "A3,Cara Singh,cara@example.org,Pharmacy,A2,Pharmacist,2021-07-05\n", deactivate_missing=True)
    assert problems(record) == [(2, "manager_id")]
    assert Employee.objects.filter(is_active=True).count() == 3


def test_running_a_finished_import_again_changes_nothing(run):
    from people.org_import import run_import

    record = run(GOOD)
    again = run_import(record.pk)
    assert again.status == ImportStatus.SUCCEEDED
    assert Employee.objects.count() == 3


def test_progress_is_written_while_rows_are_checked(run, settings):
    settings.THROUGHLINE_IMPORT_PROGRESS_EVERY = 1
    rows = "".join(f"B{i},Person {i},p{i}@example.org,Nursing,,Nurse,2020-01-01\n" for i in range(5))
    record = run(HEADER + rows)
    assert (record.total_rows, record.processed_rows) == (5, 5)

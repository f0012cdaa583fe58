"""Observation import: upload, the Celery task, row-level problems, all or nothing, and
who may follow an import's progress."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from cascade.imports import observations as observation_import
from cascade.imports import runner
from cascade.models import Approval, CascadeImport, Direction, ImportKind, Observation, ProgressMode
from people.models import ImportStatus
from tests.cascade.factories import FunctionalGoalFactory, QualityMeasureFactory

pytestmark = pytest.mark.django_db

HEADER = "date,value,numerator,denominator\n"


@pytest.fixture
def measure(cast, priority):
    """Higher is better: % of doses scanned, from 60 towards 90, owned by Nursing, whose head is the chief."""
    nursing = cast.chief.department
    nursing.head = cast.chief
    nursing.save(update_fields=["head"])
    return QualityMeasureFactory(
        priority=priority,
        name="Doses scanned",
        direction=Direction.UP,
        baseline=Decimal("60"),
        target=Decimal("90"),
        department=nursing,
    )


def upload(client: Client, measure, name: str, content: bytes, capture):
    with capture(execute=True):
        return client.post(
            reverse("cascade:observation_import", args=[measure.pk]), {"file": SimpleUploadedFile(name, content)}
        )


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems_of(record: CascadeImport) -> list[tuple[int, str]]:
    return [(e["row"], e["field"]) for e in record.errors]


# ---------------------------------------------------------------- good files


def test_a_good_csv_is_imported_through_the_task_and_moves_measure_driven_goals(
    client_for, cast, measure, period, django_capture_on_commit_callbacks
):
    goal = FunctionalGoalFactory(
        priority=measure.priority,
        period=period,
        department=measure.department,
        measure=measure,
        progress_mode=ProgressMode.MEASURE,
        approval=Approval.APPROVED,
    )
    client = client_for(cast.chief)
    content = HEADER + '2026-01-01,66,66,100\n2026-02-01,"1,000",,\n2026-03-01,75,,\n\n'
    response = upload(client, measure, "scans.csv", content.encode(), django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cascade:import_detail", args=[record.pk])
    assert record.status == ImportStatus.SUCCEEDED and record.kind == ImportKind.OBSERVATIONS
    assert record.summary == {
        "observations_added": 3,
        "first_date": "2026-01-01",
        "last_date": "2026-03-01",
        "goals_recalculated": 1,
    }
    values = dict(measure.observations.values_list("date", "value"))
    assert values[datetime.date(2026, 2, 1)] == Decimal("1000")
    assert measure.observations.get(date=datetime.date(2026, 1, 1)).entered_by == cast.chief
    goal.refresh_from_db()
    assert goal.progress == Decimal("50.00")  # latest 75: (75 − 60) / (90 − 60)
    page = client.get(response["Location"]).content.decode()
    assert "Imported" in page and "Observations added" in page and "<progress" in page


def test_a_good_xlsx_with_date_cells_and_numbers_is_imported(
    client_for, cast, measure, django_capture_on_commit_callbacks
):
    content = xlsx(
        [
            ["Date", "Value", "Numerator", "Denominator"],
            [datetime.datetime(2026, 1, 1), 61.5, 123, 200],
            ["2026-02-01", 70, None, None],
            [None, None, None, None],
        ]
    )
    upload(client_for(cast.hr), measure, "scans.xlsx", content, django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.SUCCEEDED, record.errors
    first = measure.observations.get(date=datetime.date(2026, 1, 1))
    assert (first.value, first.numerator, first.denominator) == (Decimal("61.5"), Decimal("123"), Decimal("200"))
    assert measure.observations.count() == 2


def test_headers_are_matched_whatever_their_case_and_order(
    client_for, cast, measure, django_capture_on_commit_callbacks
):
    content = b"Value,DATE\n70,2026-01-01\n"
    upload(client_for(cast.chief), measure, "scans.csv", content, django_capture_on_commit_callbacks)
    assert CascadeImport.objects.get().status == ImportStatus.SUCCEEDED
    assert measure.observations.get().value == Decimal("70")


# ---------------------------------------------------------------- bad rows: all or nothing


@pytest.mark.parametrize(
    ("rows", "expected", "message"),
    [
        ("2026-01-01,70,,\n2026-13-01,71,,\n", [(3, "date")], "'2026-13-01' is not a date; write it as YYYY-MM-DD."),
        ("2026-01-01,70,,\n,71,,\n", [(3, "date")], "A date is required (YYYY-MM-DD)."),
        ("2026-01-01,seventy,,\n", [(2, "value")], "'seventy' is not a number."),
        ("2026-01-01,,,\n", [(2, "value")], "A number is required."),
        ("2026-01-01,70,x,\n", [(2, "numerator")], "'x' is not a number."),
        ("2026-01-01,70,,\n2026-01-01,71,,\n", [(3, "date")], "1 Jan 2026 is also on row 2."),
        ("2025-06-01,70,,\n", [(2, "date")], "Doses scanned already has a value for 1 Jun 2025."),
        ("2026-01-01,70,7,0\n", [(2, "denominator")], "The denominator cannot be zero."),
        ("2026-01-01,70.12345,,\n", [(2, "value")], "decimal places"),
    ],
    ids=[
        "bad-date",
        "missing-date",
        "non-number",
        "missing-value",
        "non-number-numerator",
        "date-repeated-in-file",
        "date-already-recorded",
        "zero-denominator",
        "too-many-decimals",
    ],
)
def test_a_bad_row_rejects_the_whole_file_and_nothing_is_written(
    client_for, cast, measure, django_capture_on_commit_callbacks, rows, expected, message
):
    Observation.objects.create(measure=measure, date=datetime.date(2025, 6, 1), value=Decimal("60"))
    client = client_for(cast.chief)
    response = upload(client, measure, "scans.csv", (HEADER + rows).encode(), django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.REJECTED
    assert problems_of(record) == expected
    assert message in record.errors[0]["message"]
    assert measure.observations.count() == 1  # only the one recorded before
    page = client.get(response["Location"]).content.decode()
    assert "nothing was changed" in page and f"<td>{expected[0][0]}</td>" in page


def test_every_problem_in_the_file_is_listed_by_row(client_for, cast, measure, django_capture_on_commit_callbacks):
    rows = "someday,abc,,\n2026-01-01,70,,\n2026-01-01,x,,\n"
    upload(client_for(cast.chief), measure, "scans.csv", (HEADER + rows).encode(), django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert problems_of(record) == [(2, "date"), (2, "value"), (4, "date"), (4, "value")]
    assert not measure.observations.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scans.csv", b"when,value\n2026-01-01,4\n", "Missing column(s): date."),
        ("scans.csv", HEADER.encode(), "The file has a header but no rows."),
        ("scans.csv", b"\n\n", "The file is empty."),
    ],
)
def test_an_unreadable_file_is_rejected_as_a_whole(
    client_for, cast, measure, django_capture_on_commit_callbacks, name, content, message
):
    upload(client_for(cast.chief), measure, name, content, django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.REJECTED
    assert record.errors[0]["row"] == 0 and message in record.errors[0]["message"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scans.csv", "date,value\n2026-01-01,4\n".encode("utf-16"), "not UTF-8"),
        ("scans.xlsx", b"not a workbook", "not a readable .xlsx workbook"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_upload(client_for, cast, measure, name, content, message):
    response = client_for(cast.chief).post(
        reverse("cascade:observation_import", args=[measure.pk]), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CascadeImport.objects.exists()


def test_the_upload_form_refuses_other_file_types_with_a_400(client_for, cast, measure):
    response = client_for(cast.chief).post(
        reverse("cascade:observation_import", args=[measure.pk]), {"file": SimpleUploadedFile("scans.pdf", b"%PDF")}
    )
    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert not CascadeImport.objects.exists()


def test_an_empty_upload_is_a_400(client_for, cast, measure):
    response = client_for(cast.chief).post(
        reverse("cascade:observation_import", args=[measure.pk]), {"file": SimpleUploadedFile("scans.csv", b"")}
    )
    assert response.status_code == 400
    assert "The submitted file is empty." in response.content.decode()


def test_the_upload_form_without_a_file_is_a_400(client_for, cast, measure):
    response = client_for(cast.chief).post(reverse("cascade:observation_import", args=[measure.pk]), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


@pytest.mark.parametrize("role", ["employee", "manager", "stranger"])
def test_people_who_cannot_record_data_cannot_import_it(
    client_for, cast, measure, role, django_capture_on_commit_callbacks
):
    response = upload(
        client_for(getattr(cast, role)),
        measure,
        "scans.csv",
        (HEADER + "2026-01-01,70,,\n").encode(),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 403
    assert not CascadeImport.objects.exists() and not Observation.objects.exists()


def test_a_file_above_the_size_limit_is_refused(cast, measure, settings):
    settings.THROUGHLINE_IMPORT_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="larger than"):
        runner.start_import(
            user=cast.hr.user, kind=ImportKind.OBSERVATIONS, file_name="a.csv", content=b"x" * 2048, measure=measure
        )


def test_starting_an_import_checks_the_measure_and_the_right_to_record(cast, measure):
    with pytest.raises(ValidationError):
        runner.start_import(user=cast.hr.user, kind=ImportKind.OBSERVATIONS, file_name="a.csv", content=b"")
    with pytest.raises(PermissionDenied):
        runner.start_import(
            user=cast.employee.user, kind=ImportKind.OBSERVATIONS, file_name="a.csv", content=b"", measure=measure
        )
    with pytest.raises(ValidationError, match="not available"):
        runner.start_import(user=cast.hr.user, kind="nonsense", file_name="a.csv", content=b"")


def test_a_date_recorded_between_check_and_apply_rejects_the_import(cast, measure, monkeypatch):
    record = CascadeImport.objects.create(
        kind=ImportKind.OBSERVATIONS,
        measure=measure,
        created_by=cast.chief.user,
        file_name="a.csv",
        content=(HEADER + "2026-01-01,70,,\n").encode(),
    )
    check = observation_import.check

    def check_then_race(record, rows):
        problems = check(record, rows)
        Observation.objects.create(measure=measure, date=datetime.date(2026, 1, 1), value=Decimal("1"))
        return problems

    handler = runner.handler_for(ImportKind.OBSERVATIONS)
    monkeypatch.setitem(
        runner.HANDLERS,
        ImportKind.OBSERVATIONS,
        runner.ImportHandler(
            columns=handler.columns, required=handler.required, check=check_then_race, apply=handler.apply
        ),
    )
    record = runner.run_import(record.pk)
    assert record.status == ImportStatus.REJECTED
    assert "already has a value" in record.errors[0]["message"]
    assert measure.observations.get().value == Decimal("1")


def test_an_unexpected_error_fails_the_import_and_writes_nothing(cast, measure, monkeypatch):
    record = CascadeImport.objects.create(
        kind=ImportKind.OBSERVATIONS,
        measure=measure,
        created_by=cast.chief.user,
        file_name="a.csv",
        content=(HEADER + "2026-01-01,70,,\n").encode(),
    )
    handler = runner.handler_for(ImportKind.OBSERVATIONS)

    def apply_then_crash(record, rows):
        handler.apply(record, rows)
        raise RuntimeError("disk full")

    monkeypatch.setitem(
        runner.HANDLERS,
        ImportKind.OBSERVATIONS,
        runner.ImportHandler(
            columns=handler.columns, required=handler.required, check=handler.check, apply=apply_then_crash
        ),
    )
    record = runner.run_import(record.pk)
    assert record.status == ImportStatus.FAILED
    assert "nothing was changed" in record.errors[0]["message"]
    assert not Observation.objects.exists()


def test_a_finished_import_is_left_alone_when_run_again(client_for, cast, measure, django_capture_on_commit_callbacks):
    upload(
        client_for(cast.chief),
        measure,
        "a.csv",
        (HEADER + "2026-01-01,70,,\n").encode(),
        django_capture_on_commit_callbacks,
    )
    record = CascadeImport.objects.get()
    again = runner.run_import(record.pk)
    assert again.status == ImportStatus.SUCCEEDED and measure.observations.count() == 1


def test_the_task_is_registered_under_its_name(cast):
    from cascade.tasks import run_import

    assert run_import.name == "cascade.run_import"


# ---------------------------------------------------------------- following an import


@pytest.fixture
def finished(client_for, cast, measure, django_capture_on_commit_callbacks):
    upload(
        client_for(cast.chief),
        measure,
        "a.csv",
        (HEADER + "2026-01-01,70,,\n").encode(),
        django_capture_on_commit_callbacks,
    )
    return CascadeImport.objects.get()


@pytest.mark.parametrize(
    ("role", "status"),
    [("chief", 200), ("hr", 200), ("manager", 404), ("employee", 404), ("stranger", 404), ("lead", 404)],
)
def test_only_the_uploader_and_hr_see_an_import(client_for, cast, quality_lead, finished, role, status):
    who = quality_lead if role == "lead" else getattr(cast, role)
    assert client_for(who).get(reverse("cascade:import_detail", args=[finished.pk])).status_code == status


def test_a_missing_import_is_404(client_for, cast):
    assert client_for(cast.hr).get(reverse("cascade:import_detail", args=[999_999])).status_code == 404


def test_the_htmx_poll_gets_the_status_fragment_which_stops_polling_once_finished(client_for, cast, finished):
    fragment = (
        client_for(cast.chief)
        .get(reverse("cascade:import_detail", args=[finished.pk]), headers={"HX-Request": "true"})
        .content.decode()
    )
    assert fragment.lstrip().startswith('<section id="import-status"') and "hx-trigger" not in fragment


def test_a_running_import_keeps_polling_and_shows_its_progress(client_for, cast, measure):
    record = CascadeImport.objects.create(
        kind=ImportKind.OBSERVATIONS,
        measure=measure,
        created_by=cast.chief.user,
        file_name="a.csv",
        content=b"",
        status=ImportStatus.VALIDATING,
        total_rows=10,
        processed_rows=4,
    )
    page = client_for(cast.chief).get(reverse("cascade:import_detail", args=[record.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="36"' in page and "Checking rows" in page


def test_the_import_page_lists_this_measures_previous_imports_for_their_uploader(client_for, cast, measure, finished):
    page = client_for(cast.chief).get(reverse("cascade:observation_import", args=[measure.pk])).content.decode()
    assert reverse("cascade:import_detail", args=[finished.pk]) in page
    assert "date" in page and "denominator" in page  # the expected columns

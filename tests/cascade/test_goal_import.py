"""Goal import: a file of department and individual goals, checked row by row, created as
drafts in the chosen period, all or nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from cascade.imports.goals import COLUMNS
from cascade.models import Approval, CascadeImport, Goal, GoalLevel, GoalPeriod, GoalStatus, ImportKind
from people.models import ImportStatus
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityMeasureFactory

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def row(**values: str) -> str:
    return ",".join(values.get(column, "") for column in COLUMNS)


def upload(client: Client, period: GoalPeriod, lines: list[str], capture, *, name: str = "goals.csv"):
    content = "\n".join([HEADER, *lines]).encode()
    with capture(execute=True):
        response = client.post(
            reverse("cascade:goal_import"), {"file": SimpleUploadedFile(name, content), "period": period.pk}
        )
    return response


def problems(record: CascadeImport) -> list[tuple[int, str]]:
    return [(p["row"], p["field"]) for p in record.errors]


@pytest.fixture
def nursing(cast):
    return cast.employee.department


@pytest.fixture
def ward_goal(cast, period, priority, nursing):
    return FunctionalGoalFactory(
        title="Ward scanning", priority=priority, period=period, department=nursing, approval=Approval.APPROVED
    )


@pytest.fixture
def measure(priority, nursing):
    return QualityMeasureFactory(
        priority=priority, name="Scanned doses", department=nursing, baseline=Decimal("50"), target=Decimal("90")
    )


# ---------------------------------------------------------------- who may import


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 403), ("manager", 200), ("chief", 200), ("stranger", 403), ("hr", 200), ("quality_lead", 200)],
)
def test_the_import_page_is_for_hr_the_quality_lead_and_managers(client_for, cast, quality_lead, period, who, status):
    # A page reserved to a role: 403 with a message for the others (PRODUCT.md "Access").
    user = quality_lead if who == "quality_lead" else getattr(cast, who)
    response = client_for(user).get(reverse("cascade:goal_import"))
    assert response.status_code == status
    if status == 403:
        assert "Goal imports are for HR" in response.content.decode()


def test_the_template_has_every_column(client_for, cast, period):
    response = client_for(cast.hr).get(reverse("cascade:goal_import"), {"template": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == HEADER


def test_the_upload_form_refuses_other_file_types_with_a_400(client_for, cast, period):
    response = client_for(cast.hr).post(
        reverse("cascade:goal_import"), {"file": SimpleUploadedFile("goals.pdf", b"%PDF"), "period": period.pk}
    )
    assert response.status_code == 400 and "Upload a .csv or .xlsx file." in response.content.decode()
    assert not CascadeImport.objects.exists()


# ---------------------------------------------------------------- a good file


def test_a_good_file_creates_draft_goals_in_the_chosen_period(
    client_for, cast, period, priority, ward_goal, measure, django_capture_on_commit_callbacks
):
    lines = [
        row(
            level="functional",
            title="Pharmacy reconciliation",
            priority=priority.title,
            department="Pharmacy",
            weight="100",
            kind="process",
            due_date="2026-06-30",
            improvement_hours_per_month="6",
        ),
        row(
            level="individual",
            title="Reconcile on admission",
            parent_goal="Pharmacy reconciliation",
            owner_employee_id=cast.stranger.employee_id,
            weight="100",
        ),
        row(
            level="individual",
            title="Scan high-risk doses",
            parent_goal=str(ward_goal.pk),
            owner_employee_id=cast.employee.employee_id,
            weight="60",
            measure="Scanned doses",
            progress_mode="measure",
            target="95",
        ),
        row(
            level="Individual",
            title="Teach scanning",
            priority=str(priority.pk),
            owner_employee_id=cast.employee.employee_id,
            weight="40",
            baseline="2",
            target="10",
        ),
    ]
    response = upload(client_for(cast.hr), period, lines, django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cascade:import_detail", args=[record.pk])
    assert record.status == ImportStatus.SUCCEEDED, record.errors
    assert (record.kind, record.period) == (ImportKind.GOALS, period)
    assert record.summary["goals_created"] == 4 and record.summary["department_goals"] == 1

    pharmacy_goal = Goal.objects.get(title="Pharmacy reconciliation")
    assert (pharmacy_goal.level, pharmacy_goal.department.name, pharmacy_goal.kind) == (
        GoalLevel.FUNCTIONAL,
        "Pharmacy",
        "process",
    )
    assert pharmacy_goal.improvement_hours_per_month == Decimal("6")
    assert Goal.objects.get(title="Reconcile on admission").parent_goal == pharmacy_goal
    scan = Goal.objects.get(title="Scan high-risk doses")
    assert (scan.parent_goal, scan.priority, scan.measure, scan.baseline, scan.target) == (
        ward_goal,
        priority,
        measure,
        Decimal("50"),
        Decimal("95"),
    )
    new = Goal.objects.exclude(pk=ward_goal.pk)
    assert set(new.values_list("approval", flat=True)) == {Approval.DRAFT}
    assert set(new.values_list("period", flat=True)) == {period.pk}


def test_an_xlsx_file_with_dates_and_numbers_as_cells_is_read(
    client_for, cast, period, priority, django_capture_on_commit_callbacks
):
    import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    values = dict.fromkeys(COLUMNS)
    values.update(
        level="individual",
        title="Spreadsheet goal",
        priority=priority.title,
        owner_employee_id=cast.employee.employee_id,
        weight=100,
        due_date=datetime.datetime(2026, 9, 30),
        improvement_hours_per_month=2.5,
    )
    sheet.append([values[c] for c in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.manager).post(
            reverse("cascade:goal_import"),
            {"file": SimpleUploadedFile("goals.xlsx", buffer.getvalue()), "period": period.pk},
        )
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.SUCCEEDED, record.errors
    goal = Goal.objects.get()
    assert (str(goal.due_date), goal.improvement_hours_per_month, goal.created_by) == (
        "2026-09-30",
        Decimal("2.5"),
        cast.manager,
    )


# ---------------------------------------------------------------- bad rows


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"priority": "No such priority"}, "priority", "Unknown priority"),
        ({"priority": "", "parent_goal": "No such goal"}, "parent_goal", "Unknown parent goal"),
        ({"owner_employee_id": "NOPE"}, "owner_employee_id", "Unknown owner"),
        ({"measure": "No such measure"}, "measure", "Unknown measure"),
        ({"priority": "", "parent_goal": "{individual}"}, "parent_goal", "is an individual goal"),
        (
            {"level": "functional", "owner_employee_id": "", "department": "Nursing", "parent_goal": "{ward}"},
            "parent_goal",
            "directly under a quality priority",
        ),
        ({"level": "functional", "owner_employee_id": "", "department": "Nowhere"}, "department", "Unknown department"),
        ({"level": "team"}, "level", "not a level"),
        ({"weight": "lots"}, "weight", "not a number"),
        ({"weight": "150"}, "weight", "from 1 to 100"),
        ({"baseline": "1O"}, "baseline", "not a number"),
        ({"due_date": "31/12/2026"}, "due_date", "YYYY-MM-DD"),
        ({"baseline": "5", "target": "5"}, "target", "must differ from the baseline"),
        ({"measure": "Scanned doses", "baseline": "60", "target": "40"}, "target", "Higher is better"),
        ({"progress_mode": "measure"}, "measure", "needs a linked measure"),
        ({"kind": "vibes"}, "kind", "not a kind"),
        ({"owner_employee_id": "{stranger}"}, "owner_employee_id", "You cannot set goals for Pharmacist"),
        ({"title": ""}, "title", "Title is required"),
    ],
)
def test_each_bad_row_is_reported_and_nothing_is_written(
    client_for, cast, period, priority, ward_goal, measure, django_capture_on_commit_callbacks, values, field, message
):
    individual = IndividualGoalFactory(owner=cast.employee, parent_goal=ward_goal)
    replacements = {
        "{individual}": str(individual.pk),
        "{ward}": str(ward_goal.pk),
        "{stranger}": cast.stranger.employee_id,
    }
    values = {k: replacements.get(v, v) for k, v in values.items()}
    good = row(
        level="individual",
        title="A good goal",
        priority=priority.title,
        owner_employee_id=cast.employee.employee_id,
        weight="50",
    )
    bad = row(
        **{
            "level": "individual",
            "title": "A bad goal",
            "priority": priority.title,
            "owner_employee_id": cast.employee.employee_id,
            "weight": "50",
            **values,
        }
    )
    before = set(Goal.objects.values_list("pk", flat=True))
    # The manager imports: the stranger is outside their reports.
    upload(client_for(cast.manager), period, [good, bad], django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.REJECTED
    assert (3, field) in problems(record), record.errors
    assert any(message in p["message"] for p in record.errors if p["field"] == field), record.errors
    assert all(p["row"] == 3 for p in record.errors), record.errors
    assert set(Goal.objects.values_list("pk", flat=True)) == before


def test_a_parent_goal_from_another_period_or_cancelled_is_refused(
    client_for, cast, period, priority, django_capture_on_commit_callbacks
):
    older = GoalPeriod.objects.create(name="2025", start="2025-01-01", end="2025-12-31")
    old_goal = FunctionalGoalFactory(priority=priority, period=older, department=cast.employee.department)
    cancelled = FunctionalGoalFactory(
        priority=priority, period=period, department=cast.employee.department, status=GoalStatus.CANCELLED
    )
    lines = [
        row(
            level="individual",
            title="x",
            parent_goal=str(old_goal.pk),
            owner_employee_id=cast.employee.employee_id,
            weight="10",
        ),
        row(
            level="individual",
            title="y",
            parent_goal=str(cancelled.pk),
            owner_employee_id=cast.employee.employee_id,
            weight="10",
        ),
    ]
    upload(client_for(cast.hr), period, lines, django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    messages = [p["message"] for p in record.errors]
    assert problems(record) == [(2, "parent_goal"), (3, "parent_goal")]
    assert "belongs to 2025" in messages[0] and "cancelled" in messages[1]


def test_an_individual_row_under_a_bad_department_row_of_the_same_file_says_so(
    client_for, cast, period, priority, django_capture_on_commit_callbacks
):
    lines = [
        row(
            level="individual",
            title="Mine",
            parent_goal="Broken department goal",
            owner_employee_id=cast.employee.employee_id,
            weight="100",
        ),
        row(
            level="functional",
            title="Broken department goal",
            priority=priority.title,
            department="Nursing",
            weight="0",
        ),
    ]
    upload(client_for(cast.hr), period, lines, django_capture_on_commit_callbacks)
    record = CascadeImport.objects.get()
    assert problems(record) == [(2, "parent_goal"), (3, "weight")]
    assert "row 3 has problems" in record.errors[0]["message"]
    assert not Goal.objects.exists()


def test_a_file_without_the_required_columns_is_rejected(client_for, cast, period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.hr).post(
            reverse("cascade:goal_import"),
            {"file": SimpleUploadedFile("goals.csv", b"title,weight\nA,100\n"), "period": period.pk},
        )
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.REJECTED and "Missing column(s): level" in record.errors[0]["message"]


def test_the_import_runs_in_a_bounded_number_of_queries_per_check(cast, period, priority, ward_goal):
    """Checking resolves references in bulk: 2 or 20 rows cost the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cascade.imports import goals as goal_import
    from cascade.imports.rows import read_rows
    from cascade.imports.runner import handler_for

    def check_cost(count: int) -> int:
        lines = [
            row(
                level="individual",
                title=f"Goal {i}",
                parent_goal="Ward scanning",
                owner_employee_id=cast.employee.employee_id,
                weight="5",
            )
            for i in range(count)
        ]
        content = "\n".join([HEADER, *lines]).encode()
        record = CascadeImport.objects.create(
            kind=ImportKind.GOALS, period=period, created_by=cast.hr.user, file_name="g.csv", content=content
        )
        rows = read_rows("g.csv", content, handler_for(ImportKind.GOALS))
        with CaptureQueriesContext(connection) as queries:
            assert goal_import.check(record, rows) == []
        return len(queries)

    check_cost(1)  # the uploader's employee record is then cached on the user, as in a real run
    assert check_cost(2) == check_cost(20)

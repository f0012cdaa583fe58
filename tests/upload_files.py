"""Hostile and ordinary upload files for the import tests, and a way to post a large file the way a
browser does: streamed from disk, so that what a test measures is the server, not the test client
(which would otherwise read the whole file into memory to build the request)."""

from __future__ import annotations

import io
import time
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.test import Client

MB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    "</Relationships>"
)


def _cell(value: object) -> str:
    if isinstance(value, int | float):
        return f"<c><v>{value}</v></c>"
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def workbook_bytes(header: Sequence[object], rows: Iterable[Sequence[object]], *, extra_parts: int = 0) -> bytes:
    """A minimal valid .xlsx (openpyxl reads it) written with zipfile, one sheet, inline strings."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            batch: list[str] = []
            for cells in _chain(header, rows):
                batch.append("<row>" + "".join(_cell(c) for c in cells) + "</row>")
                if len(batch) == 10_000:
                    sheet.write("".join(batch).encode())
                    batch.clear()
            sheet.write("".join(batch).encode())
            sheet.write(b"</sheetData></worksheet>")
        for index in range(extra_parts):
            archive.writestr(f"xl/media/part{index}.xml", "<x/>")
    return buffer.getvalue()


def _chain(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterable[Sequence[object]]:
    yield header
    yield from rows


def zip_bomb_xlsx(header: Sequence[object], *, rows: int = 300_000) -> bytes:
    """The attack from issue 13: a workbook of about 100 KB whose sheet unpacks to 300,000 rows."""
    row = ["E1", *([1] * (len(header) - 1))]
    return workbook_bytes(header, (row for _ in range(rows)))


def write_big_csv(path: Path, header: str, line: str, *, size: int) -> Path:
    """A CSV of at least ``size`` bytes, written to disk in blocks (never whole in memory)."""
    block = line * max(1, (MB // len(line)))
    with path.open("w", encoding="utf-8") as out:
        out.write(header)
        written = len(header)
        while written < size:
            out.write(block)
            written += len(block)
    return path


@dataclass
class Measured:
    status_code: int
    text: str
    seconds: float
    peak_bytes: int
    response: object


def post_file_streamed(
    client: Client, url: str, path: Path, *, name: str, fields: dict[str, str] | None = None
) -> Measured:
    """POST ``path`` as the multipart field "file" (plus ``fields``), streaming the body from disk as a
    browser's upload arrives. Posted twice: once timed (after a GET of the same URL, so that the
    process has loaded what a first request loads), once under tracemalloc for the Python heap's
    peak while the server handled it (tracing slows every allocation, so it is not timed)."""
    client.get(url)  # warm: imports, URL resolvers and templates load on a process's first request
    boundary = uuid.uuid4().hex
    body_path = path.with_suffix(path.suffix + ".body")
    with body_path.open("wb") as body:
        for key, value in (fields or {}).items():
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        with path.open("rb") as source:
            while chunk := source.read(MB):
                body.write(chunk)
        body.write(f"\r\n--{boundary}--\r\n".encode())
    length = body_path.stat().st_size

    def post() -> object:
        with body_path.open("rb") as stream:
            return client.request(
                REQUEST_METHOD="POST",
                PATH_INFO=url,
                CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
                CONTENT_LENGTH=str(length),
                **{"wsgi.input": stream},
            )

    try:
        started = time.perf_counter()
        response = post()
        seconds = time.perf_counter() - started
        tracemalloc.start()
        try:
            post()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        body_path.unlink(missing_ok=True)
    content = response.content.decode(errors="replace")  # type: ignore[attr-defined]
    return Measured(response.status_code, content, seconds, peak, response)  # type: ignore[attr-defined]

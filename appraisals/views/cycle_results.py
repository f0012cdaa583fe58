"""HR's cycle results: the CSV and XLSX exports and the history of changes."""

from __future__ import annotations

import datetime
import itertools
import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from appraisals.access import HR_ONLY_CYCLES, can_manage_cycles
from appraisals.history import actor_name
from appraisals.models import (
    ReviewCycle,
)
from appraisals.selectors import cycles as cycle_selectors
from appraisals.views.cycle_common import cycle_or_404
from core import exports
from core.access import get_visible_or_404, requires

HISTORY_PER_PAGE = 50


HISTORY_VALUE_CHARS = 300


def _export_name(cycle: ReviewCycle, extension: str) -> str:
    return f"{slugify(cycle.name) or 'cycle'}-results.{extension}"


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_GET
def export_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    cycle = cycle_or_404(request, pk)
    # Streamed row by row; names and comments are people's text, escaped by core.exports.
    rows = itertools.chain([cycle_selectors.EXPORT_COLUMNS], cycle_selectors.result_rows(cycle))
    return exports.csv_stream(rows, _export_name(cycle, "csv"))


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_GET
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    cycle = cycle_or_404(request, pk)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Results")
    sheet.freeze_panes = "A2"
    exports.xlsx_row(sheet, cycle_selectors.EXPORT_COLUMNS, font=Font(bold=True))
    for row in cycle_selectors.result_rows(cycle):
        exports.xlsx_row(sheet, row)
    return exports.xlsx_response(workbook, _export_name(cycle, "xlsx"))


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    query = request.GET.get("q", "").strip()
    wanted = request.GET.get("participant", "")
    chosen = None
    if wanted.isdigit():
        chosen = get_visible_or_404(cycle.participants.select_related("employee"), pk=wanted)
    entries = cycle_selectors.cycle_history(cycle, participant=chosen, query=query)
    page = Paginator(entries, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.actor_label = actor_name(entry)
        entry.old_text = _value_text(entry.old)
        entry.new_text = _value_text(entry.new)
    return render(
        request,
        "appraisals/cycles/history.html",
        {"cycle": cycle, "page": page, "query": query, "chosen": chosen},
    )


def _value_text(value: object) -> str:
    """A stored history value as a person reads it: a timestamp in local time, other text as it
    is, anything else as JSON, cut to a line or two."""
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return dateformat.format(moment, "j M Y, H:i")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= HISTORY_VALUE_CHARS else text[: HISTORY_VALUE_CHARS - 1] + "…"

"""HR's action log: every change across the organisation, filtered, per record, and as CSV.

The log is written by every app's services (core.log); people reads it because people knows
who is HR. One record's history is ``/history/?kind=<app_label.model>&object=<id>``
(``{% history_url obj %}`` from people's ``history`` template tags builds it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core import exports
from core.access import requires
from people import access
from people.forms import HistoryFilterForm
from people.selectors import history

PAGE_SIZE = 50
history_page = requires(access.can_read_action_log, access.HR_ONLY_HISTORY)


@history_page
def history_list(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(
        request.GET or None, actions=history.action_names(), kinds=history.kinds(), actors=history.actors()
    )
    if request.GET and not form.is_valid():
        return render(request, "people/history.html", {"form": form, "page": None}, status=400)
    filters = form.filters() if request.GET else history.HistoryFilters()
    entries = history.entries(filters).select_related("actor__employee")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    one_record = bool(filters.kind and filters.object_id)
    return render(
        request,
        "people/history.html",
        {
            "form": form,
            "page": page,
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
            # One record's history names the record (as the newest entry last knew it).
            "record_name": page.object_list[0].object_repr if one_record and page.object_list else "",
            "one_record": one_record,
        },
    )


@history_page
def history_csv(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "people/history.html", {"form": form, "page": None}, status=400)
    filters = form.filters() if request.GET else history.HistoryFilters()
    rows = history.entries(filters).iterator(chunk_size=2000)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # Streamed: the whole log can be long. Names, records and changes are people's text, so
    # they go through core.exports like every export.
    return exports.csv_stream(_csv_rows(rows), f"action-log-{stamp}.csv", bom=False)


HEADER = ["at", "who", "action", "kind", "record_id", "record", "changes", "data", "source"]


def _csv_rows(rows: Iterator) -> Iterator[list[object]]:
    yield HEADER
    for entry in rows:
        yield [
            timezone.localtime(entry.at).isoformat(timespec="seconds"),
            entry.actor_label,
            entry.action,
            entry.kind,
            entry.object_id,
            entry.object_repr,
            json.dumps(entry.changes, ensure_ascii=False) if entry.changes else "",
            json.dumps(entry.data, ensure_ascii=False) if entry.data else "",
            entry.source,
        ]

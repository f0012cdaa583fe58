"""HR's review-cycle pages: the list, set-up (with per-person overrides and a launch
preview), the launch and its progress, adding people later, the dashboard with phase
moves, nudges and closing, the results exports and the history of changes.

Only HR admins see these pages; everyone else gets 404, so that they do not advertise
themselves. Writing goes through appraisals.services.cycles, whose ValidationError
answers 400 with the form's messages, ConflictError a 409 that keeps what HR typed,
and PermissionDenied a 403. Reading for the dashboard and exports is
appraisals.dashboards (a fixed number of queries, however many people take part).
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appraisals import dashboards
from appraisals.forms_cycles import (
    CycleForm,
    OverrideForm,
    ParticipantsAddForm,
    PhaseMoveForm,
    add_service_errors,
    people_matching,
)
from appraisals.history import actor_name
from appraisals.models import (
    PHASE_ORDER,
    CycleState,
    HistoryEntry,
    Participant,
    ParticipantOverride,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.services import cycles as services
from appraisals.services import todos
from core.errors import ConflictError
from people import selectors as people
from people.models import Employee

HISTORY_PER_PAGE = 50
HISTORY_VALUE_CHARS = 300
CANDIDATES_SHOWN = 100  # people offered at once on "add people"; a search narrows the rest


def _require_hr(request: HttpRequest) -> None:
    if not people.is_hr_admin(request.user):
        raise Http404("No such page.")


def _get_cycle(pk: int) -> ReviewCycle:
    cycle = ReviewCycle.objects.select_related("period", "created_by").filter(pk=pk).first()
    if cycle is None:
        raise Http404("No such review cycle.")
    return cycle


def _hr_cycle(request: HttpRequest, pk: int) -> ReviewCycle:
    _require_hr(request)
    return _get_cycle(pk)


def _errors_of(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _found_people(request: HttpRequest) -> HttpResponse | None:
    """The htmx search of the set-up pages: matching people as ticks to add (a partial), or None."""
    if request.method == "GET" and request.headers.get("HX-Request") and "find" in request.GET:
        query = request.GET.get("find", "")
        return render(
            request,
            "appraisals/cycles/_people_found.html",
            {"found": people_matching(query), "query": query, "field_name": "excluded"},
        )
    return None


# ---------------------------------------------------------------- the list


@login_required
@require_GET
def cycle_list(request: HttpRequest) -> HttpResponse:
    _require_hr(request)
    return render(request, "appraisals/cycles/list.html", {"rows": dashboards.cycle_rows()})


# ---------------------------------------------------------------- set-up


def _form_page(
    request: HttpRequest,
    form: CycleForm,
    *,
    cycle: ReviewCycle | None = None,
    status: int = 200,
    override_form: OverrideForm | None = None,
    extra: dict[str, object] | None = None,
) -> HttpResponse:
    context: dict[str, object] = {
        "form": form,
        "cycle": cycle,
        "phase_rows": form.phase_rows(),
        "excluded_people": form.excluded_people(),
        "found": people_matching(request.POST.get("find", "")) if request.method == "POST" else [],
        "find": request.POST.get("find", "") if request.method == "POST" else "",
        "start_note": _start_note(form, cycle),
    }
    if cycle is not None and cycle.state in (CycleState.SETUP, CycleState.ACTIVE):
        context.update(_setup_context(cycle, override_form))
    context.update(extra or {})
    return render(request, "appraisals/cycles/form.html", context, status=status)


def _start_note(form: CycleForm, cycle: ReviewCycle | None) -> str:
    """The warning for windows already past, for the dates on the page: those typed, else those saved."""
    if not form.is_bound:
        return services.start_note(cycle) if cycle is not None else ""
    cleaned = getattr(form, "cleaned_data", {})
    dates = {name: cleaned.get(name) for name in services.DATE_FIELDS}
    if None in dates.values() or (cycle is not None and cycle.state != CycleState.SETUP):
        return ""
    return services.start_note(ReviewCycle(methodology=cleaned.get("methodology") or "pdsa", **dates))


def _setup_context(cycle: ReviewCycle, override_form: OverrideForm | None = None) -> dict[str, object]:
    overrides = ParticipantOverride.objects.filter(cycle=cycle).select_related(
        "employee__department", "form_version__form", "reviewer"
    )
    return {
        "overrides": list(overrides.order_by("employee__full_name")),
        "override_form": override_form or OverrideForm(prefix="override"),
        "preview": services.launch_preview(cycle) if cycle.state == CycleState.SETUP else None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def cycle_create(request: HttpRequest) -> HttpResponse:
    _require_hr(request)
    if found := _found_people(request):
        return found
    if request.method != "POST":
        return _form_page(request, CycleForm())
    form = CycleForm(request.POST)
    if request.POST.get("action") == "find":  # the search without JavaScript: the form comes back as typed
        return _form_page(request, CycleForm(request.POST))
    if form.is_valid():
        try:
            cycle = services.cycle_create(
                user=request.user,
                data=form.service_data(),
                departments=form.cleaned_data["departments"],
                excluded=form.cleaned_data["excluded"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{cycle.name}” was created. Check the launch preview, then launch it.")
            if note := services.start_note(cycle):
                messages.warning(request, note)
            return redirect("appraisals:cycle_detail", pk=cycle.pk)
    return _form_page(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    if found := _found_people(request):
        return found
    if cycle.state == CycleState.CLOSED:
        messages.info(request, "This cycle is closed; it can no longer change.")
        return redirect("appraisals:cycle_detail", pk=cycle.pk)
    if request.method != "POST":
        return _form_page(request, _cycle_form(cycle), cycle=cycle)
    action = request.POST.get("action", "save")
    if action == "override_add":
        return _override_add(request, cycle)
    if action == "override_remove":
        return _override_remove(request, cycle)
    if action == "find":
        return _form_page(request, _cycle_form(cycle, request.POST), cycle=cycle)
    form = _cycle_form(cycle, request.POST)
    if form.is_valid():
        setup = cycle.state == CycleState.SETUP
        try:
            services.cycle_update(
                user=request.user,
                cycle=copy.copy(cycle),  # the service changes it; the page keeps the saved one
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                departments=form.cleaned_data["departments"] if setup else None,
                excluded=form.cleaned_data["excluded"] if setup else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ConflictError as exc:
            return _conflict(request, cycle, exc)
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("appraisals:cycle_detail", pk=cycle.pk)
    return _form_page(request, form, cycle=cycle, status=400)


def _cycle_form(cycle: ReviewCycle, data=None) -> CycleForm:  # type: ignore[no-untyped-def]
    return CycleForm(data, initial=CycleForm.initial_for(cycle), is_setup=cycle.state == CycleState.SETUP)


def _conflict(request: HttpRequest, cycle: ReviewCycle, exc: ConflictError) -> HttpResponse:
    """The form as HR filled it in, now based on the saved version, beside what is saved now."""
    current = _get_cycle(cycle.pk)
    data = request.POST.copy()
    data["version"] = str(current.version)
    extra = {
        "conflict": exc.message,
        "current": current,
        "current_departments": list(current.departments.all()),
        "current_excluded": current.excluded.count(),
        "current_windows": [(current.phase_label(p), *current.window(p)) for p in PHASE_ORDER],
    }
    return _form_page(request, _cycle_form(current, data), cycle=current, status=409, extra=extra)


def _override_add(request: HttpRequest, cycle: ReviewCycle) -> HttpResponse:
    override_form = OverrideForm(request.POST, prefix="override")
    if override_form.is_valid():
        try:
            services.override_set(
                user=request.user,
                cycle=cycle,
                employee=override_form.cleaned_data["employee"],
                form_version=override_form.cleaned_data["form_version"],
                reviewer=override_form.cleaned_data["reviewer"],
            )
        except ValidationError as exc:
            add_service_errors(override_form, exc)
        else:
            messages.success(request, f"The override for {override_form.cleaned_data['employee']} was saved.")
            return redirect(reverse("appraisals:cycle_edit", args=[cycle.pk]) + "#overrides")
    return _form_page(request, _cycle_form(cycle), cycle=cycle, status=400, override_form=override_form)


def _override_remove(request: HttpRequest, cycle: ReviewCycle) -> HttpResponse:
    wanted = request.POST.get("employee", "")
    employee = Employee.objects.filter(pk=int(wanted)).first() if wanted.isdigit() else None
    if employee is None:
        raise Http404("No such person.")
    try:
        services.override_clear(user=request.user, cycle=cycle, employee=employee)
    except ValidationError as exc:
        return _form_page(
            request, _cycle_form(cycle), cycle=cycle, status=400, extra={"action_errors": _errors_of(exc)}
        )
    messages.success(request, f"The override for {employee} was removed.")
    return redirect(reverse("appraisals:cycle_edit", args=[cycle.pk]) + "#overrides")


# ---------------------------------------------------------------- launch


@login_required
@require_POST
def cycle_launch(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    try:
        services.cycle_launch(user=request.user, cycle=cycle)
    except ValidationError as exc:
        return _detail_page(request, _get_cycle(pk), status=400, action_errors=_errors_of(exc))
    return redirect("appraisals:launch_progress", pk=cycle.pk)


@login_required
@require_GET
def launch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    template = (
        "appraisals/cycles/_launch_status.html"
        if request.headers.get("HX-Request")
        else "appraisals/cycles/launch_progress.html"
    )
    return render(request, template, {"cycle": cycle, "launch": _launch_status(cycle)})


@login_required
@require_POST
def launch_resume(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    try:
        services.launch_resume(user=request.user, cycle=cycle)
    except ValidationError as exc:
        return _detail_page(request, _get_cycle(pk), status=400, action_errors=_errors_of(exc))
    return redirect("appraisals:launch_progress", pk=cycle.pk)


def _launch_status(cycle: ReviewCycle) -> dict[str, object]:
    """How far the launch has got; "finished" stops the page polling (done, or stopped with an error)."""
    total, done = cycle.launch_total, min(cycle.launch_done, cycle.launch_total or cycle.launch_done)
    finished = cycle.state != CycleState.LAUNCHING or bool(cycle.launch_error)
    launched = cycle.state in (CycleState.ACTIVE, CycleState.CLOSED)
    pct = 100 if launched else dashboards.percent(done, total) or 0
    return {
        "total": total,
        "done": done,
        "percent": pct,
        "finished": finished,
        "error": cycle.launch_error,
        "stalled": cycle.is_stalled,
    }


@login_required
@require_http_methods(["GET", "POST"])
def participants_add(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    form = ParticipantsAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.participants_add(user=request.user, cycle=cycle, employees=form.cleaned_data["employees"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            count = _how_many(added, len(form.cleaned_data["employees"]))
            messages.success(request, f"{count} {'person was' if count == 1 else 'people were'} added to the cycle.")
            return redirect("appraisals:cycle_detail", pk=cycle.pk)
    query = request.GET.get("q", "").strip()
    in_cycle = Participant.objects.filter(cycle=cycle).values("employee_id")
    candidates = services.eligible_employees(cycle).exclude(pk__in=in_cycle)
    if query:
        candidates = candidates.filter(Q(full_name__icontains=query) | Q(employee_id__iexact=query))
    return render(
        request,
        "appraisals/cycles/participants_add.html",
        {
            "cycle": cycle,
            "form": form,
            "candidates": list(candidates.select_related("department").order_by("full_name")[:CANDIDATES_SHOWN]),
            "waiting": candidates.count(),
            "query": query,
            "ticked": set(request.POST.getlist("employees")),
        },
        status=400 if form.errors else 200,
    )


def _how_many(added: object, default: int) -> int:
    if isinstance(added, int):
        return added
    try:
        return len(added)  # type: ignore[arg-type]
    except TypeError:
        return default


# ---------------------------------------------------------------- the dashboard and its actions


def _detail_page(request: HttpRequest, cycle: ReviewCycle, *, status: int = 200, **extra: object) -> HttpResponse:
    context: dict[str, object] = {"cycle": cycle, "phases": _phase_choices(cycle)}
    if cycle.state == CycleState.SETUP:
        context.update(_setup_context(cycle), start_note=services.start_note(cycle))
    elif cycle.state == CycleState.LAUNCHING:
        context["launch"] = _launch_status(cycle)
    else:
        context["board"] = dashboards.dashboard(cycle)
    context.update(extra)
    return render(request, "appraisals/cycles/detail.html", context, status=status)


def _phase_choices(cycle: ReviewCycle) -> list[dict[str, object]]:
    """The four phases with their labels for this cycle's methodology, and which way each is from now."""
    current = PHASE_ORDER.index(Phase(cycle.phase)) if cycle.phase else -1
    return [
        {
            "value": str(phase),
            "label": cycle.phase_label(phase),
            "current": index == current,
            "direction": "back" if index < current else "forward",
            "window": cycle.window(phase),
        }
        for index, phase in enumerate(PHASE_ORDER)
    ]


@login_required
@require_GET
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _hr_cycle(request, pk))


@login_required
@require_POST
def phase_move(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    form = PhaseMoveForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, cycle, status=400, action_errors=["Choose one of the four phases."])
    phase = form.cleaned_data["phase"]
    if not form.cleaned_data["confirmed"]:
        return _confirm_page(request, cycle, "phase", phase=phase)
    try:
        services.phase_move(user=request.user, cycle=cycle, phase=phase)
    except ValidationError as exc:
        return _detail_page(request, _get_cycle(pk), status=400, action_errors=_errors_of(exc))
    messages.success(
        request, f"The cycle is now in {cycle.phase_label(phase)}. Everyone was told what they have to do."
    )
    return redirect("appraisals:cycle_detail", pk=pk)


def _confirm_page(request: HttpRequest, cycle: ReviewCycle, what: str, **extra: object) -> HttpResponse:
    context: dict[str, object] = {"cycle": cycle, "what": what, **extra}
    if what == "phase":
        phase = str(extra["phase"])
        current = PHASE_ORDER.index(Phase(cycle.phase)) if cycle.phase else -1
        context.update(
            phase_label=cycle.phase_label(phase),
            backwards=PHASE_ORDER.index(Phase(phase)) < current,
            same=PHASE_ORDER.index(Phase(phase)) == current,
        )
    else:
        context["open_appraisals"] = (
            Participant.objects.filter(cycle=cycle).exclude(appraisal__state__in=dashboards.FINISHED_APPRAISALS).count()
        )
    return render(request, "appraisals/cycles/confirm.html", context)


@login_required
@require_POST
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    if request.POST.get("confirmed") != "1":
        return _confirm_page(request, cycle, "close")
    try:
        services.cycle_close(user=request.user, cycle=cycle)
    except ValidationError as exc:
        return _detail_page(request, _get_cycle(pk), status=400, action_errors=_errors_of(exc))
    messages.success(request, f"“{cycle.name}” is closed. Every appraisal in it is locked.")
    return redirect("appraisals:cycle_detail", pk=pk)


@login_required
@require_POST
def nudge(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the late now: everyone with overdue to-dos, or the people ticked on the dashboard
    (the holder of a ticked to-do; a ticked person behind the phase and their reviewer)."""
    cycle = _hr_cycle(request, pk)
    employees: list[Employee] | None = None
    if request.POST.get("everyone") != "1":
        todo_ids = [int(v) for v in request.POST.getlist("todo") if v.isdigit()]
        participant_ids = [int(v) for v in request.POST.getlist("participant") if v.isdigit()]
        holders = set(ToDo.objects.filter(cycle=cycle, pk__in=todo_ids).values_list("employee_id", flat=True))
        for employee_id, reviewer_id in Participant.objects.filter(cycle=cycle, pk__in=participant_ids).values_list(
            "employee_id", "reviewer_id"
        ):
            holders.update(i for i in (employee_id, reviewer_id) if i)
        if not holders:
            messages.error(request, "Tick the people to nudge first, or nudge everyone late.")
            return redirect(reverse("appraisals:cycle_detail", args=[pk]) + "#late")
        employees = list(Employee.objects.filter(pk__in=holders))
    try:
        sent = todos.nudge(user=request.user, cycle=cycle, employees=employees)
    except ValidationError as exc:
        return _detail_page(request, cycle, status=400, action_errors=_errors_of(exc))
    if sent:
        messages.success(request, f"Reminders were emailed to {sent} {'person' if sent == 1 else 'people'}.")
    else:
        messages.info(request, "No one was emailed: none of them has an overdue to-do (or an email address).")
    return redirect(reverse("appraisals:cycle_detail", args=[pk]) + "#late")


# ---------------------------------------------------------------- exports


def _export_name(cycle: ReviewCycle, extension: str) -> str:
    return f"{slugify(cycle.name) or 'cycle'}-results.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_value(value: object) -> object:
    return "" if value is None else value


@login_required
@require_GET
def export_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    cycle = _hr_cycle(request, pk)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # so that spreadsheet programs read the names as UTF-8
        yield writer.writerow(dashboards.EXPORT_COLUMNS)
        for row in dashboards.result_rows(cycle):
            yield writer.writerow([_csv_value(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(cycle, "csv")}"'
    return response


@login_required
@require_GET
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    cycle = _hr_cycle(request, pk)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Results")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    header = []
    for title in dashboards.EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in dashboards.result_rows(cycle):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(cycle, "xlsx")}"'
    return response


# ---------------------------------------------------------------- history


@login_required
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    entries = HistoryEntry.objects.filter(cycle=cycle).select_related(
        "actor__employee", "participant__employee__department"
    )
    query = request.GET.get("q", "").strip()
    wanted = request.GET.get("participant", "")
    chosen = None
    if wanted.isdigit():
        chosen = Participant.objects.filter(cycle=cycle, pk=int(wanted)).select_related("employee").first()
        if chosen is None:
            raise Http404("No such person in this cycle.")
        entries = entries.filter(participant=chosen)
    elif query:
        entries = entries.filter(
            Q(participant__employee__full_name__icontains=query) | Q(participant__employee__employee_id__iexact=query)
        )
    page = Paginator(entries.order_by("-at", "-pk"), HISTORY_PER_PAGE).get_page(request.GET.get("page"))
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

"""HR's cycle dashboard: the launch and its progress, phase moves, nudges and closing.

Reading for the dashboard is appraisals.selectors (a fixed number of queries, however many
people take part); writing goes through appraisals.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from appraisals.access import HR_ONLY_CYCLES, can_manage_cycles
from appraisals.forms.cycles import (
    PhaseMoveForm,
)
from appraisals.models import (
    PHASE_ORDER,
    CycleState,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.selectors import cycles as cycle_selectors
from appraisals.services import cycles as services
from appraisals.services import todos
from appraisals.views.cycle_common import cycle_or_404, errors_of, setup_context
from core.access import requires
from core.inputs import id_list
from people.models import Employee


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_POST
def cycle_launch(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    try:
        services.cycle_launch(user=request.user, cycle=cycle)
    except ValidationError as exc:
        return _detail_page(request, cycle_or_404(request, pk), status=400, action_errors=errors_of(exc))
    return redirect("appraisals:launch_progress", pk=cycle.pk)


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_GET
def launch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    template = (
        "appraisals/cycles/_launch_status.html"
        if request.headers.get("HX-Request")
        else "appraisals/cycles/launch_progress.html"
    )
    return render(request, template, {"cycle": cycle, "launch": _launch_status(cycle)})


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_POST
def launch_resume(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    try:
        services.launch_resume(user=request.user, cycle=cycle)
    except ValidationError as exc:
        return _detail_page(request, cycle_or_404(request, pk), status=400, action_errors=errors_of(exc))
    return redirect("appraisals:launch_progress", pk=cycle.pk)


def _launch_status(cycle: ReviewCycle) -> dict[str, object]:
    """How far the launch has got; "finished" stops the page polling (done, or stopped with an error)."""
    total, done = cycle.launch_total, min(cycle.launch_done, cycle.launch_total or cycle.launch_done)
    finished = cycle.state != CycleState.LAUNCHING or bool(cycle.launch_error)
    launched = cycle.state in (CycleState.ACTIVE, CycleState.CLOSED)
    pct = 100 if launched else cycle_selectors.percent(done, total) or 0
    return {
        "total": total,
        "done": done,
        "percent": pct,
        "finished": finished,
        "error": cycle.launch_error,
        "stalled": cycle.is_stalled,
    }


def _detail_page(request: HttpRequest, cycle: ReviewCycle, *, status: int = 200, **extra: object) -> HttpResponse:
    context: dict[str, object] = {"cycle": cycle, "phases": _phase_choices(cycle)}
    if cycle.state == CycleState.SETUP:
        context.update(setup_context(cycle), start_note=services.start_note(cycle))
    elif cycle.state == CycleState.LAUNCHING:
        context["launch"] = _launch_status(cycle)
    else:
        context["board"] = cycle_selectors.dashboard(cycle)
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


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_GET
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, cycle_or_404(request, pk))


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_POST
def phase_move(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    form = PhaseMoveForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, cycle, status=400, action_errors=["Choose one of the four phases."])
    phase = form.cleaned_data["phase"]
    if not form.cleaned_data["confirmed"]:
        return _confirm_page(request, cycle, "phase", phase=phase)
    try:
        services.phase_move(user=request.user, cycle=cycle, phase=phase)
    except ValidationError as exc:
        return _detail_page(request, cycle_or_404(request, pk), status=400, action_errors=errors_of(exc))
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
            Participant.objects.filter(cycle=cycle)
            .exclude(appraisal__state__in=cycle_selectors.FINISHED_APPRAISALS)
            .count()
        )
    return render(request, "appraisals/cycles/confirm.html", context)


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_POST
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    if request.POST.get("confirmed") != "1":
        return _confirm_page(request, cycle, "close")
    try:
        services.cycle_close(user=request.user, cycle=cycle)
    except ValidationError as exc:
        return _detail_page(request, cycle_or_404(request, pk), status=400, action_errors=errors_of(exc))
    messages.success(request, f"“{cycle.name}” is closed. Every appraisal in it is locked.")
    return redirect("appraisals:cycle_detail", pk=pk)


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_POST
def nudge(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the late now: everyone with overdue to-dos, or the people ticked on the dashboard
    (the holder of a ticked to-do; a ticked person behind the phase and their reviewer)."""
    cycle = cycle_or_404(request, pk)
    employees: list[Employee] | None = None
    if request.POST.get("everyone") != "1":
        todo_ids = id_list(request.POST.getlist("todo"))
        participant_ids = id_list(request.POST.getlist("participant"))
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
        return _detail_page(request, cycle, status=400, action_errors=errors_of(exc))
    if sent:
        messages.success(request, f"Reminders were emailed to {sent} {'person' if sent == 1 else 'people'}.")
    else:
        messages.info(request, "No one was emailed: none of them has an overdue to-do (or an email address).")
    return redirect(reverse("appraisals:cycle_detail", args=[pk]) + "#late")

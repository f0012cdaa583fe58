"""HR's cycle set-up pages: the list, the set-up form (with per-person overrides and a
launch preview), and adding people to a running cycle.

Writing goes through appraisals.services.cycles, whose ValidationError answers 400 with
the form's messages, ConflictError a 409 that keeps what HR typed, and PermissionDenied a 403.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from appraisals.access import HR_ONLY_CYCLES, can_manage_cycles
from appraisals.forms.cycles import (
    CycleForm,
    OverrideForm,
    ParticipantsAddForm,
    people_matching,
)
from appraisals.models import (
    PHASE_ORDER,
    CycleState,
    Participant,
    ReviewCycle,
)
from appraisals.selectors import cycles as cycle_selectors
from appraisals.services import cycles as services
from appraisals.views.cycle_common import cycle_or_404, errors_of, setup_context
from core.access import requires
from core.errors import ConflictError
from core.forms import apply_service_errors
from people.models import Employee

CANDIDATES_SHOWN = 100  # people offered at once on "add people"; a search narrows the rest


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


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_GET
def cycle_list(request: HttpRequest) -> HttpResponse:
    return render(request, "appraisals/cycles/list.html", {"rows": cycle_selectors.cycle_rows()})


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
        context.update(setup_context(cycle, override_form))
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


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_http_methods(["GET", "POST"])
def cycle_create(request: HttpRequest) -> HttpResponse:
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
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"“{cycle.name}” was created. Check the launch preview, then launch it.")
            if note := services.start_note(cycle):
                messages.warning(request, note)
            return redirect("appraisals:cycle_detail", pk=cycle.pk)
    return _form_page(request, form, status=400)


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_http_methods(["GET", "POST"])
def cycle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
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
            apply_service_errors(form, exc)
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
    current = cycle_or_404(request, cycle.pk)
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
            apply_service_errors(override_form, exc)
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
        return _form_page(request, _cycle_form(cycle), cycle=cycle, status=400, extra={"action_errors": errors_of(exc)})
    messages.success(request, f"The override for {employee} was removed.")
    return redirect(reverse("appraisals:cycle_edit", args=[cycle.pk]) + "#overrides")


@requires(can_manage_cycles, HR_ONLY_CYCLES)
@require_http_methods(["GET", "POST"])
def participants_add(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = cycle_or_404(request, pk)
    form = ParticipantsAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.participants_add(user=request.user, cycle=cycle, employees=form.cleaned_data["employees"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
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

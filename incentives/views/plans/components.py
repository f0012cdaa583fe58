"""A plan's components and their weights (which must total 100), with a running total."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import ConflictError
from core.formatting import plain
from incentives.forms.plans import add_component_errors, component_formset
from incentives.models.plans import ComponentKind, IncentivePlan, PlanComponent, min_qi_weight
from incentives.selectors import plans as selectors
from incentives.services import plans as services
from incentives.views.plans.common import plan_for, posted_version, refuse_locked

# ---------------------------------------------------------------- components


def _posted_rows(formset) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The rows as typed (also when some do not parse), for the running total and QI share."""
    rows = []
    for form in formset.forms:
        if form["DELETE"].value():
            continue
        kind, weight = form["kind"].value() or "", str(form["weight"].value() or "").strip()
        if not kind and not weight:
            continue
        try:
            number = int(weight)
        except ValueError:
            number = 0
        rows.append({"kind": kind, "name": form["name"].value() or "", "weight": number})
    return rows


def _totals_context(rows: list[dict[str, object]]) -> dict[str, object]:
    components = [
        PlanComponent(
            kind=str(r["kind"]),
            name=str(r["name"]) or (ComponentKind(r["kind"]).label if r["kind"] in ComponentKind.values else "?"),
            weight=int(r["weight"]),  # type: ignore[call-overload]
        )
        for r in rows
    ]
    share = sum(c.weight for c in components if c.kind == ComponentKind.QI_GOALS)
    floor = min_qi_weight()
    return {
        "weights_total": sum(c.weight for c in components),
        "weights_problem": services.weights_problem(components),
        "qi_share": share,
        "floor": floor,
        "below_floor": share < floor,
    }


def _components_page(
    request: HttpRequest, plan: IncentivePlan, formset, *, status: int = 200, **extra: object
) -> HttpResponse:  # type: ignore[no-untyped-def]
    context: dict[str, object] = {
        "plan": plan,
        "formset": formset,
        "version": extra.pop("version", plan.version),
        **_totals_context(_posted_rows(formset)),
        **extra,
    }
    # The service's refusal of the weights is the alert at the top; the running total need not repeat it.
    context["problem_above"] = context["weights_problem"] in (context.get("errors") or [])
    return render(request, "incentives/plans/components.html", context, status=status)


def _initial_components(plan: IncentivePlan) -> list[dict[str, object]]:
    return [
        {
            "kind": c.kind,
            "name": c.name,
            "weight": c.weight,
            "threshold": plain(c.threshold),
            "cap": plain(c.cap),
            "achievement": plain(c.achievement),
        }
        for c in plan.components.order_by("position", "pk")
    ]


@login_required
@require_http_methods(["GET", "POST"])
def components_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    if refused := refuse_locked(request, plan):
        return refused
    if request.method != "POST":
        # A plan without components starts with one row of each kind, weights to fill in.
        initial = _initial_components(plan) or [{"kind": kind} for kind in ComponentKind.values]
        formset = component_formset(initial=initial)
        return _components_page(request, plan, formset)
    action = request.POST.get("action", "save")
    formset = component_formset(request.POST, add_row=action == "add")
    if action == "preview":  # htmx, as HR types: the running total and QI share, nothing saved
        return render(request, "incentives/plans/_component_totals.html", _totals_context(_posted_rows(formset)))
    if action == "add":
        return _components_page(request, plan, formset, version=posted_version(request))
    if not formset.is_valid():
        return _components_page(request, plan, formset, status=400, version=posted_version(request))
    given = [i for i, form in enumerate(formset.forms) if form.cleaned_data and form not in formset.deleted_forms]
    try:
        services.components_set(
            user=request.user,
            plan=copy.copy(plan),
            expected_version=posted_version(request),
            components=[formset.forms[i].service_row() for i in given],
        )
    except ValidationError as exc:
        errors = add_component_errors(formset, given, exc)
        return _components_page(request, plan, formset, status=400, version=posted_version(request), errors=errors)
    except ConflictError as exc:
        current = selectors.get_plan(user=request.user, pk=pk)
        return _components_page(
            request,
            current,
            formset,
            status=409,
            conflict=exc.message,
            saved=list(current.components.order_by("position", "pk")),
        )
    plan = selectors.get_plan(user=request.user, pk=pk)
    note = f" {plan.misalignment_warning()}" if plan.misalignment_warning() else ""
    messages.success(request, f"The components were saved: QI-linked goals carry {plan.qi_weight()} %.{note}")
    return redirect("incentives:plan_detail", pk=plan.pk)

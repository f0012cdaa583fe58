"""HR's plan list and the plan itself: create, edit eligibility, the plan at a glance."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.access import requires
from core.errors import ConflictError
from core.forms import apply_service_errors
from incentives import access
from incentives.forms.plans import PlanForm
from incentives.models.plans import IncentivePlan, PlanComponent, min_qi_weight
from incentives.selectors import plans as selectors
from incentives.services import plans as services
from incentives.views.plans.common import detail_page, plan_for, refuse_locked

# ---------------------------------------------------------------- the list


@requires(access.can_manage_plans, access.PLANS_MESSAGE)
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = (
        access.plans_visible_to(request.user)
        .prefetch_related(Prefetch("components", queryset=PlanComponent.objects.order_by("position", "pk")))
        .annotate(payout_count=Count("payouts"), payout_total=Sum("payouts__amount"))
        .order_by("-cycle__start", "cycle_id", "name", "pk")
    )
    groups: list[dict[str, object]] = []
    for plan in plans:
        plan.qi_share = plan.qi_weight()
        plan.warning = plan.misalignment_warning()
        if not groups or groups[-1]["cycle"] != plan.cycle:
            groups.append({"cycle": plan.cycle, "plans": []})
        groups[-1]["plans"].append(plan)  # type: ignore[union-attr]
    return render(request, "incentives/plans/list.html", {"groups": groups, "floor": min_qi_weight()})


# ---------------------------------------------------------------- set-up: the plan itself


def _form_page(
    request: HttpRequest, form: PlanForm, *, plan: IncentivePlan | None = None, status: int = 200, **extra: object
) -> HttpResponse:
    return render(request, "incentives/plans/form.html", {"form": form, "plan": plan, **extra}, status=status)


@requires(access.can_manage_plans, access.PLANS_MESSAGE)
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, PlanForm())
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plan = services.plan_create(
                user=request.user,
                cycle=form.cleaned_data["cycle"],
                data=form.service_data(),
                departments=form.cleaned_data["departments"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"“{plan.name}” was created. Next: its components and their weights.")
            return redirect("incentives:components_edit", pk=plan.pk)
    return _form_page(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    if refused := refuse_locked(request, plan):
        return refused
    if request.method != "POST":
        return _form_page(request, PlanForm(initial=PlanForm.initial_for(plan), plan=plan), plan=plan)
    form = PlanForm(request.POST, initial=PlanForm.initial_for(plan), plan=plan)
    if form.is_valid():
        try:
            services.plan_update(
                user=request.user,
                plan=copy.copy(plan),  # the service changes it; the page keeps the one read
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                departments=form.cleaned_data["departments"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ConflictError as exc:
            current = selectors.get_plan(user=request.user, pk=pk)
            data = request.POST.copy()
            data["version"] = str(current.version)
            form = PlanForm(data, initial=PlanForm.initial_for(current), plan=current)
            form.is_valid()
            return _form_page(
                request,
                form,
                plan=current,
                status=409,
                conflict=exc.message,
                current=current,
                current_departments=list(current.departments.all()),
            )
        else:
            messages.success(request, "The plan's eligibility was saved.")
            return redirect("incentives:plan_detail", pk=plan.pk)
    return _form_page(request, form, plan=plan, status=400)


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return detail_page(request, plan_for(request, pk))

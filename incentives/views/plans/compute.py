"""Computing a plan's payouts in the background: start, progress (polled), resume a stalled run."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from incentives.selectors import plans as selectors
from incentives.services import plans as services
from incentives.views.plans.common import compute_status, detail_page, plan_for

# ---------------------------------------------------------------- computing


@login_required
@require_POST
def compute(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    try:
        services.compute_start(user=request.user, plan=plan)
    except ValidationError as exc:
        return detail_page(
            request, selectors.get_plan(user=request.user, pk=pk), status=400, action_errors=exc.messages
        )
    return redirect("incentives:compute_progress", pk=plan.pk)


@login_required
@require_GET
def compute_progress(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    template = (
        "incentives/plans/_compute_status.html"
        if request.headers.get("HX-Request")
        else "incentives/plans/compute_progress.html"
    )
    return render(request, template, {"plan": plan, "compute": compute_status(plan)})


@login_required
@require_POST
def compute_resume(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    try:
        services.compute_resume(user=request.user, plan=plan)
    except ValidationError as exc:
        return detail_page(
            request, selectors.get_plan(user=request.user, pk=pk), status=400, action_errors=exc.messages
        )
    return redirect("incentives:compute_progress", pk=plan.pk)

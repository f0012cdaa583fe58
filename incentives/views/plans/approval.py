"""Approving (which locks the plan) and publishing (which shows people their payouts)."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ConflictError
from incentives.models.plans import IncentivePlan
from incentives.selectors import plans as selectors
from incentives.services import plans as services
from incentives.views.plans.common import detail_page, plan_for, posted_version

# ---------------------------------------------------------------- approval and publication


def _confirm_page(request: HttpRequest, plan: IncentivePlan, what: str) -> HttpResponse:
    return render(
        request, "incentives/plans/confirm.html", {"plan": plan, "what": what, "totals": selectors.plan_totals(plan)}
    )


def _decide(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    plan = plan_for(request, pk)
    if request.POST.get("confirmed") != "1":
        return _confirm_page(request, plan, what)
    service = services.plan_approve if what == "approve" else services.plan_publish
    try:
        plan = service(user=request.user, plan=copy.copy(plan), expected_version=posted_version(request))
    except ValidationError as exc:
        return detail_page(
            request, selectors.get_plan(user=request.user, pk=pk), status=400, action_errors=exc.messages
        )
    except ConflictError:
        return detail_page(
            request,
            selectors.get_plan(user=request.user, pk=pk),
            status=409,
            action_errors=["The plan changed after you opened it. Check it below, then try again."],
        )
    if what == "approve":
        messages.success(
            request, f"“{plan.name}” is approved and locked. Publish it when people may see their payouts."
        )
    else:
        messages.success(request, f"“{plan.name}” is published: each person can now see their own payout.")
    return redirect("incentives:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "approve")


@login_required
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "publish")

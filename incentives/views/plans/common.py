"""What the plan pages share: the plan as the reader may see it, the locked-plan refusal, the
posted version, and the plan page itself (re-shown with errors by computing and approval)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.inputs import id_or_none
from incentives.models.plans import (
    PLAN_LOCKED_MESSAGE,
    ComponentKind,
    IncentivePlan,
    PlanState,
    TargetBonus,
    min_qi_weight,
)
from incentives.selectors import plans as selectors
from incentives.services import plans as services

PAYOUTS_PER_PAGE = 50
TARGETS_PER_PAGE = 50
MY_REPORTS_PER_PAGE = 50
SORTS = {
    "name": ("employee__full_name", "pk"),
    "amount": ("amount", "employee__full_name", "pk"),
    "-amount": ("-amount", "employee__full_name", "pk"),
}


# ---------------------------------------------------------------- access


def plan_for(request: HttpRequest, pk: int) -> IncentivePlan:
    """The plan if the reader may see it (HR: incentives/access.py); 404 for anyone else, as in the API."""
    return selectors.get_plan(user=request.user, pk=pk)


def refuse_locked(request: HttpRequest, plan: IncentivePlan) -> HttpResponse | None:
    """Set-up pages of an approved plan send HR back to the plan with the reason."""
    if plan.is_locked:
        messages.error(request, PLAN_LOCKED_MESSAGE)
        return redirect("incentives:plan_detail", pk=plan.pk)
    return None


def posted_version(request: HttpRequest) -> int | None:
    return id_or_none(request.POST.get("version", ""))


# ---------------------------------------------------------------- the plan at a glance


def compute_status(plan: IncentivePlan) -> dict[str, object]:
    """How far computing has got; "finished" stops the page polling (done, or stopped with an error)."""
    total = plan.compute_total
    done = min(plan.compute_done, total) if total else plan.compute_done
    return {
        "total": total,
        "done": done,
        "percent": plan.percent,
        "finished": plan.state != PlanState.COMPUTING or bool(plan.compute_error),
        "error": plan.compute_error,
        "stalled": plan.is_stalled,
        "computed": plan.state in {PlanState.COMPUTED, PlanState.APPROVED, PlanState.PUBLISHED},
    }


def detail_page(request: HttpRequest, plan: IncentivePlan, *, status: int = 200, **extra: object) -> HttpResponse:
    components = list(plan.components.order_by("position", "pk"))
    eligible = services.eligible_employees(plan)
    eligible_count = eligible.count()
    with_target = TargetBonus.objects.filter(plan=plan, employee__in=eligible).count()
    context: dict[str, object] = {
        "plan": plan,
        "components": components,
        "weights_total": sum(c.weight for c in components),
        "qi_share": sum(c.weight for c in components if c.kind == ComponentKind.QI_GOALS),
        "floor": min_qi_weight(),
        "warning": plan.misalignment_warning(),
        "departments": list(plan.departments.order_by("name")),
        "eligible_count": eligible_count,
        "with_target": with_target,
        "missing_targets": eligible_count - with_target,
        "problems": services.compute_problems(plan) if not plan.is_locked else [],
        # Shown before computing: goals that would count 0 % for want of a manager's sign-off.
        "awaiting_sign_off": services.goals_awaiting_sign_off(plan) if not plan.is_locked else 0,
        "totals": selectors.plan_totals(plan),
        "compute": compute_status(plan),
        "can_set_up": plan.state in {PlanState.DRAFT, PlanState.COMPUTED},
    }
    context.update(extra)
    return render(request, "incentives/plans/detail.html", context, status=status)

"""A department's goals for a period, grouped by priority, with its goal set's card."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cascade import access, selectors, workflow
from cascade.models import (
    GoalPeriod,
)
from cascade.views.goal_parts import (
    SetCard,
    all_periods,
    attach_failure,
    period_from,
)
from people.models import Department

# ---------------------------------------------------------------- department goals


@login_required
def department_goals(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=pk)
    return render_department(request, department, period_from(request))


def render_department(
    request: HttpRequest,
    department: Department,
    period: GoalPeriod | None,
    *,
    failure: tuple[str, list[str], str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    goals = selectors.department_goals(user=user, department=department, period=period)
    groups: dict[int, dict] = {}
    for level in ("functional", "individual"):
        for goal in goals[level]:
            group = groups.setdefault(goal.priority_id, {"priority": goal.priority, "functional": [], "individual": []})
            group[level].append(goal)
    card = None
    if period is not None:
        card = SetCard(goal_set=workflow.GoalSet(period=period, department=department), goals=goals["functional"])
        attach_failure([card], failure)
    context = {
        "department": department,
        "period": period,
        "periods": all_periods(),
        "groups": sorted(groups.values(), key=lambda g: g["priority"].title),
        "card": card,
        "can_draft": access.can_draft_functional_goals(user, department),
        "can_approve": access.can_approve_functional_set(user, department),
    }
    return render(request, "cascade/goals/department_goals.html", context, status=status)

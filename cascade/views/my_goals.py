"""My goals: the signed-in person's set for a period, and the goals above them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cascade import selectors, workflow
from cascade.models import (
    GoalPeriod,
    GoalSetEvent,
)
from cascade.views.goal_parts import (
    SetCard,
    all_periods,
    attach_failure,
    employee_of,
    period_from,
)

# ---------------------------------------------------------------- my goals


@login_required
def my_goals(request: HttpRequest) -> HttpResponse:
    return render_my_goals(request, period_from(request))


def render_my_goals(
    request: HttpRequest, period: GoalPeriod | None, failure: tuple[str, list[str], str] | None = None, status=200
) -> HttpResponse:
    employee = employee_of(request)
    context: dict[str, object] = {"employee": employee, "period": period, "periods": all_periods()}
    if employee is not None and period is not None:
        goals = selectors.goals_of(owner=employee, period=period)
        card = SetCard(goal_set=workflow.GoalSet(period=period, owner=employee), goals=goals)
        attach_failure([card], failure)
        above: dict[int, dict] = {}
        for goal in selectors.chain_goals_above(employee=employee, period=period):
            above.setdefault(goal.owner_id, {"person": goal.owner, "goals": []})["goals"].append(goal)
        context.update(
            card=card,
            goals=goals,
            last_event=GoalSetEvent.objects.filter(period=period, owner=employee).select_related("actor").first(),
            managers_goals=list(above.values()),
        )
    return render(request, "cascade/goals/my_goals.html", context, status=status)

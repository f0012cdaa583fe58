"""Team goals: the sets a manager, department head or HR approves, and the team's progress feed."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cascade import access, selectors, workflow
from cascade.models import (
    Goal,
    GoalLevel,
    GoalPeriod,
)
from cascade.views.goal_parts import (
    SetCard,
    all_periods,
    attach_failure,
    employee_of,
    period_from,
)
from core.access import deny_unless, requires
from people.models import Department, Employee

# ---------------------------------------------------------------- team goals


# The team pages are reserved to those who approve goal sets (cascade.access): anyone else signed in
# gets 403 with this message, as every role-reserved page does.
TEAM_ONLY = "Team goals are for managers, department heads and HR."
FEED_ONLY = "The team feed is for managers: it lists their reports' progress updates."


@requires(access.can_see_team_goals, TEAM_ONLY)
def team_goals(request: HttpRequest) -> HttpResponse:
    return render_team(request, period_from(request))


def render_team(
    request: HttpRequest, period: GoalPeriod | None, failure: tuple[str, list[str], str] | None = None, status=200
) -> HttpResponse:
    deny_unless(access.can_see_team_goals(request.user), TEAM_ONLY)
    employee = employee_of(request)
    headed = list(Department.objects.filter(head=employee)) if employee else []
    people_cards: list[SetCard] = []
    department_cards: list[SetCard] = []
    hr_cards: list[SetCard] = []
    if period is not None:
        if employee is not None:
            people_cards = [
                SetCard(goal_set=workflow.GoalSet(period=period, owner=m.person), goals=m.goals)
                for m in selectors.team_goals(manager=employee, period=period)
            ]
        department_cards = _department_cards(period, headed)
        hr_cards = _hr_cards(request.user, period, employee, headed)
        attach_failure(people_cards + department_cards + hr_cards, failure)
    context = {
        "period": period,
        "periods": all_periods(),
        "people_cards": people_cards,
        "department_cards": department_cards,
        "hr_cards": hr_cards,
        "waiting": sum(c.awaiting_review for c in people_cards + department_cards + hr_cards),
        "cancel_requests": sum(c.cancel_requests for c in people_cards + department_cards + hr_cards),
        "close_requests": sum(c.close_requests for c in people_cards + department_cards + hr_cards),
        "feed": selectors.team_feed(manager=employee, limit=10) if employee else [],
    }
    return render(request, "cascade/goals/team_goals.html", context, status=status)


def _department_cards(period: GoalPeriod, departments: list[Department]) -> list[SetCard]:
    """The department goal sets of these departments (one query)."""
    if not departments:
        return []
    by_department: dict[int, list[Goal]] = defaultdict(list)
    goals = Goal.objects.select_related(*access.GOAL_RELATED).filter(
        level=GoalLevel.FUNCTIONAL, period=period, department__in=departments
    )
    for goal in goals.order_by("-weight", "title"):
        by_department[goal.department_id].append(goal)
    return [
        SetCard(goal_set=workflow.GoalSet(period=period, department=d), goals=by_department[d.pk]) for d in departments
    ]


def _hr_cards(user, period: GoalPeriod, employee: Employee | None, headed: list[Department]) -> list[SetCard]:
    """Sets waiting for this user beyond their own reports and departments (cards above): for HR,
    people without a manager and departments without a head. Who approves is
    cascade.access.goals_awaiting_approval_by's. One query."""
    waiting = access.goals_awaiting_approval_by(user).filter(period=period)
    if employee is not None:
        waiting = waiting.exclude(level=GoalLevel.INDIVIDUAL, owner__manager=employee)
    waiting = waiting.exclude(level=GoalLevel.FUNCTIONAL, department__in=headed)
    people_waiting = waiting.filter(level=GoalLevel.INDIVIDUAL).values("owner")
    departments_waiting = waiting.filter(level=GoalLevel.FUNCTIONAL).values("department")
    goals = (
        Goal.objects.select_related(*access.GOAL_RELATED)
        .filter(period=period)
        .filter(
            Q(level=GoalLevel.INDIVIDUAL, owner__in=people_waiting)
            | Q(level=GoalLevel.FUNCTIONAL, department__in=departments_waiting)
        )
        .order_by("-weight", "title")
    )
    sets: dict[tuple[str, int], SetCard] = {}
    for goal in goals:
        if goal.level == GoalLevel.INDIVIDUAL:
            key = ("person", goal.owner_id)
            goal_set = workflow.GoalSet(period=period, owner=goal.owner)
        else:
            key = ("department", goal.department_id)
            goal_set = workflow.GoalSet(period=period, department=goal.department)
        sets.setdefault(key, SetCard(goal_set=goal_set, goals=[])).goals.append(goal)
    return sorted(sets.values(), key=lambda c: c.goal_set.label)


@requires(access.can_see_team_feed, FEED_ONLY)
def team_feed(request: HttpRequest) -> HttpResponse:
    employee = employee_of(request)
    return render(request, "cascade/goals/team_feed.html", {"feed": selectors.team_feed(manager=employee, limit=100)})

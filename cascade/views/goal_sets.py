"""Goal-set steps posted from the goal pages: submit, approve, return. A refusal re-renders the page
it came from with 400; success goes back to it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cascade import access, workflow
from cascade.forms.goals import (
    ReviewForm,
)
from cascade.models import (
    GoalPeriod,
)
from cascade.views.department import render_department
from cascade.views.goal_parts import (
    employee_of,
    with_period,
)
from cascade.views.my_goals import render_my_goals
from cascade.views.team import render_team
from people import selectors as people
from people.models import Department

# ---------------------------------------------------------------- goal-set actions


def _goal_set_from_post(request: HttpRequest) -> workflow.GoalSet:
    """The set named by the posted period and owner or department; 404 for what the user may not see."""
    try:
        period = GoalPeriod.objects.get(pk=int(request.POST.get("period", "")))
    except (ValueError, GoalPeriod.DoesNotExist):
        raise Http404("No such goal period.") from None
    owner_id, department_id = request.POST.get("owner", ""), request.POST.get("department", "")
    try:
        if owner_id:
            return workflow.GoalSet(
                period=period, owner=people.get_visible_employee(user=request.user, pk=int(owner_id))
            )
        if department_id:
            return workflow.GoalSet(period=period, department=get_object_or_404(Department, pk=int(department_id)))
    except ValueError:
        pass
    raise Http404("No such goal set.")


def _after_set_action(request: HttpRequest, goal_set: workflow.GoalSet, errors: list[str] | None = None):
    """Back to the page the action came from: redirected on success, re-rendered with 400 on a refusal."""
    origin = request.POST.get("origin", "")
    employee = employee_of(request)
    card_key = f"person-{goal_set.owner.pk}" if goal_set.owner is not None else f"department-{goal_set.department.pk}"
    mine = goal_set.owner is not None and employee is not None and goal_set.owner.pk == employee.pk
    if origin == "department" and goal_set.department is not None:
        target = "department"
    elif origin == "mine" and mine:
        target = "mine"
    elif origin == "team" or not mine:
        target = "team"
    else:
        target = "mine"
    if errors is None:
        if target == "department":
            url = reverse("cascade:department_goals", args=[goal_set.department.pk])
        else:
            url = reverse("cascade:my_goals" if target == "mine" else "cascade:team_goals")
        return redirect(with_period(url, goal_set.period))
    failure = (card_key, errors, request.POST.get("comment", ""))
    if target == "department":
        return render_department(request, goal_set.department, goal_set.period, failure=failure, status=400)
    # Someone who may submit for a report but is not on the team pages sees their own instead.
    if target == "team" and access.can_see_team_goals(request.user):
        return render_team(request, goal_set.period, failure=failure, status=400)
    return render_my_goals(request, goal_set.period, failure=failure, status=400)


@login_required
@require_POST
def set_submit(request: HttpRequest) -> HttpResponse:
    goal_set = _goal_set_from_post(request)
    try:
        workflow.submit(user=request.user, goal_set=goal_set)
    except ValidationError as exc:
        return _after_set_action(request, goal_set, exc.messages)
    messages.success(request, f"{goal_set.label}: goals for {goal_set.period} submitted for approval.")
    return _after_set_action(request, goal_set)


@login_required
@require_POST
def set_approve(request: HttpRequest) -> HttpResponse:
    goal_set = _goal_set_from_post(request)
    form = ReviewForm(request.POST)
    form.is_valid()
    try:
        workflow.approve(user=request.user, goal_set=goal_set, comment=form.cleaned_data.get("comment", ""))
    except ValidationError as exc:
        return _after_set_action(request, goal_set, exc.messages)
    messages.success(request, f"{goal_set.label}: goals for {goal_set.period} approved.")
    return _after_set_action(request, goal_set)


@login_required
@require_POST
def set_return(request: HttpRequest) -> HttpResponse:
    goal_set = _goal_set_from_post(request)
    form = ReviewForm(request.POST)
    form.is_valid()
    try:
        workflow.return_for_changes(user=request.user, goal_set=goal_set, comment=form.cleaned_data.get("comment", ""))
    except ValidationError as exc:
        return _after_set_action(request, goal_set, exc.messages)
    messages.success(request, f"{goal_set.label}: goals for {goal_set.period} returned with your comment.")
    return _after_set_action(request, goal_set)

"""Creating and editing a goal (and cancelling it from the edit page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cascade import access, selectors, services
from cascade.forms.goals import (
    SERVICE_FIELD_TO_FORM,
    GoalForm,
)
from cascade.models import (
    Goal,
    GoalLevel,
    GoalStatus,
)
from cascade.views.goal_detail import cancelled_message, render_detail
from cascade.views.goal_parts import (
    EDITABLE,
    all_periods,
    create_crumbs,
    employee_of,
    goal_crumbs,
    period_from,
)
from core.access import deny_unless
from core.errors import ConflictError
from core.forms import apply_service_errors

# ---------------------------------------------------------------- creating and editing


@login_required
@require_http_methods(["GET", "POST"])
def goal_create(request: HttpRequest) -> HttpResponse:
    level = request.GET.get("level", GoalLevel.INDIVIDUAL)
    if level not in GoalLevel.values:
        raise Http404("No such kind of goal.")
    period = period_from(request)
    context: dict[str, object] = {
        "level": level,
        "period": period,
        "periods": all_periods(),
        "goal": None,
        "crumbs": create_crumbs(request, level, _create_initial(request, level), period),
    }
    if period is None:
        status = 400 if request.method == "POST" else 200
        return render(request, "cascade/goals/goal_form.html", context, status=status)
    if request.method == "POST":
        form = GoalForm(request.POST, user=request.user, level=level, period=period)
    else:
        form = GoalForm(user=request.user, level=level, period=period, initial=_create_initial(request, level))
    chooser = form.fields["owner" if level == GoalLevel.INDIVIDUAL else "department"]
    # The form offers whom the user may draft for (cascade.access via the form's querysets): nobody → 403.
    deny_unless(
        chooser.queryset.exists(),
        "You cannot set goals for anyone." if level == GoalLevel.INDIVIDUAL else "You cannot set department goals.",
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                goal = services.goal_create(
                    user=request.user,
                    level=level,
                    period=period,
                    data=form.service_data(),
                    contributing_departments=form.contributing(),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
            else:
                messages.success(request, "Draft saved. Submit the goals for approval once their weights total 100.")
                return redirect("cascade:goal_detail", pk=goal.pk)
        status = 400
    context["form"] = form
    return render(request, "cascade/goals/goal_form.html", context, status=status)


def _create_initial(request: HttpRequest, level: str) -> dict[str, object]:
    initial: dict[str, object] = {"weight": None}
    parent = GoalForm.parent_value(request.GET.get("parent"), level)
    if not parent and request.GET.get("priority", "").isdigit():
        parent = f"priority:{request.GET['priority']}"
    if parent:
        initial["parent"] = parent
    if level == GoalLevel.INDIVIDUAL:
        owner = request.GET.get("owner", "")
        employee = employee_of(request)
        initial["owner"] = int(owner) if owner.isdigit() else (employee.pk if employee else None)
    else:
        department = request.GET.get("department", "")
        employee = employee_of(request)
        if department.isdigit():
            initial["department"] = int(department)
        elif employee is not None:
            initial["department"] = employee.department_id
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(access.can_edit_goal(request.user, goal), "You cannot change this goal.")
    if goal.status == GoalStatus.CANCELLED:
        messages.info(request, "This goal is cancelled and stays as it was; create a new goal instead.")
        return redirect("cascade:goal_detail", pk=goal.pk)
    if request.method == "POST" and "cancel_goal" in request.POST:
        return _cancel(request, goal)
    if request.method == "GET":
        form = GoalForm(user=request.user, level=goal.level, period=goal.period, goal=goal)
        return _render_form(request, goal, form)
    form = GoalForm(request.POST, user=request.user, level=goal.level, period=goal.period, goal=goal)
    if not form.is_valid():
        return _render_form(request, goal, form, status=400)
    data = form.changed_service_data(goal)
    contributing = form.contributing() if form.contributing_changed(goal) else None
    if not data and contributing is None:
        messages.info(request, "Nothing changed.")
        return redirect("cascade:goal_detail", pk=goal.pk)
    title = goal.title  # the service sets the new values on the instance before it refuses them
    try:
        services.goal_update(
            user=request.user,
            goal=goal,
            expected_version=form.cleaned_data["version"],
            data=data,
            contributing_departments=contributing,
        )
    except ConflictError as exc:
        # Keep the input, now based on the stored version: saving again is a deliberate overwrite.
        current = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        data = request.POST.copy()
        data["version"] = str(current.version)
        form = GoalForm(data, user=request.user, level=current.level, period=current.period, goal=current)
        form.is_valid()
        form.add_error(None, exc.message)
        return _render_form(request, current, form, status=409)
    except ValidationError as exc:
        apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        return _render_form(request, goal, form, status=400, title=title)
    messages.success(request, "Changes saved.")
    return redirect("cascade:goal_detail", pk=goal.pk)


def _render_form(request, goal: Goal, form: GoalForm, *, status: int = 200, title: str | None = None) -> HttpResponse:
    context = {
        "goal": goal,
        "goal_title": title or goal.title,
        "form": form,
        "level": goal.level,
        "period": goal.period,
        "approved": goal.approval not in EDITABLE,
        "conflict": status == 409,
        "crumbs": goal_crumbs(request, goal),
    }
    return render(request, "cascade/goals/goal_form.html", context, status=status)


def _cancel(request: HttpRequest, goal: Goal) -> HttpResponse:
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.goal_cancel(
            user=request.user, goal=goal, expected_version=version, reason=request.POST.get("reason", "")
        )
    except ConflictError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, action_errors=[exc.message], status=409)
    except ValidationError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, action_errors=exc.messages, status=400)
    goal.refresh_from_db()
    messages.success(request, cancelled_message(goal))
    return redirect("cascade:goal_detail", pk=goal.pk)

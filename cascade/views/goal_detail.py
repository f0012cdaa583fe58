"""One goal's page and the actions on it: progress, reopening, cancelling, asking to cancel,
keeping, asking to close, signing off a result (or declining), closing by measure and reopening
a result. Refusals come back as 403 (PermissionDenied), 400 with the form or 409 (ConflictError)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cascade import access, progress, selectors, services, workflow
from cascade.forms.goals import (
    SERVICE_FIELD_TO_FORM,
    CancelForm,
    CancelRequestForm,
    CloseDeclineForm,
    CloseRequestForm,
    KeepForm,
    ProgressUpdateForm,
    ReopenForm,
    SignOffForm,
)
from cascade.models import (
    CLOSED_RESULTS,
    Approval,
    Goal,
    GoalLevel,
    GoalSetEvent,
    GoalStatus,
    ProgressMode,
    ReviewAction,
)
from cascade.views.goal_parts import (
    goal_crumbs,
)
from core.access import deny_unless
from core.errors import ConflictError
from core.forms import apply_service_errors

# ---------------------------------------------------------------- one goal


@login_required
def goal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, selectors.get_visible_goal(user=request.user, pk=pk))


def _derived(goal: Goal) -> bool:
    """Progress that comes from a measure or from the goals underneath, not typed in."""
    if goal.progress_mode == ProgressMode.MEASURE:
        return True
    return goal.level == GoalLevel.FUNCTIONAL and progress.has_counted_children(goal)


def render_detail(
    request: HttpRequest,
    goal: Goal,
    *,
    progress_form: ProgressUpdateForm | None = None,
    reopen_form: ReopenForm | None = None,
    cancel_form: CancelForm | None = None,
    ask_form: CancelRequestForm | None = None,
    keep_form: KeepForm | None = None,
    close_form: CloseRequestForm | None = None,
    sign_off_form: SignOffForm | None = None,
    decline_form: CloseDeclineForm | None = None,
    action_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_edit = access.can_edit_goal(user, goal)
    can_cancel = access.can_cancel_goal(user, goal)
    can_ask = access.can_request_cancel(user, goal)
    is_open = goal.status != GoalStatus.CANCELLED
    can_update = is_open and access.can_update_progress(user, goal)
    derived = _derived(goal)
    if can_update and progress_form is None:
        # A signed-off result keeps its progress (cascade.progress.record_update): a comment only.
        progress_form = ProgressUpdateForm(goal=goal, derived=derived or goal.result_signed_off)
    children = []
    if goal.level == GoalLevel.FUNCTIONAL:
        children = list(access.goals_visible_to(user).filter(parent_goal=goal).order_by("owner__full_name", "title"))
    context = {
        "goal": goal,
        "los": selectors.line_of_sight(goal),
        "children": children,
        "feed": selectors.goal_feed(goal),
        "derived": derived,
        "crumbs": goal_crumbs(request, goal),
        "can_edit": can_edit and is_open,
        # A draft never approved: the plain button. Once approved: the approver's (or HR's) form with a reason.
        "can_cancel": can_cancel and goal.approved_at is None and not goal.cancel_requested,
        "can_cancel_agreed": can_cancel and (goal.approved_at is not None or goal.cancel_requested),
        "can_ask_cancel": can_ask and not goal.cancel_requested,
        "approver_label": workflow.approver_label(goal) if is_open else "",
        "cancel_form": cancel_form or CancelForm(initial={"version": goal.version}),
        "ask_form": ask_form or CancelRequestForm(),
        "keep_form": keep_form or KeepForm(),
        "can_reopen": goal.approval == Approval.APPROVED
        and is_open
        and (can_edit or workflow.set_of(goal).may_approve(user)),
        "can_update": can_update,
        "progress_form": progress_form,
        "reopen_form": reopen_form or ReopenForm(),
        "action_errors": action_errors or [],
        "last_event": _last_event(goal) if goal.approval == Approval.RETURNED else None,
        **_closing_context(user, goal, close_form, sign_off_form, decline_form),
    }
    return render(request, "cascade/goals/goal_detail.html", context, status=status)


def _closing_context(user, goal, close_form, sign_off_form, decline_form) -> dict[str, object]:
    """What the page offers for the goal's result: the owner asks to close it, the approver (or HR)
    signs it off or declines, a measure-driven goal closes by its measure, a closed one reopens."""
    closable = goal.approval == Approval.APPROVED and goal.status != GoalStatus.CANCELLED
    can_sign = closable and access.can_sign_off_result(user, goal)
    measure_driven = goal.progress_mode == ProgressMode.MEASURE and goal.measure_id is not None
    closed = goal.status in CLOSED_RESULTS
    initial = {"version": goal.version, "result": goal.close_proposed_status or (goal.status if closed else "")}
    return {
        # An approved goal's edit page changes only its outcome, which is the sign-off's to close.
        "can_edit_outcome": goal.approval not in {Approval.DRAFT, Approval.RETURNED} and can_sign,
        "can_ask_close": closable and access.can_request_close(user, goal) and not goal.close_requested,
        "can_sign_off": can_sign and not goal.result_signed_off,
        "can_close_by_measure": closable and measure_driven and access.can_close_by_measure(user, goal),
        "can_reopen_result": closed and (can_sign or (not goal.result_signed_off and access.can_edit_goal(user, goal))),
        "close_form": close_form or CloseRequestForm(),
        "sign_off_form": sign_off_form or SignOffForm(initial=initial),
        "decline_form": decline_form or CloseDeclineForm(),
    }


def _last_event(goal: Goal) -> GoalSetEvent | None:
    events = GoalSetEvent.objects.filter(period_id=goal.period_id, action=ReviewAction.RETURNED)
    if goal.level == GoalLevel.INDIVIDUAL:
        events = events.filter(owner_id=goal.owner_id)
    else:
        events = events.filter(department_id=goal.department_id, owner__isnull=True)
    return events.select_related("actor").first()


@login_required
@require_POST
def goal_progress(request: HttpRequest, pk: int) -> HttpResponse:
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(access.can_update_progress(request.user, goal), "You cannot update the progress of this goal.")
    form = ProgressUpdateForm(request.POST, goal=goal, derived=_derived(goal))
    if form.is_valid():
        try:
            update = progress.record_update(user=request.user, goal=goal, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        else:
            messages.success(request, f"Progress recorded: {update.progress_after:.0f}%.")
            return redirect("cascade:goal_detail", pk=goal.pk)
    return render_detail(request, goal, progress_form=form, status=400)


@login_required
@require_POST
def goal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    form = ReopenForm(request.POST)
    form.is_valid()
    try:
        workflow.reopen(user=request.user, goal=goal, comment=form.cleaned_data.get("comment", ""))
    except ValidationError as exc:
        return render_detail(request, goal, reopen_form=form, action_errors=exc.messages, status=400)
    messages.success(
        request, f"“{goal.title}” is a draft again: change it, then submit the goals for approval once more."
    )
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a goal (once approved: its approver or HR, with an optional reason; cascade.workflow.cancel)."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        services.goal_cancel(
            user=request.user,
            goal=goal,
            expected_version=form.cleaned_data.get("version"),
            reason=form.cleaned_data.get("reason", ""),
        )
    except ConflictError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, cancel_form=form, action_errors=[exc.message], status=409)
    except ValidationError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, cancel_form=form, action_errors=exc.messages, status=400)
    goal.refresh_from_db()
    messages.success(request, cancelled_message(goal))
    return redirect("cascade:goal_detail", pk=goal.pk)


def cancelled_message(goal: Goal) -> str:
    message = f"“{goal.title}” is cancelled: it stays in the history and no longer counts."
    left = workflow.set_of(goal).goals()
    if left.filter(approval=Approval.DRAFT).exists() and not left.filter(approval__in=workflow.AGREED).exists():
        message += " The set’s other goals are drafts again: their weights must total 100 before they are approved."
    return message


@login_required
@require_POST
def goal_cancel_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner asks the approver to cancel an approved goal, with a reason (the approver is notified)."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(
        access.can_request_cancel(request.user, goal) or access.can_cancel_goal(request.user, goal),
        "You cannot ask to cancel this goal.",
    )
    form = CancelRequestForm(request.POST)
    if not form.is_valid():
        return render_detail(request, goal, ask_form=form, status=400)
    try:
        workflow.request_cancel(user=request.user, goal=goal, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, ask_form=form, status=400)
    messages.success(
        request, f"{workflow.approver_label(goal)} is asked to cancel “{goal.title}”; it counts until they do."
    )
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_cancel_keep(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver (or HR) keeps a goal its owner asked to cancel, saying why."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(
        access.can_cancel_goal(request.user, goal),
        "Only the approver of this goal or HR can answer a request to cancel it.",
    )
    form = KeepForm(request.POST)
    if not form.is_valid():
        return render_detail(request, goal, keep_form=form, status=400)
    try:
        workflow.keep(user=request.user, goal=goal, comment=form.cleaned_data["comment"])
    except ValidationError as exc:
        apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, keep_form=form, status=400)
    messages.success(request, f"“{goal.title}” stays; the person who asked is told why.")
    return redirect("cascade:goal_detail", pk=goal.pk)


# ---------------------------------------------------------------- closing: the result and its sign-off


def _refused(request: HttpRequest, goal: Goal, form, exc: ValidationError, **forms_kwargs) -> HttpResponse:
    apply_service_errors(form, exc, {"status": "result"})
    goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
    return render_detail(request, goal, status=400, **forms_kwargs)


@login_required
@require_POST
def goal_close_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner asks the approver to close the goal with a result and a comment (the approver is notified)."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(
        access.can_request_close(request.user, goal) or access.can_sign_off_result(request.user, goal),
        "You cannot ask to close this goal.",
    )
    form = CloseRequestForm(request.POST)
    if not form.is_valid():
        return render_detail(request, goal, close_form=form, status=400)
    try:
        workflow.request_close(
            user=request.user, goal=goal, result=form.cleaned_data["result"], comment=form.cleaned_data["comment"]
        )
    except ValidationError as exc:
        return _refused(request, goal, form, exc, close_form=form)
    messages.success(
        request, f"{workflow.approver_label(goal)} is asked to sign off “{goal.title}”; it stays open until they do."
    )
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver (or HR) closes the goal with a result and signs it off."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(
        access.can_sign_off_result(request.user, goal),
        "Only the approver of this goal or HR can sign off its result.",
    )
    form = SignOffForm(request.POST)
    if not form.is_valid():
        return render_detail(request, goal, sign_off_form=form, status=400)
    try:
        closed = workflow.sign_off(
            user=request.user,
            goal=goal,
            result=form.cleaned_data["result"],
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data.get("version"),
        )
    except ConflictError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, sign_off_form=form, action_errors=[exc.message], status=409)
    except ValidationError as exc:
        return _refused(request, goal, form, exc, sign_off_form=form)
    messages.success(request, f"“{goal.title}” is closed as {closed.get_status_display().lower()} and signed off.")
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_close_decline(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver (or HR) declines a request to close the goal, saying why."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(
        access.can_sign_off_result(request.user, goal),
        "Only the approver of this goal or HR can answer a request to close it.",
    )
    form = CloseDeclineForm(request.POST)
    if not form.is_valid():
        return render_detail(request, goal, decline_form=form, status=400)
    try:
        workflow.decline_close(user=request.user, goal=goal, comment=form.cleaned_data["comment"])
    except ValidationError as exc:
        return _refused(request, goal, form, exc, decline_form=form)
    messages.success(request, f"“{goal.title}” stays open; the person who asked is told why.")
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_close_by_measure(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a measure-driven goal by its measure's latest value (signed off by the system)."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(access.can_close_by_measure(request.user, goal), "You cannot close this goal.")
    try:
        closed = workflow.close_by_measure(user=request.user, goal=goal)
    except ValidationError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, action_errors=exc.messages, status=400)
    messages.success(
        request, f"“{goal.title}” is closed as {closed.get_status_display().lower()} by {goal.measure.name}."
    )
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_reopen_result(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a closed goal back to open, clearing its sign-off (a signed-off one: the approver or HR)."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    deny_unless(
        access.can_sign_off_result(request.user, goal) or access.can_edit_goal(request.user, goal),
        "You cannot reopen this goal's result.",
    )
    try:
        workflow.reopen_result(user=request.user, goal=goal, comment=request.POST.get("comment", ""))
    except ValidationError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return render_detail(request, goal, action_errors=exc.messages, status=400)
    messages.success(request, f"“{goal.title}” is open again; closing it needs a sign-off once more.")
    return redirect("cascade:goal_detail", pk=goal.pk)

"""Goal pages: my goals, my team's, one goal and its progress, creating and editing goals,
a department's goals, goal-set review, and the goal import.

Reads go through cascade.selectors (404 outside the viewer's scope); writes go through
cascade.services, cascade.workflow and cascade.progress, whose refusals come back as
403 (PermissionDenied), 400 with the form and its input (ValidationError) or 409 with
the input kept (ConflictError).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cascade import access, progress, selectors, services, workflow
from cascade.forms.goals import (
    SERVICE_FIELD_TO_FORM,
    CancelForm,
    CancelRequestForm,
    GoalForm,
    GoalImportForm,
    KeepForm,
    ProgressUpdateForm,
    ReopenForm,
    ReviewForm,
)
from cascade.imports import runner as import_runner
from cascade.imports.goals import COLUMNS as IMPORT_COLUMNS
from cascade.imports.goals import TEMPLATE_ROWS as IMPORT_TEMPLATE_ROWS
from cascade.models import (
    Approval,
    CascadeImport,
    Goal,
    GoalLevel,
    GoalPeriod,
    GoalSetEvent,
    GoalStatus,
    ImportKind,
    ProgressMode,
    ReviewAction,
)
from core.errors import ConflictError
from core.forms import apply_service_errors
from people import selectors as people
from people.models import Department, Employee

EDITABLE = {Approval.DRAFT, Approval.RETURNED}


# ---------------------------------------------------------------- helpers


def _employee(request: HttpRequest) -> Employee | None:
    return people.employee_for_user(request.user)


def _period(request: HttpRequest) -> GoalPeriod | None:
    """The period asked for (``?period=`` or a posted ``period``), else the one this person sees by
    default (their running cycle's, else the organisation's)."""
    raw = request.POST.get("period") or request.GET.get("period")
    if raw:
        try:
            return GoalPeriod.objects.get(pk=int(raw))
        except (ValueError, GoalPeriod.DoesNotExist):
            raise Http404("No such goal period.") from None
    return selectors.default_period_for(request.user)


def _periods() -> list[GoalPeriod]:
    return list(GoalPeriod.objects.order_by("-start"))


def _with_period(url: str, period: GoalPeriod | None) -> str:
    return f"{url}?period={period.pk}" if period else url


def _live(goals: list[Goal]) -> list[Goal]:
    return [g for g in goals if g.status != GoalStatus.CANCELLED]


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str = ""


def _department_crumb(department: Department, period_id: int | None) -> Crumb:
    url = reverse("cascade:department_goals", args=[department.pk])
    return Crumb(f"{department.name} goals", f"{url}?period={period_id}" if period_id else url)


def _person_crumbs(request: HttpRequest, owner: Employee, period_id: int | None) -> list[Crumb]:
    """An individual goal's place for this reader: their own, a report's (their team), or a colleague's."""
    query = f"?period={period_id}" if period_id else ""
    employee = _employee(request)
    if employee is not None and owner.pk == employee.pk:
        return [Crumb("My goals", reverse("cascade:my_goals") + query)]
    if employee is not None and owner.path.startswith(employee.path):
        team = reverse("cascade:team_goals") + query
        # Direct reports have a card on the team page; people further down have their profile.
        person = f"{team}#title-person-{owner.pk}" if owner.manager_id == employee.pk else ""
        return [Crumb("Team goals", team), Crumb(owner.full_name, person or reverse("people:detail", args=[owner.pk]))]
    return [
        _department_crumb(owner.department, period_id),
        Crumb(owner.full_name, reverse("people:detail", args=[owner.pk])),
    ]


def _goal_crumbs(request: HttpRequest, goal: Goal) -> list[Crumb]:
    if goal.level == GoalLevel.FUNCTIONAL:
        return [_department_crumb(goal.department, goal.period_id)]
    return _person_crumbs(request, goal.owner, goal.period_id)


def _create_crumbs(request: HttpRequest, level: str, initial: dict[str, object], period: GoalPeriod | None):
    """Where a new goal will sit: the priority it was started from, the department's goals, a report's, or mine."""
    period_id = period.pk if period else None
    if level == GoalLevel.FUNCTIONAL:
        priority = request.GET.get("priority", "")
        if priority.isdigit() and "department" not in request.GET:
            found = selectors.priorities_visible_to(user=request.user).filter(pk=int(priority)).first()
            if found is not None:
                return [
                    Crumb("Quality priorities", reverse("cascade:priority_list")),
                    Crumb(found.title, reverse("cascade:priority_detail", args=[found.pk])),
                ]
        department = Department.objects.filter(pk=initial.get("department") or 0).first()
        if department is not None:
            return [_department_crumb(department, period_id)]
        return [Crumb("Departments", reverse("people:departments"))]
    owner = people.employees_visible_to(user=request.user).filter(pk=initial.get("owner") or 0).first()
    if owner is not None:
        return _person_crumbs(request, owner, period_id)
    return [Crumb("My goals", reverse("cascade:my_goals"))]


@dataclass
class SetCard:
    """One owner's goal set as a page shows it, with the errors of a refused action on it."""

    goal_set: workflow.GoalSet
    goals: list[Goal]
    errors: list[str] = field(default_factory=list)
    comment: str = ""

    @property
    def key(self) -> str:
        if self.goal_set.owner is not None:
            return f"person-{self.goal_set.owner.pk}"
        return f"department-{self.goal_set.department.pk}"

    @property
    def live_goals(self) -> list[Goal]:
        return _live(self.goals)

    @property
    def weight_total(self) -> int:
        return sum(g.weight for g in self.live_goals)

    @property
    def weights_off(self) -> bool:
        return bool(self.live_goals) and self.weight_total != 100

    @property
    def state(self) -> str:
        return workflow.set_state(self.goals)

    @property
    def state_label(self) -> str:
        return Approval(self.state).label if self.live_goals else "No goals yet"

    @property
    def awaiting_review(self) -> bool:
        return any(g.approval == Approval.SUBMITTED for g in self.live_goals)

    @property
    def cancel_requests(self) -> int:
        """Goals of the set whose owner asked the approver to cancel them."""
        return sum(g.cancel_requested_at is not None for g in self.live_goals)

    @property
    def can_submit(self) -> bool:
        return any(g.approval in EDITABLE for g in self.live_goals)


def _failed(cards: list[SetCard], failure: tuple[str, list[str], str] | None) -> None:
    """Attach a refused action's messages and the typed comment to the card it was about."""
    if failure is None:
        return
    key, errors, comment = failure
    for card in cards:
        if card.key == key:
            card.errors, card.comment = errors, comment


# ---------------------------------------------------------------- my goals


@login_required
def my_goals(request: HttpRequest) -> HttpResponse:
    return _render_my_goals(request, _period(request))


def _render_my_goals(
    request: HttpRequest, period: GoalPeriod | None, failure: tuple[str, list[str], str] | None = None, status=200
) -> HttpResponse:
    employee = _employee(request)
    context: dict[str, object] = {"employee": employee, "period": period, "periods": _periods()}
    if employee is not None and period is not None:
        goals = selectors.goals_of(owner=employee, period=period)
        card = SetCard(goal_set=workflow.GoalSet(period=period, owner=employee), goals=goals)
        _failed([card], failure)
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


# ---------------------------------------------------------------- team goals


def _team_scope(request: HttpRequest) -> tuple[Employee | None, list[Department], bool]:
    """Who the team pages are for: managers, department heads and HR; anyone else gets 404."""
    employee = _employee(request)
    is_hr = people.is_hr_admin(request.user)
    headed = list(Department.objects.filter(head=employee)) if employee else []
    if not (is_hr or headed or (employee and people.is_manager(employee))):
        raise Http404("No such page.")
    return employee, headed, is_hr


@login_required
def team_goals(request: HttpRequest) -> HttpResponse:
    return _render_team(request, _period(request))


def _render_team(
    request: HttpRequest, period: GoalPeriod | None, failure: tuple[str, list[str], str] | None = None, status=200
) -> HttpResponse:
    employee, headed, is_hr = _team_scope(request)
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
        if is_hr:
            hr_cards = _hr_cards(period, exclude_departments={d.pk for d in headed})
        _failed(people_cards + department_cards + hr_cards, failure)
    context = {
        "period": period,
        "periods": _periods(),
        "people_cards": people_cards,
        "department_cards": department_cards,
        "hr_cards": hr_cards,
        "waiting": sum(c.awaiting_review for c in people_cards + department_cards + hr_cards),
        "cancel_requests": sum(c.cancel_requests for c in people_cards + department_cards + hr_cards),
        "feed": selectors.team_feed(manager=employee, limit=10) if employee else [],
    }
    return render(request, "cascade/goals/team_goals.html", context, status=status)


def _department_cards(period: GoalPeriod, departments: list[Department]) -> list[SetCard]:
    """The department goal sets of these departments (one query)."""
    if not departments:
        return []
    by_department: dict[int, list[Goal]] = defaultdict(list)
    goals = Goal.objects.select_related(*selectors.GOAL_RELATED).filter(
        level=GoalLevel.FUNCTIONAL, period=period, department__in=departments
    )
    for goal in goals.order_by("-weight", "title"):
        by_department[goal.department_id].append(goal)
    return [
        SetCard(goal_set=workflow.GoalSet(period=period, department=d), goals=by_department[d.pk]) for d in departments
    ]


def _hr_cards(period: GoalPeriod, exclude_departments: set[int]) -> list[SetCard]:
    """Sets that HR approves and that wait for it: people without a manager, departments
    without a head (access.approver_for_individual, access.can_approve_functional_set). One query."""
    waiting = Goal.objects.filter(period=period, approval=Approval.SUBMITTED).exclude(status=GoalStatus.CANCELLED)
    people_waiting = waiting.filter(level=GoalLevel.INDIVIDUAL, owner__manager__isnull=True).values("owner")
    departments_waiting = waiting.filter(level=GoalLevel.FUNCTIONAL, department__head__isnull=True).values("department")
    goals = (
        Goal.objects.select_related(*selectors.GOAL_RELATED)
        .filter(period=period)
        .filter(
            Q(level=GoalLevel.INDIVIDUAL, owner__in=people_waiting)
            | Q(level=GoalLevel.FUNCTIONAL, department__in=departments_waiting)
        )
        .exclude(department__in=exclude_departments, level=GoalLevel.FUNCTIONAL)
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


@login_required
def team_feed(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    if employee is None or not people.is_manager(employee):
        raise Http404("No such page.")
    return render(request, "cascade/goals/team_feed.html", {"feed": selectors.team_feed(manager=employee, limit=100)})


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
    employee = _employee(request)
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
        return redirect(_with_period(url, goal_set.period))
    failure = (card_key, errors, request.POST.get("comment", ""))
    if target == "department":
        return _render_department(request, goal_set.department, goal_set.period, failure=failure, status=400)
    if target == "team":
        try:
            return _render_team(request, goal_set.period, failure=failure, status=400)
        except Http404:  # someone who may submit for a report but is not on the team pages
            pass
    return _render_my_goals(request, goal_set.period, failure=failure, status=400)


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


# ---------------------------------------------------------------- one goal


@login_required
def goal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, selectors.get_visible_goal(user=request.user, pk=pk))


def _derived(goal: Goal) -> bool:
    """Progress that comes from a measure or from the goals underneath, not typed in."""
    if goal.progress_mode == ProgressMode.MEASURE:
        return True
    return goal.level == GoalLevel.FUNCTIONAL and progress.has_counted_children(goal)


def _render_detail(
    request: HttpRequest,
    goal: Goal,
    *,
    progress_form: ProgressUpdateForm | None = None,
    reopen_form: ReopenForm | None = None,
    cancel_form: CancelForm | None = None,
    ask_form: CancelRequestForm | None = None,
    keep_form: KeepForm | None = None,
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
        progress_form = ProgressUpdateForm(goal=goal, derived=derived)
    children = []
    if goal.level == GoalLevel.FUNCTIONAL:
        children = list(
            selectors.goals_visible_to(user=user).filter(parent_goal=goal).order_by("owner__full_name", "title")
        )
    context = {
        "goal": goal,
        "los": selectors.line_of_sight(goal),
        "children": children,
        "feed": selectors.goal_feed(goal),
        "derived": derived,
        "crumbs": _goal_crumbs(request, goal),
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
    }
    return render(request, "cascade/goals/goal_detail.html", context, status=status)


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
    if not access.can_update_progress(request.user, goal):
        raise PermissionDenied("You cannot update the progress of this goal.")
    form = ProgressUpdateForm(request.POST, goal=goal, derived=_derived(goal))
    if form.is_valid():
        try:
            update = progress.record_update(user=request.user, goal=goal, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        else:
            messages.success(request, f"Progress recorded: {update.progress_after:.0f}%.")
            return redirect("cascade:goal_detail", pk=goal.pk)
    return _render_detail(request, goal, progress_form=form, status=400)


@login_required
@require_POST
def goal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    form = ReopenForm(request.POST)
    form.is_valid()
    try:
        workflow.reopen(user=request.user, goal=goal, comment=form.cleaned_data.get("comment", ""))
    except ValidationError as exc:
        return _render_detail(request, goal, reopen_form=form, action_errors=exc.messages, status=400)
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
        return _render_detail(request, goal, cancel_form=form, action_errors=[exc.message], status=409)
    except ValidationError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return _render_detail(request, goal, cancel_form=form, action_errors=exc.messages, status=400)
    goal.refresh_from_db()
    messages.success(request, _cancelled_message(goal))
    return redirect("cascade:goal_detail", pk=goal.pk)


def _cancelled_message(goal: Goal) -> str:
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
    if not (access.can_request_cancel(request.user, goal) or access.can_cancel_goal(request.user, goal)):
        raise PermissionDenied("You cannot ask to cancel this goal.")
    form = CancelRequestForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, goal, ask_form=form, status=400)
    try:
        workflow.request_cancel(user=request.user, goal=goal, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return _render_detail(request, goal, ask_form=form, status=400)
    messages.success(
        request, f"{workflow.approver_label(goal)} is asked to cancel “{goal.title}”; it counts until they do."
    )
    return redirect("cascade:goal_detail", pk=goal.pk)


@login_required
@require_POST
def goal_cancel_keep(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver (or HR) keeps a goal its owner asked to cancel, saying why."""
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    if not access.can_cancel_goal(request.user, goal):
        raise PermissionDenied("Only the approver of this goal or HR can answer a request to cancel it.")
    form = KeepForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, goal, keep_form=form, status=400)
    try:
        workflow.keep(user=request.user, goal=goal, comment=form.cleaned_data["comment"])
    except ValidationError as exc:
        apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return _render_detail(request, goal, keep_form=form, status=400)
    messages.success(request, f"“{goal.title}” stays; the person who asked is told why.")
    return redirect("cascade:goal_detail", pk=goal.pk)


# ---------------------------------------------------------------- creating and editing


@login_required
@require_http_methods(["GET", "POST"])
def goal_create(request: HttpRequest) -> HttpResponse:
    level = request.GET.get("level", GoalLevel.INDIVIDUAL)
    if level not in GoalLevel.values:
        raise Http404("No such kind of goal.")
    period = _period(request)
    context: dict[str, object] = {
        "level": level,
        "period": period,
        "periods": _periods(),
        "goal": None,
        "crumbs": _create_crumbs(request, level, _create_initial(request, level), period),
    }
    if period is None:
        status = 400 if request.method == "POST" else 200
        return render(request, "cascade/goals/goal_form.html", context, status=status)
    if request.method == "POST":
        form = GoalForm(request.POST, user=request.user, level=level, period=period)
    else:
        form = GoalForm(user=request.user, level=level, period=period, initial=_create_initial(request, level))
    chooser = form.fields["owner" if level == GoalLevel.INDIVIDUAL else "department"]
    if not chooser.queryset.exists():
        raise PermissionDenied(
            "You cannot set goals for anyone." if level == GoalLevel.INDIVIDUAL else "You cannot set department goals."
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
        employee = _employee(request)
        initial["owner"] = int(owner) if owner.isdigit() else (employee.pk if employee else None)
    else:
        department = request.GET.get("department", "")
        employee = _employee(request)
        if department.isdigit():
            initial["department"] = int(department)
        elif employee is not None:
            initial["department"] = employee.department_id
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    goal = selectors.get_visible_goal(user=request.user, pk=pk)
    if not access.can_edit_goal(request.user, goal):
        raise PermissionDenied("You cannot change this goal.")
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
        "crumbs": _goal_crumbs(request, goal),
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
        return _render_detail(request, goal, action_errors=[exc.message], status=409)
    except ValidationError as exc:
        goal = selectors.get_visible_goal(user=request.user, pk=goal.pk)
        return _render_detail(request, goal, action_errors=exc.messages, status=400)
    goal.refresh_from_db()
    messages.success(request, _cancelled_message(goal))
    return redirect("cascade:goal_detail", pk=goal.pk)


# ---------------------------------------------------------------- department goals


@login_required
def department_goals(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=pk)
    return _render_department(request, department, _period(request))


def _render_department(
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
        _failed([card], failure)
    context = {
        "department": department,
        "period": period,
        "periods": _periods(),
        "groups": sorted(groups.values(), key=lambda g: g["priority"].title),
        "card": card,
        "can_draft": access.can_draft_functional_goals(user, department),
        "can_approve": access.can_approve_functional_set(user, department),
    }
    return render(request, "cascade/goals/department_goals.html", context, status=status)


# ---------------------------------------------------------------- goal import


def _may_import(request: HttpRequest) -> bool:
    """HR and the quality lead import anyone's goals; a manager imports their reports' (checked per row)."""
    if people.is_hr_admin(request.user) or people.is_quality_lead(request.user):
        return True
    employee = _employee(request)
    return bool(employee and people.is_manager(employee))


@login_required
@require_http_methods(["GET", "POST"])
def goal_import(request: HttpRequest) -> HttpResponse:
    if not _may_import(request):
        raise Http404("No such page.")
    if request.GET.get("template") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="goals-template.csv"'
        writer = csv.writer(response)
        writer.writerow(IMPORT_COLUMNS)
        writer.writerows(IMPORT_TEMPLATE_ROWS)
        return response
    current = selectors.default_period_for(request.user)
    if request.method == "POST":
        form = GoalImportForm(request.POST, request.FILES)
    else:
        form = GoalImportForm(initial={"period": current.pk if current else None})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = import_runner.start_import(
                user=request.user,
                kind=ImportKind.GOALS,
                file_name=upload.name,
                content=upload.read(),
                period=form.cleaned_data["period"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        else:
            return redirect("cascade:import_detail", pk=record.pk)
    imports = CascadeImport.objects.filter(kind=ImportKind.GOALS).select_related("created_by", "period")
    if not people.is_hr_admin(request.user):
        imports = imports.filter(created_by=request.user)
    return render(
        request,
        "cascade/goals/goal_import.html",
        {
            "form": form,
            "columns": IMPORT_COLUMNS,
            "imports": imports.defer("content")[:20],
            "no_periods": not form.fields["period"].queryset.exists(),
        },
        status=400 if form.errors else 200,
    )

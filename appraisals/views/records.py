"""Everyone's own review records: my reviews, my team's, my to-dos, one appraisal (with its
automatic draft saving, workflow actions and printable page), one check-in, one
development plan.

Reads go through appraisals.selectors (404 outside the viewer's scope) and
appraisals.access (what the viewer may do); writes go through appraisals.services,
whose refusals come back as 403 (PermissionDenied), 400 with the input kept
(ValidationError) or 409 with the input kept (ConflictError). Every POST carries the
record's ``version``. The automatic save answers htmx with the small status region
and the new version (an out-of-band swap of the hidden field); without JavaScript the
Save button posts the same form and the page comes back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from appraisals import selectors
from appraisals.access import AppraisalAccess
from appraisals.forms import (
    VERSION_MISSING,
    ActionForm,
    AppraisalDraftForm,
    CheckInForm,
    PlanForm,
    apply_service_errors,
    plain,
    top_level,
)
from appraisals.models import (
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleState,
    DevelopmentPlan,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.services import appraisals as appraisal_services
from appraisals.services import checkins as checkin_services
from appraisals.services import development as plan_services
from appraisals.services.todos import todo_link, todo_title, todos_for
from cascade import charts
from cascade.views.priorities import signal_badge
from core.errors import ConflictError
from people import selectors as people
from people.models import Employee

# The appraisal's steps as the page shows them (the draft is before the first).
STEPS = [
    (AppraisalState.SELF_ASSESSMENT, "Self-assessment", "self_submitted_at"),
    (AppraisalState.MANAGER_REVIEW, "Manager review", "manager_submitted_at"),
    (AppraisalState.DIALOGUE, "Dialogue", "shared_at"),
    (AppraisalState.ACKNOWLEDGED, "Acknowledged", "acknowledged_at"),
    (AppraisalState.LOCKED, "Locked", "locked_at"),
]
STEP_ORDER = [state for state, _, _ in STEPS]

ACTIONS = {
    "submit_self": (appraisal_services.appraisal_submit_self, "Your self-assessment is with {reviewer} now."),
    "submit_review": (
        appraisal_services.appraisal_submit_review,
        "Review submitted: the dialogue with {employee} is next.",
    ),
    "share": (appraisal_services.appraisal_share, "Your ratings and the score are shared with {employee}."),
    "acknowledge": (appraisal_services.appraisal_acknowledge, "Appraisal acknowledged. Thank you."),
}
# Submitting cannot be undone, so these go through a confirm page that lists what is still blank;
# the value is the access flag that says the reader may take the step now.
CONFIRMED_ACTIONS = {"submit_self": "can_submit_self", "submit_review": "can_submit_review"}
CONFLICT_MESSAGE = (
    "Not saved: someone else changed this appraisal — reload to see their changes; your text is kept below."
)


def _employee(request: HttpRequest) -> Employee | None:
    return people.employee_for_user(request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _one(record: Participant, name: str) -> Any:
    """A participant's appraisal, check-in or plan, or None (a reverse one-to-one that may be missing)."""
    try:
        return getattr(record, name)
    except (Appraisal.DoesNotExist, CheckIn.DoesNotExist, DevelopmentPlan.DoesNotExist):
        return None


# ---------------------------------------------------------------- what is waiting on whom


def _on(person: Employee | None, task: str, viewer: Employee | None) -> tuple[str, bool]:
    if person is None:
        return f"Waiting for a reviewer to be named ({task})", False
    if viewer is not None and person.pk == viewer.pk:
        return f"Your turn: {task}", True
    return f"Waiting on {person.full_name}: {task}", False


def waiting_on(appraisal: Appraisal, participant: Participant, viewer: Employee | None) -> tuple[str, bool]:
    """Who the appraisal waits for, in words, and whether that is the viewer."""
    employee, reviewer = participant.employee, participant.reviewer
    state = appraisal.state
    if state == AppraisalState.DRAFT:
        return "Appraisal opens when the Study phase begins", False
    if state == AppraisalState.SELF_ASSESSMENT:
        return _on(employee, "self-assessment", viewer)
    if state == AppraisalState.MANAGER_REVIEW:
        return _on(reviewer, "manager review", viewer)
    if state == AppraisalState.DIALOGUE:
        if appraisal.shared_at is None:
            return _on(reviewer, "share the ratings", viewer)
        return _on(employee, "acknowledge the appraisal", viewer)
    if state == AppraisalState.ACKNOWLEDGED:
        return "Appraisal done: final when HR closes the cycle", False
    return "Appraisal final", False


def waiting_in_phase(
    participant: Participant,
    appraisal: Appraisal | None,
    check_in: CheckIn | None,
    plan: DevelopmentPlan | None,
    viewer: Employee | None,
) -> tuple[str, bool]:
    """What the person's records wait for in the cycle's current phase, and whether the viewer is up."""
    cycle = participant.cycle
    reviewer = participant.reviewer
    is_person = viewer is not None and viewer.pk == participant.employee_id
    if cycle.state == CycleState.ACTIVE:
        if cycle.phase == Phase.PLAN:
            return "Goal setting", False
        if cycle.phase == Phase.DO and check_in is not None and check_in.completed_at is None:
            if is_person:
                return f"Your turn: hold your check-in with {reviewer.full_name if reviewer else 'your reviewer'}", True
            return _on(reviewer, "hold and complete the check-in", viewer)
        finished = appraisal is None or appraisal.state in (AppraisalState.ACKNOWLEDGED, AppraisalState.LOCKED)
        if cycle.phase == Phase.ACT and finished and plan is not None and plan.agreed_at is None:
            if is_person or (reviewer is not None and viewer is not None and reviewer.pk == viewer.pk):
                return "Your turn: agree the development plan", True
            return "Development plan not agreed yet", False
    return waiting_on(appraisal, participant, viewer) if appraisal else ("", False)


@dataclass
class RecordRow:
    """One person in one cycle, with their three records, as a list shows them."""

    participant: Participant
    appraisal: Appraisal | None
    check_in: CheckIn | None
    plan: DevelopmentPlan | None
    waiting: str
    waiting_on_you: bool
    score_visible: bool
    read_only: bool = False

    @property
    def cycle(self) -> ReviewCycle:
        return self.participant.cycle

    @property
    def labels(self) -> dict[str, str]:
        """Each record's phase as the cycle's methodology names it."""
        cycle = self.cycle
        return {
            "goals": cycle.phase_label(Phase.PLAN),
            "check_in": cycle.phase_label(Phase.DO),
            "appraisal": cycle.phase_label(Phase.STUDY),
            "plan": cycle.phase_label(Phase.ACT),
        }

    @property
    def current_record(self) -> str:
        """Which record the running cycle's phase is about: goals, check_in, appraisal or plan."""
        if self.cycle.state != CycleState.ACTIVE:
            return ""
        return {Phase.PLAN: "goals", Phase.DO: "check_in", Phase.STUDY: "appraisal", Phase.ACT: "plan"}.get(
            self.cycle.phase or "", ""
        )


def _rows(participants: list[Participant], viewer: Employee | None, *, own: bool, read_only: bool = False):  # type: ignore[no-untyped-def]
    rows = []
    for participant in participants:
        appraisal = _one(participant, "appraisal")
        check_in, plan = _one(participant, "check_in"), _one(participant, "development_plan")
        waiting, yours = waiting_in_phase(participant, appraisal, check_in, plan, viewer)
        if own:  # the employee sees the score once it is shared
            visible = bool(appraisal and appraisal.shared_at and appraisal.score is not None)
        else:  # managers once the review is submitted or shared
            visible = bool(
                appraisal and (appraisal.manager_submitted_at or appraisal.shared_at) and appraisal.score is not None
            )
        rows.append(
            RecordRow(
                participant=participant,
                appraisal=appraisal,
                check_in=check_in,
                plan=plan,
                waiting=waiting,
                waiting_on_you=yours and not read_only,
                score_visible=visible,
                read_only=read_only,
            )
        )
    return rows


def _participants(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.participants_visible_to(user=request.user).select_related(
        "appraisal", "check_in", "development_plan"
    )


@dataclass
class TodoRow:
    todo: ToDo
    title: str
    link: str
    overdue: bool


def _todo_rows(todos) -> list[TodoRow]:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return [
        TodoRow(todo=t, title=todo_title(t), link=todo_link(t), overdue=t.done_at is None and t.due < today)
        for t in todos
    ]


# ---------------------------------------------------------------- my reviews, team reviews, to-dos


@login_required
def my_reviews(request: HttpRequest) -> HttpResponse:
    me = _employee(request)
    rows: list[RecordRow] = []
    todos: list[TodoRow] = []
    if me is not None:
        participants = list(_participants(request).filter(employee=me).order_by("-cycle__start", "pk"))
        rows = _rows(participants, me, own=True)
        todos = _todo_rows(todos_for(me))
    context = {"employee": me, "rows": rows, "todos": todos, "overdue": sum(t.overdue for t in todos)}
    return render(request, "appraisals/records/my_reviews.html", context)


@login_required
def team_reviews(request: HttpRequest) -> HttpResponse:
    """A reviewer's people (to act on) and, read-only, the people further down their chain."""
    me = _employee(request)
    if me is None:
        raise Http404("No such page.")
    reviews = Participant.objects.filter(reviewer=me)
    if not (people.is_manager(me) or reviews.exists()):
        raise Http404("No such page.")
    cycles = list(selectors.cycles_visible_to(user=request.user).exclude(state=CycleState.SETUP))
    if people.is_hr_admin(request.user):  # HR sees every cycle; the team page keeps to those of the team
        team_cycles = set(
            _participants(request)
            .filter(employee__path__startswith=me.path)
            .exclude(employee=me)
            .values_list("cycle_id", flat=True)
            .distinct()
        ) | set(reviews.values_list("cycle_id", flat=True))
        cycles = [c for c in cycles if c.pk in team_cycles]
    cycle = _chosen_cycle(request, cycles)
    direct: list[RecordRow] = []
    further: list[RecordRow] = []
    if cycle is not None:
        base = _participants(request).filter(cycle=cycle).order_by("employee__full_name", "pk")
        direct = _rows(list(base.filter(reviewer=me).exclude(employee=me)), me, own=False)
        further = _rows(
            list(base.filter(employee__path__startswith=me.path).exclude(employee=me).exclude(reviewer=me)),
            me,
            own=False,
            read_only=True,
        )
    context = {
        "cycles": cycles,
        "cycle": cycle,
        "direct": direct,
        "further": further,
        "waiting": sum(r.waiting_on_you for r in direct),
    }
    return render(request, "appraisals/records/team_reviews.html", context)


def _chosen_cycle(request: HttpRequest, cycles: list[ReviewCycle]) -> ReviewCycle | None:
    raw = request.GET.get("cycle", "")
    if raw:
        chosen = next((c for c in cycles if str(c.pk) == raw), None)
        if chosen is None:
            raise Http404("No such review cycle.")
        return chosen
    running = [c for c in cycles if c.state == CycleState.ACTIVE]
    return (running or cycles or [None])[0]


@login_required
def todo_list(request: HttpRequest) -> HttpResponse:
    me = _employee(request)
    show_all = request.GET.get("show") == "all"
    todos: list[TodoRow] = []
    if me is not None:
        queryset = todos_for(me, open_only=not show_all)
        if show_all:
            queryset = queryset.order_by(F("done_at").asc(nulls_first=True), "due", "pk")[:200]
        todos = _todo_rows(queryset)
    context = {"employee": me, "todos": todos, "show_all": show_all, "overdue": sum(t.overdue for t in todos)}
    return render(request, "appraisals/records/todo_list.html", context)


# ---------------------------------------------------------------- the appraisal page


@dataclass
class Step:
    label: str
    status: str  # "done", "current" or "todo"
    when: datetime.datetime | None


def _steps(appraisal: Appraisal) -> list[Step]:
    current = STEP_ORDER.index(appraisal.state) if appraisal.state in STEP_ORDER else -1
    steps = []
    for position, (_state, label, stamp) in enumerate(STEPS):
        if appraisal.state == AppraisalState.LOCKED or position < current:
            status = "done"
        elif position == current:
            status = "current"
        else:
            status = "todo"
        steps.append(Step(label=label, status=status, when=getattr(appraisal, stamp)))
    return steps


def _read_only_reason(page, form: AppraisalDraftForm) -> str:  # type: ignore[no-untyped-def]
    """Why the reader cannot change anything now, in words; "" when they can."""
    access: AppraisalAccess = page.access
    if form.writes_anything:
        return ""
    name = page.employee.full_name
    reviewer = page.reviewer.full_name if page.reviewer else "the reviewer"
    state = page.state
    if state == AppraisalState.LOCKED:
        return "This appraisal is locked: its cycle was closed, so the record is final."
    if access.is_hr and not (access.is_employee or access.is_reviewer):
        return (
            "You are reading this appraisal as HR. The person and their reviewer write it; HR acts through the cycle."
        )
    if access.is_skip_level:
        return f"You are reading {name}’s appraisal as a manager further up the line: {reviewer} reviews it."
    if state == AppraisalState.DRAFT:
        return "The appraisal opens when the cycle’s Study phase begins."
    if state == AppraisalState.ACKNOWLEDGED:
        return "The appraisal has been acknowledged; it becomes final when HR closes the cycle."
    if access.is_employee:
        if state == AppraisalState.MANAGER_REVIEW:
            return f"Your self-assessment is with {reviewer} for review."
        return f"{reviewer} has not shared the review yet."
    return f"{name} is writing their self-assessment; the review opens once they submit it."


def _goal_extra(row) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A goal's chart as the page embeds it (named and with its unit), its signal badge and caution."""
    if row.chart is None:
        return {}
    chart = {**row.chart, "title": row.measure_name, "unit": row.measure_unit}
    enough = chart["n"] >= charts.RUN_RULES_MIN_POINTS
    return {
        "chart": chart,
        "chart_id": f"goal-{row.id}-chart",
        "badge": signal_badge(chart),
        "caution_title": "No special cause: this change is within the process’s normal variation."
        if enough
        else "No special cause can be shown yet.",
        "points": chart["points"][-12:],
    }


def _score_view(page) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The score and its breakdown as the page explains them; None while hidden from the reader."""
    if page.score is None:
        return None
    breakdown = page.score.breakdown or {}
    sections = []
    for key, label in (("goals", "Goals"), ("competencies", "Competencies")):
        part = breakdown.get("sections", {}).get(key)
        if not part:
            continue
        effective = Decimal(part.get("effective_weight") or "0")
        score = part.get("score")
        sections.append(
            {
                "label": label,
                "weight": part["weight"],
                "weight_text": plain(Decimal(part["weight"])),
                "effective_weight": plain(effective),
                "score": score,
                "contribution": f"{Decimal(score) * effective / 100:.2f}" if score is not None and effective else "",
                "items": part.get("items", []),
            }
        )
    version = page.participant.form_version
    return {
        "total": page.score.total,
        "final": page.score_is_final,
        "complete": bool(breakdown.get("complete")),
        "goals_weight": page.goals_weight,
        "competencies_weight": page.competencies_weight,
        "form_name": f"“{version.form.name}” version {version.number}",
        "formula_version": breakdown.get("formula_version", ""),
        "sections": sections,
        "notes": breakdown.get("notes", []),
    }


def _appraisal_context(page, form: AppraisalDraftForm) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    goals = form.goal_items()
    for item in goals:
        item.extra = _goal_extra(item.row)
    competencies = form.competency_items()
    questions = form.question_items()
    has_inputs = (
        any(side.editable for item in goals + competencies for side in item.sides)
        or any(q.editable for q in questions)
        or form.comment_editable
    )
    return {
        "page": page,
        "appraisal": page.appraisal,
        "access": page.access,
        "form": form,
        "goals": goals,
        "competencies": competencies,
        "questions": questions,
        "steps": _steps(page.appraisal),
        "score": _score_view(page),
        "score_hidden_text": (
            f"The score appears once {page.reviewer.full_name if page.reviewer else 'your reviewer'} "
            "shares their ratings with you."
        ),
        "has_inputs": has_inputs,
        "autosave": form.writes_anything,
        "read_only_reason": _read_only_reason(page, form),
        "comment_value": form.comment_value(),
        "comment_errors": form.comment_errors(),
        "comment_editable": form.comment_editable,
        "has_actions": any(
            (
                page.access.can_submit_self,
                page.access.can_submit_review,
                page.access.can_share,
                page.access.can_acknowledge,
            )
        ),
    }


def _render_appraisal(
    request: HttpRequest,
    appraisal: Appraisal,
    access: AppraisalAccess,
    *,
    data: QueryDict | None = None,
    error: Exception | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page, with the posted input of a refused save or action and why it was refused."""
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    conflict = isinstance(error, ConflictError)
    if data is not None and conflict:
        data = data.copy()
        data["version"] = str(appraisal.version)  # saving again is a deliberate overwrite
    form = AppraisalDraftForm(data, page=page)
    if data is not None:
        form.is_valid()
        if isinstance(error, ValidationError):
            form.apply_service_errors(error)
    context = _appraisal_context(page, form)
    context["conflict"] = conflict
    return render(request, "appraisals/records/appraisal.html", context, status=status)


def _refreshed(request: HttpRequest, pk: int) -> tuple[Appraisal, AppraisalAccess]:
    """The appraisal as stored now (after a refusal, someone may have moved it on)."""
    return selectors.get_appraisal(user=request.user, pk=pk)


@login_required
def appraisal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    return _render_appraisal(request, appraisal, access)


@login_required
def appraisal_print(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    context = _appraisal_context(page, AppraisalDraftForm(page=page))
    context["printed_at"] = timezone.localtime()
    return render(request, "appraisals/records/print.html", context)


def _status(
    request: HttpRequest,
    appraisal: Appraisal,
    *,
    state: str,
    status: int = 200,
    errors: list[str] | None = None,
    page=None,  # type: ignore[no-untyped-def]
) -> HttpResponse:
    """The status region of the automatic save, with the version to carry on from."""
    context = {
        "state": state,
        "appraisal": appraisal,
        "version": appraisal.version,
        "saved_at": timezone.localtime(),
        "errors": errors or [],
        "conflict_message": CONFLICT_MESSAGE,
        "score": _score_view(page) if page is not None else None,
    }
    return render(request, "appraisals/records/_save_status.html", context, status=status)


def _messages(form: AppraisalDraftForm, error: ValidationError | None = None) -> list[str]:
    if error is not None:
        return list(error.messages)
    return [message for messages_ in form.errors.values() for message in messages_]


@login_required
@require_POST
def appraisal_save(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    htmx = _is_htmx(request)
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    form = AppraisalDraftForm(request.POST, page=page)
    if not form.is_valid():
        if htmx:
            return _status(request, appraisal, state="error", status=400, errors=_messages(form))
        return _render_appraisal(request, appraisal, access, data=request.POST, status=400)
    try:
        appraisal = appraisal_services.appraisal_save_draft(
            user=request.user,
            appraisal=appraisal,
            expected_version=form.cleaned_data["version"],
            **form.service_kwargs(),
        )
    except ConflictError as exc:
        if htmx:  # the input stays in the browser's form; the version stays the one it was based on
            appraisal, access = _refreshed(request, pk)
            return _status(request, appraisal, state="conflict", status=409)
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=409)
    except ValidationError as exc:
        if htmx:
            return _status(request, appraisal, state="error", status=400, errors=_messages(form, exc))
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=400)
    except PermissionDenied as exc:
        if htmx:
            return _status(request, appraisal, state="error", status=403, errors=[str(exc)])
        raise
    if htmx:
        # The reviewer's ratings move the score: the page's score section follows (out of band).
        fresh = selectors.appraisal_page(appraisal=appraisal, access=access) if access.can_edit_manager else None
        return _status(request, appraisal, state="saved", page=fresh)
    messages.success(request, "Saved.")
    return redirect("appraisals:appraisal_detail", pk=appraisal.pk)


def _confirm_submit(request: HttpRequest, appraisal: Appraisal, access: AppraisalAccess, action: str) -> HttpResponse:
    """Before a submission that cannot be undone: what is still blank (then no submit button), or the question."""
    participant = appraisal.participant
    side = "self" if action == "submit_self" else "manager"
    blanks = appraisal_services.blank_ratings(appraisal, side=side)
    sections: dict[str, list[appraisal_services.Blank]] = {}
    for blank in blanks:
        sections.setdefault(blank.section, []).append(blank)
    context = {
        "appraisal": appraisal,
        "access": access,
        "action": action,
        "employee": participant.employee,
        "reviewer": participant.reviewer,
        "cycle": participant.cycle,
        "blanks": blanks,
        "sections": sections,
    }
    return render(request, "appraisals/records/confirm_submit.html", context)


@login_required
@require_POST
def appraisal_action(request: HttpRequest, pk: int) -> HttpResponse:
    """A workflow step. What was typed since the last automatic save is saved first, so nothing is lost.

    Submitting the self-assessment or the review first shows a confirm page (unless ``confirmed`` is
    posted); the service refuses a submission with blank ratings either way."""
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _render_appraisal(
            request, appraisal, access, data=request.POST, error=ValidationError("Choose what to do."), status=400
        )
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    form = AppraisalDraftForm(request.POST, page=page)
    if not form.is_valid():
        return _render_appraisal(
            request, appraisal, access, data=request.POST, error=ValidationError(VERSION_MISSING), status=400
        )
    version = form.cleaned_data["version"]
    step, done = ACTIONS[action]
    kwargs = form.service_kwargs()
    try:
        if kwargs:
            appraisal = appraisal_services.appraisal_save_draft(
                user=request.user, appraisal=appraisal, expected_version=version, **kwargs
            )
            version = appraisal.version
        if action in CONFIRMED_ACTIONS and request.POST.get("confirmed") != "1":
            appraisal, access = _refreshed(request, pk)
            if appraisal.version != version:
                raise ConflictError()  # the page is out of date: what it asked for may not be what is stored
            if getattr(access, CONFIRMED_ACTIONS[action]):
                return _confirm_submit(request, appraisal, access, action)
        extra = {"comment": kwargs.get("employee_comment", "")} if action == "acknowledge" else {}
        step(user=request.user, appraisal=appraisal, expected_version=version, **extra)
    except ConflictError as exc:
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=409)
    except ValidationError as exc:
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=400)
    participant = appraisal.participant
    messages.success(
        request,
        done.format(
            reviewer=participant.reviewer.full_name if participant.reviewer else "your reviewer",
            employee=participant.employee.full_name,
        ),
    )
    return redirect("appraisals:appraisal_detail", pk=appraisal.pk)


# ---------------------------------------------------------------- the check-in


def _checkin_editable(check_in: CheckIn, access: AppraisalAccess) -> set[str]:
    if check_in.completed_at is not None or check_in.participant.cycle.state == CycleState.CLOSED:
        return set()
    if access.is_employee:
        return set(checkin_services.EMPLOYEE_FIELDS)
    if access.is_reviewer:
        return set(checkin_services.REVIEWER_FIELDS)
    return set()


def _render_checkin(
    request: HttpRequest,
    check_in: CheckIn,
    access: AppraisalAccess,
    *,
    form: CheckInForm | None = None,
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    editable = _checkin_editable(check_in, access)
    if form is None:
        form = CheckInForm(initial={"version": check_in.version, **{n: getattr(check_in, n) for n in editable}})
    completed = check_in.completed_at is not None
    snapshot = check_in.goal_snapshot if completed else checkin_services.goal_snapshot(check_in)
    fields = [
        {
            "field": form[name],
            "editable": name in editable or (form.is_bound and name in form.data and (access.can_write)),
            "stored": getattr(check_in, name),
        }
        for name in ("employee_notes", "obstacles", "manager_notes", "coaching_notes")
    ]
    context = {
        "check_in": check_in,
        "participant": check_in.participant,
        "access": access,
        "form": form,
        "fields": fields,
        "editable": bool(editable),
        "completed": completed,
        "snapshot": snapshot,
        "conflict": conflict,
        "can_complete": access.is_reviewer and bool(editable),
        "appraisal": _one(check_in.participant, "appraisal"),
    }
    return render(request, "appraisals/records/checkin.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def checkin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check_in, access = selectors.get_check_in(user=request.user, pk=pk)
    if request.method == "GET":
        return _render_checkin(request, check_in, access)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _render_checkin(request, check_in, access, form=form, status=400)
    complete = request.POST.get("action") == "complete"
    version = form.cleaned_data["version"]
    data = form.service_data()
    try:
        if data:
            check_in = checkin_services.checkin_save(
                user=request.user, check_in=check_in, expected_version=version, data=data
            )
            version = check_in.version
        if complete:
            checkin_services.checkin_complete(user=request.user, check_in=check_in, expected_version=version)
    except ConflictError as exc:
        check_in, access = selectors.get_check_in(user=request.user, pk=pk)
        posted = request.POST.copy()
        posted["version"] = str(check_in.version)
        form = CheckInForm(posted)
        form.is_valid()
        form.add_error(None, exc.message)
        return _render_checkin(request, check_in, access, form=form, conflict=True, status=409)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        check_in, access = selectors.get_check_in(user=request.user, pk=pk)
        return _render_checkin(request, check_in, access, form=form, status=400)
    messages.success(request, "Check-in completed: the goals’ progress is kept as it stands." if complete else "Saved.")
    return redirect("appraisals:checkin_detail", pk=check_in.pk)


# ---------------------------------------------------------------- the development plan


def _render_plan(
    request: HttpRequest,
    plan: DevelopmentPlan,
    access: AppraisalAccess,
    *,
    plan_form: PlanForm | None = None,
    add_form: ActionForm | None = None,
    bound_action: ActionForm | None = None,
    conflict: bool = False,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    participant = plan.participant
    writer = access.can_write
    agreed = plan.agreed_at is not None
    levels = top_level(participant)
    actions = list(plan.actions.select_related("competency"))
    rows = []
    for action in actions:
        form = None
        if writer:
            if bound_action is not None and bound_action.action.pk == action.pk:
                form = bound_action
            else:
                form = ActionForm(participant=participant, levels=levels, action=action, status_only=agreed)
        rows.append({"action": action, "form": form})
    if plan_form is None:
        plan_form = PlanForm(initial={"version": plan.version, "summary": plan.summary})
    if add_form is None and writer and not agreed:
        add_form = ActionForm(participant=participant, levels=levels, initial={"version": plan.version})
    context = {
        "plan": plan,
        "participant": participant,
        "access": access,
        "writer": writer,
        "agreed": agreed,
        "plan_form": plan_form,
        "add_form": add_form if writer and not agreed else None,
        "rows": rows,
        "conflict": conflict,
        "errors": errors or [],
        "appraisal": _one(participant, "appraisal"),
        "today": timezone.localdate(),
    }
    return render(request, "appraisals/records/plan.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan, access = selectors.get_plan(user=request.user, pk=pk)
    if request.method == "GET":
        return _render_plan(request, plan, access)
    action = request.POST.get("action", "save")
    if action in ("add", "update"):
        return _plan_action(request, plan, access, action)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, plan, access, plan_form=form, status=400)
    version = form.cleaned_data["version"]
    try:
        if "summary" in request.POST:
            plan = plan_services.plan_save(
                user=request.user, plan=plan, expected_version=version, summary=form.cleaned_data["summary"]
            )
            version = plan.version
        if action == "agree":
            plan_services.plan_agree(user=request.user, plan=plan, expected_version=version)
    except ConflictError as exc:
        plan, access = selectors.get_plan(user=request.user, pk=pk)
        posted = request.POST.copy()
        posted["version"] = str(plan.version)
        form = PlanForm(posted)
        form.is_valid()
        return _render_plan(request, plan, access, plan_form=form, conflict=True, errors=[exc.message], status=409)
    except ValidationError as exc:
        plan, access = selectors.get_plan(user=request.user, pk=pk)
        apply_service_errors(form, exc)
        return _render_plan(request, plan, access, plan_form=form, status=400)
    messages.success(request, "Development plan agreed." if action == "agree" else "Saved.")
    return redirect("appraisals:plan_detail", pk=plan.pk)


def _plan_action(request: HttpRequest, plan: DevelopmentPlan, access: AppraisalAccess, kind: str) -> HttpResponse:
    """Add an action to the plan, or change one of its actions."""
    if not access.can_write:
        raise PermissionDenied("Only the person and their reviewer change this plan.")
    participant = plan.participant
    levels = top_level(participant)
    if kind == "add":
        form = ActionForm(request.POST, participant=participant, levels=levels)
        if form.is_valid():
            try:
                plan_services.action_add(
                    user=request.user,
                    plan=plan,
                    description=form.cleaned_data["description"],
                    competency=form.cleaned_data["competency"],
                    target_level=form.cleaned_data["target_level"],
                    due_date=form.cleaned_data["due_date"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Action added.")
                return redirect("appraisals:plan_detail", pk=plan.pk)
        plan, access = selectors.get_plan(user=request.user, pk=plan.pk)
        return _render_plan(request, plan, access, add_form=form, status=400)
    try:
        action = plan.actions.get(pk=int(request.POST.get("item", "")))
    except (ValueError, plan.actions.model.DoesNotExist):
        raise Http404("No such development action.") from None
    form = ActionForm(
        request.POST, participant=participant, levels=levels, action=action, status_only=plan.agreed_at is not None
    )
    if form.is_valid():
        try:
            changes = form.service_data()
            if changes:
                plan_services.action_update(user=request.user, action=action, data=changes)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Action updated." if changes else "Nothing changed.")
            return redirect("appraisals:plan_detail", pk=plan.pk)
    plan, access = selectors.get_plan(user=request.user, pk=plan.pk)
    return _render_plan(request, plan, access, bound_action=form, status=400)

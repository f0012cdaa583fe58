"""The lists of review records: my reviews, my team's, my to-dos.

Rows are read through appraisals.access (what the viewer may see, including whether a
score shows) and appraisals.services.todos (the to-dos).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from appraisals import access
from appraisals.access import can_see_score, cycles_visible_to, participants_visible_to
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
from appraisals.services.todos import todo_link, todo_title, todos_for
from appraisals.views.common import record_of
from core.access import deny_unless
from people import access as people
from people.models import Employee


def _employee(request: HttpRequest) -> Employee | None:
    return people.employee_for_user(request.user)


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


def _rows(user, participants: list[Participant], viewer: Employee | None, *, read_only: bool = False):  # type: ignore[no-untyped-def]
    rows = []
    for participant in participants:
        appraisal = record_of(participant, "appraisal")
        check_in, plan = record_of(participant, "check_in"), record_of(participant, "development_plan")
        waiting, yours = waiting_in_phase(participant, appraisal, check_in, plan, viewer)
        # Who sees the score is appraisals.access's to say (the employee once it is shared).
        visible = bool(appraisal and appraisal.score is not None and can_see_score(user, participant, appraisal))
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
    return participants_visible_to(request.user).select_related("appraisal", "check_in", "development_plan")


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


@login_required
def my_reviews(request: HttpRequest) -> HttpResponse:
    me = _employee(request)
    rows: list[RecordRow] = []
    todos: list[TodoRow] = []
    if me is not None:
        participants = list(_participants(request).filter(employee=me).order_by("-cycle__start", "pk"))
        rows = _rows(request.user, participants, me)
        todos = _todo_rows(todos_for(me))
    context = {"employee": me, "rows": rows, "todos": todos, "overdue": sum(t.overdue for t in todos)}
    return render(request, "appraisals/records/my_reviews.html", context)


@login_required
def team_reviews(request: HttpRequest) -> HttpResponse:
    """A reviewer's people (to act on) and, read-only, the people further down their chain."""
    deny_unless(access.can_see_team_reviews(request.user), access.TEAM_REVIEWS_ONLY)
    me = _employee(request)
    reviews = Participant.objects.filter(reviewer=me)
    cycles = list(cycles_visible_to(request.user).exclude(state=CycleState.SETUP))
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
        direct = _rows(request.user, list(base.filter(reviewer=me).exclude(employee=me)), me)
        further = _rows(
            request.user,
            list(base.filter(employee__path__startswith=me.path).exclude(employee=me).exclude(reviewer=me)),
            me,
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

"""Read models for HR's cycle pages: the list of cycles, one cycle's dashboard (people per
state, per department, completion, the late) and the results export.

Every function issues a fixed number of queries, however many people take part: counts
are grouped in the database, and lists are cut to a page before they are read.

Completion follows the phase a cycle is in: the share of participants whose task for
that phase is done (goals approved in Plan, check-in held in Do, appraisal acknowledged
in Study, development plan agreed in Act). A closed cycle's completion is the share of
appraisals that were acknowledged before they were locked.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, ExpressionWrapper, Q, QuerySet, Value, When
from django.utils import timezone

from appraisals.models import (
    PHASE_ORDER,
    AppraisalState,
    CycleState,
    HistoryEntry,
    Participant,
    ParticipantOverride,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.services.todos import PHASE_KINDS
from cascade.models import Approval, Goal, GoalLevel, GoalStatus

LATE_SHOWN = 50  # rows of each late list drawn on the dashboard; the count says how many more there are
FINISHED_APPRAISALS = (AppraisalState.ACKNOWLEDGED, AppraisalState.LOCKED)


def _individual_goal_owners(period_id: int, **filters: object) -> QuerySet[Goal]:
    """Who has individual goals (not cancelled) in the period matching ``filters``. Not tied to the
    outer row, so PostgreSQL reads it once per query into a hash (a "hashed SubPlan") instead of
    probing the goals twice per participant, which cost 0.3 s at 10,000 people."""
    return (
        Goal.objects.filter(period_id=period_id, level=GoalLevel.INDIVIDUAL, owner__isnull=False)
        .exclude(status=GoalStatus.CANCELLED)
        .filter(**filters)
        .values("owner_id")
    )


def done_condition(phase: str, cycle: ReviewCycle) -> Q:
    """When a participant of ``cycle`` has done their task for ``phase``, as a condition on
    Participant rows (of that cycle: combine it with ``Q(cycle=cycle)`` when others are read)."""
    if phase == Phase.PLAN:
        pending = (Approval.DRAFT, Approval.SUBMITTED, Approval.RETURNED)
        approved = _individual_goal_owners(cycle.period_id, approval=Approval.APPROVED)
        waiting = _individual_goal_owners(cycle.period_id, approval__in=pending)
        # owner_id is never NULL in either subquery, so NOT IN reads "has no pending goal".
        return Q(employee_id__in=approved) & ~Q(employee_id__in=waiting)
    return {
        Phase.DO: Q(check_in__completed_at__isnull=False),
        Phase.STUDY: Q(appraisal__state__in=FINISHED_APPRAISALS),
        Phase.ACT: Q(development_plan__agreed_at__isnull=False),
    }[phase]


ACKNOWLEDGED = Q(appraisal__acknowledged_at__isnull=False)

TASK_DONE_LABELS = {
    Phase.PLAN: "goals approved",
    Phase.DO: "check-ins held",
    Phase.STUDY: "appraisals acknowledged",
    Phase.ACT: "development plans agreed",
}
BEHIND_LABELS = {
    Phase.PLAN: "Goals not approved",
    Phase.DO: "Check-in not held",
    Phase.STUDY: "Appraisal not acknowledged",
    Phase.ACT: "Development plan not agreed",
}


def percent(done: int, total: int) -> int | None:
    """Whole percent, rounded down so that 99.6 % never reads as done; None when there is no one."""
    if not total:
        return None
    return int(Decimal(done * 100) / Decimal(total))


@dataclass
class Completion:
    label: str  # what is counted, e.g. "check-ins held"
    done: int
    total: int

    @property
    def percent(self) -> int | None:
        return percent(self.done, self.total)


def completion_key(cycle: ReviewCycle) -> str | None:
    """Which count measures this cycle's completion: a phase, "acknowledged" once closed, or None."""
    if cycle.state == CycleState.CLOSED:
        return "acknowledged"
    if cycle.state == CycleState.ACTIVE and cycle.phase:
        return cycle.phase
    return None


def _completion(cycle: ReviewCycle, counts: dict[str, int]) -> Completion | None:
    key = completion_key(cycle)
    if key is None:
        return None
    label = "appraisals acknowledged" if key == "acknowledged" else TASK_DONE_LABELS[key]
    return Completion(label=label, done=counts.get(key, 0), total=counts.get("total", 0))


def _key_condition(key: str, cycle: ReviewCycle) -> Q:
    """The condition counted for a completion key (a phase, or "acknowledged")."""
    return ACKNOWLEDGED if key == "acknowledged" else done_condition(key, cycle)


def _count_annotations(cycle: ReviewCycle) -> dict[str, Count]:
    """Every count the dashboard shows, for participants of ``cycle``."""
    annotations = {"total": Count("pk")}
    for phase in PHASE_ORDER:
        annotations[str(phase)] = Count("pk", filter=done_condition(phase, cycle))
    annotations["acknowledged"] = Count("pk", filter=ACKNOWLEDGED)
    return annotations


def _completion_annotations(cycles: list[ReviewCycle]) -> dict[str, Count]:
    """The participants and, under ``completion_key``, the count each cycle's completion reads:
    only that one condition per cycle, so a list or the home page does not count every phase."""
    done = Q(pk__in=[])
    for cycle in cycles:
        key = completion_key(cycle)
        if key is not None:
            done |= Q(cycle_id=cycle.pk) & _key_condition(key, cycle)
    return {"total": Count("pk"), "done": Count("pk", filter=done)}


def _completion_counts(cycle: ReviewCycle, row: dict[str, int]) -> dict[str, int]:
    key = completion_key(cycle)
    counts = {"total": row.get("total", 0)}
    if key is not None:
        counts[key] = row.get("done", 0)
    return counts


# ---------------------------------------------------------------- the list of cycles


@dataclass
class CycleRow:
    cycle: ReviewCycle
    participants: int
    completion: Completion | None


def cycle_rows() -> list[CycleRow]:
    """Every cycle, latest first, with its participants and completion (two queries)."""
    cycles = list(ReviewCycle.objects.order_by("-start", "-pk"))
    grouped = {
        row["cycle"]: row
        for row in Participant.objects.filter(cycle__in=[c.pk for c in cycles])
        .values("cycle")
        .annotate(**_completion_annotations(cycles))
        .order_by()
    }
    rows = []
    for cycle in cycles:
        counts = _completion_counts(cycle, grouped.get(cycle.pk, {}))
        rows.append(CycleRow(cycle=cycle, participants=counts.get("total", 0), completion=_completion(cycle, counts)))
    return rows


def current_cycle() -> ReviewCycle | None:
    """The cycle HR most likely wants to see: the latest running one, else one launching, else one being set up."""
    rank = Case(
        When(state=CycleState.ACTIVE, then=Value(0)),
        When(state=CycleState.LAUNCHING, then=Value(1)),
        default=Value(2),
    )
    return ReviewCycle.objects.exclude(state=CycleState.CLOSED).order_by(rank, "-start", "-pk").first()


def cycle_card(cycle: ReviewCycle) -> CycleRow:
    """One cycle's participants and completion, for the home page (one query, counting only what
    the cycle's completion reads)."""
    counts = _completion_counts(
        cycle, Participant.objects.filter(cycle=cycle).aggregate(**_completion_annotations([cycle]))
    )
    return CycleRow(cycle=cycle, participants=counts["total"], completion=_completion(cycle, counts))


# ---------------------------------------------------------------- one cycle's dashboard


@dataclass
class StateCount:
    state: str
    label: str
    count: int


@dataclass
class DepartmentRow:
    name: str
    total: int
    done: int

    @property
    def percent(self) -> int | None:
        return percent(self.done, self.total)


@dataclass
class BehindRow:
    participant: Participant
    reasons: list[str]


@dataclass
class Dashboard:
    cycle: ReviewCycle
    total: int
    counts: dict[str, int]
    states: list[StateCount]
    completion: Completion | None
    departments: list[DepartmentRow]
    overdue: list[ToDo] = field(default_factory=list)
    overdue_count: int = 0
    behind: list[BehindRow] = field(default_factory=list)
    behind_count: int = 0

    @property
    def is_late(self) -> bool:
        return bool(self.overdue_count or self.behind_count)


def dashboard(cycle: ReviewCycle, *, today: datetime.date | None = None) -> Dashboard:
    """Everything the cycle's dashboard shows, in seven queries whatever the number of people."""
    today = today or timezone.localdate()
    participants = Participant.objects.filter(cycle=cycle)
    counts = participants.aggregate(**_count_annotations(cycle))
    by_state = dict(
        participants.values_list("appraisal__state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("appraisal__state", "n")
    )
    states = [
        StateCount(state=value, label=label, count=by_state.get(value, 0)) for value, label in AppraisalState.choices
    ]
    if by_state.get(None):
        states.append(StateCount(state="none", label="No appraisal yet", count=by_state[None]))
    key = completion_key(cycle)
    done = _key_condition(key, cycle) if key else Q(pk__in=[])
    departments = [
        DepartmentRow(name=row["employee__department__name"], total=row["total"], done=row["done"])
        for row in participants.values("employee__department_id", "employee__department__name")
        .annotate(total=Count("pk"), done=Count("pk", filter=done))
        .order_by("employee__department__name")
    ]
    board = Dashboard(
        cycle=cycle,
        total=counts["total"],
        counts=counts,
        states=states,
        completion=_completion(cycle, counts),
        departments=departments,
    )
    if cycle.state == CycleState.ACTIVE:
        _fill_late(board, today)
    return board


def overdue_todos(cycle: ReviewCycle, *, today: datetime.date) -> QuerySet[ToDo]:
    return ToDo.objects.filter(cycle=cycle, done_at__isnull=True, due__lt=today)


def behind_phases(cycle: ReviewCycle, *, today: datetime.date) -> list[str]:
    """The phases whose task may be late by now: the current phase and those before it whose
    window has closed. Who is late for one is decided per person by ``late_condition``."""
    if cycle.state != CycleState.ACTIVE or not cycle.phase:
        return []
    index = PHASE_ORDER.index(Phase(cycle.phase))
    return [str(p) for p in PHASE_ORDER[: index + 1] if today > cycle.window(p)[1]]


def late_condition(phase: str, cycle: ReviewCycle) -> Q:
    """A participant of ``cycle`` is late for a phase's task only when they were given its to-dos
    (a cycle launched after Plan's window gave nobody goal-setting to-dos) and the task is not
    done. Both sides are uncorrelated subqueries, each read once per query."""
    given = ToDo.objects.filter(cycle=cycle, participant__isnull=False, kind__in=PHASE_KINDS[phase])
    return Q(pk__in=given.values("participant_id")) & ~done_condition(phase, cycle)


def behind_participants(cycle: ReviewCycle, *, today: datetime.date) -> QuerySet[Participant]:
    """Participants with a task of a phase whose window has closed, given and not done, each
    annotated ``behind_<phase>``."""
    phases = behind_phases(cycle, today=today)
    queryset = Participant.objects.filter(cycle=cycle)
    if not phases:
        return queryset.none()
    annotations = {
        f"behind_{phase}": ExpressionWrapper(late_condition(phase, cycle), output_field=BooleanField())
        for phase in phases
    }
    any_behind = Q()
    for phase in phases:
        any_behind |= late_condition(phase, cycle)
    return queryset.filter(any_behind).annotate(**annotations)


def _fill_late(board: Dashboard, today: datetime.date) -> None:
    cycle = board.cycle
    overdue = overdue_todos(cycle, today=today)
    board.overdue_count = overdue.count()
    board.overdue = list(
        overdue.select_related("employee__department", "participant__employee").order_by("due", "pk")[:LATE_SHOWN]
    )
    behind = behind_participants(cycle, today=today)
    board.behind_count = behind.count()
    phases = behind_phases(cycle, today=today)
    rows = behind.select_related("employee__department", "reviewer", "appraisal").order_by("employee__full_name")
    for participant in rows[:LATE_SHOWN]:
        reasons = [BEHIND_LABELS[phase] for phase in phases if getattr(participant, f"behind_{phase}", False)]
        board.behind.append(BehindRow(participant=participant, reasons=reasons))


# ---------------------------------------------------------------- results export

EXPORT_COLUMNS = [
    "Employee ID",
    "Person",
    "Department",
    "Reviewer",
    "Form",
    "State",
    "Score",
    "Goals score",
    "Competencies score",
    "Acknowledged",
    "Employee comment",
]


def _section_score(breakdown: dict, section: str) -> object:
    """A section's score (0–100) from an appraisal's stored breakdown, as appraisals.scoring writes it."""
    part = ((breakdown or {}).get("sections") or {}).get(section)
    if isinstance(part, dict):
        return part.get("score")
    return part


def _number(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def result_rows(cycle: ReviewCycle) -> Iterator[list[object]]:
    """One row of results per participant, by name: values typed for a spreadsheet (one query, streamed)."""
    participants = (
        Participant.objects.filter(cycle=cycle)
        .select_related("employee__department", "reviewer", "form_version__form", "appraisal")
        .order_by("employee__full_name", "pk")
    )
    states = dict(AppraisalState.choices)
    for participant in participants.iterator(chunk_size=2000):
        appraisal = getattr(participant, "appraisal", None)
        breakdown = appraisal.score_breakdown if appraisal else {}
        acknowledged = appraisal.acknowledged_at if appraisal else None
        yield [
            participant.employee.employee_id,
            participant.employee.full_name,
            participant.employee.department.name,
            participant.reviewer.full_name if participant.reviewer else "",
            f"{participant.form_version.form.name} v{participant.form_version.number}",
            states.get(appraisal.state, appraisal.state) if appraisal else "No appraisal",
            appraisal.score if appraisal else None,
            _number(_section_score(breakdown, "goals")),
            _number(_section_score(breakdown, "competencies")),
            timezone.localtime(acknowledged).date() if acknowledged else None,
            appraisal.employee_comment if appraisal else "",
        ]


# ---------------------------------------------------------------- history and overrides


def cycle_history(
    cycle: ReviewCycle, *, participant: Participant | None = None, query: str = ""
) -> QuerySet[HistoryEntry]:
    """The cycle's field-level history, newest first: one person's, or the people whose name
    contains ``query`` (or whose employee id is it), or everyone's and the cycle's own."""
    entries = HistoryEntry.objects.filter(cycle=cycle).select_related(
        "actor__employee", "participant__employee__department"
    )
    if participant is not None:
        entries = entries.filter(participant=participant)
    elif query:
        entries = entries.filter(
            Q(participant__employee__full_name__icontains=query) | Q(participant__employee__employee_id__iexact=query)
        )
    return entries.order_by("-at", "-pk")


def cycle_overrides(cycle: ReviewCycle) -> list[ParticipantOverride]:
    """The cycle's per-person overrides (form, reviewer), by name."""
    overrides = ParticipantOverride.objects.filter(cycle=cycle).select_related(
        "employee__department", "form_version__form", "reviewer"
    )
    return list(overrides.order_by("employee__full_name"))

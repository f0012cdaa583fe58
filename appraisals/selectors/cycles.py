"""Read models for HR's cycle pages: the list of cycles, one cycle's dashboard (people per
state, per department, completion, the late) and the results export.

Every function issues a fixed number of queries, however many people take part: the counts
of appraisals, check-ins and plans are read from the cycle's summary rows (CycleTally, kept
by appraisals.services.tallies in the transaction of every change), goal setting's from the
goals, and lists are cut to a page before they are read.

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

from django.db.models import BooleanField, Case, Count, ExpressionWrapper, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from appraisals.models import (
    PHASE_ORDER,
    AppraisalState,
    CycleState,
    CycleTally,
    HistoryEntry,
    Participant,
    ParticipantOverride,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.services.tallies import COUNTED, STATE_FIELDS
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


def _all_goals_approved(period_id: int) -> QuerySet[Goal]:
    """Who has individual goals in the period (not cancelled) and every one of them approved, i.e.
    an approved goal and none draft, submitted or returned: one pass over the period's goals
    grouped by owner, read once per query into a hash (half the work of an approved set and a
    pending set read separately)."""
    return (
        _individual_goal_owners(period_id)
        .annotate(goals=Count("pk"), approved=Count("pk", filter=Q(approval=Approval.APPROVED)))
        .filter(goals=F("approved"))
        .values("owner_id")
    )


def done_condition(phase: str, cycle: ReviewCycle) -> Q:
    """When a participant of ``cycle`` has done their task for ``phase``, as a condition on
    Participant rows (of that cycle: combine it with ``Q(cycle=cycle)`` when others are read)."""
    if phase == Phase.PLAN:
        return Q(employee_id__in=_all_goals_approved(cycle.period_id))
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


# What each completion key reads from a summary row (goal setting is counted from the goals).
TALLY_DONE = {
    Phase.DO: ("check_ins_held",),
    Phase.STUDY: ("acknowledged_state", "locked"),  # FINISHED_APPRAISALS
    Phase.ACT: ("plans_agreed",),
    "acknowledged": ("acknowledged",),
}


def _from_tally(row: dict[str, int], key: str) -> int:
    return sum(row.get(name) or 0 for name in TALLY_DONE[key])


def _tally_totals(cycles: list[ReviewCycle]) -> dict[int, dict[str, int]]:
    """Each cycle's summary rows added up over its departments (one query)."""
    sums = {name: Sum(name) for name in COUNTED}
    return {
        row.pop("cycle_id"): row
        for row in CycleTally.objects.filter(cycle__in=[c.pk for c in cycles])
        .values("cycle_id")
        .annotate(**sums)
        .order_by()
    }


def _goal_setting_done(cycles: list[ReviewCycle]) -> dict[int, int]:
    """Participants whose goals are approved, for the cycles among ``cycles`` in Plan (one query, or none)."""
    planning = [c for c in cycles if completion_key(c) == Phase.PLAN]
    if not planning:
        return {}
    done = Q(pk__in=[])
    for cycle in planning:
        done |= Q(cycle_id=cycle.pk) & done_condition(Phase.PLAN, cycle)
    return dict(
        Participant.objects.filter(cycle__in=[c.pk for c in planning])
        .values("cycle_id")
        .annotate(n=Count("pk", filter=done))
        .order_by()
        .values_list("cycle_id", "n")
    )


def _completion_counts(cycle: ReviewCycle, totals: dict[str, int], planned: dict[int, int]) -> dict[str, int]:
    key = completion_key(cycle)
    counts = {"total": totals.get("participants") or 0}
    if key == Phase.PLAN:
        counts[key] = planned.get(cycle.pk, 0)
    elif key is not None:
        counts[key] = _from_tally(totals, key)
    return counts


# ---------------------------------------------------------------- the list of cycles


@dataclass
class CycleRow:
    cycle: ReviewCycle
    participants: int
    completion: Completion | None


def _rows(cycles: list[ReviewCycle]) -> list[CycleRow]:
    totals, planned = _tally_totals(cycles), _goal_setting_done(cycles)
    rows = []
    for cycle in cycles:
        counts = _completion_counts(cycle, totals.get(cycle.pk, {}), planned)
        rows.append(CycleRow(cycle=cycle, participants=counts["total"], completion=_completion(cycle, counts)))
    return rows


def cycle_rows() -> list[CycleRow]:
    """Every cycle, latest first, with its participants and completion (two or three queries)."""
    return _rows(list(ReviewCycle.objects.order_by("-start", "-pk")))


def current_cycle() -> ReviewCycle | None:
    """The cycle HR most likely wants to see: the latest running one, else one launching, else one being set up."""
    rank = Case(
        When(state=CycleState.ACTIVE, then=Value(0)),
        When(state=CycleState.LAUNCHING, then=Value(1)),
        default=Value(2),
    )
    return ReviewCycle.objects.exclude(state=CycleState.CLOSED).order_by(rank, "-start", "-pk").first()


def cycle_card(cycle: ReviewCycle) -> CycleRow:
    """One cycle's participants and completion, for the home page: its summary rows, and the
    goals only while the cycle is in Plan (one or two queries)."""
    return _rows([cycle])[0]


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
    """Everything the cycle's dashboard shows, in a fixed number of queries whatever the number
    of people: the counts from the cycle's summary rows, goal setting's from the goals."""
    today = today or timezone.localdate()
    tallies = list(
        CycleTally.objects.filter(cycle=cycle, participants__gt=0)
        .select_related("department")
        .order_by("department__name", "department_id")
    )
    totals = {name: sum(getattr(t, name) for t in tallies) for name in COUNTED}
    key = completion_key(cycle)
    # Goal setting is the cascade's own workflow: counted from the goals (read once, hashed).
    participants = Participant.objects.filter(cycle=cycle)
    goals_approved = Count("pk", filter=done_condition(Phase.PLAN, cycle))
    planned: dict[int, int] = {}
    if key == Phase.PLAN:  # per department too, for the table
        grouped = participants.values("employee__department_id").annotate(n=goals_approved).order_by()
        planned = {row["employee__department_id"]: row["n"] for row in grouped}
        approved = sum(planned.values())
    else:
        approved = participants.aggregate(n=goals_approved)["n"]
    counts = {"total": totals["participants"], Phase.PLAN: approved}
    counts |= {key: _from_tally(totals, key) for key in TALLY_DONE}
    counts = {str(k): v for k, v in counts.items()}
    states = [
        StateCount(state=value, label=label, count=totals[STATE_FIELDS[value]])
        for value, label in AppraisalState.choices
    ]
    if totals["no_appraisal"]:
        states.append(StateCount(state="none", label="No appraisal yet", count=totals["no_appraisal"]))

    def done_in(tally: CycleTally) -> int:
        if key is None:
            return 0
        if key == Phase.PLAN:
            return planned.get(tally.department_id, 0)
        return _from_tally({name: getattr(tally, name) for name in COUNTED}, key)

    departments = [DepartmentRow(name=t.department.name, total=t.participants, done=done_in(t)) for t in tallies]
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

"""To-dos: what each person now has to do in a cycle, shown in the app and sent by email.

A phase brings its to-dos (``phase_todos``, called by ``cycles.enter_phase``):

- Plan: the employee sets their goals; their manager (the cascade's approver) approves them.
- Do: the employee and the reviewer hold the check-in.
- Study: the employee writes the self-assessment; the reviewer reviews.
- Act: the employee and the reviewer agree the development plan.

A to-do about someone else's record (a manager's) names the participant; one of
one's own names oneself. To-dos are ticked off by themselves when the matching
record moves on: the workflow calls ``complete_todos(participant=..., kind=...)``
(self-assessment submitted, check-in completed, ...). A step that hands work to
someone else mid-phase (the manager shares the review, so the employee must
acknowledge it) calls ``todo_add``. A person may also tick their own by hand
(``todo_done``). ``tick_finished`` ticks whatever the records show done, as a safety net
under ``complete_todos``. ``send_reminders`` chases the overdue ones, at most once every
``REMINDER_INTERVAL_DAYS`` per to-do, and ``nudge`` lets HR chase the late now.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from appraisals import notifications
from appraisals.access import can_manage_cycles
from appraisals.models import (
    AppraisalState,
    CycleState,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
    ToDoKind,
)
from cascade.models import Approval, Goal, GoalLevel, GoalStatus
from core.access import deny_unless
from core.log import log_action, log_actions
from people import access as people
from people import bulk
from people.models import Employee

# A to-do is reminded about at most once in this many days (1 = daily).
REMINDER_INTERVAL_DAYS = getattr(settings, "THROUGHLINE_REMINDER_INTERVAL_DAYS", 3)
BATCH_SIZE = 1000

# The kinds each phase brings, with who holds them: the participant ("employee") or their reviewer.
PHASE_KINDS: dict[str, tuple[str, ...]] = {
    Phase.PLAN: (ToDoKind.SET_GOALS, ToDoKind.APPROVE_GOALS),
    Phase.DO: (ToDoKind.CHECK_IN,),
    Phase.STUDY: (ToDoKind.SELF_ASSESSMENT, ToDoKind.MANAGER_REVIEW),
    Phase.ACT: (ToDoKind.DEVELOPMENT_PLAN,),
}
# Appraisal states in which each step is still ahead, and those in which it is behind.
SELF_ASSESSMENT_AHEAD = {AppraisalState.DRAFT, AppraisalState.SELF_ASSESSMENT}
REVIEW_AHEAD = {AppraisalState.DRAFT, AppraisalState.SELF_ASSESSMENT, AppraisalState.MANAGER_REVIEW}
FINISHED_ACKNOWLEDGEMENT = {AppraisalState.ACKNOWLEDGED, AppraisalState.LOCKED}
FINISHED_REVIEW = {AppraisalState.DIALOGUE, *FINISHED_ACKNOWLEDGEMENT}
FINISHED_SELF_ASSESSMENT = {AppraisalState.MANAGER_REVIEW, *FINISHED_REVIEW}


# ---------------------------------------------------------------- reading


def todos_for(employee: Employee, *, open_only: bool = True) -> QuerySet[ToDo]:
    """A person's to-dos, soonest due first. Open ones are those not done, in cycles still running,
    whose step the records do not already show finished (even if nobody ticked them yet)."""
    queryset = ToDo.objects.filter(employee=employee).select_related(
        "cycle",
        "participant__employee",
        "participant__appraisal",
        "participant__check_in",
        "participant__development_plan",
    )
    if open_only:
        finished = Q()
        for kind in ToDoKind.values:
            finished |= Q(kind=kind) & _finished(kind)
        queryset = queryset.filter(done_at__isnull=True, cycle__state=CycleState.ACTIVE).exclude(finished)
    return queryset


def todo_title(todo: ToDo) -> str:
    """ "Write your self-assessment", or for a to-do about someone else "Review your team member: Ann Lee"."""
    label = todo.get_kind_display()
    if todo.participant_id and todo.participant.employee_id != todo.employee_id:
        return f"{label}: {todo.participant.employee.full_name}"
    return label


def todo_link(todo: ToDo) -> str:
    """The page where the to-do is done (a path). Load the participant's records with ``todos_for``."""
    participant = todo.participant
    # Goals are set and approved in the period the cycle reviews, whichever the holder sees by default
    # (a manager outside the cycle approves their reports' goals in it).
    if todo.kind == ToDoKind.SET_GOALS:
        return f"{reverse('cascade:my_goals')}?period={todo.cycle.period_id}"
    if todo.kind == ToDoKind.APPROVE_GOALS:
        return f"{reverse('cascade:team_goals')}?period={todo.cycle.period_id}"
    if participant is None:
        return reverse("appraisals:todo_list")
    if todo.kind == ToDoKind.CHECK_IN and hasattr(participant, "check_in"):
        return reverse("appraisals:checkin_detail", args=[participant.check_in.pk])
    if todo.kind == ToDoKind.DEVELOPMENT_PLAN and hasattr(participant, "development_plan"):
        return reverse("appraisals:plan_detail", args=[participant.development_plan.pk])
    if hasattr(participant, "appraisal"):
        return reverse("appraisals:appraisal_detail", args=[participant.appraisal.pk])
    return reverse("appraisals:todo_list")


# ---------------------------------------------------------------- ticking off and adding


def todo_done(*, user, todo: ToDo) -> ToDo:
    """The holder ticks a to-do by hand. Ticking one already done changes nothing."""
    me = people.employee_for_user(user)
    if me is None or me.pk != todo.employee_id:
        raise PermissionDenied("Only the person a to-do is for can tick it off.")
    with transaction.atomic():
        now = timezone.now()
        if ToDo.objects.filter(pk=todo.pk, done_at__isnull=True).update(done_at=now):
            log_action(todo, "appraisals.todo.done", user=user, changes={"done_at": (None, now)})
        todo.refresh_from_db(fields=["done_at"])
    return todo


def _tick(open_todos: QuerySet[ToDo], *, action: str) -> int:
    """Tick these open to-dos now and log each (two queries and one insert per thousand)."""
    with transaction.atomic():
        ticked = list(open_todos.select_related("employee").select_for_update(of=("self",)))
        if not ticked:
            return 0
        now = timezone.now()
        count = ToDo.objects.filter(pk__in=[t.pk for t in ticked], done_at__isnull=True).update(done_at=now)
        log_actions(ticked, action, data={"done_at": now})
    return count


def complete_todos(*, participant: Participant, kind: str, employee: Employee | None = None) -> int:
    """Tick the open to-dos of this kind about this participant (all holders, or ``employee``'s only).

    For the workflow: call it when the matching record moves on, e.g. kind=SELF_ASSESSMENT when
    the self-assessment is submitted, CHECK_IN when the check-in is completed. Returns how many.
    """
    open_todos = ToDo.objects.filter(participant=participant, kind=kind, done_at__isnull=True)
    if employee is not None:
        open_todos = open_todos.filter(employee=employee)
    return _tick(open_todos, action="appraisals.todo.done")


def _finished(kind: str) -> Q:
    """When a to-do of this kind is done, judged from its participant's records."""
    if kind in {ToDoKind.SET_GOALS, ToDoKind.APPROVE_GOALS}:
        goals = Goal.objects.filter(
            owner_id=OuterRef("participant__employee_id"),
            period_id=OuterRef("cycle__period_id"),
            level=GoalLevel.INDIVIDUAL,
        ).exclude(status=GoalStatus.CANCELLED)
        return Q(Exists(goals.filter(approval=Approval.APPROVED))) & ~Q(
            Exists(goals.exclude(approval=Approval.APPROVED))
        )
    return {
        ToDoKind.CHECK_IN: Q(participant__check_in__completed_at__isnull=False),
        ToDoKind.SELF_ASSESSMENT: Q(participant__appraisal__state__in=FINISHED_SELF_ASSESSMENT),
        ToDoKind.MANAGER_REVIEW: Q(participant__appraisal__state__in=FINISHED_REVIEW),
        ToDoKind.ACKNOWLEDGE: Q(participant__appraisal__state__in=FINISHED_ACKNOWLEDGEMENT),
        ToDoKind.DEVELOPMENT_PLAN: Q(participant__development_plan__agreed_at__isnull=False),
    }[kind]


def tick_finished(*, cycle: ReviewCycle | None = None) -> int:
    """Tick every open to-do whose step the records show done (goals approved, check-in completed,
    self-assessment submitted, review submitted, appraisal acknowledged, plan agreed), in a cycle or
    all running ones: a safety net under ``complete_todos``, run before reminders go out so that
    nobody is chased for finished work. One query per kind; returns how many it ticked."""
    open_todos = ToDo.objects.filter(done_at__isnull=True, participant__isnull=False)
    open_todos = (
        open_todos.filter(cycle=cycle) if cycle is not None else open_todos.filter(cycle__state=CycleState.ACTIVE)
    )
    return sum(
        _tick(open_todos.filter(_finished(kind), kind=kind), action="appraisals.todo.done") for kind in ToDoKind.values
    )


def todo_add(
    *,
    participant: Participant,
    kind: str,
    employee: Employee | None = None,
    due: datetime.date | None = None,
    notify: bool = True,
) -> ToDo:
    """Give someone a to-do about a participant mid-phase (by default the participant themself),
    e.g. ACKNOWLEDGE when the manager shares the review. A done one of the same kind is reopened;
    an open one is left as it is. The holder is emailed after commit when it is new or reopened."""
    holder_id = employee.pk if employee is not None else participant.employee_id
    cycle = participant.cycle
    if due is None:
        phase_end = cycle.window(cycle.phase)[1] if cycle.phase else cycle.end
        due = max(phase_end, timezone.localdate())
    todo, created = ToDo.objects.get_or_create(
        employee_id=holder_id, cycle_id=cycle.pk, kind=kind, participant=participant, defaults={"due": due}
    )
    changed = created
    if created:
        log_action(todo, "appraisals.todo.given", data={"due": due})
    elif todo.done_at is not None:
        before = todo.done_at, todo.due
        todo.done_at, todo.due, todo.last_reminded_at = None, due, None
        todo.save(update_fields=["done_at", "due", "last_reminded_at"])
        log_action(todo, "appraisals.todo.reopened", changes={"done_at": (before[0], None), "due": (before[1], due)})
        changed = True
    if changed and notify:
        notifications.queue_new_todos([todo])
    return todo


# ---------------------------------------------------------------- what a phase brings


def _goals_settled(cycle: ReviewCycle, participants: QuerySet[Participant]) -> set[int]:
    """Employees whose individual goals in the cycle's period exist and are all approved (one query)."""
    rows = (
        Goal.objects.filter(
            period_id=cycle.period_id,
            level=GoalLevel.INDIVIDUAL,
            owner_id__in=participants.values("employee_id"),
        )
        .exclude(status=GoalStatus.CANCELLED)
        .order_by()
        .values("owner_id")
        .annotate(total=Count("pk"), approved=Count("pk", filter=Q(approval=Approval.APPROVED)))
    )
    return {row["owner_id"] for row in rows if row["total"] and row["total"] == row["approved"]}


def _planned(cycle: ReviewCycle, phase: str, participants: QuerySet[Participant]) -> list[tuple[int, str, int]]:
    """(holder, kind, participant) for every to-do the phase asks for and whose step is still ahead."""
    rows = participants.values(
        "pk",
        "employee_id",
        "reviewer_id",
        "employee__manager_id",
        "employee__manager__is_active",
        "check_in__completed_at",
        "appraisal__state",
        "development_plan__agreed_at",
    )
    settled = _goals_settled(cycle, participants) if phase == Phase.PLAN else set()
    planned: list[tuple[int, str, int]] = []
    for row in rows:
        pk, employee, reviewer = row["pk"], row["employee_id"], row["reviewer_id"]
        if phase == Phase.PLAN and employee not in settled:
            planned.append((employee, ToDoKind.SET_GOALS, pk))
            # The cascade's approver is the direct manager, whoever reviews the appraisal.
            if row["employee__manager_id"] and row["employee__manager__is_active"]:
                planned.append((row["employee__manager_id"], ToDoKind.APPROVE_GOALS, pk))
        elif phase == Phase.DO and row["check_in__completed_at"] is None:
            planned += [(holder, ToDoKind.CHECK_IN, pk) for holder in (employee, reviewer) if holder]
        elif phase == Phase.STUDY:
            state = row["appraisal__state"]
            if state in SELF_ASSESSMENT_AHEAD:
                planned.append((employee, ToDoKind.SELF_ASSESSMENT, pk))
            if reviewer and state in REVIEW_AHEAD:
                planned.append((reviewer, ToDoKind.MANAGER_REVIEW, pk))
        elif phase == Phase.ACT and row["development_plan__agreed_at"] is None:
            planned += [(holder, ToDoKind.DEVELOPMENT_PLAN, pk) for holder in (employee, reviewer) if holder]
    return planned


def phase_todos(cycle: ReviewCycle, phase: str, *, participants: QuerySet[Participant] | None = None) -> list[ToDo]:
    """Create the to-dos that entering ``phase`` brings (for everyone, or ``participants``) and
    return the new ones. Those that exist already, done or not, are left alone, so entering a
    phase again (HR moving back and forth) creates nothing twice. The caller holds the cycle's
    row lock, so two entries cannot race."""
    if participants is None:
        participants = Participant.objects.filter(cycle=cycle)
    participants = participants.order_by("pk")
    planned = _planned(cycle, phase, participants)
    if not planned:
        return []
    existing = set(
        ToDo.objects.filter(
            cycle=cycle, kind__in=PHASE_KINDS[phase], participant_id__in=participants.values("pk")
        ).values_list("employee_id", "kind", "participant_id")
    )
    due = max(cycle.window(phase)[1], timezone.localdate())
    new = [
        ToDo(employee_id=holder, cycle_id=cycle.pk, participant_id=participant, kind=kind, due=due)
        for holder, kind, participant in dict.fromkeys(planned)
        if (holder, kind, participant) not in existing
    ]
    # COPY with the keys drawn first (people.bulk): a launch gives 200,000 to-dos at 100,000 people,
    # and the callers need their ids for the emails.
    bulk.give_ids(new)
    bulk.copy_in(ToDo, new)
    created = new
    if created:  # one entry for the lot: the phase move that brings them is logged beside it
        log_action(cycle, "appraisals.todos.given", data={"phase": phase, "count": len(created)})
    return created


# ---------------------------------------------------------------- chasing


def _overdue(today: datetime.date) -> QuerySet[ToDo]:
    return ToDo.objects.filter(done_at__isnull=True, due__lt=today, cycle__state=CycleState.ACTIVE)


def _stamp(today: datetime.date) -> datetime.datetime:
    """ "Now" on the day the job runs for: tests and catch-up runs pass a day other than today."""
    return timezone.make_aware(datetime.datetime.combine(today, timezone.localtime().time()))


def _claim(candidates: QuerySet[ToDo], stamp: datetime.datetime) -> list[int]:
    """Mark the candidates reminded and return their ids; rows another worker holds are skipped,
    so two runs at once never email the same to-do twice."""
    with transaction.atomic():
        ids = list(candidates.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH_SIZE):
            ToDo.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).update(last_reminded_at=stamp)
    return ids


def send_reminders(*, today: datetime.date) -> int:
    """Email everyone with overdue open to-dos not reminded about in the last
    ``REMINDER_INTERVAL_DAYS`` days (one email per person). Running it again the same day
    sends nothing. Returns the number of emails sent."""
    cutoff_day = today - datetime.timedelta(days=max(REMINDER_INTERVAL_DAYS, 1) - 1)
    cutoff = timezone.make_aware(datetime.datetime.combine(cutoff_day, datetime.time.min))
    tick_finished()
    candidates = _overdue(today).filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=cutoff))
    ids = _claim(candidates, _stamp(today))
    return notifications.send_reminders(ids) if ids else 0


def nudge(*, user, cycle: ReviewCycle, employees: Iterable[Employee] | None = None) -> int:
    """HR chases the late in one cycle now (everyone with overdue to-dos, or the people given),
    whenever they were last reminded. Returns the number of emails sent."""
    deny_unless(can_manage_cycles(user), "Only HR can nudge people about their to-dos.")
    today = timezone.localdate()
    tick_finished(cycle=cycle)
    candidates = _overdue(today).filter(cycle=cycle)
    if employees is not None:
        candidates = candidates.filter(employee__in=[e.pk for e in employees])
    ids = _claim(candidates, timezone.now())
    if ids:
        log_action(cycle, "appraisals.todos.nudged", user=user, data={"todos": len(ids)})
    return notifications.send_reminders(ids) if ids else 0

"""Review cycles: HR's set-up, the bulk launch, phases by date or by HR, and closing.

Set-up (state ``setup``): ``cycle_create`` / ``cycle_update`` (name, methodology,
dates, who takes part), ``override_set`` / ``override_clear`` (another form or
reviewer for one person). ``eligible_employees`` and ``launch_preview`` say who
the launch would take and what stops it.

Launch: ``cycle_launch`` checks that everyone has a form, marks the cycle
``launching`` and queues ``appraisals.launch_cycle`` on commit; its body,
``run_launch``, writes every participant and their appraisal, check-in and
development plan in batches (each batch one transaction, progress on the cycle),
relying on the unique constraints so that running it again, or after it died
half-way, creates nothing twice and finishes the rest. It ends ``active`` in the
phase the date says, enters that phase, and turns the previous closed cycle's
next-cycle goals into draft goals. ``participants_add`` does the same for people
added to a running cycle.

Phases: ``phase_move`` (HR, forwards or back) and ``advance_by_date`` (the daily
job) call ``enter_phase``: Study starts every draft appraisal; each phase gives
its to-dos (appraisals.services.todos) and emails them after commit. A move by
HR holds against the daily job until the next phase window opens. ``cycle_close``
locks every appraisal and closes the cycle. Every change is kept in history.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from appraisals import history, notifications
from appraisals.access import can_manage_cycles
from appraisals.models import (
    PHASE_ORDER,
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleState,
    DevelopmentPlan,
    HistoryEntry,
    Participant,
    ParticipantOverride,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.services import appraisals as workflow
from appraisals.services import tallies, todos
from cascade import selectors as cascade
from cascade.models import GoalPeriod
from competencies import selectors as competencies
from competencies.models import FormVersion, VersionStatus
from core import jobs
from core.access import deny_unless
from core.errors import ConflictError
from people import access as people
from people import bulk
from people.models import Department, Employee

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
NAMES_SHOWN = 10  # people named in a refusal before "and N more"
PHASE_FIELDS = tuple(f"{phase}_{edge}" for phase in PHASE_ORDER for edge in ("start", "end"))
DATE_FIELDS = ("start", "end", *PHASE_FIELDS)
CYCLE_FIELDS = frozenset({"name", "methodology", "period", *DATE_FIELDS, "include_everyone", "hired_on_or_before"})
# Once launched only the name may change: the rest decided who was launched into what.
SETUP_ONLY_FIELDS = CYCLE_FIELDS - {"name"}
# History: what the cycle's own entries are called (the daily job reads the last HR move back).
CYCLE_RECORD = "cycle"
MOVED_BY_HR = "moved to another phase"
MOVED_BY_DATE = "moved to the phase of the date"


def _names(employees: Sequence[Employee]) -> str:
    shown = ", ".join(e.full_name for e in employees[:NAMES_SHOWN])
    more = len(employees) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


# ---------------------------------------------------------------- set-up


def _apply(cycle: ReviewCycle, data: Mapping[str, object]) -> None:
    unknown = set(data) - CYCLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    errors: dict[str, str] = {}
    for name, value in data.items():
        if name == "period":
            if value is None:
                continue  # the default: chosen from the Plan window by _choose_period
            if not isinstance(value, GoalPeriod):
                errors[name] = "Choose a goal period."
                continue
        if name in DATE_FIELDS or name == "hired_on_or_before":
            try:
                value = ReviewCycle._meta.get_field(name).to_python(value)
            except ValidationError:
                errors[name] = "Enter a valid date."
                continue
        setattr(cycle, name, value)
    if errors:
        raise ValidationError(errors)


def date_problems(cycle: ReviewCycle) -> dict[str, str]:
    """Each problem with the cycle's dates, by the field to change (empty when the dates are right):
    the cycle ends after it starts; each window ends after it starts, lies inside the cycle and
    starts after the one before it ends (Plan, Do, Study, Act in that order, no overlap)."""
    errors: dict[str, str] = {}
    for name in DATE_FIELDS:
        if getattr(cycle, name) is None:
            errors[name] = "Enter a date."
    start, end = cycle.start, cycle.end
    if start and end and end < start:
        errors["end"] = f"The cycle must end on or after the day it starts ({_day(start)})."
    before: tuple[str, datetime.date, datetime.date] | None = None  # the previous window: label, start, end
    for phase in PHASE_ORDER:
        label = f"{cycle.phase_label(phase).split(':')[0]} window"
        first, last = cycle.window(phase)
        if first is None or last is None:
            continue
        if last < first:
            errors.setdefault(f"{phase}_end", f"The {label} must end on or after the day it starts ({_day(first)}).")
        if start and first < start:
            errors.setdefault(f"{phase}_start", f"The {label} starts before the cycle does ({_day(start)}).")
        if end and first > end:
            errors.setdefault(f"{phase}_start", f"The {label} starts after the cycle ends ({_day(end)}).")
        if end and last > end:
            errors.setdefault(f"{phase}_end", f"The {label} ends after the cycle does ({_day(end)}).")
        if start and last < start:
            errors.setdefault(f"{phase}_end", f"The {label} ends before the cycle starts ({_day(start)}).")
        if before is not None:
            previous, previous_start, previous_end = before
            if first < previous_start:
                errors.setdefault(
                    f"{phase}_start",
                    f"The {label} starts before the {previous} ({_day(previous_start)}): "
                    f"the phases run plan, do, study, act, in that order.",
                )
            elif first <= previous_end:
                errors.setdefault(
                    f"{phase}_start",
                    f"The {label} overlaps the {previous}, which ends on {_day(previous_end)}; "
                    f"start it on {_day(previous_end + datetime.timedelta(days=1))} or later.",
                )
        before = (label, first, last)
    return errors


def _choose_period(cycle: ReviewCycle, data: Mapping[str, object]) -> None:
    """The period the cycle reviews: the one HR chose, else (chosen as "default", or never chosen)
    the open period that holds the Plan window. Several cycles may review one period."""
    if "period" in data and data["period"] is not None:
        return  # set by _apply
    if "period" not in data and cycle.period_id is not None:
        return  # not being changed
    period = cascade.open_period_containing(start=cycle.plan_start, end=cycle.plan_end)
    cycle.period_id = period.pk if period is not None else None
    if period is not None:
        cycle.period = period


def _validate(cycle: ReviewCycle, *, departments: Sequence[Department]) -> None:
    errors = date_problems(cycle)
    if not cycle.include_everyone and not departments:
        errors["departments"] = "Choose at least one department, or include everyone."
    if cycle.period_id is None and not errors.keys() & {"plan_start", "plan_end"}:
        window = f" ({_day(cycle.plan_start)} to {_day(cycle.plan_end)})" if cycle.plan_start and cycle.plan_end else ""
        errors["period"] = (
            f"No open goal period holds the whole Plan window{window}. "
            "Choose the goal period this cycle reviews, or add one on the goal periods page."
        )
    if errors:
        raise ValidationError(errors)
    cycle.full_clean(exclude=["period", "created_by"], validate_constraints=False)


def start_note(cycle: ReviewCycle, *, today: datetime.date | None = None) -> str:
    """A warning (not an error) for a cycle set up with windows already past: the phase it will start
    in when launched today, and that earlier phases give no to-dos, so nobody is late for them."""
    today = today or timezone.localdate()
    if cycle.state != CycleState.SETUP or date_problems(cycle) or cycle.plan_end >= today:
        return ""
    phase = phase_on(cycle, today)
    passed = [cycle.phase_label(p).split(":")[0] for p in PHASE_ORDER[: PHASE_ORDER.index(phase)]]
    passed_text = ", ".join(passed) if passed else cycle.phase_label(Phase.PLAN).split(":")[0]
    return (
        f"Some phase windows are already past ({passed_text}). Launched today, the cycle starts in the "
        f"{cycle.phase_label(phase)} phase, the one that contains today; the phases before it give no "
        "to-dos, so no one is late for them."
    )


def cycle_create(
    *,
    user,
    data: Mapping[str, object],
    departments: Iterable[Department] = (),
    excluded: Iterable[Employee] = (),
) -> ReviewCycle:
    """HR sets up a cycle that reviews a goal period.

    ``data`` holds the fields of CYCLE_FIELDS. Its ``period`` is the goal period the cycle
    reviews (the participants' approved goals in it are the appraisals' goals); left out or
    None, it is the open period that holds the Plan window. No period is ever created here.
    """
    deny_unless(can_manage_cycles(user), "Only HR can set up review cycles.")
    departments, excluded = list(departments), list(excluded)
    cycle = ReviewCycle(created_by=people.employee_for_user(user))
    _apply(cycle, data)
    cycle.name = (cycle.name or "").strip()
    _choose_period(cycle, {**data, "period": data.get("period")})
    _validate(cycle, departments=departments)
    with transaction.atomic():
        cycle.save()
        cycle.departments.set(departments)
        cycle.excluded.set(excluded)
        history.record(cycle=cycle, participant=None, record=CYCLE_RECORD, action="set up", user=user)
    return cycle


def _locked(cycle: ReviewCycle) -> ReviewCycle:
    return ReviewCycle.objects.select_for_update().select_related("period").get(pk=cycle.pk)


def cycle_update(
    *,
    user,
    cycle: ReviewCycle,
    expected_version: int | None,
    data: Mapping[str, object],
    departments: Iterable[Department] | None = None,
    excluded: Iterable[Employee] | None = None,
) -> ReviewCycle:
    """HR changes a cycle. Dates, methodology and who takes part change only while it is
    being set up; the name until it is closed. A save based on a stale read: ConflictError."""
    deny_unless(can_manage_cycles(user), "Only HR can change review cycles.")
    with transaction.atomic():
        current = _locked(cycle)
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        if current.state == CycleState.CLOSED:
            raise ValidationError("This cycle is closed; it can no longer change.")
        if current.state != CycleState.SETUP:
            frozen = sorted(
                {n for n in data if n in SETUP_ONLY_FIELDS and data[n] != getattr(current, n)}
                | ({"departments"} if departments is not None else set())
                | ({"excluded"} if excluded is not None else set())
            )
            if frozen:
                message = "This can change only while the cycle is being set up, before it is launched."
                raise ValidationError(dict.fromkeys(frozen, message))
        before = {name: getattr(current, name) for name in CYCLE_FIELDS}
        _apply(current, data)
        current.name = (current.name or "").strip()
        _choose_period(current, data)
        departments = list(departments) if departments is not None else None
        chosen = departments if departments is not None else list(current.departments.all())
        _validate(current, departments=chosen)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        if departments is not None:
            current.departments.set(departments)
        if excluded is not None:
            current.excluded.set(list(excluded))
        changes = {name: (before[name], getattr(current, name)) for name in CYCLE_FIELDS}
        history.record(
            cycle=current, participant=None, record=CYCLE_RECORD, action="changed", user=user, changes=changes
        )
    return current


def override_set(
    *,
    user,
    cycle: ReviewCycle,
    employee: Employee,
    form_version: FormVersion | None = None,
    reviewer: Employee | None = None,
) -> ParticipantOverride:
    """HR gives one person another form and/or reviewer than the rules and their manager.

    Before launch it applies at launch (or when they are added later). For someone already
    launched the form is fixed, but a new reviewer takes over at once: the participant's
    reviewer changes and their open reviewer to-dos move to the new reviewer.
    """
    deny_unless(can_manage_cycles(user), "Only HR can set per-person overrides.")
    errors: dict[str, str] = {}
    if form_version is None and reviewer is None:
        raise ValidationError("Choose a form, a reviewer or both; otherwise the rules already apply.")
    if form_version is not None and form_version.status != VersionStatus.PUBLISHED:
        errors["form_version"] = "Only a published form version can be given to people."
    if reviewer is not None and reviewer.pk == employee.pk:
        errors["reviewer"] = "Someone cannot review their own appraisal."
    elif reviewer is not None and not reviewer.is_active:
        errors["reviewer"] = f"{reviewer} is no longer active."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _locked(cycle)
        if current.state == CycleState.CLOSED:
            raise ValidationError("This cycle is closed; it can no longer change.")
        participant = Participant.objects.filter(cycle=current, employee=employee).first()
        if participant is not None and form_version is not None and form_version.pk != participant.form_version_id:
            raise ValidationError(
                {"form_version": f"{employee} was launched on a form already; it cannot change mid-cycle."}
            )
        override, _ = ParticipantOverride.objects.update_or_create(
            cycle=current, employee=employee, defaults={"form_version": form_version, "reviewer": reviewer}
        )
        if participant is not None and reviewer is not None and reviewer.pk != participant.reviewer_id:
            _change_reviewer(participant, reviewer, user)
        history.record(
            cycle=current,
            participant=participant,
            record="override",
            action="override set",
            user=user,
            changes={
                "employee": (None, employee.pk),
                "form_version": (None, form_version),
                "reviewer": (None, reviewer),
            },
        )
    return override


def _change_reviewer(participant: Participant, reviewer: Employee, user) -> None:
    old = participant.reviewer_id
    Participant.objects.filter(pk=participant.pk).update(reviewer=reviewer)
    if old is not None:
        # The new reviewer inherits the open reviewer to-dos they do not already hold.
        theirs = ToDo.objects.filter(participant=participant, employee=reviewer).values("kind")
        ToDo.objects.filter(participant=participant, employee_id=old, done_at__isnull=True).exclude(
            kind__in=theirs
        ).update(employee=reviewer)
    history.record(
        cycle=participant.cycle_id,
        participant=participant,
        record="participant",
        action="reviewer changed",
        user=user,
        changes={"reviewer": (old, reviewer.pk)},
    )
    participant.reviewer = reviewer


def override_clear(*, user, cycle: ReviewCycle, employee: Employee) -> None:
    """HR removes a person's override: the rules and their manager apply again (before they are launched)."""
    deny_unless(can_manage_cycles(user), "Only HR can clear per-person overrides.")
    with transaction.atomic():
        current = _locked(cycle)
        if Participant.objects.filter(cycle=current, employee=employee).exists():
            raise ValidationError(f"{employee} has been launched already; set another reviewer instead.")
        deleted, _ = ParticipantOverride.objects.filter(cycle=current, employee=employee).delete()
        if deleted:
            history.record(
                cycle=current,
                participant=None,
                record="override",
                action="override cleared",
                user=user,
                changes={"employee": (employee.pk, None)},
            )


# ---------------------------------------------------------------- who takes part


def department_ids_under(department_ids: Iterable[int]) -> set[int]:
    """The departments given and every department below them (one query)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in Department.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found: set[int] = set()
    stack = list(department_ids)
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, ()))
    return found


def eligible_employees(cycle: ReviewCycle) -> QuerySet[Employee]:
    """Who the cycle takes: active people; everyone or the chosen departments with their
    sub-departments; minus the exclusions; minus anyone hired after the cut-off (a person with
    no hire date on record is not known to be, and stays in)."""
    employees = Employee.objects.filter(is_active=True)
    if not cycle.include_everyone:
        chosen = cycle.departments.values_list("pk", flat=True)
        employees = employees.filter(department_id__in=department_ids_under(chosen))
    excluded = ReviewCycle.excluded.through.objects.filter(reviewcycle_id=cycle.pk).values("employee_id")
    employees = employees.exclude(pk__in=excluded)
    if cycle.hired_on_or_before:
        employees = employees.filter(Q(hire_date__isnull=True) | Q(hire_date__lte=cycle.hired_on_or_before))
    return employees.order_by("pk")


@dataclass
class Assignment:
    """Each person's form and reviewer as the launch would fix them."""

    forms: dict[int, FormVersion | None]
    reviewers: dict[int, int | None]


def assign(cycle: ReviewCycle, employees: Sequence[Employee]) -> Assignment:
    """Form: the person's override, else the assignment rules (competencies.selectors.forms_for).
    Reviewer: the override, else the nearest active manager above them. A fixed number of queries."""
    overrides = {o.employee_id: o for o in cycle.overrides.select_related("form_version__form")}
    by_rules = competencies.forms_for(
        [e for e in employees if not getattr(overrides.get(e.pk), "form_version_id", None)]
    )
    # Every active id rather than an IN list of managers: one query however large the organisation.
    active = set(Employee.objects.filter(is_active=True).values_list("pk", flat=True))
    forms: dict[int, FormVersion | None] = {}
    reviewers: dict[int, int | None] = {}
    for employee in employees:
        override = overrides.get(employee.pk)
        forms[employee.pk] = override.form_version if override and override.form_version_id else by_rules[employee.pk]
        if override and override.reviewer_id:
            reviewers[employee.pk] = override.reviewer_id
        else:
            reviewers[employee.pk] = next((pk for pk in reversed(employee.chain_ids()) if pk in active), None)
    return Assignment(forms=forms, reviewers=reviewers)


@dataclass
class LaunchPreview:
    eligible: int
    forms: list[tuple[FormVersion, int]] = field(default_factory=list)  # each form and how many take it
    without_form: list[Employee] = field(default_factory=list)
    without_reviewer: list[Employee] = field(default_factory=list)
    overrides: int = 0

    @property
    def ready(self) -> bool:
        return self.eligible > 0 and not self.without_form


def launch_preview(cycle: ReviewCycle) -> LaunchPreview:
    """What a launch would do now: how many people, on which forms, and who has no form (which
    stops the launch) or no reviewer (the top of the organisation, unless given one)."""
    employees = list(eligible_employees(cycle).select_related("department"))
    assignment = assign(cycle, employees)
    counts: dict[int, int] = {}
    versions: dict[int, FormVersion] = {}
    for version in assignment.forms.values():
        if version is not None:
            counts[version.pk] = counts.get(version.pk, 0) + 1
            versions[version.pk] = version
    return LaunchPreview(
        eligible=len(employees),
        forms=sorted(((versions[pk], n) for pk, n in counts.items()), key=lambda item: -item[1]),
        without_form=[e for e in employees if assignment.forms[e.pk] is None],
        without_reviewer=[e for e in employees if assignment.reviewers[e.pk] is None],
        overrides=cycle.overrides.count(),
    )


def _no_form_message(people_without: Sequence[Employee]) -> str:
    count = len(people_without)
    who = "person has" if count == 1 else "people have"
    return (
        f"{count} {who} no appraisal form: {_names(people_without)}. "
        "Add an assignment rule that covers them or give them a form by override, then launch."
    )


# ---------------------------------------------------------------- launch


def cycle_launch(*, user, cycle: ReviewCycle) -> ReviewCycle:
    """HR launches the cycle: refused if anyone eligible has no form (they are named). The records
    are created in the background (``appraisals.launch_cycle``) once this commits. A launch that
    stopped (still ``launching``) may be started again; it finishes what is missing."""
    from appraisals.tasks import launch_cycle  # the task module imports this one

    deny_unless(can_manage_cycles(user), "Only HR can launch review cycles.")
    with transaction.atomic():
        current = _locked(cycle)
        if current.state in {CycleState.ACTIVE, CycleState.CLOSED}:
            raise ValidationError("This cycle has been launched already.")
        preview = launch_preview(current)
        if not preview.eligible:
            raise ValidationError("No one takes part in this cycle as it is set up; change who takes part.")
        if preview.without_form:
            raise ValidationError(_no_form_message(preview.without_form))
        ReviewCycle.objects.filter(pk=current.pk).update(
            state=CycleState.LAUNCHING,
            launch_total=preview.eligible,
            launch_done=0,
            launch_error="",
            version=F("version") + 1,
            **jobs.beat(),
        )
        history.record(
            cycle=current,
            participant=None,
            record=CYCLE_RECORD,
            action="launch started",
            user=user,
            changes={"state": (current.state, CycleState.LAUNCHING)},
        )
        transaction.on_commit(lambda: launch_cycle.delay(current.pk))
    current.refresh_from_db()
    return current


def launch_resume(*, user, cycle: ReviewCycle) -> ReviewCycle:
    """HR resumes a launch that stalled (core.jobs: no progress for a few minutes, its worker
    gone): the task is queued again and finishes what is missing, one record per person. A launch
    that is moving, or already resumed a moment ago, is left alone, so a second press does nothing."""
    from appraisals.tasks import launch_cycle  # the task module imports this one

    deny_unless(can_manage_cycles(user), "Only HR can resume a launch.")
    with transaction.atomic():
        current = _locked(cycle)
        if current.state != CycleState.LAUNCHING:
            raise ValidationError("Only a launch under way can be resumed; this cycle is not launching.")
        if not current.is_stalled:
            return current
        ReviewCycle.objects.filter(pk=current.pk).update(**jobs.beat())
        history.record(
            cycle=current, participant=None, record=CYCLE_RECORD, action="launch resumed", user=user, changes={}
        )
        transaction.on_commit(lambda: launch_cycle.delay(current.pk))
    current.refresh_from_db()
    return current


def _create_records(cycle: ReviewCycle, employees: Sequence[Employee], assignment: Assignment) -> list[int]:
    """Participants with their appraisal (draft), check-in and development plan, for those of
    ``employees`` who lack them; returns the ids of the participants created. The unique
    constraints make a second run (or a run racing this one) a no-op."""
    ids = [e.pk for e in employees]
    before = set(Participant.objects.filter(cycle=cycle, employee_id__in=ids).values_list("employee_id", flat=True))
    # Rows rather than model instances (people.bulk.insert_new: one INSERT … ON CONFLICT DO NOTHING
    # over arrays on PostgreSQL): a launch writes four records a person, 400,000 at 100,000 people.
    bulk.insert_new(
        Participant,
        ("cycle_id", "employee_id", "form_version_id", "reviewer_id"),
        [
            (cycle.pk, e.pk, assignment.forms[e.pk].pk, assignment.reviewers[e.pk])
            for e in employees
            if e.pk not in before
        ],
    )
    participants = dict(Participant.objects.filter(cycle=cycle, employee_id__in=ids).values_list("employee_id", "pk"))
    rows = [(pk,) for pk in participants.values()]
    for model in (Appraisal, CheckIn, DevelopmentPlan):
        bulk.insert_new(model, ("participant_id",), rows)
    return [pk for employee_id, pk in participants.items() if employee_id not in before]


def phase_on(cycle: ReviewCycle, day: datetime.date) -> str:
    """The phase the dates put the cycle in on ``day``: the last window that has opened (a gap
    between windows keeps the one before), Plan before any has."""
    current = Phase.PLAN
    for phase in PHASE_ORDER:
        if cycle.window(phase)[0] <= day:
            current = phase
    return current


def previous_closed_cycle(cycle: ReviewCycle) -> ReviewCycle | None:
    """The closed cycle that ended most recently before this one started."""
    return (
        ReviewCycle.objects.filter(state=CycleState.CLOSED, end__lt=cycle.start)
        .exclude(pk=cycle.pk)
        .order_by("-end", "-pk")
        .first()
    )


def run_launch(cycle_id: int, *, notify: bool = True, today: datetime.date | None = None) -> ReviewCycle:
    """The launch task's body. Does nothing unless the cycle is ``launching``; then creates what is
    missing, a batch per transaction (``launch_done`` after each), and in one last transaction makes
    the cycle active in the phase of the date, enters it and carries the previous cycle's goals over.
    If it stops half-way, every finished batch stays and running it again finishes the rest; a
    failure is logged and written to ``launch_error`` for the progress page. ``notify=False`` sends
    no emails (demo data); ``today`` dates the launch for the phase (demo data replaying a past cycle)."""
    cycle = ReviewCycle.objects.get(pk=cycle_id)
    if cycle.state != CycleState.LAUNCHING:
        return cycle

    def mark(**fields: object) -> None:
        ReviewCycle.objects.filter(pk=cycle_id).update(**fields, **jobs.beat())

    try:
        employees = list(eligible_employees(cycle).only("pk", "full_name", "path", "department_id", "job_title"))
        assignment = assign(cycle, employees)
        without = [e for e in employees if assignment.forms[e.pk] is None]
        if without:
            mark(launch_error=_no_form_message(without))
            return ReviewCycle.objects.get(pk=cycle_id)
        # Run again (redelivered, resumed), it walks the same people in the same order, past those
        # done before: the count it had reached stands rather than falling back to 0.
        mark(launch_total=len(employees), launch_error="")
        for start, batch in jobs.batches(employees, BATCH_SIZE):
            with transaction.atomic():
                _create_records(cycle, batch, assignment)
            mark(launch_done=Greatest(F("launch_done"), start + len(batch)))
        with transaction.atomic():
            current = _locked(cycle)
            if current.state != CycleState.LAUNCHING:  # another run finished first
                return current
            phase = current.phase or phase_on(current, today or timezone.localdate())
            ReviewCycle.objects.filter(pk=cycle_id).update(
                state=CycleState.ACTIVE,
                phase=phase,
                launched_at=timezone.now(),
                launch_done=len(employees),
                version=F("version") + 1,
            )
            current.refresh_from_db()
            history.record(
                cycle=current,
                participant=None,
                record=CYCLE_RECORD,
                action="launched",
                user=None,
                changes={"state": (CycleState.LAUNCHING, CycleState.ACTIVE), "phase": (None, phase)},
            )
            enter_phase(current, phase, notify=notify)
            tallies.rebuild(current.pk)  # the dashboard's counts, once, now that everyone is in
            previous = previous_closed_cycle(current)
            if previous is not None:
                workflow.carry_next_cycle_goals(from_cycle=previous, to_cycle=current)
    except Exception as exc:
        logger.exception("Launch of review cycle %s stopped", cycle_id)
        mark(
            launch_error=f"The launch stopped ({type(exc).__name__}). Launch again to finish it: "
            "what was created is kept and nothing is created twice."
        )
        return ReviewCycle.objects.get(pk=cycle_id)
    return current


def participants_add(*, user, cycle: ReviewCycle, employees: Iterable[Employee]) -> list[Participant]:
    """HR adds people to a running cycle: the same records as the launch, their form and reviewer
    by the same rules, started and given the current phase's to-dos. People already in it are
    skipped; an exclusion of someone added is lifted. Returns the new participants."""
    deny_unless(can_manage_cycles(user), "Only HR can add people to a review cycle.")
    employees = list(employees)
    with transaction.atomic():
        current = _locked(cycle)
        if current.state != CycleState.ACTIVE:
            raise ValidationError(
                "People can be added once the cycle is running; before the launch, change who takes part instead."
            )
        inactive = [e for e in employees if not e.is_active]
        if inactive:
            raise ValidationError({"employees": f"No longer active: {_names(inactive)}."})
        already = set(
            Participant.objects.filter(cycle=current, employee__in=employees).values_list("employee_id", flat=True)
        )
        employees = [e for e in employees if e.pk not in already]
        if not employees:
            return []
        assignment = assign(current, employees)
        without = [e for e in employees if assignment.forms[e.pk] is None]
        if without:
            raise ValidationError({"employees": _no_form_message(without)})
        current.excluded.remove(*employees)
        created = _create_records(current, employees, assignment)
        for pk in created:
            history.record(cycle=current, participant=pk, record="participant", action="added to the cycle", user=user)
        new = Participant.objects.filter(pk__in=created)
        if current.phase:
            enter_phase(current, current.phase, participants=new)
        tallies.refresh_departments(current.pk, {e.department_id for e in employees})
    return list(new.select_related("employee", "reviewer", "form_version"))


# ---------------------------------------------------------------- phases


def enter_phase(
    cycle: ReviewCycle, phase: str, *, participants: QuerySet[Participant] | None = None, notify: bool = True
) -> int:
    """What entering ``phase`` does, for everyone or ``participants``: Study starts every draft
    appraisal (appraisal_start); every phase creates its to-dos, emailed by tasks queued on commit. Safe to
    repeat (HR moving back and forth). The caller holds the cycle's row lock. Returns the number
    of to-dos created."""
    scope = participants if participants is not None else Participant.objects.filter(cycle=cycle)
    if phase == Phase.STUDY and participants is None:
        workflow.start_study(cycle=cycle)  # every draft of the cycle, in bulk
    elif phase == Phase.STUDY:
        drafts = Appraisal.objects.filter(participant__in=scope.values("pk"), state=AppraisalState.DRAFT)
        for appraisal in drafts.select_related("participant__cycle", "participant__employee").order_by("pk"):
            workflow.appraisal_start(appraisal=appraisal)
    created = todos.phase_todos(cycle, phase, participants=scope)
    if notify:
        notifications.queue_new_todos(created)
    return len(created)


def _move(cycle: ReviewCycle, phase: str, *, user, action: str, notify: bool = True) -> ReviewCycle:
    old = cycle.phase
    ReviewCycle.objects.filter(pk=cycle.pk).update(phase=phase, version=F("version") + 1)
    cycle.refresh_from_db()
    history.record(
        cycle=cycle, participant=None, record=CYCLE_RECORD, action=action, user=user, changes={"phase": (old, phase)}
    )
    enter_phase(cycle, phase, notify=notify)
    return cycle


def phase_move(*, user, cycle: ReviewCycle, phase: str) -> ReviewCycle:
    """HR moves a running cycle to another phase, forwards or back. The daily job leaves the
    cycle where HR put it until the window of a later phase opens."""
    deny_unless(can_manage_cycles(user), "Only HR can move a review cycle to another phase.")
    if phase not in Phase.values:
        raise ValidationError({"phase": "Choose plan, do, study or act."})
    with transaction.atomic():
        current = _locked(cycle)
        if current.state != CycleState.ACTIVE:
            raise ValidationError("Only a running cycle moves between phases; launch it first, or it is closed.")
        if current.phase == phase:
            raise ValidationError({"phase": f"The cycle is in the {current.phase_label()} phase already."})
        return _move(current, phase, user=user, action=MOVED_BY_HR)


def _last_hr_move(cycle: ReviewCycle) -> datetime.date | None:
    at = (
        HistoryEntry.objects.filter(cycle=cycle, participant__isnull=True, record=CYCLE_RECORD, action=MOVED_BY_HR)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return timezone.localdate(at) if at else None


def advance_by_date(*, today: datetime.date, notify: bool = True) -> list[ReviewCycle]:
    """The daily job: each running cycle whose date lies in a later phase's window moves there
    (unless HR moved it since that window opened). Each cycle in its own transaction, so one
    failure does not hold up the others. Returns the cycles moved."""
    moved = []
    for cycle_id in ReviewCycle.objects.filter(state=CycleState.ACTIVE).order_by("pk").values_list("pk", flat=True):
        try:
            with transaction.atomic():
                cycle = ReviewCycle.objects.select_for_update().select_related("period").get(pk=cycle_id)
                target = phase_on(cycle, today)
                if cycle.state != CycleState.ACTIVE or target == cycle.phase:
                    continue
                if cycle.phase and PHASE_ORDER.index(target) < PHASE_ORDER.index(cycle.phase):
                    continue
                held_since = _last_hr_move(cycle)
                if held_since is not None and held_since >= cycle.window(target)[0]:
                    continue
                moved.append(_move(cycle, target, user=None, action=MOVED_BY_DATE, notify=notify))
        except Exception:
            logger.exception("Could not move review cycle %s to the phase of %s", cycle_id, today)
    return moved


# ---------------------------------------------------------------- closing


def cycle_close(*, user, cycle: ReviewCycle) -> ReviewCycle:
    """HR closes a running cycle: every appraisal is locked with its final score, whatever state
    it reached (the workflow's lock_cycle), and the cycle is closed, all in one transaction. Its
    open to-dos drop off the lists."""
    deny_unless(can_manage_cycles(user), "Only HR can close review cycles.")
    with transaction.atomic():
        current = _locked(cycle)
        if current.state != CycleState.ACTIVE:
            raise ValidationError("Only a running cycle can be closed.")
        locked = workflow.lock_cycle(cycle=current, user=user)  # appraisal_lock for them all, in bulk
        ReviewCycle.objects.filter(pk=current.pk).update(
            state=CycleState.CLOSED, closed_at=timezone.now(), version=F("version") + 1
        )
        history.record(
            cycle=current,
            participant=None,
            record=CYCLE_RECORD,
            action="closed",
            user=user,
            changes={"state": (CycleState.ACTIVE, CycleState.CLOSED), "appraisals locked": (0, locked)},
        )
    current.refresh_from_db()
    return current

"""Writes for the cascade: priorities, measures, observations and goals.

Each function checks who is acting, validates, and writes in one transaction.
Goal-setting steps (submit, approve, return, reopen) are in cascade.workflow;
progress and the roll-up in cascade.progress.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from cascade import access, progress, workflow
from cascade.models import (
    Approval,
    ChangePoint,
    Direction,
    Goal,
    GoalLevel,
    GoalPeriod,
    GoalStatus,
    Observation,
    PriorityStatus,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from core import inputs
from core.access import deny_unless
from core.errors import ConflictError
from core.formatting import day
from core.log import diff, log_action, log_actions, snapshot
from people import access as people

# ---------------------------------------------------------------- priorities and measures


def _apply(instance, data: Mapping[str, object], editable: frozenset[str]) -> None:
    unknown = set(data) - editable
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value)


def _save_versioned(model, instance, expected_version: int | None, fields: set[str]) -> None:
    """Save ``fields`` if nobody else saved since ``expected_version`` was read; else ConflictError (409).

    Only the edited fields are written: derived ones (progress, kept by the roll-up)
    may have moved since the caller read the record and must not be written back.
    """
    if expected_version is not None:
        current = model.objects.select_for_update().filter(pk=instance.pk).values_list("version", flat=True).first()
        if current != expected_version:
            raise ConflictError()
    instance.version = F("version") + 1
    instance.save(update_fields=sorted(fields | {"version"}))
    instance.refresh_from_db()


PRIORITY_FIELDS = frozenset({"title", "aim", "methodology", "owner", "period_start", "period_end", "status"})


def priority_create(*, user, data: Mapping[str, object]) -> QualityPriority:
    deny_unless(access.can_manage_priorities(user), "Only the quality lead or HR can create quality priorities.")
    priority = QualityPriority()
    _apply(priority, data, PRIORITY_FIELDS)
    if priority.owner_id is None:
        priority.owner = people.employee_for_user(user)
    _validate_priority(priority)
    with transaction.atomic():
        priority.save()
        log_action(priority, "priority.created", user=user, data={"title": priority.title})
    return priority


def priority_update(*, user, priority: QualityPriority, expected_version: int | None, data: Mapping[str, object]):
    deny_unless(access.can_manage_priorities(user), "Only the quality lead or HR can change quality priorities.")
    with transaction.atomic():
        before = snapshot(priority, set(data) & PRIORITY_FIELDS)
        _apply(priority, data, PRIORITY_FIELDS)
        _validate_priority(priority)
        _save_versioned(QualityPriority, priority, expected_version, set(data))
        changes = diff(before, priority)
        retired = changes.get("status", (None, None))[1] == PriorityStatus.RETIRED
        log_action(priority, "priority.retired" if retired else "priority.updated", user=user, changes=changes)
    return priority


def _validate_priority(priority: QualityPriority) -> None:
    if priority.period_start and priority.period_end and priority.period_end < priority.period_start:
        raise ValidationError({"period_end": "The period must end on or after its start."})
    priority.full_clean(validate_constraints=False)


MEASURE_FIELDS = frozenset(
    {
        "priority",
        "name",
        "description",
        "unit",
        "measure_type",
        "direction",
        "baseline",
        "target",
        "department",
        "frequency",
        "run_rules",
    }
)


def validate_direction(*, direction: str, baseline: Decimal, target: Decimal, field: str = "target") -> None:
    """A target lies on the improving side of the baseline; equal is no aim at all."""
    if target == baseline:
        raise ValidationError({field: "The target must differ from the baseline."})
    if direction == Direction.UP and target < baseline:
        raise ValidationError({field: "Higher is better for this measure, so the target must be above the baseline."})
    if direction == Direction.DOWN and target > baseline:
        raise ValidationError({field: "Lower is better for this measure, so the target must be below the baseline."})


def measure_create(*, user, data: Mapping[str, object]) -> QualityMeasure:
    deny_unless(access.can_manage_priorities(user), "Only the quality lead or HR can define measures.")
    measure = QualityMeasure()
    _apply(measure, data, MEASURE_FIELDS)
    measure.full_clean(validate_constraints=False)
    validate_direction(direction=measure.direction, baseline=measure.baseline, target=measure.target)
    with transaction.atomic():
        measure.save()
        log_action(measure, "measure.created", user=user, data={"name": measure.name, "priority": measure.priority_id})
    return measure


def measure_update(*, user, measure: QualityMeasure, expected_version: int | None, data: Mapping[str, object]):
    deny_unless(access.can_manage_priorities(user), "Only the quality lead or HR can change measures.")
    with transaction.atomic():
        before = snapshot(measure, set(data) & MEASURE_FIELDS)
        _apply(measure, data, MEASURE_FIELDS)
        measure.full_clean(validate_constraints=False)
        validate_direction(direction=measure.direction, baseline=measure.baseline, target=measure.target)
        _save_versioned(QualityMeasure, measure, expected_version, set(data))
        log_action(measure, "measure.updated", user=user, changes=diff(before, measure))
        progress.refresh_measure_driven(measure)
    return measure


# ---------------------------------------------------------------- observations


def _decimal(value: object, field: str, *, required: bool) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError({field: "A number is required."})
        return None
    try:
        # A comma only between thousands: "12,5" is refused, not read as 125 (core.inputs).
        return inputs.parse_decimal(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def observation_add(
    *,
    user,
    measure: QualityMeasure,
    date: datetime.date,
    value: object,
    numerator: object = None,
    denominator: object = None,
) -> Observation:
    """One dated value for a measure; a second value for the same date is refused."""
    deny_unless(access.can_record_observations(user, measure), "You cannot record data for this measure.")
    observation = _new_observation(measure, date, value, numerator, denominator, user)
    with transaction.atomic():
        try:
            with transaction.atomic():
                observation.save()
        except IntegrityError:
            raise ValidationError({"date": f"{measure} already has a value for {day(date)}."}) from None
        log_action(observation, "observation.recorded", user=user, data=_observation_data(observation))
        progress.refresh_measure_driven(measure)
    return observation


def _observation_data(observation: Observation) -> dict[str, object]:
    return {"measure": observation.measure_id, "date": observation.date, "value": observation.value}


# An observation describes a period that has happened: a date far ahead (9999-12-31) would
# become the measure's "latest value" and move its goals' progress for good, and one
# before 2000 is a mistyped year, not data. The grace covers a value dated at the end
# of the week it describes, and time zones.
OBSERVATION_EARLIEST = datetime.date(2000, 1, 1)
OBSERVATION_GRACE = datetime.timedelta(days=7)


def validate_observation_date(date: datetime.date) -> None:
    latest = timezone.localdate() + OBSERVATION_GRACE
    if date > latest:
        raise ValidationError(
            {
                "date": f"{day(date)} is in the future: record a value once its period has passed "
                f"(dates up to {day(latest)} are accepted)."
            }
        )
    if date < OBSERVATION_EARLIEST:
        raise ValidationError({"date": f"{day(date)} is before {day(OBSERVATION_EARLIEST)}: check the year."})


def _new_observation(measure, date, value, numerator, denominator, user) -> Observation:
    if not isinstance(date, datetime.date):
        raise ValidationError({"date": "A date is required (YYYY-MM-DD)."})
    validate_observation_date(date)
    observation = Observation(
        measure=measure,
        date=date,
        value=_decimal(value, "value", required=True),
        numerator=_decimal(numerator, "numerator", required=False),
        denominator=_decimal(denominator, "denominator", required=False),
        entered_by=people.employee_for_user(user),
    )
    if observation.denominator is not None and observation.denominator == 0:
        raise ValidationError({"denominator": "The denominator cannot be zero."})
    observation.full_clean(exclude=["measure", "entered_by"], validate_unique=False, validate_constraints=False)
    return observation


def observations_add_many(*, user, measure: QualityMeasure, rows: list[dict]) -> int:
    """Bulk entry (an import): all rows or none. Each row: date, value, numerator, denominator."""
    deny_unless(access.can_record_observations(user, measure), "You cannot record data for this measure.")
    existing = set(measure.observations.values_list("date", flat=True))
    seen: set[datetime.date] = set()
    observations = []
    for row in rows:
        date = row.get("date")
        if date in existing or date in seen:
            raise ValidationError({"date": f"{measure} already has a value for {day(date)}."})
        seen.add(date)
        observations.append(
            _new_observation(measure, date, row.get("value"), row.get("numerator"), row.get("denominator"), user)
        )
    with transaction.atomic():
        created = Observation.objects.bulk_create(observations)
        # One entry on the measure for the import, one per value (ids are set on PostgreSQL and SQLite).
        log_action(measure, "observations.imported", user=user, data={"count": len(created)})
        log_actions(created, "observation.recorded", user=user, data={"measure": measure.pk, "imported": True})
        progress.refresh_measure_driven(measure)
    return len(observations)


# ---------------------------------------------------------------- change points


def change_point_mark(*, user, measure: QualityMeasure, date: object, reason: object) -> ChangePoint:
    """Mark the first day of a new phase of the measure's process, with the reason (PRODUCT.md
    "Change points"). The date must split the measure's data: after its first value (nothing
    comes before that to compare with) and on or before its latest one (a phase with no data
    would have nothing to draw), and never in the future."""
    deny_unless(
        access.can_mark_change_points(user, measure),
        "Only the measure's owner or a quality lead can mark a change point.",
    )
    text = reason.strip() if isinstance(reason, str) else ""
    errors: dict[str, str] = {}
    if not text:
        errors["reason"] = "Say what changed, e.g. the change adopted after a test."
    if not isinstance(date, datetime.date):
        errors["date"] = "A date is required (YYYY-MM-DD)."
    elif date > timezone.localdate():
        errors["date"] = f"{day(date)} is in the future: mark a change point once the change is in place."
    else:
        first, last = _observation_span(measure)
        if first is None or date <= first:
            errors["date"] = "A change point must come after the measure's first value: nothing comes before it."
        elif date > last:
            errors["date"] = (
                f"No value is recorded on or after {day(date)} yet: mark the change point once the new phase has data."
            )
    if errors:
        raise ValidationError(errors)
    change_point = ChangePoint(measure=measure, date=date, reason=text, created_by=people.employee_for_user(user))
    change_point.full_clean(exclude=["measure", "created_by"], validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        try:
            with transaction.atomic():
                change_point.save()
        except IntegrityError:
            raise ValidationError({"date": f"{measure} already has a change point on {day(date)}."}) from None
        log_action(
            change_point, "change_point.marked", user=user, data={"measure": measure.pk, "date": date, "reason": text}
        )
    return change_point


def _observation_span(measure: QualityMeasure) -> tuple[datetime.date | None, datetime.date | None]:
    dates = measure.observations.order_by().aggregate(first=Min("date"), last=Max("date"))
    return dates["first"], dates["last"]


def change_point_remove(*, user, change_point: ChangePoint) -> None:
    """Remove a change point: the phases either side of it become one again."""
    deny_unless(
        access.can_mark_change_points(user, change_point.measure),
        "Only the measure's owner or a quality lead can remove a change point.",
    )
    with transaction.atomic():
        data = {"measure": change_point.measure_id, "date": change_point.date, "reason": change_point.reason}
        deleted, _ = ChangePoint.objects.filter(pk=change_point.pk).delete()
        if not deleted:
            raise ConflictError("Someone removed this change point after you read it; nothing was changed.")
        log_action(change_point, "change_point.removed", user=user, data=data)


# ---------------------------------------------------------------- goals

GOAL_FIELDS = frozenset(
    {
        "title",
        "description",
        "parent_goal",
        "priority",
        "weight",
        "kind",
        "measure",
        "baseline",
        "target",
        "progress_mode",
        "status",
        "due_date",
        "improvement_hours_per_month",
        "period",
        "department",
        "owner",
    }
)
# Fields that may change on an approved goal without reopening it: its outcome (through the
# sign-off workflow, see goal_update).
OUTCOME_FIELDS = frozenset({"status"})


def goal_create(
    *,
    user,
    level: str,
    period: GoalPeriod,
    data: Mapping[str, object],
    contributing_departments: list | None = None,
) -> Goal:
    """A draft goal. Individual goals need ``owner``; functional goals need ``department``."""
    goal = Goal(level=level, period=period, approval=Approval.DRAFT, created_by=people.employee_for_user(user))
    if data.get("status", GoalStatus.OPEN) != GoalStatus.OPEN:
        raise ValidationError({"status": "A new goal is open; it is closed, with a sign-off, once approved."})
    _apply(goal, data, GOAL_FIELDS)
    if level == GoalLevel.INDIVIDUAL:
        if goal.owner_id is None:
            raise ValidationError({"owner": "An individual goal needs an owner."})
        goal.department_id = goal.owner.department_id
        deny_unless(access.can_draft_individual_goals(user, goal.owner), "You cannot set goals for this person.")
    else:
        if goal.department_id is None:
            raise ValidationError({"department": "A department goal needs a department."})
        goal.owner = None
        deny_unless(
            access.can_draft_functional_goals(user, goal.department), "You cannot set goals for this department."
        )
    with transaction.atomic():
        validate_goal(goal)
        goal.save()
        if contributing_departments is not None and level == GoalLevel.FUNCTIONAL:
            goal.contributing_departments.set([d for d in contributing_departments if d.pk != goal.department_id])
        log_action(
            goal,
            "goal.created",
            user=user,
            data={"level": level, "period": period.pk, "weight": goal.weight, "title": goal.title},
        )
        if goal.measure_id:
            progress.refresh_measure_driven(goal.measure)
    return goal


def goal_update(
    *,
    user,
    goal: Goal,
    expected_version: int | None,
    data: Mapping[str, object],
    contributing_departments: list | None = None,
) -> Goal:
    deny_unless(access.can_edit_goal(user, goal), "You cannot change this goal.")
    if goal.status == GoalStatus.CANCELLED:
        raise ValidationError("This goal is cancelled and stays as it was; create a new goal instead.")
    if data.get("status") == GoalStatus.CANCELLED:
        # Cancelling is a workflow step (who may, and what happens to the set): cascade.workflow.cancel.
        if set(data) != {"status"} or contributing_departments is not None:
            raise ValidationError({"status": "Cancel a goal on its own, without other changes in the same request."})
        return goal_cancel(user=user, goal=goal, expected_version=expected_version)
    if "status" in data and data["status"] == goal.status:
        data = {k: v for k, v in data.items() if k != "status"}  # the result as it is: nothing to close
    if "status" in data:
        # Closing a goal (achieved / not achieved) is its approver's sign-off, and reopening a closed
        # result clears it: cascade.workflow decides who may, so the owner cannot certify their own result.
        if set(data) != {"status"} or contributing_departments is not None:
            raise ValidationError(
                {"status": "Record a goal's result on its own, without other changes in the same request."}
            )
        if data["status"] == GoalStatus.OPEN:
            return workflow.reopen_result(user=user, goal=goal, expected_version=expected_version)
        if not access.can_sign_off_result(user, goal):
            raise ValidationError({"status": workflow.close_hint(goal)})
        return workflow.sign_off(user=user, goal=goal, result=data["status"], expected_version=expected_version)
    changes_content = bool(set(data) - OUTCOME_FIELDS) or contributing_departments is not None
    if not goal.is_editable and changes_content:
        raise ValidationError(
            f"“{goal.title}” is {goal.get_approval_display().lower()}; reopen it before changing it, "
            "so that its approver sees the change."
        )
    for fixed in ("owner", "department", "period", "level"):
        if fixed in data and data[fixed] != getattr(goal, fixed):
            raise ValidationError({fixed: "This cannot change once the goal exists; cancel it and create another."})
    with transaction.atomic():
        written = (set(data) & GOAL_FIELDS) | {"priority", "baseline", "target"}
        before = snapshot(goal, written)
        contributing_before = sorted(goal.contributing_departments.values_list("pk", flat=True)) if goal.pk else []
        _apply(goal, data, GOAL_FIELDS)
        validate_goal(goal)
        # validate_goal may fill the priority from the parent and baseline/target from the measure.
        _save_versioned(Goal, goal, expected_version, set(data) | {"priority", "baseline", "target"})
        changes = diff(before, goal)
        if contributing_departments is not None and goal.level == GoalLevel.FUNCTIONAL:
            goal.contributing_departments.set([d for d in contributing_departments if d.pk != goal.department_id])
            changes["contributing_departments"] = (
                contributing_before,
                sorted(goal.contributing_departments.values_list("pk", flat=True)),
            )
        log_action(goal, "goal.updated", user=user, changes=changes)
        if goal.measure_id:
            progress.refresh_measure_driven(goal.measure)
        progress.rollup_from([goal])
    return goal


def validate_goal(goal: Goal) -> None:
    """Every structural rule of the cascade, each refused with a message a person can act on."""
    errors: dict[str, str] = {}
    parent = goal.parent_goal if goal.parent_goal_id else None
    if parent is not None:
        if goal.level == GoalLevel.FUNCTIONAL:
            errors["parent_goal"] = "A department goal sits directly under a quality priority, not under another goal."
        elif parent.level != GoalLevel.FUNCTIONAL:
            errors["parent_goal"] = (
                "An individual goal sits under a department goal or a priority, not another person's goal."
            )
        elif goal.pk and parent.pk == goal.pk:
            errors["parent_goal"] = "A goal cannot be its own parent."
        elif parent.status == GoalStatus.CANCELLED:
            errors["parent_goal"] = "That department goal is cancelled."
        elif goal.period_id and parent.period_id != goal.period_id:
            errors["parent_goal"] = f"That department goal belongs to {parent.period}, not {goal.period}."
        else:
            goal.priority_id = parent.priority_id
    if goal.priority_id is None:
        errors["priority"] = "Choose the quality priority this goal serves."
    elif goal.priority.status == PriorityStatus.RETIRED and _priority_is_new(goal):
        errors["priority"] = "That priority is retired; choose an active one."
    if goal.progress_mode == ProgressMode.MEASURE and goal.measure_id is None:
        errors["measure"] = "A goal driven by a measure needs a linked measure."
    if goal.measure_id:
        if goal.baseline is None:
            goal.baseline = goal.measure.baseline
        if goal.target is None:
            goal.target = goal.measure.target
    if goal.baseline is not None and goal.target is not None:
        try:
            if goal.measure_id:
                validate_direction(direction=goal.measure.direction, baseline=goal.baseline, target=goal.target)
            elif goal.target == goal.baseline:
                raise ValidationError({"target": "The target must differ from the baseline."})
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    elif (goal.baseline is None) != (goal.target is None):
        errors["target"] = "Give both a baseline and a target, or neither."
    if goal.due_date and goal.period_id:
        period = goal.period
        if not period.start <= goal.due_date <= period.end:
            errors["due_date"] = f"The due date must fall within {period} ({day(period.start)} to {day(period.end)})."
    if errors:
        raise ValidationError(errors)
    goal.full_clean(
        exclude=["priority", "parent_goal", "owner", "department", "period", "measure", "created_by"],
        validate_constraints=False,
    )


def _priority_is_new(goal: Goal) -> bool:
    """True for a new goal, or one being moved to another priority (existing goals may stay under a retired one)."""
    if goal.pk is None:
        return True
    return not Goal.objects.filter(pk=goal.pk, priority_id=goal.priority_id).exists()


def goal_cancel(*, user, goal: Goal, expected_version: int | None, reason: str = "") -> Goal:
    """Cancelled goals stay in history but stop counting towards weights and roll-ups. A goal once
    approved is cancelled only by its approver or HR (the owner asks): cascade.workflow.cancel."""
    return workflow.cancel(user=user, goal=goal, reason=reason, expected_version=expected_version)


# ---------------------------------------------------------------- goal periods


def period_create(*, user, name: str, start: datetime.date, end: datetime.date) -> GoalPeriod:
    """HR adds a goal period (open). Review cycles review one; it is not anyone's default until marked."""
    deny_unless(access.can_manage_periods(user), "Only HR can add goal periods.")
    period = GoalPeriod(name=(name or "").strip(), start=start, end=end, is_open=True)
    errors: dict[str, str] = {}
    if start and end and end < start:
        errors["end"] = "The period must end on or after the day it starts."
    if period.name and GoalPeriod.objects.filter(name__iexact=period.name).exists():
        errors["name"] = f"A goal period called “{period.name}” already exists."
    if errors:
        raise ValidationError(errors)
    period.full_clean(validate_constraints=False)
    with transaction.atomic():
        period.save()
        log_action(period, "period.created", user=user, data={"start": start, "end": end})
    return period


def period_make_default(*, user, period: GoalPeriod) -> GoalPeriod:
    """HR marks the period people see when no review cycle they take part in is running. The
    period is opened if it was closed (a default nobody can see would show empty pages)."""
    deny_unless(access.can_manage_periods(user), "Only HR can choose the default goal period.")
    with transaction.atomic():
        # Lock every period row in one order, so two HR admins choosing at once cannot both win.
        list(GoalPeriod.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        previous = GoalPeriod.objects.filter(is_default=True).exclude(pk=period.pk).values_list("pk", flat=True).first()
        GoalPeriod.objects.filter(is_default=True).exclude(pk=period.pk).update(is_default=False)
        GoalPeriod.objects.filter(pk=period.pk).update(is_default=True, is_open=True)
        log_action(
            period,
            "period.made_default",
            user=user,
            changes={"is_default": (period.is_default, True), "is_open": (period.is_open, True)},
            data={"previous_default": previous},
        )
    period.refresh_from_db()
    return period

"""Writes for check-ins, the Do phase's mid-cycle conversation about progress.

The person writes their notes and the obstacles they meet; their reviewer writes
the manager's notes, coaching notes and obstacles too, and completes the check-in,
which keeps a snapshot of the goals' progress as it stood. A completed check-in,
or one in a closed cycle, no longer changes. Every change is kept in history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from appraisals import history, scoring
from appraisals.access import access_for
from appraisals.models import CheckIn, CycleState, ToDoKind
from appraisals.services import tallies, todos
from core.errors import ConflictError
from core.formatting import day

EMPLOYEE_FIELDS = frozenset({"employee_notes", "obstacles"})
REVIEWER_FIELDS = frozenset({"manager_notes", "coaching_notes", "obstacles"})
ALL_FIELDS = EMPLOYEE_FIELDS | REVIEWER_FIELDS


def _lock(check_in: CheckIn, expected_version: int | None) -> CheckIn:
    current = CheckIn.objects.select_for_update().get(pk=check_in.pk)
    for field in CheckIn._meta.concrete_fields:
        setattr(check_in, field.attname, getattr(current, field.attname))
    if expected_version is not None and check_in.version != expected_version:
        raise ConflictError()
    return check_in


def _require_writer(user, check_in: CheckIn):  # type: ignore[no-untyped-def]
    access = access_for(user, check_in.participant)
    if not (access.is_employee or access.is_reviewer):
        if access.is_hr:
            raise PermissionDenied("HR reads check-ins; the person and their reviewer write them.")
        raise PermissionDenied(
            f"Only {check_in.participant.employee.full_name} and their reviewer can write this check-in."
        )
    return access


def _refuse_if_closed(check_in: CheckIn) -> None:
    if check_in.completed_at is not None:
        raise ValidationError(
            f"This check-in was completed on {day(timezone.localtime(check_in.completed_at))}; it is kept as it was."
        )
    if check_in.participant.cycle.state == CycleState.CLOSED:
        raise ValidationError("The cycle is closed, so its check-ins can no longer change.")


def _save(check_in: CheckIn, fields: set[str]) -> None:
    check_in.version = F("version") + 1
    check_in.save(update_fields=sorted(fields | {"version", "updated_at"}))
    check_in.refresh_from_db(fields=["version", "updated_at"])


def checkin_save(*, user, check_in: CheckIn, expected_version: int | None, data: Mapping[str, Any]) -> CheckIn:
    """Save notes: the person's ``employee_notes`` and ``obstacles``; the reviewer's
    ``manager_notes``, ``coaching_notes`` and ``obstacles``. Anything else is refused, naming the field."""
    unknown = sorted(set(data) - ALL_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    with transaction.atomic():
        _lock(check_in, expected_version)
        access = _require_writer(user, check_in)
        _refuse_if_closed(check_in)
        allowed = EMPLOYEE_FIELDS if access.is_employee else REVIEWER_FIELDS
        errors = {}
        for name in sorted(set(data) - allowed):
            errors[name] = (
                "Only the reviewer writes this."
                if access.is_employee
                else "Only the person checked in with writes this."
            )
        for name in sorted(set(data) & allowed):
            if not isinstance(data[name], str):
                errors[name] = "Text is expected."
        if errors:
            raise ValidationError(errors)
        changes = {
            name: (getattr(check_in, name), data[name].strip())
            for name in sorted(data)
            if data[name].strip() != getattr(check_in, name)
        }
        if changes:
            for name, (_old, new) in changes.items():
                setattr(check_in, name, new)
            _save(check_in, set(changes))
            history.record(
                cycle=check_in.participant.cycle_id,
                participant=check_in.participant_id,
                record="check-in",
                action="saved",
                user=user,
                changes=changes,
            )
    return check_in


def goal_snapshot(check_in: CheckIn) -> list[dict[str, Any]]:
    """The person's goals in the cycle as they stand now (one query)."""
    return [
        {
            "goal": goal.pk,
            "title": goal.title,
            "weight": goal.weight,
            "progress": str(goal.progress),
            "approval": goal.approval,
            "status": goal.status,
        }
        for goal in scoring.appraised_goals(check_in.participant)
    ]


def checkin_complete(*, user, check_in: CheckIn, expected_version: int | None) -> CheckIn:
    """The reviewer records that the check-in took place, keeping a snapshot of the goals' progress."""
    with transaction.atomic():
        _lock(check_in, expected_version)
        access = _require_writer(user, check_in)
        if not access.is_reviewer:
            raise PermissionDenied("The reviewer completes the check-in, once you have talked it through together.")
        _refuse_if_closed(check_in)
        now = timezone.now()
        check_in.goal_snapshot = goal_snapshot(check_in)
        check_in.completed_at = now
        _save(check_in, {"goal_snapshot", "completed_at"})
        tallies.refresh_for(check_in.participant_id)
        history.record(
            cycle=check_in.participant.cycle_id,
            participant=check_in.participant_id,
            record="check-in",
            action="completed",
            user=user,
            changes={"completed_at": (None, now), "goal_snapshot": ([], check_in.goal_snapshot)},
        )
        todos.complete_todos(participant=check_in.participant, kind=ToDoKind.CHECK_IN)
    return check_in

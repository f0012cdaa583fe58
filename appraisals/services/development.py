"""Writes for development plans, the Act phase: what the person will learn next, and by when.

The person and their reviewer write the plan and its actions (each optionally
linked to a competency and a target level, with a due date). Either of them marks
the plan agreed; from then on its summary and list of actions are fixed, while
each action's status still moves (planned → in progress → done, or dropped).
HR and skip-level managers read plans; they do not write them. Every change is kept in history.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from appraisals import history
from appraisals.access import access_for
from appraisals.models import ActionStatus, DevelopmentAction, DevelopmentPlan, ToDoKind
from appraisals.services import tallies, todos
from competencies.models import BehaviouralIndicator, Competency
from core.errors import ConflictError
from core.formatting import day

ACTION_FIELDS = frozenset({"description", "competency", "target_level", "due_date", "status"})
# Once the plan is agreed, only an action's progress moves.
AGREED_ACTION_FIELDS = frozenset({"status"})


def _lock(plan: DevelopmentPlan, expected_version: int | None) -> DevelopmentPlan:
    current = DevelopmentPlan.objects.select_for_update().get(pk=plan.pk)
    for field in DevelopmentPlan._meta.concrete_fields:
        setattr(plan, field.attname, getattr(current, field.attname))
    if expected_version is not None and plan.version != expected_version:
        raise ConflictError()
    return plan


def _require_writer(user, plan: DevelopmentPlan) -> None:  # type: ignore[no-untyped-def]
    access = access_for(user, plan.participant)
    if access.is_employee or access.is_reviewer:
        return
    if access.is_hr:
        raise PermissionDenied("HR reads development plans; the person and their reviewer write them.")
    raise PermissionDenied(f"Only {plan.participant.employee.full_name} and their reviewer can change this plan.")


def _refuse_if_agreed(plan: DevelopmentPlan) -> None:
    if plan.agreed_at is not None:
        raise ValidationError(
            f"The plan was agreed on {day(timezone.localtime(plan.agreed_at))}; only its actions' progress "
            "can change now."
        )


def _bump(plan: DevelopmentPlan, fields: set[str]) -> None:
    plan.version = F("version") + 1
    plan.save(update_fields=sorted(fields | {"version", "updated_at"}))
    plan.refresh_from_db(fields=["version", "updated_at"])


def _record(plan: DevelopmentPlan, *, record: str, action: str, user, changes=None) -> None:  # type: ignore[no-untyped-def]
    history.record(
        cycle=plan.participant.cycle_id,
        participant=plan.participant_id,
        record=record,
        action=action,
        user=user,
        changes=changes,
    )


def plan_save(*, user, plan: DevelopmentPlan, expected_version: int | None, summary: str) -> DevelopmentPlan:
    if not isinstance(summary, str):
        raise ValidationError({"summary": "Text is expected."})
    with transaction.atomic():
        _lock(plan, expected_version)
        _require_writer(user, plan)
        _refuse_if_agreed(plan)
        summary = summary.strip()
        if summary != plan.summary:
            old, plan.summary = plan.summary, summary
            _bump(plan, {"summary"})
            _record(plan, record="development plan", action="saved", user=user, changes={"summary": (old, summary)})
    return plan


def plan_agree(*, user, plan: DevelopmentPlan, expected_version: int | None) -> DevelopmentPlan:
    """The person or their reviewer records that the plan is agreed; it needs at least one action."""
    with transaction.atomic():
        _lock(plan, expected_version)
        _require_writer(user, plan)
        if plan.agreed_at is not None:
            raise ValidationError("The plan has already been agreed.")
        if not plan.actions.exists():
            raise ValidationError("Add at least one development action before agreeing the plan.")
        now = timezone.now()
        plan.agreed_at = now
        _bump(plan, {"agreed_at"})
        tallies.refresh_for(plan.participant_id)
        _record(plan, record="development plan", action="agreed", user=user, changes={"agreed_at": (None, now)})
        todos.complete_todos(participant=plan.participant, kind=ToDoKind.DEVELOPMENT_PLAN)
    return plan


def _validated_action(action: DevelopmentAction, data: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    if "description" in data:
        description = data["description"]
        if not isinstance(description, str) or not description.strip():
            errors["description"] = "Say what the person will do."
        elif len(description.strip()) > 300:
            errors["description"] = "Keep the description to 300 characters."
        else:
            action.description = description.strip()
    if "competency" in data:
        competency = data["competency"]
        if competency is not None and not isinstance(competency, Competency):
            competency = Competency.objects.filter(pk=competency).first()
            if competency is None:
                errors["competency"] = "No such competency."
        if isinstance(competency, Competency) and competency.is_retired and competency.pk != action.competency_id:
            errors["competency"] = f"“{competency.name}” is retired; choose a current competency."
        if "competency" not in errors:
            action.competency = competency
    if "target_level" in data:
        action.target_level = data["target_level"]
    if "due_date" in data:
        due = data["due_date"]
        if due is not None and not isinstance(due, datetime.date):
            errors["due_date"] = "A date is expected (YYYY-MM-DD)."
        else:
            action.due_date = due
    if "status" in data:
        if data["status"] not in ActionStatus.values:
            errors["status"] = f"Choose one of: {', '.join(ActionStatus.values)}."
        else:
            action.status = data["status"]
    if errors:
        raise ValidationError(errors)
    _check_target_level(action)


def _check_target_level(action: DevelopmentAction) -> None:
    level = action.target_level
    if level is None:
        return
    if isinstance(level, bool) or not isinstance(level, int):
        raise ValidationError({"target_level": "A level number is expected."})
    if action.competency_id is None:
        raise ValidationError({"target_level": "Choose the competency the target level belongs to."})
    top = BehaviouralIndicator.objects.filter(competency_id=action.competency_id).aggregate(top=Max("level"))["top"]
    if not top:
        raise ValidationError({"target_level": f"“{action.competency}” has no levels to aim for."})
    if not 1 <= level <= top:
        raise ValidationError(
            {"target_level": f"“{action.competency}” has levels 1 to {top}; {level} is not one of them."}
        )


def _action_values(action: DevelopmentAction) -> dict[str, Any]:
    return {name: getattr(action, f"{name}_id" if name == "competency" else name) for name in ACTION_FIELDS}


def action_add(
    *,
    user,
    plan: DevelopmentPlan,
    description: str,
    competency: Competency | None = None,
    target_level: int | None = None,
    due_date: datetime.date | None = None,
) -> DevelopmentAction:
    with transaction.atomic():
        _lock(plan, None)
        _require_writer(user, plan)
        _refuse_if_agreed(plan)
        action = DevelopmentAction(plan=plan)
        _validated_action(
            action,
            {"description": description, "competency": competency, "target_level": target_level, "due_date": due_date},
        )
        action.save()
        _record(
            plan,
            record=f"action: {action.description}",
            action="added",
            user=user,
            changes={name: (None, value) for name, value in _action_values(action).items()},
        )
    return action


def action_update(*, user, action: DevelopmentAction, data: Mapping[str, Any]) -> DevelopmentAction:
    """Change an action's ``description``, ``competency``, ``target_level``, ``due_date`` or ``status``
    (only ``status`` once the plan is agreed). Marking it done records when."""
    unknown = sorted(set(data) - ACTION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    with transaction.atomic():
        plan = _lock(action.plan, None)
        _require_writer(user, plan)
        if plan.agreed_at is not None and set(data) - AGREED_ACTION_FIELDS:
            _refuse_if_agreed(plan)
        action = DevelopmentAction.objects.select_for_update().get(pk=action.pk)
        action.plan = plan
        before = _action_values(action)
        _validated_action(action, data)
        if action.status == ActionStatus.DONE and action.completed_at is None:
            action.completed_at = timezone.now()
        elif action.status != ActionStatus.DONE:
            action.completed_at = None
        changes = {
            name: (before[name], value) for name, value in _action_values(action).items() if before[name] != value
        }
        if changes:
            action.save()
            _record(plan, record=f"action: {action.description}", action="changed", user=user, changes=changes)
    return action

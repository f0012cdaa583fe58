"""Goal setting as a small workflow over an owner's *set* of goals in a period.

The owner drafts; submitting the set requires its weights to total 100; the
approver (the owner's manager, or the department head for department goals)
approves or returns it with a comment; an approved goal is changed only after
it is reopened, which sends it back through approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet

from cascade import access, progress
from cascade.models import Approval, Goal, GoalLevel, GoalPeriod, GoalSetEvent, GoalStatus, ReviewAction
from people import selectors as people
from people.models import Department, Employee


@dataclass(frozen=True)
class GoalSet:
    """One owner's goals in one period: a person's, or a department's functional goals."""

    period: GoalPeriod
    owner: Employee | None = None
    department: Department | None = None

    def __post_init__(self) -> None:
        if (self.owner is None) == (self.department is None):
            raise ValueError("A goal set belongs to exactly one person or one department.")

    @property
    def label(self) -> str:
        return self.owner.full_name if self.owner else f"{self.department} department"

    def goals(self) -> QuerySet[Goal]:
        queryset = Goal.objects.filter(period=self.period).exclude(status=GoalStatus.CANCELLED)
        if self.owner is not None:
            return queryset.filter(level=GoalLevel.INDIVIDUAL, owner=self.owner)
        return queryset.filter(level=GoalLevel.FUNCTIONAL, department=self.department)

    def may_approve(self, user) -> bool:
        if self.owner is not None:
            return access.can_approve_individual_set(user, self.owner)
        return access.can_approve_functional_set(user, self.department)

    def may_submit(self, user) -> bool:
        if self.owner is not None:
            return access.can_draft_individual_goals(user, self.owner)
        return access.can_draft_functional_goals(user, self.department)


def weights_problem(goals: list[Goal]) -> str | None:
    """None when the weights total 100; otherwise a message with the numbers that are off."""
    total = sum(g.weight for g in goals)
    if total == 100:
        return None
    listing = ", ".join(f"{g.title} {g.weight}" for g in goals)
    return f"The weights of these goals total {total}, not 100 ({listing}); change them by {100 - total:+d}."


def _log(goal_set: GoalSet, action: str, user, comment: str = "") -> None:
    GoalSetEvent.objects.create(
        period=goal_set.period,
        owner=goal_set.owner,
        department=goal_set.department,
        action=action,
        actor=people.employee_for_user(user),
        comment=comment,
    )


def _locked(goal_set: GoalSet) -> list[Goal]:
    # Lock the set's rows so that two people acting on it at once are serialised.
    return list(goal_set.goals().select_for_update().order_by("pk"))


def submit(*, user, goal_set: GoalSet) -> list[Goal]:
    if not goal_set.may_submit(user):
        raise PermissionDenied("You cannot submit these goals.")
    with transaction.atomic():
        goals = _locked(goal_set)
        if not goals:
            raise ValidationError("There are no goals to submit yet.")
        problem = weights_problem(goals)
        if problem:
            raise ValidationError({"weight": problem})
        pending = [g for g in goals if g.approval in {Approval.DRAFT, Approval.RETURNED}]
        if not pending:
            raise ValidationError("Every goal in this set is already submitted or approved.")
        Goal.objects.filter(pk__in=[g.pk for g in pending]).update(
            approval=Approval.SUBMITTED, version=F("version") + 1
        )
        _log(goal_set, ReviewAction.SUBMITTED, user)
    return goals


def approve(*, user, goal_set: GoalSet, comment: str = "") -> list[Goal]:
    if not goal_set.may_approve(user):
        raise PermissionDenied("Only the approver of this set can approve it.")
    with transaction.atomic():
        goals = _locked(goal_set)
        submitted = [g for g in goals if g.approval == Approval.SUBMITTED]
        if not submitted:
            raise ValidationError("There is nothing waiting for approval in this set.")
        problem = weights_problem(goals)
        if problem:  # the set changed since it was submitted (a goal was cancelled or reopened)
            raise ValidationError({"weight": problem})
        Goal.objects.filter(pk__in=[g.pk for g in submitted]).update(
            approval=Approval.APPROVED, version=F("version") + 1
        )
        _log(goal_set, ReviewAction.APPROVED, user, comment)
        for goal in submitted:
            goal.approval = Approval.APPROVED
        progress.rollup_from(submitted)
    return goals


def return_for_changes(*, user, goal_set: GoalSet, comment: str) -> list[Goal]:
    if not goal_set.may_approve(user):
        raise PermissionDenied("Only the approver of this set can return it.")
    if not comment.strip():
        raise ValidationError({"comment": "Say what should change, so the owner knows what to do."})
    with transaction.atomic():
        goals = _locked(goal_set)
        submitted = [g for g in goals if g.approval == Approval.SUBMITTED]
        if not submitted:
            raise ValidationError("There is nothing waiting for approval in this set.")
        Goal.objects.filter(pk__in=[g.pk for g in submitted]).update(
            approval=Approval.RETURNED, version=F("version") + 1
        )
        _log(goal_set, ReviewAction.RETURNED, user, comment.strip())
    return goals


def reopen(*, user, goal: Goal, comment: str = "") -> Goal:
    """Make an approved goal editable again; it drops out of the roll-up until re-approved."""
    if not (access.can_edit_goal(user, goal) or set_of(goal).may_approve(user)):
        raise PermissionDenied("You cannot reopen this goal.")
    with transaction.atomic():
        current = Goal.objects.select_for_update().get(pk=goal.pk)
        if current.approval != Approval.APPROVED:
            raise ValidationError("Only an approved goal needs reopening; this one can be edited as it is.")
        Goal.objects.filter(pk=goal.pk).update(approval=Approval.DRAFT, version=F("version") + 1)
        _log(set_of(goal), ReviewAction.REOPENED, user, comment)
        current.refresh_from_db()
        progress.rollup_from([current])
    return current


def set_of(goal: Goal) -> GoalSet:
    if goal.level == GoalLevel.INDIVIDUAL:
        return GoalSet(period=goal.period, owner=goal.owner)
    return GoalSet(period=goal.period, department=goal.department)


def set_state(goals: list[Goal]) -> str:
    """The set's state as one word for lists: the least advanced of its goals."""
    order = [Approval.RETURNED, Approval.DRAFT, Approval.SUBMITTED, Approval.APPROVED]
    states = {g.approval for g in goals if g.status != GoalStatus.CANCELLED}
    for state in order:
        if state in states:
            return state
    return Approval.DRAFT

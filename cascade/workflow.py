"""Goal setting as a small workflow over an owner's *set* of goals in a period.

The owner drafts; submitting the set requires its weights to total 100; the
approver (the owner's manager, or the department head for department goals)
approves or returns it with a comment; an approved goal is changed only after
it is reopened, which sends it back through approval.

Cancelling: a goal never approved is cancelled by whoever drafts it. A goal once
approved was agreed with the approver, so only they (or HR) cancel it; the owner
asks, with a reason (``request_cancel``), and the approver is notified and cancels
it (``cancel``) or keeps it (``keep``). A cancelled goal is never left "approved",
and a set left short of 100 by a cancellation goes back to draft, to be re-weighted
and approved again: no approved set ever totals 80.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from cascade import access, progress
from cascade.models import Approval, Goal, GoalLevel, GoalPeriod, GoalSetEvent, GoalStatus, ReviewAction
from cascade.notifications import GoalNotice, notify
from core.errors import ConflictError
from core.log import log_action
from core.weights import WEIGHTS_TOTAL, weights_total_problem
from people import access as people
from people.models import Department, Employee

# Approvals that count a goal in its set's agreed weights.
AGREED = (Approval.SUBMITTED, Approval.APPROVED)


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
    """None when the weights total 100; otherwise a message with the numbers that are off and by how much."""
    problem = weights_total_problem([(g.title, g.weight) for g in goals], what="weights of these goals")
    if problem is None:
        return None
    return f"{problem[:-1]}: change them by {WEIGHTS_TOTAL - sum(g.weight for g in goals):+d}."


def _log(goal_set: GoalSet, action: str, user, comment: str = "") -> None:
    GoalSetEvent.objects.create(
        period=goal_set.period,
        owner=goal_set.owner,
        department=goal_set.department,
        action=action,
        actor=people.employee_for_user(user),
        comment=comment,
    )


def _log_goals(goals: list[Goal], action: str, user, new_approval: str, comment: str = "") -> None:
    """One action-log entry per goal of a set step, with its own old → new approval. A set is a
    handful of goals (their weights total 100), so entries one by one keep each goal's old state."""
    for goal in goals:
        log_action(
            goal,
            action,
            user=user,
            changes={"approval": (goal.approval, new_approval)},
            data={"comment": comment} if comment else None,
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
        _log_goals(pending, "goal.submitted", user, Approval.SUBMITTED)
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
            approval=Approval.APPROVED, approved_at=timezone.now(), version=F("version") + 1
        )
        _log(goal_set, ReviewAction.APPROVED, user, comment)
        _log_goals(submitted, "goal.approved", user, Approval.APPROVED, comment)
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
        _log_goals(submitted, "goal.returned", user, Approval.RETURNED, comment.strip())
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
        _log_goals([current], "goal.reopened", user, Approval.DRAFT, comment)
        current.refresh_from_db()
        progress.rollup_from([current])
    return current


# ---------------------------------------------------------------- cancelling


def approvers_of(goal: Goal) -> list[Employee]:
    """Who answers a request to cancel the goal: its set's approver, else (none, or gone) HR."""
    approver = access.approver_of(goal)
    if approver is not None:
        return [approver]
    return list(Employee.objects.filter(is_hr_admin=True, is_active=True).order_by("full_name", "pk"))


def approver_label(goal: Goal) -> str:
    approver = access.approver_of(goal)
    return approver.full_name if approver is not None else "HR"


def _goal_path(goal: Goal) -> str:
    return reverse("cascade:goal_detail", args=[goal.pk])


def _whose(goal: Goal) -> str:
    return goal.owner.full_name if goal.owner_id else f"{goal.department.name} department"


def _lock_goal(goal: Goal) -> tuple[GoalSet, list[Goal], Goal]:
    """Lock the goal's set (in pk order, as every step does) and the goal itself; (set, live goals, goal)."""
    goal_set = set_of(goal)
    live = _locked(goal_set)
    current = (
        Goal.objects.select_for_update(of=("self",)).select_related("owner", "department", "period").get(pk=goal.pk)
    )
    return goal_set, live, current


def request_cancel(*, user, goal: Goal, reason: str) -> Goal:
    """The owner (or whoever drafts the goal) asks its approver to cancel an approved goal."""
    reason = (reason or "").strip()
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if current.status == GoalStatus.CANCELLED:
            raise ValidationError("This goal is already cancelled.")
        if not access.can_request_cancel(user, current):
            if access.can_cancel_goal(user, current):
                raise ValidationError("You may cancel this goal yourself; there is nobody to ask.")
            raise PermissionDenied("You cannot ask to cancel this goal.")
        approver = approver_label(current)
        if current.cancel_requested_at is not None:
            raise ValidationError(
                f"Cancelling “{current.title}” was asked on {timezone.localtime(current.cancel_requested_at):%d %b %Y}; "
                f"{approver} has not answered yet."
            )
        if not reason:
            raise ValidationError({"reason": f"Say why the goal should be cancelled, so that {approver} can decide."})
        actor = people.employee_for_user(user)
        Goal.objects.filter(pk=current.pk).update(
            cancel_requested_at=timezone.now(),
            cancel_requested_by=actor,
            cancel_reason=reason,
            version=F("version") + 1,
        )
        _log(goal_set, ReviewAction.CANCEL_ASKED, user, f"“{current.title}”: {reason}")
        log_action(
            current,
            "goal.cancel_requested",
            user=user,
            changes={"cancel_requested": (False, True)},
            data={"reason": reason},
        )
        who = actor.full_name if actor else "Someone"
        notify(
            GoalNotice(
                recipients=tuple(approvers_of(current)),
                subject=f"{who} asks you to cancel a goal",
                text=f"{who} asks you to cancel the goal “{current.title}” ({_whose(current)}, "
                f"{current.period}): {reason}",
                path=_goal_path(current),
            )
        )
        current.refresh_from_db()
    return current


def cancel(*, user, goal: Goal, reason: str = "", expected_version: int | None = None) -> Goal:
    """Cancel the goal: it stays in the history and stops counting. A goal once approved is
    cancelled only by its approver or HR; the rest of its set, if no longer totalling 100, goes
    back to draft so that the weights are agreed again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        goal_set, live, current = _lock_goal(goal)
        if current.status == GoalStatus.CANCELLED:
            raise ValidationError("This goal is already cancelled.")
        if not access.can_cancel_goal(user, current):
            if access.can_request_cancel(user, current):
                who = approver_label(current)
                who = who if who == "HR" else f"{who} or HR"
                raise ValidationError(
                    {
                        "status": f"“{current.title}” was approved, so only {who} can cancel it. Ask for it, with "
                        "your reason: “Ask to cancel” on the goal’s page, or "
                        f"POST /api/v1/goals/{current.pk}/cancel-request/."
                    }
                )
            raise PermissionDenied("You cannot cancel this goal.")
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        requester = current.cancel_requested_by
        Goal.objects.filter(pk=current.pk).update(
            status=GoalStatus.CANCELLED,
            approval=Approval.DRAFT if current.approval in AGREED else current.approval,
            cancel_requested_at=None,
            cancel_requested_by=None,
            cancel_reason="",
            version=F("version") + 1,
        )
        rest = [g for g in live if g.pk != current.pk]
        reverted = [g for g in rest if g.approval in AGREED] if rest and weights_problem(rest) else []
        if reverted:
            Goal.objects.filter(pk__in=[g.pk for g in reverted]).update(
                approval=Approval.DRAFT, version=F("version") + 1
            )
        comment = f"Cancelled “{current.title}”" + (f": {reason}" if reason else "")
        if reverted:
            comment += ". The other goals are drafts again: re-weight them to total 100 and submit them."
        _log(goal_set, ReviewAction.CANCELLED, user, comment)
        new_approval = Approval.DRAFT if current.approval in AGREED else current.approval
        log_action(
            current,
            "goal.cancelled",
            user=user,
            changes={"status": (current.status, GoalStatus.CANCELLED), "approval": (current.approval, new_approval)},
            data={"reason": reason} if reason else None,
        )
        # The rest of the set, back to draft because its weights no longer total 100.
        _log_goals(reverted, "goal.returned_to_draft", user, Approval.DRAFT, f"“{current.title}” was cancelled")
        current.refresh_from_db()
        for other in reverted:
            other.refresh_from_db()
        progress.rollup_from([current, *reverted])
        actor = people.employee_for_user(user)
        told = [p for p in (current.owner, requester) if p is not None and (actor is None or p.pk != actor.pk)]
        if told:
            who = actor.full_name if actor else "HR"
            text = f"{who} cancelled the goal “{current.title}” ({_whose(current)}, {current.period})"
            text += f": {reason}" if reason else "."
            if reverted:
                text += " The other goals are drafts again: re-weight them to total 100 and submit them."
            notify(
                GoalNotice(recipients=tuple(told), subject="A goal was cancelled", text=text, path=_goal_path(current))
            )
    return current


def keep(*, user, goal: Goal, comment: str) -> Goal:
    """The approver (or HR) declines a request to cancel the goal, saying why; the goal stays as it is."""
    comment = (comment or "").strip()
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if not access.can_cancel_goal(user, current):
            raise PermissionDenied("Only the approver of this goal or HR can answer a request to cancel it.")
        if current.cancel_requested_at is None:
            raise ValidationError("Nobody has asked to cancel this goal.")
        if not comment:
            raise ValidationError({"comment": "Say why the goal stays, so that the person who asked knows."})
        requester = current.cancel_requested_by
        Goal.objects.filter(pk=current.pk).update(
            cancel_requested_at=None, cancel_requested_by=None, cancel_reason="", version=F("version") + 1
        )
        _log(goal_set, ReviewAction.KEPT, user, f"Kept “{current.title}”: {comment}")
        log_action(
            current,
            "goal.kept",
            user=user,
            changes={"cancel_requested": (True, False)},
            data={"comment": comment, "requested_by": requester.pk if requester else None},
        )
        actor = people.employee_for_user(user)
        if requester is not None and (actor is None or requester.pk != actor.pk):
            who = actor.full_name if actor else "HR"
            notify(
                GoalNotice(
                    recipients=(requester,),
                    subject="Your goal stays",
                    text=f"{who} kept the goal “{current.title}” rather than cancel it: {comment}",
                    path=_goal_path(current),
                )
            )
        current.refresh_from_db()
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

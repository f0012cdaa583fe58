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

Closing: a result (achieved / not achieved) counts only once signed off (PRODUCT.md). The
owner, or anyone who may edit the goal but does not approve it, asks with the result they
propose and a comment (``request_close``); the approver or HR signs it off
(``sign_off``, which may change the proposed result, and which is also how they close a goal
directly) or declines with a comment (``decline_close``). A measure-driven goal may instead be
closed by its measure's result (``close_by_measure``): signed off by the system, no person,
the measure named. ``reopen_result`` (and reopening the goal) clears the sign-off.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from cascade import access, progress
from cascade.models import (
    CLOSED_RESULTS,
    Approval,
    Goal,
    GoalLevel,
    GoalPeriod,
    GoalSetEvent,
    GoalStatus,
    ProgressMode,
    ReviewAction,
)
from cascade.notifications import GoalNotice, notify
from core.errors import ConflictError
from core.formatting import day
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
        if current.result_signed_off and not access.can_sign_off_result(user, current):
            raise ValidationError(
                f"The result of “{current.title}” was signed off, so only {_approver_or_hr(current)} can reopen it."
            )
        # A changed goal needs its result closed and signed off again: the result and any request
        # to close it go with the reopening (the log keeps what they were).
        Goal.objects.filter(pk=goal.pk).update(
            approval=Approval.DRAFT, version=F("version") + 1, **_result_cleared(current)
        )
        _log(set_of(goal), ReviewAction.REOPENED, user, comment)
        log_action(
            current,
            "goal.reopened",
            user=user,
            changes={"approval": (current.approval, Approval.DRAFT), **_result_changes(current)},
            data={"comment": comment} if comment else None,
        )
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


def _approver_or_hr(goal: Goal) -> str:
    who = approver_label(goal)
    return who if who == "HR" else f"{who} or HR"


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
                f"Cancelling “{current.title}” was asked on {day(timezone.localtime(current.cancel_requested_at))}; "
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
            # A cancelled goal has no result: any sign-off or request to close it goes (the log keeps them).
            **{**_result_cleared(current), "status": GoalStatus.CANCELLED},
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
            changes={
                **_result_changes(current),
                "status": (current.status, GoalStatus.CANCELLED),
                "approval": (current.approval, new_approval),
            },
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


# ---------------------------------------------------------------- closing (result sign-off)

RESULT_LABELS = {GoalStatus.ACHIEVED: "achieved", GoalStatus.NOT_ACHIEVED: "not achieved", GoalStatus.OPEN: "open"}


def _result_cleared(goal: Goal) -> dict[str, object]:
    """The fields that put a goal's result back to open, unsigned and with no request to close."""
    fields: dict[str, object] = {
        "result_signed_off_at": None,
        "result_signed_off_by": None,
        "result_by_measure": False,
        "close_requested_at": None,
        "close_requested_by": None,
        "close_proposed_status": "",
        "close_comment": "",
    }
    if goal.status in CLOSED_RESULTS:
        fields["status"] = GoalStatus.OPEN
    return fields


def _result_changes(goal: Goal) -> dict[str, tuple[object, object]]:
    """The action log's old → new of clearing the result (only what was set)."""
    changes: dict[str, tuple[object, object]] = {}
    if goal.status in CLOSED_RESULTS:
        changes["status"] = (goal.status, GoalStatus.OPEN)
    if goal.result_signed_off_at is not None:
        changes["result_signed_off"] = (True, False)
    if goal.close_requested_at is not None:
        changes["close_requested"] = (True, False)
    return changes


def close_hint(goal: Goal) -> str:
    """How someone who may not sign a result off closes the goal: the message of every refusal."""
    approver = approver_label(goal)
    hint = (
        f"Closing “{goal.title}” as achieved or not achieved needs {approver}’s sign-off: ask for it, with the "
        f"result and a comment: “Ask to close” on the goal’s page, or POST /api/v1/goals/{goal.pk}/close-request/."
    )
    if _measure_driven(goal):
        hint += (
            f" Or close it by its measure’s result: “Close by measure” on its page, or "
            f"POST /api/v1/goals/{goal.pk}/close-by-measure/."
        )
    return hint


def _measure_driven(goal: Goal) -> bool:
    return goal.progress_mode == ProgressMode.MEASURE and goal.measure_id is not None


def _result_choice(value: str | None, field: str = "result") -> str:
    if value not in CLOSED_RESULTS:
        raise ValidationError({field: "Choose the result: achieved or not achieved."})
    return value


def _check_closable(goal: Goal) -> None:
    if goal.status == GoalStatus.CANCELLED:
        raise ValidationError("This goal is cancelled; it has no result to close.")
    if goal.approval != Approval.APPROVED:
        raise ValidationError(
            f"“{goal.title}” is {goal.get_approval_display().lower()}: a goal is closed once it is approved."
        )


def request_close(*, user, goal: Goal, result: str, comment: str) -> Goal:
    """The owner (or whoever may edit the goal but not sign off its result) asks the approver to
    close it with the result they propose and a comment; the approver (else HR) is notified."""
    comment = (comment or "").strip()
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if not access.can_request_close(user, current):
            if current.status == GoalStatus.OPEN and access.can_sign_off_result(user, current):
                raise ValidationError("You sign off this goal’s result yourself: close it as achieved or not achieved.")
            if current.status != GoalStatus.OPEN and access.can_edit_goal(user, current):
                raise ValidationError(f"“{current.title}” is already {current.get_status_display().lower()}.")
            raise PermissionDenied("You cannot ask to close this goal.")
        _check_closable(current)
        approver = approver_label(current)
        if current.close_requested_at is not None:
            raise ValidationError(
                f"Closing “{current.title}” was asked on {day(timezone.localtime(current.close_requested_at))}; "
                f"{approver} has not answered yet."
            )
        result = _result_choice(result)
        if not comment:
            raise ValidationError({"comment": f"Say what was achieved (or not), so that {approver} can sign it off."})
        actor = people.employee_for_user(user)
        Goal.objects.filter(pk=current.pk).update(
            close_requested_at=timezone.now(),
            close_requested_by=actor,
            close_proposed_status=result,
            close_comment=comment,
            version=F("version") + 1,
        )
        label = RESULT_LABELS[result]
        _log(goal_set, ReviewAction.CLOSE_ASKED, user, f"“{current.title}” as {label}: {comment}")
        log_action(
            current,
            "goal.close_requested",
            user=user,
            changes={"close_requested": (False, True)},
            data={"proposed_status": result, "comment": comment},
        )
        who = actor.full_name if actor else "Someone"
        notify(
            GoalNotice(
                recipients=tuple(approvers_of(current)),
                subject=f"{who} asks you to sign off a goal's result",
                text=f"{who} asks you to close the goal “{current.title}” ({_whose(current)}, {current.period}) "
                f"as {label}: {comment}",
                path=_goal_path(current),
            )
        )
        current.refresh_from_db()
    return current


def sign_off(
    *, user, goal: Goal, result: str | None = None, comment: str = "", expected_version: int | None = None
) -> Goal:
    """The approver (or HR) closes the goal as achieved / not achieved: the sign-off payouts count.
    Answers a request to close (``result`` defaults to the proposed one, and may differ), closes the
    goal directly, or signs off a result closed earlier without a sign-off."""
    comment = (comment or "").strip()
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if not access.can_sign_off_result(user, current):
            # Reserved to the approver and HR (403, as on the page); a PATCH of the status by anyone
            # else is answered 400 with close_hint by cascade.services.goal_update before it gets here.
            raise PermissionDenied("Only the approver of this goal or HR can sign off its result.")
        _check_closable(current)
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        if current.result_signed_off:
            raise ValidationError(
                f"The result of “{current.title}” is already signed off; reopen the result to change it."
            )
        if result is None:
            result = current.close_proposed_status or (current.status if current.status in CLOSED_RESULTS else None)
        result = _result_choice(result)
        actor = people.employee_for_user(user)
        requester, proposed = current.close_requested_by, current.close_proposed_status
        now = timezone.now()
        Goal.objects.filter(pk=current.pk).update(
            status=result,
            result_signed_off_at=now,
            result_signed_off_by=actor,
            result_by_measure=False,
            close_requested_at=None,
            close_requested_by=None,
            close_proposed_status="",
            close_comment="",
            version=F("version") + 1,
        )
        label = RESULT_LABELS[result]
        _log(
            goal_set,
            ReviewAction.SIGNED_OFF,
            user,
            f"“{current.title}” as {label}" + (f": {comment}" if comment else ""),
        )
        data: dict[str, object] = {"signed_off_by": actor.pk if actor else None}
        if proposed:
            data.update(requested_by=requester.pk if requester else None, proposed_status=proposed)
        if comment:
            data["comment"] = comment
        log_action(
            current,
            "goal.result_signed_off",
            user=user,
            changes={"status": (current.status, result), "result_signed_off": (False, True)},
            data=data,
        )
        told = [p for p in (current.owner, requester) if p is not None and (actor is None or p.pk != actor.pk)]
        if told:
            who = actor.full_name if actor else "HR"
            text = f"{who} signed off the goal “{current.title}” ({_whose(current)}, {current.period}) as {label}"
            if proposed and proposed != result:
                text += f" (asked: {RESULT_LABELS[proposed]})"
            text += f": {comment}" if comment else "."
            notify(
                GoalNotice(
                    recipients=tuple(told),
                    subject="A goal's result was signed off",
                    text=text,
                    path=_goal_path(current),
                )
            )
        current.refresh_from_db()
    return current


def decline_close(*, user, goal: Goal, comment: str) -> Goal:
    """The approver (or HR) declines a request to close the goal, saying why; it stays open."""
    comment = (comment or "").strip()
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if not access.can_sign_off_result(user, current):
            raise PermissionDenied("Only the approver of this goal or HR can answer a request to close it.")
        if current.close_requested_at is None:
            raise ValidationError("Nobody has asked to close this goal.")
        if not comment:
            raise ValidationError({"comment": "Say why the goal stays open, so that the person who asked knows."})
        requester, proposed = current.close_requested_by, current.close_proposed_status
        Goal.objects.filter(pk=current.pk).update(
            close_requested_at=None,
            close_requested_by=None,
            close_proposed_status="",
            close_comment="",
            version=F("version") + 1,
        )
        _log(goal_set, ReviewAction.CLOSE_DECLINED, user, f"Kept “{current.title}” open: {comment}")
        log_action(
            current,
            "goal.close_declined",
            user=user,
            changes={"close_requested": (True, False)},
            data={"comment": comment, "proposed_status": proposed, "requested_by": requester.pk if requester else None},
        )
        actor = people.employee_for_user(user)
        if requester is not None and (actor is None or requester.pk != actor.pk):
            who = actor.full_name if actor else "HR"
            notify(
                GoalNotice(
                    recipients=(requester,),
                    subject="Your goal stays open",
                    text=f"{who} did not sign off the goal “{current.title}” as {RESULT_LABELS[proposed]}: {comment}",
                    path=_goal_path(current),
                )
            )
        current.refresh_from_db()
    return current


def close_by_measure(*, user, goal: Goal) -> Goal:
    """Close a measure-driven goal by its measure's latest value: achieved when it reached the
    goal's target, else not achieved. The system signs the result off (no person), the measure named."""
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if not access.can_close_by_measure(user, current):
            if current.status in CLOSED_RESULTS and access.can_edit_goal(user, current):
                raise ValidationError(f"“{current.title}” is already {current.get_status_display().lower()}.")
            raise PermissionDenied("You cannot close this goal.")
        _check_closable(current)
        if not _measure_driven(current):
            raise ValidationError("This goal is not driven by a measure: its result is signed off by its approver.")
        measure = current.measure
        latest = measure.observations.order_by("-date").values_list("date", "value").first()
        if latest is None:
            raise ValidationError(f"{measure.name} has no values yet, so it cannot decide the result.")
        baseline = current.baseline if current.baseline is not None else measure.baseline
        target = current.target if current.target is not None else measure.target
        reached = progress.progress_towards(baseline=baseline, target=target, latest=latest[1])
        result = GoalStatus.ACHIEVED if reached >= progress.HUNDRED else GoalStatus.NOT_ACHIEVED
        Goal.objects.filter(pk=current.pk).update(
            status=result,
            progress=reached,
            result_signed_off_at=timezone.now(),
            result_signed_off_by=None,
            result_by_measure=True,
            close_requested_at=None,
            close_requested_by=None,
            close_proposed_status="",
            close_comment="",
            version=F("version") + 1,
        )
        label = RESULT_LABELS[result]
        summary = f"{measure.name} was {latest[1].normalize():f} on {day(latest[0])} (target {target.normalize():f})"
        _log(goal_set, ReviewAction.SIGNED_OFF, user, f"“{current.title}” as {label} by its measure: {summary}")
        log_action(
            current,
            "goal.closed_by_measure",
            user=user,
            changes={"status": (current.status, result), "result_signed_off": (False, True)},
            data={
                "measure": measure.pk,
                "measure_name": measure.name,
                "value": latest[1],
                "date": latest[0],
                "target": target,
                "signed_off_by": "system",
            },
        )
        current.refresh_from_db()
        progress.rollup_from([current])
    return current


def reopen_result(*, user, goal: Goal, comment: str = "", expected_version: int | None = None) -> Goal:
    """Put a closed goal back to open, clearing its sign-off. A signed-off result is reopened only
    by those who sign results off; one never signed off (closed before sign-offs existed) also by
    whoever edits the goal."""
    comment = (comment or "").strip()
    with transaction.atomic():
        goal_set, _live, current = _lock_goal(goal)
        if current.status not in CLOSED_RESULTS:
            raise ValidationError("This goal has no closed result to reopen.")
        may = access.can_sign_off_result(user, current) or (
            not current.result_signed_off and access.can_edit_goal(user, current)
        )
        if not may:
            if access.can_edit_goal(user, current):
                raise ValidationError(
                    {
                        "status": f"The result of “{current.title}” was signed off, so only "
                        f"{_approver_or_hr(current)} can reopen it."
                    }
                )
            raise PermissionDenied("You cannot reopen this goal's result.")
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        Goal.objects.filter(pk=current.pk).update(version=F("version") + 1, **_result_cleared(current))
        _log(goal_set, ReviewAction.RESULT_REOPENED, user, f"“{current.title}”" + (f": {comment}" if comment else ""))
        log_action(
            current,
            "goal.result_reopened",
            user=user,
            changes=_result_changes(current),
            data={"comment": comment} if comment else None,
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

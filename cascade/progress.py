"""Progress: the formulas, progress updates, and the roll-up to ancestors.

The rules (PRODUCT.md, "Progress roll-up"):
- a measure-driven goal's progress is (latest − baseline) / (target − baseline),
  clamped to 0–100 %; because a target always lies on the improving side of the
  baseline, the same formula honours both directions of improvement;
- a parent's progress is the weighted mean of its children's, by their weights;
- an update recomputes the ancestors of one goal only, never the whole tree.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum

from cascade import access
from cascade.models import (
    Approval,
    Confidence,
    Goal,
    GoalStatus,
    GoalUpdate,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from core.log import log_action
from people import access as people

HUNDRED = Decimal("100")
CENT = Decimal("0.01")


def clamp_percent(value: Decimal) -> Decimal:
    return min(max(value, Decimal("0")), HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def progress_towards(*, baseline: Decimal, target: Decimal, latest: Decimal) -> Decimal:
    """How far ``latest`` has moved from the baseline towards the target, as a clamped percentage."""
    if target == baseline:
        raise ValidationError("The target must differ from the baseline.")
    return clamp_percent((latest - baseline) / (target - baseline) * HUNDRED)


def weighted_mean(pairs: Iterable[tuple[Decimal, int]]) -> Decimal:
    """Mean of progress values weighted by their goals' weights; 0 when there is nothing to weigh."""
    total = Decimal("0")
    weights = 0
    for progress, weight in pairs:
        total += progress * weight
        weights += weight
    return clamp_percent(total / weights) if weights else Decimal("0.00")


# A priority rolls up the goals of periods that overlap its own, not every year's goals.
IN_PRIORITY_PERIOD = Q(period__start__lte=F("priority__period_end"), period__end__gte=F("priority__period_start"))


def counted_goals():
    """Goals whose progress counts in a roll-up: approved and not cancelled."""
    return Goal.objects.filter(approval=Approval.APPROVED).exclude(status=GoalStatus.CANCELLED)


def counted_children(parent: Goal | None = None, *, priority: QualityPriority | None = None):
    """The goals whose progress feeds a parent goal's, or a priority's top-level goals."""
    if parent is not None:
        return counted_goals().filter(parent_goal=parent)
    return counted_goals().filter(IN_PRIORITY_PERIOD, priority=priority, parent_goal__isnull=True)


def _rolled_up(queryset) -> Decimal:
    # One aggregate query: Σ(progress × weight) and Σ weight.
    totals = queryset.aggregate(weighted=Sum(F("progress") * F("weight")), weights=Sum("weight"))
    if not totals["weights"]:
        return Decimal("0.00")
    return clamp_percent(Decimal(totals["weighted"]) / Decimal(totals["weights"]))


def rollup_from(goals: Iterable[Goal]) -> None:
    """Recompute the parents and priorities above these goals (each once), bottom up.

    Call it inside the transaction that changed the goals. Each parent and priority
    row is locked before its children are read: whoever rolls up last then reads
    every sibling's committed progress, instead of the last writer storing a mean
    computed before a concurrent sibling update committed. Locks are always taken
    upwards (the changed goal, its parent, the priority) and by pk within a level,
    so concurrent updates queue behind each other but never deadlock.
    """
    goals = list(goals)
    parent_ids = {g.parent_goal_id for g in goals if g.parent_goal_id}
    priority_ids = sorted({g.priority_id for g in goals})
    # A measure-driven parent is judged by its measure, not by the goals under it.
    parents = (
        Goal.objects.select_for_update()
        .filter(pk__in=parent_ids)
        .exclude(progress_mode=ProgressMode.MEASURE)
        .order_by("pk")
    )
    for parent in parents:
        if counted_children(parent).exists():
            value = _rolled_up(counted_children(parent))
        else:
            # No goal under it counts any more: back to the parent's own last reported progress.
            last = parent.updates.exclude(percent__isnull=True, value__isnull=True).first()
            value = last.progress_after if last else Decimal("0.00")
        Goal.objects.filter(pk=parent.pk).update(progress=value)
    if priority_ids:
        list(QualityPriority.objects.select_for_update().filter(pk__in=priority_ids).order_by("pk").values("pk"))
    for priority_id in priority_ids:
        progress = _rolled_up(counted_children(priority=QualityPriority(pk=priority_id)))
        QualityPriority.objects.filter(pk=priority_id).update(progress=progress)


def has_counted_children(goal: Goal) -> bool:
    return counted_children(goal).exists()


def record_update(
    *,
    user,
    goal: Goal,
    percent: Decimal | None = None,
    value: Decimal | None = None,
    confidence: int = 2,
    comment: str = "",
) -> GoalUpdate:
    """A progress update by someone allowed to make it, then the roll-up of its ancestors."""
    author = people.employee_for_user(user)
    if author is None or not access.can_update_progress(user, goal):
        raise PermissionDenied("You cannot update the progress of this goal.")
    if goal.approval != Approval.APPROVED:
        raise ValidationError("Progress is tracked once the goal is approved.")
    if goal.status == GoalStatus.CANCELLED:
        raise ValidationError("This goal is cancelled.")
    if confidence not in Confidence.values:
        raise ValidationError({"confidence": "Confidence is low (1), medium (2) or high (3)."})
    if percent is not None and value is not None:
        raise ValidationError("Give either a percentage or a value, not both.")
    derived = goal.progress_mode == ProgressMode.MEASURE or has_counted_children(goal)  # see rollup_from
    if derived and (percent is not None or value is not None):
        raise ValidationError(
            {
                "percent": "This goal's progress comes from its linked measure or from the goals under it; "
                "add a comment and your confidence instead."
            }
        )
    if value is not None:
        if goal.baseline is None or goal.target is None:
            raise ValidationError({"value": "This goal has no baseline and target; give a percentage instead."})
        new_progress = progress_towards(baseline=goal.baseline, target=goal.target, latest=value)
    elif percent is not None:
        if not Decimal("0") <= percent <= HUNDRED:
            raise ValidationError({"percent": "A percentage must be between 0 and 100."})
        new_progress = clamp_percent(percent)
    else:
        new_progress = None  # a comment only: the progress stays as it is when the row is locked
    if not comment.strip() and percent is None and value is None:
        raise ValidationError({"comment": "Say what has happened: a comment, a percentage or a value."})
    with transaction.atomic():
        # The goal's row first (the bottom of the lock order, see rollup_from): two updates of
        # one goal then store in the order they are recorded, and the comparison below reads
        # the committed progress, not the one this request loaded.
        current, signed_off_at = (
            Goal.objects.select_for_update().filter(pk=goal.pk).values_list("progress", "result_signed_off_at").get()
        )
        if signed_off_at is not None and new_progress is not None:
            # A signed-off result is what payouts count: its progress stays as it was signed off.
            raise ValidationError(
                {"percent": "This goal's result is signed off, so its progress stays; add a comment instead."}
            )
        if new_progress is None:
            new_progress = current
        update = GoalUpdate.objects.create(
            goal=goal,
            author=author,
            value=value,
            percent=percent,
            confidence=confidence,
            comment=comment.strip(),
            progress_after=new_progress,
        )
        log_action(
            goal,
            "goal.progress_updated",
            user=user,
            changes={"progress": (current, new_progress)},
            data={"update": update.pk, "confidence": confidence, "comment": update.comment},
        )
        if new_progress != current:
            Goal.objects.filter(pk=goal.pk).update(progress=new_progress, version=F("version") + 1)
            goal.progress = new_progress
            rollup_from([goal])
    return update


def refresh_measure_driven(measure: QualityMeasure) -> int:
    """After the measure's data changes, move every goal it drives and their ancestors.

    Call it inside the transaction that changed the data. The goals are locked (by pk, the
    order rollup_from keeps) before the latest value is read: of two values recorded at
    once, the second to get here then sees the first, and the goals follow the latest date
    rather than whichever transaction wrote last.
    """
    goals = list(
        Goal.objects.select_for_update()
        .filter(measure=measure, progress_mode=ProgressMode.MEASURE, result_signed_off_at__isnull=True)
        .order_by("pk")
    )  # a signed-off result keeps the progress it was signed off with
    latest = measure.observations.order_by("-date").values_list("value", flat=True).first()
    changed = []
    for goal in goals:
        baseline = goal.baseline if goal.baseline is not None else measure.baseline
        target = goal.target if goal.target is not None else measure.target
        progress = (
            Decimal("0.00") if latest is None else progress_towards(baseline=baseline, target=target, latest=latest)
        )
        if progress != goal.progress:
            goal.progress = progress
            changed.append(goal)
    Goal.objects.bulk_update(changed, ["progress"])
    rollup_from(changed)
    return len(changed)

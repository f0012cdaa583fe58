"""The payout formula, as pure functions over plain values (no database); incentives.services.plans
applies it when it computes a plan's payouts, and audits reads its QI-goal figure.

For each component of a plan, a person's achievement % is:

- **QI goals**: the mean of their approved individual goals in the cycle's goal
  period, weighted by goal weight; every goal hangs under a quality priority, so
  every such goal is QI-linked. No such goals: 0 %. Payouts count only signed-off
  results (PRODUCT.md), so each goal counts (``goal_figure``):
  - closed as achieved and signed off (by its approver or HR, or by its measure): 100 %;
  - closed as not achieved and signed off: its progress, below completion (at most 99 %);
  - open and driven by its linked measure (progress from data, not self-reported):
    its progress, at most 99 % (it is complete only once closed);
  - anything else, awaiting the manager's sign-off (a goal closed without one, or an
    open goal whose progress is typed in by hand — a 100 % update is not a result): 0 %.
- **Appraisal score**: the appraisal's stored score (0–100); none: 0 %.
- **Organisation measure**: the achievement % HR entered on the component.

Then: below the component's threshold it pays nothing; above its cap it counts
as the cap. Component payout = target bonus × weight % × achievement %.

**Rounding rule**: everything is ``Decimal``, never floating point; the
component amounts are summed unrounded and the total is rounded **once**, at
the end, to the penny (0.01) with ROUND_HALF_UP. The breakdown lines show each
component rounded for reading only. The same inputs always give the same
result, so recomputing an unchanged plan gives identical payouts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.formatting import plain

HUNDRED = Decimal("100")
PENNY = Decimal("0.01")
ZERO = Decimal("0")


# A result not signed off as achieved never counts as complete.
BELOW_COMPLETION = Decimal("99")


@dataclass(frozen=True)
class GoalFigure:
    weight: int
    progress: Decimal
    achieved: bool = False  # counts 100 %: pass it only for a signed-off achieved result (goal_figure)
    awaiting_sign_off: bool = False  # counts 0 %: a result only its manager's sign-off makes count


def goal_figure(*, weight: int, progress: Decimal, status: str, signed_off: bool, measure_driven: bool) -> GoalFigure:
    """How one approved goal counts in a payout (the module docstring's rule)."""
    below = min(Decimal(progress), BELOW_COMPLETION)
    if signed_off and status == "achieved":
        return GoalFigure(weight, Decimal(progress), achieved=True)
    if signed_off and status == "not_achieved":
        return GoalFigure(weight, below)
    if status == "open" and measure_driven:
        return GoalFigure(weight, below)
    return GoalFigure(weight, Decimal(progress), awaiting_sign_off=True)


@dataclass(frozen=True)
class ComponentRule:
    kind: str  # "qi_goals" | "appraisal_score" | "org_measure"
    name: str
    weight: int
    threshold: Decimal
    cap: Decimal
    achievement: Decimal | None = None  # org_measure only


@dataclass(frozen=True)
class Result:
    amount: Decimal
    breakdown: list[str]


def round_money(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def qi_goal_achievement(goals: Iterable[GoalFigure]) -> Decimal:
    """Weighted mean progress (an achieved goal counts 100 %, one awaiting sign-off 0 %), unrounded;
    0 with no goals."""
    total_weight = ZERO
    weighted = ZERO
    for goal in goals:
        progress = ZERO if goal.awaiting_sign_off else HUNDRED if goal.achieved else Decimal(goal.progress)
        weighted += Decimal(goal.weight) * progress
        total_weight += Decimal(goal.weight)
    return weighted / total_weight if total_weight else ZERO


def money(value: Decimal) -> str:
    return f"£{round_money(value):,.2f}"


def pct(value: Decimal) -> str:
    shown = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return plain(shown)


def compute_payout(
    *,
    target: Decimal,
    components: Sequence[ComponentRule],
    goals: Iterable[GoalFigure] = (),
    appraisal_score: Decimal | None = None,
) -> Result:
    """One person's payout and its plain-language breakdown."""
    target = Decimal(target)
    goals = list(goals)
    total = ZERO
    lines: list[str] = []
    for component in components:
        if component.kind == "qi_goals":
            achievement = qi_goal_achievement(goals)
            source = f"{len(goals)} approved QI-linked goal{'s' if len(goals) != 1 else ''}"
            if waiting := sum(g.awaiting_sign_off for g in goals):
                source += f"; {waiting} awaiting manager sign-off, counted as 0 %"
        elif component.kind == "appraisal_score":
            achievement = Decimal(appraisal_score) if appraisal_score is not None else ZERO
            source = "appraisal score" if appraisal_score is not None else "no appraisal score"
        else:
            achievement = Decimal(component.achievement) if component.achievement is not None else ZERO
            source = "entered by HR"
        counted = achievement
        note = ""
        if achievement < component.threshold:
            counted = ZERO
            note = f" (below the {pct(component.threshold)} % threshold: pays nothing)"
        elif achievement > component.cap:
            counted = component.cap
            note = f" (capped at {pct(component.cap)} %)"
        amount = target * Decimal(component.weight) / HUNDRED * counted / HUNDRED
        total += amount
        lines.append(
            f"{component.name}: {pct(achievement)} % achieved ({source}){note} × {component.weight} % weight × "
            f"{money(target)} target = {money(amount)}"
        )
    final = round_money(total)
    lines.append(f"Total: {money(final)} (components added unrounded, rounded once to the penny, half up)")
    return Result(amount=final, breakdown=lines)

"""Unaligned goals: the share of people whose goals reach an active quality priority, per department.

Every goal hangs under a quality priority (``Goal.priority`` is required), so "aligned"
cannot mean "has a priority". A person in scope (audits/selectors/scope.py: an active participant of
a current review cycle, or every active employee when no cycle owns the current period) is
**aligned** when they have at least one individual goal in a current period that is

- approved (a draft, submitted or returned goal is a plan not yet agreed),
- not cancelled, under a priority that is active and whose period overlaps the goal's period,
- and, when it hangs under a department goal, that department goal is not cancelled.

A department's alignment % is its aligned people over its people in scope; the
organisation's is the same over everyone in scope. The audit run stores the latter as the
alignment score (``alignment_scores``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from audits.models import SubjectType
from audits.rules.base import (
    AlignmentScores,
    AuditContext,
    DepartmentScore,
    FindingDraft,
    Rule,
    Threshold,
    register,
)
from audits.selectors import scope as s
from cascade.models import Approval, GoalLevel, GoalStatus, PriorityStatus

NOT_CANCELLED = [status for status in GoalStatus.values if status != GoalStatus.CANCELLED]


def aligning_goal() -> Q:
    """On Goal rows: an individual goal that aligns its owner (see the module docstring)."""
    return (
        Q(level=GoalLevel.INDIVIDUAL, approval=Approval.APPROVED, priority__status=PriorityStatus.ACTIVE)
        & s.priority_overlaps_period()
        & (Q(parent_goal__isnull=True) | Q(parent_goal__status__in=NOT_CANCELLED))
    )


# Why a goal does not align its owner; a goal may have several reasons.
WAITING = Q(approval__in=[Approval.DRAFT, Approval.SUBMITTED, Approval.RETURNED])
RETIRED = Q(priority__status=PriorityStatus.RETIRED)
OUT_OF_PERIOD = ~s.priority_overlaps_period()
PARENT_CANCELLED = Q(parent_goal__status=GoalStatus.CANCELLED)


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _people_with_alignment(scope: s.Scope) -> QuerySet:
    goals = scope.goals().filter(owner=OuterRef("pk"), level=GoalLevel.INDIVIDUAL)
    return scope.people().annotate(aligned=Exists(goals.filter(aligning_goal())), has_goals=Exists(goals))


def _by_department(scope: s.Scope) -> dict[int, dict[str, int]]:
    """Department id → {"people", "aligned", "no_goals"} in one grouped query."""
    rows = (
        _people_with_alignment(scope)
        .values("department_id")
        .annotate(
            people=Count("pk"),
            aligned=Count("pk", filter=Q(aligned=True)),
            no_goals=Count("pk", filter=Q(has_goals=False)),
        )
        .order_by()
    )
    return {row["department_id"]: row for row in rows}


def alignment_scores(today: datetime.date, *, ctx: AuditContext | None = None) -> AlignmentScores:
    """The organisation alignment score and every department's (two queries, three without a ctx cache).

    Departments with nobody in scope are listed with ``score=None``; with no goal period at all, every
    score is None.
    """
    ctx = ctx or AuditContext(today=today)
    scope = s.scope_for(ctx)
    counts = _by_department(scope)
    departments = []
    for department_id, name in sorted(s.department_names().items(), key=lambda item: (item[1], item[0])):
        row = counts.get(department_id, {"people": 0, "aligned": 0})
        departments.append(
            DepartmentScore(
                department_id=department_id,
                name=name,
                people=row["people"],
                aligned=row["aligned"],
                score=s.percent(row["aligned"], row["people"]) if scope.periods else None,
            )
        )
    if not scope.periods:  # no goal period at all: there is nothing to be aligned in, so no score
        return AlignmentScores(organisation=None, departments=departments)
    people = sum(row["people"] for row in counts.values())
    aligned = sum(row["aligned"] for row in counts.values())
    return AlignmentScores(organisation=s.percent(aligned, people), departments=departments)


@register
class UnalignedGoals(Rule):
    key = "unaligned_goals"
    title = "Departments with few people aligned to an active priority"
    pitfall = "Unaligned goals"
    description = (
        "A person in scope (an active participant of the current review cycle, or every active employee when no "
        "cycle owns the current goal period) is aligned when at least one of their approved goals in the current "
        "period reaches an active quality priority whose period overlaps the goal's, through a department goal "
        "that is not cancelled. A department whose share of aligned people is below min_alignment_percent is "
        "reported, with the people who are not aligned and the goals that do not count (still waiting for "
        "approval, under a retired priority or one outside the goal's period). Severity: high below half the "
        "floor, medium below 85 % of it, low just under it."
    )
    mitigation = (
        "Re-link goals to the organisation's current quality priorities or retire the ones that no longer fit, "
        "get waiting goals approved, and cascade each priority into a department goal people can build on."
    )
    thresholds = (
        Threshold(
            key="min_alignment_percent",
            label="Minimum share of aligned people",
            default=Decimal("70"),
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            unit="%",
            help="A department with fewer of its people aligned than this is reported.",
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        floor = Decimal(limits["min_alignment_percent"])
        scope = s.scope_for(ctx)
        if not scope.periods:
            return []
        counts = _by_department(scope)
        below = {
            department_id: row
            for department_id, row in counts.items()
            if row["people"] and s.percent(row["aligned"], row["people"]) < floor
        }
        if not below:
            return []
        names = s.department_names(below)
        unaligned_people = self._unaligned_people(scope, below)
        goals = self._unaligned_goals(scope, below)
        drafts = []
        for department_id in sorted(below, key=lambda d: (names.get(d, ""), d)):
            drafts.append(
                self._draft(
                    scope,
                    department_id,
                    names.get(department_id, f"Department {department_id}"),
                    below[department_id],
                    unaligned_people.get(department_id, []),
                    goals.get(department_id, []),
                    floor,
                )
            )
        return drafts

    @staticmethod
    def _unaligned_people(scope: s.Scope, below: Mapping[int, object]) -> dict[int, list[int]]:
        rows = (
            _people_with_alignment(scope)
            .filter(aligned=False, department_id__in=list(below))
            .values_list("pk", "department_id")
        )
        people: dict[int, list[int]] = defaultdict(list)
        for pk, department_id in rows:
            people[department_id].append(pk)
        return people

    @staticmethod
    def _unaligned_goals(scope: s.Scope, below: Mapping[int, object]) -> dict[int, list[dict]]:
        """The current goals of these departments' people that align nobody, with why (one query)."""
        rows = (
            scope.individual_goals()
            .filter(owner__department_id__in=list(below))
            .filter(WAITING | RETIRED | OUT_OF_PERIOD | PARENT_CANCELLED)
            .annotate(
                waiting=_flag(WAITING),
                retired=_flag(RETIRED),
                out_of_period=_flag(OUT_OF_PERIOD),
                parent_cancelled=_flag(PARENT_CANCELLED),
            )
            .values(
                "pk",
                "priority_id",
                "owner__department_id",
                "waiting",
                "retired",
                "out_of_period",
                "parent_cancelled",
            )
        )
        goals: dict[int, list[dict]] = defaultdict(list)
        for row in rows:
            goals[row["owner__department_id"]].append(row)
        return goals

    def _draft(
        self,
        scope: s.Scope,
        department_id: int,
        name: str,
        row: Mapping[str, int],
        people: list[int],
        goals: list[dict],
        floor: Decimal,
    ) -> FindingDraft:
        score = s.percent(row["aligned"], row["people"]) or Decimal(0)
        reasons = {
            "waiting": sum(1 for g in goals if g["waiting"]),
            "retired": sum(1 for g in goals if g["retired"]),
            "out_of_period": sum(1 for g in goals if g["out_of_period"]),
            "parent_cancelled": sum(1 for g in goals if g["parent_cancelled"]),
        }
        causes = []
        if row["no_goals"]:
            causes.append(f"{s.plural(row['no_goals'], 'person has', 'people have')} no goals in {scope.period_label}")
        if reasons["waiting"]:
            causes.append(f"{s.plural(reasons['waiting'], 'goal is', 'goals are')} still waiting for approval")
        if reasons["retired"]:
            causes.append(f"{s.plural(reasons['retired'], 'goal hangs', 'goals hang')} under a retired priority")
        if reasons["out_of_period"]:
            causes.append(
                f"{s.plural(reasons['out_of_period'], 'goal hangs', 'goals hang')} under a priority outside "
                "the goal's period"
            )
        if reasons["parent_cancelled"]:
            causes.append(
                f"{s.plural(reasons['parent_cancelled'], 'goal hangs', 'goals hang')} under a cancelled department goal"
            )
        message = (
            f"{name}: {row['aligned']:,} of {s.plural(row['people'], 'person', 'people')} ({s.shown(score)} %) "
            f"{'has' if row['people'] == 1 else 'have'} an approved goal that reaches an active quality priority; the floor is {s.as_set(floor)} %."
        )
        if causes:
            text = "; ".join(causes)
            message += f" {text[0].upper()}{text[1:]}."
        return FindingDraft(
            key=f"department:{department_id}",
            severity=s.shortfall_severity(score, floor),
            subject_type=SubjectType.DEPARTMENT,
            subject_id=department_id,
            subject_label=name,
            department_id=department_id,
            message=message,
            details={
                "employees": s.capped(people),
                "goals": s.capped(g["pk"] for g in goals),
                "priorities": s.capped(g["priority_id"] for g in goals if g["retired"] or g["out_of_period"]),
                "departments": [department_id],
                "figures": {
                    "people": row["people"],
                    "aligned": row["aligned"],
                    "not_aligned": row["people"] - row["aligned"],
                    "without_goals": row["no_goals"],
                    "alignment_percent": s.number(score),
                    "floor_percent": s.number(floor),
                    "unaligned_goals": len(goals),
                    "goals_waiting": reasons["waiting"],
                    "goals_under_retired_priority": reasons["retired"],
                    "goals_out_of_period": reasons["out_of_period"],
                    "goals_under_cancelled_parent": reasons["parent_cancelled"],
                    "periods": [p.name for p in scope.periods],
                },
            },
        )

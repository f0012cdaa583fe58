"""Priorities not cascaded, and goals still working towards criteria the organisation has dropped.

Both read the current goal periods (audits/selectors/scope.py). A priority is **cascaded** in them
when departments have taken it up in approved department (functional) goals — a
department counts when it owns such a goal or is named as contributing to it — and people
have individual goals under it. **Stale criteria** are open goals whose priority is retired,
or whose priority's period does not overlap the goal's own period (it ended before the goal
period started, or starts after it ends): performance is still being judged against
something that is no longer a current quality priority.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Count, Q

from audits.models import Severity, SubjectType
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from cascade.models import Approval, GoalLevel, GoalStatus, PriorityStatus, QualityPriority
from core.formatting import day

MITIGATION = (
    "Re-link or retire the goals that no longer reflect a current quality priority, and cascade each active "
    "priority into department goals that people's own goals can hang under."
)


@register
class PrioritiesNotCascaded(Rule):
    key = "priorities_not_cascaded"
    title = "Active priorities no department or person has taken up"
    pitfall = "Priorities not cascaded"
    description = (
        "An active quality priority whose period has run for more than grace_days (counted from the later of the "
        "priority's start and the current goal period's start) is reported when fewer than min_departments "
        "departments have an approved department goal under it in the current goal period (owning it or named "
        "as contributing), or when nobody has an individual goal under it. Severity: high when nothing at all "
        "hangs under it, medium otherwise."
    )
    mitigation = MITIGATION
    thresholds = (
        Threshold(
            key="grace_days",
            label="Days before a new priority must be cascaded",
            default=Decimal("30"),
            minimum=Decimal("0"),
            maximum=Decimal("365"),
            unit="days",
            help="A priority (or goal period) younger than this is left alone while goals are being set.",
            whole=True,
        ),
        Threshold(
            key="min_departments",
            label="Departments that must support each priority",
            default=Decimal("1"),
            minimum=Decimal("1"),
            maximum=Decimal("50"),
            unit="departments",
            help="Fewer departments than this with an approved department goal under a priority is reported.",
            whole=True,
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        grace = int(limits["grace_days"])
        needed = int(limits["min_departments"])
        scope = s.scope_for(ctx)
        if not scope.periods:
            return []
        period_start = min(p.start for p in scope.periods)
        priorities = [
            p
            for p in QualityPriority.objects.filter(
                status=PriorityStatus.ACTIVE, period_start__lte=ctx.today, period_end__gte=ctx.today
            )
            .order_by("title", "pk")
            .values("pk", "title", "period_start")
            if (ctx.today - max(p["period_start"], period_start)).days > grace
        ]
        if not priorities:
            return []
        ids = [p["pk"] for p in priorities]
        departments = s.supporting_departments(scope, ids, approved_only=True)
        functional = defaultdict(list)
        for pk, priority_id in (
            scope.goals()
            .filter(level=GoalLevel.FUNCTIONAL, approval=Approval.APPROVED, priority_id__in=ids)
            .values_list("pk", "priority_id")
        ):
            functional[priority_id].append(pk)
        individual = dict(
            scope.goals()
            .filter(level=GoalLevel.INDIVIDUAL, priority_id__in=ids)
            .values("priority_id")
            .annotate(n=Count("pk"))
            .values_list("priority_id", "n")
        )
        names = s.department_names(set().union(*departments.values()))
        drafts = []
        for priority in priorities:
            supporting = departments.get(priority["pk"], set())
            people_goals = individual.get(priority["pk"], 0)
            if len(supporting) >= needed and people_goals:
                continue
            drafts.append(
                self._draft(
                    scope, priority, supporting, names, functional[priority["pk"]], people_goals, needed, ctx.today
                )
            )
        return drafts

    def _draft(
        self,
        scope: s.Scope,
        priority: Mapping,
        supporting: set[int],
        names: Mapping[int, str],
        functional: list[int],
        people_goals: int,
        needed: int,
        today: datetime.date,
    ) -> FindingDraft:
        problems = []
        if len(supporting) < needed:
            if supporting:
                problems.append(
                    f"only {s.plural(len(supporting), 'department')} "
                    f"({s.listing(sorted(names.get(d, '') for d in supporting))}) "
                    f"{'has' if len(supporting) == 1 else 'have'} an approved department goal under it, "
                    f"below the {needed} required"
                )
            else:
                problems.append("no department has an approved department goal under it")
        if not people_goals:
            problems.append("nobody has an individual goal under it")
        days = (today - priority["period_start"]).days
        return FindingDraft(
            key=f"priority:{priority['pk']}",
            severity=Severity.HIGH if not supporting and not people_goals else Severity.MEDIUM,
            subject_type=SubjectType.PRIORITY,
            subject_id=priority["pk"],
            subject_label=priority["title"],
            department_id=None,
            message=(
                f"“{priority['title']}” has been running for {s.plural(days, 'day')}, but in {scope.period_label} "
                f"{' and '.join(problems)}."
            ),
            details={
                "priorities": [priority["pk"]],
                "departments": s.capped(supporting),
                "goals": s.capped(functional),
                "figures": {
                    "supporting_departments": len(supporting),
                    "min_departments": needed,
                    "department_goals": len(functional),
                    "individual_goals": people_goals,
                    "days_running": days,
                    "periods": [p.name for p in scope.periods],
                },
            },
        )


@register
class StaleCriteria(Rule):
    key = "stale_criteria"
    title = "Open goals under retired or out-of-period priorities"
    pitfall = "Stale criteria"
    description = (
        "Open goals of the current goal period whose quality priority is retired, or whose priority's period does "
        "not overlap the goal's period, are grouped by priority; a priority with at least min_goals such goals is "
        "reported with the goals and their owners. Severity: high from ten times min_goals, medium from three "
        "times, low below."
    )
    mitigation = MITIGATION
    thresholds = (
        Threshold(
            key="min_goals",
            label="Goals under one stale priority before it is reported",
            default=Decimal("1"),
            minimum=Decimal("1"),
            maximum=Decimal("1000"),
            unit="goals",
            whole=True,
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        minimum = int(limits["min_goals"])
        scope = s.scope_for(ctx)
        if not scope.periods:
            return []
        rows = (
            scope.goals()
            .filter(status=GoalStatus.OPEN)
            .filter(Q(owner__isnull=True) | Q(owner__is_active=True))
            .filter(Q(priority__status=PriorityStatus.RETIRED) | ~s.priority_overlaps_period())
            .values(
                "pk",
                "level",
                "owner_id",
                "department_id",
                "department__name",
                "priority_id",
                "priority__title",
                "priority__status",
                "priority__period_start",
                "priority__period_end",
            )
        )
        by_priority: dict[int, list[dict]] = defaultdict(list)
        for row in rows:
            by_priority[row["priority_id"]].append(row)
        drafts = []
        for priority_id, goals in sorted(
            by_priority.items(), key=lambda item: (item[1][0]["priority__title"], item[0])
        ):
            if len(goals) >= minimum:
                drafts.append(self._draft(scope, priority_id, goals, minimum))
        return drafts

    def _draft(self, scope: s.Scope, priority_id: int, goals: list[dict], minimum: int) -> FindingDraft:
        first = goals[0]
        title = first["priority__title"]
        retired = first["priority__status"] == PriorityStatus.RETIRED
        start, end = first["priority__period_start"], first["priority__period_end"]
        why = "is retired" if retired else f"ran from {day(start)} to {day(end)}, outside the goal period"
        individual = [g for g in goals if g["level"] == GoalLevel.INDIVIDUAL]
        departments = {g["department_id"] for g in goals}
        names = {g["department_id"]: g["department__name"] for g in goals}
        owners = {g["owner_id"] for g in individual}
        message = (
            f"“{title}” {why}, yet {s.plural(len(goals), 'open goal')} in {scope.period_label} still "
            f"{'hangs' if len(goals) == 1 else 'hang'} under it ({len(goals) - len(individual):,} department, "
            f"{len(individual):,} individual, held by {s.plural(len(owners), 'person', 'people')} in "
            f"{s.listing(sorted(names.values()))})."
        )
        return FindingDraft(
            key=f"priority:{priority_id}",
            severity=s.count_severity(len(goals), minimum),
            subject_type=SubjectType.PRIORITY,
            subject_id=priority_id,
            subject_label=title,
            department_id=next(iter(departments)) if len(departments) == 1 else None,
            message=message,
            details={
                "priorities": [priority_id],
                "goals": s.capped(g["pk"] for g in goals),
                "employees": s.capped(owners),
                "departments": s.capped(departments),
                "figures": {
                    "open_goals": len(goals),
                    "department_goals": len(goals) - len(individual),
                    "individual_goals": len(individual),
                    "people": len(owners),
                    "retired": retired,
                    "priority_period": [start.isoformat(), end.isoformat()],
                    "min_goals": minimum,
                    "periods": [p.name for p in scope.periods],
                },
            },
        )

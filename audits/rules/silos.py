"""Siloed goal setting: priorities only one department works on, and sibling goals that pull apart.

Two signs that departments set their QI targets in isolation:

- **A one-department priority.** The priority's measures are owned by several departments
  (each measure names the department that reports it), yet only one of them — or none —
  supports the priority with a department goal in the current period (owning it or named
  as contributing). Department goals still being drafted or awaiting approval count as
  support; cancelled and returned ones do not.
- **Siblings pulling one measure apart.** Goals with the same parent (the same department
  goal, or hanging straight under the same priority) that link the same measure, where
  one aims above its baseline and another below it. A goal without its own baseline is
  judged from the measure's. Such goals cannot both succeed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Q

from audits.models import Severity, SubjectType
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from cascade.models import Approval, PriorityStatus, QualityMeasure, QualityPriority


@register
class SiloedGoals(Rule):
    key = "siloed_goals"
    title = "Priorities one department carries alone, and goals that pull a measure apart"
    pitfall = "Siloed goal setting"
    description = (
        "An active quality priority whose measures are owned by at least min_measure_departments departments, but "
        "which at most max_supporting_departments departments support with a department goal in the current goal "
        "period (owned or contributed to), is reported (high when no department supports it). So is each group of "
        "sibling goals (same parent) linked to the same measure whose targets point in opposite directions from "
        "their baselines (high when goals on both sides are approved)."
    )
    mitigation = (
        "Bring the departments that own the priority's measures together in a cross-functional workshop to "
        "co-create aligned objectives, and agree one direction for each shared measure."
    )
    thresholds = (
        Threshold(
            key="min_measure_departments",
            label="Departments owning a priority's measures",
            default=Decimal("2"),
            minimum=Decimal("2"),
            maximum=Decimal("50"),
            unit="departments",
            help="Only priorities whose measures span at least this many departments are checked.",
            whole=True,
        ),
        Threshold(
            key="max_supporting_departments",
            label="Supporting departments that still count as a silo",
            default=Decimal("1"),
            minimum=Decimal("0"),
            maximum=Decimal("50"),
            unit="departments",
            help="A priority supported by this many departments or fewer is reported.",
            whole=True,
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        scope = s.scope_for(ctx)
        if not scope.periods:
            return []
        drafts = list(self._one_department_priorities(scope, limits))
        drafts += self._opposed_siblings(scope)
        return drafts

    # ------------------------------------------------------------ priorities

    def _one_department_priorities(self, scope: s.Scope, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        spread = int(limits["min_measure_departments"])
        most = int(limits["max_supporting_departments"])
        first = min(p.start for p in scope.periods)
        last = max(p.end for p in scope.periods)
        priorities = dict(
            QualityPriority.objects.filter(
                status=PriorityStatus.ACTIVE, period_start__lte=last, period_end__gte=first
            ).values_list("pk", "title")
        )
        owners: dict[int, set[int]] = defaultdict(set)
        measures: dict[int, list[int]] = defaultdict(list)
        for pk, priority_id, department_id in (
            QualityMeasure.objects.filter(priority_id__in=list(priorities))
            .order_by()
            .values_list("pk", "priority_id", "department_id")
        ):
            owners[priority_id].add(department_id)
            measures[priority_id].append(pk)
        candidates = [pk for pk, departments in owners.items() if len(departments) >= spread]
        if not candidates:
            return []
        supporting = s.supporting_departments(scope, candidates, approved_only=False)
        flagged = [pk for pk in candidates if len(supporting.get(pk, ())) <= most]
        names = s.department_names(set().union(*(owners[pk] | supporting.get(pk, set()) for pk in flagged)))
        drafts = []
        for pk in sorted(flagged, key=lambda p: (priorities[p], p)):
            support = supporting.get(pk, set())
            measure_owners = sorted(names.get(d, "") for d in owners[pk])
            if support:
                supported = (
                    f"only {s.listing(sorted(names.get(d, '') for d in support))} "
                    f"{'supports' if len(support) == 1 else 'support'} it with a department goal"
                )
            else:
                supported = "no department supports it with a department goal"
            drafts.append(
                FindingDraft(
                    key=f"priority:{pk}",
                    severity=Severity.HIGH if not support else Severity.MEDIUM,
                    subject_type=SubjectType.PRIORITY,
                    subject_id=pk,
                    subject_label=priorities[pk],
                    department_id=next(iter(support)) if len(support) == 1 else None,
                    message=(
                        f"“{priorities[pk]}”: its {s.plural(len(measures[pk]), 'measure')} "
                        f"{'is' if len(measures[pk]) == 1 else 'are'} owned by "
                        f"{s.plural(len(owners[pk]), 'department')} ({s.listing(measure_owners)}), but {supported} "
                        f"in {scope.period_label}."
                    ),
                    details={
                        "priorities": [pk],
                        "departments": s.capped(owners[pk] | support),
                        "figures": {
                            "measures": len(measures[pk]),
                            "measure_ids": s.capped(measures[pk]),
                            "measure_departments": s.capped(owners[pk]),
                            "supporting_departments": s.capped(support),
                            "min_measure_departments": spread,
                            "max_supporting_departments": most,
                        },
                    },
                )
            )
        return drafts

    # ------------------------------------------------------------ siblings

    def _opposed_siblings(self, scope: s.Scope) -> list[FindingDraft]:
        rows = (
            scope.goals()
            .exclude(approval=Approval.RETURNED)
            .filter(measure__isnull=False, target__isnull=False)
            .filter(Q(owner__isnull=True) | Q(owner__is_active=True))
            .values(
                "pk",
                "title",
                "level",
                "approval",
                "baseline",
                "target",
                "department_id",
                "owner__full_name",
                "parent_goal_id",
                "parent_goal__title",
                "parent_goal__department_id",
                "priority_id",
                "priority__title",
                "measure_id",
                "measure__name",
                "measure__baseline",
            )
        )
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for row in rows:
            baseline = row["baseline"] if row["baseline"] is not None else row["measure__baseline"]
            if row["target"] == baseline:
                continue
            row["sign"] = 1 if row["target"] > baseline else -1
            row["from"] = baseline
            parent = ("goal", row["parent_goal_id"]) if row["parent_goal_id"] else ("priority", row["priority_id"])
            groups[(*parent, row["measure_id"])].append(row)
        drafts = []
        for (kind, parent_id, measure_id), goals in sorted(groups.items(), key=lambda item: item[0]):
            if {g["sign"] for g in goals} != {1, -1}:
                continue
            drafts.append(self._siblings_draft(kind, parent_id, measure_id, sorted(goals, key=lambda g: g["pk"])))
        return drafts

    @staticmethod
    def _siblings_draft(kind: str, parent_id: int, measure_id: int, goals: list[dict]) -> FindingDraft:
        first = goals[0]
        measure = first["measure__name"]
        parent = f"“{first['parent_goal__title']}”" if kind == "goal" else f"the priority “{first['priority__title']}”"
        up = [g for g in goals if g["sign"] > 0]
        down = [g for g in goals if g["sign"] < 0]

        def describe(group: list[dict]) -> str:
            return s.listing(
                f"“{g['title']}”"
                + (f" ({g['owner__full_name']})" if g["owner__full_name"] else "")
                + f" {s.shown(g['from'])} → {s.shown(g['target'])}"
                for g in group
            )

        departments = {g["department_id"] for g in goals}
        in_force = any(g["approval"] == Approval.APPROVED for g in up) and any(
            g["approval"] == Approval.APPROVED for g in down
        )
        department_id = first["parent_goal__department_id"] if kind == "goal" else None
        if department_id is None and len(departments) == 1:
            department_id = next(iter(departments))
        return FindingDraft(
            key=f"siblings:{kind}:{parent_id}:measure:{measure_id}",
            severity=Severity.HIGH if in_force else Severity.MEDIUM,
            subject_type=SubjectType.GOAL if kind == "goal" else SubjectType.PRIORITY,
            subject_id=parent_id,
            subject_label=first["parent_goal__title"] if kind == "goal" else first["priority__title"],
            department_id=department_id,
            message=(
                f"Under {parent}, goals pull “{measure}” in opposite directions: "
                f"{s.plural(len(up), 'goal')} up ({describe(up)}) and {s.plural(len(down), 'goal')} down "
                f"({describe(down)})."
            ),
            details={
                "goals": s.capped(g["pk"] for g in goals),
                "priorities": [first["priority_id"]],
                "departments": s.capped(departments),
                "figures": {
                    "measure": measure_id,
                    "measure_name": measure,
                    "goals_up": len(up),
                    "goals_down": len(down),
                    "parent_goal": parent_id if kind == "goal" else None,
                },
            },
        )

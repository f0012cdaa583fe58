"""Reward misalignment: incentive plans whose QI-linked part is below the floor.

Plans still in force or still changeable are checked: every plan of a review cycle that is
not closed, and every plan not yet published whatever its cycle (a draft or approved plan
of a closed cycle has not paid out yet). A published plan of a closed cycle is history and
left alone. A plan with no components at all is still being designed and is left alone too:
the incentives pages already refuse to compute it until its components total 100.

The QI-linked weight is the plan's own ``IncentivePlan.qi_weight()`` (its QI-linked goal
achievement components); the floor's default is the ``THROUGHLINE_MIN_QI_WEIGHT`` setting
the plan pages warn with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q

from appraisals.models import CycleState
from audits.models import Severity, SubjectType
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from incentives.models import IncentivePlan, PlanComponent, PlanState, min_qi_weight


@register
class RewardMisalignment(Rule):
    key = "reward_misalignment"
    title = "Incentive plans that reward little QI work"
    pitfall = "Reward misalignment"
    description = (
        "An incentive plan of a review cycle that is not closed, or any plan not yet published, is reported when "
        "its QI-linked goal components weigh less than min_qi_weight % of it. Severity: high when it has no "
        "QI-linked component at all, medium below half the floor, low otherwise. Plans with no components yet "
        "are left alone."
    )
    mitigation = (
        "Redesign the incentive plan to include QI-linked components — achievement of QI goals weighted at least "
        "at the floor — so that rewards mirror the organisation's quality priorities."
    )
    thresholds = (
        Threshold(
            key="min_qi_weight",
            label="Minimum QI-linked weight of an incentive plan",
            default=Decimal(min_qi_weight()),
            minimum=Decimal("0"),
            maximum=Decimal("100"),
            unit="%",
            help="The default is the THROUGHLINE_MIN_QI_WEIGHT setting.",
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        floor = Decimal(limits["min_qi_weight"])
        plans = (
            IncentivePlan.objects.filter(~Q(cycle__state=CycleState.CLOSED) | ~Q(state=PlanState.PUBLISHED))
            .filter(Exists(PlanComponent.objects.filter(plan=OuterRef("pk"))))
            .select_related("cycle")
            .prefetch_related("components", "departments")
            .order_by("cycle__start", "name", "pk")
        )
        drafts = []
        for plan in plans:
            weight = plan.qi_weight()
            if weight >= floor:
                continue
            components = sorted(plan.components.all(), key=lambda c: (c.position, c.pk))
            departments = sorted(plan.departments.all(), key=lambda d: d.name)
            if weight == 0:
                severity = Severity.HIGH
                share = "has no QI-linked component at all"
            else:
                severity = Severity.MEDIUM if weight < floor / 2 else Severity.LOW
                share = f"puts only {weight} % on QI-linked goals"
            parts = ", ".join(f"{c.name} {c.weight} %" for c in components)
            population = f" for {s.listing(d.name for d in departments)}" if departments else ""
            drafts.append(
                FindingDraft(
                    key=f"plan:{plan.pk}",
                    severity=severity,
                    subject_type=SubjectType.PLAN,
                    subject_id=plan.pk,
                    subject_label=f"{plan.name} ({plan.cycle.name})",
                    department_id=departments[0].pk if len(departments) == 1 else None,
                    message=(
                        f"“{plan.name}”{population} in “{plan.cycle.name}” ({plan.get_state_display().lower()}) "
                        f"{share} ({parts}); the floor is {s.as_set(floor)} %."
                    ),
                    details={
                        "plans": [plan.pk],
                        "departments": s.capped(d.pk for d in departments),
                        "figures": {
                            "qi_weight": weight,
                            "floor_percent": s.number(floor),
                            "state": plan.state,
                            "cycle": plan.cycle_id,
                            "components": [{"kind": c.kind, "name": c.name, "weight": c.weight} for c in components],
                        },
                    },
                )
            )
        return drafts

"""Incentive figures for ``python -m bench.run``, after bench/appraisals_bench.py launched its cycle.

- ``payout_10k_s``: HR computes an incentive plan over the 10,000 participants of the bench
  cycle (QI-linked goals 50 %, appraisal score 30 %, an organisation measure 20 %; a target
  bonus for everyone, set in bulk beforehand and not timed), end to end: eligibility, every
  person's goals and appraisal score, the payouts and their breakdowns written in batches.
- ``payout_10k_recompute_s``: the same plan computed again, unchanged (the payouts are compared
  and none is rewritten).

Import this module only after ``django.setup()``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from appraisals.models import Participant, ReviewCycle
from bench.cascade_bench import figure
from incentives.models.plans import IncentivePlan, Payout, PlanState
from incentives.services import plans as services
from people.models import Employee

Figures = dict[str, dict[str, Any]]
TARGETS = {"payout_10k_s": 10}
COMPONENTS = [
    {"kind": "qi_goals", "name": "QI-linked goals", "weight": 50, "threshold": "40", "cap": "150"},
    {"kind": "appraisal_score", "name": "Appraisal score", "weight": 30, "threshold": "50", "cap": "120"},
    {"kind": "org_measure", "name": "Organisation measure", "weight": 20, "achievement": "85"},
]


def measure(top_username: str, size: int) -> Figures:
    top = Employee.objects.select_related("user", "department").get(user__username=top_username)
    Employee.objects.filter(pk=top.pk).update(is_hr_admin=True)
    user = top.user
    cycle = ReviewCycle.objects.filter(participants__isnull=False).distinct().order_by("-pk").first()
    if cycle is None:
        raise SystemExit("No launched cycle to compute an incentive plan for: run appraisals_bench first.")
    plan = services.plan_create(user=user, cycle=cycle, data={"name": "Bench plan"}, departments=[top.department])
    services.components_set(user=user, plan=plan, expected_version=None, components=COMPONENTS)
    people = Participant.objects.filter(cycle=cycle).values_list("employee_id", flat=True)
    services.target_bonuses_set(user=user, plan=plan, amounts={pk: Decimal(1000 + 250 * (pk % 9)) for pk in people})

    def compute() -> float:
        started = time.perf_counter()
        services.compute_start(user=user, plan=IncentivePlan.objects.get(pk=plan.pk), queue=False)
        result = services.run_compute(plan.pk)
        elapsed = time.perf_counter() - started
        if result.state != PlanState.COMPUTED:
            raise SystemExit(f"The bench plan ended {result.state}: {result.compute_error}")
        return elapsed

    first = compute()
    payouts = Payout.objects.filter(plan=plan).count()
    again = compute()
    return {
        "payout_10k_s": figure(round(first, 3), "s", payouts=payouts, measured="eager, plan computing → computed"),
        "payout_10k_recompute_s": figure(round(again, 3), "s", measured="unchanged plan computed again"),
    }

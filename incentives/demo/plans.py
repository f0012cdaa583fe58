"""Incentive plans in the demo hospital (recognition and pathways: incentives/demo/recognition.py).

- **Last year's closed cycle**: "Clinical quality bonus" — QI-linked goals 50 %
  (threshold 40 %, cap 150 %), appraisal score 30 % (threshold 50 %, cap 120 %),
  patient flow 20 % (85 % achieved, entered by HR); target bonuses £3,000 for
  managers and £1,500 for everyone else; computed, one payout adjusted with a
  reason, approved and published.
- **This year's cycle**: "Clinical quality bonus" in draft, QI-linked weight 30 %
  — below the floor, so the page shows the reward-misalignment warning.

Safe to run again: plans already there are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from appraisals.demo import cycle_names
from appraisals.models import ReviewCycle
from incentives.models.plans import IncentivePlan, Payout
from incentives.services import plans as services
from people import demo as people_demo
from people.models import Employee

HR_LOGIN = "hradmin"
PLAN_NAME = "Clinical quality bonus"
CLOSED_COMPONENTS = [
    {"kind": "qi_goals", "name": "QI-linked goals", "weight": 50, "threshold": "40", "cap": "150"},
    {"kind": "appraisal_score", "name": "Appraisal score", "weight": 30, "threshold": "50", "cap": "120"},
    {"kind": "org_measure", "name": "Patient flow: discharges before noon", "weight": 20, "achievement": "85"},
]
DRAFT_COMPONENTS = [
    {"kind": "qi_goals", "name": "QI-linked goals", "weight": 30, "threshold": "40", "cap": "150"},
    {"kind": "appraisal_score", "name": "Appraisal score", "weight": 50, "threshold": "50", "cap": "120"},
    {"kind": "org_measure", "name": "Claims processing cycle time", "weight": 20},
]


@dataclass(frozen=True)
class SeedResult:
    created: bool
    message: str


def _targets(cycle: ReviewCycle) -> dict[int, Decimal]:
    people = Employee.objects.filter(cycle_participations__cycle=cycle, is_active=True)
    managers = set(Employee.objects.filter(reports__is_active=True).values_list("pk", flat=True))
    return {
        pk: Decimal("3000.00") if pk in managers else Decimal("1500.00") for pk in people.values_list("pk", flat=True)
    }


def _plan(hr: Employee, cycle: ReviewCycle, components: list[dict]) -> IncentivePlan:
    plan = services.plan_create(user=hr.user, cycle=cycle, data={"name": PLAN_NAME, "minimum_tenure_months": 3})
    services.components_set(user=hr.user, plan=plan, expected_version=None, components=components)
    services.target_bonuses_set(user=hr.user, plan=plan, amounts=_targets(cycle))
    return IncentivePlan.objects.get(pk=plan.pk)


def _closed_plan(hr: Employee, cycle: ReviewCycle) -> IncentivePlan:
    plan = _plan(hr, cycle, CLOSED_COMPONENTS)
    services.compute_start(user=hr.user, plan=plan, queue=False)
    plan = services.run_compute(plan.pk)
    payout = Payout.objects.filter(plan=plan).order_by("-amount", "pk").first()
    if payout is not None:
        services.payout_adjust(
            user=hr.user,
            payout=payout,
            amount=payout.amount + Decimal("250.00"),
            reason="Led the medication-safety huddles on two wards beyond their own goals.",
            expected_version=payout.version,
        )
    plan = services.plan_approve(user=hr.user, plan=plan)
    return services.plan_publish(user=hr.user, plan=plan)


def seed_hospital() -> SeedResult:
    today = timezone.localdate()
    previous_name, current_name = cycle_names(today.year)
    messages = []
    created = False
    with transaction.atomic():
        hr = Employee.objects.select_related("user").filter(user__username=HR_LOGIN).first()
        previous = ReviewCycle.objects.filter(name=previous_name).first()
        current = ReviewCycle.objects.filter(name=current_name).first()
        if hr is None or previous is None or current is None:
            raise people_demo.SeedConflict(
                "Load the demo hospital's review cycles (appraisals.demo) before its incentive plans."
            )
        if not IncentivePlan.objects.filter(cycle=previous).exists():
            plan = _closed_plan(hr, previous)
            messages.append(
                f"“{plan.name}” for {previous.name} ({plan.payouts.count()} payouts, approved and published)"
            )
            created = True
        if not IncentivePlan.objects.filter(cycle=current).exists():
            plan = _plan(hr, current, DRAFT_COMPONENTS)
            messages.append(f"“{plan.name}” for {current.name} (draft)")
            created = True
    message = (
        "Loaded the incentive plans: " + "; ".join(messages) + "."
        if messages
        else ("The demo incentive plans are already loaded; nothing was changed.")
    )
    return SeedResult(created, message)

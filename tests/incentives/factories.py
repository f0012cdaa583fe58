"""Incentive data the tests build on: a plan with its people (``plan_world``), for the incentive
tests' ``world`` fixture (tests/incentives/conftest.py) and the job tests' (tests/jobs/conftest.py)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from appraisals.models import Appraisal, ReviewCycle
from cascade.models import Approval, GoalStatus
from incentives.models.plans import IncentivePlan
from incentives.services import plans as services
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.cascade.factories import IndividualGoalFactory

D = Decimal

PLAN_COMPONENTS = [
    {"kind": "qi_goals", "name": "QI goals", "weight": 50, "threshold": "50", "cap": "150"},
    {"kind": "appraisal_score", "name": "Appraisal", "weight": 30},
    {"kind": "org_measure", "name": "Patient flow: discharges before noon", "weight": 20, "achievement": "90"},
]


def signed_off_short(cast) -> dict[str, object]:
    """A goal closed short of its target, the result signed off by the manager: it counts its progress
    (payouts count only signed-off results; incentives.payout_formula.goal_figure)."""
    return {
        "status": GoalStatus.NOT_ACHIEVED,
        "result_signed_off_at": timezone.now(),
        "result_signed_off_by": cast.manager,
    }


def plan_world(cast) -> tuple[object, ReviewCycle, IncentivePlan]:
    """A cycle with the four non-HR people taking part, a plan with three components and target
    bonuses for the employee (2000), the manager (3000) and the stranger (1000)."""
    cycle = ReviewCycleFactory(name="2026 cycle")
    form = PublishedFormVersionFactory()
    for person in (cast.chief, cast.manager, cast.employee, cast.stranger):
        participant = ParticipantFactory(cycle=cycle, employee=person, form_version=form)
        Appraisal.objects.create(participant=participant, score=D("80"))
    IndividualGoalFactory(
        owner=cast.employee,
        period=cycle.period,
        approval=Approval.APPROVED,
        weight=60,
        progress=D("60"),
        **signed_off_short(cast),
    )
    IndividualGoalFactory(
        owner=cast.employee,
        period=cycle.period,
        approval=Approval.APPROVED,
        weight=40,
        progress=D("91.25"),
        **signed_off_short(cast),
    )
    hr = cast.hr.user
    plan = services.plan_create(user=hr, cycle=cycle, data={"name": "Clinical bonus"})
    services.components_set(user=hr, plan=plan, expected_version=None, components=PLAN_COMPONENTS)
    services.target_bonuses_set(
        user=hr, plan=plan, amounts={cast.employee.pk: "2000", cast.manager.pk: "3000", cast.stranger.pk: "1000"}
    )
    plan.refresh_from_db()
    return cast, cycle, plan

"""Fixtures the incentive tests share: a plan with its people (``world`` for the pages, ``setup`` for
the services and the API), its components, and computing its payouts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from appraisals.models import Appraisal
from cascade.models import Approval
from incentives.models.plans import IncentivePlan, Payout
from incentives.services import plans as services
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.cascade.factories import IndividualGoalFactory
from tests.incentives.factories import PLAN_COMPONENTS, plan_world, signed_off_short

D = Decimal


@pytest.fixture
def plan_components() -> list[dict[str, object]]:
    """The ``world`` plan's three components, as the service takes them (a fresh copy to change)."""
    return [dict(row) for row in PLAN_COMPONENTS]


@pytest.fixture
def world(cast):
    """A cycle with the four non-HR people taking part, a plan with three components and target
    bonuses for the employee (2000), the manager (3000) and the stranger (1000)."""
    return plan_world(cast)


@pytest.fixture
def setup(cast):
    """A cycle with the four non-HR people taking part (the employee with two approved QI goals and a
    draft one), a plan with three components and target bonuses for the employee, manager and stranger."""
    cycle = ReviewCycleFactory()
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
    IndividualGoalFactory(
        owner=cast.employee, period=cycle.period, approval=Approval.DRAFT, weight=100, progress=D("0")
    )
    hr = cast.hr.user
    plan = services.plan_create(user=hr, cycle=cycle, data={"name": "Clinical bonus"})
    services.components_set(
        user=hr,
        plan=plan,
        expected_version=None,
        components=[
            {"kind": "qi_goals", "name": "QI goals", "weight": 50, "threshold": "50", "cap": "150"},
            {"kind": "appraisal_score", "name": "Appraisal", "weight": 30},
            {"kind": "org_measure", "name": "Patient flow", "weight": 20, "achievement": "90"},
        ],
    )
    services.target_bonuses_set(
        user=hr, plan=plan, amounts={cast.employee.pk: "2000", cast.manager.pk: "3000", cast.stranger.pk: "1000"}
    )
    plan.refresh_from_db()
    return cast, cycle, plan


@pytest.fixture
def compute_payouts(cast, django_capture_on_commit_callbacks) -> Callable[[IncentivePlan], dict[int, Payout]]:
    """Compute a plan's payouts as HR, running the task queued on commit; the payouts by person id."""

    def compute(plan: IncentivePlan) -> dict[int, Payout]:
        with django_capture_on_commit_callbacks(execute=True):  # the task is eager in tests and queued on commit
            services.compute_start(user=cast.hr.user, plan=plan)
        plan.refresh_from_db()
        return {p.employee_id: p for p in Payout.objects.filter(plan=plan)}

    return compute

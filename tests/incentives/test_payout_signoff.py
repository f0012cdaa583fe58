"""Payouts count only signed-off results (PRODUCT.md): a goal its owner closed as achieved, or pushed
to 100 % by their own update, does not count as 100 % until its approver (or its measure) signs the
result off; the breakdown says so, and the plan page says how many goals await sign-off first."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cascade import progress, workflow
from cascade.models import Approval, Goal, GoalStatus, ProgressMode
from incentives.payout_formula import GoalFigure, goal_figure, qi_goal_achievement
from incentives.services import plans as services
from tests.cascade.factories import IndividualGoalFactory, QualityMeasureFactory
from tests.incentives.factories import plan_world

D = Decimal
pytestmark = pytest.mark.django_db


def user(employee):  # type: ignore[no-untyped-def]
    return type(employee.user).objects.get(pk=employee.user_id)


@pytest.fixture
def solo(cast):
    """The ``world`` plan with the employee's two signed-off goals replaced by one approved goal of
    weight 100, open, 40 % done: the QI component is then the goal's own figure."""
    cast, cycle, plan = plan_world(cast)
    Goal.objects.filter(owner=cast.employee, period=cycle.period).delete()
    goal = IndividualGoalFactory(
        owner=cast.employee, period=cycle.period, approval=Approval.APPROVED, weight=100, progress=D("40")
    )
    return cast, plan, goal


def qi_line(payouts, employee) -> str:
    return payouts[employee.pk].breakdown[0]


# ---------------------------------------------------------------- the rule (pure)


def test_only_a_signed_off_achieved_result_counts_in_full():
    def figure(status, signed_off, measure_driven=False, progress="100"):  # type: ignore[no-untyped-def]
        return qi_goal_achievement(
            [
                goal_figure(
                    weight=1, progress=D(progress), status=status, signed_off=signed_off, measure_driven=measure_driven
                )
            ]
        )

    assert figure("achieved", signed_off=True) == D("100")
    assert figure("achieved", signed_off=False) == D("0")  # the owner's claim
    assert figure("open", signed_off=False) == D("0")  # a 100 % update typed in by hand
    assert figure("not_achieved", signed_off=True, progress="100") == D("99")  # below completion
    assert figure("not_achieved", signed_off=True, progress="60") == D("60")
    assert figure("open", signed_off=False, measure_driven=True, progress="100") == D("99")  # data, not complete
    assert figure("open", signed_off=False, measure_driven=True, progress="70") == D("70")
    assert qi_goal_achievement([GoalFigure(50, D("80"), awaiting_sign_off=True), GoalFigure(50, D("60"))]) == D("30")


# ---------------------------------------------------------------- computed payouts


def test_an_owners_achieved_goal_with_a_100_percent_update_is_not_paid_as_100(cast, solo, compute_payouts):
    cast, plan, goal = solo
    # What the issue saw: the owner posts 100 % and marks the goal achieved (now refused: see the cascade
    # tests), or the goal was closed before sign-offs existed. Either way it awaits the manager.
    progress.record_update(user=user(cast.employee), goal=goal, percent=D("100"), comment="Done")
    Goal.objects.filter(pk=goal.pk).update(status=GoalStatus.ACHIEVED)
    payouts = compute_payouts(plan)
    line = qi_line(payouts, cast.employee)
    assert line.startswith("QI goals: 0 % achieved (1 approved QI-linked goal; 1 awaiting manager sign-off")
    assert "below the 50 % threshold" in line
    # Appraisal 80 % × 30 % × 2000 = 480; measure 90 % × 20 % × 2000 = 360; QI nothing.
    assert payouts[cast.employee.pk].amount == D("840.00")


def test_the_same_goal_signed_off_by_the_manager_is_paid_as_100(cast, solo, compute_payouts):
    cast, plan, goal = solo
    workflow.request_close(user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment="Done")
    workflow.sign_off(user=user(cast.manager), goal=goal)
    payouts = compute_payouts(plan)
    assert qi_line(payouts, cast.employee).startswith("QI goals: 100 % achieved (1 approved QI-linked goal)")
    # QI 100 % × 50 % × 2000 = 1000, + 480 + 360.
    assert payouts[cast.employee.pk].amount == D("1840.00")


def test_a_goal_closed_by_its_measure_is_paid_as_signed_off(cast, solo, compute_payouts):
    cast, plan, goal = solo
    measure = QualityMeasureFactory(priority=goal.priority, department=cast.employee.department)
    measure.observations.create(date=timezone.localdate(), value=D("80"))  # 50 → 80: the target
    Goal.objects.filter(pk=goal.pk).update(measure=measure, progress_mode=ProgressMode.MEASURE)
    workflow.close_by_measure(user=user(cast.employee), goal=goal)
    payouts = compute_payouts(plan)
    assert qi_line(payouts, cast.employee).startswith("QI goals: 100 % achieved")


# ---------------------------------------------------------------- the plan page, before computing


def test_the_plan_page_says_how_many_goals_await_sign_off_before_computing(cast, solo, client_for):
    cast, plan, goal = solo
    url = reverse("incentives:plan_detail", args=[plan.pk])
    html = client_for(cast.hr).get(url).content.decode()
    assert "1 goal awaits manager sign-off" in html
    assert services.goals_awaiting_sign_off(plan) == 1
    workflow.sign_off(user=user(cast.manager), goal=goal, result=GoalStatus.ACHIEVED)
    assert services.goals_awaiting_sign_off(plan) == 0
    assert "awaits manager sign-off" not in client_for(cast.hr).get(url).content.decode()

"""Cancelling an approved goal in a real browser: the employee asks, with a reason; the
manager hears of it, cancels the goal, and the rest of the set goes back to draft."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cascade import services, workflow
from cascade.models import Approval, Goal, GoalLevel, GoalPeriod, GoalStatus, QualityPriority
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "throughline-test"  # tests/factories.py


def said(page, text: str) -> None:
    page.locator(".messages").get_by_text(text).wait_for()


@pytest.fixture
def agreed(cast) -> list[Goal]:
    period = GoalPeriod.objects.create(
        name="2026", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31), is_default=True
    )
    priority = QualityPriority.objects.create(
        title="Improve medication safety",
        aim="Halve administration errors by December.",
        owner=cast.chief,
        period_start=period.start,
        period_end=period.end,
    )
    goals = [
        services.goal_create(
            user=cast.employee.user,
            level=GoalLevel.INDIVIDUAL,
            period=period,
            data={"title": title, "owner": cast.employee, "priority": priority, "weight": weight},
        )
        for title, weight in (("Scan every high-risk dose", 80), ("Teach the new starters", 20))
    ]
    goal_set = workflow.GoalSet(period=period, owner=cast.employee)
    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    workflow.approve(user=cast.manager.user, goal_set=goal_set)
    return goals


def test_the_employee_asks_and_the_manager_cancels(page, cast, agreed, assert_accessible):
    page.on("dialog", lambda dialog: dialog.accept())  # the cancel button asks before it submits
    big, small = agreed
    sign_in(page, "employee", PASSWORD)
    page.goto(reverse("cascade:goal_detail", args=[big.pk]))
    assert page.locator(".breadcrumb").inner_text() == "My goals"
    assert page.get_by_role("button", name="Cancel goal").count() == 0
    assert_accessible(page)
    page.get_by_label("Why should it be cancelled?").fill("The ward closes for refurbishment in May.")
    page.get_by_role("button", name="Ask Ward Manager to cancel it").click()
    said(page, "Ward Manager is asked to cancel")
    assert Goal.objects.get(pk=big.pk).approval == Approval.APPROVED  # it counts until answered

    sign_in(page, "manager", PASSWORD)
    page.get_by_role("link", name="Notifications 1 unread").click()
    page.get_by_text("Staff Nurse asks you to cancel the goal “Scan every high-risk dose”").wait_for()
    page.goto(reverse("cascade:goal_detail", args=[big.pk]))
    assert page.locator(".breadcrumb").inner_text() == "Team goals › Staff Nurse"
    page.get_by_text("Staff Nurse asked to cancel this goal").wait_for()
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.get_by_label("Reason").fill("Agreed: the ward closes.")
    page.get_by_role("button", name="Cancel the goal").click()
    said(page, "drafts again")
    assert page.locator(".badge--cancelled").inner_text() == "Cancelled"
    cancelled, rest = Goal.objects.get(pk=big.pk), Goal.objects.get(pk=small.pk)
    assert (cancelled.status, cancelled.approval) == (GoalStatus.CANCELLED, Approval.DRAFT)
    assert rest.approval == Approval.DRAFT
    assert page.csp_violations == []

"""The cascade in a real browser: line of sight, approving a set, a measure's signals."""

from __future__ import annotations

import re

import pytest

from cascade.models import Approval, Goal
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_employee_follows_the_line_of_sight_from_a_goal_to_its_priority(page, demo, assert_accessible):
    sign_in(page, "employee")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My goals").click()
    sights = page.get_by_role("list", name=re.compile("^Line of sight"))
    assert sights.count() >= 3
    assert_accessible(page)
    priority_link = sights.first.locator("a.los__title").last
    priority_title = priority_link.inner_text()
    priority_link.click()
    assert page.get_by_role("heading", level=1).inner_text() == priority_title
    assert_accessible(page)
    assert page.csp_violations == []


def test_a_manager_approves_a_submitted_goal_set(page, demo, assert_accessible):
    waiting = Goal.objects.filter(approval=Approval.SUBMITTED, owner__manager__user__username="manager")
    owner = waiting.first().owner
    sign_in(page, "manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team goals").click()
    assert_accessible(page)
    page.get_by_role("button", name=f"Approve {owner.full_name}’s goals").click()
    page.wait_for_load_state()
    assert not Goal.objects.filter(owner=owner, approval=Approval.SUBMITTED).exists()
    assert Goal.objects.filter(owner=owner, approval=Approval.APPROVED).exists()
    assert page.csp_violations == []


def test_the_quality_lead_opens_a_measure_and_sees_its_signals(page, demo, assert_accessible):
    sign_in(page, "quality")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Priorities").click()
    page.get_by_role("link", name="Reduce claims processing cycle time").first.click()
    page.locator("main a[href*='/cascade/measures/']:not([href*='/new/'])").first.click()
    chart = page.locator("[data-chart='xmr'] svg")
    chart.wait_for()
    signals = page.locator("[data-chart='xmr'] [aria-label*='special cause']")
    assert signals.count() >= 1
    signals.first.hover()
    tooltip = page.locator("[data-chart='xmr'] .tl-chart__tooltip")
    tooltip.wait_for()
    assert "special cause" in tooltip.inner_text().lower()
    assert_accessible(page)  # with the tooltip open
    assert page.csp_violations == []

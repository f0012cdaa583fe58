"""A large goal tree in a real browser: "Show more goals", pressed from the keyboard, leaves focus
on the first goal it loaded, not at the top of the page."""

from __future__ import annotations

import datetime

import pytest

from cascade import selectors
from cascade.models import Approval, GoalPeriod, QualityPriority
from tests.browser.journey import sign_in
from tests.cascade.factories import FunctionalGoalFactory
from tests.factories import EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_show_more_keeps_the_keyboard_on_the_first_goal_it_loaded(page, monkeypatch, assert_accessible):
    # A tree of more than two goals counts as large here, read two goals at a time.
    monkeypatch.setattr(selectors, "TREE_WHOLE", 2)
    monkeypatch.setattr(selectors, "TREE_LEVEL", 2)
    nurse = EmployeeFactory(user__username="nurse")
    period = GoalPeriod.objects.create(name="2026", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
    priority = QualityPriority.objects.create(
        title="Improve medication safety",
        aim="Halve administration errors by December.",
        owner=EmployeeFactory(is_quality_lead=True),
        period_start=period.start,
        period_end=period.end,
    )
    titles = [f"Ward goal {n}" for n in range(1, 6)]
    for title in titles:
        FunctionalGoalFactory(
            title=title, priority=priority, period=period, department=nurse.department, approval=Approval.APPROVED
        )
    sign_in(page, "nurse", "throughline-test")
    page.goto(f"/cascade/priorities/{priority.pk}/tree/?period={period.pk}")
    more = page.get_by_role("link", name="Show more goals")
    more.wait_for()
    shown = [title for title in titles if page.get_by_role("link", name=title, exact=True).count()]
    assert len(shown) == 2
    more.focus()
    page.keyboard.press("Enter")
    landed = page.locator(".goal-tree a:focus:not(.goal-tree__more a)")
    landed.wait_for()
    focused = landed.inner_text().strip()
    assert focused in titles and focused not in shown
    assert_accessible(page)
    assert page.csp_violations == []

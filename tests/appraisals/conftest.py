"""Fixtures shared by the review-cycle tests."""

from __future__ import annotations

import datetime

import pytest

from cascade.models import GoalPeriod


@pytest.fixture
def goal_period(db) -> GoalPeriod:
    """The organisation's open goal period, long enough to hold every Plan window these tests use
    (the calendar year 2026 and windows dated around today): a cycle set up without choosing a
    period reviews it."""
    today = datetime.date.today()
    start = min(datetime.date(2026, 1, 1), today - datetime.timedelta(days=400))
    end = max(datetime.date(2026, 12, 31), today + datetime.timedelta(days=400))
    return GoalPeriod.objects.create(name="Organisation period", start=start, end=end)

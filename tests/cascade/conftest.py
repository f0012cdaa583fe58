"""Cascade fixtures on top of the shared cast: a period, a quality lead, a priority."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from cascade.models import GoalPeriod, QualityPriority
from people.models import Employee
from tests.factories import DepartmentFactory, EmployeeFactory


@pytest.fixture
def period(db) -> GoalPeriod:
    return GoalPeriod.objects.create(name="2026", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))


@pytest.fixture
def quality_lead(db) -> Employee:
    return EmployeeFactory(
        user__username="quality",
        full_name="Director of Quality",
        is_quality_lead=True,
        department=DepartmentFactory(name="Quality office"),
    )


@pytest.fixture
def priority(quality_lead) -> QualityPriority:
    return QualityPriority.objects.create(
        title="Improve medication safety",
        aim="Halve administration errors by December.",
        owner=quality_lead,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 12, 31),
    )


HUNDRED = Decimal("100")

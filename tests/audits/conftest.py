"""Shared audit fixtures: a quality lead (who reads the audit pages besides HR), the usual cast keyed
by role, and ``only_rules`` (tests/audits/engine.py), which swaps the rule registry for a test."""

from __future__ import annotations

import pytest

from people.models import Employee
from tests.audits.engine import only_rules  # noqa: F401  (a fixture, shared by the audit tests from here)
from tests.factories import EmployeeFactory


@pytest.fixture
def quality(cast) -> Employee:
    return EmployeeFactory(
        user__username="quality", full_name="Director of Quality", department=cast.hr.department, is_quality_lead=True
    )


@pytest.fixture
def users(cast, quality) -> dict[str, Employee]:
    return {
        "employee": cast.employee,
        "manager": cast.manager,
        "stranger": cast.stranger,
        "hr": cast.hr,
        "quality": quality,
    }

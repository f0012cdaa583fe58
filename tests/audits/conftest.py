"""Who reads the audit pages besides HR: a quality lead, and the usual cast keyed by role."""

from __future__ import annotations

import pytest

from people.models import Employee
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

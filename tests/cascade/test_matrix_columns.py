"""The matrix page keeps its size however many departments there are: its columns come a page
at a time, with links to the others; the counts, the note on priorities with nothing linked
and the exports still cover every department."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from cascade.views import matrix as matrix_views
from tests.cascade.factories import FunctionalGoalFactory
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def departments(priority, period):
    """Five departments, A to E; only E links a goal to the priority (12.5 % done)."""
    made = [DepartmentFactory(name=f"Department {letter}") for letter in "ABCDE"]
    FunctionalGoalFactory(priority=priority, period=period, department=made[-1], progress=Decimal("12.5"))
    return made


def test_the_columns_come_a_page_at_a_time(client_for, cast, priority, period, departments, monkeypatch):
    monkeypatch.setattr(matrix_views, "DEPARTMENTS_SHOWN", 3)
    client = client_for(cast.hr)
    first = client.get(reverse("cascade:matrix"), {"period": period.pk}).content.decode()
    shown = [d.name for d in departments if f'<th scope="col">{d.name}</th>' in first]
    assert len(shown) == 3 and "Department A" in shown
    assert "Next departments" in first and "Previous departments" not in first
    # By name: Departments A–E, then the cast's (HR, Nursing, Pharmacy, Quality office).
    second = client.get(reverse("cascade:matrix"), {"period": period.pk, "columns": 2}).content.decode()
    assert '<th scope="col">Department E</th>' in second and "Previous departments" in second
    assert "Departments 4–6 of 9" in second
    assert '<span class="matrix__mean">13%</span>' in second  # 12.5 rounds half up, as before
    assert "no linked goals in this view" not in first  # E's goal counts though E is on another page


def test_a_matrix_that_fits_has_no_column_pages(client_for, cast, priority, period, departments):
    page = client_for(cast.hr).get(reverse("cascade:matrix"), {"period": period.pk}).content.decode()
    assert all(f'<th scope="col">{d.name}</th>' in page for d in departments)
    assert "Next departments" not in page


def test_the_csv_export_keeps_every_department(client_for, cast, priority, period, departments, monkeypatch):
    monkeypatch.setattr(matrix_views, "DEPARTMENTS_SHOWN", 2)
    body = client_for(cast.hr).get(reverse("cascade:matrix_csv"), {"period": period.pk}).content.decode()
    assert all(d.name in body for d in departments)

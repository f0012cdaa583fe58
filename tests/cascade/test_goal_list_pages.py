"""The goals API's pages: every visible goal once, in the list's order, whatever the page.

The list reads a page's ids first and then their rows (cascade.api.views.GoalPagination), and
visibility is a union of branches (cascade.access.goals_visible_to): these check that what a
person pages through is exactly what they may see.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.cascade.factories import GoalFactory, QualityPriorityFactory

API = "/api/v1"


@pytest.fixture
def goals(cast):
    priority = QualityPriorityFactory()
    for n in range(52):
        GoalFactory(priority=priority, owner=cast.employee, title=f"Staff goal {n:02d}")
    GoalFactory(priority=priority, department=cast.employee.department, title="Ward goal")
    GoalFactory(priority=priority, owner=cast.stranger, title="Pharmacy goal")
    GoalFactory(priority=priority, owner=cast.chief, title="Chief goal")
    return priority


def titles_on_every_page(client: APIClient) -> tuple[int, list[list[str]]]:
    first = client.get(f"{API}/goals/").json()
    pages = [[goal["title"] for goal in first["results"]]]
    page = 2
    while len(pages) < (first["count"] + 49) // 50:
        response = client.get(f"{API}/goals/", {"page": page})
        assert response.status_code == 200
        pages.append([goal["title"] for goal in response.json()["results"]])
        page += 1
    return first["count"], pages


STAFF = [f"Staff goal {n:02d}" for n in range(52)]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # Department goals first (functional before individual), then by title.
        ("manager", ["Ward goal", "Chief goal", *STAFF]),
        ("employee", ["Ward goal", "Chief goal", *STAFF]),
        ("stranger", ["Ward goal", "Pharmacy goal"]),
        ("hr", ["Ward goal", "Chief goal", "Pharmacy goal", *STAFF]),
    ],
)
def test_pages_list_each_visible_goal_once_in_order(cast, goals, api_client_for, who, expected):
    count, pages = titles_on_every_page(api_client_for(getattr(cast, who)))

    assert count == len(expected)
    assert [title for page in pages for title in page] == expected
    sizes = [50, len(expected) - 50] if len(expected) > 50 else [len(expected)]
    assert [len(page) for page in pages] == sizes


def test_a_page_past_the_last_answers_404(cast, goals, api_client_for):
    response = api_client_for(cast.stranger).get(f"{API}/goals/", {"page": 2})

    assert response.status_code == 404


def test_someone_signed_in_without_an_employee_record_sees_department_goals_only(cast, goals):
    client = APIClient()
    client.force_authenticate(user=get_user_model().objects.create_user("contractor"))

    count, pages = titles_on_every_page(client)

    assert (count, pages) == (1, [["Ward goal"]])

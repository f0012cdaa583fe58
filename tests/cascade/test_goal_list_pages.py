"""The goals API's pages: every visible goal once, in the list's order, whatever the page.

The list is paged by keyset (core.pagination: each page after the last row of the one before,
clients follow ``next``), and visibility is a union of branches (cascade.access.goals_visible_to):
these check that what a person pages through is exactly what they may see.
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
    pages: list[list[str]] = []
    url: str | None = f"{API}/goals/"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert "count" not in body  # nothing counts every visible goal
        pages.append([goal["title"] for goal in body["results"]])
        url = body["next"]
    return sum(len(page) for page in pages), pages


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


def test_a_cursor_the_list_did_not_give_answers_400_naming_it(cast, goals, api_client_for):
    client = api_client_for(cast.hr)
    for cursor in ("2", "bm90IGpzb24", "WzEsMl0", "WyJhIiwiYiIsImMiLCJkIl0"):
        response = client.get(f"{API}/goals/", {"cursor": cursor})

        assert response.status_code == 400, cursor
        assert "cursor" in response.json()


def test_a_page_number_is_ignored(cast, goals, api_client_for):
    client = api_client_for(cast.stranger)

    assert client.get(f"{API}/goals/", {"page": 2}).json() == client.get(f"{API}/goals/").json()


def test_someone_signed_in_without_an_employee_record_sees_department_goals_only(cast, goals):
    client = APIClient()
    client.force_authenticate(user=get_user_model().objects.create_user("contractor"))

    count, pages = titles_on_every_page(client)

    assert (count, pages) == (1, [["Ward goal"]])

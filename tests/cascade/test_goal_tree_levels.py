"""A large goal tree is read a level at a time: the first view shows the top level's first goals,
each branch loads its goals when opened (htmx) or on a page of its own without script, "more"
reads the next ones, and every read keeps to what the reader may see."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cascade import selectors
from cascade.models import Approval, GoalStatus
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityPriorityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limits(monkeypatch):
    """A tree of more than two goals counts as large here, and a level is read two goals at a time."""
    monkeypatch.setattr(selectors, "TREE_WHOLE", 2)
    monkeypatch.setattr(selectors, "TREE_LEVEL", 2)


@pytest.fixture
def tree(cast, priority, period):
    ward = FunctionalGoalFactory(
        title="Barcode scanning on every ward",
        priority=priority,
        period=period,
        department=cast.chief.department,
        approval=Approval.APPROVED,
    )
    mine = IndividualGoalFactory(
        title="Scan every high-risk dose", owner=cast.employee, parent_goal=ward, priority=priority, period=period
    )
    theirs = IndividualGoalFactory(
        title="Pharmacist double-checks", owner=cast.stranger, parent_goal=ward, priority=priority, period=period
    )
    loose = IndividualGoalFactory(title="Report near misses", owner=cast.manager, priority=priority, period=period)
    return {"ward": ward, "mine": mine, "theirs": theirs, "loose": loose}


def level_url(priority, **query: object) -> str:
    url = reverse("cascade:priority_tree_level", args=[priority.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_large_tree_shows_its_top_level_and_loads_a_branch_when_opened(
    client_for, cast, priority, period, tree, small_limits
):
    page = client_for(cast.hr).get(reverse("cascade:priority_tree", args=[priority.pk])).content.decode()
    assert "Barcode scanning on every ward" in page and "Report near misses" in page
    assert "Scan every high-risk dose" not in page  # under the ward: read when the branch opens
    branch = level_url(priority, goal=tree["ward"].pk) + f"&amp;period={period.pk}"
    assert f'hx-get="{branch}" hx-trigger="toggle once"' in page
    assert f'<a href="{branch}">Open the 2 goals under “Barcode scanning on every ward”</a>' in page


def test_a_branch_answers_its_goals_as_list_items_to_htmx_and_as_a_page_without_script(
    client_for, cast, priority, period, tree, small_limits
):
    client = client_for(cast.hr)
    url = level_url(priority, goal=tree["ward"].pk, period=period.pk)
    items = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert items.lstrip().startswith('<li class="goal-tree__node">') and "<html" not in items
    assert "Scan every high-risk dose" in items and "Pharmacist double-checks" in items
    page = client.get(url).content.decode()
    assert "<html" in page and "Goals under “Barcode scanning on every ward”" in page
    assert "Scan every high-risk dose" in page


def test_a_branch_shows_only_the_goals_the_reader_may_see(client_for, cast, priority, period, tree, small_limits):
    url = level_url(priority, goal=tree["ward"].pk, period=period.pk)
    items = client_for(cast.employee).get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Scan every high-risk dose" in items
    assert "Pharmacist double-checks" not in items  # another team's personal goal


def test_more_reads_the_next_goals_of_a_level(client_for, cast, priority, period, tree, small_limits):
    FunctionalGoalFactory(title="Allergy checks", priority=priority, period=period, department=cast.hr.department)
    client = client_for(cast.hr)
    page = client.get(reverse("cascade:priority_tree", args=[priority.pk])).content.decode()
    assert "Show more goals (1 not shown yet)" in page
    assert "Report near misses" not in page  # third of the top level: individual goals come after
    rest = client.get(level_url(priority, period=period.pk, offset=2), headers={"HX-Request": "true"})
    assert "Report near misses" in rest.content.decode()


def test_a_goal_cancelled_or_under_another_priority_is_no_branch_of_this_tree(
    client_for, cast, priority, period, tree, small_limits
):
    client = client_for(cast.hr)
    other = FunctionalGoalFactory(priority=QualityPriorityFactory(), period=period, department=cast.hr.department)
    assert client.get(level_url(priority, goal=other.pk)).status_code == 404
    assert client.get(level_url(priority, goal="x")).status_code == 404
    tree["ward"].status, tree["ward"].approval = GoalStatus.CANCELLED, Approval.DRAFT
    tree["ward"].save(update_fields=["status", "approval"])
    top = client.get(level_url(priority, period=period.pk), headers={"HX-Request": "true"}).content.decode()
    assert "Scan every high-risk dose" in top  # its parent left the tree, so it stands at the top


def test_a_small_tree_still_comes_whole(client_for, cast, priority, period, tree):
    page = client_for(cast.hr).get(reverse("cascade:priority_tree", args=[priority.pk])).content.decode()
    assert "Scan every high-risk dose" in page and "hx-trigger" not in page


def test_the_first_view_and_a_branch_read_a_fixed_number_of_queries_however_large_the_tree(
    client_for, cast, priority, period, tree, small_limits
):
    client = client_for(cast.hr)
    pages = [reverse("cascade:priority_tree", args=[priority.pk]), level_url(priority, goal=tree["ward"].pk)]
    for url in pages:
        client.get(url)
    counts = []
    for extra in (0, 6):
        for n in range(extra):
            IndividualGoalFactory(owner=cast.employee, parent_goal=tree["ward"], priority=priority, period=period)
            FunctionalGoalFactory(priority=priority, period=period, department=cast.hr.department, title=f"F{n}")
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
    assert counts[:2] == counts[2:]

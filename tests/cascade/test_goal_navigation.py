"""Reaching the department-goal form without typing a URL, and breadcrumbs that name where
the reader is: "My goals" for their own goal, "Team goals › <person>" for a report's,
"<Department> goals" for a department goal or form.

The cast (tests/conftest.py): chief → manager → employee in Nursing, a stranger in
Pharmacy, an HR admin; tests/cascade/conftest.py adds the quality lead, a period and a priority.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cascade.models import Approval, Goal, PriorityStatus
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory

pytestmark = pytest.mark.django_db


def breadcrumb(html: str) -> str:
    """The breadcrumb's text, as a reader hears it: "Team goals › Staff Nurse"."""
    match = re.search(r'<nav aria-label="Breadcrumb"><p class="breadcrumb">(.*?)</p></nav>', html, re.S)
    assert match, "the page has no breadcrumb"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


@pytest.fixture
def ward_goal(cast, period, priority) -> Goal:
    return FunctionalGoalFactory(
        title="Barcode scanning on every ward",
        priority=priority,
        period=period,
        department=cast.employee.department,
        approval=Approval.APPROVED,
    )


@pytest.fixture
def nurse_goal(cast, period, ward_goal) -> Goal:
    return IndividualGoalFactory(
        title="Scan every high-risk dose", owner=cast.employee, parent_goal=ward_goal, period=period, weight=100
    )


# ---------------------------------------------------------------- a way to the department-goal form

ADD = "Add a department goal"


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("manager", True),
        ("chief", True),
        ("quality_lead", True),
        ("hr", True),
        ("employee", False),
        ("stranger", False),
    ],
)
def test_the_priority_page_offers_a_department_goal_to_those_who_may_draft_one(
    client_for, cast, quality_lead, period, priority, who, shown
):
    someone = quality_lead if who == "quality_lead" else getattr(cast, who)
    html = client_for(someone).get(reverse("cascade:priority_detail", args=[priority.pk])).content.decode()
    link = f"{reverse('cascade:goal_create')}?level=functional&amp;priority={priority.pk}&amp;period={period.pk}"
    assert (ADD in html) is shown
    assert (link in html) is shown


def test_a_retired_priority_offers_no_new_department_goal(client_for, cast, priority):
    priority.status = PriorityStatus.RETIRED
    priority.save()
    html = client_for(cast.manager).get(reverse("cascade:priority_detail", args=[priority.pk])).content.decode()
    assert ADD not in html


def test_the_link_from_the_priority_opens_the_form_under_that_priority(client_for, cast, period, priority):
    url = f"{reverse('cascade:goal_create')}?level=functional&priority={priority.pk}&period={period.pk}"
    response = client_for(cast.manager).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert breadcrumb(html) == f"Quality priorities › {priority.title}"
    assert f'value="priority:{priority.pk}" selected' in html
    assert "My goals" not in breadcrumb(html)


def test_the_departments_page_links_each_department_to_its_goals(client_for, cast):
    html = client_for(cast.employee).get(reverse("people:departments")).content.decode()
    nursing = cast.employee.department
    assert f'<a href="{reverse("cascade:department_goals", args=[nursing.pk])}">Nursing</a>' in html


@pytest.mark.parametrize(("who", "shown"), [("manager", True), ("hr", True), ("employee", False), ("stranger", False)])
def test_the_department_page_offers_a_new_department_goal_to_those_who_may(client_for, cast, period, who, shown):
    nursing = cast.employee.department
    html = client_for(getattr(cast, who)).get(reverse("cascade:department_goals", args=[nursing.pk])).content
    link = f"{reverse('cascade:goal_create')}?level=functional&amp;department={nursing.pk}&amp;period={period.pk}"
    assert (link in html.decode()) is shown


def test_the_department_goal_form_names_the_department_not_my_goals(client_for, cast, period):
    nursing = cast.employee.department
    url = f"{reverse('cascade:goal_create')}?level=functional&department={nursing.pk}&period={period.pk}"
    html = client_for(cast.manager).get(url).content.decode()
    assert breadcrumb(html) == "Nursing goals"
    assert f'href="{reverse("cascade:department_goals", args=[nursing.pk])}?period={period.pk}"' in html


# ---------------------------------------------------------------- breadcrumbs on goals


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("employee", "My goals"),
        ("manager", "Team goals › Staff Nurse"),
        ("chief", "Team goals › Staff Nurse"),
        ("hr", "Nursing goals › Staff Nurse"),
        ("quality_lead", "Nursing goals › Staff Nurse"),
    ],
)
def test_a_persons_goal_says_where_it_sits_for_each_reader(client_for, cast, quality_lead, nurse_goal, who, expected):
    someone = quality_lead if who == "quality_lead" else getattr(cast, who)
    html = client_for(someone).get(reverse("cascade:goal_detail", args=[nurse_goal.pk])).content.decode()
    assert breadcrumb(html) == expected


def test_the_managers_crumb_leads_to_the_report_on_the_team_page(client_for, cast, period, nurse_goal):
    html = client_for(cast.manager).get(reverse("cascade:goal_detail", args=[nurse_goal.pk])).content.decode()
    team = f"{reverse('cascade:team_goals')}?period={period.pk}"
    assert f'<a href="{team}">Team goals</a>' in html
    assert f'<a href="{team}#title-person-{cast.employee.pk}">Staff Nurse</a>' in html


def test_a_department_goal_says_its_department(client_for, cast, ward_goal):
    html = client_for(cast.employee).get(reverse("cascade:goal_detail", args=[ward_goal.pk])).content.decode()
    assert breadcrumb(html) == "Nursing goals"


def test_editing_a_reports_goal_keeps_the_team_trail(client_for, cast, nurse_goal):
    html = client_for(cast.manager).get(reverse("cascade:goal_edit", args=[nurse_goal.pk])).content.decode()
    assert breadcrumb(html) == "Team goals › Staff Nurse › Scan every high-risk dose"


def test_a_new_goal_for_a_report_is_on_the_team_trail_and_my_own_on_mine(client_for, cast, period):
    create = reverse("cascade:goal_create")
    html = client_for(cast.manager).get(f"{create}?owner={cast.employee.pk}&period={period.pk}").content.decode()
    assert breadcrumb(html) == "Team goals › Staff Nurse"
    html = client_for(cast.employee).get(f"{create}?period={period.pk}").content.decode()
    assert breadcrumb(html) == "My goals"


def test_a_stranger_named_in_the_url_does_not_leak_into_the_breadcrumb(client_for, cast, period):
    url = f"{reverse('cascade:goal_create')}?owner={cast.stranger.pk}&period={period.pk}"
    html = client_for(cast.manager).get(url).content.decode()
    assert "Pharmacist" not in breadcrumb(html)

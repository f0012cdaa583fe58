"""Goal pages: my goals, team goals, one goal, editing, department goals, goal-set review.

The cast (tests/conftest.py): chief → manager → employee in Nursing, a stranger in
Pharmacy, an HR admin; tests/cascade/conftest.py adds the quality lead, a 2026
period and a priority. The employee's goal hangs under Nursing's department goal.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cascade.models import (
    Approval,
    Goal,
    GoalLevel,
    GoalSetEvent,
    GoalStatus,
    GoalUpdate,
    QualityPriority,
    ReviewAction,
)
from people.models import Employee
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityMeasureFactory
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

ROLES = ["employee", "manager", "chief", "stranger", "hr", "quality_lead"]


def person(cast, quality_lead, who: str) -> Employee:
    return quality_lead if who == "quality_lead" else getattr(cast, who)


def page(response) -> str:
    return response.content.decode()


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
def my_goal(cast, period, ward_goal) -> Goal:
    return IndividualGoalFactory(
        title="Scan every high-risk dose", owner=cast.employee, parent_goal=ward_goal, period=period, weight=100
    )


def submitted_set(cast, period, priority, weights=(60, 40)) -> list[Goal]:
    return [
        IndividualGoalFactory(
            title=f"Goal weighing {w}",
            owner=cast.employee,
            priority=priority,
            period=period,
            weight=w,
            approval=Approval.SUBMITTED,
        )
        for w in weights
    ]


def set_post(cast, period, **extra) -> dict:
    return {"period": period.pk, "owner": cast.employee.pk, "origin": "team", **extra}


# ---------------------------------------------------------------- permission tables


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 200), ("manager", 200), ("chief", 200), ("stranger", 404), ("hr", 200), ("quality_lead", 200)],
)
def test_goal_detail_follows_the_org_chart(client_for, cast, quality_lead, my_goal, who, status):
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:goal_detail", args=[my_goal.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 200), ("manager", 200), ("chief", 200), ("stranger", 404), ("hr", 200), ("quality_lead", 403)],
)
def test_goal_edit_page_follows_the_org_chart(client_for, cast, quality_lead, my_goal, who, status):
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:goal_edit", args=[my_goal.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 403), ("manager", 200), ("chief", 200), ("stranger", 403), ("hr", 200), ("quality_lead", 200)],
)
def test_department_goal_edit_is_for_its_managers_the_quality_lead_and_hr(
    client_for, cast, quality_lead, ward_goal, who, status
):
    # Department goals are everyone's to read (so 403, not 404, for those who may not change them).
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:goal_edit", args=[ward_goal.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 200), ("manager", 200), ("chief", 200), ("stranger", 200), ("hr", 200), ("quality_lead", 200)],
)
def test_everyone_has_a_my_goals_page(client_for, cast, quality_lead, period, who, status):
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:my_goals"))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 403), ("manager", 200), ("chief", 200), ("stranger", 403), ("hr", 200), ("quality_lead", 403)],
)
def test_team_goals_are_for_managers_and_hr(client_for, cast, quality_lead, period, who, status):
    # A page reserved to a role: 403 with a message for the others (PRODUCT.md "Access").
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:team_goals"))
    assert response.status_code == status
    if status == 403:
        assert "Team goals are for managers" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 403), ("manager", 200), ("chief", 200), ("stranger", 403), ("hr", 403), ("quality_lead", 403)],
)
def test_team_feed_is_for_managers(client_for, cast, quality_lead, period, who, status):
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:team_feed"))
    assert response.status_code == status


@pytest.mark.parametrize("who", ROLES)
def test_department_goals_are_readable_by_everyone(client_for, cast, quality_lead, ward_goal, who):
    url = reverse("cascade:department_goals", args=[cast.employee.department.pk])
    response = client_for(person(cast, quality_lead, who)).get(url)
    assert response.status_code == 200
    assert "Barcode scanning on every ward" in page(response)


def test_an_unknown_department_or_goal_is_404(client_for, cast):
    client = client_for(cast.hr)
    assert client.get(reverse("cascade:department_goals", args=[999999])).status_code == 404
    assert client.get(reverse("cascade:goal_detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("who", "level", "status"),
    [
        ("employee", "individual", 200),
        ("employee", "functional", 403),
        ("manager", "functional", 200),
        ("chief", "individual", 200),
        ("stranger", "functional", 403),
        ("hr", "functional", 200),
        ("quality_lead", "functional", 200),
    ],
)
def test_goal_create_offers_only_what_the_user_may_draft(
    client_for, cast, quality_lead, period, priority, who, level, status
):
    response = client_for(person(cast, quality_lead, who)).get(reverse("cascade:goal_create"), {"level": level})
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 302), ("manager", 302), ("chief", 302), ("stranger", 404), ("hr", 403), ("quality_lead", 403)],
)
def test_progress_updates_come_from_the_owner_and_those_above(client_for, cast, quality_lead, my_goal, who, status):
    Goal.objects.filter(pk=my_goal.pk).update(approval=Approval.APPROVED)
    url = reverse("cascade:goal_progress", args=[my_goal.pk])
    response = client_for(person(cast, quality_lead, who)).post(url, {"percent": "20", "confidence": "2"})
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("employee", 403), ("manager", 302), ("chief", 403), ("stranger", 404), ("hr", 403), ("quality_lead", 404)],
)
def test_only_the_direct_manager_approves_a_persons_set(client_for, cast, quality_lead, period, priority, who, status):
    submitted_set(cast, period, priority)
    response = client_for(person(cast, quality_lead, who)).post(reverse("cascade:set_approve"), set_post(cast, period))
    assert response.status_code == status
    expected = Approval.APPROVED if status == 302 else Approval.SUBMITTED
    assert set(Goal.objects.values_list("approval", flat=True)) == {expected}


@pytest.mark.parametrize("name", ["cascade:set_submit", "cascade:set_approve", "cascade:set_return"])
def test_set_actions_only_answer_posts(client_for, cast, name):
    assert client_for(cast.manager).get(reverse(name)).status_code == 405


def test_set_actions_for_an_unknown_period_or_owner_are_404(client_for, cast, period):
    client = client_for(cast.manager)
    assert client.post(reverse("cascade:set_approve"), {"period": 999999, "owner": cast.employee.pk}).status_code == 404
    assert client.post(reverse("cascade:set_approve"), {"period": period.pk, "owner": "x"}).status_code == 404
    assert client.post(reverse("cascade:set_approve"), {"period": period.pk}).status_code == 404


# ---------------------------------------------------------------- my goals


def test_my_goals_shows_each_goals_line_of_sight(client_for, cast, my_goal, ward_goal, priority):
    html = page(client_for(cast.employee).get(reverse("cascade:my_goals")))
    assert "Scan every high-risk dose" in html
    chain = html[html.index('<ol class="los"') : html.index("</ol>", html.index('<ol class="los"'))]
    assert reverse("cascade:goal_detail", args=[ward_goal.pk]) in chain
    assert reverse("cascade:priority_detail", args=[priority.pk]) in chain
    assert chain.index("Scan every high-risk dose") < chain.index(ward_goal.title) < chain.index(priority.title)
    assert "Nursing goal" in chain and "Quality priority" in chain


def test_my_goals_shows_the_facts_of_each_goal_and_the_set(client_for, cast, period, priority):
    IndividualGoalFactory(
        title="Teach the scanning routine",
        owner=cast.employee,
        priority=priority,
        period=period,
        weight=40,
        due_date="2026-06-30",
        improvement_hours_per_month=Decimal("4.5"),
        progress=Decimal("35"),
    )
    html = page(client_for(cast.employee).get(reverse("cascade:my_goals")))
    assert "Teach the scanning routine" in html and "30 Jun 2026" in html and "4.5 h/month" in html
    assert 'value="35.00"' in html and "40%" in html
    assert "Weights total <strong>40</strong>" in html and "must be 100 to submit" in html
    assert reverse("cascade:set_submit") in html and "Submit for approval" in html


def test_my_goals_shows_what_the_managers_are_working_on(client_for, cast, period, priority):
    approved = {"priority": priority, "period": period, "approval": "approved"}
    IndividualGoalFactory(title="Ward rota for audits", owner=cast.manager, **approved)
    IndividualGoalFactory(title="Trust-wide scanning", owner=cast.chief, **approved)
    IndividualGoalFactory(title="A draft of the chief's", owner=cast.chief, priority=priority, period=period)
    IndividualGoalFactory(title="Pharmacy stock checks", owner=cast.stranger, **approved)
    html = page(client_for(cast.employee).get(reverse("cascade:my_goals")))
    assert "Ward rota for audits" in html and "Trust-wide scanning" in html
    assert "Pharmacy stock checks" not in html
    assert "A draft of the chief" not in html  # managers' drafts are still theirs


def test_my_goals_without_goals_says_what_will_appear_and_how(client_for, cast, period):
    html = page(client_for(cast.employee).get(reverse("cascade:my_goals")))
    assert "You have no goals for 2026 yet" in html and "line of sight" in html
    assert reverse("cascade:goal_create") in html
    assert "Submit for approval" not in html


def test_my_goals_picks_another_period(client_for, cast, period, priority):
    from cascade.models import GoalPeriod

    older = GoalPeriod.objects.create(name="2025", start="2025-01-01", end="2025-12-31")
    IndividualGoalFactory(title="Last year's goal", owner=cast.employee, priority=priority, period=older)
    client = client_for(cast.employee)
    assert "Last year&#x27;s goal" not in page(client.get(reverse("cascade:my_goals")))
    assert "Last year&#x27;s goal" in page(client.get(reverse("cascade:my_goals"), {"period": older.pk}))
    assert client.get(reverse("cascade:my_goals"), {"period": 999999}).status_code == 404


def test_a_returned_set_shows_the_return_comment(client_for, cast, period, priority):
    submitted_set(cast, period, priority, weights=(100,))
    response = client_for(cast.manager).post(
        reverse("cascade:set_return"), set_post(cast, period, comment="Link it to the scanning measure")
    )
    assert response.status_code == 302
    html = page(client_for(cast.employee).get(reverse("cascade:my_goals")))
    assert "Returned for changes by Ward Manager" in html and "Link it to the scanning measure" in html
    assert "Submit for approval" in html


# ---------------------------------------------------------------- submitting and reviewing


def test_submitting_weights_that_do_not_total_100_is_a_400_with_the_numbers(client_for, cast, period, priority):
    for title, weight in (("Audit", 60), ("Teach", 30)):
        IndividualGoalFactory(title=title, owner=cast.employee, priority=priority, period=period, weight=weight)
    response = client_for(cast.employee).post(
        reverse("cascade:set_submit"), {"period": period.pk, "owner": cast.employee.pk, "origin": "mine"}
    )
    assert response.status_code == 400
    html = page(response)
    assert (
        "total 90 (" in html
        and "they must total 100" in html
        and "Audit 60" in html
        and "Teach 30" in html
        and "+10" in html
    )
    assert "My goals" in html
    assert set(Goal.objects.values_list("approval", flat=True)) == {Approval.DRAFT}


def test_submitting_a_set_of_100_sends_it_for_approval(client_for, cast, period, priority):
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, weight=100)
    response = client_for(cast.employee).post(
        reverse("cascade:set_submit"), {"period": period.pk, "owner": cast.employee.pk, "origin": "mine"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('cascade:my_goals')}?period={period.pk}"
    assert Goal.objects.get().approval == Approval.SUBMITTED


def test_the_manager_sees_the_submitted_set_and_approves_it_with_a_comment(client_for, cast, period, priority):
    submitted_set(cast, period, priority)
    client = client_for(cast.manager)
    html = page(client.get(reverse("cascade:team_goals")))
    assert "Staff Nurse" in html and "1 set waiting for your approval" in html
    assert reverse("cascade:set_approve") in html and reverse("cascade:set_return") in html
    response = client.post(reverse("cascade:set_approve"), set_post(cast, period, comment="A good set"))
    assert response.status_code == 302
    assert set(Goal.objects.values_list("approval", flat=True)) == {Approval.APPROVED}
    assert GoalSetEvent.objects.get(action=ReviewAction.APPROVED).comment == "A good set"


def test_returning_a_set_needs_a_comment(client_for, cast, period, priority):
    submitted_set(cast, period, priority)
    client = client_for(cast.manager)
    response = client.post(reverse("cascade:set_return"), set_post(cast, period, comment="  "))
    assert response.status_code == 400
    assert "Say what should change" in page(response)
    assert set(Goal.objects.values_list("approval", flat=True)) == {Approval.SUBMITTED}
    response = client.post(reverse("cascade:set_return"), set_post(cast, period, comment="Add a measure"))
    assert response.status_code == 302
    assert set(Goal.objects.values_list("approval", flat=True)) == {Approval.RETURNED}


def test_approving_a_set_with_nothing_submitted_is_a_400_that_keeps_the_comment(client_for, cast, period, priority):
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, weight=100)
    response = client_for(cast.manager).post(reverse("cascade:set_approve"), set_post(cast, period, comment="Kept"))
    assert response.status_code == 400
    assert "nothing waiting for approval" in page(response)


def test_team_goals_highlight_weights_that_do_not_total_100(client_for, cast, period, priority):
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, weight=70)
    html = page(client_for(cast.manager).get(reverse("cascade:team_goals")))
    assert "weight-total--off" in html and "Weights total <strong>70</strong>" in html


def test_the_department_head_approves_department_goals_from_team_goals(client_for, cast, period, priority):
    department = cast.employee.department
    department.head = cast.chief
    department.save()
    FunctionalGoalFactory(
        title="Ward audits", priority=priority, period=period, department=department, approval=Approval.SUBMITTED
    )
    client = client_for(cast.chief)
    html = page(client.get(reverse("cascade:team_goals")))
    assert "Department goals you approve" in html and "Ward audits" in html
    data = {"period": period.pk, "department": department.pk, "origin": "team"}
    assert client_for(cast.manager).post(reverse("cascade:set_approve"), data).status_code == 403
    assert client.post(reverse("cascade:set_approve"), data).status_code == 302
    assert Goal.objects.get().approval == Approval.APPROVED


def test_hr_approves_the_set_of_someone_without_a_manager(client_for, cast, period, priority):
    IndividualGoalFactory(
        title="Chief's goal", owner=cast.chief, priority=priority, period=period, approval=Approval.SUBMITTED
    )
    client = client_for(cast.hr)
    assert "Waiting for HR" in page(client.get(reverse("cascade:team_goals")))
    data = {"period": period.pk, "owner": cast.chief.pk, "origin": "team"}
    assert client.post(reverse("cascade:set_approve"), data).status_code == 302
    assert Goal.objects.get().approval == Approval.APPROVED


def test_the_team_feed_lists_progress_from_the_team(client_for, cast, my_goal):
    GoalUpdate.objects.create(
        goal=my_goal, author=cast.employee, percent=Decimal("30"), comment="Half the wards", progress_after=30
    )
    for name in ("cascade:team_goals", "cascade:team_feed"):
        html = page(client_for(cast.manager).get(reverse(name)))
        assert "Half the wards" in html and "Scan every high-risk dose" in html


# ---------------------------------------------------------------- one goal, progress and roll-up


def test_goal_detail_shows_line_of_sight_fields_and_actions(client_for, cast, my_goal, ward_goal, priority):
    html = page(client_for(cast.employee).get(reverse("cascade:goal_detail", args=[my_goal.pk])))
    assert reverse("cascade:goal_detail", args=[ward_goal.pk]) in html
    assert reverse("cascade:priority_detail", args=[priority.pk]) in html
    assert reverse("cascade:goal_edit", args=[my_goal.pk]) in html and "Cancel goal" in html
    assert "Progress is tracked once the goal is approved" in html
    assert "Reopen" not in html


def test_a_measure_driven_goal_links_to_its_measure(client_for, cast, period, priority):
    measure = QualityMeasureFactory(priority=priority, name="Scanned doses", department=cast.employee.department)
    goal = IndividualGoalFactory(
        owner=cast.employee, priority=priority, period=period, measure=measure, progress_mode="measure"
    )
    html = page(client_for(cast.employee).get(reverse("cascade:goal_detail", args=[goal.pk])))
    assert reverse("cascade:measure_detail", args=[measure.pk]) in html and "Scanned doses" in html


def test_a_department_goal_lists_the_individual_goals_under_it_that_the_viewer_may_see(
    client_for, cast, period, ward_goal
):
    IndividualGoalFactory(title="Employee part", owner=cast.employee, parent_goal=ward_goal)
    IndividualGoalFactory(title="Manager part", owner=cast.manager, parent_goal=ward_goal)
    url = reverse("cascade:goal_detail", args=[ward_goal.pk])
    manager_view = page(client_for(cast.manager).get(url))
    assert "Employee part" in manager_view and "Manager part" in manager_view
    stranger_view = page(client_for(cast.stranger).get(url))
    assert "Employee part" not in stranger_view and "Manager part" not in stranger_view


def test_a_progress_update_rolls_up_to_the_department_goal_and_the_priority(
    client_for, cast, my_goal, ward_goal, priority
):
    Goal.objects.filter(pk=my_goal.pk).update(approval=Approval.APPROVED)
    client = client_for(cast.employee)
    response = client.post(
        reverse("cascade:goal_progress", args=[my_goal.pk]),
        {"percent": "40", "confidence": "3", "comment": "Four wards of ten"},
    )
    assert response.status_code == 302
    ward_goal.refresh_from_db()
    assert ward_goal.progress == Decimal("40.00")
    assert QualityPriority.objects.get(pk=priority.pk).progress == Decimal("40.00")
    detail = page(client.get(reverse("cascade:goal_detail", args=[my_goal.pk])))
    assert "Four wards of ten" in detail and "High confidence" in detail
    ward_page = page(client.get(reverse("cascade:goal_detail", args=[ward_goal.pk])))
    assert 'value="40.00"' in ward_page and "weighted mean of the approved goals under it" in ward_page
    department_page = page(client.get(reverse("cascade:department_goals", args=[cast.employee.department.pk])))
    assert department_page.count('value="40.00"') >= 3  # the priority, the department goal, the person's goal


def test_a_refused_progress_update_is_a_400_with_the_reason_on_the_form(client_for, cast, my_goal, ward_goal):
    Goal.objects.filter(pk=my_goal.pk).update(approval=Approval.APPROVED)
    client = client_for(cast.manager)
    # The department goal's progress comes from the goals under it: only a comment is asked, a percentage is refused.
    response = client.post(reverse("cascade:goal_progress", args=[ward_goal.pk]), {"confidence": "2", "comment": ""})
    assert response.status_code == 400
    assert "Say what has happened" in page(response)
    draft = IndividualGoalFactory(owner=cast.employee, parent_goal=ward_goal)
    response = client.post(reverse("cascade:goal_progress", args=[draft.pk]), {"percent": "10", "confidence": "2"})
    assert response.status_code == 400
    assert "Progress is tracked once the goal is approved." in page(response)
    response = client.post(reverse("cascade:goal_progress", args=[my_goal.pk]), {"percent": "120", "confidence": "2"})
    assert response.status_code == 400 and 'value="120"' in page(response)
    assert not GoalUpdate.objects.exists()


# ---------------------------------------------------------------- creating and editing


def goal_data(goal: Goal | None = None, **changes) -> dict:
    data = {
        "title": "Scan every high-risk dose",
        "description": "",
        "parent": f"goal:{goal.parent_goal_id}" if goal and goal.parent_goal_id else "",
        "weight": "100",
        "kind": "result",
        "measure": "",
        "progress_mode": "manual",
        "baseline": "",
        "target": "",
        "due_date": "",
        "improvement_hours_per_month": "0",
        "status": "open",
    }
    if goal is not None:
        data["version"] = goal.version
    data.update(changes)
    return data


def test_creating_a_goal_makes_a_draft_under_the_chosen_department_goal(client_for, cast, period, ward_goal):
    client = client_for(cast.employee)
    url = reverse("cascade:goal_create") + "?level=individual"
    form_page = page(client.get(url, {"level": "individual", "parent": ward_goal.pk}))
    assert f'value="goal:{ward_goal.pk}" selected' in form_page
    data = goal_data(title="Audit scanning weekly", parent=f"goal:{ward_goal.pk}", owner=cast.employee.pk)
    response = client.post(url, data)
    goal = Goal.objects.get(title="Audit scanning weekly")
    assert response.status_code == 302 and response["Location"] == reverse("cascade:goal_detail", args=[goal.pk])
    assert (goal.owner, goal.parent_goal, goal.priority, goal.approval) == (
        cast.employee,
        ward_goal,
        ward_goal.priority,
        Approval.DRAFT,
    )


def test_the_service_refusals_land_on_the_right_fields_and_keep_the_input(client_for, cast, period, priority):
    client = client_for(cast.employee)
    url = reverse("cascade:goal_create") + "?level=individual"
    data = goal_data(
        title="Fewer errors", parent=f"priority:{priority.pk}", owner=cast.employee.pk, baseline="5", target="5"
    )
    response = client.post(url, data)
    assert response.status_code == 400
    html = page(response)
    assert re.search(r'id="id_target_error">The target must differ from the baseline', html)
    assert 'value="Fewer errors"' in html
    response = client.post(
        url,
        goal_data(title="Driven", parent=f"priority:{priority.pk}", progress_mode="measure", owner=cast.employee.pk),
    )
    assert response.status_code == 400
    assert re.search(r'id="id_measure_error">A goal driven by a measure needs a linked measure', page(response))
    assert not Goal.objects.exists()


def test_owners_outside_the_users_scope_are_not_offered(client_for, cast, period, priority):
    client = client_for(cast.manager)
    url = reverse("cascade:goal_create") + "?level=individual"
    html = page(client.get(url))
    assert "Staff Nurse" in html and "Pharmacist" not in html and "Chief Nurse" not in html
    response = client.post(url, goal_data(parent=f"priority:{priority.pk}", owner=cast.stranger.pk))
    assert response.status_code == 400 and not Goal.objects.exists()


def test_editing_an_approved_goal_is_refused_until_it_is_reopened(client_for, cast, my_goal):
    Goal.objects.filter(pk=my_goal.pk).update(approval=Approval.APPROVED)
    my_goal.refresh_from_db()
    client = client_for(cast.employee)
    url = reverse("cascade:goal_edit", args=[my_goal.pk])
    assert "reopen it" in page(client.get(url))
    response = client.post(url, goal_data(my_goal, title="Scan every dose"))
    assert response.status_code == 400
    assert "reopen it before changing it" in page(response) and 'value="Scan every dose"' in page(response)
    assert Goal.objects.get(pk=my_goal.pk).title == "Scan every high-risk dose"

    response = client.post(reverse("cascade:goal_reopen", args=[my_goal.pk]), {"comment": "Scope grew"})
    assert response.status_code == 302
    my_goal.refresh_from_db()
    assert my_goal.approval == Approval.DRAFT
    assert GoalSetEvent.objects.get(action=ReviewAction.REOPENED).comment == "Scope grew"
    response = client.post(url, goal_data(my_goal, title="Scan every dose"))
    assert response.status_code == 302
    assert Goal.objects.get(pk=my_goal.pk).title == "Scan every dose"


def test_reopening_a_draft_is_a_400_with_the_reason(client_for, cast, my_goal):
    response = client_for(cast.employee).post(reverse("cascade:goal_reopen", args=[my_goal.pk]), {"comment": ""})
    assert response.status_code == 400
    assert "Only an approved goal needs reopening" in page(response)


def test_an_approved_goals_outcome_is_recorded_without_reopening(client_for, cast, my_goal):
    Goal.objects.filter(pk=my_goal.pk).update(approval=Approval.APPROVED)
    my_goal.refresh_from_db()
    # The owner cannot close their own goal: the form says how to ask for the sign-off.
    refused = client_for(cast.employee).post(
        reverse("cascade:goal_edit", args=[my_goal.pk]), goal_data(my_goal, status="achieved")
    )
    assert refused.status_code == 400 and "Ask to close" in page(refused)
    assert Goal.objects.get(pk=my_goal.pk).status == GoalStatus.OPEN
    # The approver records it, and that is the sign-off.
    response = client_for(cast.manager).post(
        reverse("cascade:goal_edit", args=[my_goal.pk]), goal_data(my_goal, status="achieved")
    )
    assert response.status_code == 302
    closed = Goal.objects.get(pk=my_goal.pk)
    assert (closed.status, closed.result_signed_off_by) == (GoalStatus.ACHIEVED, cast.manager)


def test_a_stale_edit_is_a_409_that_keeps_the_input(client_for, cast, my_goal):
    stale = goal_data(my_goal, title="My version")
    Goal.objects.filter(pk=my_goal.pk).update(title="Their version", version=my_goal.version + 1)
    response = client_for(cast.employee).post(reverse("cascade:goal_edit", args=[my_goal.pk]), stale)
    assert response.status_code == 409
    html = page(response)
    assert "Someone else changed this record" in html and 'value="My version"' in html
    assert f'name="version" value="{my_goal.version + 1}"' in html  # saving again overwrites, knowingly
    assert Goal.objects.get(pk=my_goal.pk).title == "Their version"


def test_cancelling_a_goal_keeps_it_out_of_the_set(client_for, cast, my_goal):
    client = client_for(cast.employee)
    response = client.post(
        reverse("cascade:goal_edit", args=[my_goal.pk]), {"cancel_goal": "1", "version": my_goal.version}
    )
    assert response.status_code == 302
    assert Goal.objects.get(pk=my_goal.pk).status == GoalStatus.CANCELLED
    assert client.get(reverse("cascade:goal_edit", args=[my_goal.pk])).status_code == 302


def test_a_stranger_cannot_post_an_edit(client_for, cast, my_goal):
    response = client_for(cast.stranger).post(reverse("cascade:goal_edit", args=[my_goal.pk]), goal_data(my_goal))
    assert response.status_code == 404


def test_a_department_goal_is_created_for_a_department_the_user_may_draft_for(client_for, cast, period, priority):
    client = client_for(cast.manager)
    url = reverse("cascade:goal_create") + "?level=functional"
    html = page(client.get(url))
    assert "Nursing" in html and "Pharmacy" not in html.split('id="id_department"')[1].split("</select>")[0]
    data = goal_data(title="Ward scanning", parent=f"priority:{priority.pk}", department=cast.manager.department.pk)
    assert client.post(url, data).status_code == 302
    goal = Goal.objects.get()
    assert (goal.level, goal.department, goal.owner) == (GoalLevel.FUNCTIONAL, cast.manager.department, None)


# ---------------------------------------------------------------- department goals


def test_department_goals_are_grouped_by_priority_and_hide_goals_outside_scope(
    client_for, cast, period, priority, ward_goal
):
    other = QualityPriority.objects.create(
        title="Shorter waits", aim="x", owner=priority.owner, period_start=period.start, period_end=period.end
    )
    FunctionalGoalFactory(title="Faster discharge", priority=other, period=period, department=ward_goal.department)
    IndividualGoalFactory(title="Employee scanning", owner=cast.employee, parent_goal=ward_goal)
    url = reverse("cascade:department_goals", args=[ward_goal.department.pk])
    html = page(client_for(cast.manager).get(url))
    assert html.index("Improve medication safety") < html.index("Barcode scanning") < html.index("Shorter waits")
    assert html.index("Shorter waits") < html.index("Faster discharge")
    assert "Employee scanning" in html
    assert "Employee scanning" not in page(client_for(cast.stranger).get(url))


def test_the_department_set_is_submitted_from_the_department_page(client_for, cast, period, priority):
    department = cast.employee.department
    FunctionalGoalFactory(priority=priority, period=period, department=department, weight=50)
    client = client_for(cast.manager)
    html = page(client.get(reverse("cascade:department_goals", args=[department.pk])))
    assert "Submit for approval" in html
    response = client.post(
        reverse("cascade:set_submit"), {"period": period.pk, "department": department.pk, "origin": "department"}
    )
    assert response.status_code == 400 and "total 50 (" in page(response)
    assert "Nursing goals" in page(response)


# ---------------------------------------------------------------- bounded queries and page policy


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_my_goals_issues_the_same_number_of_queries_for_2_or_10_goals(client_for, cast, period, priority, ward_goal):
    client = client_for(cast.employee)
    url = reverse("cascade:my_goals")
    IndividualGoalFactory.create_batch(2, owner=cast.employee, parent_goal=ward_goal, weight=10)
    IndividualGoalFactory(owner=cast.manager, parent_goal=ward_goal)
    client.get(url)  # settle one-off rows such as the cascade settings
    few = count_queries(client, url)
    IndividualGoalFactory.create_batch(8, owner=cast.employee, parent_goal=ward_goal, weight=10)
    IndividualGoalFactory.create_batch(3, owner=cast.chief, priority=priority, period=period)
    assert count_queries(client, url) == few


def test_team_goals_issue_the_same_number_of_queries_for_2_or_10_goals(client_for, cast, period, priority, ward_goal):
    client = client_for(cast.manager)
    url = reverse("cascade:team_goals")
    goals = IndividualGoalFactory.create_batch(
        2, owner=cast.employee, parent_goal=ward_goal, weight=50, approval=Approval.SUBMITTED
    )
    GoalUpdate.objects.create(goal=goals[0], author=cast.employee, comment="x", progress_after=0)
    client.get(url)
    few = count_queries(client, url)
    second = EmployeeFactory(full_name="Second Nurse", department=cast.employee.department, manager=cast.manager)
    more = IndividualGoalFactory.create_batch(4, owner=cast.employee, parent_goal=ward_goal, weight=10)
    more += IndividualGoalFactory.create_batch(4, owner=second, parent_goal=ward_goal, weight=25)
    for goal in more:
        GoalUpdate.objects.create(goal=goal, author=goal.owner, comment="y", progress_after=0)
    assert count_queries(client, url) == few


@pytest.mark.parametrize(
    "name",
    ["cascade:my_goals", "cascade:team_goals", "cascade:goal_detail", "cascade:goal_edit", "cascade:goal_create"],
)
def test_goal_pages_carry_no_inline_script_or_style(client_for, cast, my_goal, name):
    url = reverse(name, args=[my_goal.pk]) if name in {"cascade:goal_detail", "cascade:goal_edit"} else reverse(name)
    html = page(client_for(cast.manager).get(url))
    assert "<script>" not in html and " style=" not in html

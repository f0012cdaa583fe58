"""The home page: each role's cards, filled from the cascade, in a bounded number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import AuditRun, Finding, RunState, Severity, SubjectType, Survey, SurveyInvitation, SurveyState
from cascade.models import Approval, PriorityStatus
from people.models import Employee
from tests.cascade.factories import (
    FunctionalGoalFactory,
    GoalPeriodFactory,
    IndividualGoalFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(db):
    return GoalPeriodFactory(name="2026")


@pytest.fixture
def quality_lead(db) -> Employee:
    return EmployeeFactory(
        user__username="quality",
        full_name="Director of Quality",
        is_quality_lead=True,
        department=DepartmentFactory(name="Quality office"),
    )


@pytest.fixture
def priority(quality_lead):
    return QualityPriorityFactory(title="Improve medication safety", owner=quality_lead)


@pytest.fixture
def home(client_for) -> Callable[[Employee], str]:
    """The home page as a person sees it."""

    def page(employee: Employee) -> str:
        response = client_for(employee).get(reverse("home"))
        assert response.status_code == 200
        return response.content.decode()

    return page


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def test_home_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_employee_sees_their_goals_with_progress_and_the_priority_each_serves(cast, period, priority, home):
    ward = FunctionalGoalFactory(
        title="Ward scanning", priority=priority, period=period, department=cast.employee.department
    )
    IndividualGoalFactory(
        title="Scan every dose", owner=cast.employee, parent_goal=ward, progress=Decimal("45"), weight=100
    )
    card = section(home(cast.employee), "goals-title")
    assert "Scan every dose" in card and "Ward scanning" in card and "Improve medication safety" in card
    assert 'value="45.00"' in card and "45%" in card
    assert reverse("cascade:my_goals") in card


def test_an_employee_without_goals_gets_an_empty_state_that_says_how_goals_come(cast, period, home):
    card = section(home(cast.employee), "goals-title")
    assert "card--empty" in home(cast.employee).split('id="goals-title"')[0].rsplit("<section", 1)[1]
    assert "line of sight" in card and reverse("cascade:goal_create") in card


def test_the_home_page_keeps_the_chain_and_the_team(cast, period, home):
    html = home(cast.manager)
    assert "Where you sit" in html and "Chief Nurse" in html
    assert "Your team" in html and "Staff Nurse" in html


def test_a_manager_sees_how_many_goal_sets_wait_for_approval(cast, period, priority, home):
    second = EmployeeFactory(full_name="Second Nurse", department=cast.employee.department, manager=cast.manager)
    for owner in (cast.employee, cast.employee, second):
        IndividualGoalFactory(owner=owner, priority=priority, period=period, approval=Approval.SUBMITTED)
    IndividualGoalFactory(owner=cast.manager, priority=priority, period=period, approval=Approval.SUBMITTED)
    card = section(home(cast.manager), "team-goals")
    assert '<p class="home-count">2</p>' in card and "goal sets waiting for your approval" in card
    assert reverse("cascade:team_goals") in card
    # The manager's own set is the chief's to approve; the reports' sets are not.
    assert '<p class="home-count">1</p>' in section(home(cast.chief), "team-goals")


def test_a_manager_with_nothing_to_approve_is_told_so(cast, period, priority, home):
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period)  # a draft, not yet submitted
    card = section(home(cast.manager), "team-goals")
    assert "Nothing is waiting for your approval" in card and reverse("cascade:team_goals") in card


def test_the_quality_lead_sees_active_priorities_with_progress_and_the_matrix(quality_lead, priority, home):
    QualityPriorityFactory(title="Retired aim", owner=quality_lead, status=PriorityStatus.RETIRED)
    type(priority).objects.filter(pk=priority.pk).update(progress=Decimal("62.5"))
    card = section(home(quality_lead), "ql-title")
    assert "Improve medication safety" in card and 'value="62.50"' in card and "Retired aim" not in card
    assert reverse("cascade:matrix") in card and reverse("cascade:priority_detail", args=[priority.pk]) in card


def test_hr_keeps_the_import_card_and_can_import_goals(cast, home):
    html = home(cast.hr)
    card = section(html, "hr-title")
    assert "HR administration" in card and reverse("people:import") in card
    assert reverse("cascade:goal_import") in card


def test_the_home_page_issues_the_same_number_of_queries_for_2_or_10_goals(cast, period, priority, client_for):
    client = client_for(cast.manager)
    IndividualGoalFactory.create_batch(2, owner=cast.manager, priority=priority, period=period, weight=10)
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, approval=Approval.SUBMITTED)
    client.get(reverse("home"))

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    few = cost()
    IndividualGoalFactory.create_batch(8, owner=cast.manager, priority=priority, period=period, weight=10)
    IndividualGoalFactory.create_batch(3, owner=cast.employee, priority=priority, period=period)
    assert cost() == few


def test_hr_and_the_quality_lead_see_the_latest_alignment_score_and_open_findings(cast, quality_lead, client_for):
    earlier = AuditRun.objects.create(state=RunState.SUCCEEDED, alignment_score=Decimal("60.00"))
    AuditRun.objects.filter(pk=earlier.pk).update(finished_at="2026-10-01T05:00Z")
    latest = AuditRun.objects.create(state=RunState.SUCCEEDED, alignment_score=Decimal("72.50"))
    AuditRun.objects.filter(pk=latest.pk).update(finished_at="2026-11-01T05:00Z")
    for n, severity in enumerate([Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM]):
        Finding.objects.create(
            rule="unaligned_goals",
            fingerprint=f"unaligned_goals:department:{n}",
            severity=severity,
            subject_type=SubjectType.DEPARTMENT,
            subject_label=f"Department {n}",
            message="Few people aligned.",
            mitigation="Re-link the goals.",
            first_seen_run=latest,
            last_seen_run=latest,
            first_seen_at="2026-11-01T05:00Z",
            last_seen_at="2026-11-01T05:00Z",
        )
    for person in (cast.hr, quality_lead):
        page = client_for(person).get(reverse("home")).content.decode()
        assert "72.50 %" in page and "+12.50 points since the audit before" in page
        assert "3 open findings: 1 high, 2 medium, 0 low" in page
    assert "Open the alignment dashboard" not in client_for(cast.employee).get(reverse("home")).content.decode()


def test_an_employee_sees_the_open_surveys_they_have_not_answered_yet(cast, client_for):
    today = datetime.date(2026, 11, 1)
    pulse = Survey.objects.create(
        title="Ward pulse", state=SurveyState.OPEN, opens_on=today, closes_on=today + datetime.timedelta(days=14)
    )
    done = Survey.objects.create(
        title="Spring survey", state=SurveyState.OPEN, opens_on=today, closes_on=today + datetime.timedelta(days=14)
    )
    SurveyInvitation.objects.create(survey=pulse, employee=cast.employee)
    SurveyInvitation.objects.create(survey=done, employee=cast.employee, answered=True)
    page = client_for(cast.employee).get(reverse("home")).content.decode()
    assert "Surveys for you" in page and reverse("audits:survey_answer", args=[pulse.pk]) in page
    assert "Spring survey" not in page
    assert "Surveys for you" not in client_for(cast.stranger).get(reverse("home")).content.decode()

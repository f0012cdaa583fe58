"""Every main page, for each role, on a phone (390 px) and a laptop (1366 px): axe-core finds no
violation, no element id is used twice, and on the phone nothing scrolls the page sideways (wide
tables scroll inside a box the keyboard can reach). Long text wraps instead of widening a page."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from appraisals.models import Appraisal, CheckIn, CycleState, DevelopmentPlan, ReviewCycle, ToDo
from audits.models import Finding, FindingStatus, Survey
from cascade.models import Goal, QualityMeasure, QualityPriority
from competencies.models import AppraisalForm, Competency
from incentives.models import IncentivePlan, Payout, Recognition
from people.management.commands.seed_demo import Command as SeedDemo
from people.models import Employee
from tests.browser.conftest import check_accessible, check_no_sideways_scroll
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, LAPTOP = 390, 1366


@pytest.fixture
def demo() -> None:
    """The demo hospital, with a few of the running cycle's to-dos overdue so that the cycle
    dashboard shows its Late table (the widest table on a phone)."""
    SeedDemo().handle(employees=None, verbosity=0)
    cycle = ReviewCycle.objects.get(state=CycleState.ACTIVE)
    open_todos = ToDo.objects.filter(cycle=cycle, done_at__isnull=True).order_by("due", "employee__full_name")
    late = list(open_todos.values_list("pk", flat=True)[:4])
    ToDo.objects.filter(pk__in=late).update(due=timezone.localdate() - datetime.timedelta(days=5))


def person(username: str) -> Employee:
    return Employee.objects.get(user__username=username)


def running_appraisal(employee: Employee) -> Appraisal:
    return Appraisal.objects.get(participant__employee=employee, participant__cycle__state=CycleState.ACTIVE)


def employee_pages() -> list[str]:
    employee = person("employee")
    appraisal = running_appraisal(employee)
    payout = Payout.objects.filter(employee=employee).order_by("-plan__cycle__start").first()
    return [
        reverse("home"),
        reverse("cascade:my_goals"),
        reverse("cascade:goal_detail", args=[Goal.objects.filter(owner=employee).first().pk]),
        reverse("appraisals:my_reviews"),
        reverse("appraisals:todo_list"),
        reverse("appraisals:appraisal_detail", args=[appraisal.pk]),
        reverse("incentives:my_payouts"),
        reverse("incentives:payout_detail", args=[payout.pk]),
        reverse("incentives:feed"),
        reverse("incentives:thank"),
    ]


def manager_pages() -> list[str]:
    manager = person("manager")
    report = Employee.objects.filter(manager=manager, user__isnull=False).exclude(pk=manager.pk).first()
    participant = running_appraisal(report).participant
    pages = [
        reverse("home"),
        reverse("cascade:team_goals"),
        reverse("cascade:goal_detail", args=[Goal.objects.filter(owner=report).first().pk]),
        reverse("cascade:department_goals", args=[manager.department.pk]),
        reverse("appraisals:team_reviews"),
        reverse("appraisals:appraisal_detail", args=[running_appraisal(report).pk]),
    ]
    if check_in := CheckIn.objects.filter(participant=participant).first():
        pages.append(reverse("appraisals:checkin_detail", args=[check_in.pk]))
    if plan := DevelopmentPlan.objects.filter(participant=participant).first():
        pages.append(reverse("appraisals:plan_detail", args=[plan.pk]))
    return pages


def quality_pages() -> list[str]:
    priority = QualityPriority.objects.order_by("title").first()
    return [
        reverse("home"),
        reverse("cascade:priority_list"),
        reverse("cascade:priority_detail", args=[priority.pk]),
        reverse("cascade:priority_tree", args=[priority.pk]),
        reverse("cascade:measure_detail", args=[QualityMeasure.objects.order_by("name").first().pk]),
        reverse("cascade:matrix"),
        reverse("competencies:competency_list"),
        reverse("competencies:competency_detail", args=[Competency.objects.order_by("name").first().pk]),
    ]


def hr_pages() -> list[str]:
    running = ReviewCycle.objects.get(state=CycleState.ACTIVE)
    closed = ReviewCycle.objects.filter(state=CycleState.CLOSED).first()
    plan = IncentivePlan.objects.filter(cycle=closed).first()
    form = AppraisalForm.objects.get(name="PDSA appraisal")
    version = form.versions.order_by("-number").first()
    finding = Finding.objects.filter(status=FindingStatus.OPEN).order_by("subject_label").first()
    survey = Survey.objects.order_by("title").first()
    return [
        reverse("home"),
        reverse("appraisals:cycle_list"),
        reverse("appraisals:cycle_detail", args=[running.pk]),
        reverse("appraisals:cycle_detail", args=[closed.pk]),
        reverse("appraisals:history", args=[running.pk]),
        reverse("appraisals:cycle_create"),
        reverse("appraisals:appraisal_detail", args=[Appraisal.objects.filter(participant__cycle=closed).first().pk]),
        reverse("incentives:plan_list"),
        reverse("incentives:plan_detail", args=[plan.pk]),
        reverse("incentives:payout_list", args=[plan.pk]),
        reverse("incentives:pathway_list"),
        reverse("audits:dashboard"),
        reverse("audits:finding_list"),
        reverse("audits:finding_detail", args=[finding.pk]),
        reverse("audits:survey_results", args=[survey.pk]),
        reverse("audits:correlation"),
        reverse("competencies:form_list"),
        reverse("competencies:form_detail", args=[form.pk]),
        reverse("competencies:version_builder", args=[form.pk, version.number]),
        reverse("competencies:rule_list"),
        reverse("people:directory"),
        reverse("people:departments"),
    ]


ROLES = {"employee": employee_pages, "manager": manager_pages, "quality": quality_pages, "hradmin": hr_pages}


@pytest.mark.parametrize("username", list(ROLES))
def test_every_main_page_passes_axe_and_fits_a_phone(page, demo, username):
    urls = ROLES[username]()
    sign_in(page, username)
    problems: list[str] = []
    for url in urls:
        for width in (PHONE, LAPTOP):
            page.set_viewport_size({"width": width, "height": 800})
            response = page.goto(url)
            assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
            page.wait_for_load_state("networkidle")
            checks = [check_accessible] + ([check_no_sideways_scroll] if width == PHONE else [])
            for check in checks:
                try:
                    check(page)
                except AssertionError as failure:
                    problems.append(str(failure))
    assert not problems, "\n\n".join(problems)
    assert page.csp_violations == []


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_the_sign_in_page_passes_axe_and_fits_a_phone(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(reverse("login"))
    check_accessible(page)
    check_no_sideways_scroll(page)


def test_the_sign_in_locked_page_and_hrs_sign_in_locks_page_pass_axe_and_fit_a_phone(page, demo):
    """Wrong passwords until the employee's account locks: the lockout page; then HR's page
    listing that lock, with its Unlock button."""
    page.goto(reverse("login"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("employee")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Sign-in locked for now").is_visible()
    problems: list[str] = []
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 800})
        for check in (check_accessible, check_no_sideways_scroll):
            try:
                check(page)
            except AssertionError as failure:
                problems.append(str(failure))
    sign_in(page, "hradmin")
    page.goto(reverse("people:sign_in_locks"))
    assert page.get_by_role("button", name="Unlock the account employee").is_visible()
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 800})
        for check in (check_accessible, check_no_sideways_scroll):
            try:
                check(page)
            except AssertionError as failure:
                problems.append(str(failure))
    assert not problems, "\n\n".join(problems)
    assert page.csp_violations == []


def test_the_cycle_dashboard_late_table_scrolls_in_its_own_labelled_box_on_a_phone(page, demo):
    sign_in(page, "hradmin")
    page.set_viewport_size({"width": PHONE, "height": 800})
    page.goto(reverse("appraisals:cycle_detail", args=[ReviewCycle.objects.get(state=CycleState.ACTIVE).pk]))
    box = page.get_by_role("region", name="Table of overdue to-dos")
    assert box.get_by_role("table").is_visible()
    # The keyboard reaches the box, so it can scroll the table; the page itself stays put.
    box.focus()
    assert box.evaluate("element => element === document.activeElement")
    check_no_sideways_scroll(page)


LONG_TITLE = "W" * 200
LONG_WORD = "x" * 300


@pytest.fixture
def long_text(demo) -> Goal:
    """A 200-character title with no space in it, and a thank-you holding a 300-character word."""
    goal = Goal.objects.filter(owner=person("employee")).order_by("title").first()
    Goal.objects.filter(pk=goal.pk).update(title=LONG_TITLE)
    post = Recognition.objects.filter(is_hidden=False, pathway__isnull=True).first()
    Recognition.objects.filter(pk=post.pk).update(message=f"Thank you for {LONG_WORD} and more.")
    return goal


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_a_long_title_and_an_unbroken_word_wrap_instead_of_widening_the_page(page, long_text, width):
    sign_in(page, "employee")
    page.set_viewport_size({"width": width, "height": 800})
    for url, text in [
        (reverse("cascade:my_goals"), LONG_TITLE),
        (reverse("cascade:goal_detail", args=[long_text.pk]), LONG_TITLE),
        (reverse("incentives:feed"), LONG_WORD),
    ]:
        page.goto(url)
        check_no_sideways_scroll(page)
        shown = page.get_by_text(text).first
        box = shown.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{url}: {box}"

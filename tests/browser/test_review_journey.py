"""A whole review cycle in a real browser: HR sets up and launches a cycle and moves it to
Study; the employee writes and submits a self-assessment; the manager reviews, shares
and submits; the employee acknowledges; HR closes the cycle and every appraisal locks."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appraisals.models import Appraisal, AppraisalState, CycleState, Participant, Phase, ReviewCycle
from people.models import Employee
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CYCLE = "Browser journey cycle"


def day(offset: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).isoformat()


def hr_sets_up_and_launches_a_cycle(page, department: str) -> ReviewCycle:
    sign_in(page, "hradmin")
    page.goto(reverse("appraisals:cycle_list"))
    page.get_by_role("link", name="New cycle").click()
    page.get_by_label("Name").fill(CYCLE)
    # The phase windows take DMAIC's names when DMAIC is chosen.
    page.get_by_label("Methodology").select_option("dmaic")
    assert page.locator(".phase-window__name").first.inner_text() == "Define & Measure (Plan)"
    page.get_by_label("Methodology").select_option("pdsa")
    assert page.locator(".phase-window__name").first.inner_text() == "Plan: goal setting"
    # Today falls in the Plan window, so the launch puts the cycle in Plan.
    dates = {
        "start": -10,
        "end": 180,
        "plan_start": -10,
        "plan_end": 10,
        "do_start": 11,
        "do_end": 60,
        "study_start": 61,
        "study_end": 120,
        "act_start": 121,
        "act_end": 180,
    }
    for name, offset in dates.items():
        page.locator(f"#id_{name}").fill(day(offset))
    page.get_by_label("Only the departments chosen below").check()
    page.get_by_role("group", name="Departments").get_by_label(department, exact=True).check()
    page.get_by_role("button", name="Create cycle").click()
    page.get_by_role("heading", name="Launch preview").wait_for()
    page.get_by_role("button", name="Launch the cycle").click()
    # The progress page: the bar fills and the page stops polling once every participant exists.
    page.get_by_role("heading", name="Launched").wait_for()
    assert page.locator("#launch-progress").get_attribute("value") == "100"
    cycle = ReviewCycle.objects.get(name=CYCLE)
    count = Participant.objects.filter(cycle=cycle).count()
    assert f"{count} of {count} people" in page.locator("[data-launch-count]").inner_text()
    page.get_by_role("link", name="Open the cycle's dashboard").click()
    # HR moves the cycle forward to Study, confirming on the next page.
    page.get_by_label("Move the cycle to").select_option(label="Study: performance review (forward)")
    page.get_by_role("button", name="Move…").click()
    page.get_by_role("button", name="Move to Study: performance review").click()
    page.locator(".phase-step--current").filter(has_text="Study").wait_for()
    cycle.refresh_from_db()
    assert (cycle.state, cycle.phase) == (CycleState.ACTIVE, Phase.STUDY)
    return cycle


def hr_closes_the_cycle(page, cycle: ReviewCycle) -> None:
    sign_in(page, "hradmin")
    page.goto(reverse("appraisals:cycle_detail", args=[cycle.pk]))
    page.get_by_role("button", name="Close cycle…").click()
    page.get_by_role("button", name="Close the cycle and lock every appraisal").click()
    said(page, "is closed. Every appraisal in it is locked.")


def open_todo(page, title: str) -> None:
    """Follow a to-do of the journey's cycle from the person's to-do list."""
    page.goto(reverse("appraisals:todo_list"))
    page.locator("li.todo").filter(has_text=CYCLE).get_by_role("link", name=title).click()
    page.get_by_role("heading", level=1).wait_for()


def said(page, text: str) -> None:
    """Wait for the confirmation a step leaves at the top of the next page."""
    page.locator(".messages").get_by_text(text).wait_for()


def settle(page) -> None:
    """Let the automatic save catch up, so that a workflow button posts the latest version."""
    page.wait_for_timeout(1200)
    page.locator("#appraisal-form[aria-busy='true']").wait_for(state="detached")


def rate_every_line(page, side: str, text: str) -> int:
    """Pick the third level of every rating on one side and write every comment; returns the ratings."""
    groups = page.locator(f".side--{side} fieldset.levels")
    for index in range(groups.count()):
        groups.nth(index).get_by_role("radio").nth(2).check()
    boxes = page.locator(f".side--{side} textarea")
    for index in range(boxes.count()):
        boxes.nth(index).fill(text)
    settle(page)
    return groups.count()


def test_a_whole_review_cycle_in_the_browser(page, demo, assert_accessible):
    page.on("dialog", lambda dialog: dialog.accept())  # the workflow buttons ask before they submit
    employee = Employee.objects.get(user__username="employee")
    manager = Employee.objects.get(user__username="manager")
    cycle = hr_sets_up_and_launches_a_cycle(page, employee.department.name)
    appraisal = Appraisal.objects.get(participant__cycle=cycle, participant__employee=employee)
    assert appraisal.state == AppraisalState.SELF_ASSESSMENT  # entering Study started every appraisal
    assert appraisal.participant.reviewer == manager

    # The employee writes the self-assessment on their appraisal page and submits it.
    sign_in(page, "employee")
    open_todo(page, "Write your self-assessment")
    assert rate_every_line(page, "self", "I led two PDSA cycles on medicine rounds.") >= 1
    page.get_by_role("button", name="Submit my self-assessment").click()
    # The confirm page: every rating is in, so it asks (with a blank it would list it instead).
    page.get_by_role("heading", name="Submit your self-assessment to").wait_for()
    page.get_by_role("button", name="Submit my self-assessment").click()
    said(page, "Your self-assessment is with")
    appraisal.refresh_from_db()
    assert appraisal.state == AppraisalState.MANAGER_REVIEW and appraisal.self_submitted_at

    # The manager rates, shares the ratings and submits the review.
    sign_in(page, "manager")
    open_todo(page, f"Review your team member: {employee.full_name}")
    assert "I led two PDSA cycles on medicine rounds." in page.content()
    assert_accessible(page)
    rate_every_line(page, "manager", "Strong, steady improvement work.")
    page.get_by_role("button", name=f"Share my ratings with {employee.full_name}").click()
    said(page, "Your ratings and the score are shared with")
    page.get_by_role("button", name="Submit my review").click()
    page.get_by_role("heading", name="Submit your review of").wait_for()
    page.get_by_role("button", name="Submit my review").click()
    said(page, "Review submitted")
    appraisal.refresh_from_db()
    assert appraisal.state == AppraisalState.DIALOGUE and appraisal.shared_at and appraisal.score is not None

    # The employee sees the review and acknowledges it with a comment.
    sign_in(page, "employee")
    page.goto(reverse("appraisals:my_reviews"))
    page.locator("article").filter(has_text=CYCLE).get_by_role("link", name="Appraisal", exact=True).click()
    assert "Strong, steady improvement work." in page.content()
    page.get_by_label("Your comment on the appraisal").fill("Thank you; agreed.")
    settle(page)
    page.get_by_role("button", name="Acknowledge my appraisal").click()
    said(page, "Appraisal acknowledged")
    appraisal.refresh_from_db()
    assert appraisal.state == AppraisalState.ACKNOWLEDGED and appraisal.employee_comment == "Thank you; agreed."

    # HR closes the cycle: every appraisal locks, the acknowledged one with its record intact.
    hr_closes_the_cycle(page, cycle)
    assert_accessible(page)  # the closed cycle's dashboard
    cycle.refresh_from_db()
    appraisal.refresh_from_db()
    assert cycle.state == CycleState.CLOSED and cycle.closed_at is not None
    assert appraisal.state == AppraisalState.LOCKED and appraisal.locked_at is not None
    assert appraisal.acknowledged_at is not None and appraisal.score is not None
    states = set(Appraisal.objects.filter(participant__cycle=cycle).values_list("state", flat=True))
    assert states == {AppraisalState.LOCKED}
    assert page.csp_violations == []

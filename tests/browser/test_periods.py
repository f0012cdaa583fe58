"""A review cycle for one department changes nothing for anyone outside it, in a real browser.

On the demo hospital (whose running cycle reviews this year's goals), HR adds a goal period,
sets up a cycle for Pharmacy alone that reviews it, and launches it. The Nursing employee and
their ward manager then see exactly what they saw before on Home, My goals and Team goals,
while a pharmacist taking part sees the new cycle's period."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appraisals.models import CycleState, Participant, ReviewCycle
from people.demo import DEMO_PASSWORD
from people.models import Employee
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERIOD = "Pharmacy review period"
CYCLE = "Pharmacy review cycle"


def day(offset: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).isoformat()


# The page's main text without the period picker, whose list gains the period HR adds.
MAIN_WITHOUT_PICKER = """() => {
  const main = document.querySelector("main").cloneNode(true);
  main.querySelectorAll(".period-picker").forEach((picker) => picker.remove());
  return main.innerText;
}"""


def what_they_see(page, username: str) -> dict[str, str]:
    """The parts of Home, My goals and Team goals that depend on the period a person sees."""
    sign_in(page, username)
    seen = {
        "home goals": page.locator("section[aria-labelledby='goals-title']").inner_text(),
        "home approvals": page.locator("section[aria-labelledby='team-goals']").all_inner_texts(),
    }
    page.goto(reverse("cascade:my_goals"))
    seen["my goals period"] = page.locator("#period-picker option:checked").inner_text()
    seen["my goals"] = page.evaluate(MAIN_WITHOUT_PICKER)
    page.goto(reverse("cascade:team_goals"))
    seen["team goals"] = page.evaluate(MAIN_WITHOUT_PICKER)
    return seen


def hr_adds_a_period_and_launches_a_cycle_for(page, department: str) -> ReviewCycle:
    sign_in(page, "hradmin")
    page.get_by_role("link", name="Goal periods").click()
    page.get_by_role("heading", name="Goal periods", level=1).wait_for()
    page.get_by_label("Name").fill(PERIOD)
    page.get_by_label("Starts").fill(day(-20))
    page.get_by_label("Ends").fill(day(200))
    page.get_by_role("button", name="Add the period").click()
    page.locator(".messages").get_by_text(f"The goal period “{PERIOD}” was added.").wait_for()

    page.goto(reverse("appraisals:cycle_create"))
    page.get_by_label("Name").fill(CYCLE)
    dates = {"start": -10, "end": 180, "plan_start": -10, "plan_end": 10, "do_start": 11, "do_end": 60}
    dates.update({"study_start": 61, "study_end": 120, "act_start": 121, "act_end": 180})
    for name, offset in dates.items():
        page.locator(f"#id_{name}").fill(day(offset))
    page.get_by_label("Goal period reviewed").select_option(
        label=page.locator("#id_period option", has_text=PERIOD).inner_text()
    )
    page.get_by_label("Only the departments chosen below").check()
    page.get_by_role("group", name="Departments").get_by_label(department, exact=True).check()
    page.get_by_role("button", name="Create cycle").click()
    page.get_by_role("heading", name="Launch preview").wait_for()
    assert PERIOD in page.locator(".facts").first.inner_text()  # "Goals reviewed"
    page.get_by_role("button", name="Launch the cycle").click()
    page.get_by_role("heading", name="Launched").wait_for()
    cycle = ReviewCycle.objects.get(name=CYCLE)
    assert cycle.state == CycleState.ACTIVE and cycle.period.name == PERIOD
    return cycle


def test_a_cycle_for_one_department_changes_nothing_for_anyone_outside_it(page, demo):
    employee = Employee.objects.get(user__username="employee")
    assert employee.department.name != "Pharmacy"
    before = {username: what_they_see(page, username) for username in ("employee", "manager")}
    assert before["employee"]["my goals period"] != PERIOD
    assert "My goals" in before["employee"]["my goals"]

    cycle = hr_adds_a_period_and_launches_a_cycle_for(page, "Pharmacy")

    for username in ("employee", "manager"):
        assert what_they_see(page, username) == before[username], f"{username} sees something else"
    # Someone taking part sees the period the cycle reviews, by default, on My goals.
    pharmacist = Participant.objects.filter(cycle=cycle).select_related("employee__user").first().employee
    pharmacist.user.set_password(DEMO_PASSWORD)  # the demo gives a password to its four named logins only
    pharmacist.user.save(update_fields=["password"])
    sign_in(page, pharmacist.user.username)
    page.goto(reverse("cascade:my_goals"))
    assert page.locator("#period-picker option:checked").inner_text() == PERIOD

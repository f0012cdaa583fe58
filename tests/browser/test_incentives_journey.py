"""An incentive plan in a real browser: HR sets up a plan whose QI-linked share is too low and
sees the reward-misalignment warning, gives a target bonus, computes the payouts (the progress
bar fills), adjusts one payout with a reason (refused without one), approves and publishes;
the employee then sees their published payout with its breakdown and thanks a colleague."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appraisals.demo import cycle_names
from incentives.forms.plans import department_choices
from incentives.models.plans import IncentivePlan, Payout, PayoutAdjustment, PlanState
from incentives.models.recognition import Recognition
from people.models import Employee
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAN = "Browser journey bonus"
REASON = "Led the falls-prevention huddles on two wards."


def said(page, text: str) -> None:
    """Wait for the confirmation a step leaves at the top of the next page."""
    page.locator(".messages").get_by_text(text).wait_for()


def department_label(employee: Employee) -> str:
    """The employee's department as the plan form names it ("Hospital › Nursing")."""
    return dict(department_choices())[employee.department_id]


def settled(page) -> None:
    """Let the live total's preview finish (it fires 500 ms after the last keystroke) before the
    form is saved: under load a save clicked while it was in flight raced it."""
    page.wait_for_timeout(700)
    page.wait_for_load_state("networkidle")


def hr_sets_up_a_misaligned_plan(page, employee: Employee) -> IncentivePlan:
    sign_in(page, "hradmin")
    page.goto(reverse("incentives:plan_list"))
    page.get_by_role("link", name="New plan").click()
    page.get_by_label("Review cycle").select_option(label=cycle_names(timezone.localdate().year)[1])
    page.get_by_label("Name").fill(PLAN)
    page.get_by_role("group", name="Eligible departments").get_by_label(department_label(employee), exact=True).check()
    page.get_by_role("button", name="Create plan").click()
    said(page, "Next: its components and their weights.")

    # The components page offers one row of each kind. Weights that miss 100 are refused, exactly.
    page.get_by_label("Component 1 name").fill("QI-linked goals")
    page.get_by_label("Component 1 weight %").fill("30")
    page.get_by_label("Component 1 threshold %").fill("40")
    page.get_by_label("Component 1 cap %").fill("150")
    page.get_by_label("Component 2 weight %").fill("50")
    page.get_by_label("Component 3 name").fill("Patient flow: discharges before noon")
    page.get_by_label("Component 3 weight %").fill("10")
    page.get_by_label("Component 3 achievement %").fill("85")
    # The running total follows the typing (htmx), before anything is saved.
    page.locator("[data-weights-total]").filter(has_text="90").wait_for()
    settled(page)
    page.get_by_role("button", name="Save components").click()
    page.get_by_role("alert").get_by_text(
        "The component weights total 90 (QI-linked goals 30 + Appraisal score 50"
    ).wait_for()
    page.get_by_label("Component 3 weight %").fill("20")
    settled(page)
    page.get_by_role("button", name="Save components").click()
    said(page, "QI-linked goals carry 30 %")
    # The plan's page warns of reward misalignment: 30 % is below the floor of 40 %.
    warning = page.get_by_role("region", name="Reward misalignment")
    warning.get_by_text("below the floor of 40 %").wait_for()

    # A target bonus for the employee, entered on the targets page.
    page.get_by_role("link", name="Target bonuses").first.click()
    page.get_by_label("Only those without a target bonus").check()
    page.get_by_role("button", name="Show").click()
    page.get_by_label(f"Target bonus of {employee.full_name}").fill("2000")
    page.get_by_role("button", name=re.compile("^Save target bonuses")).click()
    said(page, "1 target bonus was saved.")
    return IncentivePlan.objects.get(name=PLAN)


def hr_computes_adjusts_approves_and_publishes(page, plan: IncentivePlan, employee: Employee) -> Payout:
    page.goto(reverse("incentives:plan_detail", args=[plan.pk]))
    page.get_by_role("button", name="Compute payouts").click()
    page.get_by_role("heading", name="Payouts computed").wait_for()
    assert page.locator("#compute-progress").get_attribute("value") == "100"
    count = Payout.objects.filter(plan=plan).count()
    assert count > 1
    assert f"{count} of {count} people" in page.locator("[data-compute-count]").inner_text()
    page.get_by_role("link", name="Review the payouts").click()

    # Adjust the employee's payout: a reason is required, then the history keeps it.
    page.get_by_label("Name or employee ID").fill(employee.employee_id)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=f"Adjust {employee.full_name}'s payout").click()
    page.get_by_label("New amount (£)").fill("1750.00")
    page.get_by_role("button", name="Save adjustment").click()
    page.get_by_text("Say why the payout is adjusted").wait_for()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Save adjustment").click()
    said(page, "payout was adjusted")
    page.get_by_role("region", name="Adjustments").get_by_text(REASON).wait_for()
    payout = Payout.objects.get(plan=plan, employee=employee)
    assert payout.amount == Decimal("1750.00") and payout.adjusted
    assert PayoutAdjustment.objects.get(payout=payout).reason == REASON

    # Approve (asked first), which locks the plan; then publish.
    page.goto(reverse("incentives:plan_detail", args=[plan.pk]))
    page.get_by_role("button", name="Approve…").click()
    page.get_by_role("button", name="Approve and lock the plan").click()
    said(page, "is approved and locked")
    page.get_by_text("Locked.", exact=True).wait_for()
    assert page.get_by_role("link", name="Edit components").count() == 0
    page.get_by_role("button", name="Publish…").click()
    page.get_by_role("button", name="Publish the payouts").click()
    said(page, "is published")
    plan.refresh_from_db()
    assert plan.state == PlanState.PUBLISHED
    return payout


def test_hr_runs_an_incentive_plan_and_the_employee_sees_their_payout(page, demo, assert_accessible):
    employee = Employee.objects.select_related("department", "manager").get(user__username="employee")
    plan = hr_sets_up_a_misaligned_plan(page, employee)
    assert plan.qi_weight() == 30 and plan.misalignment_warning()
    payout = hr_computes_adjusts_approves_and_publishes(page, plan, employee)

    # The employee finds the published payout under "My payouts", with how it was reached.
    sign_in(page, "employee")
    page.goto(reverse("incentives:my_payouts"))
    card = page.locator(".payout-card").filter(has_text=PLAN)
    card.get_by_text("£1,750.00").wait_for()
    card.get_by_role("link", name=PLAN, exact=True).click()
    page.get_by_role("heading", name="Your payout", exact=True).wait_for()
    assert page.url.endswith(reverse("incentives:payout_detail", args=[payout.pk]))
    breakdown = page.get_by_role("table", name="Each component's part of the payout.")
    breakdown.get_by_role("rowheader", name="Patient flow: discharges before noon").wait_for()
    page.get_by_role("region", name="Adjustments").get_by_text(REASON).wait_for()
    assert_accessible(page)

    # And thanks a colleague: their manager, offered on the thanks page.
    page.goto(reverse("incentives:thank"))
    page.get_by_label(employee.manager.full_name, exact=True).check()
    page.get_by_label("Message").fill("Thank you for rebuilding the handover checklist with us.")
    assert_accessible(page)
    page.get_by_role("button", name="Post your thanks").click()
    said(page, f"Your thanks to {employee.manager.full_name} is in the feed.")
    post = Recognition.objects.get(message="Thank you for rebuilding the handover checklist with us.")
    assert post.author == employee and list(post.recipients.all()) == [employee.manager]
    assert page.csp_violations == []

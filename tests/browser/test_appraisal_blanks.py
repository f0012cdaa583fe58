"""A self-assessment with a rating left blank is not submitted, in a real browser: the confirm
page lists what is blank and links back to it; once everything is rated, it asks and submits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appraisals.models import Appraisal, AppraisalState
from tests.appraisals.factories import appraisal_scenario
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "throughline-test"  # tests/factories.py


def test_the_confirm_page_lists_the_blank_rating_then_submits(page, cast, assert_accessible):
    s = appraisal_scenario(employee=cast.employee)
    sign_in(page, "employee", PASSWORD)
    page.goto(reverse("appraisals:appraisal_detail", args=[s.appraisal.pk]))
    # Rate everything but the second goal; leave every comment empty.
    groups = page.locator(".side--self fieldset.levels")
    for index in range(groups.count()):
        if index != 1:
            groups.nth(index).get_by_role("radio").nth(3).check()
    page.get_by_role("button", name="Submit my self-assessment").click()
    page.get_by_role("heading", name="Your self-assessment is not complete yet").wait_for()
    assert page.get_by_role("link", name="Goal 2").count() == 1
    assert "1 rating is still blank" in page.content()
    assert page.get_by_role("button", name="Submit my self-assessment").count() == 0
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page)
    page.get_by_role("link", name="Goal 2").click()
    assert Appraisal.objects.get(pk=s.appraisal.pk).state == AppraisalState.SELF_ASSESSMENT

    page.locator(".side--self fieldset.levels").nth(1).get_by_role("radio").nth(2).check()
    page.get_by_role("button", name="Submit my self-assessment").click()
    page.get_by_role("heading", name="Submit your self-assessment to Ward Manager?").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Submit my self-assessment").click()
    page.locator(".messages").get_by_text("Your self-assessment is with Ward Manager now.").wait_for()
    assert Appraisal.objects.get(pk=s.appraisal.pk).state == AppraisalState.MANAGER_REVIEW
    assert page.csp_violations == []

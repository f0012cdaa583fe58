"""The form builder in a real browser: HR builds a form with two competencies, sees the weight
error, fixes it, publishes, edits it (a new draft appears), reorders by keyboard and previews it."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError

from competencies.models import AppraisalForm, VersionStatus
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM = "Ward quality appraisal"


def eventually(check, timeout: float = 5.0) -> None:
    """Poll from Python: wait_for_function would need eval, which the page's CSP forbids.

    On SQLite a read made while the live server's request is still writing (the change and its
    action-log entry, in one transaction) finds the table locked: that is "not yet", not a failure."""
    deadline = time.monotonic() + timeout
    while not _settled(check):
        if time.monotonic() > deadline:
            raise AssertionError("the page never got there")
        time.sleep(0.05)


def _settled(check) -> bool:
    try:
        return bool(check())
    except OperationalError:
        return False


def order_of(number: int) -> list[str]:
    version = AppraisalForm.objects.get(name=FORM).versions.get(number=number)
    return list(version.competencies.order_by("order").values_list("competency__name", flat=True))


def test_hr_builds_publishes_edits_reorders_and_previews_a_form(page, demo, assert_accessible):
    sign_in(page, "hradmin")
    page.goto("/competencies/forms/")
    page.get_by_role("link", name="New form").click()
    page.get_by_label("Name").fill(FORM)
    page.get_by_label("Methodology").select_option(label="PDSA")
    page.get_by_label("Goals rating scale").select_option(label="Plain 1–5")
    page.get_by_role("button", name="Create and open the builder").click()
    assert "Draft · version 1" in page.get_by_role("heading", level=1).inner_text()

    # Two competencies; the second is offered the weight that is left, but HR gives it 30.
    add = page.get_by_role("group", name="Add a competency")
    add.get_by_label("Competency").select_option(label="Process thinking · Quality improvement")
    add.get_by_label("Weight").fill("60")
    add.get_by_role("button", name="Add competency").click()
    add.get_by_label("Competency").select_option(label="Data-informed decision making · Quality improvement")
    assert add.get_by_label("Weight").input_value() == "40"
    add.get_by_label("Weight").fill("30")
    add.get_by_role("button", name="Add competency").click()

    # 60 + 30 = 90: the total says so, and publishing is refused with the numbers that are off.
    totals = page.locator("[data-total=competencies]")
    assert "90 of 100" in totals.inner_text() and "10 short" in totals.inner_text()
    page.get_by_role("button", name="Publish version 1").click()
    alert = page.locator(".fb-errors")
    alert.wait_for()
    assert "The draft was not published" in alert.inner_text()
    assert (
        "The competency weights total 90 (Process thinking 60, Data-informed decision making 30); "
        "they must total 100." in alert.inner_text()
    )
    # Typing updates the total at once; the server still checks it on save.
    page.get_by_label("Weight of Data-informed decision making").fill("35")
    assert "95 of 100" in totals.inner_text() and "5 short" in totals.inner_text()
    page.get_by_role("button", name="Save draft").click()
    page.locator(".fb-errors", has_text="The competency weights total 95").wait_for()
    assert page.get_by_label("Weight of Data-informed decision making").input_value() == "35"

    # Fixed, saved, published.
    page.get_by_label("Weight of Data-informed decision making").fill("40")
    assert "adds up" in totals.inner_text()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Your changes were saved.").wait_for()
    page.get_by_role("button", name="Publish version 1").click()
    page.get_by_text(f"Version 1 of “{FORM}” is published.").wait_for()
    assert AppraisalForm.objects.get(name=FORM).versions.get().status == VersionStatus.PUBLISHED

    # Editing the published form makes a new draft.
    page.get_by_role("button", name="Edit (creates a new draft)").click()
    assert "Draft · version 2" in page.get_by_role("heading", level=1).inner_text()
    assert order_of(2) == ["Process thinking", "Data-informed decision making"]

    # Reorder by keyboard: focus "Move down" and press Enter.
    move_down = page.get_by_role("button", name="Move down Process thinking")
    move_down.focus()
    page.keyboard.press("Enter")
    eventually(lambda: order_of(2) == ["Data-informed decision making", "Process thinking"])
    announce = page.locator("#fb-announce")
    eventually(lambda: "is now 2 of 2" in announce.inner_text())
    rows = page.locator("#competencies [data-sortable-item] .fb-row__name strong")
    assert rows.all_inner_texts() == ["Data-informed decision making", "Process thinking"]
    # At the bottom, "Move down" is switched off and the keyboard stays on the row's "Move up".
    assert page.evaluate("document.activeElement.textContent").startswith("Move up")

    # And by mouse: drag "Process thinking" by its handle back above the other row.
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.locator("#competencies").scroll_into_view_if_needed()
    handle = page.locator("#competencies [data-drag-handle]").nth(1).bounding_box()
    target = page.locator("#competencies [data-sortable-item]").nth(0).bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2 - 10, steps=5)
    page.mouse.move(target["x"] + 40, target["y"] + target["height"] / 4, steps=20)
    page.mouse.up()
    eventually(lambda: order_of(2) == ["Process thinking", "Data-informed decision making"])
    eventually(lambda: "Process thinking moved to position 1 of 2." in announce.inner_text())
    assert_accessible(page)  # the builder, after a reorder

    # The preview, as the manager and then as the employee.
    page.get_by_role("link", name="Preview as manager").click()
    assert "Preview — nothing you enter here is saved." in page.locator(".fb-preview-banner").inner_text()
    assert page.locator(".fb-preview textarea").first.is_disabled()
    assert "Their self-assessment" in page.content()
    assert page.get_by_text("What it looks like").count() >= 2  # indicators beside the levels
    assert_accessible(page)
    page.get_by_role("link", name="Employee (self-assessment)").click()
    assert "Their self-assessment" not in page.content()
    assert page.get_by_role("heading", name="Data-informed decision making").is_visible()

    assert page.csp_violations == []

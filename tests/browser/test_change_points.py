"""A measure's change points in a real browser: the demo's claims cycle time is drawn in two
phases, and the quality lead marks and removes a change point with the keyboard alone."""

from __future__ import annotations

import pytest

from cascade.models import ChangePoint, QualityMeasure
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_measure_draws_two_phases_a_marker_and_the_moving_range_chart(page, demo, assert_accessible):
    measure = QualityMeasure.objects.get(name="Claims processing cycle time")
    change_point = ChangePoint.objects.get(measure=measure)
    sign_in(page, "employee")  # anyone signed in reads the charts
    page.goto(f"/cascade/measures/{measure.pk}/")
    xmr = page.locator("[data-chart='xmr']")
    xmr.locator("svg .tl-chart__point").first.wait_for()
    for phase in ("0", "1"):
        assert xmr.locator(f".tl-chart__ref--centre[data-phase='{phase}']").count() == 1
        assert xmr.locator(f".tl-chart__ref--limit[data-phase='{phase}']").count() == 2
    marker = xmr.locator(".tl-chart__changepoint")
    assert marker.count() == 1 and change_point.reason in marker.get_attribute("aria-label")
    assert "IHI run chart rules" in page.locator("[data-chart='run'] .tl-chart__meta").inner_text()
    # The moving-range chart under the X chart, with its own table.
    mr = page.locator("[data-chart='mr']")
    mr.locator("svg .tl-chart__point").first.wait_for()
    assert mr.locator(".tl-chart__ref--limit").count() == 2  # one upper limit per phase
    mr.locator("details.tl-chart__data summary").click()
    assert mr.locator("tbody tr").count() == measure.observations.count()
    assert mr.get_by_text("First point of a phase: no moving range").count() == 2
    # Only the owner or a quality lead is offered the form.
    assert page.get_by_role("button", name="Mark change point").count() == 0
    assert_accessible(page)
    assert page.csp_violations == []


def test_the_quality_lead_marks_and_removes_a_change_point_by_keyboard(page, demo, assert_accessible):
    measure = QualityMeasure.objects.get(name="Time in the emergency department")
    dates = list(measure.observations.order_by("date").values_list("date", flat=True))
    when = dates[len(dates) // 2]
    sign_in(page, "quality")
    page.goto(f"/cascade/measures/{measure.pk}/")
    page.locator("[data-chart='xmr'] svg").wait_for()
    assert page.locator("[data-chart='xmr'] .tl-chart__changepoint").count() == 0
    assert_accessible(page)

    form = page.locator("form[action$='/change-points/#change-points']")
    # A refused mark lands on the form again, its error in view (not 2,800 px below the page's top).
    form.get_by_label("Date").fill(when.isoformat())
    form.get_by_role("button", name="Mark change point").press("Enter")
    page.wait_for_url(f"**/cascade/measures/{measure.pk}/change-points/#change-points")
    error = page.locator("#change-points [role='alert'], #change-points .field__error").first
    error.wait_for()
    assert (
        error.is_visible()
        and page.evaluate("document.querySelector('#change-points').getBoundingClientRect().top") < 1000
    )
    form = page.locator("form[action$='/change-points/#change-points']")
    form.get_by_label("Date").fill(when.isoformat())
    form.get_by_label("Reason").focus()
    page.keyboard.type("Senior review at triage adopted after two PDSA cycles.")
    page.keyboard.press("Tab")  # to the button
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cascade/measures/{measure.pk}/#change-points")
    page.locator("[data-chart='xmr'] .tl-chart__changepoint").wait_for(state="attached")  # a vertical line: no width
    assert ChangePoint.objects.filter(measure=measure, date=when).exists()
    assert page.locator("[data-chart='xmr'] .tl-chart__ref--centre").count() == 2

    remove = page.get_by_role("button", name=f"Remove the change point of {when:%-d %b %Y}")
    remove.focus()
    page.once("dialog", lambda dialog: dialog.accept())  # "Remove the change point of …?"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.locator("[data-chart='xmr'] svg").wait_for()
    assert not ChangePoint.objects.filter(measure=measure).exists()
    assert page.locator("[data-chart='xmr'] .tl-chart__changepoint").count() == 0
    assert page.csp_violations == []

"""Each demo user signs in through a real browser and lands on their own home page."""

from __future__ import annotations

import pytest

from people.demo import seed_hospital
from tests.browser.journey import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("username", "sees", "does_not_see"),
    [
        ("hradmin", ["HR administration", "Import or update the org chart"], ["Quality priorities"]),
        ("quality", ["Quality priorities", "Alignment audits"], ["HR administration"]),
        ("manager", ["Your team", "Team goals to approve", "My goals"], ["HR administration", "Import org chart"]),
        ("employee", ["My goals", "Where you sit"], ["Your team", "HR administration", "Import org chart"]),
    ],
)
def test_each_demo_user_sees_their_home_page(page, username, sees, does_not_see, assert_accessible):
    seed_hospital()
    page.goto("/")
    assert_accessible(page)  # the sign-in page
    sign_in(page, username, start="/")
    assert_accessible(page)
    main = page.get_by_role("main")
    assert main.get_by_role("heading", level=1).inner_text().startswith("Hello, ")
    for text in sees:
        assert main.get_by_text(text, exact=False).first.is_visible(), text
    body = page.content()
    for text in does_not_see:
        assert text not in body, text
    assert page.csp_violations == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")


def test_the_menu_works_by_keyboard_on_a_phone(page):
    seed_hospital()
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, "employee", start="/")
    toggle = page.get_by_role("button", name="Menu")
    assert not page.get_by_role("link", name="Departments").is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Departments").is_visible()
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"


def test_the_skip_link_is_the_first_stop_for_the_keyboard(page):
    seed_hospital()
    sign_in(page, "manager", start="/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"


def test_hr_imports_an_org_chart_and_watches_it_finish(page, tmp_path):
    seed_hospital()
    sign_in(page, "hradmin", start="/")
    page.get_by_role("link", name="Import org chart").click()
    csv = tmp_path / "org.csv"
    csv.write_text(
        "employee_id,name,email,department,manager_id,job_title,hire_date\n"
        "B1,Bea Browser,bea@example.org,Radiology,,Radiographer,2021-04-01\n"
    )
    page.get_by_label("Org-chart file").set_input_files(str(csv))
    page.get_by_role("button", name="Check and import").click()
    page.get_by_role("heading", name="Imported").wait_for()
    assert page.locator("progress").get_attribute("value") == "100"
    assert page.csp_violations == []

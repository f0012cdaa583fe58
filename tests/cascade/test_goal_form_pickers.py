"""The pickers on the new-goal form: who the goal is for, and which department."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.factories import EmployeeFactory

NEW_INDIVIDUAL = reverse("cascade:goal_create") + "?level=individual"
NEW_FUNCTIONAL = reverse("cascade:goal_create") + "?level=functional"


def owner_options(html: str) -> list[tuple[str, bool]]:
    select = re.search(r'<select name="owner"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the form has an owner picker"
    return [
        (label.strip(), "selected" in attrs)
        for attrs, label in re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(1))
    ]


def test_an_employee_without_reports_finds_themselves_already_chosen(client_for, cast, period):
    html = client_for(cast.employee).get(NEW_INDIVIDUAL).content.decode()
    options = owner_options(html)
    assert len(options) == 1
    label, selected = options[0]
    assert selected
    assert label.startswith("Staff Nurse")
    # With one name there is nothing to search.
    assert 'id="owner-find"' not in html


def test_a_manager_picks_among_the_team_by_name_job_title_and_department(client_for, cast, period):
    cast.employee.job_title = "Staff nurse, nights"
    cast.employee.save(update_fields=["job_title"])
    html = client_for(cast.manager).get(NEW_INDIVIDUAL).content.decode()
    options = owner_options(html)
    labels = [label for label, _ in options]
    assert labels[0] == "---------"  # several people: a real choice, the manager's own name first offered
    assert [label for label, selected in options if selected] == [
        next(label for label in labels if label.startswith("Ward Manager"))
    ]
    assert any(label.startswith("Staff Nurse — Staff nurse, nights, Nursing") for label in labels)
    assert 'id="owner-find"' in html
    assert 'data-select="id_owner"' in html


def test_two_people_with_one_name_are_told_apart(client_for, cast, period):
    EmployeeFactory(full_name="Staff Nurse", job_title="Theatre nurse", department=cast.stranger.department)
    labels = [label for label, _ in owner_options(client_for(cast.hr).get(NEW_INDIVIDUAL).content.decode())]
    namesakes = [label for label in labels if label.startswith("Staff Nurse")]
    assert len(namesakes) == 2
    assert len(set(namesakes)) == 2
    assert any("Pharmacy" in label for label in namesakes)


def test_the_only_department_a_head_may_draft_for_is_preselected_even_when_it_is_not_their_own(
    client_for, cast, period
):
    radiology = cast.stranger.department
    radiology.head = cast.employee  # heads Pharmacy, works in Nursing, manages nobody
    radiology.save(update_fields=["head"])
    html = client_for(cast.employee).get(NEW_FUNCTIONAL).content.decode()
    select = re.search(r'<select name="department"[^>]*>(.*?)</select>', html, re.S)
    assert select
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1)) == ["Pharmacy"]
    assert re.findall(r"<option[^>]*selected[^>]*>([^<]*)</option>", select.group(1)) == ["Pharmacy"]

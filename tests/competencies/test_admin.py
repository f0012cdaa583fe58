"""The admin: HR only, and a published version's page refuses any change with a message."""

from __future__ import annotations

import pytest
from django.test import Client

from competencies import selectors
from competencies.models import FormVersion, VersionStatus
from people.models import Employee
from tests.competencies.helpers import FROZEN, admin_form_data, admin_state, change_url


@pytest.fixture
def hr_client(cast, client_for) -> Client:  # type: ignore[no-untyped-def]
    return client_for(cast.hr)


def post_change(client: Client, version: FormVersion, **changes: object):  # type: ignore[no-untyped-def]
    page = client.get(change_url(version))
    assert page.status_code == 200
    data = admin_form_data(page)
    data.update(changes)
    return client.post(change_url(version), data)


@pytest.mark.parametrize(
    "changes",
    [
        {"goals_weight": 50, "competencies_weight": 50},
        {"competencies-0-weight": 99},
        {"questions-0-text": "Reworded?"},
        {"questions-0-DELETE": "on"},
    ],
    ids=["section-weights", "competency-row", "question-text", "question-deleted"],
)
def test_it_refuses_to_change_a_published_version_with_a_message(hr_client, published, changes):
    before = admin_state(published)
    response = post_change(hr_client, published, **changes)
    assert response.status_code == 200  # the page again, with the reason; not a redirect, not a 500
    assert FROZEN in response.content.decode()
    assert admin_state(published) == before


def test_saving_a_published_version_unchanged_changes_nothing(hr_client, published):
    before = admin_state(published)
    response = post_change(hr_client, published)
    assert response.status_code == 302
    assert admin_state(published) == before


def test_hr_edits_a_draft_in_the_admin_and_weights_must_add_up(hr_client, built):
    response = post_change(hr_client, built.draft, goals_weight=40, competencies_weight=50)
    assert response.status_code == 200
    assert "The section weights total 90 (goals 40, competencies 50); they must total 100." in response.content.decode()
    response = post_change(
        hr_client, built.draft, goals_weight=50, competencies_weight=50, **{"competencies-0-weight": 55}
    )
    assert response.status_code == 302
    draft = FormVersion.objects.get(pk=built.draft.pk)
    assert (draft.goals_weight, draft.competencies.first().weight) == (50, 55)
    assert draft.version > built.draft.version


def test_the_publish_action_publishes_or_says_why_not(hr_client, hr, built):
    response = hr_client.post(
        "/admin/competencies/formversion/", {"action": "publish", "_selected_action": [built.draft.pk]}, follow=True
    )
    assert "Published version 1 of “Nursing appraisal”." in response.content.decode()
    assert FormVersion.objects.get(pk=built.draft.pk).status == VersionStatus.PUBLISHED


def test_an_incomplete_draft_is_not_published_by_the_action(hr_client, hr, scale):
    from competencies import services

    form = services.form_create(user=hr, name="Empty", goals_scale=scale)
    draft = selectors.draft_of(form)
    response = hr_client.post(
        "/admin/competencies/formversion/", {"action": "publish", "_selected_action": [draft.pk]}, follow=True
    )
    assert "Add at least one competency." in response.content.decode()
    assert FormVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT


def test_a_locked_scales_levels_are_refused_in_the_admin(hr_client, published, scale):
    url = f"/admin/competencies/ratingscale/{scale.pk}/change/"
    data = admin_form_data(hr_client.get(url))
    data["levels-0-label"] = "Dreadful"
    response = hr_client.post(url, data)
    assert response.status_code == 200
    assert "its levels cannot change" in response.content.decode()
    assert scale.levels.first().label == "Unsatisfactory"


def test_scale_levels_are_validated_as_a_whole_in_the_admin(hr_client, scale):
    url = f"/admin/competencies/ratingscale/{scale.pk}/change/"
    data = admin_form_data(hr_client.get(url))
    data["levels-1-value"] = "0.5"
    response = hr_client.post(url, data)
    assert response.status_code == 200
    assert "Values must strictly increase" in response.content.decode()


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_only_hr_may_use_the_competencies_admin(cast, client_for, published, role):
    employee: Employee = getattr(cast, role)
    employee.user.is_staff = True  # even a staff account, if it is not HR
    employee.user.save()
    client = client_for(employee)
    assert client.get(change_url(published)).status_code == 403
    assert client.get("/admin/competencies/competency/").status_code == 403


def test_a_form_added_in_the_admin_gets_its_first_draft(hr_client):
    page = hr_client.get("/admin/competencies/appraisalform/add/")
    data = admin_form_data(page)
    data.update({"name": "Estates appraisal", "methodology": "lean", "description": ""})
    response = hr_client.post("/admin/competencies/appraisalform/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = FormVersion.objects.get(form__name="Estates appraisal")
    assert (draft.number, draft.status, draft.questions.count()) == (1, VersionStatus.DRAFT, 4)

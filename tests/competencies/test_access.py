"""One policy, page and API alike (competencies/access.py): HR set-up answers 403 to anyone
else whichever record it names; a draft, or a form never published, answers 404 to them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from competencies import access, selectors, services

pytestmark = pytest.mark.django_db

API = "/api/v1"
OTHERS = ("chief", "manager", "employee", "stranger")


@pytest.fixture
def forms(hr, built, published, scale):  # type: ignore[no-untyped-def]
    """A published form with a draft of version 2, and a form that only has a draft."""
    services.form_start_new_draft(user=hr, form=built.form)
    unpublished = services.form_create(user=hr, name="Work in progress", goals_scale=scale)
    return {"published": built.form, "unpublished": unpublished}


def pairs(forms) -> list[tuple[str, str, str, str, dict]]:  # type: ignore[no-untyped-def]
    """(what, page URL, API method, API URL, API body): the same action on a page and in the API."""
    shown, hidden = forms["published"].pk, forms["unpublished"].pk
    return [
        ("new competency", reverse("competencies:competency_create"), "post", "/competencies/", {"name": "X"}),
        ("new scale", reverse("competencies:scale_create"), "post", "/rating-scales/", {"name": "X"}),
        ("new form", reverse("competencies:form_create"), "post", "/forms/", {"name": "X"}),
        ("edit a published form", reverse("competencies:form_new_draft", args=[shown]), "post",
         f"/forms/{shown}/new-draft/", {}),
        ("edit a form never published", reverse("competencies:form_new_draft", args=[hidden]), "post",
         f"/forms/{hidden}/new-draft/", {}),
        ("publish a draft", reverse("competencies:version_publish", args=[shown, 2]), "post",
         f"/forms/{shown}/versions/2/publish/", {"version": 1}),
        ("publish a version that does not exist", reverse("competencies:version_publish", args=[shown, 9]), "post",
         f"/forms/{shown}/versions/9/publish/", {"version": 1}),
        ("change a draft", reverse("competencies:version_builder", args=[hidden, 1]), "patch",
         f"/forms/{hidden}/versions/1/", {"version": 1}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", OTHERS)
def test_hr_set_up_answers_403_on_the_page_and_in_the_api_alike(cast, client_for, api_client_for, forms, role):
    person = getattr(cast, role)
    page, api = client_for(person), api_client_for(person)
    for what, page_url, method, api_url, body in pairs(forms):
        assert page.post(page_url, body).status_code == 403, what
        assert getattr(api, method)(API + api_url, body, format="json").status_code == 403, what
    assert page.get(reverse("competencies:rule_list")).status_code == 403


@pytest.mark.parametrize("role", OTHERS)
def test_drafts_and_forms_never_published_answer_404_on_the_page_and_in_the_api(
    cast, client_for, api_client_for, forms, role
):
    person = getattr(cast, role)
    page, api = client_for(person), api_client_for(person)
    shown, hidden = forms["published"].pk, forms["unpublished"].pk
    for page_url, api_url in [
        (reverse("competencies:form_detail", args=[hidden]), f"/forms/{hidden}/"),
        (reverse("competencies:version_builder", args=[shown, 2]), f"/forms/{shown}/versions/2/"),
        (reverse("competencies:version_preview", args=[shown, 2]), f"/forms/{shown}/versions/2/preview/"),
        (reverse("competencies:version_builder", args=[shown, 9]), f"/forms/{shown}/versions/9/"),
    ]:
        assert page.get(page_url).status_code == 404, page_url
        assert api.get(API + api_url).status_code == 404, api_url


def test_hr_reads_the_drafts_that_others_may_not(cast, client_for, api_client_for, forms):
    shown = forms["published"].pk
    assert client_for(cast.hr).get(reverse("competencies:version_builder", args=[shown, 2])).status_code == 200
    assert api_client_for(cast.hr).get(f"{API}/forms/{shown}/versions/2/").status_code == 200


def test_the_visible_querysets_follow_the_policy(cast, hr, forms):
    employee = cast.employee.user
    assert list(access.forms_visible_to(employee)) == [forms["published"]]
    assert sorted(access.form_versions_visible_to(employee).values_list("number", flat=True)) == [1]
    assert access.form_versions_visible_to(hr).count() == 3
    assert access.competencies_visible_to(employee).count() == access.competencies_visible_to(hr).count() == 2
    assert not any(
        check(employee)
        for check in (
            access.can_manage_library,
            access.can_manage_scales,
            access.can_build_forms,
            access.can_manage_assignment_rules,
        )
    )
    assert selectors.draft_of(forms["unpublished"]) is not None

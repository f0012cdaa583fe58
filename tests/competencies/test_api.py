"""The competencies API: who may read and write what, drafts hidden from all but HR,
stale writes (409), bad input (400 with field messages), versions and the preview."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from competencies import selectors, services
from competencies.models import AppraisalForm, Competency, FormVersion, VersionStatus
from people.models import Employee
from tests.competencies.helpers import PLAIN_LEVELS

API = "/api/v1"
ROLES = ("chief", "manager", "employee", "stranger", "hr")


@dataclass
class Catalogue:
    form: AppraisalForm  # published as v1, with a draft v2
    published: FormVersion
    draft: FormVersion
    unpublished: AppraisalForm  # only a draft
    competency: Competency


@pytest.fixture
def catalogue(hr, built, published, scale, process_thinking) -> Catalogue:  # type: ignore[no-untyped-def]
    draft = services.form_start_new_draft(user=hr, form=built.form)
    unpublished = services.form_create(user=hr, name="Work in progress", goals_scale=scale)
    return Catalogue(built.form, published, draft, unpublished, process_thinking)


def url(template: str, c: Catalogue) -> str:
    return API + template.format(form=c.form.pk, unpublished=c.unpublished.pk, competency=c.competency.pk)


NEW_COMPETENCY = {"name": "Coaching", "indicators": ["Listens.", "Asks good questions."]}
NEW_SCALE = {"name": "Three point", "levels": PLAIN_LEVELS[:3]}
WEIGHTS = {"version": 99, "goals_weight": 50, "competencies_weight": 50}  # the version is set per test

PERMISSION_TABLE = [
    # The library and the scales: everyone signed in reads; only HR writes.
    *[(role, "get", "/competencies/", None, 200) for role in ROLES],
    *[(role, "get", "/competencies/{competency}/", None, 200) for role in ROLES],
    *[(role, "post", "/competencies/", NEW_COMPETENCY, 403) for role in ROLES if role != "hr"],
    ("hr", "post", "/competencies/", NEW_COMPETENCY, 201),
    *[(role, "patch", "/competencies/{competency}/", {"version": 1, "category": "Lean"}, 403) for role in ROLES[:4]],
    ("hr", "patch", "/competencies/{competency}/", {"version": 1, "category": "Lean"}, 200),
    *[(role, "get", "/rating-scales/", None, 200) for role in ROLES],
    ("employee", "post", "/rating-scales/", NEW_SCALE, 403),
    ("hr", "post", "/rating-scales/", NEW_SCALE, 201),
    # Published forms and versions: everyone signed in reads them.
    *[(role, "get", "/forms/", None, 200) for role in ROLES],
    *[(role, "get", "/forms/{form}/", None, 200) for role in ROLES],
    *[(role, "get", "/forms/{form}/versions/1/", None, 200) for role in ROLES],
    *[(role, "get", "/forms/{form}/versions/1/preview/", None, 200) for role in ROLES],
    # Drafts, and forms never published, do not exist for anyone but HR.
    *[(role, "get", "/forms/{form}/versions/2/", None, 404) for role in ROLES[:4]],
    ("hr", "get", "/forms/{form}/versions/2/", None, 200),
    *[(role, "get", "/forms/{form}/versions/2/preview/", None, 404) for role in ROLES[:4]],
    ("hr", "get", "/forms/{form}/versions/2/preview/", None, 200),
    *[(role, "get", "/forms/{unpublished}/", None, 404) for role in ROLES[:4]],
    ("hr", "get", "/forms/{unpublished}/", None, 200),
    # Every write is HR set-up: 403 whichever form or version it names (a draft's existence
    # does not leak: a missing version answers the same), as on the pages.
    *[(role, "patch", "/forms/{form}/versions/2/", {"version": 1}, 403) for role in ROLES[:4]],
    *[(role, "post", "/forms/{form}/versions/2/publish/", {"version": 1}, 403) for role in ROLES[:4]],
    *[(role, "post", "/forms/{form}/versions/9/publish/", {"version": 1}, 403) for role in ROLES[:4]],
    *[(role, "delete", "/forms/{unpublished}/", None, 403) for role in ROLES[:4]],
    *[(role, "post", "/forms/", {"name": "Mine"}, 403) for role in ROLES[:4]],
    ("hr", "post", "/forms/", {"name": "Mine"}, 201),
    *[(role, "post", "/forms/{form}/new-draft/", None, 403) for role in ROLES[:4]],
    *[(role, "post", "/forms/{form}/versions/1/retire/", {"version": 1}, 403) for role in ROLES[:4]],
    *[(role, "patch", "/forms/{form}/", {"version": 1, "name": "Mine"}, 403) for role in ROLES[:4]],
    ("hr", "patch", "/forms/{form}/", {"version": 1, "name": "Ward appraisal"}, 200),
]


@pytest.mark.parametrize("role, method, template, body, expected", PERMISSION_TABLE)
def test_it_validates_ownership(cast, catalogue, api_client_for, role, method, template, body, expected):
    response = getattr(api_client_for(getattr(cast, role)), method)(url(template, catalogue), body, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("template", ["/competencies/", "/rating-scales/", "/forms/", "/forms/{form}/versions/1/"])
def test_it_refuses_anonymous_requests(catalogue, api_client_for, template):
    assert api_client_for(None).get(url(template, catalogue)).status_code in (401, 403)


def test_a_draft_and_a_missing_version_look_the_same(cast, catalogue, api_client_for):
    client = api_client_for(cast.employee)
    hidden = client.get(url("/forms/{form}/versions/2/", catalogue))
    missing = client.get(url("/forms/{form}/versions/9/", catalogue))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_only_hr_sees_drafts_in_a_forms_versions(cast, catalogue, api_client_for):
    def numbers(employee: Employee) -> dict[str, list[int]]:
        rows = api_client_for(employee).get(f"{API}/forms/").json()["results"]
        return {row["name"]: [v["number"] for v in row["versions"]] for row in rows}

    assert numbers(cast.employee) == {"Nursing appraisal": [1]}
    assert numbers(cast.hr) == {"Nursing appraisal": [2, 1], "Work in progress": [1]}


def test_a_version_shows_its_sections_balance_and_problems(cast, catalogue, api_client_for, scale):
    body = api_client_for(cast.manager).get(url("/forms/{form}/versions/1/", catalogue)).json()
    assert (body["number"], body["status"], body["is_in_use"], body["problems"]) == (1, "published", False, {})
    sections = body["sections"]
    assert sections["goals"] == {"weight": 60, "scale": {"id": scale.pk, "name": "Plain 1–5"}}
    assert sections["competencies"]["weight"] == 40
    assert [(i["competency"]["name"], i["weight"]) for i in sections["competencies"]["items"]] == [
        ("Process thinking", 60),
        ("Data-informed decision making", 40),
    ]
    assert [q["key"] for q in sections["dialogue"]["questions"]][2] == "next_cycle_goals"
    assert body["balance"] == {
        "results_weight": 60,
        "process_weight": 40,
        "floor": 30,
        "below_floor": False,
        "warning": "",
    }


def patch_draft(client: APIClient, c: Catalogue, body: dict):  # type: ignore[no-untyped-def]
    return client.patch(url("/forms/{form}/versions/2/", c), body, format="json")


def test_hr_edits_a_draft_and_its_version_goes_up(cast, catalogue, api_client_for, process_thinking, data_informed):
    body = {
        "version": catalogue.draft.version,
        "goals_weight": 50,
        "competencies_weight": 50,
        "competencies": [
            {"competency": data_informed.pk, "weight": 70},
            {"competency": process_thinking.pk, "weight": 30},
        ],
        "questions": [{"key": "next_cycle_goals", "text": "Next cycle?"}, {"text": "Anything else?"}],
    }
    response = patch_draft(api_client_for(cast.hr), catalogue, body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == catalogue.draft.version + 1
    assert [i["competency"]["id"] for i in data["sections"]["competencies"]["items"]] == [
        data_informed.pk,
        process_thinking.pk,
    ]
    assert [q["key"] for q in data["sections"]["dialogue"]["questions"]] == ["next_cycle_goals", "anything_else"]


def test_it_refuses_weights_not_summing_to_100_with_400_and_the_numbers(
    cast, catalogue, api_client_for, process_thinking
):
    client = api_client_for(cast.hr)
    response = patch_draft(client, catalogue, {"version": catalogue.draft.version, "goals_weight": 40})
    assert response.status_code == 400
    assert response.json() == {
        "weights": ["The section weights total 80 (goals 40, competencies 40); they must total 100."]
    }
    response = patch_draft(
        client, catalogue,
        {"version": catalogue.draft.version, "competencies": [{"competency": process_thinking.pk, "weight": 90}]},
    )  # fmt: skip
    assert response.json() == {
        "competencies": ["The competency weights total 90 (Process thinking 90); they must total 100."]
    }
    assert FormVersion.objects.get(pk=catalogue.draft.pk).version == catalogue.draft.version


@pytest.mark.parametrize(
    "body, field",
    [
        ({"goals_weight": 50}, "version"),
        ({"version": 1, "status": "published"}, "status"),
        ({"version": 1, "goals_scale": 999999}, "goals_scale"),
        ({"version": 1, "competencies": [{"competency": 999999, "weight": 100}]}, "competencies"),
        ({"version": 1, "goals_weight": "lots"}, "goals_weight"),
    ],
)
def test_it_refuses_bad_input_with_400_naming_the_field(cast, catalogue, api_client_for, body, field):
    response = patch_draft(api_client_for(cast.hr), catalogue, body)
    assert response.status_code == 400
    assert field in response.json()


def test_it_refuses_a_stale_version_with_409(cast, catalogue, api_client_for):
    client = api_client_for(cast.hr)
    read = catalogue.draft.version
    assert (
        patch_draft(client, catalogue, {"version": read, "goals_weight": 50, "competencies_weight": 50}).status_code
        == 200
    )
    response = patch_draft(client, catalogue, {"version": read, "goals_weight": 70, "competencies_weight": 30})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Someone else changed this form")
    response = client.post(url("/forms/{form}/versions/2/publish/", catalogue), {"version": read}, format="json")
    assert response.status_code == 409
    assert FormVersion.objects.get(pk=catalogue.draft.pk).goals_weight == 50


def test_a_published_version_cannot_change_through_the_api(cast, catalogue, api_client_for):
    client = api_client_for(cast.hr)
    before = client.get(url("/forms/{form}/versions/1/", catalogue)).json()
    response = client.patch(
        url("/forms/{form}/versions/1/", catalogue),
        {"version": before["version"], "goals_weight": 50, "competencies_weight": 50},
        format="json",
    )
    assert response.status_code == 400
    assert "Version 1 of “Nursing appraisal” is published, so it cannot change." in str(response.json())
    assert client.delete(url("/forms/{form}/versions/1/", catalogue)).status_code == 400
    assert client.get(url("/forms/{form}/versions/1/", catalogue)).json() == before


def test_hr_publishes_a_draft_and_the_old_version_retires(cast, catalogue, api_client_for):
    client = api_client_for(cast.hr)
    response = client.post(
        url("/forms/{form}/versions/2/publish/", catalogue), {"version": catalogue.draft.version}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == VersionStatus.PUBLISHED
    assert client.get(url("/forms/{form}/versions/1/", catalogue)).json()["status"] == VersionStatus.RETIRED
    # Everyone now reads version 2.
    assert api_client_for(cast.employee).get(url("/forms/{form}/versions/2/", catalogue)).status_code == 200


def test_an_incomplete_draft_is_not_published_and_the_answer_says_why(cast, catalogue, api_client_for):
    draft = selectors.draft_of(catalogue.unpublished)
    response = api_client_for(cast.hr).post(
        f"{API}/forms/{catalogue.unpublished.pk}/versions/1/publish/", {"version": draft.version}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"competencies": ["Add at least one competency."]}


def test_new_draft_copies_the_published_version_once(cast, hr, built, published, api_client_for):
    client = api_client_for(cast.hr)
    response = client.post(f"{API}/forms/{built.form.pk}/new-draft/", format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["number"], response.json()["status"]) == (2, "draft")
    assert len(response.json()["sections"]["competencies"]["items"]) == 2
    again = client.post(f"{API}/forms/{built.form.pk}/new-draft/", format="json")
    assert again.status_code == 400
    assert "already a draft" in again.json()["non_field_errors"][0]


def test_the_preview_answers_for_the_employee_or_the_manager(cast, catalogue, api_client_for):
    client = api_client_for(cast.employee)
    body = client.get(url("/forms/{form}/versions/1/preview/", catalogue), {"audience": "manager"}).json()
    assert body["audience"] == "manager"
    item = body["competencies"]["items"][0]
    assert (item["name"], item["share_of_score"]) == ("Process thinking", "24.00")
    assert item["scale"]["levels"][0] == {
        "order": 1,
        "value": "1.00",
        "label": "Unsatisfactory",
        "descriptor": "Well below what was agreed.",
        "indicator": "Describes own tasks.",
    }
    assert client.get(url("/forms/{form}/versions/1/preview/", catalogue), {"audience": "ceo"}).status_code == 400


def test_scales_are_refused_with_field_messages(cast, api_client_for):
    response = api_client_for(cast.hr).post(
        f"{API}/rating-scales/", {"name": "Belts", "levels": [{"value": 2, "label": "A"}, {"value": 1, "label": "a"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["levels"] == [
        "Values must strictly increase from one level to the next: level 2 “a” (1) is not above level 1 “A” (2).",
        "Each level needs its own label: “a” is used by levels 1 and 2.",
    ]


def test_a_scale_in_use_says_so_and_keeps_its_levels(cast, catalogue, api_client_for, scale):
    client = api_client_for(cast.hr)
    body = client.get(f"{API}/rating-scales/{scale.pk}/").json()
    assert body["is_locked"] is True
    response = client.patch(
        f"{API}/rating-scales/{scale.pk}/", {"version": body["version"], "levels": PLAIN_LEVELS[:2]}, format="json"
    )
    assert response.status_code == 400
    assert "levels" in response.json()


def test_hr_retires_a_competency_and_filters_by_status(cast, catalogue, api_client_for):
    client = api_client_for(cast.hr)
    response = client.patch(
        url("/competencies/{competency}/", catalogue), {"version": 1, "status": "retired"}, format="json"
    )
    assert response.status_code == 200
    active = client.get(f"{API}/competencies/", {"status": "active"}).json()["results"]
    assert [row["name"] for row in active] == ["Data-informed decision making"]
    stale = client.patch(url("/competencies/{competency}/", catalogue), {"version": 1, "name": "X"}, format="json")
    assert stale.status_code == 409


def test_the_form_list_costs_the_same_queries_for_any_number_of_forms(cast, hr, catalogue, api_client_for):
    def queries() -> int:
        client = api_client_for(cast.employee)
        with CaptureQueriesContext(connection) as context:
            assert client.get(f"{API}/forms/").status_code == 200
        return len(context)

    before = queries()
    for n in range(3):
        form = services.form_create(user=hr, name=f"Form {n}", goals_scale=catalogue.published.goals_scale)
        draft = selectors.draft_of(form)
        services.draft_add_competency(
            user=hr, version=draft, expected_version=None, competency=catalogue.competency, weight=100
        )
        services.form_publish(user=hr, version=draft, expected_version=None)
    assert queries() == before

"""The `surveys` API: HR's definitions (list, retrieve, create, update with versions) and the
aggregated results with the group-size floor; for everyone else 403 on the list and on create, 404 on
a survey; no individual response, ever."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audits.models import Survey, SurveyState
from audits.selectors import surveys as read
from audits.services import surveys as services
from people.models import Employee
from tests.audits.helpers import answer, close, make_survey, people_in
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/surveys/"


def detail(survey: Survey) -> str:
    return f"{LIST}{survey.pk}/"


def opened(hr: Employee) -> Survey:
    today = timezone.localdate()
    return services.open_survey(survey=make_survey(hr, opens_on=today), notify=False, today=today)


def test_everyone_but_hr_gets_403_on_the_set_up_and_404_on_a_survey(cast, quality, api_client_for):
    survey = close(opened(cast.hr))
    for person in (cast.employee, cast.manager, cast.stranger, quality):
        client = api_client_for(person)
        assert client.get(LIST).status_code == 403
        assert client.post(LIST, {"title": "Mine"}, format="json").status_code == 403
        # One survey is outside their scope, as on its page.
        assert client.get(detail(survey)).status_code == 404
        assert client.get(f"{detail(survey)}results/").status_code == 404
        assert client.patch(detail(survey), {"version": 1, "title": "X"}, format="json").status_code == 404
    assert APIClient().get(LIST).status_code in (401, 403)
    assert api_client_for(cast.hr).get(f"{LIST}9999/").status_code == 404


def test_hr_lists_and_reads_definitions_with_counts_only(cast, api_client_for):
    survey = opened(cast.hr)
    answer(cast.employee, survey, 3, today=timezone.localdate())
    body = api_client_for(cast.hr).get(LIST).json()
    rows = body["results"] if isinstance(body, dict) else body
    (row,) = rows
    assert row["state"] == "open" and row["everyone"] is True and row["departments"] == []
    assert (row["invited"], row["answered"], row["response_rate"]) == (5, 1, 20)
    assert [item["topic"] for item in row["items"]] == ["relevance", "messaging", "time"]
    dumped = json.dumps(row)
    assert cast.employee.full_name not in dumped and "employee" not in dumped


def test_hr_creates_a_survey_with_the_seeded_items_or_its_own(cast, api_client_for):
    client = api_client_for(cast.hr)
    today = timezone.localdate().isoformat()
    seeded = client.post(LIST, {"title": "Pulse", "opens_on": today, "closes_on": today}, format="json")
    assert seeded.status_code == 201
    assert [i["text"] for i in seeded.json()["items"]] == [text for text, _ in services.SEEDED_ITEMS]
    own = client.post(
        LIST,
        {
            "title": "Own",
            "opens_on": today,
            "closes_on": today,
            "departments": [cast.employee.department.pk],
            "reminder_every_days": 3,
            "items": [{"text": "Leaders agree on QI.", "topic": "messaging"}],
        },
        format="json",
    )
    assert own.status_code == 201
    data = own.json()
    assert data["departments"] == [cast.employee.department.pk] and data["everyone"] is False
    assert [(i["text"], i["topic"]) for i in data["items"]] == [("Leaders agree on QI.", "messaging")]
    bad = client.post(LIST, {"title": "Bad", "opens_on": today, "closes_on": "2000-01-01", "items": []}, format="json")
    assert bad.status_code == 400 and "closes_on" in bad.json()
    unknown = client.post(LIST, {"title": "X", "opens_on": today, "closes_on": today, "state": "open"}, format="json")
    assert unknown.status_code == 400 and "state" in unknown.json()


def test_hr_updates_with_the_version_read_and_a_stale_one_answers_409(cast, api_client_for):
    survey = make_survey(cast.hr)
    client = api_client_for(cast.hr)
    items = [{"id": i.pk, "text": i.text, "topic": i.topic} for i in survey.items.order_by("position")]
    response = client.patch(
        detail(survey),
        {"version": survey.version, "title": "Renamed", "items": [items[2], items[0]]},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "Renamed" and [i["id"] for i in data["items"]] == [items[2]["id"], items[0]["id"]]
    stale = client.patch(detail(survey), {"version": survey.version, "title": "Late"}, format="json")
    assert stale.status_code == 409
    assert Survey.objects.get().title == "Renamed"
    missing = client.patch(detail(survey), {"title": "No version"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()


def test_items_cannot_change_through_the_api_once_open(cast, api_client_for):
    survey = opened(cast.hr)
    response = api_client_for(cast.hr).patch(
        detail(survey), {"version": survey.version, "items": [{"text": "New", "topic": "other"}]}, format="json"
    )
    assert response.status_code == 400 and "items" in response.json()


def test_results_come_only_once_closed_and_keep_the_floor(cast, api_client_for):
    today = timezone.localdate()
    radiology = people_in(DepartmentFactory(name="Radiology"), 5)
    pharmacy = people_in(cast.stranger.department, 5)
    survey = services.open_survey(survey=make_survey(cast.hr, opens_on=today), notify=False, today=today)
    client = api_client_for(cast.hr)
    assert client.get(f"{detail(survey)}results/").status_code == 400
    for person in radiology:
        answer(person, survey, 4, today=today)
    for person in (cast.stranger, *pharmacy):
        answer(person, survey, [1, 2, 3], today=today)
    for person in (cast.employee, cast.manager):
        answer(person, survey, 5, today=today)
    close(survey)
    response = client.get(f"{detail(survey)}results/")
    assert response.status_code == 200
    data = response.json()
    assert data["min_group"] == 5 and data["organisation"]["responses"] == 13
    groups = {g["label"]: g for g in data["departments"]}
    assert groups["Nursing"] == {
        "department": cast.employee.department.pk,
        "label": "Nursing",
        "shown": False,
        "responses": None,
        "note": read.FLOOR_MESSAGE,
        "mean": None,
        "items": [],
    }
    assert groups["Radiology"]["shown"] is False and groups["Radiology"]["note"] == read.PROTECT_MESSAGE
    first = groups["Pharmacy"]["items"][0]
    assert first["n"] == 6 and first["mean"] == "1.00" and first["counts"] == {"1": 6, "2": 0, "3": 0, "4": 0, "5": 0}
    messaging = client.get(f"{detail(survey)}results/", {"topic": "messaging"}).json()
    assert [i["topic"] for i in messaging["organisation"]["items"]] == ["messaging"]
    assert messaging["organisation"]["mean"] is not None
    assert client.get(f"{detail(survey)}results/", {"topic": "gossip"}).status_code == 400


def test_no_endpoint_returns_individual_responses(cast, api_client_for):
    client = api_client_for(cast.hr)
    survey = close(opened(cast.hr))
    assert survey.state == SurveyState.CLOSED
    for suffix in ("responses/", "invitations/", "answers/"):
        assert client.get(f"{detail(survey)}{suffix}").status_code == 404
    assert client.delete(detail(survey)).status_code == 405
    root = client.get("/api/v1/").json()
    assert "surveys" in root and not [k for k in root if "response" in k or "invitation" in k]

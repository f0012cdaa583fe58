"""HR's action log: the /history/ page, one record's history, the CSV and the API resource."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.log import log_action
from core.models import ActionLogEntry
from people import services

pytestmark = pytest.mark.django_db

ROLES = ("chief", "manager", "employee", "stranger")


def titles(response) -> list[str]:
    return [row["object_repr"] for row in response.json()["results"]]


# ---------------------------------------------------------------- who may read it


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/history/", "/history/export.csv", "/api/v1/history/"])
def test_the_log_is_reserved_to_hr_on_page_csv_and_api(cast, client_for, api_client_for, role, url):
    make = api_client_for if url.startswith("/api/") else client_for
    response = make(getattr(cast, role)).get(url)
    assert response.status_code == 403
    assert b"Only HR admins may read the action log." in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client_for, api_client_for):
    assert client_for(None).get("/history/").status_code == 302
    assert api_client_for(None).get("/api/v1/history/").status_code in (401, 403)


def test_an_entry_is_404_to_anyone_but_hr_and_readable_by_hr(cast, api_client_for):
    entry = log_action(cast.employee, "employee.updated", user=cast.hr.user)
    assert api_client_for(cast.hr).get(f"/api/v1/history/{entry.pk}/").json()["action"] == "employee.updated"
    assert api_client_for(cast.chief).get(f"/api/v1/history/{entry.pk}/").status_code == 403


# ---------------------------------------------------------------- the page


@pytest.fixture
def log(cast):
    """A few changes by two people, one of them last month."""
    services.employee_update(
        employee=cast.employee, expected_version=None, data={"job_title": "Charge nurse"}, user=cast.hr.user
    )
    services.employee_update(
        employee=cast.stranger, expected_version=None, data={"is_quality_lead": True}, user=cast.hr.user
    )
    services.department_create(name="Radiology", user=cast.chief.user)
    old = log_action(cast.manager, "employee.updated", user=cast.chief.user, changes={"job_title": ("a", "b")})
    ActionLogEntry.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=40))
    return cast


def test_hr_reads_every_change_newest_first_with_old_and_new(log, client_for):
    page = client_for(log.hr).get("/history/").content.decode()
    assert page.index("Radiology") < page.index("Pharmacist") < page.index("Staff Nurse") < page.index("Ward Manager")
    assert "is_quality_lead: False → True" in page
    assert "4 entries" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "employee.roles_changed"}, ["Pharmacist"]),
        ({"kind": "people.department"}, ["Radiology"]),
        ({"q": "nurse"}, ["Staff Nurse"]),
        ({"date_to": "past"}, ["Ward Manager"]),
        ({"date_from": "today"}, ["Radiology", "Pharmacist", "Staff Nurse"]),
        ({"actor": "chief"}, ["Radiology", "Ward Manager"]),
        ({"kind": "people.employee", "object": "employee"}, ["Staff Nurse"]),
    ],
)
def test_the_filters_narrow_the_log_on_page_and_api(log, client_for, api_client_for, query, expected):
    today = timezone.localdate()
    values = {
        "past": (today - datetime.timedelta(days=30)).isoformat(),
        "today": today.isoformat(),
        "chief": str(log.chief.pk),
        "employee": str(log.employee.pk),
    }
    params = {key: values.get(value, value) for key, value in query.items()}
    api_params = {("search" if key == "q" else key): value for key, value in params.items()}
    assert titles(api_client_for(log.hr).get("/api/v1/history/", api_params)) == expected
    page = client_for(log.hr).get("/history/", params).content.decode()
    for name in ("Radiology", "Pharmacist", "Staff Nurse", "Ward Manager"):
        assert (f">{name}</a>" in page) == (name in expected), name


def test_one_records_history_is_named_and_linked_from_its_page(log, client_for):
    html = Template('{% include "partials/action_log.html" with object=person %}').render(
        Context({"person": log.employee, "viewer": {"can_read_action_log": True}})
    )
    url = f"/history/?kind=people.employee&amp;object={log.employee.pk}"
    assert f'href="{url}"' in html and "History of this employee" in html
    hidden = Template('{% include "partials/action_log.html" with object=person %}').render(
        Context({"person": log.employee, "viewer": {"can_read_action_log": False}})
    )
    assert "History" not in hidden
    page = client_for(log.hr).get(url.replace("&amp;", "&")).content.decode()
    assert "<h1>History of Staff Nurse</h1>" in page


@pytest.mark.parametrize(
    ("query", "field_message"),
    [
        ({"date_from": "2026-13-01"}, "Enter a valid date."),
        ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "The end date is before the start date."),
        ({"object": "7"}, "Name the kind of record too"),
        ({"kind": "goal"}, "Name a kind of record as app.model"),
        ({"actor": "999999999"}, "No such person."),
        ({"object": "abc", "kind": "people.employee"}, "Enter a whole number."),
    ],
)
def test_bad_filters_answer_400_with_the_reason(log, client_for, api_client_for, query, field_message):
    page = client_for(log.hr).get("/history/", query)
    assert page.status_code == 400 and field_message in page.content.decode()
    api = api_client_for(log.hr).get("/api/v1/history/", query)
    assert api.status_code == 400 and field_message in api.content.decode()


def test_the_page_and_the_api_cost_the_same_queries_for_3_or_60_entries(cast, client_for, api_client_for):
    def queries(url: str, make) -> int:
        client = make(cast.hr)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for index in range(count):
            person = (cast.employee, cast.stranger, cast.manager)[index % 3]
            user = (cast.hr.user, cast.chief.user, None)[index % 3]
            log_action(person, f"employee.test_{index % 4}", user=user, changes={"job_title": (index, index + 1)})

    add(3)
    small = queries("/history/", client_for), queries("/api/v1/history/", api_client_for)
    add(57)
    large = queries("/history/", client_for), queries("/api/v1/history/", api_client_for)
    assert small == large, (small, large)


def test_the_nav_links_the_log_for_hr_only(cast, client_for):
    assert 'href="/history/"' in client_for(cast.hr).get("/people/departments/").content.decode()
    assert 'href="/history/"' not in client_for(cast.chief).get("/people/departments/").content.decode()


# ---------------------------------------------------------------- the CSV


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_holds_the_filtered_entries(log, client_for):
    response = client_for(log.hr).get("/history/export.csv", {"action": "employee.roles_changed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0] == ["at", "who", "action", "kind", "record_id", "record", "changes", "data", "source"]
    assert [row[5] for row in rows[1:]] == ["Pharmacist"]
    assert rows[1][1] == "hradmin" and rows[1][3] == "people.employee"
    assert '"is_quality_lead": [false, true]' in rows[1][6]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"])
def test_the_csv_writes_a_would_be_formula_as_plain_text(cast, client_for, name):
    department = services.department_create(name=name.strip() or "x", user=cast.hr.user)
    # Names are stripped on save; the log keeps what was written, so write the raw name too.
    log_action(department, "department.updated", user=cast.hr.user, changes={"name": ("x", name)})
    ActionLogEntry.objects.filter(object_id=department.pk).update(object_repr=name)
    rows = read_csv(client_for(cast.hr).get("/history/export.csv", {"kind": "people.department"}))
    assert {row[5] for row in rows[1:]} == {"'" + name}

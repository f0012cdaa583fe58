"""The `audits` and `findings` API: HR and quality leads read, only HR acts, everyone else sees nothing."""

from __future__ import annotations

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from audits.models import AuditRun, Finding, FindingStatus, RunState, Severity
from audits.services import runs
from tests.audits.engine import make_rule
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    return EmployeeFactory(full_name="Director of Quality", is_quality_lead=True)


@pytest.fixture
def audited(cast, only_rules):
    """One run with three findings: two in Pharmacy (high, low), one about the whole organisation."""
    silo = make_rule("silo", title="Departments setting goals alone", pitfall="Siloed goal setting")
    silo.department_id = cast.stranger.department_id
    silo.problems = {"a": (Severity.HIGH, "A"), "b": (Severity.LOW, "B")}
    reward = make_rule("reward", pitfall="Reward misalignment")
    reward.problems = {"plan": (Severity.MEDIUM, "Plan")}
    only_rules(silo, reward)
    run = runs.start_run(user=cast.hr.user, queue=False)
    return {"run": run, "silo": silo, "reward": reward, "by_key": {f.fingerprint: f for f in Finding.objects.all()}}


def outsiders(cast):
    return (cast.employee, cast.manager, cast.stranger)


# ---------------------------------------------------------------- runs


def test_hr_and_the_quality_lead_list_and_read_runs(cast, lead, audited, api_client_for):
    run = audited["run"]
    for person in (cast.hr, lead):
        client = api_client_for(person)
        body = client.get("/api/v1/audits/").json()
        assert [r["id"] for r in body["results"]] == [run.pk]
        detail = client.get(f"/api/v1/audits/{run.pk}/").json()
        assert detail["state"] == "succeeded" and detail["percent"] == 100
        assert (detail["findings_new"], detail["total_steps"], detail["done_steps"]) == (3, 3, 3)
        assert detail["requested_by"] == "HR Admin" and detail["trigger"] == "manual"


def test_everyone_else_sees_no_run(cast, audited, api_client_for):
    for person in outsiders(cast):
        client = api_client_for(person)
        assert client.get("/api/v1/audits/").status_code == 403  # reserved to readers, as the runs page
        assert client.get(f"/api/v1/audits/{audited['run'].pk}/").status_code == 404
        assert client.post(f"/api/v1/audits/{audited['run'].pk}/rerun/").status_code == 404


def test_hr_runs_an_audit_now_and_a_second_press_returns_the_same_run(cast, audited, api_client_for):
    client = api_client_for(cast.hr)
    response = client.post("/api/v1/audits/")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "queued" and body["total_steps"] == 3
    again = client.post("/api/v1/audits/")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert AuditRun.objects.count() == 2


def test_run_now_runs_on_commit(cast, audited, api_client_for):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client_for(cast.hr).post("/api/v1/audits/")
    assert AuditRun.objects.get(pk=response.json()["id"]).state == RunState.SUCCEEDED


def test_nobody_but_hr_runs_an_audit(cast, lead, audited, api_client_for):
    for person in (*outsiders(cast), lead):
        assert api_client_for(person).post("/api/v1/audits/").status_code == 403
    assert AuditRun.objects.count() == 1


def test_hr_reruns_a_failed_run_and_nothing_else(cast, lead, audited, api_client_for):
    run = audited["run"]
    client = api_client_for(cast.hr)
    refused = client.post(f"/api/v1/audits/{run.pk}/rerun/")
    assert refused.status_code == 400 and "Only an audit that failed" in str(refused.json())
    AuditRun.objects.filter(pk=run.pk).update(state=RunState.FAILED, error="Boom")
    assert api_client_for(lead).post(f"/api/v1/audits/{run.pk}/rerun/").status_code == 403
    response = client.post(f"/api/v1/audits/{run.pk}/rerun/")
    assert response.status_code == 202
    assert response.json()["state"] == "queued" and response.json()["error"] == ""


# ---------------------------------------------------------------- findings


def test_the_findings_list_filters_by_status_rule_severity_and_department(cast, lead, audited, api_client_for):
    pharmacy = cast.stranger.department_id
    client = api_client_for(lead)

    def ids(query: str = "") -> set[str]:
        response = client.get(f"/api/v1/findings/{query}")
        assert response.status_code == 200, response.content
        return {row["fingerprint"] for row in response.json()["results"]}

    assert ids() == {"silo:a", "silo:b", "reward:plan"}
    assert ids("?rule=reward") == {"reward:plan"}
    assert ids("?severity=high") == {"silo:a"}
    assert ids(f"?department={pharmacy}") == {"silo:a", "silo:b"}
    assert ids("?department=0") == {"reward:plan"}
    assert ids(f"?department={DepartmentFactory().pk}") == set()
    Finding.objects.filter(fingerprint="silo:b").update(status=FindingStatus.RESOLVED)
    assert ids("?status=active") == {"silo:a", "reward:plan"}
    assert ids("?status=resolved") == {"silo:b"}
    assert client.get("/api/v1/findings/?status=nonsense").status_code == 400
    assert client.get("/api/v1/findings/?severity=dire").status_code == 400


def test_a_finding_reads_with_its_rule_mitigation_and_history(cast, audited, api_client_for):
    finding = audited["by_key"]["silo:a"]
    body = api_client_for(cast.hr).get(f"/api/v1/findings/{finding.pk}/").json()
    assert body["rule_title"] == "Departments setting goals alone"
    assert body["pitfall"] == "Siloed goal setting"
    assert body["department_name"] == "Pharmacy"
    assert body["mitigation"] == "Mitigation for silo."
    assert body["details"] == {"figures": {"key": "a"}}
    assert [e["action"] for e in body["events"]] == ["opened"]
    assert body["version"] == 1


def test_everyone_else_sees_no_finding(cast, audited, api_client_for):
    finding = audited["by_key"]["silo:a"]
    for person in outsiders(cast):
        client = api_client_for(person)
        assert client.get("/api/v1/findings/").status_code == 403  # reserved to readers, as the findings page
        assert client.get(f"/api/v1/findings/{finding.pk}/").status_code == 404
        response = client.post(f"/api/v1/findings/{finding.pk}/resolve/", {"comment": "x"}, format="json")
        assert response.status_code == 404


def test_hr_acknowledges_then_resolves_with_a_comment(cast, audited, api_client_for):
    finding = audited["by_key"]["silo:a"]
    client = api_client_for(cast.hr)
    response = client.post(
        f"/api/v1/findings/{finding.pk}/acknowledge/", {"comment": "Raised it", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged" and response.json()["acted_by"] == "HR Admin"

    missing = client.post(f"/api/v1/findings/{finding.pk}/resolve/", {"version": 2}, format="json")
    assert missing.status_code == 400 and "comment" in missing.json()

    stale = client.post(f"/api/v1/findings/{finding.pk}/resolve/", {"comment": "Done", "version": 1}, format="json")
    assert stale.status_code == 409

    done = client.post(f"/api/v1/findings/{finding.pk}/resolve/", {"comment": "Done", "version": 2}, format="json")
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "resolved" and body["comment"] == "Done" and body["version"] == 3
    assert [(e["action"], e["by"], e["comment"]) for e in body["events"]] == [
        ("opened", None, ""),
        ("acknowledged", "HR Admin", "Raised it"),
        ("resolved", "HR Admin", "Done"),
    ]
    again = client.post(f"/api/v1/findings/{finding.pk}/resolve/", {"comment": "Again", "version": 3}, format="json")
    assert again.status_code == 400


def test_the_quality_lead_reads_but_may_not_act(cast, lead, audited, api_client_for):
    finding = audited["by_key"]["silo:a"]
    client = api_client_for(lead)
    assert client.get(f"/api/v1/findings/{finding.pk}/").status_code == 200
    for verb in ("acknowledge", "resolve"):
        assert client.post(f"/api/v1/findings/{finding.pk}/{verb}/", {}, format="json").status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_anonymous_callers_are_asked_to_sign_in(audited):
    assert APIClient().get("/api/v1/findings/").status_code == 401
    assert APIClient().post("/api/v1/audits/").status_code == 401


def test_the_lists_take_a_fixed_number_of_queries(cast, audited, django_assert_max_num_queries, api_client_for):
    client = api_client_for(cast.hr)
    client.get("/api/v1/findings/")  # warm the session
    with django_assert_max_num_queries(8):
        small = client.get("/api/v1/findings/").json()["count"]
    audited["silo"].problems = {f"k{i}": f"m{i}" for i in range(40)}
    runs.start_run(user=cast.hr.user, queue=False)
    for _ in range(5):
        runs.start_run(user=cast.hr.user, queue=False)
    with django_assert_max_num_queries(8):
        big = client.get("/api/v1/findings/").json()["count"]
    with django_assert_max_num_queries(8):
        client.get("/api/v1/audits/")
    assert big > small


def test_the_schema_of_the_audits_api_is_valid_and_free_of_warnings():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema
    from rest_framework.routers import DefaultRouter

    from audits.api import runs as runs_api

    router = DefaultRouter()
    runs_api.register(router)
    GENERATOR_STATS.reset()
    try:
        schema = SchemaGenerator(patterns=[path("api/v1/", include(router.urls))]).get_schema(public=True)
        problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    finally:
        GENERATOR_STATS.reset()
    validate_schema(schema)
    assert problems == {}
    assert {"/api/v1/audits/{id}/rerun/", "/api/v1/findings/{id}/resolve/"} <= set(schema["paths"])

"""HR acknowledges or resolves a finding with a comment; who may see findings at all."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits import access
from audits.models import AuditRun, Finding, FindingAction, FindingStatus, RunState
from audits.selectors import runs as selectors
from audits.services import findings as services
from audits.services import runs
from core.errors import ConflictError
from tests.audits.engine import make_rule
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(cast, only_rules) -> Finding:
    rule = make_rule("silo")
    rule.problems = {"a": "Pharmacy set its goals alone."}
    only_rules(rule)
    runs.start_run(user=cast.hr.user, queue=False)
    return Finding.objects.get()


@pytest.fixture
def quality_lead():
    return EmployeeFactory(full_name="Director of Quality", is_quality_lead=True)


def test_hr_acknowledges_a_finding_and_the_history_says_who_when_and_why(cast, finding):
    done = services.acknowledge(
        user=cast.hr.user, finding=finding, comment="  Raised with the chief  ", expected_version=1
    )
    assert done.status == FindingStatus.ACKNOWLEDGED and done.is_active
    assert (done.comment, done.acted_by, done.version) == ("Raised with the chief", cast.hr, 2)
    assert done.acted_at is not None
    event = done.events.get(action=FindingAction.ACKNOWLEDGED)
    assert (event.by, event.comment, event.run) == (cast.hr, "Raised with the chief", None)


def test_acknowledging_needs_no_comment_but_not_twice(cast, finding):
    done = services.acknowledge(user=cast.hr.user, finding=finding, comment="", expected_version=None)
    assert done.status == FindingStatus.ACKNOWLEDGED
    with pytest.raises(ValidationError, match="already acknowledged"):
        services.acknowledge(user=cast.hr.user, finding=done, comment="", expected_version=None)


def test_hr_resolves_a_finding_with_a_comment(cast, finding):
    done = services.resolve(user=cast.hr.user, finding=finding, comment="Workshop held", expected_version=1)
    assert done.status == FindingStatus.RESOLVED and not done.is_active
    assert done.events.get(action=FindingAction.RESOLVED).comment == "Workshop held"


def test_an_acknowledged_finding_can_be_resolved(cast, finding):
    services.acknowledge(user=cast.hr.user, finding=finding, comment="", expected_version=1)
    done = services.resolve(user=cast.hr.user, finding=finding, comment="Done", expected_version=2)
    assert done.status == FindingStatus.RESOLVED
    assert list(done.events.values_list("action", flat=True)) == ["opened", "acknowledged", "resolved"]


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_resolving_needs_a_comment(cast, finding, comment):
    with pytest.raises(ValidationError) as error:
        services.resolve(user=cast.hr.user, finding=finding, comment=comment, expected_version=1)
    assert "comment" in error.value.message_dict
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_a_stale_version_changes_nothing(cast, finding):
    services.acknowledge(user=cast.hr.user, finding=finding, comment="First", expected_version=1)
    with pytest.raises(ConflictError):
        services.resolve(user=cast.hr.user, finding=finding, comment="Second", expected_version=1)
    finding.refresh_from_db()
    assert (finding.status, finding.comment) == (FindingStatus.ACKNOWLEDGED, "First")


def test_a_finding_that_no_longer_holds_cannot_be_acted_on(cast, finding):
    Finding.objects.filter(pk=finding.pk).update(status=FindingStatus.CLOSED)
    with pytest.raises(ValidationError, match="no longer holds"):
        services.resolve(user=cast.hr.user, finding=finding, comment="Done", expected_version=None)


def test_only_hr_acts_on_findings(cast, finding, quality_lead):
    for person in (cast.employee, cast.manager, cast.stranger, quality_lead):
        with pytest.raises(PermissionDenied):
            services.acknowledge(user=person.user, finding=finding, comment="x", expected_version=None)
        with pytest.raises(PermissionDenied):
            services.resolve(user=person.user, finding=finding, comment="x", expected_version=None)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.version == 1


# ---------------------------------------------------------------- who sees findings and runs


def test_hr_and_quality_leads_read_findings_and_runs(cast, finding, quality_lead):
    for person in (cast.hr, quality_lead):
        assert access.can_read_audits(person.user)
        assert list(access.findings_visible_to(person.user)) == [finding]
        assert access.runs_visible_to(person.user).filter(pk=finding.first_seen_run_id).exists()
    assert access.can_act_on_findings(cast.hr.user, finding)
    assert not access.can_act_on_findings(quality_lead.user, finding)


def test_everyone_else_sees_no_finding_and_no_run(cast, finding):
    for person in (cast.employee, cast.manager, cast.chief, cast.stranger):
        assert not access.can_read_audits(person.user)
        assert not access.findings_visible_to(person.user).exists()
        assert not access.runs_visible_to(person.user).exists()
        assert not access.can_act_on_findings(person.user, finding)


def test_the_latest_run_and_the_score_trend_count_succeeded_runs_only(cast, finding):
    first = finding.first_seen_run
    failed = AuditRun.objects.create(state=RunState.FAILED)
    second = runs.start_run(user=cast.hr.user, queue=False)
    AuditRun.objects.create(state=RunState.RUNNING)
    assert selectors.latest_run() == second
    assert selectors.score_trend() == [first, second]
    assert selectors.score_trend(limit=1) == [second]
    assert selectors.previous_run(second) == first
    assert failed not in selectors.score_trend()


# ---------------------------------------------------------------- the admin (HR power users)


def test_hr_reads_runs_and_findings_in_the_admin_but_cannot_edit_them(cast, finding, client_for):
    client = client_for(cast.hr)
    assert client.get("/admin/audits/finding/").status_code == 200
    page = client.get(f"/admin/audits/finding/{finding.pk}/change/")
    assert page.status_code == 200 and b"Pharmacy set its goals alone." in page.content
    assert client.get(f"/admin/audits/auditrun/{finding.first_seen_run_id}/change/").status_code == 200
    response = client.post(f"/admin/audits/finding/{finding.pk}/change/", {"status": "resolved"})
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_hr_runs_a_failed_run_again_from_the_admin(cast, finding, client_for):
    run = finding.first_seen_run
    AuditRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    client = client_for(cast.hr)
    response = client.post(
        "/admin/audits/auditrun/", {"action": "run_again", "_selected_action": [run.pk]}, follow=True
    )
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.state == RunState.QUEUED  # queued for the worker once the request's transaction commits


def test_a_rule_setting_edited_in_the_admin_is_checked_against_the_rules_bounds(cast, client_for, only_rules):
    from decimal import Decimal

    from audits.models import RuleConfig
    from audits.rules.base import Threshold

    rule = make_rule(
        "silo",
        thresholds=(Threshold("share", "Share", Decimal("20"), Decimal("0"), Decimal("100")),),
    )
    only_rules(rule)
    config = RuleConfig.objects.create(rule="silo", thresholds={"share": "20"})
    client = client_for(cast.hr)
    url = f"/admin/audits/ruleconfig/{config.pk}/change/"
    refused = client.post(url, {"enabled": "on", "thresholds": '{"share": 150}'})
    assert refused.status_code == 200 and "Enter a value from 0 to 100." in refused.content.decode()
    saved = client.post(url, {"enabled": "on", "thresholds": '{"share": 35}'})
    assert saved.status_code == 302
    config.refresh_from_db()
    assert (config.thresholds, config.version, config.updated_by) == ({"share": "35"}, 2, cast.hr)

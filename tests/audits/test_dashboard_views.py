"""The alignment pages: who may open them, the dashboard, the findings list and its filters, a
finding and HR's acknowledge / resolve (with a comment, and 409 on a stale version), audit runs
with "Run now", the progress and a rerun of a failed run, and the settings (thresholds with
their validation, the schedule) — and that the list pages read a bounded number of queries."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audits import schedule as audit_schedule
from audits.models import AuditRun, Finding, FindingAction, FindingEvent, FindingStatus, RuleConfig, RunState, Severity
from audits.rules import get_rule
from audits.services import settings as setting_services
from cascade.models import Approval, GoalStatus
from tests.audits.helpers import SILOS, UNALIGNED, make_finding, make_run
from tests.cascade.factories import GoalFactory, GoalPeriodFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

READERS = ("hr", "quality")
OTHERS = ("employee", "manager", "stranger")
FLOOR = "min_alignment_percent"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def finding(cast) -> Finding:
    run = make_run(score="62.5")
    return make_finding(run, rule=UNALIGNED, severity=Severity.HIGH, department=cast.stranger.department)


@pytest.fixture
def unaligned_org(cast) -> None:
    """A current goal period in which Nursing is aligned and Pharmacy is not: the alignment rule fires."""
    today = timezone.localdate()
    period = GoalPeriodFactory(
        name="Current", start=today - datetime.timedelta(days=60), end=today + datetime.timedelta(days=60)
    )
    priority = QualityPriorityFactory(
        title="Safer care", period_start=period.start, period_end=period.end, owner=cast.chief
    )
    for person in (cast.chief, cast.manager, cast.employee):
        GoalFactory(owner=person, priority=priority, period=period, approval=Approval.APPROVED, status=GoalStatus.OPEN)


# ---------------------------------------------------------------- who may open what


PAGES = ["audits:dashboard", "audits:finding_list", "audits:run_list", "audits:settings"]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("role", READERS + OTHERS)
def test_hr_and_quality_leads_read_the_pages_and_others_are_refused(users, finding, name, role, client_for):
    response = client_for(users[role]).get(reverse(name))
    assert response.status_code == (200 if role in READERS else 403)


@pytest.mark.parametrize("role", READERS + OTHERS)
def test_a_finding_or_a_run_is_not_found_by_anyone_else(users, finding, role, client_for):
    client = client_for(users[role])
    expected = 200 if role in READERS else 404
    assert client.get(reverse("audits:finding_detail", args=[finding.pk])).status_code == expected
    assert client.get(reverse("audits:run_detail", args=[finding.last_seen_run_id])).status_code == expected
    progress = client.get(reverse("audits:run_progress", args=[finding.last_seen_run_id]), HTTP_HX_REQUEST="true")
    assert progress.status_code == expected


@pytest.mark.parametrize("role", ("quality", *OTHERS))
def test_only_hr_acts(users, finding, role, client_for):
    client = client_for(users[role])
    run_id = finding.last_seen_run_id
    hidden = 403 if role == "quality" else 404  # a finding or run outside your scope is not found
    act = {"action": "resolve", "comment": "Done.", "version": finding.version}
    assert client.post(reverse("audits:finding_act", args=[finding.pk]), act).status_code == hidden
    assert client.post(reverse("audits:run_rerun", args=[run_id])).status_code == hidden
    assert client.post(reverse("audits:run_now")).status_code == 403
    assert client.post(reverse("audits:rule_edit", args=[UNALIGNED]), {f"{UNALIGNED}-{FLOOR}": "50"}).status_code == 403
    schedule = {"schedule-enabled": "on", "schedule-days_of_week": ["1"], "schedule-hour": "5", "schedule-minute": "0"}
    assert client.post(reverse("audits:schedule_edit"), schedule).status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert AuditRun.objects.count() == 1
    assert not RuleConfig.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(finding):
    response = Client().get(reverse("audits:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- the dashboard


def test_the_dashboard_without_any_run_says_so_and_offers_to_run_one(cast, quality, client_for):
    page = text(client_for(cast.hr).get(reverse("audits:dashboard")))
    assert "No audit has run yet" in page
    assert reverse("audits:run_now") in page
    page = text(client_for(quality).get(reverse("audits:dashboard")))
    assert "No audit has run yet" in page
    assert reverse("audits:run_now") not in page


def test_the_dashboard_shows_the_score_its_change_trend_departments_and_open_findings(cast, quality, client_for):
    nursing, pharmacy = cast.employee.department, cast.stranger.department
    make_run(score="70", days=0)
    latest = make_run(
        score="62.5",
        days=7,
        department_scores=[
            {"department": nursing.pk, "name": "Nursing", "people": 3, "aligned": 3, "score": "100.00"},
            {"department": pharmacy.pk, "name": "Pharmacy", "people": 1, "aligned": 0, "score": "0.00"},
        ],
    )
    high = make_finding(latest, rule=UNALIGNED, severity=Severity.HIGH, department=pharmacy, label="Pharmacy")
    make_finding(latest, rule=SILOS, severity=Severity.LOW, label="Medication safety")
    resolved = make_finding(latest, rule=SILOS, severity=Severity.HIGH, status=FindingStatus.RESOLVED, label="Gone")

    for who in (cast.hr, quality):
        response = client_for(who).get(reverse("audits:dashboard"))
        page = text(response)
        assert "62.5%" in page
        assert "▼ 7.5 points" in page
        # Departments worst first.
        assert page.index(">Pharmacy</a></th>") < page.index(">Nursing</a></th>")
        # Findings by pitfall, each linking to the finding; resolved ones are not open.
        assert "Unaligned goals" in page and "Siloed goal setting" in page
        assert reverse("audits:finding_detail", args=[high.pk]) in page
        assert reverse("audits:finding_detail", args=[resolved.pk]) not in page
        # The chart's data, for charts.js's run chart.
        assert 'data-chart="run"' in page
        chart = json.loads(
            page.split('<script id="alignment-score-chart" type="application/json">')[1].split("</script>")[0]
        )
        assert [p["value"] for p in chart["points"]] == [70, 62.5]
        for link in ("audits:run_list", "audits:settings", "audits:survey_list", "audits:correlation"):
            assert reverse(link) in page
    assert reverse("audits:run_now") in text(client_for(cast.hr).get(reverse("audits:dashboard")))
    assert reverse("audits:run_now") not in text(client_for(quality).get(reverse("audits:dashboard")))


def test_the_dashboard_reads_a_bounded_number_of_queries(cast, django_assert_max_num_queries, client_for):
    client = client_for(cast.hr)
    departments = [DepartmentFactory(name=f"Ward {i}") for i in range(10)]
    runs = [make_run(score=str(50 + i), days=i) for i in range(5)]
    for i in range(200):
        make_finding(runs[-1], rule=(UNALIGNED, SILOS)[i % 2], severity=Severity.LOW, department=departments[i % 10])
    client.get(reverse("audits:dashboard"))  # warm the session
    with django_assert_max_num_queries(10):
        response = client.get(reverse("audits:dashboard"))
    assert response.status_code == 200


# ---------------------------------------------------------------- the findings list


def test_the_list_filters_by_status_pitfall_rule_severity_and_department(cast, client_for):
    run = make_run()
    pharmacy = cast.stranger.department
    a = make_finding(run, rule=UNALIGNED, severity=Severity.HIGH, department=pharmacy, label="Alpha finding")
    b = make_finding(run, rule=SILOS, severity=Severity.LOW, label="Beta finding")
    c = make_finding(run, rule=SILOS, severity=Severity.LOW, status=FindingStatus.RESOLVED, label="Gamma finding")
    client = client_for(cast.hr)
    url = reverse("audits:finding_list")

    def listed(**params) -> set[str]:
        page = text(client.get(url, params))
        return {f.subject_label for f in (a, b, c) if f.subject_label in page}

    assert listed() == {"Alpha finding", "Beta finding"}
    assert listed(status="resolved") == {"Gamma finding"}
    assert listed(status="all") == {"Alpha finding", "Beta finding", "Gamma finding"}
    assert listed(pitfall="siloed-goal-setting", status="all") == {"Beta finding", "Gamma finding"}
    assert listed(rule=UNALIGNED) == {"Alpha finding"}
    assert listed(severity="low") == {"Beta finding"}
    assert listed(department=pharmacy.pk) == {"Alpha finding"}
    assert listed(department=0) == {"Beta finding"}
    # A value not offered is ignored rather than failing the page.
    response = client.get(url, {"severity": "catastrophic", "department": "x"})
    assert response.status_code == 200
    assert "No findings match" not in text(response)


def test_the_list_is_paginated_and_keeps_the_filters(cast, client_for):
    run = make_run()
    for _ in range(55):
        make_finding(run, rule=SILOS, severity=Severity.LOW)
    response = client_for(cast.hr).get(reverse("audits:finding_list"), {"severity": "low"})
    page = text(response)
    assert "55 findings" in page
    assert "Page 1 of 2" in page
    assert "?severity=low&amp;page=2" in page


def test_the_list_reads_a_bounded_number_of_queries(cast, django_assert_max_num_queries, client_for):
    run = make_run()
    departments = [DepartmentFactory(name=f"Ward {i}") for i in range(8)]
    for i in range(120):
        make_finding(run, rule=(UNALIGNED, SILOS)[i % 2], department=departments[i % 8])
    client = client_for(cast.hr)
    client.get(reverse("audits:finding_list"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("audits:finding_list"), {"pitfall": "unaligned-goals", "page": "2"})
    assert response.status_code == 200


# ---------------------------------------------------------------- a finding


def test_a_finding_shows_what_to_do_its_subject_dates_drill_down_and_history(cast, quality, client_for):
    run = make_run()
    pharmacy = cast.stranger.department
    finding = make_finding(
        run,
        rule=UNALIGNED,
        department=pharmacy,
        details={"employees": [cast.stranger.pk], "departments": [pharmacy.pk], "figures": {"people": 1}},
    )
    FindingEvent.objects.create(finding=finding, action=FindingAction.OPENED, run=run)
    for who in (cast.hr, quality):
        page = text(client_for(who).get(reverse("audits:finding_detail", args=[finding.pk])))
        assert "What to do" in page and "Do the right thing." in page
        assert get_rule(UNALIGNED).title in page
        assert "Unaligned goals" in page
        assert reverse("audits:run_detail", args=[run.pk]) in page
        assert reverse("people:detail", args=[cast.stranger.pk]) in page
        assert "Pharmacist" in page
        assert "Found" in page  # the history
    assert "Resolve</button>" in text(client_for(cast.hr).get(reverse("audits:finding_detail", args=[finding.pk])))
    assert "Resolve</button>" not in text(client_for(quality).get(reverse("audits:finding_detail", args=[finding.pk])))


def test_the_finding_page_reads_a_bounded_number_of_queries(cast, django_assert_max_num_queries, client_for):
    run = make_run()
    people = [EmployeeFactory(department=cast.stranger.department) for _ in range(30)]
    finding = make_finding(
        run,
        department=cast.stranger.department,
        details={"employees": [p.pk for p in people], "departments": [cast.stranger.department.pk]},
    )
    for _ in range(20):
        FindingEvent.objects.create(finding=finding, action=FindingAction.ACKNOWLEDGED, by=cast.hr, comment="Seen.")
    client = client_for(cast.hr)
    client.get(reverse("audits:finding_detail", args=[finding.pk]))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("audits:finding_detail", args=[finding.pk]))
    assert response.status_code == 200


def test_hr_acknowledges_a_finding_with_a_comment(cast, finding, client_for):
    client = client_for(cast.hr)
    response = client.post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "acknowledge", "comment": "Workshop booked.", "version": finding.version},
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACKNOWLEDGED
    assert finding.comment == "Workshop booked."
    page = text(client.get(response["Location"]))
    assert "Workshop booked." in page
    assert "acknowledged" in page.lower()


def test_resolving_needs_a_comment(cast, finding, client_for):
    client = client_for(cast.hr)
    response = client.post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "resolve", "comment": "  ", "version": finding.version},
    )
    assert response.status_code == 400
    assert "a comment is required to resolve" in text(response)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_hr_resolves_a_finding_with_a_comment(cast, finding, client_for):
    client = client_for(cast.hr)
    response = client.post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "resolve", "comment": "Goals re-linked in Pharmacy.", "version": finding.version},
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert finding.acted_by == cast.hr
    page = text(client.get(response["Location"]))
    assert "Resolved by HR" in page
    assert "Goals re-linked in Pharmacy." in page
    assert "Resolve</button>" not in page  # nothing left to act on
    # It has left the dashboard's open findings.
    assert reverse("audits:finding_detail", args=[finding.pk]) not in text(client.get(reverse("audits:dashboard")))


def test_a_stale_version_answers_409_and_keeps_the_comment(cast, finding, client_for):
    client = client_for(cast.hr)
    stale = finding.version
    client.post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "acknowledge", "comment": "Someone else was first.", "version": stale},
    )
    response = client.post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "resolve", "comment": "My careful explanation.", "version": stale},
    )
    assert response.status_code == 409
    page = text(response)
    assert "My careful explanation." in page
    finding.refresh_from_db()
    assert f'name="version" value="{finding.version}"' in page
    assert finding.status == FindingStatus.ACKNOWLEDGED
    # Pressing again, now on the current version, goes through.
    again = client.post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "resolve", "comment": "My careful explanation.", "version": finding.version},
    )
    assert again.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


def test_a_closed_finding_cannot_be_resolved(cast, finding, client_for):
    Finding.objects.filter(pk=finding.pk).update(status=FindingStatus.CLOSED, closed_at=timezone.now())
    response = client_for(cast.hr).post(
        reverse("audits:finding_act", args=[finding.pk]),
        {"action": "resolve", "comment": "Late.", "version": finding.version},
    )
    assert response.status_code == 400
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED


# ---------------------------------------------------------------- runs


def test_run_now_starts_an_audit_whose_progress_page_shows_it_finished(
    cast, unaligned_org, django_capture_on_commit_callbacks, client_for
):
    client = client_for(cast.hr)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audits:run_now"))
    run = AuditRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("audits:run_detail", args=[run.pk])
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    page = text(client.get(response["Location"]))
    assert "Finished" in page
    assert 'value="100"' in page
    assert "hx-trigger" not in page  # nothing left to poll
    progress = client.get(reverse("audits:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in text(progress)
    assert "Finished" in text(progress)
    # The summary links to the findings it opened, and the dashboard shows the new finding.
    assert run.findings_new >= 1
    assert f"run={run.pk}&amp;change=new" in page
    new = text(client.get(reverse("audits:finding_list"), {"status": "all", "run": run.pk, "change": "new"}))
    assert "Pharmacy" in new
    assert "Pharmacy" in text(client.get(reverse("audits:dashboard")))


def test_a_running_audit_is_polled_every_second_with_a_live_region(cast, client_for):
    run = make_run(state=RunState.RUNNING, score=None, total_steps=10, done_steps=4, current_step="Checking silos")
    client = client_for(cast.hr)
    page = text(client.get(reverse("audits:run_detail", args=[run.pk])))
    assert 'hx-trigger="every 1s"' in page
    assert reverse("audits:run_progress", args=[run.pk]) in page
    assert 'aria-live="polite"' in page
    assert 'value="40"' in page and "Checking silos" in page
    # Without htmx, the progress URL sends the browser to the run's page.
    response = client.get(reverse("audits:run_progress", args=[run.pk]))
    assert response.status_code == 302


def test_run_now_while_an_audit_is_running_shows_that_one(cast, client_for):
    running = make_run(state=RunState.RUNNING, score=None)
    AuditRun.objects.filter(pk=running.pk).update(created_at=timezone.now(), started_at=timezone.now())
    response = client_for(cast.hr).post(reverse("audits:run_now"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("audits:run_detail", args=[running.pk])
    assert "already under way" in text(response)
    assert AuditRun.objects.count() == 1


def test_a_failed_run_shows_its_error_and_runs_again(
    cast, quality, unaligned_org, django_capture_on_commit_callbacks, client_for
):
    failed = make_run(state=RunState.FAILED, score=None, error="The database went away.", attempts=1)
    page = text(client_for(quality).get(reverse("audits:run_detail", args=[failed.pk])))
    assert "The audit stopped" in page and "The database went away." in page
    assert "Run again" not in page  # quality leads read; only HR acts
    client = client_for(cast.hr)
    page = text(client.get(reverse("audits:run_detail", args=[failed.pk])))
    assert "Run again" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audits:run_rerun", args=[failed.pk]))
    assert response.status_code == 302
    again = AuditRun.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert again.state == RunState.SUCCEEDED
    assert "Finished" in text(client.get(response["Location"]))


def test_a_finished_run_cannot_be_rerun(cast, finding, client_for):
    response = client_for(cast.hr).post(reverse("audits:run_rerun", args=[finding.last_seen_run_id]))
    assert response.status_code == 400


def test_the_run_list_shows_trigger_state_score_and_counts(cast, quality, client_for):
    make_run(score="61.25", findings_new=3, findings_seen=2, findings_closed=1)
    make_run(state=RunState.FAILED, score=None, days=1)
    page = text(client_for(quality).get(reverse("audits:run_list")))
    assert "61.2%" in page or "61.3%" in page
    assert "Failed" in page and "Finished" in page
    assert '<td class="num">3</td>' in page


# ---------------------------------------------------------------- settings


def _rule_post(key: str, **values: object) -> dict[str, object]:
    rule = get_rule(key)
    data: dict[str, object] = {f"{key}-{t.key}": str(t.default) for t in rule.thresholds}
    data[f"{key}-enabled"] = "on"
    data.update({f"{key}-{name}": value for name, value in values.items()})
    return data


def test_settings_list_every_rule_with_its_thresholds_and_the_schedule(cast, quality, client_for):
    page = text(client_for(cast.hr).get(reverse("audits:settings")))
    for setting in setting_services.rule_settings():
        assert setting.rule.title in page
        assert reverse("audits:rule_edit", args=[setting.rule.key]) in page
        for threshold in setting.rule.thresholds:
            assert f'id="id_{setting.rule.key}-{threshold.key}"' in page
            assert escape(threshold.label) in page
    assert reverse("audits:schedule_edit") in page
    assert audit_schedule.get_schedule().description in page
    # Quality leads read the same page without being able to change it.
    page = text(client_for(quality).get(reverse("audits:settings")))
    assert get_rule(UNALIGNED).title in page
    assert "disabled" in page
    assert "Save the schedule" not in page


def test_hr_changes_a_threshold(cast, client_for):
    client = client_for(cast.hr)
    response = client.post(reverse("audits:rule_edit", args=[UNALIGNED]), _rule_post(UNALIGNED, **{FLOOR: "80"}))
    assert response.status_code == 302
    config = RuleConfig.objects.get(rule=UNALIGNED)
    assert Decimal(str(config.thresholds[FLOOR])) == Decimal("80")
    page = text(client.get(response["Location"]))
    assert 'value="80"' in page
    assert "was saved" in page


def test_hr_switches_a_rule_off(cast, client_for):
    data = _rule_post(SILOS)
    data.pop(f"{SILOS}-enabled")
    response = client_for(cast.hr).post(reverse("audits:rule_edit", args=[SILOS]), data)
    assert response.status_code == 302
    assert RuleConfig.objects.get(rule=SILOS).enabled is False


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("150", "Enter a value from 0 to 100 %."),
        ("-1", "Enter a value from 0 to 100 %."),
        ("lots", "Enter a number"),
        ("", "Enter a value for"),
    ],
)
def test_a_wrong_threshold_is_refused_beside_its_field(cast, value, message, client_for):
    response = client_for(cast.hr).post(
        reverse("audits:rule_edit", args=[UNALIGNED]), _rule_post(UNALIGNED, **{FLOOR: value})
    )
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert f'id="id_{UNALIGNED}-{FLOOR}_error"' in page
    assert f'value="{value}"' in page or value == ""  # what HR typed stays
    assert not RuleConfig.objects.exists()


def test_an_unknown_rule_is_not_found(cast, client_for):
    assert client_for(cast.hr).post(reverse("audits:rule_edit", args=["no_such_rule"]), {}).status_code == 404


def test_a_stale_rule_save_answers_409_and_keeps_the_values(cast, client_for):
    client = client_for(cast.hr)
    client.post(reverse("audits:rule_edit", args=[UNALIGNED]), _rule_post(UNALIGNED, **{FLOOR: "75"}))
    version = RuleConfig.objects.get(rule=UNALIGNED).version
    client.post(
        reverse("audits:rule_edit", args=[UNALIGNED]), _rule_post(UNALIGNED, **{FLOOR: "60", "version": version})
    )
    response = client.post(
        reverse("audits:rule_edit", args=[UNALIGNED]), _rule_post(UNALIGNED, **{FLOOR: "65", "version": version})
    )
    assert response.status_code == 409
    page = text(response)
    assert 'value="65"' in page
    current = RuleConfig.objects.get(rule=UNALIGNED)
    assert Decimal(str(current.thresholds[FLOOR])) == Decimal("60")
    assert f'name="{UNALIGNED}-version" value="{current.version}"' in page


def test_hr_changes_the_schedule(cast, client_for):
    client = client_for(cast.hr)
    response = client.post(
        reverse("audits:schedule_edit"),
        {"schedule-enabled": "on", "schedule-days_of_week": ["2", "4"], "schedule-hour": "6", "schedule-minute": "30"},
    )
    assert response.status_code == 302
    schedule = audit_schedule.get_schedule()
    assert (schedule.enabled, sorted(schedule.days_of_week), schedule.hour, schedule.minute) == (True, [2, 4], 6, 30)
    page = text(client.get(response["Location"]))
    assert schedule.description in page
    checked = [box for box in page.split("<input") if 'name="schedule-days_of_week"' in box and "checked" in box]
    assert sorted(box.split('value="')[1].split('"')[0] for box in checked) == ["2", "4"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"schedule-enabled": "on", "schedule-hour": "6", "schedule-minute": "0"}, "Tick at least one day"),
        (
            {"schedule-enabled": "on", "schedule-days_of_week": ["1"], "schedule-hour": "24", "schedule-minute": "0"},
            "less than or equal to 23",
        ),
        (
            {"schedule-enabled": "on", "schedule-days_of_week": ["9"], "schedule-hour": "5", "schedule-minute": "0"},
            "Select a valid choice",
        ),
    ],
)
def test_a_wrong_schedule_is_refused(cast, data, message, client_for):
    before = audit_schedule.get_schedule()
    response = client_for(cast.hr).post(reverse("audits:schedule_edit"), data)
    assert response.status_code == 400
    assert message in text(response)
    after = audit_schedule.get_schedule()
    assert (after.hour, after.days_of_week) == (before.hour, before.days_of_week)


def test_pausing_the_schedule_keeps_its_days(cast, client_for):
    before = audit_schedule.get_schedule()
    response = client_for(cast.hr).post(reverse("audits:schedule_edit"), {"schedule-hour": "5", "schedule-minute": "0"})
    assert response.status_code == 302
    after = audit_schedule.get_schedule()
    assert after.enabled is False
    assert after.days_of_week == before.days_of_week


def test_an_action_without_a_button_is_refused(cast, finding, client_for):
    response = client_for(cast.hr).post(
        reverse("audits:finding_act", args=[finding.pk]), {"comment": "Hm.", "version": finding.version}
    )
    assert response.status_code == 400
    assert "Press “Acknowledge” or “Resolve”." in text(response)

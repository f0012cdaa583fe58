"""Every state change in the audits writes an action-log entry in its own transaction: who did it,
what, and the old → new values a reader needs — a run's start and finish, the findings it opened and
closed, HR's action on a finding, the settings and the schedule, and a survey's life."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from audits import schedule
from audits.models import AuditRun, Finding, FindingStatus, RunState, Severity, Survey
from audits.services import findings as finding_services
from audits.services import runs
from audits.services import settings as setting_services
from audits.services import surveys as survey_services
from core.errors import ConflictError
from core.models import ActionLogEntry
from tests.audits.engine import make_rule
from tests.audits.helpers import answer, make_survey

pytestmark = pytest.mark.django_db


def entries(obj, action: str | None = None) -> list[ActionLogEntry]:
    found = ActionLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    if action is not None:
        found = found.filter(action=action)
    return list(found)


def only(obj, action: str) -> ActionLogEntry:
    found = entries(obj, action)
    assert len(found) == 1, [e.action for e in entries(obj)]
    return found[0]


@pytest.fixture
def silo(only_rules):
    rule = make_rule("silo", pitfall="Siloed goal setting")
    rule.problems = {"a": (Severity.HIGH, "A"), "b": (Severity.LOW, "B")}
    only_rules(rule)
    return rule


# ---------------------------------------------------------------- runs and the findings they open and close


def test_a_run_logs_its_start_by_hr_and_its_finish_with_its_figures(cast, silo):
    run = runs.start_run(user=cast.hr.user, queue=False)
    started = only(run, "audit.started")
    assert started.actor == cast.hr.user and started.data == {"trigger": "manual"}
    finished = only(run, "audit.finished")
    assert finished.changes == {"state": ["running", "succeeded"]}
    assert finished.data["findings_new"] == 2 and finished.data["findings_closed"] == 0


def test_the_findings_a_run_opens_and_closes_are_logged_one_entry_each(cast, silo):
    first = runs.start_run(user=cast.hr.user, queue=False)
    a = Finding.objects.get(fingerprint="silo:a")
    b = Finding.objects.get(fingerprint="silo:b")
    assert only(a, "finding.opened").data == {"run": first.pk}
    assert only(b, "finding.opened").data == {"run": first.pk}

    silo.problems = {"a": (Severity.HIGH, "A")}  # b no longer holds
    second = runs.start_run(user=cast.hr.user, queue=False)
    closed = only(b, "finding.closed")
    assert closed.data["run"] == second.pk and "No longer found" in closed.data["comment"]
    assert not entries(a, "finding.closed")
    assert len(entries(a, "finding.opened")) == 1  # confirmed, not opened twice


def test_a_failed_run_logs_its_failure_and_a_rerun_who_asked(cast, only_rules):
    only_rules(make_rule("broken", fail_on_calls={1}))
    run = runs.start_run(user=cast.hr.user, queue=False)
    assert run.state == RunState.FAILED
    failed = only(run, "audit.failed")
    assert failed.changes == {"state": ["running", "failed"]} and "could not read its data" in failed.data["error"]

    runs.rerun(user=cast.hr.user, run=run, queue=True)
    rerun = only(run, "audit.rerun")
    assert rerun.actor == cast.hr.user and rerun.changes == {"state": ["failed", "queued"]}


def test_a_scheduled_run_is_logged_without_an_actor(silo):
    run = runs.start_scheduled_run()
    entry = only(run, "audit.started")
    assert entry.actor is None and entry.data == {"trigger": "scheduled"}


# ---------------------------------------------------------------- HR's action on a finding


def test_acknowledging_then_resolving_a_finding_logs_old_and_new_status_and_the_comment(cast, silo):
    runs.start_run(user=cast.hr.user, queue=False)
    finding = Finding.objects.get(fingerprint="silo:a")
    finding = finding_services.acknowledge(user=cast.hr.user, finding=finding, comment="Seen.", expected_version=1)
    entry = only(finding, "finding.acknowledged")
    assert entry.actor == cast.hr.user
    assert entry.changes == {"status": ["open", "acknowledged"]} and entry.data == {"comment": "Seen."}

    finding_services.resolve(user=cast.hr.user, finding=finding, comment="Merged the goals.", expected_version=2)
    assert only(finding, "finding.resolved").changes == {"status": ["acknowledged", "resolved"]}


def test_a_refused_action_writes_nothing(cast, silo):
    runs.start_run(user=cast.hr.user, queue=False)
    finding = Finding.objects.get(fingerprint="silo:a")
    with pytest.raises(ConflictError):
        finding_services.acknowledge(user=cast.hr.user, finding=finding, comment="", expected_version=7)
    with pytest.raises(ValidationError):
        finding_services.resolve(user=cast.hr.user, finding=finding, comment="", expected_version=None)
    assert not entries(finding, "finding.acknowledged") and not entries(finding, "finding.resolved")
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.OPEN


# ---------------------------------------------------------------- settings and schedule


def test_a_threshold_change_logs_old_and_new_values(cast, only_rules):
    from decimal import Decimal

    from audits.rules.base import Threshold

    only_rules(
        make_rule("silo", thresholds=(Threshold("share", "Share", Decimal("20"), Decimal("0"), Decimal("100")),))
    )
    config = setting_services.update_rule(
        user=cast.hr.user, key="silo", enabled=True, thresholds={"share": "30"}, expected_version=None
    )
    assert only(config, "audit.rule_changed").changes == {
        "enabled": [None, True],
        "thresholds": [None, {"share": "30"}],
    }
    setting_services.update_rule(
        user=cast.hr.user, key="silo", enabled=False, thresholds={"share": "35"}, expected_version=1
    )
    (changed,) = [e for e in entries(config, "audit.rule_changed") if e.changes["enabled"] != [None, True]]
    assert changed.actor == cast.hr.user
    assert changed.changes == {"enabled": [True, False], "thresholds": [{"share": "30"}, {"share": "35"}]}


def test_a_schedule_change_logs_the_days_and_time_before_and_after(cast):
    schedule.register_periodic_tasks()
    schedule.update_schedule(user=cast.hr.user, enabled=True, hour=6, minute=30, days_of_week=[1, 3])
    entry = ActionLogEntry.objects.get(action="audit.schedule_changed")
    assert entry.actor == cast.hr.user
    assert entry.changes["hour"] == ["5", "6"] and entry.changes["minute"] == ["0", "30"]
    assert entry.changes["days_of_week"] == ["1", "1,3"]
    assert "enabled" not in entry.changes  # it stayed on


# ---------------------------------------------------------------- a survey's life


def test_a_survey_logs_its_creation_edit_opening_reminders_and_closing(cast):
    survey = make_survey(cast.hr, opens_on=datetime.date.today())
    created = only(survey, "survey.created")
    assert created.actor == cast.hr.user and created.data == {"departments": [], "items": 3}

    survey = survey_services.survey_update(
        user=cast.hr.user, survey=survey, expected_version=survey.version, data={"title": "QI pulse, spring"}
    )
    assert only(survey, "survey.updated").changes == {"title": ["QI pulse", "QI pulse, spring"]}

    survey = survey_services.open_survey(survey=survey, user=cast.hr.user, notify=False)
    opened = only(survey, "survey.opened")
    assert opened.actor == cast.hr.user and opened.changes == {"state": ["draft", "open"]}
    assert opened.data == {"invited": 5}

    later = datetime.date.today() + datetime.timedelta(days=survey.reminder_every_days)
    assert survey_services.send_reminders(survey=survey, today=later, notify=False) == 5
    reminded = only(survey, "survey.reminders_sent")
    assert reminded.actor is None and reminded.data == {"reminded": 5}  # the daily job

    survey_services.close_survey(survey=survey, user=cast.hr.user)
    assert only(survey, "survey.closed").changes == {"state": ["open", "closed"]}
    assert Survey.objects.get(pk=survey.pk).state == "closed"


def test_answering_a_survey_writes_nothing_to_the_log(cast):
    """Answers are anonymous: the log must not say who answered."""
    survey = survey_services.open_survey(
        survey=make_survey(cast.hr, opens_on=datetime.date.today()), user=cast.hr.user, notify=False
    )
    before = ActionLogEntry.objects.count()
    answer(cast.employee, survey, 4, today=datetime.date.today())
    assert ActionLogEntry.objects.count() == before


def test_run_rows_are_not_logged_as_findings(cast, silo):
    runs.start_run(user=cast.hr.user, queue=False)
    run_type = ContentType.objects.get_for_model(AuditRun)
    assert set(ActionLogEntry.objects.filter(content_type=run_type).values_list("action", flat=True)) == {
        "audit.started",
        "audit.finished",
    }


def test_hr_putting_a_rule_back_to_its_defaults_in_the_admin_is_logged(cast, only_rules, client_for):
    only_rules(make_rule("silo"))
    config = setting_services.update_rule(
        user=cast.hr.user, key="silo", enabled=False, thresholds={}, expected_version=None
    )
    response = client_for(cast.hr).post(f"/admin/audits/ruleconfig/{config.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = only(config, "audit.rule_reset")
    assert entry.actor == cast.hr.user and entry.changes == {"enabled": [False, None], "thresholds": [{}, None]}

"""Audit runs: one finding per persisting problem, self-closing, reopening after HR resolved it,
switched-off rules, progress, the rerun after a failure, and who may start a run.

The rules here are throwaway ones (tests/audits/engine.py) whose findings each test dictates,
so that what is tested is the engine, not what a rule checks.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from audits.models import (
    AuditRun,
    Finding,
    FindingAction,
    FindingEvent,
    FindingStatus,
    RunState,
    RunTrigger,
    Severity,
)
from audits.rules.base import AlignmentScores, DepartmentScore
from audits.services import findings as finding_services
from audits.services import runs
from audits.services import settings as setting_services
from cascade.models import Approval
from core import jobs
from tests.audits.engine import make_rule, snapshot
from tests.cascade.factories import GoalPeriodFactory, IndividualGoalFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def run_now(cast) -> AuditRun:
    return runs.start_run(user=cast.hr.user, queue=False)


@pytest.fixture
def rule(only_rules):
    rule = make_rule("silo")
    only_rules(rule)
    return rule


# ---------------------------------------------------------------- de-duplication


def test_a_problem_that_persists_stays_one_finding_with_first_and_last_seen(cast, rule):
    rule.problems = {"department:1": "Pharmacy set its goals alone."}
    first = run_now(cast)
    second = run_now(cast)

    finding = Finding.objects.get()
    assert finding.fingerprint == "silo:department:1"
    assert (finding.first_seen_run, finding.last_seen_run) == (first, second)
    assert finding.first_seen_at < finding.last_seen_at
    assert finding.status == FindingStatus.OPEN
    assert (first.findings_new, first.findings_seen, first.findings_closed) == (1, 0, 0)
    assert (second.findings_new, second.findings_seen, second.findings_closed) == (0, 1, 0)
    assert list(finding.events.values_list("action", flat=True)) == [FindingAction.OPENED]


def test_a_finding_takes_the_latest_wording_and_keeps_hrs_acknowledgement(cast, rule):
    rule.problems = {"d": (Severity.LOW, "Two of ten goals are shared.")}
    run_now(cast)
    finding = Finding.objects.get()
    finding_services.acknowledge(user=cast.hr.user, finding=finding, comment="On it", expected_version=None)

    rule.problems = {"d": (Severity.HIGH, "None of ten goals are shared.")}
    run_now(cast)

    finding.refresh_from_db()
    assert (finding.severity, finding.message) == (Severity.HIGH, "None of ten goals are shared.")
    assert (finding.status, finding.comment) == (FindingStatus.ACKNOWLEDGED, "On it")
    assert Finding.objects.count() == 1


def test_the_finding_carries_the_rules_mitigation(cast, rule):
    rule.problems = {"d": "x"}
    run_now(cast)
    assert Finding.objects.get().mitigation == "Mitigation for silo."


def test_a_rule_that_repeats_a_key_still_makes_one_finding(cast, rule, caplog):
    class Twice(rule):
        def evaluate(self, ctx, limits):
            drafts = list(super().evaluate(ctx, limits))
            return drafts + drafts

    Twice.problems = {"d": "x"}
    from audits.rules.base import REGISTRY

    REGISTRY["silo"] = Twice
    run_now(cast)
    assert Finding.objects.count() == 1
    assert "returned the key d twice" in caplog.text


# ---------------------------------------------------------------- closing and reopening


def test_a_finding_closes_itself_when_the_problem_is_fixed(cast, rule):
    rule.problems = {"a": "Still a problem", "b": "Fixed next week"}
    run_now(cast)
    rule.problems = {"a": "Still a problem"}
    later = run_now(cast)

    fixed = Finding.objects.get(fingerprint="silo:b")
    assert fixed.status == FindingStatus.CLOSED
    assert fixed.closed_by_run == later and fixed.closed_at is not None
    assert Finding.objects.get(fingerprint="silo:a").status == FindingStatus.OPEN
    event = fixed.events.get(action=FindingAction.CLOSED)
    assert event.run == later and f"audit run {later.pk}" in event.comment
    assert (later.findings_new, later.findings_seen, later.findings_closed) == (0, 1, 1)


def test_a_problem_found_again_after_hr_resolved_it_opens_a_new_finding_that_says_so(cast, rule):
    rule.problems = {"a": "Pharmacy set its goals alone."}
    run_now(cast)
    resolved = finding_services.resolve(
        user=cast.hr.user, finding=Finding.objects.get(), comment="Workshop held in May", expected_version=1
    )
    again = run_now(cast)

    assert Finding.objects.count() == 2
    resolved.refresh_from_db()
    assert resolved.status == FindingStatus.RESOLVED  # HR's word on the old one stands
    new = Finding.objects.get(status=FindingStatus.OPEN)
    assert new.first_seen_run == again
    event = new.events.get()
    assert event.action == FindingAction.REOPENED
    assert f"Finding {resolved.pk} was resolved by HR Admin" in event.comment
    assert "Workshop held in May" in event.comment


def test_a_problem_that_returns_after_closing_itself_is_simply_found_again(cast, rule):
    rule.problems = {"a": "x"}
    run_now(cast)
    rule.problems = {}
    run_now(cast)
    rule.problems = {"a": "x"}
    run_now(cast)
    assert Finding.objects.filter(status=FindingStatus.CLOSED).count() == 1
    new = Finding.objects.get(status=FindingStatus.OPEN)
    assert list(new.events.values_list("action", flat=True)) == [FindingAction.OPENED]


def test_a_switched_off_rule_does_not_run_and_its_findings_close(cast, only_rules):
    kept, off = make_rule("kept"), make_rule("off", title="Goals set in silos")
    only_rules(kept, off)
    kept.problems, off.problems = {"a": "x"}, {"b": "y"}
    run_now(cast)
    setting_services.update_rule(user=cast.hr.user, key="off", enabled=False, thresholds={}, expected_version=None)
    calls_before = len(off.calls)

    later = run_now(cast)

    assert len(off.calls) == calls_before
    assert later.total_steps == 2  # the enabled rule and the score
    finding = Finding.objects.get(rule="off")
    assert finding.status == FindingStatus.CLOSED and finding.closed_by_run == later
    assert "“Goals set in silos” was switched off" in finding.events.get(action=FindingAction.CLOSED).comment
    assert Finding.objects.get(rule="kept").status == FindingStatus.OPEN


def test_findings_of_a_rule_that_no_longer_exists_close(cast, only_rules):
    gone, kept = make_rule("gone"), make_rule("kept")
    only_rules(gone, kept)
    gone.problems = {"a": "x"}
    run_now(cast)
    only_rules(kept)
    run_now(cast)
    finding = Finding.objects.get(rule="gone")
    assert finding.status == FindingStatus.CLOSED
    assert "no longer exists" in finding.events.get(action=FindingAction.CLOSED).comment


# ---------------------------------------------------------------- progress


def test_progress_moves_one_step_per_rule_and_is_visible_while_running(cast, only_rules):
    seen: list[tuple] = []

    def watching(key: str, title: str):
        base = make_rule(key, title=title)

        class Watching(base):
            def evaluate(self, ctx, limits):
                seen.append(
                    AuditRun.objects.filter(pk=ctx.run.pk)
                    .values_list("state", "current_step", "done_steps", "total_steps")
                    .get()
                )
                return []

        return Watching

    only_rules(watching("one", "First check"), watching("two", "Second check"))
    run = run_now(cast)

    assert seen == [(RunState.RUNNING, "First check", 0, 3), (RunState.RUNNING, "Second check", 1, 3)]
    assert (run.state, run.done_steps, run.total_steps, run.percent) == (RunState.SUCCEEDED, 3, 3, 100)
    assert run.current_step == "" and run.attempts == 1 and run.error == ""
    assert run.started_at <= run.finished_at


def test_a_queued_run_already_counts_its_steps(cast, only_rules):
    only_rules(make_rule("a"), make_rule("b"))
    run = runs.start_run(user=cast.hr.user, queue=True)  # the task waits for the commit
    assert (run.state, run.total_steps, run.done_steps, run.percent) == (RunState.QUEUED, 3, 0, 0)


# ---------------------------------------------------------------- failure and rerun


def test_a_failed_run_runs_again_to_the_result_of_a_clean_run_without_duplicates(cast, only_rules):
    first, flaky, last = make_rule("first"), make_rule("flaky", title="Flaky check"), make_rule("last")
    only_rules(first, flaky, last)
    first.problems = {"a": "x", "b": "y"}
    flaky.problems = {"c": (Severity.HIGH, "z")}
    last.problems = {"d": "w"}

    # The clean run, rolled back once measured.
    with transaction.atomic():
        clean = snapshot(run_now(cast))
        transaction.set_rollback(True)
    assert Finding.objects.count() == 0

    flaky.calls, flaky.fail_on_calls = [], {1}
    failed = run_now(cast)
    assert failed.state == RunState.FAILED
    assert failed.error.startswith("The audit stopped at “Flaky check” (RuntimeError: flaky could not read its data)")
    assert failed.done_steps == 1 and failed.finished_at is not None
    assert set(Finding.objects.values_list("rule", flat=True)) == {"first"}  # the first rule's findings are kept

    again = runs.rerun(user=cast.hr.user, run=failed, queue=False)

    assert again.pk == failed.pk and again.state == RunState.SUCCEEDED and again.attempts == 2
    assert snapshot(again) == clean
    assert Finding.objects.count() == 4
    assert FindingEvent.objects.count() == 4  # one "found" each, none twice


def test_a_rule_that_dies_while_its_findings_are_written_leaves_none_of_them(cast, only_rules, monkeypatch):
    good, bad = make_rule("good"), make_rule("bad")
    only_rules(good, bad)
    good.problems, bad.problems = {"a": "x"}, {"b": "y", "c": "z"}
    real = runs._opening_events
    calls = {"n": 0}

    def dying(run, opened):
        calls["n"] += 1
        if calls["n"] == 2:  # the bad rule's findings are written, then this fails
            raise OSError("connection lost")
        return real(run, opened)

    monkeypatch.setattr(runs, "_opening_events", dying)
    failed = run_now(cast)
    assert failed.state == RunState.FAILED and "OSError: connection lost" in failed.error
    assert list(Finding.objects.values_list("rule", flat=True)) == ["good"]

    runs.rerun(user=cast.hr.user, run=failed, queue=False)
    assert sorted(Finding.objects.values_list("fingerprint", flat=True)) == ["bad:b", "bad:c", "good:a"]
    assert FindingEvent.objects.count() == 3


def test_a_database_error_in_a_rule_fails_the_run_cleanly_even_inside_a_transaction(cast, only_rules):
    from django.db import connection

    base = make_rule("broken", title="Broken check")

    class Broken(base):
        def evaluate(self, ctx, limits):
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")
            return []

    only_rules(make_rule("fine"), Broken)
    with transaction.atomic():  # as in a request or a seeding script
        failed = run_now(cast)
        assert failed.state == RunState.FAILED and "at “Broken check”" in failed.error
        assert AuditRun.objects.count() == 1  # the transaction still works


def test_only_a_failed_run_runs_again_and_only_for_hr(cast, rule):
    done = run_now(cast)
    with pytest.raises(ValidationError, match="Only an audit that failed"):
        runs.rerun(user=cast.hr.user, run=done, queue=False)
    AuditRun.objects.filter(pk=done.pk).update(state=RunState.FAILED)
    for person in (cast.manager, cast.employee, cast.stranger, EmployeeFactory(is_quality_lead=True)):
        with pytest.raises(PermissionDenied):
            runs.rerun(user=person.user, run=done, queue=False)


def test_a_failed_run_does_not_run_again_while_another_is_under_way(cast, rule):
    failed = run_now(cast)
    AuditRun.objects.filter(pk=failed.pk).update(state=RunState.FAILED)
    busy = AuditRun.objects.create(state=RunState.RUNNING, started_at=timezone.now())
    with pytest.raises(ValidationError, match=f"Audit run {busy.pk} is under way"):
        runs.rerun(user=cast.hr.user, run=failed, queue=False)


def test_a_delivered_twice_task_does_not_run_a_finished_run_again(cast, rule):
    rule.problems = {"a": "x"}
    run = run_now(cast)
    assert runs.run_audit(run.pk).attempts == 1
    assert len(rule.calls) == 1


def test_the_failure_message_is_short_and_names_the_step():
    message = runs.failure_message("Siloed goals", ValueError("bad value\nTraceback (most recent call last): ..."))
    assert message == (
        "The audit stopped at “Siloed goals” (ValueError: bad value). What it had applied up to then is kept; "
        "run it again."
    )
    assert "before its first check" in runs.failure_message("", KeyError())


# ---------------------------------------------------------------- starting


def test_only_hr_starts_a_run(cast, rule):
    for person in (cast.manager, cast.employee, cast.stranger, EmployeeFactory(is_quality_lead=True)):
        with pytest.raises(PermissionDenied):
            runs.start_run(user=person.user, queue=False)
    assert AuditRun.objects.count() == 0


def test_run_now_while_a_run_is_under_way_returns_that_run(cast, rule):
    queued = runs.start_run(user=cast.hr.user, queue=True)
    assert runs.start_run(user=cast.hr.user, queue=True) == queued
    assert AuditRun.objects.count() == 1
    assert queued.requested_by == cast.hr and queued.trigger == RunTrigger.MANUAL


def test_run_now_queues_the_task_on_commit(cast, rule):
    rule.problems = {"a": "x"}
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        run = runs.start_run(user=cast.hr.user)
        assert Finding.objects.count() == 0  # nothing runs before the commit
    assert len(callbacks) == 1
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and Finding.objects.count() == 1  # tasks are eager in tests


def test_a_broker_that_cannot_be_reached_fails_the_run_with_a_message(cast, rule, monkeypatch):
    from audits import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.run_audit, "delay", unreachable)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = runs.start_run(user=cast.hr.user)
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "could not be reached" in run.error


def test_a_run_that_has_stalled_gives_way_to_a_new_one(cast, rule):
    long_ago = timezone.now() - jobs.stall_after() - datetime.timedelta(seconds=1)
    stuck = AuditRun.objects.create(state=RunState.RUNNING, progress_at=long_ago)

    fresh = runs.start_run(user=cast.hr.user, queue=True)

    assert fresh.pk != stuck.pk
    stuck.refresh_from_db()
    assert stuck.state == RunState.FAILED and "a new run took its place" in stuck.error


def test_a_run_that_is_moving_is_not_given_up(cast, rule):
    moving = AuditRun.objects.create(state=RunState.RUNNING, progress_at=timezone.now())

    assert runs.start_run(user=cast.hr.user, queue=True).pk == moving.pk
    moving.refresh_from_db()
    assert moving.state == RunState.RUNNING


def test_a_scheduled_run_is_not_started_beside_one_under_way(cast, rule):
    runs.start_run(user=cast.hr.user, queue=True)
    assert runs.start_scheduled_run() is None
    AuditRun.objects.update(state=RunState.SUCCEEDED)
    scheduled = runs.start_scheduled_run()
    assert scheduled.trigger == RunTrigger.SCHEDULED and scheduled.state == RunState.QUEUED
    assert scheduled.requested_by is None


# ---------------------------------------------------------------- the score


def test_the_run_stores_the_organisation_and_department_alignment_scores(cast, rule):
    period = GoalPeriodFactory()
    priority = QualityPriorityFactory(owner=cast.chief)
    pharmacy = cast.stranger.department
    IndividualGoalFactory(owner=cast.stranger, priority=priority, period=period, approval=Approval.APPROVED)
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, approval=Approval.DRAFT)
    DepartmentFactory(name="Empty ward")

    run = run_now(cast)

    # Five active people, no review cycle, so all of them in scope: only the pharmacist is aligned.
    assert run.alignment_score == Decimal("20.00")
    by_name = {row["name"]: row for row in run.department_scores}
    assert by_name["Pharmacy"] == {
        "department": pharmacy.pk,
        "name": "Pharmacy",
        "people": 1,
        "aligned": 1,
        "score": "100.00",
    }
    assert by_name["Nursing"]["aligned"] == 0 and by_name["Nursing"]["score"] == "0.00"
    assert by_name["Empty ward"]["people"] == 0


def test_without_a_goal_period_there_is_no_score(cast, rule):
    run = run_now(cast)
    assert run.state == RunState.SUCCEEDED and run.alignment_score is None


def test_the_score_step_uses_the_rules_shared_context(cast, rule, monkeypatch):
    captured = {}

    def scores(today, *, ctx=None):
        captured["today"], captured["run"] = today, ctx.run
        return AlignmentScores(
            organisation=Decimal("55.50"),
            departments=[DepartmentScore(department_id=1, name="X", people=2, aligned=1, score=Decimal("50.00"))],
        )

    monkeypatch.setattr(runs, "alignment_scores", scores)
    run = run_now(cast)
    assert captured == {"today": timezone.localdate(), "run": run}
    assert run.alignment_score == Decimal("55.50")
    assert run.department_scores == [{"department": 1, "name": "X", "people": 2, "aligned": 1, "score": "50.00"}]


def test_a_real_audit_that_fails_half_way_reruns_to_the_result_of_a_clean_run(cast, monkeypatch):
    """The same with every real rule over a small organisation: one rule in the middle of the run
    order fails on its first call."""
    from audits.rules import all_rules

    today = timezone.localdate()
    period = GoalPeriodFactory(
        name="Rerun period", start=today - datetime.timedelta(days=60), end=today + datetime.timedelta(days=300)
    )
    priority = QualityPriorityFactory(owner=cast.chief, period_start=period.start, period_end=period.end)
    IndividualGoalFactory(owner=cast.stranger, priority=priority, period=period, approval=Approval.APPROVED)
    IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, approval=Approval.DRAFT)

    with transaction.atomic():
        clean = snapshot(run_now(cast))
        transaction.set_rollback(True)
    assert clean["state"] == RunState.SUCCEEDED and clean["findings"], "the organisation should have findings"

    rules = all_rules()
    victim = rules[len(rules) // 2]
    real = victim.evaluate
    calls = {"n": 0}

    def once_broken(self, ctx, limits):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database went away")
        return real(self, ctx, limits)

    monkeypatch.setattr(victim, "evaluate", once_broken)
    failed = run_now(cast)
    assert failed.state == RunState.FAILED and f"at “{victim.title}”" in failed.error
    again = runs.rerun(user=cast.hr.user, run=failed, queue=False)
    assert again.state == RunState.SUCCEEDED
    assert snapshot(again) == clean
    fingerprints = list(Finding.objects.values_list("fingerprint", flat=True))
    assert len(fingerprints) == len(set(fingerprints))

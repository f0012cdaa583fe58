"""The email digest after each scheduled audit: what it says, who gets it, and that it goes out once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import dateformat, timezone

from audits import digest, tasks
from audits.models import AuditRun, Finding, RunState, RunTrigger, Severity
from audits.rules.base import AlignmentScores
from audits.services import runs
from tests.audits.engine import make_rule
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db
SITE = "https://throughline.example.org"


@pytest.fixture
def world(cast, only_rules, settings, monkeypatch):
    """Two rules under two pitfalls, HR admins of every kind, and scores the test sets."""
    settings.THROUGHLINE_SITE_URL = SITE + "/"
    silo = make_rule("silo", title="Departments setting goals alone", pitfall="Siloed goal setting")
    reward = make_rule("reward", title="Plans below the QI floor", pitfall="Reward misalignment")
    only_rules(silo, reward)
    second_hr = EmployeeFactory(full_name="Second HR", is_hr_admin=True, user__email="second.hr@example.org")
    EmployeeFactory(full_name="Former HR", is_hr_admin=True, is_active=False)
    EmployeeFactory(full_name="No Address", is_hr_admin=True, user__email="")
    locked = EmployeeFactory(full_name="Locked Out", is_hr_admin=True)
    locked.user.is_active = False
    locked.user.save(update_fields=["is_active"])
    EmployeeFactory(full_name="Quality Lead", is_quality_lead=True)
    scores = {"next": Decimal("60.00")}
    monkeypatch.setattr(
        runs, "alignment_scores", lambda today, ctx=None: AlignmentScores(organisation=scores["next"], departments=[])
    )
    return {"silo": silo, "reward": reward, "scores": scores, "hr": [cast.hr, second_hr]}


def scheduled() -> AuditRun:
    assert tasks.scheduled_audit.delay().get() in {RunState.SUCCEEDED, RunState.FAILED}
    return AuditRun.objects.filter(trigger=RunTrigger.SCHEDULED).order_by("-pk").first()


def url(finding: Finding) -> str:
    return f"{SITE}/alignment/findings/{finding.pk}/"


def test_the_first_digest_lists_every_open_finding_by_pitfall(cast, world):
    world["silo"].problems = {"pharmacy": (Severity.HIGH, "Pharmacy set all 12 goals alone.")}
    world["reward"].problems = {"plan": (Severity.MEDIUM, "The 2026 bonus plan gives QI work 20 %.")}

    run = scheduled()

    assert sorted(m.to[0] for m in mail.outbox) == ["hradmin@example.org", "second.hr@example.org"]
    message = next(m for m in mail.outbox if m.to == ["hradmin@example.org"])
    assert message.subject == "Alignment audit: score 60 %, 2 open findings"
    body = message.body
    assert "Hello HR Admin," in body
    assert "Organisation alignment score: 60 %." in body
    assert "OPEN FINDINGS (this is the first scheduled audit): 2" in body
    silo_finding = Finding.objects.get(rule="silo")
    assert (
        "Siloed goal setting (1)\n"
        "- [High] Subject pharmacy\n"
        "  Pharmacy set all 12 goals alone.\n"
        f"  {url(silo_finding)}\n"
    ) in body
    assert body.index("Siloed goal setting") < body.index("Reward misalignment")  # run order
    assert "STILL OPEN: 2 (1 high, 1 medium, 0 low)" in body
    assert f"The alignment dashboard: {SITE}/alignment/" in body
    assert f"This audit run: {SITE}/alignment/runs/{run.pk}/" in body
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    assert f'<a href="{url(silo_finding)}">Subject pharmacy</a>' in html
    assert "<h1>Organisation alignment score: 60 %</h1>" in html
    assert "style=" not in html and "<script" not in html
    run.refresh_from_db()
    assert run.digest_sent_at is not None


def test_the_next_digest_gives_the_change_and_what_is_new_and_closed_since(cast, world):
    silo, reward, scores = world["silo"], world["reward"], world["scores"]
    silo.problems = {"pharmacy": (Severity.HIGH, "Pharmacy set its goals alone."), "icu": "ICU set its goals alone."}
    before = scheduled()

    # Between two digests: HR runs an audit that finds a plan below the floor, and ICU is fixed.
    reward.problems = {"plan": (Severity.HIGH, "The 2026 bonus plan gives QI work 20 %.")}
    scores["next"] = Decimal("65.00")
    runs.start_run(user=cast.hr.user, queue=False)
    silo.problems = {"pharmacy": (Severity.HIGH, "Pharmacy set its goals alone."), "ed": (Severity.LOW, "ED too.")}
    scores["next"] = Decimal("72.50")
    mail.outbox.clear()

    scheduled()

    assert len(mail.outbox) == 2  # the manual run sent nothing; this one went to both HR admins
    message = mail.outbox[0]
    assert message.subject == "Alignment audit: score 72.5 % (up 12.5 points), 2 new findings"
    body = message.body
    day = dateformat.format(timezone.localtime(before.finished_at), "j F Y")
    assert (
        f"Organisation alignment score: 72.5 %, up 12.5 points since the scheduled audit of {day} (then 60 %)." in body
    )
    assert f"NEW SINCE {day.upper()}: 2" in body
    plan = Finding.objects.get(rule="reward")
    assert f"- [High] Subject plan\n  The 2026 bonus plan gives QI work 20 %.\n  {url(plan)}" in body
    assert "- [Low] Subject ed\n  ED too." in body
    assert "Pharmacy set its goals alone." not in body  # not new
    assert f"CLOSED SINCE {day.upper()} (NO LONGER FOUND): 1\n- Subject icu: Departments setting goals alone" in body
    assert "STILL OPEN: 3 (2 high, 0 medium, 1 low)" in body


def test_a_falling_score_says_down(cast, world):
    scheduled()
    world["scores"]["next"] = Decimal("55.25")
    mail.outbox.clear()
    scheduled()
    assert "(down 4.8 points)" in mail.outbox[0].subject


def test_the_digest_is_sent_once_however_often_the_task_runs(cast, world):
    world["silo"].problems = {"a": "x"}
    run = scheduled()
    assert len(mail.outbox) == 2
    assert digest.send_digest(run.pk) == 0
    assert tasks.run_audit.delay(run.pk).get() == RunState.SUCCEEDED  # a task delivered again
    assert len(mail.outbox) == 2


def test_a_manual_run_sends_no_digest(cast, world):
    world["silo"].problems = {"a": "x"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        runs.start_run(user=cast.hr.user)
    assert AuditRun.objects.get().state == RunState.SUCCEEDED
    assert mail.outbox == []


def test_a_failed_scheduled_run_sends_a_notice_and_its_digest_follows_the_rerun(cast, world):
    world["silo"].problems = {"a": "x"}
    world["silo"].fail_on_calls = {1}

    run = scheduled()

    assert run.state == RunState.FAILED and run.digest_sent_at is None
    assert [m.subject for m in mail.outbox] == ["The scheduled alignment audit did not finish"] * 2
    notice = mail.outbox[0].body
    assert "RuntimeError: silo could not read its data" in notice
    assert f"{SITE}/alignment/runs/{run.pk}/" in notice

    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        runs.rerun(user=cast.hr.user, run=run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED and run.digest_sent_at is not None
    assert [m.subject for m in mail.outbox] == ["Alignment audit: score 60 %, 1 open finding"] * 2


def test_long_lists_are_cut_with_a_count_and_a_link(cast, world, monkeypatch):
    monkeypatch.setattr(digest, "SHOWN_PER_PITFALL", 2)
    world["silo"].problems = {f"d{i}": f"Department {i} set its goals alone." for i in range(5)}
    scheduled()
    body = mail.outbox[0].body
    assert body.count("set its goals alone.") == 2
    assert f"- and 3 more: {SITE}/alignment/findings/" in body


def test_only_active_hr_admins_with_an_address_are_recipients(cast, world):
    assert [p.full_name for p in digest.recipients()] == ["HR Admin", "Second HR"]


def test_a_run_without_a_score_says_so(cast, world):
    world["scores"]["next"] = None
    scheduled()
    assert mail.outbox[0].subject.startswith("Alignment audit: score not measured (no current goal period)")

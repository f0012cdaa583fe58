"""A scheduled audit as in production: celery beat (django-celery-beat's DatabaseScheduler) sends
``audits.scheduled_audit`` to a real Celery worker over Redis, the worker runs every real rule
against the test database and emails the digest, whose content the test reads.

Like tests/conftest.py's ``real_worker``, it needs PostgreSQL (the worker and beat are other
processes and must see the test database) and a reachable broker; where either is missing it is
skipped with a message. CI provides both. The processes run with tests/audits/worker_settings.py:
tasks go to a queue of the test's own, and mail is written to files the test reads.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from audits.models import AuditRun, Finding, RunState, RunTrigger
from audits.schedule import TASK_NAME
from cascade.models import Approval
from tests.cascade.factories import GoalPeriodFactory, IndividualGoalFactory, QualityPriorityFactory
from tests.conftest import ROOT, broker_reachable
from tests.factories import EmployeeFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SITE = "https://audits.example.org"
WAIT_SECONDS = 90


def make_audit_due_in(seconds: int) -> None:
    """Test helper, not a production path: point the "Alignment audit" beat entry at an interval of a few
    seconds, once (``one_off``), so beat sends it now instead of next Monday at 05:00. The entry keeps its
    name and task; only when it fires changes. Beat notices the saved change within its 5-second tick."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    entry = PeriodicTask.objects.get(name=TASK_NAME)
    entry.crontab = None
    entry.interval = interval
    entry.one_off = True
    entry.enabled = True
    entry.last_run_at = None
    entry.save()


def only_the_audit_is_scheduled() -> None:
    """The other daily jobs (phases, reminders, surveys) stay quiet while beat runs in this test."""
    from django_celery_beat.models import PeriodicTask

    for entry in PeriodicTask.objects.exclude(name=TASK_NAME):
        entry.enabled = False
        entry.save()


def read_mail(folder: Path) -> list[email.message.EmailMessage]:
    """The messages Django's file-based backend wrote: one file per connection, messages separated by a
    line of 79 dashes."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.strip(), policy=email.policy.default))
    return messages


@pytest.fixture
def worker_and_beat(request, transactional_db, tmp_path) -> Iterator[Path]:
    """A Celery worker and celery beat in processes of their own, sharing the test database; yields the
    folder their emails are written to."""
    from django.conf import settings
    from django.db import connection

    from config.celery_app import app as celery_app

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL so the worker and beat can share the test database")
    if not broker_reachable(settings.CELERY_BROKER_URL):
        pytest.skip(f"no Celery broker reachable at {settings.CELERY_BROKER_URL}")
    db = connection.settings_dict
    queue = f"test-{os.getpid()}-{request.node.name[:40]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.audits.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "THROUGHLINE_TEST_QUEUE": queue,
        "THROUGHLINE_TEST_MAIL_DIR": str(mail_dir),
        "THROUGHLINE_SITE_URL": SITE,
    }
    worker = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--loglevel=INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{queue}@%h",
    ]
    beat = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "beat",
        "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
        "--loglevel=INFO",
        f"--pidfile={tmp_path / 'beat.pid'}",
        f"--schedule={tmp_path / 'beat-schedule'}",
    ]
    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("worker", "beat")}  # noqa: SIM115
    processes = {
        "worker": subprocess.Popen(worker, cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT),
    }
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[f"{queue}@{socket.gethostname()}"], timeout=1):
            if processes["worker"].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{(tmp_path / 'worker.log').read_text()}")
        processes["beat"] = subprocess.Popen(beat, cwd=ROOT, env=env, stdout=logs["beat"], stderr=subprocess.STDOUT)
        request.node.process_logs = {name: tmp_path / f"{name}.log" for name in logs}
        yield mail_dir
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()


def logs_of(request) -> str:
    paths = getattr(request.node, "process_logs", {})
    return "\n".join(f"--- {name} ---\n{Path(path).read_text()[-4000:]}" for name, path in paths.items())


def test_beat_starts_the_scheduled_audit_on_a_real_worker_and_hr_gets_the_digest(cast, worker_and_beat, request):
    # A goal period around today in which only the pharmacist has an approved goal under an active
    # priority: Pharmacy is aligned, Nursing (three people) and HR (one) are not.
    today = timezone.localdate()
    period = GoalPeriodFactory(
        name="Worker test period", start=today - datetime.timedelta(days=60), end=today + datetime.timedelta(days=300)
    )
    priority = QualityPriorityFactory(
        title="Safer medicines", owner=cast.chief, period_start=period.start, period_end=period.end
    )
    IndividualGoalFactory(owner=cast.stranger, priority=priority, period=period, approval=Approval.APPROVED)
    EmployeeFactory(full_name="Former HR", is_hr_admin=True, is_active=False)
    only_the_audit_is_scheduled()

    make_audit_due_in(2)

    deadline = time.monotonic() + WAIT_SECONDS
    run = None
    while time.monotonic() < deadline:
        run = AuditRun.objects.filter(trigger=RunTrigger.SCHEDULED).order_by("-pk").first()
        if run is not None and (run.state == RunState.FAILED or run.digest_sent_at is not None):
            break
        time.sleep(0.5)
    assert run is not None, f"beat did not start a scheduled audit within {WAIT_SECONDS} s\n{logs_of(request)}"
    assert run.state == RunState.SUCCEEDED, (run.state, run.error, logs_of(request))
    assert run.digest_sent_at is not None, logs_of(request)
    assert AuditRun.objects.filter(trigger=RunTrigger.SCHEDULED).count() == 1  # once: the entry was one-off
    assert run.requested_by is None and run.attempts == 1 and run.done_steps == run.total_steps

    # Five active people in scope, one aligned.
    assert run.alignment_score is not None and float(run.alignment_score) == 20.0
    nursing = Finding.objects.get(rule="unaligned_goals", department=cast.employee.department)
    assert nursing.first_seen_run == run and nursing.is_active

    messages = read_mail(worker_and_beat)
    assert sorted(m["To"] for m in messages) == [cast.hr.user.email], logs_of(request)
    digest = messages[0]
    assert digest["Subject"].startswith("Alignment audit: score 20 %, ")
    text = digest.get_body(preferencelist=("plain",)).get_content()
    html = digest.get_body(preferencelist=("html",)).get_content()
    assert "Hello HR Admin," in text
    assert "Organisation alignment score: 20 %." in text
    assert "OPEN FINDINGS (this is the first scheduled audit)" in text
    assert "Unaligned goals (" in text
    finding_url = f"{SITE}/alignment/findings/{nursing.pk}/"
    assert f"- [{nursing.get_severity_display()}] Nursing\n  {nursing.message}\n  {finding_url}" in text
    assert f"This audit run: {SITE}/alignment/runs/{run.pk}/" in text
    open_total = Finding.objects.filter(status__in=["open", "acknowledged"]).count()
    assert f"STILL OPEN: {open_total} (" in text
    assert f'<a href="{finding_url}">Nursing</a>' in html

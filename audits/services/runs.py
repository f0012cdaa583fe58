"""Audit runs: starting one (HR's "Run now", the schedule, a rerun) and running it.

``run_audit`` is the body of the Celery task. It steps through the enabled rules in run
order; for each it evaluates the rule (rules only read) and then *applies* the rule's
drafts in one transaction, so that a run that dies half-way leaves every rule either fully
applied or not touched:

- a draft whose fingerprint (``"<rule key>:<draft key>"``) has an active (open or
  acknowledged) finding refreshes it (severity, message, details, department, subject,
  last seen); HR's status and comment stay;
- a draft with none opens a new finding; if HR had resolved an earlier finding with the same
  fingerprint, the new one's history says so ("found again");
- the rule's active findings that no draft confirms close themselves (the problem no longer
  holds).

Progress (``done_steps``, ``current_step``) is committed after each rule, so the page polling
the run sees it move. The last step stores the organisation and department alignment scores
(audits.rules.alignment). Running the same run again after a failure (``rerun``) gives the
result a clean run would: applying is idempotent, and the database allows one active finding
per fingerprint.

Only one run is under way at a time: starting one while another is queued or running
returns that one. A run that has stalled (core.jobs: no progress for a few minutes, its
worker gone) does not block the next: HR may resume it (``run_resume``, the same run queued
again), and starting a run marks it failed and starts a new one in its place. Each start of
the task counts an attempt and writes its progress only while the run is still its attempt,
so a worker that comes back to a run resumed or superseded meanwhile stops at its next step.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import dateformat, timezone

from audits import access
from audits.models import (
    ACTIVE_STATUSES,
    AuditRun,
    Finding,
    FindingAction,
    FindingEvent,
    FindingStatus,
    RunState,
    RunTrigger,
)
from audits.rules import all_rules
from audits.rules.alignment import alignment_scores
from audits.rules.base import AuditContext, FindingDraft, Rule
from audits.services import correlation
from audits.services.settings import rule_settings
from core import jobs
from core.log import log_action, log_actions
from people import access as people

logger = logging.getLogger(__name__)

IN_PROGRESS = (RunState.QUEUED, RunState.RUNNING)
SCORE_STEP = "Alignment score"
BATCH = 500
# Any number unique to this lock among the app's PostgreSQL advisory locks.
START_LOCK = 7_468_726_001
FINGERPRINT_MAX = Finding._meta.get_field("fingerprint").max_length
LABEL_MAX = Finding._meta.get_field("subject_label").max_length
REFRESHED_FIELDS = [
    "severity",
    "subject_type",
    "subject_id",
    "subject_label",
    "department",
    "message",
    "mitigation",
    "details",
    "last_seen_run",
    "last_seen_at",
]


# ---------------------------------------------------------------- starting


def _require_runner(user) -> None:
    if not access.can_run_audits(user):
        raise PermissionDenied(access.RUN_MESSAGE)


def _serialise_starts() -> None:
    """Two HR admins pressing "Run now" together must not start two runs: on PostgreSQL, starts
    take turns through an advisory lock held until the transaction ends (SQLite already writes
    one transaction at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [START_LOCK])


def _fail_stalled_runs() -> None:
    """A run under way that has stalled gives way to the one being started: it is marked failed
    (what it applied is kept; it may be run again later)."""
    now = timezone.now()
    minutes = max(1, round(jobs.stall_after().total_seconds() / 60))
    AuditRun.objects.filter(state__in=IN_PROGRESS).filter(jobs.quiet_q(now=now)).update(
        state=RunState.FAILED,
        finished_at=now,
        current_step="",
        error=f"The audit made no progress for {minutes} minute{'s' if minutes != 1 else ''} (its background "
        "worker stopped), so a new run took its place. What it had applied is kept.",
    )


def run_in_progress() -> AuditRun | None:
    return AuditRun.objects.filter(state__in=IN_PROGRESS).order_by("-created_at", "-pk").first()


def _total_steps() -> int:
    return sum(1 for setting in rule_settings() if setting.enabled) + 1


def _queue(run_id: int) -> None:
    """Queue the run's task once the transaction commits. A broker that cannot be reached fails the
    run with a message instead of leaving it queued for ever."""
    from audits.tasks import run_audit as task  # the task module imports this one

    def send() -> None:
        try:
            task.delay(run_id)
        except Exception:
            logger.exception("Could not queue audit run %s", run_id)
            AuditRun.objects.filter(pk=run_id, state=RunState.QUEUED).update(
                state=RunState.FAILED,
                finished_at=timezone.now(),
                error="The background worker could not be reached, so the audit did not start. Try again shortly.",
            )

    transaction.on_commit(send)


def _open(*, trigger: str, user, queue: bool) -> tuple[AuditRun, bool]:
    """(the run, whether it is new): a new queued run (its task queued on commit when ``queue``), or
    the one already under way."""
    with transaction.atomic():
        _serialise_starts()
        _fail_stalled_runs()
        existing = run_in_progress()
        if existing is not None:
            return existing, False
        run = AuditRun.objects.create(
            trigger=trigger,
            state=RunState.QUEUED,
            requested_by=people.employee_for_user(user) if user is not None else None,
            total_steps=_total_steps(),
            **jobs.beat(),
        )
        log_action(run, "audit.started", user=user, data={"trigger": trigger})
        if queue:
            _queue(run.pk)
    return run, True


def start_run(*, user, trigger: str = RunTrigger.MANUAL, queue: bool = True) -> AuditRun:
    """HR's "Run now": a new run queued for the worker (``queue=False``: run here and now, for tests
    and demo data), or the run already under way."""
    _require_runner(user)
    run, new = _open(trigger=trigger, user=user, queue=queue)
    if new and not queue:
        run = run_audit(run.pk)
    return run


def start_scheduled_run() -> AuditRun | None:
    """A queued run for the schedule, which the caller (the scheduled task) runs itself; None when
    an audit is already under way (that one's findings are as fresh as this one's would be)."""
    run, new = _open(trigger=RunTrigger.SCHEDULED, user=None, queue=False)
    return run if new else None


def rerun(*, user, run: AuditRun, queue: bool = True) -> AuditRun:
    """Run a failed run again, as the same run: what it applied before it failed is confirmed, not
    duplicated, and the rest is done."""
    _require_runner(user)
    with transaction.atomic():
        _serialise_starts()
        _fail_stalled_runs()
        current = AuditRun.objects.select_for_update().get(pk=run.pk)
        if current.state != RunState.FAILED:
            raise ValidationError(
                f"Only an audit that failed can run again; this one is {current.get_state_display().lower()}."
            )
        other = run_in_progress()
        if other is not None:
            raise ValidationError(f"Audit run {other.pk} is under way: wait for it to finish, then try again.")
        current.state = RunState.QUEUED
        current.total_steps = _total_steps()
        current.done_steps = 0
        current.current_step = ""
        current.error = ""
        current.finished_at = None
        current.progress_at = jobs.beat()["progress_at"]
        current.save(
            update_fields=["state", "total_steps", "done_steps", "current_step", "error", "finished_at", "progress_at"]
        )
        log_action(current, "audit.rerun", user=user, changes={"state": (RunState.FAILED, current.state)})
        if queue:
            _queue(current.pk)
    if not queue:
        return run_audit(current.pk)
    return current


def run_resume(*, user, run: AuditRun) -> AuditRun:
    """HR resumes a run that stalled: the same run is queued again and starts its rules over, which
    confirms what it had applied rather than duplicating it. One that is moving, or was resumed a
    moment ago, is left alone."""
    _require_runner(user)
    with transaction.atomic():
        current = AuditRun.objects.select_for_update().get(pk=run.pk)
        if current.state not in IN_PROGRESS:
            raise ValidationError(
                f"Only an audit under way can be resumed; this one is {current.get_state_display().lower()}."
            )
        if not current.is_stalled:
            return current
        AuditRun.objects.filter(pk=current.pk).update(**jobs.beat())
        log_action(current, "audit.resumed", user=user, data={"attempts": current.attempts})
        _queue(current.pk)
    current.refresh_from_db()
    return current


# ---------------------------------------------------------------- running


def _mark(run_id: int, **fields: object) -> None:
    AuditRun.objects.filter(pk=run_id).update(**fields)


class _Superseded(Exception):
    """The run was resumed (a later attempt holds it) or given up for a new run meanwhile."""


def _progress(run_id: int, attempt: int, **fields: object) -> None:
    """Record progress, only while this attempt still holds the run."""
    held = AuditRun.objects.filter(pk=run_id, state=RunState.RUNNING, attempts=attempt)
    if not held.update(**fields, **jobs.beat()):
        raise _Superseded


def run_audit(run_id: int) -> AuditRun:
    """The audit task's body. Nothing happens unless the run is queued or running (a task delivered
    twice, or a finished run); a failure is recorded on the run (``state`` failed, ``error`` a short
    message, the traceback in the log) and the run is returned, not raised."""
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=run_id)
        if run.state not in IN_PROGRESS:
            return run
        settings_ = rule_settings()
        enabled = [(s.rule, s.limits) for s in settings_ if s.enabled]
        switched_off = [s.rule for s in settings_ if not s.enabled]
        run.state = RunState.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.finished_at = None
        run.total_steps = len(enabled) + 1
        run.done_steps = 0
        run.current_step = ""
        run.error = ""
        run.progress_at = jobs.beat()["progress_at"]
        run.save(
            update_fields=[
                "state",
                "progress_at",
                "attempts",
                "started_at",
                "finished_at",
                "total_steps",
                "done_steps",
                "current_step",
                "error",
            ]
        )

    attempt = run.attempts
    ctx = AuditContext(today=timezone.localdate(), run=run)
    step = ""
    try:
        with transaction.atomic():
            _close_without_rule(run, switched_off)
        for rule, limits in enabled:
            step = rule.title
            _progress(run_id, attempt, current_step=step[:120])
            # One transaction per rule: what it reads, what it hands back besides findings (the
            # correlation rule's results, stored here) and its findings stand or fall together, and a
            # database error in it does not break the transaction of a caller that runs the audit inline.
            with transaction.atomic():
                drafts = list(rule().evaluate(ctx, limits))
                if ctx.correlation_results is not None:
                    correlation.store_results(run=run, rows=ctx.correlation_results)
                    ctx.correlation_results = None
                apply_drafts(run, rule, drafts)
            _progress(run_id, attempt, done_steps=F("done_steps") + 1)
            jobs.pause_for_tests()
        step = SCORE_STEP
        _progress(run_id, attempt, current_step=step)
        with transaction.atomic():
            scores = alignment_scores(ctx.today, ctx=ctx)
            counts = Finding.objects.filter(
                Q(first_seen_run=run) | Q(last_seen_run=run) | Q(closed_by_run=run)
            ).aggregate(
                new=Count("pk", filter=Q(first_seen_run=run)),
                seen=Count("pk", filter=Q(last_seen_run=run) & ~Q(first_seen_run=run)),
                closed=Count("pk", filter=Q(closed_by_run=run)),
            )
            _progress(
                run_id,
                attempt,
                state=RunState.SUCCEEDED,
                finished_at=timezone.now(),
                done_steps=F("total_steps"),
                current_step="",
                alignment_score=scores.organisation,
                department_scores=[
                    {
                        "department": d.department_id,
                        "name": d.name,
                        "people": d.people,
                        "aligned": d.aligned,
                        "score": None if d.score is None else str(d.score),
                    }
                    for d in scores.departments
                ],
                findings_new=counts["new"],
                findings_seen=counts["seen"],
                findings_closed=counts["closed"],
            )
            log_action(
                run,
                "audit.finished",
                changes={"state": (RunState.RUNNING, RunState.SUCCEEDED)},
                data={
                    "alignment_score": scores.organisation,
                    "findings_new": counts["new"],
                    "findings_seen": counts["seen"],
                    "findings_closed": counts["closed"],
                },
            )
    except _Superseded:
        logger.info("Audit run %s (attempt %s) stopped: it was resumed or superseded meanwhile", run_id, attempt)
    except Exception as exc:
        logger.exception("Audit run %s failed during %r", run_id, step or "its start")
        error = failure_message(step, exc)
        with transaction.atomic():
            _mark(run_id, state=RunState.FAILED, finished_at=timezone.now(), error=error)
            log_action(
                run, "audit.failed", changes={"state": (RunState.RUNNING, RunState.FAILED)}, data={"error": error}
            )
    return AuditRun.objects.get(pk=run_id)


def failure_message(step: str, exc: BaseException) -> str:
    """A short message for the run's page; the traceback is in the log."""
    first_line = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    what = f"{type(exc).__name__}: {first_line[:200]}" if first_line else type(exc).__name__
    where = f"at “{step}”" if step else "before its first check"
    return f"The audit stopped {where} ({what}). What it had applied up to then is kept; run it again."


# ---------------------------------------------------------------- applying a rule's drafts


def apply_drafts(run: AuditRun, rule: type[Rule], drafts: Sequence[FindingDraft]) -> None:
    """Turn one rule's drafts into findings (see the module docstring). Call inside a transaction:
    the rule's active findings are locked until it ends, so HR's action on one of them waits."""
    now = timezone.now()
    wanted: dict[str, FindingDraft] = {}
    for draft in drafts:
        fingerprint = f"{rule.key}:{draft.key}"
        if len(fingerprint) > FINGERPRINT_MAX:
            raise ValueError(f"The finding key {fingerprint[:60]}… is longer than {FINGERPRINT_MAX} characters.")
        if fingerprint in wanted:
            logger.warning("Audit rule %s returned the key %s twice; the first is kept.", rule.key, draft.key)
            continue
        wanted[fingerprint] = draft

    active = {
        f.fingerprint: f
        for f in Finding.objects.select_for_update().filter(rule=rule.key, status__in=ACTIVE_STATUSES).order_by("pk")
    }
    refreshed: list[Finding] = []
    opened: list[Finding] = []
    for fingerprint, draft in wanted.items():
        finding = active.get(fingerprint)
        if finding is None:
            finding = Finding(
                rule=rule.key,
                fingerprint=fingerprint,
                status=FindingStatus.OPEN,
                first_seen_run=run,
                first_seen_at=now,
            )
            opened.append(finding)
        else:
            refreshed.append(finding)
        _fill(finding, rule, draft, run, now)

    Finding.objects.bulk_update(refreshed, REFRESHED_FIELDS, batch_size=BATCH)
    Finding.objects.bulk_create(opened, batch_size=BATCH)
    events = _opening_events(run, opened)
    again = {e.finding_id for e in events if e.action == FindingAction.REOPENED}
    log_actions([f for f in opened if f.pk not in again], "finding.opened", data={"run": run.pk})
    log_actions([f for f in opened if f.pk in again], "finding.reopened", data={"run": run.pk})

    gone = [f for fingerprint, f in active.items() if fingerprint not in wanted]
    events += _close(run, gone, now, comment=f"No longer found by audit run {run.pk}.")
    FindingEvent.objects.bulk_create(events, batch_size=BATCH)


def _fill(finding: Finding, rule: type[Rule], draft: FindingDraft, run: AuditRun, now: datetime.datetime) -> None:
    finding.severity = str(draft.severity)
    finding.subject_type = str(draft.subject_type)
    finding.subject_id = draft.subject_id
    finding.subject_label = str(draft.subject_label)[:LABEL_MAX]
    finding.department_id = draft.department_id
    finding.message = draft.message
    finding.mitigation = rule.mitigation
    finding.details = draft.details or {}
    finding.last_seen_run = run
    finding.last_seen_at = now


def _opening_events(run: AuditRun, opened: list[Finding]) -> list[FindingEvent]:
    """ "Found" for each new finding, or "found again" when HR had resolved the same problem before."""
    if not opened:
        return []
    resolved: dict[str, Finding] = {}
    for earlier in (
        Finding.objects.filter(fingerprint__in=[f.fingerprint for f in opened], status=FindingStatus.RESOLVED)
        .select_related("acted_by")
        .order_by("fingerprint", "acted_at", "pk")
    ):
        resolved[earlier.fingerprint] = earlier  # the latest resolution wins
    events = []
    for finding in opened:
        earlier = resolved.get(finding.fingerprint)
        if earlier is None:
            events.append(FindingEvent(finding=finding, action=FindingAction.OPENED, run=run))
            continue
        who = f" by {earlier.acted_by.full_name}" if earlier.acted_by else ""
        when = f" on {dateformat.format(timezone.localtime(earlier.acted_at), 'j F Y')}" if earlier.acted_at else ""
        said = f" (“{earlier.comment}”)" if earlier.comment else ""
        events.append(
            FindingEvent(
                finding=finding,
                action=FindingAction.REOPENED,
                run=run,
                comment=f"Finding {earlier.pk} was resolved{who}{when}{said}, but audit run {run.pk} finds the "
                "problem again.",
            )
        )
    return events


def _close(run: AuditRun, findings: Iterable[Finding], now: datetime.datetime, *, comment: str) -> list[FindingEvent]:
    findings = list(findings)
    if not findings:
        return []
    Finding.objects.filter(pk__in=[f.pk for f in findings]).update(
        status=FindingStatus.CLOSED, closed_at=now, closed_by_run=run, version=F("version") + 1
    )
    log_actions(findings, "finding.closed", data={"run": run.pk, "comment": comment})
    return [FindingEvent(finding=f, action=FindingAction.CLOSED, run=run, comment=comment) for f in findings]


def _close_without_rule(run: AuditRun, switched_off: Iterable[type[Rule]]) -> None:
    """Close the active findings of rules HR switched off, and of rules that no longer exist."""
    now = timezone.now()
    titles = {rule.key: rule.title for rule in switched_off}
    registered = {rule.key for rule in all_rules()}
    orphans = Finding.objects.select_for_update().filter(status__in=ACTIVE_STATUSES)
    orphans = orphans.filter(Q(rule__in=list(titles)) | ~Q(rule__in=list(registered)))
    events: list[FindingEvent] = []
    by_rule: dict[str, list[Finding]] = {}
    for finding in orphans.order_by("pk"):
        by_rule.setdefault(finding.rule, []).append(finding)
    for key, findings in by_rule.items():
        if key in titles:
            comment = f"The check “{titles[key]}” was switched off in the audit settings."
        else:
            comment = "The check that found this no longer exists."
        events += _close(run, findings, now, comment=comment)
    FindingEvent.objects.bulk_create(events, batch_size=BATCH)

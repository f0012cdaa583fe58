"""Alignment audits in the demo hospital: the surveys (audits.demo.surveys), then three audit runs.

The runs are four weeks apart (their dates moved back after they ran), so that the dashboard
has a trend and findings have a history:

- HR has set the alignment floor at 50 % for the first year (the default is 70 %).
- **Eight weeks ago** the best-aligned department's individual goals were still waiting for
  approval, so it shows as an unaligned department beside the others.
- **Four weeks ago** those goals had been approved: its finding closed itself and the score rose.
- **Today** HR has acknowledged the reward-misalignment finding of this year's draft incentive
  plan (QI-linked weight below the floor) and resolved one finding with a comment; the teams
  with no planned improvement time and the survey's messaging gap are still open.

Safe to run again: runs already there are left alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audits.demo import surveys as demo_surveys
from audits.models import AuditRun, Finding, FindingEvent, FindingStatus, RunState
from audits.rules.alignment import alignment_scores
from audits.services import findings as finding_services
from audits.services.runs import start_run
from audits.services.settings import update_rule
from cascade.models import Approval, Goal, GoalLevel
from people import demo as people_demo
from people.models import Employee

HR_LOGIN = "hradmin"
WEEKS_BETWEEN_RUNS = 4
ALIGNMENT_FLOOR = "50"


@dataclass(frozen=True)
class SeedResult:
    created: bool
    message: str


def _backdate(run: AuditRun, when: datetime.datetime) -> None:
    """Move a run that has just finished, and what it found, back to ``when``."""
    AuditRun.objects.filter(pk=run.pk).update(created_at=when, started_at=when, finished_at=when)
    Finding.objects.filter(first_seen_run=run).update(first_seen_at=when)
    Finding.objects.filter(last_seen_run=run).update(last_seen_at=when)
    Finding.objects.filter(closed_by_run=run).update(closed_at=when)
    FindingEvent.objects.filter(run=run).update(at=when)


def _best_aligned_department() -> int | None:
    scores = [d for d in alignment_scores(timezone.localdate()).departments if d.aligned]
    return max(scores, key=lambda d: (d.score, d.people)).department_id if scores else None


def _run(hr: Employee, when: datetime.datetime | None) -> AuditRun:
    run = start_run(user=hr.user, queue=False)
    if run.state != RunState.SUCCEEDED:
        raise people_demo.SeedConflict(f"The demo audit run failed: {run.error}")
    if when is not None:
        _backdate(run, when)
    return run


def seed_hospital() -> SeedResult:
    surveys = demo_surveys.seed_hospital()
    with transaction.atomic():
        if AuditRun.objects.exists():
            return SeedResult(surveys.created, f"{surveys.message} The demo audit runs are already there.")
        hr = Employee.objects.select_related("user").filter(user__username=HR_LOGIN).first()
        if hr is None:
            raise people_demo.SeedConflict("Load the demo hospital's people (people.demo) before its audits.")
        # HR set the first year's alignment floor at 50 % rather than the default 70 %.
        update_rule(
            user=hr.user,
            key="unaligned_goals",
            enabled=True,
            thresholds={"min_alignment_percent": ALIGNMENT_FLOOR},
            expected_version=None,
        )
        now = timezone.now()
        weeks = datetime.timedelta(weeks=WEEKS_BETWEEN_RUNS)

        # Eight weeks ago: one department's goals still waited for approval.
        department = _best_aligned_department()
        waiting = list(
            Goal.objects.filter(department_id=department, level=GoalLevel.INDIVIDUAL, approval=Approval.APPROVED)
            .order_by()
            .values_list("pk", flat=True)
        )
        Goal.objects.filter(pk__in=waiting).update(approval=Approval.SUBMITTED)
        _run(hr, now - 2 * weeks)
        Goal.objects.filter(pk__in=waiting).update(approval=Approval.APPROVED)

        _run(hr, now - weeks)
        latest = _run(hr, None)

        active = Finding.objects.filter(status=FindingStatus.OPEN).order_by("pk")
        misaligned = active.filter(rule="reward_misalignment").first()
        if misaligned is not None:
            finding_services.acknowledge(
                user=hr.user,
                finding=misaligned,
                comment="The plan is being redesigned with the quality team before it is computed.",
                expected_version=misaligned.version,
            )
        form = active.filter(rule="end_result_emphasis").first()
        if form is not None:
            finding_services.resolve(
                user=hr.user,
                finding=form,
                comment="A process-thinking section is being added to the form for the next cycle.",
                expected_version=form.version,
            )
    open_count = Finding.objects.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED]).count()
    return SeedResult(
        True,
        f"{surveys.message} Ran three alignment audits four weeks apart (score now {latest.alignment_score} %, "
        f"{open_count} findings open).",
    )

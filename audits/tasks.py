"""Background work for the alignment audits and feedback surveys: thin tasks that take ids and call
the services.

``audits.run_audit`` runs a run HR started ("Run now", or a rerun of a failed run).
``audits.scheduled_audit`` is what django-celery-beat starts on the schedule HR sets
(audits/schedule.py): it opens a scheduled run, runs it, and emails the digest to HR admins.
A failed scheduled run that HR runs again sends its digest when it succeeds; the run records
that its digest went out, so nothing is sent twice.

``audits.surveys_daily`` runs every morning through django-celery-beat: it closes the open
surveys whose closing date has passed, opens the scheduled ones whose opening date has come
(inviting their population), and reminds those who have not answered when a survey's
reminder interval has passed. ``audits.send_survey_emails`` sends one chunk of invitation or
reminder emails; the services queue it after their transaction commits.

``register_periodic_tasks`` puts the daily survey entry in the database schedule after
``migrate``; HR may change its time or switch it off in the admin, and a later ``migrate``
leaves that alone.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from audits import digest
from audits.models import RunState, RunTrigger
from audits.services import runs, surveys
from config import schedules

logger = logging.getLogger(__name__)


@shared_task(name="audits.run_audit")
def run_audit(run_id: int) -> str:
    run = runs.run_audit(run_id)
    if run.trigger == RunTrigger.SCHEDULED and run.state == RunState.SUCCEEDED:
        digest.send_digest(run.pk)
    return run.state


@shared_task(name="audits.scheduled_audit")
def scheduled_audit() -> str:
    run = runs.start_scheduled_run()
    if run is None:
        logger.info("The scheduled audit was skipped: another audit is under way.")
        return "skipped"
    run = runs.run_audit(run.pk)
    digest.send_digest(run.pk)
    return run.state


# ---------------------------------------------------------------- surveys

# name → (task, hour, minute, description); the time is in CELERY_TIMEZONE.
DAILY_TASKS = {
    "Feedback surveys: open, remind and close by date": (
        "audits.surveys_daily",
        8,
        0,
        "Opens each scheduled survey on its opening date and invites its people, reminds those who have "
        "not answered every few days (as each survey sets), and closes each survey after its closing date.",
    ),
}


@shared_task(name="audits.surveys_daily")
def surveys_daily() -> dict[str, object]:
    outcome = surveys.run_daily(today=timezone.localdate())
    return {"closed": outcome.closed, "opened": outcome.opened, "reminded": outcome.reminded}


@shared_task(name="audits.send_survey_emails")
def send_survey_emails(kind: str, invitation_ids: list[int]) -> int:
    return surveys.send_emails(kind, invitation_ids)


def register_periodic_tasks(**kwargs: object) -> None:
    """Put the missing schedule entries into django-celery-beat (post_migrate); edited ones stay."""
    schedules.register_daily(DAILY_TASKS)

"""Background work for the alignment audits: thin tasks that take ids and call the services.

``audits.run_audit`` runs a run HR started ("Run now", or a rerun of a failed run).
``audits.scheduled_audit`` is what django-celery-beat starts on the schedule HR sets
(audits/schedule.py): it opens a scheduled run, runs it, and emails the digest to HR admins.
A failed scheduled run that HR runs again sends its digest when it succeeds; the run records
that its digest went out, so nothing is sent twice.
"""

from __future__ import annotations

import logging

from celery import shared_task

from audits import digest
from audits.models import RunState, RunTrigger
from audits.services import runs

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

"""Background work for incentives: thin tasks that take ids and call the services — computing a
plan's payouts, the nightly search for pathway candidates, and the recognition and goal-notice emails.

The nightly search runs through django-celery-beat: ``register_periodic_tasks`` puts it in the
database schedule after ``migrate`` (incentives/apps.py); HR may change its time or switch it
off in the admin, and a later ``migrate`` leaves that alone.
"""

from __future__ import annotations

from celery import shared_task

from config import schedules
from incentives.services import pathways, plans, target_imports

# name → (task, hour, minute, description); the time is in CELERY_TIMEZONE.
NIGHTLY_TASKS = {
    "Career pathways: find new candidates": (
        "incentives.find_pathway_candidates",
        2,
        30,
        "Lists everyone who has newly met the criteria of an active career pathway, for HR to confirm or decline.",
    ),
}


@shared_task(name="incentives.compute_plan")
def compute_plan(plan_id: int) -> str:
    return plans.run_compute(plan_id).state


@shared_task(name="incentives.run_target_import")
def run_target_import(import_id: int) -> str:
    return target_imports.run_target_import(import_id).status


@shared_task(name="incentives.find_pathway_candidates")
def find_pathway_candidates() -> int:
    return len(pathways.find_candidates())


@shared_task(name="incentives.send_recognition_emails")
def send_recognition_emails(post_id: int, people: list[list]) -> int:
    from incentives import notifications

    return notifications.send_recognition_emails(post_id, [(int(pk), bool(flag)) for pk, flag in people])


@shared_task(name="incentives.send_goal_notice_emails")
def send_goal_notice_emails(employee_ids: list[int], subject: str, text: str, path: str) -> int:
    from incentives import notifications

    return notifications.send_goal_notice_emails([int(pk) for pk in employee_ids], subject, text, path)


def register_periodic_tasks(**kwargs: object) -> None:
    """Put the missing schedule entries into django-celery-beat (post_migrate); edited ones stay."""
    schedules.register_daily(NIGHTLY_TASKS)

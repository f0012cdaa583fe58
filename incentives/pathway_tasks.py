"""Background work for career pathways: the nightly search for new candidates.

It runs through django-celery-beat: ``register_periodic_tasks`` puts it in the
database schedule after ``migrate`` (incentives/apps.py); HR may change its time
or switch it off in the admin, and a later ``migrate`` leaves that alone.
"""

from __future__ import annotations

from celery import shared_task

from incentives.services import pathways

# name → (task, hour, minute, description); the time is in CELERY_TIMEZONE.
NIGHTLY_TASKS = {
    "Career pathways: find new candidates": (
        "incentives.find_pathway_candidates",
        2,
        30,
        "Lists everyone who has newly met the criteria of an active career pathway, for HR to confirm or decline.",
    ),
}


@shared_task(name="incentives.find_pathway_candidates")
def find_pathway_candidates() -> int:
    return len(pathways.find_candidates())


@shared_task(name="incentives.send_recognition_emails")
def send_recognition_emails(post_id: int, people: list[list]) -> int:
    from incentives import notifications

    return notifications.send_recognition_emails(post_id, [(int(pk), bool(flag)) for pk, flag in people])


def register_periodic_tasks(**kwargs: object) -> None:
    """Create the nightly schedule entries that are missing (post_migrate). Existing ones, as HR
    may have edited them, are left exactly as they are."""
    from django.conf import settings
    from django.db import connection
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask._meta.db_table not in connection.introspection.table_names():
        return  # a partial migrate that has not reached django-celery-beat's tables yet
    for name, (task, hour, minute, description) in NIGHTLY_TASKS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=str(minute),
            hour=str(hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.CELERY_TIMEZONE,
        )
        PeriodicTask.objects.create(name=name, task=task, crontab=schedule, description=description)

"""Background work for review cycles: thin tasks that take ids and call the services.

Two run every day through django-celery-beat (``register_periodic_tasks`` puts
them in the database schedule after ``migrate``; HR may change their time or
switch them off in the admin, and a later ``migrate`` leaves that alone).
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from appraisals import notifications
from appraisals.services import cycles, todos

# name → (task, hour, minute, description); the time is in CELERY_TIMEZONE.
DAILY_TASKS = {
    "Review cycles: move to the phase of the date": (
        "appraisals.advance_phases",
        6,
        0,
        "Moves each running review cycle into the phase whose window has opened, and tells people what it asks of them.",
    ),
    "Review cycles: remind people of overdue to-dos": (
        "appraisals.send_reminders",
        7,
        0,
        "Emails everyone whose review-cycle to-dos are overdue (at most once every few days per to-do).",
    ),
}


@shared_task(name="appraisals.launch_cycle")
def launch_cycle(cycle_id: int) -> str:
    return cycles.run_launch(cycle_id).state


@shared_task(name="appraisals.send_todo_emails")
def send_todo_emails(todo_ids: list[int]) -> int:
    return notifications.send_new_todos(todo_ids)


@shared_task(name="appraisals.advance_phases")
def advance_phases() -> list[int]:
    return [cycle.pk for cycle in cycles.advance_by_date(today=timezone.localdate())]


@shared_task(name="appraisals.send_reminders")
def send_reminders() -> int:
    return todos.send_reminders(today=timezone.localdate())


def register_periodic_tasks(**kwargs: object) -> None:
    """Create the daily schedule entries that are missing (post_migrate). Existing ones, as HR
    may have edited them, are left exactly as they are."""
    from django.conf import settings
    from django.db import connection
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask._meta.db_table not in connection.introspection.table_names():
        return  # a partial migrate that has not reached django-celery-beat's tables yet
    for name, (task, hour, minute, description) in DAILY_TASKS.items():
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

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
from config import schedules

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
    """Put the missing schedule entries into django-celery-beat (post_migrate); edited ones stay."""
    schedules.register_daily(DAILY_TASKS)

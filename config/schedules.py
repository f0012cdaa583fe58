"""Putting an app's daily jobs into django-celery-beat's database schedule."""

from __future__ import annotations

from collections.abc import Mapping

# name → (task, hour, minute, description); the time is in CELERY_TIMEZONE.
DailyTasks = Mapping[str, tuple[str, int, int, str]]


def register_daily(tasks: DailyTasks) -> None:
    """Create the schedule entries that are missing (called on post_migrate). Existing ones, as HR
    may have edited them, are left exactly as they are."""
    from django.conf import settings
    from django.db import connection
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask._meta.db_table not in connection.introspection.table_names():
        return  # a partial migrate that has not reached django-celery-beat's tables yet
    for name, (task, hour, minute, description) in tasks.items():
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

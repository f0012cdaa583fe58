"""When the alignment audit runs by itself: one django-celery-beat entry that HR edits in the browser.

The entry is the PeriodicTask "Alignment audit" (task ``audits.scheduled_audit``) with a
CrontabSchedule in CELERY_TIMEZONE, every Monday at 05:00 until HR changes it.
``register_periodic_tasks`` creates it after ``migrate`` when it is missing and leaves an
existing one alone. The settings page reads it as an ``AuditSchedule`` (days, hour, minute,
a plain-words description) and writes it through ``update_schedule``. Saving a PeriodicTask
tells a running beat to reload its schedule, so a change takes effect without a restart.

Days follow cron: 0 = Sunday, 1 = Monday … 6 = Saturday.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from celery.schedules import crontab_parser
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from audits import access
from audits.models import AuditRun, RunTrigger
from core.log import log_action

TASK_NAME = "Alignment audit"
TASK = "audits.scheduled_audit"
DESCRIPTION = (
    "Runs the alignment audit and emails the digest to HR admins. Change the days and time on the audit settings page."
)
DEFAULT_DAYS = [1]  # Monday
DEFAULT_HOUR = 5
DEFAULT_MINUTE = 0

DAY_NAMES = {0: "Sunday", 1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday"}
WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0]  # as people read a week: Monday first


@dataclass
class AuditSchedule:
    enabled: bool
    hour: int
    minute: int
    days_of_week: list[int]  # 0 = Sunday … 6 = Saturday, as cron
    description: str
    last_run_at: datetime.datetime | None


def describe(*, enabled: bool, hour: int, minute: int, days_of_week: Iterable[int]) -> str:
    """ "Every Monday at 05:00", "Every weekday at 05:00", "Every day at 05:00"… in the schedule's time zone."""
    if not enabled:
        return "Off: audits run only when someone presses “Run now”"
    days = set(days_of_week)
    if days == set(DAY_NAMES):
        when = "Every day"
    elif days == {1, 2, 3, 4, 5}:
        when = "Every weekday (Monday to Friday)"
    elif days == {0, 6}:
        when = "Every Saturday and Sunday"
    else:
        names = [DAY_NAMES[d] for d in WEEK_ORDER if d in days]
        when = "Every " + (names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}")
    return f"{when} at {hour:02d}:{minute:02d} ({settings.CELERY_TIMEZONE} time)"


def _task():  # type: ignore[no-untyped-def]
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.select_related("crontab").filter(name=TASK_NAME).first()


def _last_scheduled_run() -> datetime.datetime | None:
    run = AuditRun.objects.filter(trigger=RunTrigger.SCHEDULED).order_by("-created_at", "-pk").first()
    return (run.started_at or run.created_at) if run else None


def _single(spec: str, size: int, default: int) -> int:
    """The first time a cron field names (an entry edited in the admin may name several)."""
    try:
        values = crontab_parser(size).parse(spec)
    except Exception:
        return default
    return min(values) if values else default


def get_schedule() -> AuditSchedule:
    """The audit schedule as the settings page shows it (two queries). Without an entry (deleted in
    the admin), the default times, switched off; saving the page creates the entry again."""
    task = _task()
    last_run_at = _last_scheduled_run()
    if task is None or task.crontab is None:
        # No entry, or one switched in the admin to another kind of schedule (an interval, a clock time).
        enabled = task is not None and task.enabled
        other = task and (task.interval or task.clocked or task.solar)
        return AuditSchedule(
            enabled=enabled,
            hour=DEFAULT_HOUR,
            minute=DEFAULT_MINUTE,
            days_of_week=list(DEFAULT_DAYS),
            description=f"A custom schedule set in the admin ({other})"
            if enabled
            else describe(enabled=False, hour=DEFAULT_HOUR, minute=DEFAULT_MINUTE, days_of_week=DEFAULT_DAYS),
            last_run_at=last_run_at,
        )
    cron = task.crontab
    hour = _single(cron.hour, 24, DEFAULT_HOUR)
    minute = _single(cron.minute, 60, DEFAULT_MINUTE)
    try:
        days = sorted(crontab_parser(7).parse(cron.day_of_week))
    except Exception:
        days = list(DEFAULT_DAYS)
    simple = (
        cron.hour == str(hour) and cron.minute == str(minute) and cron.day_of_month == "*" and cron.month_of_year == "*"
    )
    description = describe(enabled=task.enabled, hour=hour, minute=minute, days_of_week=days)
    if task.enabled and not simple:
        # Set in the admin with more than this page can show: say so rather than misdescribe it.
        description = (
            f"A custom schedule set in the admin (cron “{cron.minute} {cron.hour} {cron.day_of_month} "
            f"{cron.month_of_year} {cron.day_of_week}”, {settings.CELERY_TIMEZONE} time)"
        )
    return AuditSchedule(
        enabled=task.enabled,
        hour=hour,
        minute=minute,
        days_of_week=days,
        description=description,
        last_run_at=last_run_at,
    )


def _whole(value: object, low: int, high: int, field: str, label: str, errors: dict[str, str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            errors[field] = f"Enter the {label} as a whole number from {low} to {high}."
            return low
    if not low <= value <= high:
        errors[field] = f"Enter the {label} as a whole number from {low} to {high}."
    return value


def update_schedule(*, user, enabled: bool, hour: int, minute: int, days_of_week: list[int]) -> AuditSchedule:
    """HR sets the days and time (in CELERY_TIMEZONE) of the scheduled audit, or switches it off.
    A schedule that runs needs at least one day; a paused one keeps the days it had when none are given."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if not access.can_edit_audit_settings(user):
        raise PermissionDenied(access.SCHEDULE_MESSAGE)
    errors: dict[str, str] = {}
    hour = _whole(hour, 0, 23, "hour", "hour", errors)
    minute = _whole(minute, 0, 59, "minute", "minute", errors)
    days: set[int] = set()
    for day in days_of_week or []:
        if isinstance(day, bool) or str(day).strip() not in {str(d) for d in DAY_NAMES}:
            errors["days_of_week"] = "Choose days from Sunday (0) to Saturday (6)."
            break
        days.add(int(str(day).strip()))
    if enabled and not days and "days_of_week" not in errors:
        errors["days_of_week"] = "Tick at least one day for the audit to run on."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        task = (
            PeriodicTask.objects.select_for_update(of=("self",))
            .select_related("crontab")
            .filter(name=TASK_NAME)
            .first()
        )
        if not days:  # paused without days: keep those it had
            days = (
                set(crontab_parser(7).parse(task.crontab.day_of_week)) if task and task.crontab else set(DEFAULT_DAYS)
            )
        crontab = _crontab(CrontabSchedule, hour=hour, minute=minute, days=days)
        before = (
            {
                "enabled": task.enabled,
                "hour": task.crontab.hour,
                "minute": task.crontab.minute,
                "days_of_week": task.crontab.day_of_week,
            }
            if task is not None and task.crontab is not None
            else {}
        )
        if task is None:
            task = PeriodicTask(name=TASK_NAME, task=TASK, description=DESCRIPTION)
        task.task = TASK
        task.crontab = crontab
        task.interval = task.solar = task.clocked = None
        task.one_off = False
        task.enabled = bool(enabled)
        task.save()
        after = {
            "enabled": task.enabled,
            "hour": crontab.hour,
            "minute": crontab.minute,
            "days_of_week": crontab.day_of_week,
        }
        log_action(task, "audit.schedule_changed", user=user, changes={k: (before.get(k), v) for k, v in after.items()})
    return get_schedule()


def _crontab(model, *, hour: int, minute: int, days: Iterable[int]):  # type: ignore[no-untyped-def]
    return model.objects.get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_week=",".join(str(d) for d in sorted(days)),
        day_of_month="*",
        month_of_year="*",
        timezone=settings.CELERY_TIMEZONE,
    )[0]


def register_periodic_tasks(**kwargs: object) -> None:
    """Create the "Alignment audit" entry if it is missing (post_migrate); an existing one, as HR may
    have changed it, is left exactly as it is."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask._meta.db_table not in connection.introspection.table_names():
        return  # a partial migrate that has not reached django-celery-beat's tables yet
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return
    crontab = _crontab(CrontabSchedule, hour=DEFAULT_HOUR, minute=DEFAULT_MINUTE, days=DEFAULT_DAYS)
    PeriodicTask.objects.create(name=TASK_NAME, task=TASK, crontab=crontab, description=DESCRIPTION)

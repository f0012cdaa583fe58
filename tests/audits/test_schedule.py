"""The audit schedule: one django-celery-beat entry, Monday 05:00 by default, which HR changes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from audits import schedule
from audits.models import AuditRun, RunTrigger
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db
TZ = settings.CELERY_TIMEZONE


def entry() -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(name="Alignment audit")


def test_the_audit_is_in_the_beat_schedule_every_monday_at_five():
    task = entry()
    assert task.task == "audits.scheduled_audit" and task.enabled
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_week, cron.day_of_month, cron.month_of_year) == (
        "0",
        "5",
        "1",
        "*",
        "*",
    )
    assert str(cron.timezone) == TZ


def test_the_settings_page_reads_it_in_plain_words():
    current = schedule.get_schedule()
    assert (current.enabled, current.hour, current.minute, current.days_of_week) == (True, 5, 0, [1])
    assert current.description == f"Every Monday at 05:00 ({TZ} time)"
    assert current.last_run_at is None


def test_hr_changes_the_days_and_time_and_the_crontab_follows(cast):
    saved = schedule.update_schedule(user=cast.hr.user, enabled=True, hour=18, minute=30, days_of_week=[5, 1, 3])
    assert (saved.hour, saved.minute, saved.days_of_week) == (18, 30, [1, 3, 5])
    assert saved.description == f"Every Monday, Wednesday and Friday at 18:30 ({TZ} time)"
    cron = entry().crontab
    assert (cron.minute, cron.hour, cron.day_of_week) == ("30", "18", "1,3,5")
    assert PeriodicTask.objects.filter(task="audits.scheduled_audit").count() == 1


def test_a_change_tells_a_running_beat_to_reload(cast):
    from django_celery_beat.models import PeriodicTasks

    before = PeriodicTasks.last_change()
    schedule.update_schedule(user=cast.hr.user, enabled=True, hour=6, minute=0, days_of_week=[1])
    assert PeriodicTasks.last_change() is not None and PeriodicTasks.last_change() != before


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ([0, 1, 2, 3, 4, 5, 6], "Every day at 07:05"),
        ([1, 2, 3, 4, 5], "Every weekday (Monday to Friday) at 07:05"),
        ([6, 0], "Every Saturday and Sunday at 07:05"),
        ([0, 2], "Every Tuesday and Sunday at 07:05"),
    ],
)
def test_the_description_reads_naturally(days, text):
    assert schedule.describe(enabled=True, hour=7, minute=5, days_of_week=days).startswith(text)


def test_hr_switches_it_off_and_the_days_are_kept(cast):
    schedule.update_schedule(user=cast.hr.user, enabled=True, hour=5, minute=0, days_of_week=[2, 4])
    off = schedule.update_schedule(user=cast.hr.user, enabled=False, hour=5, minute=0, days_of_week=[])
    assert not off.enabled and off.days_of_week == [2, 4]
    assert off.description.startswith("Off: audits run only when someone presses")
    assert entry().enabled is False


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"hour": 24}, "hour"),
        ({"hour": -1}, "hour"),
        ({"hour": "five"}, "hour"),
        ({"hour": True}, "hour"),
        ({"minute": 60}, "minute"),
        ({"days_of_week": []}, "days_of_week"),
        ({"days_of_week": [7]}, "days_of_week"),
        ({"days_of_week": ["monday"]}, "days_of_week"),
    ],
)
def test_bad_values_are_refused_by_field_and_change_nothing(cast, values, field):
    data = {"enabled": True, "hour": 5, "minute": 0, "days_of_week": [1], **values}
    with pytest.raises(ValidationError) as error:
        schedule.update_schedule(user=cast.hr.user, **data)
    assert list(error.value.message_dict) == [field]
    assert entry().crontab.hour == "5" and entry().crontab.day_of_week == "1"


def test_only_hr_changes_the_schedule(cast):
    for person in (cast.employee, cast.manager, cast.stranger, EmployeeFactory(is_quality_lead=True)):
        with pytest.raises(PermissionDenied):
            schedule.update_schedule(user=person.user, enabled=False, hour=1, minute=0, days_of_week=[1])
    assert entry().enabled


def test_registering_again_keeps_what_hr_changed(cast):
    schedule.update_schedule(user=cast.hr.user, enabled=True, hour=22, minute=15, days_of_week=[0])
    schedule.register_periodic_tasks()
    assert PeriodicTask.objects.filter(name="Alignment audit").count() == 1
    assert (entry().crontab.hour, entry().crontab.day_of_week) == ("22", "0")


def test_a_deleted_entry_reads_as_off_and_saving_creates_it_again(cast):
    PeriodicTask.objects.filter(name="Alignment audit").delete()
    assert schedule.get_schedule().enabled is False
    schedule.update_schedule(user=cast.hr.user, enabled=True, hour=4, minute=0, days_of_week=[1])
    assert entry().crontab.hour == "4" and entry().task == "audits.scheduled_audit"


def test_a_custom_crontab_from_the_admin_is_described_as_such():
    custom, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="*/6", day_of_week="1-5", day_of_month="*", month_of_year="*", timezone=TZ
    )
    PeriodicTask.objects.filter(name="Alignment audit").update(crontab=custom)
    current = schedule.get_schedule()
    assert current.description.startswith("A custom schedule set in the admin (cron “0 */6 * * 1-5”")
    assert (current.hour, current.days_of_week) == (0, [1, 2, 3, 4, 5])


def test_the_last_scheduled_run_is_shown(cast):
    AuditRun.objects.create(trigger=RunTrigger.MANUAL)
    run = AuditRun.objects.create(trigger=RunTrigger.SCHEDULED)
    assert schedule.get_schedule().last_run_at == run.created_at


def test_an_interval_set_in_the_admin_is_described_and_saving_the_page_returns_to_days_and_time(cast):
    from django_celery_beat.models import IntervalSchedule

    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    task = entry()
    task.crontab, task.interval = None, every_hour
    task.save()
    current = schedule.get_schedule()
    assert current.enabled and current.description == "A custom schedule set in the admin (every hour)"
    schedule.update_schedule(user=cast.hr.user, enabled=True, hour=5, minute=0, days_of_week=[1])
    task = entry()
    assert task.interval is None and task.crontab.day_of_week == "1"

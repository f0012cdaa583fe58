from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Ground floor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A job's log entries name the job: Celery tells us which task runs.
        from core import log

        log.connect_job_signals()

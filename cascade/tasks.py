"""Background work for the cascade: thin wrappers that take ids and call the import runner."""

from __future__ import annotations

from celery import shared_task

from cascade.imports import runner


@shared_task(name="cascade.run_import")
def run_import(import_id: int) -> str:
    return runner.run_import(import_id).status

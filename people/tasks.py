"""Background work for people: thin wrappers that take ids and call services."""

from __future__ import annotations

from celery import shared_task

from people import org_import


@shared_task(name="people.run_org_chart_import")
def run_org_chart_import(import_id: int) -> str:
    return org_import.run_import(import_id).status

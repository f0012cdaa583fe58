"""Background work for incentive plans: thin tasks that take ids and call the services."""

from __future__ import annotations

from celery import shared_task

from incentives.services import plans


@shared_task(name="incentives.compute_plan")
def compute_plan(plan_id: int) -> str:
    return plans.run_compute(plan_id).state

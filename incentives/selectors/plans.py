"""Reads for incentive plans and payouts, scoped by who is asking (incentives/access.py decides).

A plan or payout outside the reader's scope is told not to exist (404).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from core.access import get_visible_or_404
from incentives import access
from incentives.models.plans import IncentivePlan, Payout, PlanState
from people.models import Employee


def get_plan(*, user, pk: int) -> IncentivePlan:
    return get_visible_or_404(access.plans_visible_to(user), pk=pk)


def get_payout(*, user, pk: int) -> Payout:
    return get_visible_or_404(access.payouts_visible_to(user), pk=pk)


def plan_totals(plan: IncentivePlan) -> dict[str, object]:
    """The plan's payouts summed: how many, paid, computed, target, and how many adjusted."""
    return Payout.objects.filter(plan=plan).aggregate(
        count=Count("pk"),
        total=Sum("amount"),
        computed=Sum("computed_amount"),
        target=Sum("target_bonus"),
        adjusted=Count("pk", filter=Q(adjusted=True)),
    )


def own_payouts(employee: Employee) -> QuerySet[Payout]:
    """A person's own payouts of published plans, newest first."""
    return (
        Payout.objects.filter(employee=employee, plan__state=PlanState.PUBLISHED)
        .select_related("plan__cycle")
        .order_by("-plan__published_at", "-pk")
    )


def reports_payouts(*, user, employee: Employee) -> QuerySet[Payout]:
    """The payouts the reader may see of the people under ``employee`` (anyone below in the chain)."""
    return (
        access.payouts_visible_to(user)
        .filter(employee__path__startswith=employee.path)
        .exclude(employee=employee)
        .select_related("plan__cycle", "employee__department")
        .order_by("-plan__created_at", "plan_id", "employee__full_name", "pk")
    )

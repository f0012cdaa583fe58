"""Reads for incentive plans and payouts, scoped by who is asking.

A payout is visible to HR; to the person's managers (anyone above them in the
reporting chain); and to the person themself once HR has published the plan.
Anyone else is told it does not exist (404). Plans are HR's.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from incentives.models.plans import IncentivePlan, Payout, PlanState
from people import selectors as people


def plans_visible_to(*, user) -> QuerySet[IncentivePlan]:
    if people.is_hr_admin(user):
        return IncentivePlan.objects.select_related("cycle").all()
    return IncentivePlan.objects.none()


def payouts_visible_to(*, user) -> QuerySet[Payout]:
    queryset = Payout.objects.select_related("plan", "employee__department")
    if people.is_hr_admin(user):
        return queryset
    me = people.employee_for_user(user)
    if me is None:
        return queryset.none()
    own = Q(employee=me, plan__state=PlanState.PUBLISHED)
    reports = Q(employee__path__startswith=me.path) & ~Q(employee=me)
    return queryset.filter(own | reports)


def get_payout(*, user, pk: int) -> Payout:
    try:
        return payouts_visible_to(user=user).get(pk=pk)
    except Payout.DoesNotExist:
        raise Http404("No such payout.") from None


def get_plan(*, user, pk: int) -> IncentivePlan:
    try:
        return plans_visible_to(user=user).get(pk=pk)
    except IncentivePlan.DoesNotExist:
        raise Http404("No such incentive plan.") from None

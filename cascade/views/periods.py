"""HR's goal periods page: every period, adding one, and
choosing the organisation's default period (what people see when no cycle of theirs is running).

Goal-period set-up is reserved to HR: anyone else signed in gets 403 with a message
(core.access.requires), as every role-reserved set-up page does.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cascade import access, selectors, services
from cascade.forms.periods import GoalPeriodForm
from cascade.models import GoalPeriod
from core.access import requires
from core.forms import apply_service_errors

ONLY_HR = "Only HR can set up goal periods."


def _page(request: HttpRequest, form: GoalPeriodForm, *, status: int = 200) -> HttpResponse:
    periods = GoalPeriod.objects.annotate(goal_count=Count("goals", distinct=True)).order_by("-start", "-pk")
    return render(
        request,
        "cascade/periods/list.html",
        {
            "periods": list(periods),
            "form": form,
            # What people outside a running cycle see now: the marked period, else the fallback.
            "organisation_default": selectors.organisation_default_period(),
        },
        status=status,
    )


@requires(access.can_manage_periods, ONLY_HR)
@require_http_methods(["GET", "POST"])
def period_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, GoalPeriodForm())
    form = GoalPeriodForm(request.POST)
    if form.is_valid():
        try:
            period = services.period_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"The goal period “{period.name}” was added.")
            return redirect("cascade:period_list")
    return _page(request, form, status=400)


@requires(access.can_manage_periods, ONLY_HR)
@require_POST
def period_make_default(request: HttpRequest, pk: int) -> HttpResponse:
    period = services.period_make_default(user=request.user, period=get_object_or_404(GoalPeriod, pk=pk))
    messages.success(
        request,
        f"“{period.name}” is now the default goal period: people not taking part in a running review cycle see it.",
    )
    return redirect("cascade:period_list")

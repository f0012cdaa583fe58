"""Admin pages for goal periods (HR admins and superusers only, as in people.admin).

The default period is chosen through cascade.services.period_make_default, here as on the
goal periods page, so that marking one unmarks the other in one transaction.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cascade import services
from cascade.models import GoalPeriod
from people.admin import HRAdminOnly


@admin.register(GoalPeriod)
class GoalPeriodAdmin(HRAdminOnly, admin.ModelAdmin):
    list_display = ("name", "start", "end", "is_open", "is_default")
    list_filter = ("is_open", "is_default")
    search_fields = ("name",)
    ordering = ("-start",)
    # The default is chosen by the action below: ticking the box on a second period would break
    # the one-default constraint instead of moving the mark.
    readonly_fields = ("is_default",)
    actions = ("make_default",)

    @admin.action(description="Make the selected period the default")
    def make_default(self, request: HttpRequest, queryset: QuerySet[GoalPeriod]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one period to be the default.", level=messages.ERROR)
            return
        period = services.period_make_default(user=request.user, period=queryset.get())
        self.message_user(request, f"“{period.name}” is now the default goal period.", level=messages.SUCCESS)

"""Admin for HR power users: incentive plans and payouts (recognition and pathways: recognition.py).

An approved plan is read-only here as everywhere: the models refuse the save.
"""

from __future__ import annotations

from django.contrib import admin

from incentives.models.plans import IncentivePlan, Payout, PayoutAdjustment, PlanComponent, TargetBonus


class PlanComponentInline(admin.TabularInline):
    model = PlanComponent
    extra = 0


@admin.register(IncentivePlan)
class IncentivePlanAdmin(admin.ModelAdmin):
    list_display = ("name", "cycle", "state", "minimum_tenure_months", "computed_at", "approved_at", "published_at")
    list_filter = ("state", "cycle")
    search_fields = ("name",)
    filter_horizontal = ("departments",)
    readonly_fields = (
        "state",
        "compute_total",
        "compute_done",
        "compute_error",
        "computed_at",
        "approved_by",
        "approved_at",
        "published_at",
        "version",
    )
    inlines = [PlanComponentInline]

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return (obj is None or not obj.is_locked) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return (obj is None or not obj.is_locked) and super().has_delete_permission(request, obj)


@admin.register(TargetBonus)
class TargetBonusAdmin(admin.ModelAdmin):
    list_display = ("employee", "plan", "amount")
    list_filter = ("plan",)
    raw_id_fields = ("employee",)
    search_fields = ("employee__full_name", "employee__employee_id")


class PayoutAdjustmentInline(admin.TabularInline):
    model = PayoutAdjustment
    extra = 0
    readonly_fields = ("old_amount", "new_amount", "reason", "by", "at")
    can_delete = False


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = ("employee", "plan", "target_bonus", "computed_amount", "amount", "adjusted")
    list_filter = ("plan", "adjusted")
    raw_id_fields = ("employee",)
    search_fields = ("employee__full_name", "employee__employee_id")
    readonly_fields = ("plan", "employee", "target_bonus", "computed_amount", "breakdown", "version")
    inlines = [PayoutAdjustmentInline]

    # Adjust through the plan's review (a reason is required and kept); here payouts are read.
    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

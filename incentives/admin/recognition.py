"""Admin for recognition and career pathways (registered by incentives/admin/__init__.py)."""

from __future__ import annotations

from django.contrib import admin

from incentives.models.recognition import Notification, Pathway, PathwayCandidate, PathwayCompetency, Recognition


@admin.register(Recognition)
class RecognitionAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "author", "department", "priority", "created_at", "is_hidden")
    list_filter = ("kind", "is_hidden", "priority")
    search_fields = ("message", "author__full_name", "recipients__full_name")
    raw_id_fields = ("author", "recipients", "department", "goal", "measure", "priority", "pathway", "hidden_by")
    readonly_fields = ("created_at", "hidden_at")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "text", "created_at", "read_at")
    raw_id_fields = ("recipient", "recognition")
    search_fields = ("recipient__full_name", "text")


class PathwayCompetencyInline(admin.TabularInline):
    model = PathwayCompetency
    extra = 1


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "is_active",
        "min_achieved_goals",
        "goal_cycles",
        "min_recognitions",
        "min_development_actions",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [PathwayCompetencyInline]


@admin.register(PathwayCandidate)
class PathwayCandidateAdmin(admin.ModelAdmin):
    list_display = ("employee", "pathway", "status", "proposed_at", "decided_at", "decided_by")
    list_filter = ("status", "pathway")
    search_fields = ("employee__full_name",)
    raw_id_fields = ("employee", "decided_by")
    readonly_fields = ("proposed_at", "evidence")

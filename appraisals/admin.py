"""Admin pages for HR power users: review cycles and the records people keep in them.

HR reads everything here and changes appraisals only through HR actions (locking),
never by editing a record: the pages are read-only, and the only action calls
appraisals.services. A locked appraisal is doubly safe: a POST to its page is
refused (403), and its model refuses the save anyway. Cycle set-up, launch and
phases have their own pages (appraisals.views.cycle_setup and cycle_dashboard).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from appraisals.access import can_lock, can_manage_cycles
from appraisals.models import (
    Appraisal,
    CheckIn,
    CompetencyRating,
    DevelopmentAction,
    DevelopmentPlan,
    DialogueAnswer,
    GoalRating,
    HistoryEntry,
    Participant,
    ReviewCycle,
    ToDo,
)
from appraisals.services import appraisals as workflow
from core.admin import read_only_admin

HRReadOnly = read_only_admin(can_manage_cycles, "HRReadOnly")  # HR reads these pages; nobody changes them


class ReadOnlyInline(HRReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


@admin.register(ReviewCycle)
class ReviewCycleAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("name", "methodology", "state", "phase", "start", "end")
    list_filter = ("state", "methodology", "phase")
    search_fields = ("name",)


@admin.register(Participant)
class ParticipantAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("employee", "cycle", "reviewer", "form_version")
    list_filter = ("cycle",)
    search_fields = ("employee__full_name", "employee__employee_id")
    list_select_related = ("employee", "cycle", "reviewer", "form_version__form")


class GoalRatingInline(ReadOnlyInline):
    model = GoalRating
    fields = ("goal", "self_rating", "self_comment", "manager_rating", "manager_comment")


class CompetencyRatingInline(ReadOnlyInline):
    model = CompetencyRating
    fields = ("form_competency", "self_rating", "self_evidence", "manager_rating", "manager_evidence")


class DialogueAnswerInline(ReadOnlyInline):
    model = DialogueAnswer
    fields = ("question", "text")


@admin.register(Appraisal)
class AppraisalAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("participant", "state", "score", "shared_at", "locked_at", "updated_at")
    list_filter = ("state", "participant__cycle")
    search_fields = ("participant__employee__full_name", "participant__employee__employee_id")
    list_select_related = ("participant__employee", "participant__cycle")
    inlines = [GoalRatingInline, CompetencyRatingInline, DialogueAnswerInline]
    actions = ["lock_selected"]

    @admin.action(description="Lock the selected appraisals (final, with their scores)")
    def lock_selected(self, request: HttpRequest, queryset: QuerySet[Appraisal]) -> None:
        if not can_lock(request.user):
            raise PermissionDenied
        locked, refused = 0, []
        for appraisal in queryset.select_related("participant__employee", "participant__cycle").order_by("pk"):
            try:
                workflow.appraisal_lock(appraisal=appraisal, user=request.user)
                locked += 1
            except ValidationError as exc:
                refused.append(f"{appraisal.participant.employee}: {' '.join(exc.messages)}")
        if locked:
            self.message_user(request, f"Locked {locked} appraisal{'s' if locked != 1 else ''}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)


@admin.register(CheckIn)
class CheckInAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("participant", "completed_at", "updated_at")
    list_filter = ("participant__cycle",)
    search_fields = ("participant__employee__full_name",)
    list_select_related = ("participant__employee", "participant__cycle")


class DevelopmentActionInline(ReadOnlyInline):
    model = DevelopmentAction
    fields = ("description", "competency", "target_level", "due_date", "status", "completed_at")


@admin.register(DevelopmentPlan)
class DevelopmentPlanAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("participant", "agreed_at", "updated_at")
    list_filter = ("participant__cycle",)
    search_fields = ("participant__employee__full_name",)
    list_select_related = ("participant__employee", "participant__cycle")
    inlines = [DevelopmentActionInline]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("at", "cycle", "participant", "record", "action", "field", "old", "new", "actor")
    list_filter = ("cycle", "action")
    search_fields = ("participant__employee__full_name", "record", "field")
    list_select_related = ("cycle", "participant__employee", "actor")
    date_hierarchy = "at"


@admin.register(ToDo)
class ToDoAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("employee", "kind", "cycle", "due", "done_at", "last_reminded_at")
    list_filter = ("kind", "cycle")
    search_fields = ("employee__full_name",)
    list_select_related = ("employee", "cycle")

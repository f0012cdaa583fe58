"""Admin pages for HR power users: audit runs, findings with their history, and the rules' settings.

Runs and findings are read here; they change only through the audit itself and HR's actions
in the app (audits.services), never by editing a row, so that a finding's history stays
true. The one action, "Run again", calls audits.services.runs.rerun. A rule's settings may be
changed here too: the form checks the values against the rule's declared bounds and the save
goes through audits.services.settings, as the settings page does.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from audits import access
from audits.models import AuditRun, Finding, FindingEvent, RuleConfig
from audits.rules import get_rule
from audits.services import runs as run_services
from audits.services import settings as setting_services
from core.admin import read_only_admin
from core.errors import ConflictError

HRReadOnly = read_only_admin(access.can_use_audit_admin, "HRReadOnly")  # HR reads these pages; nobody changes them


@admin.register(AuditRun)
class AuditRunAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = (
        "pk",
        "trigger",
        "state",
        "created_at",
        "finished_at",
        "alignment_score",
        "findings_new",
        "findings_seen",
        "findings_closed",
        "attempts",
        "digest_sent_at",
    )
    list_filter = ("state", "trigger")
    list_select_related = ("requested_by",)
    readonly_fields = [f.name for f in AuditRun._meta.fields]
    actions = ["run_again"]

    @admin.action(description="Run the selected failed audits again")
    def run_again(self, request: HttpRequest, queryset: QuerySet[AuditRun]) -> None:
        for run in queryset.order_by("pk"):
            try:
                run_services.rerun(user=request.user, run=run)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"Run {run.pk}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            else:
                messages.success(request, f"Run {run.pk} is running again.")

    def get_actions(self, request: HttpRequest) -> dict:
        # The changelist hides actions from those without change permission: HR may still rerun.
        actions = super().get_actions(request)
        if not access.can_run_audits(request.user):
            actions.pop("run_again", None)
        return actions


class FindingEventInline(HRReadOnly, admin.TabularInline):
    model = FindingEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "run", "by", "comment")
    readonly_fields = fields


@admin.register(Finding)
class FindingAdmin(HRReadOnly, admin.ModelAdmin):
    list_display = ("subject_label", "rule", "severity", "status", "department", "first_seen_at", "last_seen_at")
    list_filter = ("status", "severity", "rule", "subject_type")
    search_fields = ("subject_label", "message", "fingerprint")
    list_select_related = ("department",)
    readonly_fields = [f.name for f in Finding._meta.fields]
    inlines = [FindingEventInline]


class RuleConfigForm(forms.ModelForm):
    class Meta:
        model = RuleConfig
        fields = ["enabled", "thresholds"]

    def clean_thresholds(self) -> dict:
        thresholds = self.cleaned_data.get("thresholds") or {}
        if not isinstance(thresholds, dict):
            raise ValidationError('Give the thresholds as an object: {"name": value}.')
        try:
            rule = get_rule(self.instance.rule)
        except KeyError:
            raise ValidationError("This rule no longer exists.") from None
        try:
            setting_services.validate_thresholds(rule, rule.defaults() | thresholds)
        except ValidationError as exc:
            raise ValidationError([f"{key}: {'; '.join(msgs)}" for key, msgs in exc.message_dict.items()]) from None
        return thresholds


@admin.register(RuleConfig)
class RuleConfigAdmin(admin.ModelAdmin):
    form = RuleConfigForm
    list_display = ("rule", "enabled", "thresholds", "updated_at", "updated_by", "version")
    readonly_fields = ("rule", "updated_at", "updated_by", "version")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.can_use_audit_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return access.can_use_audit_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return access.can_edit_audit_settings(request.user)

    # Rows appear when HR first saves a rule on the settings page; a missing row means "the defaults".
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return access.can_edit_audit_settings(request.user)

    # Deleting a rule's row puts it back to its defaults: through the service, so it is logged.
    def delete_model(self, request: HttpRequest, obj: RuleConfig) -> None:
        setting_services.reset_rule(user=request.user, config=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RuleConfig]) -> None:
        for config in queryset.order_by("rule"):
            setting_services.reset_rule(user=request.user, config=config)

    def save_model(self, request: HttpRequest, obj: RuleConfig, form: forms.ModelForm, change: bool) -> None:
        rule = get_rule(obj.rule)
        try:
            setting_services.update_rule(
                user=request.user,
                key=obj.rule,
                enabled=obj.enabled,
                thresholds=rule.defaults() | dict(obj.thresholds or {}),
                expected_version=None,  # the admin has no version field; the last save wins, as elsewhere in the admin
            )
        except ConflictError as exc:
            messages.error(request, exc.message)

"""Admin pages for HR power users: the library, scales, forms and their versions, assignment rules.

Access follows the product's rule (HR admins only). A published or retired
version never changes here either: its page still shows the fields, but a save
that would change anything is refused with a message, as the services would
refuse it. Publishing, new drafts and retiring are admin actions that call
competencies.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from competencies import services
from competencies.models import (
    AppraisalForm,
    AssignmentRule,
    BehaviouralIndicator,
    Competency,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    RatingScale,
    ScaleLevel,
    VersionStatus,
)
from competencies.selectors import version_balance
from competencies.services import validation
from people.access import is_hr_admin
from people.admin import HRAdminOnly as PeopleHRAdminOnly


class HRAdminOnly(PeopleHRAdminOnly):
    """HR admins only, as in the people admin; what may be deleted is decided per model below."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_hr_admin(request.user)


class HRInline:
    """Inlines ask the same question as their page; Django's model permissions play no part."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_hr_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_hr_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_hr_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return is_hr_admin(request.user)


class RefusalsAsMessages:
    """A refusal raised while saving (a model's own guard, a race) becomes a message, not a 500.

    The admin saves inside one transaction, so nothing of the refused save is kept.
    """

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None) -> HttpResponse:  # type: ignore[no-untyped-def]
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())


def _bump_version(obj) -> None:  # type: ignore[no-untyped-def]
    type(obj)._base_manager.filter(pk=obj.pk).update(version=F("version") + 1)
    obj.refresh_from_db(fields=["version"])


def _live_forms(formset: BaseInlineFormSet) -> list[forms.Form]:
    return [
        form
        for form in formset.forms
        if form.has_changed() or form.instance.pk
        if not (formset.can_delete and formset._should_delete_form(form))
        if hasattr(form, "cleaned_data") and form.cleaned_data
    ]


def _touched(formset: BaseInlineFormSet) -> bool:
    return any(
        form.has_changed() or (formset.can_delete and formset._should_delete_form(form)) for form in formset.forms
    )


# ---------------------------------------------------------------- competencies


class IndicatorFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        levels = sorted(form.cleaned_data["level"] for form in _live_forms(self) if form.cleaned_data.get("level"))
        if levels and levels != list(range(1, len(levels) + 1)):
            raise ValidationError(
                f"Indicators are numbered from level 1 without gaps; these are levels {', '.join(map(str, levels))}."
            )


class BehaviouralIndicatorInline(HRInline, admin.TabularInline):
    model = BehaviouralIndicator
    formset = IndicatorFormSet
    extra = 0
    fields = ("level", "text")


@admin.register(Competency)
class CompetencyAdmin(RefusalsAsMessages, HRAdminOnly, admin.ModelAdmin):
    list_display = ("name", "category", "status")
    list_filter = ("status", "category")
    search_fields = ("name", "description")
    readonly_fields = ("version",)
    fields = ("name", "category", "description", "status", "version")
    inlines = [BehaviouralIndicatorInline]

    def has_delete_permission(self, request: HttpRequest, obj: Competency | None = None) -> bool:
        return False  # retired, never deleted: forms and appraisals keep pointing at it

    def save_model(self, request: HttpRequest, obj: Competency, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if change:
            _bump_version(obj)


# ---------------------------------------------------------------- rating scales


class ScaleLevelFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        scale: RatingScale = self.instance
        if scale.pk and _touched(self) and scale.is_locked():
            raise ValidationError(scale.locked_message())
        live = sorted(_live_forms(self), key=lambda form: form.cleaned_data.get("order") or 0)
        specs = [
            validation.LevelSpec(
                value=form.cleaned_data["value"],
                label=form.cleaned_data.get("label", ""),
                descriptor=form.cleaned_data.get("descriptor", ""),
            )
            for form in live
            if form.cleaned_data.get("value") is not None
        ]
        problems = validation.level_problems(specs)
        if problems:
            raise ValidationError(problems)


class ScaleLevelInline(HRInline, admin.TabularInline):
    model = ScaleLevel
    formset = ScaleLevelFormSet
    extra = 0
    fields = ("order", "value", "label", "descriptor")


@admin.register(RatingScale)
class RatingScaleAdmin(RefusalsAsMessages, HRAdminOnly, admin.ModelAdmin):
    list_display = ("name", "methodology")
    list_filter = ("methodology",)
    search_fields = ("name",)
    readonly_fields = ("version",)
    fields = ("name", "methodology", "description", "version")
    inlines = [ScaleLevelInline]

    def has_delete_permission(self, request: HttpRequest, obj: RatingScale | None = None) -> bool:
        return False  # a scale stays for the ratings given on it

    def save_model(self, request: HttpRequest, obj: RatingScale, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if change:
            _bump_version(obj)


# ---------------------------------------------------------------- forms and versions


class FormVersionInline(HRInline, admin.TabularInline):
    """The versions of a form, for reading; each opens its own page."""

    model = FormVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("number", "status", "goals_weight", "competencies_weight", "published_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AppraisalForm)
class AppraisalFormAdmin(RefusalsAsMessages, HRAdminOnly, admin.ModelAdmin):
    list_display = ("name", "methodology")
    list_filter = ("methodology",)
    search_fields = ("name",)
    readonly_fields = ("version",)
    fields = ("name", "methodology", "description", "version")
    inlines = [FormVersionInline]
    actions = ["start_new_draft"]

    def has_delete_permission(self, request: HttpRequest, obj: AppraisalForm | None = None) -> bool:
        if obj is not None and obj.versions.exclude(status=VersionStatus.DRAFT).exists():
            return False  # published forms are retired, never deleted
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: AppraisalForm, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if change:
            super().save_model(request, obj, form, change)
            _bump_version(obj)
            return
        # A new form comes with its first draft and the seeded dialogue questions.
        created = services.form_create(
            user=request.user, name=obj.name, description=obj.description, methodology=obj.methodology
        )
        obj.pk, obj.created_at, obj.version = created.pk, created.created_at, created.version
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: AppraisalForm) -> None:
        services.form_delete(user=request.user, form=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AppraisalForm]) -> None:
        for form in queryset:
            services.form_delete(user=request.user, form=form)

    @admin.action(description="Start a new draft of the selected forms")
    def start_new_draft(self, request: HttpRequest, queryset: QuerySet[AppraisalForm]) -> None:
        for form in queryset:
            try:
                draft = services.form_start_new_draft(user=request.user, form=form)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            else:
                self.message_user(request, f"Started version {draft.number} of “{form.name}” as a draft.")


class FrozenVersionFormSet(BaseInlineFormSet):
    """Rows of a published or retired version: any change is refused, with the reason."""

    def clean(self) -> None:
        super().clean()
        version: FormVersion = self.instance
        if version.pk and not version.is_draft and _touched(self):
            raise ValidationError(version.frozen_message())


class FormCompetencyInline(HRInline, admin.TabularInline):
    model = FormCompetency
    formset = FrozenVersionFormSet
    extra = 0
    fields = ("competency", "weight", "scale", "order")
    autocomplete_fields = ("competency",)


class DialogueQuestionInline(HRInline, admin.TabularInline):
    model = DialogueQuestion
    formset = FrozenVersionFormSet
    extra = 0
    fields = ("key", "text", "help_text", "order")


class FormVersionAdminForm(forms.ModelForm):
    class Meta:
        model = FormVersion
        fields = ("goals_weight", "goals_scale", "competencies_weight")

    def clean(self) -> dict:
        cleaned = super().clean()
        # A frozen version is refused by the model's own clean(); a draft's section weights must add up.
        if self.instance.is_draft and {"goals_weight", "competencies_weight"} & set(self.changed_data):
            problem = validation.section_weights_problem(
                cleaned.get("goals_weight") or 0, cleaned.get("competencies_weight") or 0
            )
            if problem:
                raise ValidationError(problem)
        return cleaned


@admin.register(FormVersion)
class FormVersionAdmin(RefusalsAsMessages, HRAdminOnly, admin.ModelAdmin):
    form = FormVersionAdminForm
    list_display = ("form", "number", "status", "goals_weight", "competencies_weight", "published_at")
    list_filter = ("status", "form")
    list_select_related = ("form",)
    readonly_fields = ("form", "number", "status", "published_at", "published_by", "version", "in_use", "balance")
    fields = (
        "form",
        "number",
        "status",
        "goals_weight",
        "goals_scale",
        "competencies_weight",
        "balance",
        "published_at",
        "published_by",
        "in_use",
        "version",
    )
    inlines = [FormCompetencyInline, DialogueQuestionInline]
    actions = ["publish", "retire"]

    @admin.display(boolean=True, description="in use")
    def in_use(self, obj: FormVersion) -> bool:
        return obj.is_in_use()

    @admin.display(description="results / process")
    def balance(self, obj: FormVersion) -> str:
        figures = version_balance(obj)
        text = f"{figures.results_weight}% results, {figures.process_weight}% process (floor {figures.floor}%)"
        return f"{text}. {figures.warning}" if figures.below_floor else text

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from their form: a new form, or "start a new draft"

    def has_delete_permission(self, request: HttpRequest, obj: FormVersion | None = None) -> bool:
        if obj is not None and not obj.is_draft:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: FormVersion, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if data:
            services.draft_update(user=request.user, version=obj, expected_version=None, data=data)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            _bump_version(form.instance)

    @admin.action(description="Publish the selected drafts")
    def publish(self, request: HttpRequest, queryset: QuerySet[FormVersion]) -> None:
        for version in queryset.select_related("form"):
            try:
                services.form_publish(user=request.user, version=version, expected_version=None)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", level=messages.ERROR)
            else:
                self.message_user(request, f"Published version {version.number} of “{version.form.name}”.")

    @admin.action(description="Retire the selected published versions")
    def retire(self, request: HttpRequest, queryset: QuerySet[FormVersion]) -> None:
        for version in queryset.select_related("form"):
            try:
                services.version_retire(user=request.user, version=version, expected_version=None)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            else:
                self.message_user(request, f"Retired version {version.number} of “{version.form.name}”.")


# ---------------------------------------------------------------- assignment rules


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(RefusalsAsMessages, HRAdminOnly, admin.ModelAdmin):
    list_display = ("__str__", "form", "priority")
    list_filter = ("is_default", "form")
    list_select_related = ("form", "department")
    autocomplete_fields = ("department",)
    readonly_fields = ("version",)
    fields = ("form", "department", "job_title", "is_default", "priority", "version")

    def save_model(self, request: HttpRequest, obj: AssignmentRule, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if change:
            _bump_version(obj)

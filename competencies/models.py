"""The competency library, methodology rating scales and versioned appraisal forms.

An appraisal form is a name; its content lives on a **version**. A draft is
edited freely (by HR, through competencies.services); publishing freezes it.
From then on only its status may move (published → retired): its weights,
scales, competencies and questions never change again, whoever asks — the
services, the admin, the API or a direct ``save()``. Editing a published form
means starting a new draft, which copies the published content.

"In use": a later app's records (appraisals) point at a FormVersion with an
ordinary foreign key. ``FormVersion.is_in_use()`` finds every such field by
scanning the registered models, so no counter has to be kept in step.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

from core.frozen import FrozenChild
from people.models import Department, Employee

# The "over-emphasis on end results" floor: below this share for process
# (competencies), the builder warns. Settings may override it.
DEFAULT_MIN_PROCESS_WEIGHT = 30


def min_process_weight() -> int:
    return int(getattr(settings, "THROUGHLINE_MIN_PROCESS_WEIGHT", DEFAULT_MIN_PROCESS_WEIGHT))


class Methodology(models.TextChoices):
    """cascade.models.Methodology plus "generic", for scales and forms that suit any approach."""

    LEAN = "lean", "Lean"
    SIX_SIGMA = "six_sigma", "Six Sigma"
    PDSA = "pdsa", "PDSA"
    DMAIC = "dmaic", "DMAIC"
    GENERIC = "generic", "Any methodology"


# ---------------------------------------------------------------- competencies


class CompetencyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Competency(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=80, blank=True, default="Quality improvement")
    status = models.CharField(max_length=10, choices=CompetencyStatus, default=CompetencyStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "competencies"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="competency_name_unique_ci",
                violation_error_message="A competency with this name already exists.",
            ),
            models.CheckConstraint(condition=Q(status__in=CompetencyStatus.values), name="competency_status_known"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.status == CompetencyStatus.RETIRED


class BehaviouralIndicator(models.Model):
    """What someone at one proficiency level does; level 1 is the least proficient."""

    competency = models.ForeignKey(Competency, on_delete=models.CASCADE, related_name="indicators")
    level = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10)])
    text = models.TextField()

    class Meta:
        ordering = ["competency_id", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["competency", "level"],
                name="indicator_one_per_level",
                violation_error_message="This competency already has an indicator for that level.",
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=10), name="indicator_level_1_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.competency} — level {self.level}"


# ---------------------------------------------------------------- rating scales


class RatingScale(models.Model):
    name = models.CharField(max_length=120)
    methodology = models.CharField(max_length=20, choices=Methodology, default=Methodology.GENERIC)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="rating_scale_name_unique_ci",
                violation_error_message="A rating scale with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_locked(self) -> bool:
        """Used by a published (or retired) form version: ratings given on it must keep their meaning."""
        return (
            FormVersion.objects.exclude(status=VersionStatus.DRAFT)
            .filter(Q(goals_scale=self) | Q(competencies__scale=self))
            .exists()
        )

    def locked_message(self) -> str:
        return (
            f"“{self.name}” is used by a published appraisal form, so its levels cannot change: ratings given "
            "on it would change meaning. Create a new scale instead."
        )


class ScaleLevel(FrozenChild):
    """A level of a rating scale, fixed once the scale is used by a published form (core.frozen)."""

    frozen_with = "scale"

    scale = models.ForeignKey(RatingScale, on_delete=models.CASCADE, related_name="levels")
    order = models.PositiveSmallIntegerField(help_text="Position on the scale, lowest first.")
    value = models.DecimalField(max_digits=6, decimal_places=2)
    label = models.CharField(max_length=80)
    descriptor = models.TextField(blank=True, help_text="What this level looks like in practice.")

    class Meta:
        ordering = ["scale_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["scale", "order"], name="scale_level_order_unique"),
            models.UniqueConstraint(
                fields=["scale", "value"],
                name="scale_level_value_unique",
                violation_error_message="Two levels of one scale cannot share a value.",
            ),
            models.UniqueConstraint(
                "scale",
                Lower("label"),
                name="scale_level_label_unique_ci",
                violation_error_message="Two levels of one scale cannot share a label.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scale}: {self.label} ({self.value})"

    @classmethod
    def frozen_refusal(cls, parent_ids) -> str | None:  # type: ignore[no-untyped-def]
        for scale in RatingScale.objects.filter(pk__in=parent_ids):
            if scale.is_locked():
                return scale.locked_message()
        return None


# ---------------------------------------------------------------- appraisal forms


class AppraisalForm(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    methodology = models.CharField(max_length=20, choices=Methodology, default=Methodology.GENERIC)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="appraisal_form_name_unique_ci",
                violation_error_message="An appraisal form with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


# Fields of a version frozen from publication on: its content and when and by whom it was published.
VERSION_CONTENT_FIELDS = ("form_id", "number", "goals_weight", "goals_scale_id", "competencies_weight")
VERSION_FROZEN_FIELDS = (*VERSION_CONTENT_FIELDS, "published_at", "published_by_id")
# What a bulk update may still touch on a frozen version: the lock counter. (Its status
# moves by save(), which checks the transition.)
VERSION_BOOKKEEPING_FIELDS = frozenset({"version", "updated_at"})
ALLOWED_TRANSITIONS = {
    (VersionStatus.DRAFT, VersionStatus.DRAFT),
    (VersionStatus.DRAFT, VersionStatus.PUBLISHED),
    (VersionStatus.PUBLISHED, VersionStatus.PUBLISHED),
    (VersionStatus.PUBLISHED, VersionStatus.RETIRED),
    (VersionStatus.RETIRED, VersionStatus.RETIRED),
}


def frozen_message(form_name: str, number: int, status: str) -> str:
    state = "retired" if status == VersionStatus.RETIRED else "published"
    return (
        f"Version {number} of “{form_name}” is {state}, so it cannot change. "
        "Start a new draft of the form to make changes."
    )


class FormVersionQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        if set(kwargs) - VERSION_BOOKKEEPING_FIELDS:
            frozen = self.exclude(status=VersionStatus.DRAFT).select_related("form").first()
            if frozen is not None:
                raise ValidationError(frozen.frozen_message())
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        frozen = self.exclude(status=VersionStatus.DRAFT).select_related("form").first()
        if frozen is not None:
            raise ValidationError(frozen.frozen_message())
        return super().delete()

    def published(self) -> FormVersionQuerySet:
        return self.filter(status=VersionStatus.PUBLISHED)


class FormVersion(models.Model):
    form = models.ForeignKey(AppraisalForm, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus, default=VersionStatus.DRAFT)
    goals_weight = models.PositiveSmallIntegerField(
        "goals section weight", default=60, validators=[MaxValueValidator(100)]
    )
    goals_scale = models.ForeignKey(
        RatingScale, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="goals scale"
    )
    competencies_weight = models.PositiveSmallIntegerField(
        "competencies section weight", default=40, validators=[MaxValueValidator(100)]
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by every change to the draft or its rows, so that two people editing
    # one draft cannot silently overwrite each other (409).
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = FormVersionQuerySet.as_manager()

    class Meta:
        ordering = ["form_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="form_version_number_unique"),
            models.UniqueConstraint(
                fields=["form"],
                condition=Q(status="draft"),
                name="form_one_draft",
                violation_error_message="This form already has a draft; edit that one.",
            ),
            models.UniqueConstraint(fields=["form"], condition=Q(status="published"), name="form_one_published"),
            models.CheckConstraint(condition=Q(number__gte=1), name="form_version_number_positive"),
            models.CheckConstraint(condition=Q(status__in=VersionStatus.values), name="form_version_status_known"),
            models.CheckConstraint(
                condition=Q(goals_weight__lte=100, competencies_weight__lte=100), name="form_version_weights_le_100"
            ),
            # A published form always adds up; a draft may be half-built.
            models.CheckConstraint(
                condition=Q(status="draft") | Q(Exact(F("goals_weight") + F("competencies_weight"), 100)),
                name="form_version_published_weights_total_100",
                violation_error_message="The section weights of a published form must total 100.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="form_version_published_at_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number} ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        refusal = self._refusal()
        if refusal:
            raise ValidationError(refusal)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        stored = self._stored()
        if stored is not None and stored["status"] != VersionStatus.DRAFT:
            raise ValidationError(frozen_message(self.form.name, stored["number"], stored["status"]))
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def frozen_message(self) -> str:
        return frozen_message(self.form.name, self.number, self.status)

    # ------------------------------------------------------------ "in use"

    @classmethod
    def referencing_fields(cls) -> list[models.Field]:
        """Every field of another model that points at FormVersion (foreign key, one-to-one or
        many-to-many), this version's own rows excepted.

        An appraisal (or anything else) that keeps a ``ForeignKey("competencies.FormVersion")``
        is found here without further ado, whatever its related_name (even "+"); PROTECT is
        the right on_delete for it. The registry's models are scanned rather than
        ``_meta.related_objects``, which leaves out hidden reverse relations.
        """
        own_rows = {FormCompetency, DialogueQuestion}
        return [
            field
            for model in apps.get_models()
            if model not in own_rows
            for field in model._meta.get_fields()
            if field.is_relation and field.concrete and field.related_model is cls
        ]

    def is_in_use(self) -> bool:
        """Published (or retired) and referenced by any record elsewhere: it can never change or go.

        A draft is never in use: nothing may point at a version before it is published.
        One ``exists()`` query per referencing field.
        """
        if self.pk is None or self.status == VersionStatus.DRAFT:
            return False
        return any(
            field.model._base_manager.filter(**{field.name: self.pk}).exists() for field in self.referencing_fields()
        )

    # ------------------------------------------------------------ immutability

    def _stored(self) -> dict | None:
        if self.pk is None:
            return None
        return type(self)._base_manager.filter(pk=self.pk).values("status", *VERSION_FROZEN_FIELDS).first()

    def _refusal(self) -> str | None:
        """Why saving this instance as it is would break a frozen version, or None."""
        stored = self._stored()
        if stored is None:
            if self.status != VersionStatus.DRAFT:
                return "A new version starts as a draft; publish it once it is complete."
            return None
        if stored["status"] == VersionStatus.DRAFT:
            return None
        changed = [name for name in VERSION_FROZEN_FIELDS if stored[name] != getattr(self, name)]
        if changed or (stored["status"], self.status) not in ALLOWED_TRANSITIONS:
            return frozen_message(self.form.name, stored["number"], stored["status"])
        return None

    def clean(self) -> None:
        refusal = self._refusal()
        if refusal:
            raise ValidationError(refusal)


class DraftRow(FrozenChild):
    """A row of a form version, frozen with it once it is published (core.frozen)."""

    frozen_with = "version"

    class Meta:
        abstract = True

    @classmethod
    def frozen_refusal(cls, parent_ids) -> str | None:  # type: ignore[no-untyped-def]
        frozen = (
            FormVersion._base_manager.filter(pk__in=parent_ids)
            .exclude(status=VersionStatus.DRAFT)
            .select_related("form")
            .first()
        )
        return frozen.frozen_message() if frozen is not None else None

    def _differs_from_stored(self) -> bool:
        if self.pk is None:
            return True
        names = [f.attname for f in self._meta.concrete_fields]
        stored = type(self)._base_manager.filter(pk=self.pk).values(*names).first()
        return stored is None or any(stored[name] != getattr(self, name) for name in names)

    def clean(self) -> None:
        # Forms validate every row shown, changed or not; only a change is refused.
        if self.version_id is not None and self._differs_from_stored():
            self._refuse_if_frozen()


class FormCompetency(DraftRow):
    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="competencies")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="form_rows")
    weight = models.PositiveSmallIntegerField(
        help_text="Share of the competencies section, in percent.",
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    scale = models.ForeignKey(RatingScale, on_delete=models.PROTECT, related_name="form_competencies")
    order = models.PositiveSmallIntegerField(default=0)
    # The competency's wording as it stood when the version was published
    # ({"name", "description", "category", "indicators": [{"level", "text"}]}):
    # later edits to the library do not change what a published form shows.
    frozen = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["version_id", "order", "pk"]
        verbose_name = "competency on a form"
        verbose_name_plural = "competencies on the form"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "competency"],
                name="form_competency_once_per_version",
                violation_error_message="This competency is already on the form.",
            ),
            models.CheckConstraint(condition=Q(weight__gte=1, weight__lte=100), name="form_competency_weight_1_100"),
        ]

    def __str__(self) -> str:
        return f"{self.competency} ({self.weight}%)"

    def clean(self) -> None:
        super().clean()
        # A retired competency stays where it is, but is never put on a form anew.
        if self.competency_id is None:
            return
        stored = type(self)._base_manager.filter(pk=self.pk).values_list("competency_id", flat=True).first()
        if stored != self.competency_id and self.competency.is_retired:
            raise ValidationError(
                {"competency": f"“{self.competency.name}” is retired, so it cannot be added to a form."}
            )


class QuestionKey(models.TextChoices):
    """Keys of the seeded dialogue questions, by which later steps find them."""

    SUCCESSES = "successes", "Successes"
    LEARNING_MOMENTS = "learning_moments", "Learning moments"
    NEXT_CYCLE_GOALS = "next_cycle_goals", "Next-cycle QI goals"
    PEER_SHARING = "peer_sharing", "Peer sharing"


class DialogueQuestion(DraftRow):
    version = models.ForeignKey(FormVersion, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=50, help_text="A stable name for the question, e.g. next_cycle_goals.")
    text = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["version_id", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key"],
                name="dialogue_question_key_unique",
                violation_error_message="Another question on this form has the same key.",
            ),
        ]

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------- assignment


class AssignmentRule(models.Model):
    """Which form applies to whom. The most specific matching rule wins:
    job title and department, then job title, then department, then the default."""

    form = models.ForeignKey(AppraisalForm, on_delete=models.PROTECT, related_name="rules")
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Applies to this department and the departments under it.",
    )
    job_title = models.CharField(max_length=120, blank=True, help_text="Matched exactly, ignoring case.")
    is_default = models.BooleanField("default rule", default=False)
    priority = models.PositiveSmallIntegerField(
        default=100,
        help_text="Among rules of the same kind (say, department rules for a ward and for its division), "
        "the lowest number wins; with equal numbers, the nearest department.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(is_default=True, department__isnull=True, job_title="")
                    | (Q(is_default=False) & (Q(department__isnull=False) | ~Q(job_title="")))
                ),
                name="assignment_rule_has_target",
                violation_error_message="A rule names a department, a job title or both; only the default names neither.",
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="assignment_rule_one_default",
                violation_error_message="There is already a default rule.",
            ),
            models.UniqueConstraint(
                "department",
                Lower("job_title"),
                condition=Q(department__isnull=False),
                name="assignment_rule_unique_department_title",
                violation_error_message="A rule for this department and job title already exists.",
            ),
            models.UniqueConstraint(
                Lower("job_title"),
                condition=Q(department__isnull=True, is_default=False),
                name="assignment_rule_unique_title",
                violation_error_message="A rule for this job title already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.describe()} → {self.form}"

    def describe(self) -> str:
        if self.is_default:
            return "Everyone else"
        parts = []
        if self.job_title:
            parts.append(f"job title “{self.job_title}”")
        if self.department_id:
            parts.append(f"department {self.department}")
        return " in ".join(parts)

"""Incentive plans, components, target bonuses and payouts.

A plan belongs to one review cycle. Once HR approves it, it is locked: the
model refuses every save or delete of the plan, its components, target bonuses
and payouts (single or bulk), whatever path the write takes.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from appraisals.models import ReviewCycle
from core.jobs import JobHeartbeat
from people.models import Department, Employee

__all__ = [
    "PLAN_LOCKED_MESSAGE",
    "ComponentKind",
    "IncentivePlan",
    "Payout",
    "PayoutAdjustment",
    "PlanComponent",
    "PlanState",
    "TargetBonus",
    "min_qi_weight",
]

PLAN_LOCKED_MESSAGE = "This incentive plan is approved and locked: nothing in it can change."


def min_qi_weight() -> int:
    """The floor for a plan's QI-linked weight below which it warns of reward misalignment."""
    return int(getattr(settings, "THROUGHLINE_MIN_QI_WEIGHT", 40))


class PlanState(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPUTING = "computing", "Computing payouts"
    COMPUTED = "computed", "Payouts computed"
    APPROVED = "approved", "Approved (locked)"
    PUBLISHED = "published", "Published to employees"


LOCKED_STATES = frozenset({PlanState.APPROVED, PlanState.PUBLISHED})


def _plan_locked(plan_id: int | None) -> bool:
    return plan_id is not None and IncentivePlan._base_manager.filter(pk=plan_id, state__in=LOCKED_STATES).exists()


class IncentivePlanQuerySet(models.QuerySet):
    """Bulk writes skip save(); these refuse them for a locked plan all the same."""

    def update(self, **kwargs: object) -> int:
        if self.filter(state__in=LOCKED_STATES).exists():
            raise ValidationError(PLAN_LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(state__in=LOCKED_STATES).exists():
            raise ValidationError(PLAN_LOCKED_MESSAGE)
        return super().delete()


class IncentivePlan(JobHeartbeat, models.Model):
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="incentive_plans")
    name = models.CharField(max_length=160)
    state = models.CharField(max_length=10, choices=PlanState, default=PlanState.DRAFT)
    departments = models.ManyToManyField(Department, blank=True, related_name="+")
    job_titles = models.JSONField(default=list, blank=True)
    minimum_tenure_months = models.PositiveSmallIntegerField(default=0)
    compute_total = models.PositiveIntegerField(default=0)
    compute_done = models.PositiveIntegerField(default=0)
    compute_error = models.TextField(blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = IncentivePlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["cycle", "name"], name="incentive_plan_unique_name")]

    def __str__(self) -> str:
        return self.name

    # Approving is a save of a plan stored unlocked (and publishing only sets published_at/state).
    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("state", flat=True).first()
            fields = set(kwargs.get("update_fields") or ())
            publishing = (
                stored == PlanState.APPROVED
                and self.state == PlanState.PUBLISHED
                and bool(fields)
                and fields <= PUBLISH_FIELDS
            )
            if stored in LOCKED_STATES and not publishing:
                raise ValidationError(PLAN_LOCKED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if _plan_locked(self.pk):
            raise ValidationError(PLAN_LOCKED_MESSAGE)
        return super().delete(*args, **kwargs)

    @property
    def job_under_way(self) -> bool:
        """Computing payouts is the plan's job (a failure sends the plan back to draft)."""
        return self.state == PlanState.COMPUTING

    @property
    def is_locked(self) -> bool:
        return self.state in LOCKED_STATES

    @property
    def percent(self) -> int:
        if self.state in {PlanState.COMPUTED, *LOCKED_STATES}:
            return 100
        return 100 * self.compute_done // self.compute_total if self.compute_total else 0

    def qi_weight(self) -> int:
        return sum(c.weight for c in self.components.all() if c.kind == ComponentKind.QI_GOALS)

    def misalignment_warning(self) -> str:
        share, floor = self.qi_weight(), min_qi_weight()
        if share < floor:
            return (
                f"Reward misalignment: QI-linked goals carry {share} % of this plan, below the floor of {floor} %. "
                "Rewards that do not mirror the quality priorities dilute them."
            )
        return ""


PUBLISH_FIELDS = frozenset({"state", "published_at", "version"})


@receiver(m2m_changed, sender=IncentivePlan.departments.through)
def _refuse_locked_departments(sender, instance, action, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """The eligible departments of an approved plan cannot change either."""
    locking = action in {"pre_add", "pre_remove", "pre_clear"} and isinstance(instance, IncentivePlan)
    if locking and _plan_locked(instance.pk):
        raise ValidationError(PLAN_LOCKED_MESSAGE)


class PlanPartQuerySet(models.QuerySet):
    """Bulk writes skip save(); these refuse them for a locked plan all the same."""

    def _refuse(self, plan_ids) -> None:  # type: ignore[no-untyped-def]
        if IncentivePlan._base_manager.filter(pk__in=plan_ids, state__in=LOCKED_STATES).exists():
            raise ValidationError(PLAN_LOCKED_MESSAGE)

    def update(self, **kwargs: object) -> int:
        self._refuse(self.values(self.model.plan_path))
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse(self.values(self.model.plan_path))
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        objs = list(objs)
        self._refuse({o.owning_plan_id() for o in objs})
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        objs = list(objs)
        self._refuse({o.owning_plan_id() for o in objs})
        return super().bulk_update(objs, *args, **kwargs)


class PlanPart(models.Model):
    plan_path = "plan_id"
    objects = PlanPartQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if _plan_locked(self.owning_plan_id()):
            raise ValidationError(PLAN_LOCKED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if _plan_locked(self.owning_plan_id()):
            raise ValidationError(PLAN_LOCKED_MESSAGE)
        return super().delete(*args, **kwargs)

    def owning_plan_id(self) -> int | None:
        return self.plan_id  # type: ignore[attr-defined]


class ComponentKind(models.TextChoices):
    QI_GOALS = "qi_goals", "QI-linked goal achievement"
    APPRAISAL_SCORE = "appraisal_score", "Appraisal score"
    ORG_MEASURE = "org_measure", "Organisation measure"


PERCENT = [MinValueValidator(Decimal("0"))]


class PlanComponent(PlanPart):
    plan = models.ForeignKey(IncentivePlan, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=20, choices=ComponentKind)
    name = models.CharField(max_length=160)
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    threshold = models.DecimalField(
        "threshold %",
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT,
        help_text="Achievement below this pays nothing for the component.",
    )
    cap = models.DecimalField(
        "cap %",
        max_digits=6,
        decimal_places=2,
        default=Decimal("100"),
        validators=PERCENT,
        help_text="Achievement counted at most this (e.g. 150).",
    )
    achievement = models.DecimalField(
        "achievement % (organisation measure)",
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan_id", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight} %)"


class TargetBonus(PlanPart):
    plan = models.ForeignKey(IncentivePlan, on_delete=models.CASCADE, related_name="target_bonuses")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=PERCENT)

    class Meta:
        ordering = ["plan_id", "employee_id"]
        constraints = [models.UniqueConstraint(fields=["plan", "employee"], name="one_target_bonus_per_person")]

    def __str__(self) -> str:
        return f"{self.employee}: {self.amount}"


class Payout(PlanPart):
    plan = models.ForeignKey(IncentivePlan, on_delete=models.CASCADE, related_name="payouts")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="payouts")
    target_bonus = models.DecimalField(max_digits=12, decimal_places=2)
    computed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    adjusted = models.BooleanField(default=False)
    adjustment_reason = models.TextField(blank=True)
    breakdown = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["plan_id", "employee__full_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "employee"], name="one_payout_per_person")]

    def __str__(self) -> str:
        return f"{self.employee}: {self.amount}"


class PayoutAdjustment(PlanPart):
    plan_path = "payout__plan_id"
    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="adjustments")
    old_amount = models.DecimalField(max_digits=12, decimal_places=2)
    new_amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.old_amount} → {self.new_amount}"

    def owning_plan_id(self) -> int | None:
        return Payout._base_manager.filter(pk=self.payout_id).values_list("plan_id", flat=True).first()

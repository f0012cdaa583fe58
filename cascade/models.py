"""Quality priorities, their measures and observations, and the goals that cascade from them.

A goal hangs at one of two levels below a priority: functional (owned by a
department) or individual (owned by an employee). Every goal also stores its
root priority and its owning department, so that the linkage matrix and a
priority's tree are single queries however deep the chain.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from cascade import charts
from people.models import Department, Employee, ImportRecord


class Methodology(models.TextChoices):
    LEAN = "lean", "Lean"
    SIX_SIGMA = "six_sigma", "Six Sigma"
    PDSA = "pdsa", "PDSA"
    DMAIC = "dmaic", "DMAIC"


class PriorityStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class QualityPriority(models.Model):
    title = models.CharField(max_length=200)
    aim = models.TextField(help_text="What will improve, by how much, by when, for whom.")
    methodology = models.CharField(max_length=20, choices=Methodology, default=Methodology.PDSA)
    owner = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="owned_priorities")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=PriorityStatus, default=PriorityStatus.ACTIVE)
    # Weighted mean of the goals directly under the priority, kept by the roll-up.
    progress = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "quality priorities"
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="priority_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MeasureType(models.TextChoices):
    OUTCOME = "outcome", "Outcome"
    PROCESS = "process", "Process"
    BALANCING = "balancing", "Balancing"


class Direction(models.TextChoices):
    UP = "up", "Higher is better"
    DOWN = "down", "Lower is better"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class QualityMeasure(models.Model):
    priority = models.ForeignKey(QualityPriority, on_delete=models.PROTECT, related_name="measures")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=40, help_text="e.g. days, %, errors per 1,000 doses")
    measure_type = models.CharField("IHI type", max_length=10, choices=MeasureType)
    direction = models.CharField("direction of improvement", max_length=4, choices=Direction)
    baseline = models.DecimalField(max_digits=14, decimal_places=4)
    target = models.DecimalField(max_digits=14, decimal_places=4)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="measures")
    frequency = models.CharField(max_length=10, choices=Frequency, default=Frequency.MONTHLY)
    # Which run-chart rules its charts apply (PRODUCT.md "Run charts"): IHI's, or Anhøj's.
    run_rules = models.CharField(
        "run chart rules", max_length=10, choices=charts.RUN_RULES, default=charts.RUN_RULES[0][0]
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(target=models.F("baseline")), name="measure_target_differs"),
        ]

    def __str__(self) -> str:
        return self.name


class Observation(models.Model):
    measure = models.ForeignKey(QualityMeasure, on_delete=models.CASCADE, related_name="observations")
    date = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=4)
    numerator = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    entered_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "date"], name="one_observation_per_measure_date"),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.value} on {self.date}"


class ChangePoint(models.Model):
    """A date from which a measure's process is judged afresh (PRODUCT.md "Change points"),
    typically when a tested change was adopted: the charts compute a phase's centre line and
    limits from its own points, and no rule runs across the date. The date is the first of
    the new phase."""

    measure = models.ForeignKey(QualityMeasure, on_delete=models.CASCADE, related_name="change_points")
    date = models.DateField()
    reason = models.CharField(max_length=500, help_text="What changed, e.g. the change adopted after a test.")
    created_by = models.ForeignKey(Employee, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "date"], name="one_change_point_per_measure_date"),
            models.CheckConstraint(condition=~Q(reason=""), name="change_point_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.measure}: change point on {self.date}"


class GoalPeriod(models.Model):
    """The time box goals are set for. Review cycles (appraisals) attach to one later."""

    name = models.CharField(max_length=80, unique=True)
    start = models.DateField()
    end = models.DateField()
    # A closed period is never anyone's default unless marked: earlier versions kept a review
    # cycle's own period closed until launch (appraisals migration 0004 settles those).
    is_open = models.BooleanField(default=True)
    # The period people see when no review cycle they take part in is running (HR marks one).
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="goal_period_ordered"),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_goal_period"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GoalLevel(models.TextChoices):
    FUNCTIONAL = "functional", "Functional (department)"
    INDIVIDUAL = "individual", "Individual"


class GoalKind(models.TextChoices):
    RESULT = "result", "Result"
    PROCESS = "process", "Process / improvement activity"


class ProgressMode(models.TextChoices):
    MANUAL = "manual", "Updated by hand"
    MEASURE = "measure", "Driven by the linked measure"


class Approval(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned for changes"


class GoalStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACHIEVED = "achieved", "Achieved"
    NOT_ACHIEVED = "not_achieved", "Not achieved"
    CANCELLED = "cancelled", "Cancelled"


# The results that close a goal (and need a sign-off to count in payouts).
CLOSED_RESULTS = (GoalStatus.ACHIEVED.value, GoalStatus.NOT_ACHIEVED.value)


class Goal(models.Model):
    level = models.CharField(max_length=10, choices=GoalLevel)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The root of the chain, always set; parent_goal is null when the priority is the parent.
    priority = models.ForeignKey(QualityPriority, on_delete=models.PROTECT, related_name="goals")
    parent_goal = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Functional goals: the owning department. Individual goals: the owner's department when set.
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="goals")
    owner = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="goals")
    contributing_departments = models.ManyToManyField(Department, blank=True, related_name="contributed_goals")
    period = models.ForeignKey(GoalPeriod, on_delete=models.PROTECT, related_name="goals")
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    kind = models.CharField(max_length=10, choices=GoalKind, default=GoalKind.RESULT)
    measure = models.ForeignKey(QualityMeasure, null=True, blank=True, on_delete=models.PROTECT, related_name="goals")
    baseline = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    progress_mode = models.CharField(max_length=10, choices=ProgressMode, default=ProgressMode.MANUAL)
    progress = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    approval = models.CharField(max_length=10, choices=Approval, default=Approval.DRAFT)
    status = models.CharField(max_length=12, choices=GoalStatus, default=GoalStatus.OPEN)
    due_date = models.DateField(null=True, blank=True)
    improvement_hours_per_month = models.DecimalField(
        "planned improvement time (hours per month)", max_digits=5, decimal_places=1, default=Decimal("0")
    )
    created_by = models.ForeignKey(Employee, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    # When the goal was last approved; kept when it is reopened, so that a goal once agreed
    # with the approver is cancelled only by them or HR (the owner asks: cancel_requested_*).
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An open request to cancel the goal, waiting for the approver (cascade.workflow).
    cancel_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_requested_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    cancel_reason = models.TextField(blank=True, editable=False)
    # Closing a goal as achieved / not achieved needs its approver's sign-off (PRODUCT.md): the
    # owner asks (close_requested_*, with the result they propose) and the approver or HR signs
    # it off (result_signed_off_*), or a measure-driven goal is closed by its measure's result
    # (result_by_measure: signed off by the system, no person). Payouts count only signed-off
    # results; reopening clears the sign-off (cascade.workflow).
    close_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    close_requested_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    close_proposed_status = models.CharField(max_length=12, choices=GoalStatus, blank=True, editable=False)
    close_comment = models.TextField(blank=True, editable=False)
    result_signed_off_at = models.DateTimeField(null=True, blank=True, editable=False)
    result_signed_off_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    result_by_measure = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["priority_id", "level", "title"]
        constraints = [
            # A cancelled goal no longer counts in its set, so it is never shown as approved or
            # waiting for approval beside "Cancelled" (cascade.workflow.cancel sets it back to draft).
            models.CheckConstraint(
                condition=~Q(status="cancelled", approval__in=["approved", "submitted"]),
                name="goal_cancelled_not_approved",
                violation_error_message="A cancelled goal cannot be approved or waiting for approval.",
            ),
            models.CheckConstraint(
                condition=Q(cancel_requested_at__isnull=True) | ~Q(status="cancelled"),
                name="goal_cancel_request_on_live_goal",
            ),
            # A sign-off belongs to a closed result; reopening the result clears it.
            models.CheckConstraint(
                condition=Q(result_signed_off_at__isnull=True) | Q(status__in=CLOSED_RESULTS),
                name="goal_signoff_on_closed_result",
                violation_error_message="Only an achieved or not-achieved result is signed off.",
            ),
            # Closed by its measure: signed off by the system, so no person is named.
            models.CheckConstraint(
                condition=Q(result_by_measure=False)
                | Q(result_signed_off_at__isnull=False, result_signed_off_by__isnull=True),
                name="goal_measure_signoff_has_no_person",
            ),
            # A request to close waits on an open goal and proposes a closed result.
            models.CheckConstraint(
                condition=Q(close_requested_at__isnull=True)
                | Q(status="open", close_proposed_status__in=CLOSED_RESULTS),
                name="goal_close_request_on_open_goal",
            ),
            models.CheckConstraint(
                condition=(Q(level="functional", owner__isnull=True) | Q(level="individual", owner__isnull=False)),
                name="goal_owner_matches_level",
            ),
            models.CheckConstraint(condition=~Q(parent_goal=models.F("pk")), name="goal_not_own_parent"),
            models.CheckConstraint(
                condition=Q(target__isnull=True) | Q(baseline__isnull=True) | ~Q(target=models.F("baseline")),
                name="goal_target_differs",
            ),
        ]
        indexes = [
            models.Index(fields=["priority", "department"], name="goal_matrix"),
            models.Index(fields=["owner", "period"], name="goal_owner_period"),
            models.Index(fields=["department", "period", "level"], name="goal_dept_period"),
            # The goal lists' order (Meta.ordering, then pk): a page is read off the index
            # instead of sorting a whole priority's goals.
            models.Index(fields=["priority", "level", "title", "id"], name="goal_list_order"),
            # Department goals, which everyone sees (cascade.access's first UNION branch).
            models.Index(fields=["id"], condition=Q(level="functional"), name="goal_functional"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_individual(self) -> bool:
        return self.level == GoalLevel.INDIVIDUAL

    @property
    def is_editable(self) -> bool:
        return self.approval in {Approval.DRAFT, Approval.RETURNED}

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None

    @property
    def close_requested(self) -> bool:
        return self.close_requested_at is not None

    @property
    def result_signed_off(self) -> bool:
        return self.result_signed_off_at is not None

    @property
    def awaiting_sign_off(self) -> bool:
        """Closed as achieved / not achieved, but nobody (nor its measure) signed the result off."""
        return self.status in CLOSED_RESULTS and self.result_signed_off_at is None


class Confidence(models.IntegerChoices):
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"


class GoalUpdate(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="goal_updates")
    created_at = models.DateTimeField(auto_now_add=True)
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    confidence = models.PositiveSmallIntegerField(choices=Confidence, default=Confidence.MEDIUM)
    comment = models.TextField(blank=True)
    progress_after = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["goal", "-created_at"], name="goal_update_feed")]

    def __str__(self) -> str:
        return f"{self.goal}: {self.progress_after}%"


class ReviewAction(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"
    REOPENED = "reopened", "Reopened"
    CANCEL_ASKED = "cancel_ask", "Asked to cancel a goal"
    CANCELLED = "cancelled", "Cancelled a goal"
    KEPT = "kept", "Kept a goal (cancellation declined)"
    CLOSE_ASKED = "close_ask", "Asked to close a goal"
    SIGNED_OFF = "signed_off", "Signed off a goal's result"
    CLOSE_DECLINED = "close_no", "Declined to close a goal"
    RESULT_REOPENED = "result_rep", "Reopened a goal's result"


class GoalSetEvent(models.Model):
    """One step of the goal-setting workflow for an owner's set of goals in a period."""

    period = models.ForeignKey(GoalPeriod, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="goal_set_events")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=ReviewAction)
    actor = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor}"


class CascadeSettings(models.Model):
    """Organisation-wide choices for the cascade; one row, edited by HR."""

    team_goal_visibility = models.BooleanField(
        default=False,
        help_text="Let people see the individual goals of colleagues who share their manager.",
    )

    class Meta:
        verbose_name_plural = "cascade settings"

    def __str__(self) -> str:
        return "Cascade settings"

    @classmethod
    def current(cls) -> CascadeSettings:
        return cls.objects.get_or_create(pk=1)[0]

    @classmethod
    def team_visibility(cls) -> bool:
        # A read that never writes: no row yet means the default.
        return bool(cls.objects.filter(pk=1).values_list("team_goal_visibility", flat=True).first())


class ImportKind(models.TextChoices):
    GOALS = "goals", "Goals"
    OBSERVATIONS = "observations", "Measure observations"


class CascadeImport(ImportRecord):
    """One uploaded file of goals or observations, checked and applied in the background,
    every row checked before anything is written and the file applied all or nothing."""

    kind = models.CharField(max_length=20, choices=ImportKind)
    measure = models.ForeignKey(QualityMeasure, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(GoalPeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta(ImportRecord.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name} ({self.get_status_display()})"

"""Alignment audits: rule settings, runs, findings, correlation results and feedback surveys.

A *finding* is one problem with one subject (a department, a priority, a team, a
form, a plan...). Its ``fingerprint`` (``"<rule>:<subject key>"``) is stable across
runs, so a problem that persists stays one finding whose ``last_seen`` moves on;
at most one *active* (open or acknowledged) finding exists per fingerprint, a
database constraint and not only a habit of the code.

Surveys are anonymous by construction: an invitation records only *whether* a
person answered (for reminders); a response records the respondent's department
(for results by department) and nothing that leads back to the person — no user,
no timestamp.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.jobs import JobHeartbeat
from people.models import Department, Employee


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RuleConfig(models.Model):
    """HR's settings for one audit rule: on/off and its thresholds (overrides of the rule's declared defaults)."""

    rule = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    thresholds = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["rule"]

    def __str__(self) -> str:
        return self.rule


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Run now"


class AuditRun(JobHeartbeat, models.Model):
    trigger = models.CharField(max_length=10, choices=RunTrigger, default=RunTrigger.MANUAL)
    state = models.CharField(max_length=10, choices=RunState, default=RunState.QUEUED)
    requested_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Progress: one step per enabled rule, plus the score.
    total_steps = models.PositiveSmallIntegerField(default=0)
    done_steps = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The organisation alignment score (share of people whose goals reach an active priority, 0–100)
    # and the same per department: [{"department": id, "name": str, "people": n, "aligned": n, "score": "72.50"}].
    alignment_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    department_scores = models.JSONField(default=list, blank=True)
    findings_new = models.PositiveIntegerField(default=0)
    findings_seen = models.PositiveIntegerField(default=0)
    findings_closed = models.PositiveIntegerField(default=0)
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "-finished_at"], name="audit_run_state")]

    def __str__(self) -> str:
        return f"Audit run {self.pk} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if self.state == RunState.SUCCEEDED:
            return 100
        return 100 * self.done_steps // self.total_steps if self.total_steps else 0

    @property
    def is_finished(self) -> bool:
        return self.state in {RunState.SUCCEEDED, RunState.FAILED}

    @property
    def job_under_way(self) -> bool:
        return not self.is_finished


class SubjectType(models.TextChoices):
    ORGANISATION = "organisation", "Organisation"
    DEPARTMENT = "department", "Department"
    PRIORITY = "priority", "Quality priority"
    GOAL = "goal", "Goal"
    TEAM = "team", "Team (manager)"
    EMPLOYEE = "employee", "Person"
    FORM = "form", "Appraisal form"
    PLAN = "plan", "Incentive plan"
    SURVEY = "survey", "Survey"
    CORRELATION = "correlation", "Correlation analysis"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved by HR"
    CLOSED = "closed", "No longer holds"


ACTIVE_STATUSES = (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)


class Finding(models.Model):
    rule = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=200)
    severity = models.CharField(max_length=6, choices=Severity)
    subject_type = models.CharField(max_length=12, choices=SubjectType)
    subject_id = models.PositiveIntegerField(null=True, blank=True)
    subject_label = models.CharField(max_length=300)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField()
    mitigation = models.TextField()
    # What lies behind it, for the drill-down: {"goals": [ids], "employees": [ids], "forms": [ids],
    # "plans": [ids], "priorities": [ids], "departments": [ids], "figures": {...}}.
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=FindingStatus, default=FindingStatus.OPEN)
    first_seen_run = models.ForeignKey(AuditRun, on_delete=models.PROTECT, related_name="+")
    last_seen_run = models.ForeignKey(AuditRun, on_delete=models.PROTECT, related_name="+")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_run = models.ForeignKey(AuditRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    acted_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="one_active_finding_per_subject",
            )
        ]
        indexes = [
            models.Index(fields=["status", "rule"], name="finding_status_rule"),
            models.Index(fields=["department", "status"], name="finding_department"),
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.subject_label}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class FindingAction(models.TextChoices):
    OPENED = "opened", "Found"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "No longer holds"
    REOPENED = "reopened", "Found again after being resolved"


class FindingEvent(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=12, choices=FindingAction)
    run = models.ForeignKey(AuditRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.action}"


class CorrelationScope(models.TextChoices):
    ORGANISATION = "organisation", "Organisation"
    DEPARTMENT = "department", "Department"


class AnalysisUnit(models.TextChoices):
    PERSON = "person", "Person"
    DEPARTMENT = "department", "Department"


class QIOutcome(models.TextChoices):
    QI_GOALS = "qi_goals", "Achievement of QI-linked goals"
    MEASURES = "measures", "Improvement of linked measures"


class CorrelationResult(models.Model):
    """Spearman's ρ between a QI outcome and appraisal scores, for one scope, as found by one run."""

    run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="correlations")
    scope = models.CharField(max_length=12, choices=CorrelationScope)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    unit = models.CharField(max_length=10, choices=AnalysisUnit)
    outcome = models.CharField(max_length=10, choices=QIOutcome)
    n = models.PositiveIntegerField()
    # None when n is below the floor (10) or ρ is undefined (a constant variable).
    rho = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    # [[x, y], ...] for the scatter plot; labels only at department level (people are not named).
    points = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run_id", "scope", "department__name", "outcome"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "scope", "department", "unit", "outcome"], name="one_result_per_scope"
            )
        ]

    def __str__(self) -> str:
        return f"ρ({self.outcome}, score) n={self.n}"


class SurveyState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Survey(models.Model):
    title = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=SurveyState, default=SurveyState.DRAFT)
    # Empty: everyone active; otherwise these departments and their sub-departments.
    departments = models.ManyToManyField(Department, blank=True, related_name="+")
    opens_on = models.DateField()
    closes_on = models.DateField()
    reminder_every_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    last_reminded_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="survey_window_ordered")
        ]

    def __str__(self) -> str:
        return self.title


class ItemTopic(models.TextChoices):
    RELEVANCE = "relevance", "Relevance of QI expectations"
    MESSAGING = "messaging", "Leadership messaging"
    TIME = "time", "Time for improvement work"
    OTHER = "other", "Other"


class SurveyItem(models.Model):
    """One Likert statement, answered 1 (strongly disagree) to 5 (strongly agree)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    topic = models.CharField(max_length=10, choices=ItemTopic, default=ItemTopic.OTHER)

    class Meta:
        ordering = ["survey_id", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class SurveyInvitation(models.Model):
    """Who was asked and whether they answered — never when, never what."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="survey_invitations")
    answered = models.BooleanField(default=False)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["survey_id", "employee_id"]
        constraints = [models.UniqueConstraint(fields=["survey", "employee"], name="one_invitation_per_person")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.employee_id}"


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    # The respondent's department when they answered; the only thing kept about them.
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["survey", "department"], name="survey_response_dept")]

    def __str__(self) -> str:
        return f"Response to {self.survey_id}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(SurveyItem, on_delete=models.CASCADE, related_name="answers")
    value = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="one_answer_per_item"),
            models.CheckConstraint(condition=Q(value__gte=1, value__lte=5), name="likert_value_range"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.value}"

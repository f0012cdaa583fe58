"""Recognition posts and career pathways.

- ``Recognition``: a post thanking people (or a department) for an improvement,
  optionally linked to a goal or a measure (its priority is stored for the feed's
  filter). HR may hide a post with a reason; the reason is kept. A post of kind
  ``award`` is the system's announcement of a pathway title.
- ``Notification``: the in-app record of something that concerns a person.
- ``Pathway``: a title HR defines ("Quality Champion") with criteria drawn from
  history; ``PathwayCompetency`` rows are its competency levels.
- ``PathwayCandidate``: a person the nightly job found eligible; HR confirms
  (the title is awarded) or declines (with a reason). One row per pathway and
  person, so a declined candidate is not proposed again for the same pathway.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from cascade.models import Goal, QualityMeasure, QualityPriority
from competencies.models import Competency
from people.models import Department, Employee

__all__ = [
    "CandidateStatus",
    "Notification",
    "Pathway",
    "PathwayCandidate",
    "PathwayCompetency",
    "Recognition",
    "RecognitionKind",
]


class RecognitionKind(models.TextChoices):
    THANKS = "thanks", "Thanks"
    AWARD = "award", "Title awarded"


class Recognition(models.Model):
    kind = models.CharField(max_length=10, choices=RecognitionKind, default=RecognitionKind.THANKS)
    author = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="recognitions_given"
    )
    recipients = models.ManyToManyField(Employee, blank=True, related_name="recognitions_received")
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recognitions",
        help_text="Set when a whole department (team) is thanked.",
    )
    goal = models.ForeignKey(Goal, null=True, blank=True, on_delete=models.SET_NULL, related_name="recognitions")
    measure = models.ForeignKey(
        QualityMeasure, null=True, blank=True, on_delete=models.SET_NULL, related_name="recognitions"
    )
    priority = models.ForeignKey(
        QualityPriority,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recognitions",
        help_text="The quality priority of the linked goal or measure.",
    )
    pathway = models.ForeignKey(
        "incentives.Pathway", null=True, blank=True, on_delete=models.SET_NULL, related_name="award_posts"
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.TextField(blank=True)
    hidden_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["is_hidden", "-created_at"], name="recognition_feed")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Notification(models.Model):
    recipient = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="notifications")
    recognition = models.ForeignKey(
        Recognition, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text


class Pathway(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Only active pathways are evaluated by the nightly job.")
    min_achieved_goals = models.PositiveIntegerField(
        default=0, help_text="Achieved QI goals needed (0: not a criterion)."
    )
    goal_cycles = models.PositiveIntegerField(
        default=1, help_text="Over how many of the most recent closed review cycles the achieved goals are counted."
    )
    min_recognitions = models.PositiveIntegerField(
        default=0, help_text="Recognitions received needed (0: not a criterion)."
    )
    min_development_actions = models.PositiveIntegerField(
        default=0, help_text="Completed development actions needed (0: not a criterion)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PathwayCompetency(models.Model):
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="competency_levels")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    min_rating = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("4"),
        help_text="The lowest manager rating, in a locked appraisal, that counts as reaching the level.",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pathway", "competency"], name="pathway_competency_once")]

    def __str__(self) -> str:
        return f"{self.competency} ≥ {self.min_rating}"


class CandidateStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    AWARDED = "awarded", "Awarded"
    DECLINED = "declined", "Declined"


class PathwayCandidate(models.Model):
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="candidates")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="pathway_candidacies")
    status = models.CharField(max_length=10, choices=CandidateStatus, default=CandidateStatus.PENDING)
    evidence = models.JSONField(default=dict, blank=True, help_text="What the criteria found when proposed.")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["pathway", "employee"], name="pathway_candidate_once")]

    def __str__(self) -> str:
        return f"{self.employee} — {self.pathway} ({self.get_status_display()})"

"""Review cycles that follow the improvement cycle, and what each person does in them.

PDSA: Plan = goal setting, Do = mid-cycle check-in, Study = performance review,
Act = development planning. DMAIC maps its five phases onto the same four
activities (see ``DMAIC_PHASES``). A cycle owns the cascade's goal period for
its goals, so goal setting in the Plan phase is the cascade's own workflow.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from cascade.models import Goal, GoalPeriod
from competencies.models import DialogueQuestion, FormCompetency, FormVersion
from core.frozen import FrozenChild
from core.jobs import JobHeartbeat
from people.models import Department, Employee


class CycleMethodology(models.TextChoices):
    PDSA = "pdsa", "PDSA (plan, do, study, act)"
    DMAIC = "dmaic", "DMAIC (define, measure, analyse, improve, control)"


class Phase(models.TextChoices):
    PLAN = "plan", "Plan: goal setting"
    DO = "do", "Do: mid-cycle check-in"
    STUDY = "study", "Study: performance review"
    ACT = "act", "Act: development planning"


PHASE_ORDER = [Phase.PLAN, Phase.DO, Phase.STUDY, Phase.ACT]

# How DMAIC's five phases map onto the four activities: define and measure set the
# goals and their baselines (plan), analyse is the mid-cycle look at the data (do),
# improve is judged in the review (study), control is sustained by the development plan (act).
DMAIC_PHASES = {
    Phase.PLAN: "Define & Measure",
    Phase.DO: "Analyse",
    Phase.STUDY: "Improve",
    Phase.ACT: "Control",
}


class CycleState(models.TextChoices):
    SETUP = "setup", "Being set up"
    LAUNCHING = "launching", "Launching"
    ACTIVE = "active", "Running"
    CLOSED = "closed", "Closed"


class ReviewCycle(JobHeartbeat, models.Model):
    name = models.CharField(max_length=120, unique=True)
    methodology = models.CharField(max_length=10, choices=CycleMethodology, default=CycleMethodology.PDSA)
    # The goal period the cycle reviews, chosen by HR; several cycles (one per
    # department, say) may review the same period. Launching never creates one.
    period = models.ForeignKey(GoalPeriod, on_delete=models.PROTECT, related_name="review_cycles")
    start = models.DateField()
    end = models.DateField()
    plan_start = models.DateField()
    plan_end = models.DateField()
    do_start = models.DateField()
    do_end = models.DateField()
    study_start = models.DateField()
    study_end = models.DateField()
    act_start = models.DateField()
    act_end = models.DateField()
    state = models.CharField(max_length=10, choices=CycleState, default=CycleState.SETUP)
    # None before the cycle starts; then the phase people are in.
    phase = models.CharField(max_length=10, choices=Phase, null=True, blank=True)
    # Participants: everyone, or the chosen departments (and their sub-departments),
    # minus exclusions and anyone hired after the cut-off.
    include_everyone = models.BooleanField(default=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="+")
    excluded = models.ManyToManyField(Employee, blank=True, related_name="+")
    hired_on_or_before = models.DateField(null=True, blank=True)
    # Launch progress, written by the launch task and polled by the page.
    launch_total = models.PositiveIntegerField(default=0)
    launch_done = models.PositiveIntegerField(default=0)
    launch_error = models.TextField(blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(Employee, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="cycle_dates_ordered"),
            models.CheckConstraint(
                condition=Q(plan_start__gte=models.F("start"))
                & Q(plan_end__gte=models.F("plan_start"))
                & Q(do_start__gt=models.F("plan_end"))
                & Q(do_end__gte=models.F("do_start"))
                & Q(study_start__gt=models.F("do_end"))
                & Q(study_end__gte=models.F("study_start"))
                & Q(act_start__gt=models.F("study_end"))
                & Q(act_end__gte=models.F("act_start"))
                & Q(end__gte=models.F("act_end")),
                name="cycle_phases_ordered_inside",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def job_under_way(self) -> bool:
        """The launch is the cycle's job: under way until it ends active or stops with an error."""
        return self.state == CycleState.LAUNCHING and not self.launch_error

    def window(self, phase: str) -> tuple:
        return getattr(self, f"{phase}_start"), getattr(self, f"{phase}_end")

    def phase_label(self, phase: str | None = None) -> str:
        phase = phase or self.phase
        if phase is None:
            return "Not started"
        if self.methodology == CycleMethodology.DMAIC:
            return f"{DMAIC_PHASES[phase]} ({Phase(phase).label.split(':')[0]})"
        return Phase(phase).label


class ParticipantOverride(models.Model):
    """Set up before launch: a different form or reviewer for one person."""

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="overrides")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="+")
    form_version = models.ForeignKey(FormVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "employee"], name="one_override_per_person")]

    def __str__(self) -> str:
        return f"Override for {self.employee} in {self.cycle}"


class Participant(models.Model):
    """One person in one cycle: the form and reviewer fixed at launch."""

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="participants")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="cycle_participations")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="participants")
    reviewer = models.ForeignKey(Employee, null=True, on_delete=models.PROTECT, related_name="reviewing")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "employee"], name="one_participation_per_cycle")]
        indexes = [models.Index(fields=["cycle", "reviewer"], name="participant_reviewer")]

    def __str__(self) -> str:
        return f"{self.employee} in {self.cycle}"


class AppraisalState(models.TextChoices):
    DRAFT = "draft", "Not started"
    SELF_ASSESSMENT = "self_assessment", "Self-assessment"
    MANAGER_REVIEW = "manager_review", "Manager review"
    DIALOGUE = "dialogue", "Dialogue"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    LOCKED = "locked", "Locked"


LOCKED_MESSAGE = "This appraisal is locked: its cycle was closed, so the record is final and can no longer change."


class AppraisalQuerySet(models.QuerySet):
    """Bulk writes skip save() and delete(); these keep a locked appraisal unchanged all the same."""

    def update(self, **kwargs: object) -> int:
        if self.filter(state=AppraisalState.LOCKED).exists():
            raise ValidationError(LOCKED_MESSAGE)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(state=AppraisalState.LOCKED).exists():
            raise ValidationError(LOCKED_MESSAGE)
        return super().delete()


class Appraisal(models.Model):
    """The Study phase record: self-assessment → manager review → dialogue →
    acknowledgement → locked when HR closes the cycle."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="appraisal")
    state = models.CharField(max_length=20, choices=AppraisalState, default=AppraisalState.DRAFT)
    self_submitted_at = models.DateTimeField(null=True, blank=True)
    manager_submitted_at = models.DateTimeField(null=True, blank=True)
    # The employee sees the manager's ratings only once the manager shares them.
    shared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    employee_comment = models.TextField(blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    score_breakdown = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppraisalQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["state"], name="appraisal_state")]

    def __str__(self) -> str:
        return f"Appraisal of {self.participant.employee}"

    # Locking itself is a save of a record stored unlocked; after that, nothing saves or deletes it.
    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self._refuse_if_stored_locked()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._refuse_if_stored_locked()
        return super().delete(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        return self.state == AppraisalState.LOCKED

    def _refuse_if_stored_locked(self) -> None:
        if self.pk is not None and type(self)._base_manager.filter(pk=self.pk, state=AppraisalState.LOCKED).exists():
            raise ValidationError(LOCKED_MESSAGE)


class AppraisalPart(FrozenChild):
    """A row of an appraisal (ratings, answers), frozen with it once it is locked (core.frozen)."""

    frozen_with = "appraisal"

    class Meta:
        abstract = True

    @classmethod
    def frozen_refusal(cls, parent_ids) -> str | None:  # type: ignore[no-untyped-def]
        locked = Appraisal._base_manager.filter(pk__in=parent_ids, state=AppraisalState.LOCKED).exists()
        return LOCKED_MESSAGE if locked else None


class GoalRating(AppraisalPart):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="goal_ratings")
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="+")
    self_rating = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    self_comment = models.TextField(blank=True)
    manager_rating = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    manager_comment = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appraisal", "goal"], name="one_rating_per_goal")]

    def __str__(self) -> str:
        return f"Rating of goal {self.goal_id}"


class CompetencyRating(AppraisalPart):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="competency_ratings")
    form_competency = models.ForeignKey(FormCompetency, on_delete=models.PROTECT, related_name="+")
    self_rating = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    self_evidence = models.TextField(blank=True)
    manager_rating = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    manager_evidence = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appraisal", "form_competency"], name="one_rating_per_competency")
        ]

    def __str__(self) -> str:
        return f"Rating of competency row {self.form_competency_id}"


class DialogueAnswer(AppraisalPart):
    appraisal = models.ForeignKey(Appraisal, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(DialogueQuestion, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["appraisal", "question"], name="one_answer_per_question")]

    def __str__(self) -> str:
        return f"Answer to question {self.question_id}"


class CheckIn(models.Model):
    """The Do phase record: a mid-cycle conversation about progress."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="check_in")
    employee_notes = models.TextField(blank=True)
    manager_notes = models.TextField(blank=True)
    coaching_notes = models.TextField(blank=True)
    obstacles = models.TextField(blank=True)
    # [{"goal": id, "title": ..., "progress": "40.00", "approval": ...}] at the time of completion.
    goal_snapshot = models.JSONField(default=list, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Check-in of {self.participant}"


class DevelopmentPlan(models.Model):
    """The Act phase record: what the person will learn next, and by when."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="development_plan")
    summary = models.TextField(blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Development plan of {self.participant}"


class ActionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class DevelopmentAction(models.Model):
    plan = models.ForeignKey(DevelopmentPlan, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=300)
    competency = models.ForeignKey(
        "competencies.Competency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_level = models.PositiveSmallIntegerField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=ActionStatus, default=ActionStatus.PLANNED)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.description


class HistoryEntry(models.Model):
    """One change to an appraisal-cycle record: who, when, which field, old and new values."""

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="history")
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="history"
    )
    record = models.CharField(max_length=60)  # e.g. "appraisal", "goal rating 12", "check-in"
    action = models.CharField(max_length=60)  # e.g. "saved", "submitted self-assessment", "locked"
    field = models.CharField(max_length=80, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["participant", "-at"], name="history_by_participant")]

    def __str__(self) -> str:
        return f"{self.record}: {self.action}"


class CycleTally(models.Model):
    """How many of one cycle's participants in one department are at each step: a summary row
    kept by the services that change an appraisal's state, a check-in or a development plan
    (appraisals.services.tallies, in the same transaction), so that HR's dashboard, the cycle
    list and the home page read a few rows instead of counting thousands of records on every
    request. Rebuilt by ``manage.py rebuild_cycle_tallies``. The department is the person's at
    the last recount."""

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="tallies")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    participants = models.IntegerField(default=0)
    no_appraisal = models.IntegerField(default=0)
    draft = models.IntegerField(default=0)
    self_assessment = models.IntegerField(default=0)
    manager_review = models.IntegerField(default=0)
    dialogue = models.IntegerField(default=0)
    acknowledged_state = models.IntegerField(default=0)
    locked = models.IntegerField(default=0)
    check_ins_held = models.IntegerField(default=0)
    plans_agreed = models.IntegerField(default=0)
    acknowledged = models.IntegerField(default=0)  # acknowledged at some time, locked since or not

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "department"], name="one_tally_per_cycle_department")]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.department_id}: {self.participants}"


class ToDoKind(models.TextChoices):
    SET_GOALS = "set_goals", "Set your goals"
    APPROVE_GOALS = "approve_goals", "Approve your team's goals"
    CHECK_IN = "check_in", "Hold your check-in"
    SELF_ASSESSMENT = "self_assessment", "Write your self-assessment"
    MANAGER_REVIEW = "manager_review", "Review your team member"
    ACKNOWLEDGE = "acknowledge", "Acknowledge your appraisal"
    DEVELOPMENT_PLAN = "development_plan", "Agree your development plan"


class ToDo(models.Model):
    """What a person now has to do in a cycle; shown in the app and sent by email."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="todos")
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="todos")
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ToDoKind)
    due = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    # When the email announcing it went: an email task run again (redelivered after its worker
    # died) skips what was sent.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            # Two conditional constraints rather than nulls_distinct=False, which SQLite lacks.
            models.UniqueConstraint(
                fields=["employee", "cycle", "kind", "participant"],
                condition=Q(participant__isnull=False),
                name="one_todo_per_task",
            ),
            models.UniqueConstraint(
                fields=["employee", "cycle", "kind"],
                condition=Q(participant__isnull=True),
                name="one_cycle_todo_per_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["employee", "done_at"], name="todo_open"),
            # The cycle dashboard's overdue list: a cycle's open to-dos by due date, without reading
            # the done ones (most of a running cycle's, later on).
            models.Index(fields=["cycle", "due"], condition=Q(done_at__isnull=True), name="todo_cycle_overdue"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.employee})"

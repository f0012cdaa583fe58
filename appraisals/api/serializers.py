"""Shapes of the appraisals API: review cycles (read here), appraisals, check-ins and development plans.

Output serializers only read what the views already loaded (appraisals.selectors);
input serializers check types and shapes. What a change means (who may write which
side, which state allows what, versions, scale levels) is appraisals.services'.
No input serializer has a ``state``: the state moves only through the actions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appraisals import history
from appraisals.access import can_see_score
from appraisals.models import (
    ActionStatus,
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleMethodology,
    CycleState,
    DevelopmentAction,
    DevelopmentPlan,
    Phase,
    ReviewCycle,
)
from cascade.api.serializers import ChartSerializer, PeriodRefSerializer
from competencies.models import Competency
from core.api import IntegerFilter, NamedChoiceField, PlainListSerializer
from people.api.serializers import EmployeeRefSerializer, StrictInputSerializer

VERSION_HELP = "Required: the version you read. A newer save in between answers 409 and changes nothing."


# ---------------------------------------------------------------- references


class CycleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ActionCompetencySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ParticipantFieldsMixin(serializers.Serializer):
    """The cycle, person and reviewer of a record, read through its participant."""

    cycle = CycleRefSerializer(source="participant.cycle", read_only=True)
    employee = EmployeeRefSerializer(source="participant.employee", read_only=True)
    reviewer = EmployeeRefSerializer(source="participant.reviewer", read_only=True, allow_null=True)


# ---------------------------------------------------------------- cycles


class CycleSerializer(serializers.ModelSerializer):
    methodology = NamedChoiceField(choices=CycleMethodology.choices, enum_name="CycleMethodologyEnum", read_only=True)
    state = NamedChoiceField(choices=CycleState.choices, enum_name="CycleStateEnum", read_only=True)
    phase = NamedChoiceField(choices=Phase.choices, enum_name="CyclePhaseEnum", read_only=True, allow_null=True)
    phase_label = serializers.CharField(read_only=True, help_text="The phase as the cycle's methodology names it.")
    period = PeriodRefSerializer(read_only=True)

    class Meta:
        model = ReviewCycle
        fields = [
            "id",
            "name",
            "methodology",
            "state",
            "phase",
            "phase_label",
            "period",
            "start",
            "end",
            "plan_start",
            "plan_end",
            "do_start",
            "do_end",
            "study_start",
            "study_end",
            "act_start",
            "act_end",
            "launched_at",
            "closed_at",
            "version",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ReviewCycle) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["phase_label"] = instance.phase_label()
        return data


class CycleFilterSerializer(serializers.Serializer):
    state = NamedChoiceField(choices=CycleState.choices, enum_name="CycleStateEnum", required=False)


# ---------------------------------------------------------------- appraisals: reading


class AccessSerializer(serializers.Serializer):
    """What the requester may do with this appraisal now (appraisals.access)."""

    is_employee = serializers.BooleanField()
    is_reviewer = serializers.BooleanField()
    is_skip_level = serializers.BooleanField()
    is_hr = serializers.BooleanField()
    can_edit_self = serializers.BooleanField()
    can_edit_manager = serializers.BooleanField()
    can_edit_answers = serializers.BooleanField()
    can_comment = serializers.BooleanField()
    can_submit_self = serializers.BooleanField()
    can_submit_review = serializers.BooleanField()
    can_share = serializers.BooleanField()
    can_acknowledge = serializers.BooleanField()
    can_lock = serializers.BooleanField()
    sees_manager_ratings = serializers.BooleanField()
    sees_self_ratings = serializers.BooleanField()


class AppraisalSerializer(ParticipantFieldsMixin, serializers.ModelSerializer):
    """An appraisal in a list: its state and, once the requester may see it, its score."""

    state = NamedChoiceField(choices=AppraisalState.choices, enum_name="AppraisalStateEnum", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    score = serializers.SerializerMethodField()

    class Meta:
        model = Appraisal
        list_serializer_class = PlainListSerializer  # lists: the same JSON, less work per row
        fields = [
            "id",
            "cycle",
            "employee",
            "reviewer",
            "state",
            "state_label",
            "self_submitted_at",
            "manager_submitted_at",
            "shared_at",
            "acknowledged_at",
            "locked_at",
            "score",
            "employee_comment",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.DecimalField(
            max_digits=6, decimal_places=2, allow_null=True, help_text="Hidden from the employee until shared."
        )
    )
    def get_score(self, appraisal: Appraisal) -> str | None:
        if appraisal.score is None or not can_see_score(self.context["request"].user, appraisal.participant, appraisal):
            return None
        return str(appraisal.score)


class AppraisalScaleLevelSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=6, decimal_places=2)
    label = serializers.CharField()
    descriptor = serializers.CharField()
    indicator = serializers.CharField(help_text="The competency's behaviour at this level; blank for goals.")


class AppraisalScaleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    methodology = serializers.CharField()
    levels = AppraisalScaleLevelSerializer(many=True)


class AppraisalIndicatorSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    text = serializers.CharField()


RATING = {"max_digits": 8, "decimal_places": 2, "allow_null": True}


class GoalRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The goal's id: the key for saving its rating.")
    title = serializers.CharField()
    weight = serializers.IntegerField()
    kind = serializers.CharField()
    progress = serializers.DecimalField(max_digits=5, decimal_places=2)
    status = serializers.CharField()
    approval = serializers.CharField()
    priority_title = serializers.CharField()
    parent_title = serializers.CharField()
    measure_id = serializers.IntegerField(allow_null=True)
    measure_name = serializers.CharField()
    measure_unit = serializers.CharField()
    measure_driven = serializers.BooleanField()
    chart = ChartSerializer(allow_null=True, help_text="The linked measure's run and XmR chart.")
    special_cause = serializers.BooleanField()
    common_cause_caution = serializers.BooleanField(
        help_text="A measure-linked goal whose chart shows no special cause: the change lies within "
        "common-cause variation."
    )
    caution = serializers.CharField()
    self_rating = serializers.DecimalField(**RATING)
    self_comment = serializers.CharField()
    manager_rating = serializers.DecimalField(**RATING)
    manager_comment = serializers.CharField()


class CompetencyRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The form row's id: the key for saving its rating.")
    competency_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    weight = serializers.IntegerField()
    scale = AppraisalScaleSerializer()
    indicators = AppraisalIndicatorSerializer(many=True)
    self_rating = serializers.DecimalField(**RATING)
    self_evidence = serializers.CharField()
    manager_rating = serializers.DecimalField(**RATING)
    manager_evidence = serializers.CharField()


class QuestionRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    text = serializers.CharField()
    help_text = serializers.CharField()
    answer = serializers.CharField()


class ScoreSerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    breakdown = serializers.JSONField(
        help_text="By section: weight, score, each item's rating and normalised value, what is missing; "
        "the formula and its version."
    )


class LastChangeSerializer(serializers.Serializer):
    who = serializers.CharField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    record = serializers.CharField()


class AppraisalHistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    who = serializers.SerializerMethodField()
    record = serializers.CharField()
    action = serializers.CharField()
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)

    @extend_schema_field(serializers.CharField())
    def get_who(self, entry) -> str:  # type: ignore[no-untyped-def]
        return history.actor_name(entry)


class AppraisalDetailSerializer(AppraisalSerializer):
    """The whole appraisal as its page shows it: the view sets ``appraisal.page``
    (appraisals.selectors.appraisal_page), which these fields read."""

    permissions = AccessSerializer(source="page.access", read_only=True)
    goals_weight = serializers.IntegerField(source="page.goals_weight", read_only=True)
    competencies_weight = serializers.IntegerField(source="page.competencies_weight", read_only=True)
    goals_scale = AppraisalScaleSerializer(source="page.goals_scale", read_only=True, allow_null=True)
    goals = GoalRowSerializer(source="page.goals", many=True, read_only=True)
    competencies = CompetencyRowSerializer(source="page.competencies", many=True, read_only=True)
    questions = QuestionRowSerializer(source="page.questions", many=True, read_only=True)
    score_detail = ScoreSerializer(
        source="page.score", read_only=True, allow_null=True, help_text="Hidden from the employee until shared."
    )
    manager_hidden = serializers.BooleanField(source="page.manager_hidden", read_only=True)
    self_hidden = serializers.BooleanField(source="page.self_hidden", read_only=True)
    last_change = LastChangeSerializer(source="page.last_change", read_only=True, allow_null=True)
    history = AppraisalHistoryEntrySerializer(
        source="page.history", many=True, read_only=True, help_text="HR only; empty for everyone else."
    )

    class Meta(AppraisalSerializer.Meta):
        fields = [
            *AppraisalSerializer.Meta.fields,
            "permissions",
            "goals_weight",
            "competencies_weight",
            "goals_scale",
            "goals",
            "competencies",
            "questions",
            "score_detail",
            "manager_hidden",
            "self_hidden",
            "last_change",
            "history",
        ]
        read_only_fields = fields


class AppraisalFilterSerializer(serializers.Serializer):
    cycle = IntegerFilter(min_value=1)
    state = NamedChoiceField(choices=AppraisalState.choices, enum_name="AppraisalStateEnum", required=False)
    employee = IntegerFilter(min_value=1)


# ---------------------------------------------------------------- appraisals: writing


class GoalRatingInputSerializer(StrictInputSerializer):
    goal = serializers.IntegerField(min_value=1)
    rating = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, required=False, help_text="A level value of the goals scale."
    )
    comment = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)


class CompetencyRatingInputSerializer(StrictInputSerializer):
    form_competency = serializers.IntegerField(min_value=1, help_text="The competency row's id on the form.")
    rating = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, required=False, help_text="A level value of the row's scale."
    )
    evidence = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)


class AnswerInputSerializer(StrictInputSerializer):
    question = serializers.IntegerField(min_value=1)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class AppraisalDraftSerializer(StrictInputSerializer):
    """A draft save: only what is sent changes; each side writes its own ratings."""

    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    goal_ratings = GoalRatingInputSerializer(many=True, required=False)
    competency_ratings = CompetencyRatingInputSerializer(many=True, required=False)
    answers = AnswerInputSerializer(many=True, required=False)
    employee_comment = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)


class VersionSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class AcknowledgeSerializer(VersionSerializer):
    comment = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)


# ---------------------------------------------------------------- check-ins


class GoalSnapshotSerializer(serializers.Serializer):
    goal = serializers.IntegerField()
    title = serializers.CharField()
    weight = serializers.IntegerField()
    progress = serializers.DecimalField(max_digits=5, decimal_places=2)
    approval = serializers.CharField()
    status = serializers.CharField()


class CheckInSerializer(ParticipantFieldsMixin, serializers.ModelSerializer):
    goal_snapshot = GoalSnapshotSerializer(
        many=True, read_only=True, help_text="The goals as they stood at completion."
    )

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "cycle",
            "employee",
            "reviewer",
            "employee_notes",
            "manager_notes",
            "coaching_notes",
            "obstacles",
            "goal_snapshot",
            "completed_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class CheckInUpdateSerializer(StrictInputSerializer):
    """The person writes ``employee_notes`` and ``obstacles``; the reviewer ``manager_notes``,
    ``coaching_notes`` and ``obstacles``."""

    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    employee_notes = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    manager_notes = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    coaching_notes = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    obstacles = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)


class RecordFilterSerializer(serializers.Serializer):
    cycle = IntegerFilter(min_value=1)
    employee = IntegerFilter(min_value=1)


# ---------------------------------------------------------------- development plans


class DevelopmentActionSerializer(serializers.ModelSerializer):
    competency = ActionCompetencySerializer(read_only=True, allow_null=True)
    status = NamedChoiceField(choices=ActionStatus.choices, enum_name="DevelopmentActionStatusEnum", read_only=True)

    class Meta:
        model = DevelopmentAction
        fields = ["id", "description", "competency", "target_level", "due_date", "status", "completed_at"]
        read_only_fields = fields


class DevelopmentPlanSerializer(ParticipantFieldsMixin, serializers.ModelSerializer):
    actions = DevelopmentActionSerializer(many=True, read_only=True)

    class Meta:
        model = DevelopmentPlan
        fields = ["id", "cycle", "employee", "reviewer", "summary", "agreed_at", "actions", "updated_at", "version"]
        read_only_fields = fields


class PlanUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    summary = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ActionCreateSerializer(StrictInputSerializer):
    description = serializers.CharField(max_length=300)
    competency = serializers.PrimaryKeyRelatedField(
        queryset=Competency.objects.all(), allow_null=True, required=False, default=None
    )
    target_level = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, default=None, help_text="A level of the competency's indicators."
    )
    due_date = serializers.DateField(allow_null=True, required=False, default=None)


class ActionUpdateSerializer(StrictInputSerializer):
    description = serializers.CharField(max_length=300, required=False)
    competency = serializers.PrimaryKeyRelatedField(queryset=Competency.objects.all(), allow_null=True, required=False)
    target_level = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)
    status = NamedChoiceField(choices=ActionStatus.choices, enum_name="DevelopmentActionStatusEnum", required=False)

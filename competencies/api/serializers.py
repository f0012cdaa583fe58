"""Shapes of the competencies API.

Output serializers read what the views' querysets loaded; input serializers
check types and that ids exist. What a change means (weights that add up,
frozen versions, retired competencies) is decided in competencies.services.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from competencies.models import (
    AppraisalForm,
    AssignmentRule,
    BehaviouralIndicator,
    Competency,
    CompetencyStatus,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    Methodology,
    RatingScale,
    ScaleLevel,
)
from competencies.selectors import version_balance
from competencies.services import validation
from people.api.serializers import DepartmentRefSerializer, StrictInputSerializer

VERSION_HELP = "Required: the version you read. A newer save in between answers 409."


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ProblemsField(serializers.DictField):
    """Field name → messages; empty when there is nothing to fix."""

    child = serializers.ListField(child=serializers.CharField())


# ---------------------------------------------------------------- competencies


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = BehaviouralIndicator
        fields = ["level", "text"]
        read_only_fields = fields


class CompetencySerializer(serializers.ModelSerializer):
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = Competency
        fields = ["id", "name", "description", "category", "status", "version", "indicators"]
        read_only_fields = fields


INDICATORS_HELP = "Behavioural indicators, lowest level first: the n-th text describes level n. Replaces them all."


class CompetencyCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=80, required=False, allow_blank=True, default="Quality improvement")
    indicators = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list,
        help_text=INDICATORS_HELP,
    )  # fmt: skip


class CompetencyUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.CharField(max_length=80, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=CompetencyStatus.choices, required=False, help_text="Retired: stays on forms, cannot be added."
    )
    indicators = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, help_text=INDICATORS_HELP
    )


class CompetencyFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CompetencyStatus.choices, required=False)
    category = serializers.CharField(required=False, help_text="Exact category, ignoring case.")


# ---------------------------------------------------------------- rating scales


class ScaleLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScaleLevel
        fields = ["order", "value", "label", "descriptor"]
        read_only_fields = fields


class RatingScaleSerializer(serializers.ModelSerializer):
    levels = ScaleLevelSerializer(many=True, read_only=True)
    # Annotated by the view: no query per scale.
    is_locked = serializers.BooleanField(
        source="locked", read_only=True, help_text="Used by a published form: its levels can no longer change."
    )

    class Meta:
        model = RatingScale
        fields = ["id", "name", "methodology", "description", "version", "is_locked", "levels"]
        read_only_fields = fields


class LevelInputSerializer(StrictInputSerializer):
    value = serializers.DecimalField(max_digits=6, decimal_places=2)
    label = serializers.CharField(max_length=80)
    descriptor = serializers.CharField(required=False, allow_blank=True, default="")


LEVELS_HELP = "Lowest first; values must strictly increase and labels differ. Replaces them all."


class RatingScaleCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False, default=Methodology.GENERIC)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    levels = LevelInputSerializer(many=True, help_text=LEVELS_HELP)


class RatingScaleUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    name = serializers.CharField(max_length=120, required=False)
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    levels = LevelInputSerializer(many=True, required=False, help_text=LEVELS_HELP)


class MethodologyFilterSerializer(serializers.Serializer):
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False)


# ---------------------------------------------------------------- forms


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = FormVersion
        fields = ["id", "number", "status", "published_at", "version"]
        read_only_fields = fields


class AssignmentRuleSerializer(serializers.ModelSerializer):
    department = DepartmentRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = AssignmentRule
        fields = ["id", "department", "job_title", "is_default", "priority"]
        read_only_fields = fields


class AppraisalFormSerializer(serializers.ModelSerializer):
    # Prefetched by the view, drafts left out for anyone but HR.
    versions = VersionSummarySerializer(source="visible_versions", many=True, read_only=True)
    rules = AssignmentRuleSerializer(source="visible_rules", many=True, read_only=True)

    class Meta:
        model = AppraisalForm
        fields = ["id", "name", "description", "methodology", "version", "versions", "rules"]
        read_only_fields = fields


class FormCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False, default=Methodology.GENERIC)
    goals_scale = serializers.PrimaryKeyRelatedField(
        queryset=RatingScale.objects.all(), required=False, allow_null=True, default=None
    )


class FormUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False)


# ---------------------------------------------------------------- versions and sections


class CompetencyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=CompetencyStatus.choices, read_only=True)


class FormCompetencySerializer(serializers.ModelSerializer):
    competency = CompetencyRefSerializer(read_only=True)
    scale = RefSerializer(read_only=True)

    class Meta:
        model = FormCompetency
        fields = ["id", "competency", "weight", "scale", "order"]
        read_only_fields = fields


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DialogueQuestion
        fields = ["id", "key", "text", "help_text", "order"]
        read_only_fields = fields


class GoalsSectionSerializer(serializers.Serializer):
    weight = serializers.IntegerField(source="goals_weight", read_only=True)
    scale = RefSerializer(source="goals_scale", read_only=True, allow_null=True)


class CompetenciesSectionSerializer(serializers.Serializer):
    weight = serializers.IntegerField(source="competencies_weight", read_only=True)
    items = FormCompetencySerializer(source="competencies", many=True, read_only=True)


class DialogueSectionSerializer(serializers.Serializer):
    questions = QuestionSerializer(many=True, read_only=True)


class SectionsSerializer(serializers.Serializer):
    goals = GoalsSectionSerializer(source="*", read_only=True)
    competencies = CompetenciesSectionSerializer(source="*", read_only=True)
    dialogue = DialogueSectionSerializer(source="*", read_only=True, help_text="Dialogue questions carry no weight.")


class BalanceSerializer(serializers.Serializer):
    results_weight = serializers.IntegerField(read_only=True)
    process_weight = serializers.IntegerField(
        read_only=True, help_text="The competencies section; process-kind goals only count at appraisal."
    )
    floor = serializers.IntegerField(read_only=True)
    below_floor = serializers.BooleanField(read_only=True)
    warning = serializers.CharField(read_only=True)


class FormVersionSerializer(serializers.ModelSerializer):
    form = RefSerializer(read_only=True)
    sections = SectionsSerializer(source="*", read_only=True)
    balance = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField(help_text="What stops this draft being published.")
    is_in_use = serializers.SerializerMethodField(help_text="Appraisals (or other records) point at this version.")

    class Meta:
        model = FormVersion
        fields = [
            "id",
            "form",
            "number",
            "status",
            "published_at",
            "version",
            "is_in_use",
            "sections",
            "balance",
            "problems",
        ]
        read_only_fields = fields

    @extend_schema_field(BalanceSerializer)
    def get_balance(self, version: FormVersion) -> dict:
        return BalanceSerializer(version_balance(version)).data

    @extend_schema_field(ProblemsField)
    def get_problems(self, version: FormVersion) -> dict[str, list[str]]:
        if not version.is_draft:
            return {}
        return validation.publish_problems(version, list(version.competencies.all()))

    def get_is_in_use(self, version: FormVersion) -> bool:
        return version.is_in_use()


class CompetencyRowInputSerializer(StrictInputSerializer):
    competency = serializers.PrimaryKeyRelatedField(queryset=Competency.objects.all())
    weight = serializers.IntegerField(help_text="Share of the competencies section; the rows total 100.")
    scale = serializers.PrimaryKeyRelatedField(
        queryset=RatingScale.objects.all(), required=False, allow_null=True, default=None,
        help_text="Defaults to the goals section's scale.",
    )  # fmt: skip


class QuestionInputSerializer(StrictInputSerializer):
    key = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="",
        help_text="Keep a question's key to keep it findable (e.g. next_cycle_goals); blank makes one.",
    )  # fmt: skip
    text = serializers.CharField(max_length=300)
    help_text = serializers.CharField(required=False, allow_blank=True, default="")


class FormVersionUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    goals_weight = serializers.IntegerField(required=False)
    competencies_weight = serializers.IntegerField(required=False)
    goals_scale = serializers.PrimaryKeyRelatedField(
        queryset=RatingScale.objects.all(), required=False, allow_null=True
    )
    competencies = CompetencyRowInputSerializer(many=True, required=False, help_text="Replaces every row, in order.")
    questions = QuestionInputSerializer(many=True, required=False, help_text="Replaces every question, in order.")


class VersionActionSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class VersionQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version you read (409 if stale).")


class PreviewQuerySerializer(serializers.Serializer):
    audience = serializers.ChoiceField(
        choices=[("employee", "Employee (self-assessment)"), ("manager", "Manager (review)")],
        required=False,
        default="employee",
    )


# ---------------------------------------------------------------- preview (competencies.preview dataclasses)


class LevelViewSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=6, decimal_places=2)
    label = serializers.CharField()
    descriptor = serializers.CharField()
    indicator = serializers.CharField(help_text="The competency's indicator for this level; blank for goals.")


class ScaleViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    methodology = serializers.CharField()
    levels = LevelViewSerializer(many=True)


class IndicatorViewSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    text = serializers.CharField()


class CompetencyViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    competency_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    weight = serializers.IntegerField()
    share_of_score = serializers.DecimalField(max_digits=5, decimal_places=2)
    retired = serializers.BooleanField()
    scale = ScaleViewSerializer()
    indicators = IndicatorViewSerializer(many=True)


class GoalsSectionViewSerializer(serializers.Serializer):
    weight = serializers.IntegerField()
    scale = ScaleViewSerializer(allow_null=True)
    prompt = serializers.CharField()
    note = serializers.CharField()


class CompetenciesSectionViewSerializer(serializers.Serializer):
    weight = serializers.IntegerField()
    prompt = serializers.CharField()
    items = CompetencyViewSerializer(many=True)


class QuestionViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    text = serializers.CharField()
    help_text = serializers.CharField()


class DialogueSectionViewSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    questions = QuestionViewSerializer(many=True)


class FormPreviewSerializer(serializers.Serializer):
    form_id = serializers.IntegerField()
    form_name = serializers.CharField()
    description = serializers.CharField()
    methodology = serializers.CharField()
    version_id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.CharField()
    audience = serializers.CharField()
    audience_label = serializers.CharField()
    goals = GoalsSectionViewSerializer()
    competencies = CompetenciesSectionViewSerializer()
    dialogue = DialogueSectionViewSerializer()
    balance = BalanceSerializer()
    problems = ProblemsField()

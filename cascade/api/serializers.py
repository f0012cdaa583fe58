"""Shapes of the cascade API.

Output serializers only read what the views' querysets already loaded (no query
per row); input serializers check types and that ids exist, scoped to what the
requester may see. What a change means (levels, weights, directions, versions)
is decided in cascade.services, cascade.workflow and cascade.progress.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from cascade import access, charts, selectors
from cascade.models import (
    Approval,
    Confidence,
    Direction,
    Frequency,
    Goal,
    GoalKind,
    GoalLevel,
    GoalPeriod,
    GoalStatus,
    GoalUpdate,
    MeasureType,
    Methodology,
    Observation,
    PriorityStatus,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from core.api import IntegerFilter, NamedChoiceField, PlainListSerializer
from people import selectors as people
from people.api.serializers import DepartmentRefSerializer, EmployeeRefSerializer, StrictInputSerializer
from people.models import Department, Employee

VERSION_HELP = "Required: the version you read. A newer save in between answers 409."


# ---------------------------------------------------------------- references


class PriorityRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class GoalRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class MeasureRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class PeriodRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class VisibleGoalField(serializers.PrimaryKeyRelatedField):
    """A goal id the requester may see; any other answers as a goal that does not exist."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Goal.objects.all(), **kwargs)

    def get_queryset(self):
        return access.goals_visible_to(self.context["request"].user)


class VisibleEmployeeField(serializers.PrimaryKeyRelatedField):
    """A person the requester may see (themselves, their reports; everyone for HR)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Employee.objects.all(), **kwargs)

    def get_queryset(self):
        return people.employees_visible_to(user=self.context["request"].user)


# ---------------------------------------------------------------- priorities


class MeasureSummarySerializer(serializers.ModelSerializer):
    """A measure as a line in its priority: what it is and where it stands."""

    department = DepartmentRefSerializer(read_only=True)
    # Annotated by the priority list's prefetch: no query per measure.
    latest_date = serializers.DateField(read_only=True, allow_null=True)
    latest_value = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True, allow_null=True)

    class Meta:
        model = QualityMeasure
        fields = [
            "id",
            "name",
            "unit",
            "measure_type",
            "direction",
            "baseline",
            "target",
            "department",
            "latest_date",
            "latest_value",
        ]
        read_only_fields = fields


class PrioritySerializer(serializers.ModelSerializer):
    owner = EmployeeRefSerializer(read_only=True)
    status = NamedChoiceField(choices=PriorityStatus.choices, enum_name="PriorityStatusEnum", read_only=True)
    measures = MeasureSummarySerializer(many=True, read_only=True)
    progress = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        read_only=True,
        help_text="Weighted mean of the approved goals directly under the priority, in percent.",
    )

    class Meta:
        model = QualityPriority
        fields = [
            "id",
            "title",
            "aim",
            "methodology",
            "owner",
            "period_start",
            "period_end",
            "status",
            "progress",
            "measures",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class PriorityCreateSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    aim = serializers.CharField(help_text="What will improve, by how much, by when, for whom.")
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=Employee.objects.filter(is_active=True), required=False, help_text="Defaults to you."
    )
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = NamedChoiceField(choices=PriorityStatus.choices, enum_name="PriorityStatusEnum", required=False)


class PriorityUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    title = serializers.CharField(max_length=200, required=False)
    aim = serializers.CharField(required=False)
    methodology = serializers.ChoiceField(choices=Methodology.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=Employee.objects.filter(is_active=True), required=False)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    status = NamedChoiceField(choices=PriorityStatus.choices, enum_name="PriorityStatusEnum", required=False)


# ---------------------------------------------------------------- measures and observations


class ObservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Observation
        fields = ["id", "date", "value", "numerator", "denominator", "created_at"]
        read_only_fields = fields


# The chart is cascade.charts' ``Chart.as_dict()``, passed through as it is; these
# serializers only describe that contract for the schema.
SIGNAL_KINDS = [("improvement", "Improvement"), ("concern", "Concern")]


class PointSignalSerializer(serializers.Serializer):
    chart = serializers.ChoiceField(choices=[("run", "Run chart"), ("xmr", "XmR chart")])
    rule = serializers.CharField(help_text="The rule that flagged the point, e.g. shift, trend, outside_limits.")
    kind = NamedChoiceField(choices=SIGNAL_KINDS, enum_name="SignalKindEnum")


class ChartPointSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    date = serializers.DateField()
    value = serializers.FloatField()
    phase = serializers.IntegerField(help_text="The index of the phase the point belongs to.")
    mr = serializers.FloatField(allow_null=True, help_text="Moving range: the difference from the point before.")
    run_signal = serializers.BooleanField(help_text="Part of a shift or trend on the run chart.")
    spc_signal = serializers.BooleanField(help_text="Part of a special cause on the XmR chart.")
    signal_kind = NamedChoiceField(
        choices=SIGNAL_KINDS,
        enum_name="SignalKindEnum",
        allow_null=True,
        help_text="Improvement when any signal on the point is an improvement (as Making Data Count draws it).",
    )
    signals = PointSignalSerializer(many=True, help_text="Every signal on the point, on both charts.")


class RunSignalSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=[
            ("shift", "Shift (IHI)"),
            ("trend", "Trend (IHI)"),
            ("long_run", "Unusually long run (Anhøj)"),
            ("few_crossings", "Too few crossings (Anhøj)"),
        ]
    )
    start = serializers.IntegerField(help_text="First point's index.")
    end = serializers.IntegerField(help_text="Last point's index (inclusive).")
    kind = NamedChoiceField(
        choices=SIGNAL_KINDS,
        enum_name="SignalKindEnum",
        allow_null=True,
        help_text="None for too few crossings, which has no direction.",
    )
    description = serializers.CharField()


class RunsTestSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Runs about the median.")
    useful = serializers.IntegerField(help_text="Points not on the median.")
    lower = serializers.IntegerField(allow_null=True)
    upper = serializers.IntegerField(allow_null=True)
    verdict = serializers.ChoiceField(
        choices=[("too_few", "Too few"), ("too_many", "Too many"), ("ok", "OK"), ("not_applicable", "Not applicable")]
    )


class RunChartSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True)
    rules_apply = serializers.BooleanField(help_text="The run chart rules apply from 10 points on.")
    signals = RunSignalSerializer(many=True)
    runs = RunsTestSerializer()
    # Anhøj's figures: null under the IHI rules (or before the rules apply).
    longest_run = serializers.IntegerField(allow_null=True, help_text="Anhøj: the longest run about the median.")
    longest_run_limit = serializers.IntegerField(allow_null=True, help_text="Anhøj: a longer run is a signal.")
    crossings = serializers.IntegerField(allow_null=True, help_text="Anhøj: how often the values cross the median.")
    crossings_limit = serializers.IntegerField(allow_null=True, help_text="Anhøj: fewer crossings are a signal.")


class XmrSignalSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=[
            ("outside_limits", "Outside the limits"),
            ("shift", "Shift"),
            ("trend", "Trend"),
            ("two_of_three", "2 of 3 beyond two-thirds"),
        ]
    )
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    indices = serializers.ListField(child=serializers.IntegerField(), help_text="The points it flags.")
    kind = NamedChoiceField(choices=SIGNAL_KINDS, enum_name="SignalKindEnum")
    description = serializers.CharField()


class XmrChartSerializer(serializers.Serializer):
    status = NamedChoiceField(
        choices=[("insufficient", "Under 12 points: no limits"), ("provisional", "Provisional"), ("final", "Final")],
        enum_name="XmrStatusEnum",
    )
    mean = serializers.FloatField(allow_null=True)
    mr_bar = serializers.FloatField(allow_null=True, help_text="Average moving range.")
    ucl = serializers.FloatField(allow_null=True)
    lcl = serializers.FloatField(allow_null=True)
    upper_two_thirds = serializers.FloatField(allow_null=True)
    lower_two_thirds = serializers.FloatField(allow_null=True)
    signals = XmrSignalSerializer(many=True)
    assurance = serializers.ChoiceField(
        choices=[("always", "Always"), ("never", "Never"), ("inconsistent", "Inconsistent")],
        allow_null=True,
        help_text="Whether the process, as it runs, will meet the target.",
    )


class MovingRangeSerializer(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True, help_text="Average moving range (MR̄), the centre line.")
    ucl = serializers.FloatField(allow_null=True, help_text="Upper limit: 3.267 × MR̄.")
    status = NamedChoiceField(
        choices=[("insufficient", "Under 12 points: no limits"), ("provisional", "Provisional"), ("final", "Final")],
        enum_name="XmrStatusEnum",
    )


class ChartPhaseSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    start = serializers.DateField(help_text="The date of the phase's first point.")
    end = serializers.DateField(help_text="The date of the phase's last point.")
    first = serializers.IntegerField(help_text="Index of the phase's first point.")
    last = serializers.IntegerField(help_text="Index of the phase's last point (inclusive).")
    reason = serializers.CharField(
        allow_null=True, help_text="Why the phase starts (its change point's reason); null for the first phase."
    )
    run = RunChartSerializer()
    xmr = XmrChartSerializer()
    mr = MovingRangeSerializer()


class ChartAnnotationSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=[("change_point", "Change point"), ("test_of_change", "Test of change")])
    label = serializers.CharField()


class ChartSerializer(serializers.Serializer):
    """The measure's run chart, XmR (SPC) chart and moving-range chart, computed by cascade.charts in
    phases split at its change points; ``run``, ``xmr`` and ``mr`` are the current (last) phase's."""

    direction = serializers.ChoiceField(choices=Direction.choices)
    target = serializers.FloatField(allow_null=True)
    rules = NamedChoiceField(
        choices=charts.RUN_RULES, enum_name="RunChartRulesEnum", help_text="The run chart rules applied."
    )
    rules_label = serializers.CharField(help_text="Their name, as the chart says it.")
    n = serializers.IntegerField(help_text="Number of observations.")
    points = ChartPointSerializer(many=True)
    run = RunChartSerializer()
    xmr = XmrChartSerializer()
    mr = MovingRangeSerializer()
    phases = ChartPhaseSerializer(many=True, help_text="One per stretch between change points, oldest first.")
    annotations = ChartAnnotationSerializer(many=True, help_text="Change points and tests of change, by date.")
    summary = serializers.CharField(help_text="The charts in a sentence or two.")


class MeasureSerializer(serializers.ModelSerializer):
    priority = PriorityRefSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    observations = ObservationSerializer(many=True, read_only=True)
    run_rules = NamedChoiceField(choices=charts.RUN_RULES, enum_name="RunChartRulesEnum", read_only=True)
    chart = serializers.SerializerMethodField()

    class Meta:
        model = QualityMeasure
        fields = [
            "id",
            "priority",
            "name",
            "description",
            "unit",
            "measure_type",
            "direction",
            "baseline",
            "target",
            "department",
            "frequency",
            "run_rules",
            "observations",
            "chart",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(ChartSerializer)
    def get_chart(self, measure: QualityMeasure) -> dict[str, Any]:
        # Observations and change points come prefetched (see MeasureViewSet.get_queryset).
        return selectors.measure_chart(measure).as_dict()


class MeasureCreateSerializer(StrictInputSerializer):
    priority = serializers.PrimaryKeyRelatedField(queryset=QualityPriority.objects.all())
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.CharField(max_length=40, help_text="e.g. days, %, errors per 1,000 doses")
    measure_type = serializers.ChoiceField(choices=MeasureType.choices, help_text="IHI type.")
    direction = serializers.ChoiceField(choices=Direction.choices, help_text="Direction of improvement.")
    baseline = serializers.DecimalField(max_digits=14, decimal_places=4)
    target = serializers.DecimalField(max_digits=14, decimal_places=4)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    run_rules = NamedChoiceField(
        choices=charts.RUN_RULES, enum_name="RunChartRulesEnum", required=False, help_text="Run chart rules."
    )


class MeasureUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    priority = serializers.PrimaryKeyRelatedField(queryset=QualityPriority.objects.all(), required=False)
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.CharField(max_length=40, required=False)
    measure_type = serializers.ChoiceField(choices=MeasureType.choices, required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    baseline = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    target = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False)
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    run_rules = NamedChoiceField(
        choices=charts.RUN_RULES, enum_name="RunChartRulesEnum", required=False, help_text="Run chart rules."
    )


class MeasureFilterSerializer(serializers.Serializer):
    """Query parameters of the measure list."""

    priority = IntegerFilter(help_text="Quality priority id.")
    department = IntegerFilter(help_text="Owning department id.")


class ObservationCreateSerializer(StrictInputSerializer):
    date = serializers.DateField(help_text="One value per date; a second value for a date is refused.")
    value = serializers.DecimalField(max_digits=14, decimal_places=4)
    numerator = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    denominator = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)


# ---------------------------------------------------------------- goals


class LineOfSightStepSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    progress = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)


class LineOfSightSerializer(serializers.Serializer):
    """What a goal serves, up to the organisation's priority (cascade.selectors.line_of_sight)."""

    department_goal = LineOfSightStepSerializer(
        read_only=True, allow_null=True, help_text="The department goal above, if the goal hangs under one."
    )
    priority = LineOfSightStepSerializer(read_only=True)


class GoalSerializer(serializers.ModelSerializer):
    priority = PriorityRefSerializer(read_only=True)
    parent_goal = GoalRefSerializer(read_only=True, allow_null=True)
    department = DepartmentRefSerializer(read_only=True)
    owner = EmployeeRefSerializer(read_only=True, allow_null=True)
    contributing_departments = DepartmentRefSerializer(many=True, read_only=True)
    period = PeriodRefSerializer(read_only=True)
    measure = MeasureRefSerializer(read_only=True, allow_null=True)
    level = NamedChoiceField(choices=GoalLevel.choices, enum_name="GoalLevelEnum", read_only=True)
    kind = NamedChoiceField(choices=GoalKind.choices, enum_name="GoalKindEnum", read_only=True)
    status = NamedChoiceField(choices=GoalStatus.choices, enum_name="GoalStatusEnum", read_only=True)
    line_of_sight = serializers.SerializerMethodField()
    close_requested_by = EmployeeRefSerializer(read_only=True, allow_null=True)
    close_proposed_status = serializers.CharField(
        read_only=True, help_text="The result the owner asks to close with: achieved, not_achieved, or empty."
    )
    result_signed_off_by = EmployeeRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="Who signed the result off; null when nobody has, or when its measure did (result_by_measure).",
    )
    result_by_measure = serializers.BooleanField(
        read_only=True, help_text="The result was signed off by the system, from the linked measure's result."
    )

    class Meta:
        model = Goal
        fields = [
            "id",
            "level",
            "title",
            "description",
            "priority",
            "parent_goal",
            "department",
            "owner",
            "contributing_departments",
            "period",
            "weight",
            "kind",
            "measure",
            "baseline",
            "target",
            "progress_mode",
            "progress",
            "approval",
            "status",
            "due_date",
            "improvement_hours_per_month",
            "line_of_sight",
            "approved_at",
            "cancel_requested_at",
            "cancel_reason",
            "close_requested_at",
            "close_requested_by",
            "close_proposed_status",
            "close_comment",
            "result_signed_off_at",
            "result_signed_off_by",
            "result_by_measure",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(LineOfSightSerializer)
    def get_line_of_sight(self, goal: Goal) -> dict[str, Any]:
        return LineOfSightSerializer(selectors.line_of_sight(goal)).data


class GoalCreateSerializer(StrictInputSerializer):
    level = NamedChoiceField(choices=GoalLevel.choices, enum_name="GoalLevelEnum")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    period = serializers.PrimaryKeyRelatedField(queryset=GoalPeriod.objects.all())
    priority = serializers.PrimaryKeyRelatedField(
        queryset=QualityPriority.objects.all(),
        required=False,
        allow_null=True,
        help_text="The priority served; taken from the parent goal when there is one.",
    )
    parent_goal = VisibleGoalField(
        required=False, allow_null=True, help_text="Individual goals only: the department goal above."
    )
    owner = VisibleEmployeeField(required=False, help_text="Individual goals: whose goal it is.")
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, help_text="Department goals: the owning department."
    )
    contributing_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        many=True,
        required=False,
        help_text="Department goals only: other departments that share the goal.",
    )
    weight = serializers.IntegerField(
        min_value=1, max_value=100, help_text="Share among the owner's goals in the period; a set totals 100."
    )
    kind = NamedChoiceField(choices=GoalKind.choices, enum_name="GoalKindEnum", required=False)
    measure = serializers.PrimaryKeyRelatedField(queryset=QualityMeasure.objects.all(), required=False, allow_null=True)
    baseline = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    target = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    progress_mode = serializers.ChoiceField(choices=ProgressMode.choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    improvement_hours_per_month = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, required=False, help_text="Planned improvement time."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Which of owner / department a goal takes follows from its level; the rest is the service's.
        if attrs["level"] == GoalLevel.INDIVIDUAL:
            misplaced = {
                "department": "An individual goal belongs to its owner's department; leave this out.",
                "contributing_departments": "Only department goals have contributing departments.",
            }
        else:
            misplaced = {"owner": "A department goal has no individual owner; leave this out."}
        errors = {name: message for name, message in misplaced.items() if name in attrs}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class GoalEditSerializer(StrictInputSerializer):
    # Owner, department, period and level are fixed once a goal exists.
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.PrimaryKeyRelatedField(queryset=QualityPriority.objects.all(), required=False)
    parent_goal = VisibleGoalField(required=False, allow_null=True)
    contributing_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), many=True, required=False
    )
    weight = serializers.IntegerField(min_value=1, max_value=100, required=False)
    kind = NamedChoiceField(choices=GoalKind.choices, enum_name="GoalKindEnum", required=False)
    measure = serializers.PrimaryKeyRelatedField(queryset=QualityMeasure.objects.all(), required=False, allow_null=True)
    baseline = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    target = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    progress_mode = serializers.ChoiceField(choices=ProgressMode.choices, required=False)
    status = NamedChoiceField(
        choices=GoalStatus.choices,
        enum_name="GoalStatusEnum",
        required=False,
        help_text=(
            "The outcome; the one field an approved goal takes. Closing it (achieved / not achieved) is the "
            "approver's or HR's sign-off; anyone else answers 400 and asks with `close-request/`. `open` "
            "reopens a closed result and clears its sign-off."
        ),
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    improvement_hours_per_month = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, required=False)


class GoalFilterSerializer(serializers.Serializer):
    """Query parameters of the goal list."""

    priority = IntegerFilter(help_text="Quality priority id.")
    department = IntegerFilter(help_text="Owning department id.")
    owner = IntegerFilter(help_text="Owner's employee id (individual goals).")
    period = IntegerFilter(help_text="Goal period id.")
    level = NamedChoiceField(choices=GoalLevel.choices, enum_name="GoalLevelEnum", required=False)
    approval = serializers.ChoiceField(choices=Approval.choices, required=False)


class GoalSetSerializer(StrictInputSerializer):
    """One owner's goals in one period: a person's (``owner``) or a department's (``department``)."""

    period = serializers.PrimaryKeyRelatedField(queryset=GoalPeriod.objects.all())
    owner = serializers.IntegerField(required=False, help_text="Employee id, for a person's goals.")
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, help_text="Department id, for its department goals."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("owner" in attrs) == ("department" in attrs):
            both = "owner" in attrs
            message = "Name a person (owner) or a department, not both." if both else "Name a person or a department."
            raise serializers.ValidationError({"owner": message, "department": message})
        return attrs


class GoalSetReviewSerializer(GoalSetSerializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when returning a set for changes."
    )


class GoalReopenSerializer(StrictInputSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class GoalCancelSerializer(StrictInputSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text=VERSION_HELP
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in the set's history and sent to the owner."
    )


class GoalCancelRequestSerializer(StrictInputSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: why the goal should be cancelled."
    )


class GoalKeepSerializer(StrictInputSerializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: why the goal stays."
    )


RESULT_CHOICES = [(GoalStatus.ACHIEVED.value, "Achieved"), (GoalStatus.NOT_ACHIEVED.value, "Not achieved")]


class GoalCloseRequestSerializer(StrictInputSerializer):
    result = serializers.ChoiceField(
        choices=RESULT_CHOICES, required=False, allow_blank=True, default="", help_text="Required: the result proposed."
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: what was achieved (or not)."
    )


class GoalSignOffSerializer(StrictInputSerializer):
    version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text=VERSION_HELP
    )
    result = serializers.ChoiceField(
        choices=RESULT_CHOICES,
        required=False,
        allow_null=True,
        default=None,
        help_text="The result signed off; defaults to the one the owner asked for.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", help_text="Sent to the owner.")


class GoalCloseDeclineSerializer(StrictInputSerializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: why the goal stays open."
    )


class GoalCloseByMeasureSerializer(StrictInputSerializer):
    """No fields: the result follows from the linked measure's latest value."""


# ---------------------------------------------------------------- progress updates


class GoalUpdateSerializer(serializers.ModelSerializer):
    goal = GoalRefSerializer(read_only=True)
    author = EmployeeRefSerializer(read_only=True)

    class Meta:
        model = GoalUpdate
        list_serializer_class = PlainListSerializer  # lists: the same JSON, less work per row
        fields = ["id", "goal", "author", "created_at", "percent", "value", "confidence", "comment", "progress_after"]
        read_only_fields = fields


class GoalUpdateCreateSerializer(StrictInputSerializer):
    goal = serializers.IntegerField(help_text="The goal's id; a goal you cannot see answers 404.")
    percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, help_text="Progress by hand, 0–100."
    )
    value = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        required=False,
        allow_null=True,
        help_text="The latest value, for a goal with a baseline and a target.",
    )
    confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, default=Confidence.MEDIUM)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class GoalUpdateFilterSerializer(serializers.Serializer):
    """Query parameters of the progress-update list."""

    goal = IntegerFilter(help_text="Goal id.")


# ---------------------------------------------------------------- the linkage matrix


class MatrixCellSerializer(serializers.Serializer):
    priority = serializers.IntegerField(read_only=True, help_text="Priority id.")
    department = serializers.IntegerField(read_only=True, help_text="Department id.")
    count = serializers.IntegerField(read_only=True, help_text="Goals linking the two.")
    mean_progress = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True, allow_null=True)


@extend_schema_serializer(many=False)  # one object, though it answers the viewset's list route
class MatrixSerializer(serializers.Serializer):
    """Priorities × departments; only cells with at least one goal are listed."""

    priorities = PriorityRefSerializer(many=True, read_only=True)
    departments = DepartmentRefSerializer(many=True, read_only=True)
    cells = MatrixCellSerializer(many=True, read_only=True)


class MatrixFilterSerializer(serializers.Serializer):
    period = serializers.PrimaryKeyRelatedField(
        queryset=GoalPeriod.objects.all(), required=False, help_text="Goal period id; every period when left out."
    )


class MatrixCellFilterSerializer(MatrixFilterSerializer):
    priority = serializers.PrimaryKeyRelatedField(queryset=QualityPriority.objects.all())
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())

"""The `surveys` resource: HR's survey definitions and their aggregated results — nothing else.

HR admins list, read, create and change definitions (PATCH takes the ``version`` read and
answers 409 when someone saved in between); ``GET /surveys/{id}/results/`` gives the results by
department with the group-size floor (audits.selectors.surveys.department_results), once the
survey has closed. Anyone else gets 403. No endpoint returns an individual response, an
invitation or who answered: only counts and aggregates.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from audits import access
from audits.models import ItemTopic, Survey, SurveyItem, SurveyState
from audits.selectors import surveys as read
from audits.services import surveys as services
from core.access import Requires, deny_unless
from core.api import NamedChoiceField, validated
from core.parsers import JSONParser
from people.api.serializers import StrictInputSerializer
from people.models import Department

BAD_REQUEST = OpenApiResponse(description="Invalid input, or not allowed in the survey's state; the body says why.")
FORBIDDEN = OpenApiResponse(description="Only HR admins manage surveys and read their results.")
NOT_FOUND = OpenApiResponse(description="No such survey.")
CONFLICT = OpenApiResponse(description="Someone saved this survey after you read it; nothing was changed.")
WRITE_RESPONSES = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
VERSION_HELP = "The version you read; a stale one answers 409 and changes nothing."


# ---------------------------------------------------------------- serializers


class SurveyItemSerializer(serializers.ModelSerializer):
    topic = NamedChoiceField(choices=ItemTopic.choices, enum_name="SurveyItemTopicEnum", read_only=True)

    class Meta:
        model = SurveyItem
        fields = ["id", "position", "text", "topic"]
        read_only_fields = ["id", "position", "text", "topic"]


class SurveySerializer(serializers.ModelSerializer):
    state = NamedChoiceField(choices=SurveyState.choices, enum_name="SurveyStateEnum", read_only=True)
    departments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    everyone = serializers.SerializerMethodField(help_text="True when the survey asks every active person.")
    items = SurveyItemSerializer(many=True, read_only=True)
    invited = serializers.IntegerField(read_only=True, help_text="People asked (0 before it opens).")
    answered = serializers.IntegerField(read_only=True, help_text="People who answered; never who.")
    response_rate = serializers.SerializerMethodField(help_text="Whole per cent; null before it opens.")

    class Meta:
        model = Survey
        fields = [
            "id",
            "title",
            "introduction",
            "state",
            "everyone",
            "departments",
            "opens_on",
            "closes_on",
            "reminder_every_days",
            "last_reminded_on",
            "items",
            "invited",
            "answered",
            "response_rate",
            "created_at",
            "opened_at",
            "closed_at",
            "version",
        ]
        read_only_fields = fields

    def get_everyone(self, survey: Survey) -> bool:
        return not survey.departments.all()

    def get_response_rate(self, survey: Survey) -> int | None:
        return read.Turnout(invited=survey.invited, answered=survey.answered).rate  # type: ignore[attr-defined]


class ItemInputSerializer(StrictInputSerializer):
    id = serializers.IntegerField(required=False, allow_null=True, help_text="Keep an existing item's id on update.")
    text = serializers.CharField(max_length=300, allow_blank=True)
    topic = serializers.ChoiceField(choices=ItemTopic.choices, default=ItemTopic.OTHER)


class SurveyCreateSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    introduction = serializers.CharField(required=False, allow_blank=True, default="")
    departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), many=True, required=False, help_text="Empty or left out: everyone."
    )
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()
    reminder_every_days = serializers.IntegerField(min_value=1, max_value=60, default=7)
    items = ItemInputSerializer(
        many=True, required=False, help_text="Left out: the three seeded statements (relevance, messaging, time)."
    )


class SurveyUpdateSerializer(StrictInputSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    title = serializers.CharField(max_length=200, required=False)
    introduction = serializers.CharField(required=False, allow_blank=True)
    departments = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), many=True, required=False)
    opens_on = serializers.DateField(required=False)
    closes_on = serializers.DateField(required=False)
    reminder_every_days = serializers.IntegerField(min_value=1, max_value=60, required=False)
    items = ItemInputSerializer(many=True, required=False, help_text="The whole list, in order; replaces the items.")


class ItemResultSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item.pk")
    text = serializers.CharField(source="item.text")
    topic = serializers.CharField(source="item.topic")
    n = serializers.IntegerField()
    mean = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    counts = serializers.SerializerMethodField(help_text='How many gave each answer: {"1": n, ..., "5": n}.')

    def get_counts(self, result: read.ItemResult) -> dict[str, int]:
        return {str(v): result.counts.get(v, 0) for v in read.LIKERT_VALUES}


class GroupResultSerializer(serializers.Serializer):
    department = serializers.IntegerField(source="department.pk", allow_null=True, default=None)
    label = serializers.CharField()
    shown = serializers.BooleanField()
    responses = serializers.IntegerField(allow_null=True, help_text="Null when the group is not shown.")
    note = serializers.CharField(help_text="Why the group is not shown, when it is not.")
    mean = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    items = ItemResultSerializer(many=True)

    def to_representation(self, group: read.GroupResult) -> dict[str, Any]:
        data = super().to_representation(group)
        if not group.shown:
            data["responses"] = None
        return data


class SurveyResultsSerializer(serializers.Serializer):
    survey = serializers.IntegerField(source="survey.pk")
    topic = serializers.CharField(allow_null=True)
    min_group = serializers.IntegerField()
    organisation = GroupResultSerializer()
    departments = GroupResultSerializer(many=True)


# ---------------------------------------------------------------- views


@extend_schema_view(
    create=extend_schema(request=SurveyCreateSerializer, responses={201: SurveySerializer, **WRITE_RESPONSES}),
    partial_update=extend_schema(request=SurveyUpdateSerializer, responses={200: SurveySerializer, **WRITE_RESPONSES}),
)
class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Feedback surveys: HR admins only (listing or creating: anyone else 403; one survey: 404). Definitions and aggregated results;
    no endpoint returns a response or says who answered. Opening, reminding and closing happen
    on the survey's dates (the daily job) or on HR's survey page."""

    serializer_class = SurveySerializer
    permission_classes = [IsAuthenticated, Requires]
    # Setting surveys up is HR's (403 on the list and on create, as the page); one survey is outside
    # anyone else's scope (404, from the queryset).
    required_for = {"list": access.can_manage_surveys, "create": access.can_manage_surveys}
    required_message = access.SURVEYS_MESSAGE
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Survey]:
        return (
            access.surveys_visible_to(self.request.user)
            .annotate(
                invited=Count("invitations", distinct=True),
                answered=Count("invitations", filter=Q(invitations__answered=True), distinct=True),
            )
            .prefetch_related("departments", Prefetch("items", queryset=SurveyItem.objects.order_by("position", "pk")))
            .order_by("-opens_on", "-pk")
        )

    def _read(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = validated(SurveyCreateSerializer, request.data, request)
        departments, items = data.pop("departments", []), data.pop("items", None)
        survey = services.survey_create(user=request.user, data=data, departments=departments, items=items)
        response = self._read(survey.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        survey = self.get_object()
        data = validated(SurveyUpdateSerializer, request.data, request)
        version = data.pop("version")
        departments, items = data.pop("departments", None), data.pop("items", None)
        services.survey_update(
            user=request.user,
            survey=survey,
            expected_version=version,
            data=data,
            departments=departments,
            items=items,
        )
        return self._read(survey.pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("topic", str, enum=list(ItemTopic.values), description="Only the items of this topic.")
        ],
        responses={200: SurveyResultsSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Per item the mean, the count of each answer and n, for the organisation and each department "
        "of the respondents. A group with fewer than 5 responses is not shown (items empty, responses null, a "
        "note saying why), nor one whose figures would give a hidden group away by subtraction. Only once the "
        "survey has closed; before that, 400.",
    )
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        survey = self.get_object()
        deny_unless(access.can_read_survey_results(request.user, survey), access.SURVEYS_MESSAGE)
        topic = request.query_params.get("topic") or None
        if topic is not None and topic not in ItemTopic.values:
            raise serializers.ValidationError({"topic": [f"Choose one of: {', '.join(ItemTopic.values)}."]})
        if survey.state != SurveyState.CLOSED:
            raise serializers.ValidationError(
                {
                    "detail": "Results are shown once the survey has closed, so that no one's answers can be told "
                    "apart by watching the figures change."
                }
            )
        return Response(SurveyResultsSerializer(read.department_results(survey, topic)).data)


def register(router: DefaultRouter) -> None:
    router.register("surveys", SurveyViewSet, basename="survey")

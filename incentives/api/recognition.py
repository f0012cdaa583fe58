"""The recognition and career-pathway resources: `recognitions` and `pathways`.

Reads are scoped by incentives/access.py (hidden posts only for HR and
their author; anything out of scope answers 404); writes through
incentives.services.recognition / .pathways. ``register(router)`` adds both to
the project's API router.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from competencies.models import Competency
from core.access import Requires
from core.api import IntegerFilter, NamedChoiceField, validated
from incentives import access
from incentives.models.recognition import CandidateStatus, Pathway, PathwayCandidate, Recognition, RecognitionKind
from incentives.selectors import recognition as selectors
from incentives.services import pathways as pathway_service
from incentives.services import recognition as recognition_service
from people.api.serializers import DepartmentRefSerializer, EmployeeRefSerializer, StrictInputSerializer
from people.models import Department, Employee

BAD_REQUEST = OpenApiResponse(
    description="Invalid input, or not allowed in the record's current state; the body says why."
)
FORBIDDEN = OpenApiResponse(description="You can see this record, but you may not make this change.")
NOT_FOUND = OpenApiResponse(description="No such record, or not one you may see.")
WRITE_RESPONSES = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND}


# ---------------------------------------------------------------- shapes


class LinkedGoalSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class LinkedMeasureSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LinkedPrioritySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class PathwayRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class RecognitionSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="RecognitionKindEnum", choices=RecognitionKind.choices, read_only=True)
    author = EmployeeRefSerializer(read_only=True, allow_null=True, help_text="Empty for the system's award posts.")
    recipients = EmployeeRefSerializer(many=True, read_only=True)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    goal = LinkedGoalSerializer(read_only=True, allow_null=True)
    measure = LinkedMeasureSerializer(read_only=True, allow_null=True)
    priority = LinkedPrioritySerializer(read_only=True, allow_null=True)
    pathway = PathwayRefSerializer(read_only=True, allow_null=True)
    hidden_reason = serializers.SerializerMethodField(help_text="Why HR hid the post (HR and the author only).")

    class Meta:
        model = Recognition
        fields = [
            "id",
            "kind",
            "author",
            "recipients",
            "department",
            "goal",
            "measure",
            "priority",
            "pathway",
            "message",
            "created_at",
            "is_hidden",
            "hidden_reason",
        ]
        read_only_fields = fields

    def get_hidden_reason(self, obj: Recognition) -> str:
        return obj.hidden_reason if obj.is_hidden else ""


class RecognitionCreateSerializer(StrictInputSerializer):
    recipients = serializers.PrimaryKeyRelatedField(
        queryset=Employee.objects.filter(is_active=True), many=True, required=False, help_text="The people thanked."
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True, help_text="A department (team) thanked."
    )
    goal = serializers.IntegerField(required=False, allow_null=True, help_text="A goal you can see.")
    measure = serializers.IntegerField(required=False, allow_null=True)
    message = serializers.CharField(max_length=recognition_service.MAX_MESSAGE)


class RecognitionFilterSerializer(serializers.Serializer):
    department = IntegerFilter(help_text="Posts to this department or anyone in it.")
    priority = IntegerFilter(help_text="Posts linked to this quality priority.")
    person = IntegerFilter(help_text="Posts thanking this person.")


class HideSerializer(StrictInputSerializer):
    reason = serializers.CharField(help_text="Why the post is hidden; kept with it.")


class CompetencyLevelSerializer(serializers.Serializer):
    competency = serializers.PrimaryKeyRelatedField(queryset=Competency.objects.all())
    competency_name = serializers.CharField(source="competency.name", read_only=True)
    min_rating = serializers.DecimalField(max_digits=8, decimal_places=2)


class PathwaySerializer(serializers.ModelSerializer):
    competency_levels = CompetencyLevelSerializer(many=True, required=False)

    class Meta:
        model = Pathway
        fields = [
            "id",
            "name",
            "description",
            "is_active",
            "min_achieved_goals",
            "goal_cycles",
            "min_recognitions",
            "min_development_actions",
            "competency_levels",
            "version",
        ]
        read_only_fields = ["id", "version"]


class CandidateSerializer(serializers.ModelSerializer):
    employee = EmployeeRefSerializer(read_only=True)
    status = NamedChoiceField(enum_name="CandidateStatusEnum", choices=CandidateStatus.choices, read_only=True)
    decided_by = EmployeeRefSerializer(read_only=True, allow_null=True)
    evidence = serializers.JSONField(read_only=True)

    class Meta:
        model = PathwayCandidate
        fields = ["id", "employee", "status", "evidence", "proposed_at", "decided_at", "decided_by", "decline_reason"]
        read_only_fields = fields


class CandidateFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CandidateStatus.choices, required=False)


class ConfirmSerializer(StrictInputSerializer):
    candidate = serializers.IntegerField(help_text="The candidate's id (from the candidates list).")


class DeclineSerializer(StrictInputSerializer):
    candidate = serializers.IntegerField(help_text="The candidate's id (from the candidates list).")
    reason = serializers.CharField(help_text="Why; kept with the candidacy.")


# ---------------------------------------------------------------- recognitions


@extend_schema_view(
    list=extend_schema(parameters=[RecognitionFilterSerializer]),
    retrieve=extend_schema(responses={200: RecognitionSerializer, 404: NOT_FOUND}),
)
class RecognitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The recognition feed: thanks for improvements, newest first. Hidden posts only for HR and their author."""

    serializer_class = RecognitionSerializer
    permission_classes = [IsAuthenticated, Requires]  # hiding a post in sight but not HR's: 403 from the service
    required_for = {"create": access.can_post_recognition}
    required_message = access.POST_MESSAGE
    queryset = Recognition.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action == "list":
            filters = validated(RecognitionFilterSerializer, self.request.query_params, self.request)
            return selectors.feed(user=self.request.user, **filters)
        return access.recognitions_visible_to(self.request.user)

    @extend_schema(request=RecognitionCreateSerializer, responses={201: RecognitionSerializer, **WRITE_RESPONSES})
    def create(self, request: Request) -> Response:
        data = validated(RecognitionCreateSerializer, request.data, request)
        post = recognition_service.post_recognition(
            user=request.user,
            message=data["message"],
            recipients=data.get("recipients", []),
            department=data.get("department"),
            goal=data.get("goal"),
            measure=data.get("measure"),
        )
        post = selectors.get_recognition(user=request.user, pk=post.pk)
        return Response(RecognitionSerializer(post).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HideSerializer, responses={200: RecognitionSerializer, **WRITE_RESPONSES})
    @action(detail=True, methods=["post"])
    def hide(self, request: Request, pk: str | None = None) -> Response:
        post = self.get_object()
        data = validated(HideSerializer, request.data, request)
        recognition_service.hide_recognition(user=request.user, post=post, reason=data["reason"])
        return Response(RecognitionSerializer(selectors.get_recognition(user=request.user, pk=post.pk)).data)


# ---------------------------------------------------------------- pathways


@extend_schema_view(retrieve=extend_schema(responses={200: PathwaySerializer, 404: NOT_FOUND}))
class PathwayViewSet(viewsets.ModelViewSet):
    """Career pathways: titles HR defines with criteria drawn from history. Everyone reads; HR writes and decides."""

    serializer_class = PathwaySerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = {"create": access.can_manage_pathways}
    required_message = access.PATHWAYS_MESSAGE
    queryset = Pathway.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # HR's set-up of one pathway and its candidates: for anyone else out of scope (404), as the
    # pathway's edit page is.
    MANAGE_ACTIONS = frozenset({"partial_update", "destroy", "candidates", "confirm", "decline"})

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if self.action in self.MANAGE_ACTIONS and not access.can_manage_pathways(self.request.user):
            return Pathway.objects.none()
        return access.pathways_visible_to(self.request.user)

    def _save(self, request: Request, pathway: Pathway | None, partial: bool) -> Pathway:
        serializer = PathwaySerializer(instance=pathway, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        levels_data = data.pop("competency_levels", None)
        levels = None if levels_data is None else [(row["competency"], row["min_rating"]) for row in levels_data]
        return pathway_service.save_pathway(user=request.user, pathway=pathway, data=data, levels=levels)

    @extend_schema(responses={201: PathwaySerializer, **WRITE_RESPONSES})
    def create(self, request: Request) -> Response:
        pathway = self._save(request, None, partial=False)
        return Response(PathwaySerializer(pathway).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: PathwaySerializer, **WRITE_RESPONSES})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        pathway = self._save(request, self.get_object(), partial=True)
        return Response(PathwaySerializer(selectors.get_pathway(user=request.user, pk=pathway.pk)).data)

    @extend_schema(responses={204: None, **WRITE_RESPONSES})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        pathway_service.delete_pathway(user=request.user, pathway=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[CandidateFilterSerializer],
        request=None,
        responses={200: CandidateSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], pagination_class=None)  # never paged: the whole list, as documented
    def candidates(self, request: Request, pk: str | None = None) -> Response:
        pathway = self.get_object()
        filters = validated(CandidateFilterSerializer, request.query_params, request)
        rows = selectors.candidates_for(pathway, status=filters.get("status"))
        return Response(CandidateSerializer(rows, many=True).data)

    def _candidate(self, pathway: Pathway, candidate_id: int) -> PathwayCandidate:
        candidate = access.candidates_visible_to(self.request.user).filter(pathway=pathway, pk=candidate_id).first()
        if candidate is None:
            raise NotFound("No such candidate for this pathway.")
        return candidate

    @extend_schema(request=ConfirmSerializer, responses={200: CandidateSerializer, **WRITE_RESPONSES})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        pathway = self.get_object()
        data = validated(ConfirmSerializer, request.data, request)
        candidate = pathway_service.confirm(user=request.user, candidate=self._candidate(pathway, data["candidate"]))
        return Response(CandidateSerializer(candidate).data)

    @extend_schema(request=DeclineSerializer, responses={200: CandidateSerializer, **WRITE_RESPONSES})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        pathway = self.get_object()
        data = validated(DeclineSerializer, request.data, request)
        candidate = pathway_service.decline(
            user=request.user, candidate=self._candidate(pathway, data["candidate"]), reason=data["reason"]
        )
        return Response(CandidateSerializer(candidate).data)


def register(router: DefaultRouter) -> None:
    router.register("recognitions", RecognitionViewSet, basename="recognition")
    router.register("pathways", PathwayViewSet, basename="pathway")

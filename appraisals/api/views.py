"""The appraisals API: `cycles` (read here), `appraisals`, `check-ins` and `development-plans`.

Reads go through appraisals.selectors (scoped: anything outside the requester's
scope answers 404); writes through appraisals.services. A state changes only
through an explicit action (submit-self, submit-review, share, acknowledge,
complete, agree), never by writing the state. Every write takes the ``version``
the client read and answers 409 when someone saved in between, changing nothing.
These classes only translate between HTTP and those functions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from appraisals import selectors
from appraisals.access import (
    access_for,
    appraisals_visible_to,
    checkins_visible_to,
    cycles_visible_to,
    development_plans_visible_to,
)
from appraisals.api.serializers import (
    AcknowledgeSerializer,
    ActionCreateSerializer,
    ActionUpdateSerializer,
    AppraisalDetailSerializer,
    AppraisalDraftSerializer,
    AppraisalFilterSerializer,
    AppraisalSerializer,
    CheckInSerializer,
    CheckInUpdateSerializer,
    CycleFilterSerializer,
    CycleSerializer,
    DevelopmentActionSerializer,
    DevelopmentPlanSerializer,
    PlanUpdateSerializer,
    RecordFilterSerializer,
    VersionSerializer,
)
from appraisals.models import Appraisal, CheckIn, DevelopmentAction, DevelopmentPlan, ReviewCycle
from appraisals.services import appraisals as workflow
from appraisals.services import checkins, development
from core.access import Requires
from core.api import validated
from core.pagination import KeysetPagination
from core.parsers import JSONParser

BAD_REQUEST = OpenApiResponse(
    description="Invalid input, or not allowed in the record's current state; the body says why."
)
FORBIDDEN = OpenApiResponse(description="You can see this record, but you may not make this change.")
NOT_FOUND = OpenApiResponse(description="No such record, or not one you may see.")
CONFLICT = OpenApiResponse(description="Someone saved this record after you read it; nothing was changed.")
WRITE_RESPONSES = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
# Appraisals, check-ins and plans list newest first (a cycle's records are made when it is
# launched, so the latest cycle's come first), in keyset pages read off the primary key. Ordering
# by the cycle's start and the person's name sorted every record HR can see on every page.
NEWEST_FIRST = ("-pk",)
# What a list row reads (AppraisalSerializer, and appraisals.access for the score): building
# the five records whole, a cycle's every date and the score breakdown's JSON, cost more than
# writing the rows.
LIST_COLUMNS = (
    *("state", "self_submitted_at", "manager_submitted_at", "shared_at", "acknowledged_at", "locked_at"),
    *("score", "employee_comment", "updated_at", "version"),
    *("participant__cycle__name", "participant__employee__full_name", "participant__employee__path"),
    "participant__reviewer__full_name",
)


# ---------------------------------------------------------------- cycles


@extend_schema_view(list=extend_schema(parameters=[CycleFilterSerializer]))
class CycleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review cycles: HR sees every one; anyone else the cycles they take part in,
    review someone in, or manage someone in. Set-up, launch and phases are HR's pages."""

    serializer_class = CycleSerializer
    permission_classes = [IsAuthenticated, Requires]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[ReviewCycle]:
        return cycles_visible_to(self.request.user).order_by("-start", "pk")

    def filter_queryset(self, queryset: QuerySet[ReviewCycle]) -> QuerySet[ReviewCycle]:
        if self.action != "list":
            return queryset
        filters = validated(CycleFilterSerializer, self.request.query_params.dict(), self.request)
        if "state" in filters:
            queryset = queryset.filter(state=filters["state"])
        return queryset


# ---------------------------------------------------------------- appraisals


def _filter_records(queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:  # type: ignore[type-arg]
    if "cycle" in filters:
        queryset = queryset.filter(participant__cycle_id=filters["cycle"])
    if "employee" in filters:
        queryset = queryset.filter(participant__employee_id=filters["employee"])
    return queryset


@extend_schema_view(
    list=extend_schema(parameters=[AppraisalFilterSerializer]),
    retrieve=extend_schema(responses={200: AppraisalDetailSerializer, 404: NOT_FOUND}),
)
class AppraisalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Appraisals: the person's own, those they review or manage above, all for HR; anyone
    else's answers 404. The employee sees the reviewer's ratings, comments and the score
    only once shared. PATCH saves a draft; the steps are actions."""

    serializer_class = AppraisalSerializer
    pagination_class = KeysetPagination
    permission_classes = [IsAuthenticated, Requires]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Appraisal]:
        queryset = appraisals_visible_to(self.request.user)
        if self.action == "list":
            # A row names its cycle, person and reviewer: five tables. The nine a page reads took
            # PostgreSQL longer to plan than to run.
            queryset = (
                queryset.select_related(None)
                .select_related("participant__cycle", "participant__employee", "participant__reviewer")
                .only(*LIST_COLUMNS)
            )
        return queryset.order_by(*NEWEST_FIRST)

    def filter_queryset(self, queryset: QuerySet[Appraisal]) -> QuerySet[Appraisal]:
        if self.action != "list":
            return queryset
        filters = validated(AppraisalFilterSerializer, self.request.query_params.dict(), self.request)
        if "state" in filters:
            queryset = queryset.filter(state=filters["state"])
        return _filter_records(queryset, filters)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self._detail(self.get_object()))

    def _detail(self, appraisal: Appraisal) -> dict[str, Any]:
        fresh = self.get_queryset().get(pk=appraisal.pk)
        access = access_for(self.request.user, fresh.participant, fresh)
        fresh.page = selectors.appraisal_page(appraisal=fresh, access=access)  # type: ignore[attr-defined]
        return AppraisalDetailSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(
        request=AppraisalDraftSerializer,
        responses={200: AppraisalDetailSerializer, **WRITE_RESPONSES},
        description="Save a draft: the employee writes the self side, the reviewer the manager side, in the "
        "states that allow it. Only what is sent changes. Send the `version` you read.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        appraisal = self.get_object()
        data = validated(AppraisalDraftSerializer, request.data, request)
        workflow.appraisal_save_draft(
            user=request.user,
            appraisal=appraisal,
            expected_version=data["version"],
            goal_ratings=_keyed(data.get("goal_ratings"), "goal", "comment"),
            competency_ratings=_keyed(data.get("competency_ratings"), "form_competency", "evidence"),
            answers={item["question"]: item["text"] for item in data["answers"]} if "answers" in data else None,
            employee_comment=data.get("employee_comment"),
        )
        return Response(self._detail(appraisal))

    def _step(self, request: Request, step, serializer_class=VersionSerializer) -> Response:  # type: ignore[no-untyped-def]
        appraisal = self.get_object()
        data = validated(serializer_class, request.data, request)
        step(user=request.user, appraisal=appraisal, expected_version=data.pop("version"), **data)
        return Response(self._detail(appraisal))

    @extend_schema(
        request=VersionSerializer,
        responses={200: AppraisalDetailSerializer, **WRITE_RESPONSES},
        description="The employee submits the self-assessment to their reviewer.",
    )
    @action(detail=True, methods=["post"], url_path="submit-self")
    def submit_self(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, workflow.appraisal_submit_self)

    @extend_schema(
        request=VersionSerializer,
        responses={200: AppraisalDetailSerializer, **WRITE_RESPONSES},
        description="The reviewer submits the review; the appraisal moves to the dialogue and the score is stored.",
    )
    @action(detail=True, methods=["post"], url_path="submit-review")
    def submit_review(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, workflow.appraisal_submit_review)

    @extend_schema(
        request=VersionSerializer,
        responses={200: AppraisalDetailSerializer, **WRITE_RESPONSES},
        description="The reviewer shows their ratings, comments and the score to the employee.",
    )
    @action(detail=True, methods=["post"])
    def share(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, workflow.appraisal_share)

    @extend_schema(
        request=AcknowledgeSerializer,
        responses={200: AppraisalDetailSerializer, **WRITE_RESPONSES},
        description="The employee acknowledges the shared review, with an optional comment.",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        return self._step(request, workflow.appraisal_acknowledge, AcknowledgeSerializer)


def _keyed(items: list[dict[str, Any]] | None, key: str, text: str) -> dict[int, dict[str, Any]] | None:
    if items is None:
        return None
    keyed: dict[int, dict[str, Any]] = {}
    for item in items:
        values = {name: item[name] for name in ("rating", text) if name in item}
        keyed.setdefault(item[key], {}).update(values)
    return keyed


# ---------------------------------------------------------------- check-ins


@extend_schema_view(list=extend_schema(parameters=[RecordFilterSerializer]))
class CheckInViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Check-ins (the Do phase), scoped like appraisals. The person and their reviewer write
    them; the reviewer completes one, which keeps a snapshot of the goals' progress."""

    serializer_class = CheckInSerializer
    pagination_class = KeysetPagination
    permission_classes = [IsAuthenticated, Requires]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[CheckIn]:
        return checkins_visible_to(self.request.user).order_by(*NEWEST_FIRST)

    def filter_queryset(self, queryset: QuerySet[CheckIn]) -> QuerySet[CheckIn]:
        if self.action != "list":
            return queryset
        return _filter_records(
            queryset, validated(RecordFilterSerializer, self.request.query_params.dict(), self.request)
        )

    @extend_schema(request=CheckInUpdateSerializer, responses={200: CheckInSerializer, **WRITE_RESPONSES})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        check_in = self.get_object()
        data = validated(CheckInUpdateSerializer, request.data, request)
        version = data.pop("version")
        checkins.checkin_save(user=request.user, check_in=check_in, expected_version=version, data=data)
        return Response(self._read(check_in.pk))

    @extend_schema(
        request=VersionSerializer,
        responses={200: CheckInSerializer, **WRITE_RESPONSES},
        description="The reviewer completes the check-in; the goals' progress is kept as it stands.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        check_in = self.get_object()
        data = validated(VersionSerializer, request.data, request)
        checkins.checkin_complete(user=request.user, check_in=check_in, expected_version=data["version"])
        return Response(self._read(check_in.pk))

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


# ---------------------------------------------------------------- development plans


@extend_schema_view(list=extend_schema(parameters=[RecordFilterSerializer]))
class DevelopmentPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Development plans (the Act phase) with their actions, scoped like appraisals. The person
    and their reviewer write them and mark them agreed; then only actions' status moves."""

    serializer_class = DevelopmentPlanSerializer
    pagination_class = KeysetPagination
    permission_classes = [IsAuthenticated, Requires]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[DevelopmentPlan]:
        actions = Prefetch("actions", queryset=DevelopmentAction.objects.select_related("competency"))
        return development_plans_visible_to(self.request.user).prefetch_related(actions).order_by(*NEWEST_FIRST)

    def filter_queryset(self, queryset: QuerySet[DevelopmentPlan]) -> QuerySet[DevelopmentPlan]:
        if self.action != "list":
            return queryset
        return _filter_records(
            queryset, validated(RecordFilterSerializer, self.request.query_params.dict(), self.request)
        )

    @extend_schema(request=PlanUpdateSerializer, responses={200: DevelopmentPlanSerializer, **WRITE_RESPONSES})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(PlanUpdateSerializer, request.data, request)
        development.plan_save(user=request.user, plan=plan, expected_version=data["version"], summary=data["summary"])
        return Response(self._read(plan.pk))

    @extend_schema(
        request=VersionSerializer,
        responses={200: DevelopmentPlanSerializer, **WRITE_RESPONSES},
        description="The person or their reviewer records that the plan is agreed.",
    )
    @action(detail=True, methods=["post"])
    def agree(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(VersionSerializer, request.data, request)
        development.plan_agree(user=request.user, plan=plan, expected_version=data["version"])
        return Response(self._read(plan.pk))

    @extend_schema(
        request=ActionCreateSerializer,
        responses={201: DevelopmentActionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Add a development action, optionally linked to a competency and a target level.",
    )
    @action(detail=True, methods=["post"], url_path="add-action")
    def add_action(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(ActionCreateSerializer, request.data, request)
        created = development.action_add(user=request.user, plan=plan, **data)
        body = DevelopmentActionSerializer(DevelopmentAction.objects.select_related("competency").get(pk=created.pk))
        return Response(body.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: DevelopmentActionSerializer(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"], pagination_class=None)
    def actions(self, request: Request, pk: str | None = None) -> Response:
        """The plan's actions, by due date."""
        plan = self.get_object()
        return Response(DevelopmentActionSerializer(plan.actions.all(), many=True).data)

    @extend_schema(
        request=ActionUpdateSerializer,
        responses={200: DevelopmentActionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Change one action; once the plan is agreed, only its `status`.",
    )
    @action(detail=True, methods=["patch"], url_path=r"actions/(?P<action_pk>[0-9]+)")
    def update_action(self, request: Request, pk: str | None = None, action_pk: str | None = None) -> Response:
        plan = self.get_object()
        try:
            target = plan.actions.get(pk=action_pk)
        except DevelopmentAction.DoesNotExist:
            raise NotFound("No such action in this plan.") from None
        data = validated(ActionUpdateSerializer, request.data, request)
        development.action_update(user=request.user, action=target, data=data)
        return Response(
            DevelopmentActionSerializer(DevelopmentAction.objects.select_related("competency").get(pk=target.pk)).data
        )

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

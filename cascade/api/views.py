"""The cascade API: quality priorities, measures and their observations, goals and
their goal-setting steps, progress updates, and the goal-linkage matrix.

Who sees and does what is cascade.access's: querysets come from its ``<things>_visible_to``
(404 outside them), role-reserved writes are declared for ``core.access.Requires`` (403), and
an action on a visible record is refused with ``deny_unless`` (403) before its body is read.
Reads go through cascade.selectors; writes through cascade.services (records),
cascade.workflow (submit / approve / return / reopen) and cascade.progress
(progress updates). These classes only translate between HTTP and those functions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cascade import access, progress, selectors, services, workflow
from cascade.api import rows
from cascade.api.serializers import (
    GoalCancelRequestSerializer,
    GoalCancelSerializer,
    GoalCloseByMeasureSerializer,
    GoalCloseDeclineSerializer,
    GoalCloseRequestSerializer,
    GoalCreateSerializer,
    GoalEditSerializer,
    GoalFilterSerializer,
    GoalKeepSerializer,
    GoalReopenSerializer,
    GoalSerializer,
    GoalSetReviewSerializer,
    GoalSetSerializer,
    GoalSignOffSerializer,
    GoalUpdateCreateSerializer,
    GoalUpdateFilterSerializer,
    GoalUpdateSerializer,
    MatrixCellFilterSerializer,
    MatrixFilterSerializer,
    MatrixSerializer,
    MeasureCreateSerializer,
    MeasureFilterSerializer,
    MeasureSerializer,
    MeasureUpdateSerializer,
    ObservationCreateSerializer,
    ObservationSerializer,
    PriorityCreateSerializer,
    PrioritySerializer,
    PriorityUpdateSerializer,
)
from cascade.models import Goal, GoalUpdate, Observation, QualityMeasure, QualityPriority
from core.access import Requires, deny_unless
from core.api import validated
from core.pagination import KeysetPagination
from core.parsers import JSONParser
from people import selectors as people

BAD_REQUEST = OpenApiResponse(description="Invalid input; the body names each field and what is wrong with it.")
FORBIDDEN = OpenApiResponse(description="You can see this, but you may not make this change.")
NOT_FOUND = OpenApiResponse(description="No such record, or not one you may see.")
CONFLICT = OpenApiResponse(description="Someone saved this record after you read it; nothing was changed.")


# ---------------------------------------------------------------- priorities


class PriorityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The organisation's quality priorities: everyone signed in reads them, with their
    progress and a line per measure; the quality lead and HR create and change them."""

    serializer_class = PrioritySerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = {"create": access.can_manage_priorities, "partial_update": access.can_manage_priorities}
    required_message = "Only the quality lead or HR can change quality priorities and measures."
    # JSON only: a form-encoded PATCH would read missing fields as blank.
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[QualityPriority]:
        latest = Observation.objects.filter(measure=OuterRef("pk")).order_by("-date")
        measures = (
            QualityMeasure.objects.select_related("department")
            .annotate(
                latest_date=Subquery(latest.values("date")[:1]), latest_value=Subquery(latest.values("value")[:1])
            )
            .order_by("name", "pk")
        )
        return (
            access.priorities_visible_to(self.request.user)
            .prefetch_related(Prefetch("measures", queryset=measures))
            .order_by("title", "pk")
        )

    @extend_schema(
        request=PriorityCreateSerializer, responses={201: PrioritySerializer, 400: BAD_REQUEST, 403: FORBIDDEN}
    )
    def create(self, request: Request) -> Response:
        data = validated(PriorityCreateSerializer, request.data, request)
        priority = services.priority_create(user=request.user, data=data)
        return Response(self._read(priority.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PriorityUpdateSerializer,
        responses={200: PrioritySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="Quality lead or HR. Send the `version` you read.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        priority = self.get_object()
        data = validated(PriorityUpdateSerializer, request.data, request)
        version = data.pop("version")
        services.priority_update(user=request.user, priority=priority, expected_version=version, data=data)
        return Response(self._read(priority.pk))

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


# ---------------------------------------------------------------- measures and observations


@extend_schema_view(list=extend_schema(parameters=[MeasureFilterSerializer]))
class MeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Quality measures with their observations and run / XmR chart. Everyone signed in
    reads them; the quality lead and HR define them; observations are also recorded by
    the head of the measure's department."""

    serializer_class = MeasureSerializer
    permission_classes = [IsAuthenticated, Requires]
    # Observations are recorded by the measure's department head too: checked on the measure.
    required_for = {"create": access.can_manage_priorities, "partial_update": access.can_manage_priorities}
    required_message = "Only the quality lead or HR can change quality priorities and measures."
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[QualityMeasure]:
        # The chart needs the series in date order; one query for every measure on the page.
        observations = Prefetch("observations", queryset=Observation.objects.order_by("date"))
        return (
            access.measures_visible_to(self.request.user)
            .prefetch_related(observations, "change_points")
            .order_by("name", "pk")
        )

    def filter_queryset(self, queryset: QuerySet[QualityMeasure]) -> QuerySet[QualityMeasure]:
        if self.action != "list":
            return queryset
        filters = validated(MeasureFilterSerializer, self.request.query_params.dict(), self.request)
        if "priority" in filters:
            queryset = queryset.filter(priority_id=filters["priority"])
        if "department" in filters:
            queryset = queryset.filter(department_id=filters["department"])
        return queryset

    @extend_schema(
        request=MeasureCreateSerializer, responses={201: MeasureSerializer, 400: BAD_REQUEST, 403: FORBIDDEN}
    )
    def create(self, request: Request) -> Response:
        data = validated(MeasureCreateSerializer, request.data, request)
        measure = services.measure_create(user=request.user, data=data)
        return Response(self._read(measure.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MeasureUpdateSerializer,
        responses={200: MeasureSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="Quality lead or HR. Send the `version` you read; goals driven by the measure move with it.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        measure = self.get_object()
        data = validated(MeasureUpdateSerializer, request.data, request)
        version = data.pop("version")
        services.measure_update(user=request.user, measure=measure, expected_version=version, data=data)
        return Response(self._read(measure.pk))

    @extend_schema(methods=["GET"], request=None, responses=ObservationSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=ObservationCreateSerializer,
        responses={201: ObservationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="Record one dated value; a second value for the same date is refused.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def observations(self, request: Request, pk: str | None = None) -> Response:
        """The measure's observations, oldest first (GET), or one more (POST)."""
        measure = self.get_object()  # 404 for no such measure
        if request.method == "GET":
            return Response(ObservationSerializer(selectors.observations_for(measure), many=True).data)
        deny_unless(access.can_record_observations(request.user, measure), "You cannot record data for this measure.")
        data = validated(ObservationCreateSerializer, request.data, request)
        observation = services.observation_add(user=request.user, measure=measure, **data)
        return Response(ObservationSerializer(observation).data, status=status.HTTP_201_CREATED)

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


# ---------------------------------------------------------------- goals


@extend_schema_view(list=extend_schema(parameters=[GoalFilterSerializer]))
class GoalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Goals, scoped by cascade.access.goals_visible_to: department goals for everyone;
    individual goals for their owner, everyone above and below the owner, and HR.
    Anyone else's goal answers 404, so its existence does not leak."""

    serializer_class = GoalSerializer
    # Keyset pages off the goal_list_order index: the last page costs what the first does.
    pagination_class = KeysetPagination
    # Creating goals, the goal-set steps and reopening depend on the body or on the approver,
    # so their services ask cascade.access (a refusal still answers 403).
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    # Department goals first under each priority, then by title: the goal_list_order index.
    ordering = ("priority_id", "level", "title", "pk")

    def get_queryset(self) -> QuerySet[Goal]:
        return (
            access.goals_visible_to(self.request.user)
            .select_related("close_requested_by", "result_signed_off_by")
            .prefetch_related("contributing_departments")
            .order_by(*self.ordering)
        )

    @extend_schema(responses=GoalSerializer(many=True))
    def list(self, request: Request) -> Response:
        # GoalSerializer's JSON read as plain values (cascade.api.rows): the serializer's nine-table
        # join cost far more to plan than to run.
        goals = self.paginate_queryset(rows.goal_values(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(rows.goal_rows(goals))

    def filter_queryset(self, queryset: QuerySet[Goal]) -> QuerySet[Goal]:
        if self.action != "list":
            return queryset
        filters = validated(GoalFilterSerializer, self.request.query_params.dict(), self.request)
        for name in ("priority", "department", "owner", "period"):
            if name in filters:
                queryset = queryset.filter(**{f"{name}_id": filters[name]})
        for name in ("level", "approval"):
            if name in filters:
                queryset = queryset.filter(**{name: filters[name]})
        return queryset

    @extend_schema(request=GoalCreateSerializer, responses={201: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN})
    def create(self, request: Request) -> Response:
        """A draft goal: `individual` with an `owner`, or `functional` with a `department`."""
        data = validated(GoalCreateSerializer, request.data, request)
        level, period = data.pop("level"), data.pop("period")
        contributing = data.pop("contributing_departments", None)
        goal = services.goal_create(
            user=request.user, level=level, period=period, data=data, contributing_departments=contributing
        )
        return Response(self._read(goal.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=GoalEditSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description=(
            "Send the `version` you read. An approved goal takes only `status`; reopen it to change more. "
            "`status: cancelled` cancels the goal as `cancel/` does: a goal once approved is cancelled only by "
            "its approver or HR, so its owner's request answers 400 and names `cancel-request/`. "
            "`status: achieved` / `not_achieved` closes the goal, which is the approver's or HR's sign-off "
            "(as `sign-off/`); anyone else answers 400 naming `close-request/`. `status: open` reopens a "
            "closed result and clears its sign-off (a signed-off one: the approver or HR only)."
        ),
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()  # 404 out of scope, then 403 for those who may not edit it
        deny_unless(access.can_edit_goal(request.user, goal), "You cannot change this goal.")
        data = validated(GoalEditSerializer, request.data, request)
        version = data.pop("version")
        contributing = data.pop("contributing_departments", None)
        services.goal_update(
            user=request.user, goal=goal, expected_version=version, data=data, contributing_departments=contributing
        )
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalReopenSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="Make an approved goal editable again; it leaves the roll-up until it is approved again.",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalReopenSerializer, request.data, request)
        workflow.reopen(user=request.user, goal=goal, comment=data["comment"])
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalCancelSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description=(
            "Cancel the goal. Never approved: whoever drafts it. Once approved: only its approver or HR (the "
            "owner answers 400 and asks with `cancel-request/`). If the rest of the set no longer totals 100, "
            "its submitted and approved goals go back to draft, to be re-weighted and approved again."
        ),
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalCancelSerializer, request.data, request)
        services.goal_cancel(user=request.user, goal=goal, expected_version=data["version"], reason=data["reason"])
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalCancelRequestSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="The owner asks the approver to cancel an approved goal, with a `reason`; the approver is notified.",
    )
    @action(detail=True, methods=["post"], url_path="cancel-request")
    def cancel_request(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalCancelRequestSerializer, request.data, request)
        workflow.request_cancel(user=request.user, goal=goal, reason=data["reason"])
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalKeepSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="The approver (or HR) declines a request to cancel the goal, with a `comment` saying why.",
    )
    @action(detail=True, methods=["post"], url_path="cancel-keep")
    def cancel_keep(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalKeepSerializer, request.data, request)
        workflow.keep(user=request.user, goal=goal, comment=data["comment"])
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalCloseRequestSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description=(
            "The owner (or anyone who may edit the goal but not sign off its result) asks the approver to close "
            "an approved goal with a `result` (achieved / not_achieved) and a `comment`; the approver is notified."
        ),
    )
    @action(detail=True, methods=["post"], url_path="close-request")
    def close_request(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalCloseRequestSerializer, request.data, request)
        workflow.request_close(user=request.user, goal=goal, result=data["result"], comment=data["comment"])
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalSignOffSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        description=(
            "The approver (or HR) closes the goal as `result` and signs it off: answering a request to close "
            "(the result defaults to the one asked for, and may differ), closing it directly, or signing off a "
            "result closed earlier without a sign-off. Payouts count only signed-off results."
        ),
    )
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalSignOffSerializer, request.data, request)
        workflow.sign_off(
            user=request.user,
            goal=goal,
            result=data["result"],
            comment=data["comment"],
            expected_version=data["version"],
        )
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalCloseDeclineSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="The approver (or HR) declines a request to close the goal, with a `comment`; it stays open.",
    )
    @action(detail=True, methods=["post"], url_path="close-decline")
    def close_decline(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        data = validated(GoalCloseDeclineSerializer, request.data, request)
        workflow.decline_close(user=request.user, goal=goal, comment=data["comment"])
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalCloseByMeasureSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description=(
            "Close a measure-driven goal by its linked measure's latest value: achieved when it reached the "
            "target, else not achieved; signed off by the system (`result_by_measure`), no person."
        ),
    )
    @action(detail=True, methods=["post"], url_path="close-by-measure")
    def close_by_measure(self, request: Request, pk: str | None = None) -> Response:
        goal = self.get_object()
        validated(GoalCloseByMeasureSerializer, request.data, request)
        workflow.close_by_measure(user=request.user, goal=goal)
        return Response(self._read(goal.pk))

    @extend_schema(
        request=GoalSetSerializer,
        responses={200: GoalSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Submit a set for approval; its weights must total 100.",
    )
    @action(detail=False, methods=["post"], url_path="submit-set", pagination_class=None)
    def submit_set(self, request: Request) -> Response:
        goal_set = self._goal_set(validated(GoalSetSerializer, request.data, request))
        return self._read_set(workflow.submit(user=request.user, goal_set=goal_set))

    @extend_schema(
        request=GoalSetReviewSerializer,
        responses={200: GoalSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="The approver (the owner's manager, or the department head) approves the submitted goals.",
    )
    @action(detail=False, methods=["post"], url_path="approve-set", pagination_class=None)
    def approve_set(self, request: Request) -> Response:
        data = validated(GoalSetReviewSerializer, request.data, request)
        goals = workflow.approve(user=request.user, goal_set=self._goal_set(data), comment=data["comment"])
        return self._read_set(goals)

    @extend_schema(
        request=GoalSetReviewSerializer,
        responses={200: GoalSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="The approver returns the submitted goals with a comment saying what should change.",
    )
    @action(detail=False, methods=["post"], url_path="return-set", pagination_class=None)
    def return_set(self, request: Request) -> Response:
        data = validated(GoalSetReviewSerializer, request.data, request)
        goals = workflow.return_for_changes(user=request.user, goal_set=self._goal_set(data), comment=data["comment"])
        return self._read_set(goals)

    def _goal_set(self, data: dict[str, Any]) -> workflow.GoalSet:
        if "owner" in data:
            # A person the requester cannot see answers 404, like their goals would.
            owner = people.get_visible_employee(user=self.request.user, pk=data["owner"])
            return workflow.GoalSet(period=data["period"], owner=owner)
        return workflow.GoalSet(period=data["period"], department=data["department"])

    def _read_set(self, goals: list[Goal]) -> Response:
        queryset = self.get_queryset().filter(pk__in=[g.pk for g in goals])
        return Response(self.get_serializer(queryset, many=True).data)

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


# ---------------------------------------------------------------- progress updates


@extend_schema_view(list=extend_schema(parameters=[GoalUpdateFilterSerializer]))
class GoalUpdateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Progress updates on the goals the user may see, newest first; a new one moves the
    goal and rolls up to the goals and priority above it."""

    serializer_class = GoalUpdateSerializer
    pagination_class = KeysetPagination
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[GoalUpdate]:
        visible = access.goals_visible_to(self.request.user).values("pk")
        return (
            GoalUpdate.objects.select_related("goal", "author").filter(goal__in=visible).order_by("-created_at", "-pk")
        )

    def filter_queryset(self, queryset: QuerySet[GoalUpdate]) -> QuerySet[GoalUpdate]:
        filters = validated(GoalUpdateFilterSerializer, self.request.query_params.dict(), self.request)
        if "goal" in filters:
            queryset = queryset.filter(goal_id=filters["goal"])
        return queryset

    @extend_schema(
        request=GoalUpdateCreateSerializer,
        responses={201: GoalUpdateSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Give a percentage or a value (not both) for a goal tracked by hand, or a comment.",
    )
    def create(self, request: Request) -> Response:
        data = validated(GoalUpdateCreateSerializer, request.data, request)
        goal = selectors.get_visible_goal(user=request.user, pk=data.pop("goal"))
        update = progress.record_update(user=request.user, goal=goal, **data)
        body = self.get_serializer(self.get_queryset().get(pk=update.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- the linkage matrix


class MatrixViewSet(viewsets.ViewSet):
    """Priorities × departments: how many goals link each pair and their mean progress,
    counted over the goals the user may see (all of them for the quality lead)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[MatrixFilterSerializer], responses={200: MatrixSerializer, 400: BAD_REQUEST})
    def list(self, request: Request) -> Response:
        filters = validated(MatrixFilterSerializer, request.query_params.dict(), request)
        matrix = selectors.linkage_matrix(user=request.user, period=filters.get("period"))
        order = {p.pk: index for index, p in enumerate(matrix.priorities)}
        columns = {d.pk: index for index, d in enumerate(matrix.departments)}
        cells = [
            {"priority": p, "department": d, "count": cell.count, "mean_progress": cell.mean_progress}
            for (p, d), cell in matrix.cells.items()
            # Retired priorities are not rows of the matrix, so their cells are left out too.
            if cell.count and p in order and d in columns
        ]
        cells.sort(key=lambda c: (order[c["priority"]], columns[c["department"]]))
        body = {"priorities": matrix.priorities, "departments": matrix.departments, "cells": cells}
        return Response(MatrixSerializer(body).data)

    @extend_schema(
        parameters=[MatrixCellFilterSerializer], responses={200: GoalSerializer(many=True), 400: BAD_REQUEST}
    )
    @action(detail=False, methods=["get"])
    def cell(self, request: Request) -> Response:
        """The goals (and so the people) behind one cell of the matrix."""
        filters = validated(MatrixCellFilterSerializer, request.query_params.dict(), request)
        goals = selectors.matrix_cell_goals(
            user=request.user,
            priority=filters["priority"],
            department=filters["department"],
            period=filters.get("period"),
        )
        prefetch_related_objects(goals, "contributing_departments")
        return Response(GoalSerializer(goals, many=True, context={"request": request}).data)

"""Change points on quality measures: ``/api/v1/change-points/``.

A change point starts a new phase of a measure's charts (PRODUCT.md "Change points"): each
phase gets its own centre line and limits, and the measure's ``chart`` (``/api/v1/measures/``)
shows the phases and an annotation at each change point. Whoever sees the measure sees its
change points; the measure's owner or a quality lead marks and removes them
(cascade.access.can_mark_change_points). Writes go through cascade.services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cascade import access, services
from cascade.api.serializers import MeasureRefSerializer
from cascade.models import ChangePoint, QualityMeasure
from core.access import deny_unless
from core.api import IntegerFilter, validated
from core.parsers import JSONParser
from people.api.serializers import EmployeeRefSerializer, StrictInputSerializer

BAD_REQUEST = OpenApiResponse(description="Invalid input; the body names each field and what is wrong with it.")
FORBIDDEN = OpenApiResponse(description="Only the measure's owner or a quality lead marks and removes change points.")
NOT_FOUND = OpenApiResponse(description="No such change point, or not one you may see.")
CONFLICT = OpenApiResponse(description="Someone removed this change point after you read it; nothing was changed.")
MARK_MESSAGE = "Only the measure's owner or a quality lead can mark a change point."


class ChangePointSerializer(serializers.ModelSerializer):
    measure = MeasureRefSerializer(read_only=True)
    created_by = EmployeeRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChangePoint
        fields = ["id", "measure", "date", "reason", "created_by", "created_at"]
        read_only_fields = fields


class ChangePointCreateSerializer(StrictInputSerializer):
    measure = serializers.PrimaryKeyRelatedField(queryset=QualityMeasure.objects.all())
    date = serializers.DateField(
        help_text="The first date of the new phase: after the measure's first value, on or before its latest, "
        "never in the future; one change point per date."
    )
    reason = serializers.CharField(max_length=500, help_text="What changed, e.g. the change adopted after a test.")

    def validate_measure(self, measure: QualityMeasure) -> QualityMeasure:
        # Only a measure the requester may see (all of them today; cascade.access decides).
        request = self.context.get("request")
        if request is not None and not access.measures_visible_to(request.user).filter(pk=measure.pk).exists():
            raise serializers.ValidationError(f'Invalid pk "{measure.pk}" - object does not exist.')
        return measure


class ChangePointFilterSerializer(serializers.Serializer):
    """Query parameters of the change-point list."""

    measure = IntegerFilter(help_text="Quality measure id.")


@extend_schema_view(
    list=extend_schema(parameters=[ChangePointFilterSerializer], responses={200: ChangePointSerializer(many=True)}),
    retrieve=extend_schema(responses={200: ChangePointSerializer, 404: NOT_FOUND}),
)
class ChangePointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Change points of the quality measures, oldest first: everyone who sees a measure reads them;
    its owner (the priority's owner or its department's head) or a quality lead marks and removes them."""

    serializer_class = ChangePointSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[ChangePoint]:
        return access.change_points_visible_to(self.request.user).order_by("measure_id", "date", "pk")

    def filter_queryset(self, queryset: QuerySet[ChangePoint]) -> QuerySet[ChangePoint]:
        if self.action != "list":
            return queryset
        filters = validated(ChangePointFilterSerializer, self.request.query_params.dict(), self.request)
        if "measure" in filters:
            queryset = queryset.filter(measure_id=filters["measure"])
        return queryset

    @extend_schema(
        request=ChangePointCreateSerializer,
        responses={201: ChangePointSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="The measure's owner or a quality lead. The measure's chart splits into phases at the date.",
    )
    def create(self, request: Request) -> Response:
        data = validated(ChangePointCreateSerializer, request.data, request)
        measure = data.pop("measure")
        deny_unless(access.can_mark_change_points(request.user, measure), MARK_MESSAGE)
        change_point = services.change_point_mark(user=request.user, measure=measure, **data)
        return Response(self._read(change_point.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        description="The measure's owner or a quality lead. The phases either side become one again.",
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        change_point = self.get_object()  # 404 for no such change point
        services.change_point_remove(user=request.user, change_point=change_point)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data

"""The `audits` (runs) and `findings` resources.

HR admins and quality leads read both (audits.access decides); anyone else gets 403 on
the lists (as on the pages) and 404 on a record. Only HR acts: POST /audits/ runs an audit now (202 with the new run, or 200
with the one already under way), POST /audits/{id}/rerun/ runs a failed one again, and
POST /findings/{id}/acknowledge/ or /resolve/ take a comment (required to resolve) and the
``version`` the client read: a stale one answers 409 and changes nothing. Anyone else who
may read gets 403 on those. Writes go through audits.services.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from audits import access
from audits.models import AuditRun, Finding, FindingEvent, FindingStatus, Severity
from audits.rules import get_rule
from audits.services import findings as finding_services
from audits.services import runs as run_services
from core.access import Requires, deny_unless
from core.api import IntegerFilter, validated
from core.parsers import JSONParser

BAD_REQUEST = OpenApiResponse(description="Invalid input, or not allowed in the record's state; the body says why.")
FORBIDDEN = OpenApiResponse(description="Only HR admins may do this.")
NOT_FOUND = OpenApiResponse(description="No such record, or not one you may see.")
CONFLICT = OpenApiResponse(description="Someone changed this finding after you read it; nothing was changed.")
VERSION_HELP = "The version you read; a stale one answers 409 and changes nothing."
STATUS_FILTERS = ["active", *FindingStatus.values, "all"]


# ---------------------------------------------------------------- serializers


class AuditRunSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.full_name", read_only=True, default=None, allow_null=True)
    percent = serializers.IntegerField(read_only=True)
    stalled = serializers.BooleanField(
        source="is_stalled",
        read_only=True,
        help_text="Under way with no progress for THROUGHLINE_JOB_STALL_AFTER seconds: no worker holds it; HR may resume it.",
    )

    class Meta:
        model = AuditRun
        fields = [
            "id",
            "trigger",
            "state",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "total_steps",
            "done_steps",
            "current_step",
            "percent",
            "progress_at",
            "stalled",
            "attempts",
            "error",
            "alignment_score",
            "department_scores",
            "findings_new",
            "findings_seen",
            "findings_closed",
            "digest_sent_at",
        ]
        read_only_fields = fields


class FindingEventSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.full_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = FindingEvent
        fields = ["action", "run", "by", "comment", "at"]
        read_only_fields = fields


class FindingSerializer(serializers.ModelSerializer):
    rule_title = serializers.SerializerMethodField()
    pitfall = serializers.SerializerMethodField()
    department_name = serializers.CharField(source="department.name", read_only=True, default=None, allow_null=True)
    acted_by = serializers.CharField(source="acted_by.full_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "rule",
            "rule_title",
            "pitfall",
            "fingerprint",
            "severity",
            "subject_type",
            "subject_id",
            "subject_label",
            "department",
            "department_name",
            "message",
            "mitigation",
            "details",
            "status",
            "first_seen_run",
            "last_seen_run",
            "first_seen_at",
            "last_seen_at",
            "closed_at",
            "closed_by_run",
            "comment",
            "acted_by",
            "acted_at",
            "version",
        ]
        read_only_fields = fields

    def get_rule_title(self, finding: Finding) -> str:
        try:
            return get_rule(finding.rule).title
        except KeyError:
            return finding.rule

    def get_pitfall(self, finding: Finding) -> str:
        try:
            return get_rule(finding.rule).pitfall
        except KeyError:
            return ""


class FindingDetailSerializer(FindingSerializer):
    events = FindingEventSerializer(many=True, read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "events"]
        read_only_fields = fields


class FindingFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=STATUS_FILTERS,
        required=False,
        help_text="active (open or acknowledged), a status, or all (the default).",
    )
    rule = serializers.CharField(required=False, max_length=40, help_text="A rule's key, e.g. unaligned_goals.")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    department = IntegerFilter(min_value=0, help_text="A department's id; 0 for findings about the whole organisation.")


class FindingActionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="Required to resolve; kept in the history."
    )
    version = serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)


# ---------------------------------------------------------------- views


@extend_schema_view(
    create=extend_schema(
        request=None,
        responses={202: AuditRunSerializer, 200: AuditRunSerializer, 403: FORBIDDEN},
        description="Run an audit now (HR): 202 with the new run, or 200 with the run already under way. "
        "Poll the run for its progress.",
    ),
    retrieve=extend_schema(responses={200: AuditRunSerializer, 404: NOT_FOUND}),
)
class AuditRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Audit runs, newest first, with their progress, score and what they changed."""

    serializer_class = AuditRunSerializer
    permission_classes = [IsAuthenticated, Requires]
    # Listing is for those who read the audits, as the runs page (403); one run outside the scope is a 404.
    required_for = {"list": access.can_read_audits, "create": access.can_run_audits}

    @property
    def required_message(self) -> str:
        return access.RUN_MESSAGE if self.action == "create" else access.READ_MESSAGE

    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[AuditRun]:
        return access.runs_visible_to(self.request.user).select_related("requested_by").order_by("-created_at", "-pk")

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        already = run_services.run_in_progress()
        run = run_services.start_run(user=request.user)
        code = status.HTTP_200_OK if already is not None and already.pk == run.pk else status.HTTP_202_ACCEPTED
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data, status=code)

    @extend_schema(
        request=None,
        responses={202: AuditRunSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Run a failed audit again, as the same run: nothing it recorded is duplicated.",
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        deny_unless(access.can_run_audits(request.user), access.RUN_MESSAGE)
        run_services.rerun(user=request.user, run=run)
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={202: AuditRunSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Resume a stalled audit (no progress for a few minutes, its worker gone), as the same run: "
        "it is queued again and records nothing twice. A run that is moving is left as it is.",
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        deny_unless(access.can_run_audits(request.user), access.RUN_MESSAGE)
        run_services.run_resume(user=request.user, run=run)
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data, status=status.HTTP_202_ACCEPTED)


ACTION_RESPONSES = {200: FindingDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


@extend_schema_view(
    list=extend_schema(parameters=[FindingFilterSerializer]),
    retrieve=extend_schema(responses={200: FindingDetailSerializer, 404: NOT_FOUND}),
)
class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Findings, most recently seen first, each with its rule, severity, subject, department, message,
    mitigation and drill-down details; one finding also with its history."""

    permission_classes = [IsAuthenticated, Requires]
    required_for = {"list": access.can_read_audits}
    required_message = access.READ_MESSAGE
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return FindingSerializer if self.action == "list" else FindingDetailSerializer

    def get_queryset(self) -> QuerySet[Finding]:
        queryset = (
            access.findings_visible_to(self.request.user)
            .select_related("department", "acted_by")
            .order_by("-last_seen_at", "-pk")
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("events", queryset=FindingEvent.objects.select_related("by").order_by("at", "pk"))
            )
        return queryset

    def filter_queryset(self, queryset: QuerySet[Finding]) -> QuerySet[Finding]:
        if self.action != "list":
            return queryset
        wanted = validated(FindingFilterSerializer, self.request.query_params.dict())
        chosen = wanted.get("status", "all")
        if chosen == "active":
            queryset = queryset.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
        elif chosen != "all":
            queryset = queryset.filter(status=chosen)
        if wanted.get("rule"):
            queryset = queryset.filter(rule=wanted["rule"])
        if wanted.get("severity"):
            queryset = queryset.filter(severity=wanted["severity"])
        if "department" in wanted:
            department = wanted["department"]
            queryset = (
                queryset.filter(department__isnull=True)
                if department == 0
                else queryset.filter(department_id=department)
            )
        return queryset

    def _act(self, request: Request, act) -> Response:  # type: ignore[no-untyped-def]
        finding = self.get_object()
        # Before reading the body: a reader who may not act gets 403.
        deny_unless(access.can_act_on_findings(request.user, finding), access.ACT_MESSAGE)
        data = validated(FindingActionSerializer, request.data)
        act(user=request.user, finding=finding, comment=data.get("comment", ""), expected_version=data.get("version"))
        return Response(FindingDetailSerializer(self.get_queryset().get(pk=finding.pk)).data)

    @extend_schema(
        request=FindingActionSerializer,
        responses=ACTION_RESPONSES,
        description="HR acknowledges the finding: it stays on the list until it no longer holds or is resolved.",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, finding_services.acknowledge)

    @extend_schema(
        request=FindingActionSerializer,
        responses=ACTION_RESPONSES,
        description="HR resolves the finding; the comment, saying how, is required.",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, finding_services.resolve)


def register(router: DefaultRouter) -> None:
    router.register("audits", AuditRunViewSet, basename="audit-run")
    router.register("findings", FindingViewSet, basename="finding")

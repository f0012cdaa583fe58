"""The `incentive-plans` and `payouts` resources.

Plans are HR's: listing and creating answer 403 to anyone else, a plan itself 404. Writes go through incentives.services.plans;
set-up writes take the plan's ``version`` and answer 409 when someone saved in between.
Payouts are scoped by incentives/access.py (HR; after publication also the person
and their managers; anyone else 404); PATCH is HR's adjustment with a required reason.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from appraisals.models import ReviewCycle
from core import exports
from core.access import Requires, deny_unless
from core.api import IntegerFilter, validated
from core.parsers import JSONParser
from incentives import access
from incentives.models.imports import TargetBonusImport
from incentives.models.plans import (
    ComponentKind,
    IncentivePlan,
    Payout,
    PayoutAdjustment,
    PlanComponent,
    TargetBonus,
    min_qi_weight,
)
from incentives.services import plans as services
from incentives.services import target_imports
from people.api.serializers import ImportProblemSerializer
from people.models import Department

BAD_REQUEST = OpenApiResponse(description="Invalid input, or not allowed in the plan's state; the body says why.")
FORBIDDEN = OpenApiResponse(description="Only HR may do this.")
NOT_FOUND = OpenApiResponse(description="No such record, or not one you may see.")
CONFLICT = OpenApiResponse(description="Someone saved this record after you read it; nothing was changed.")
WRITE_RESPONSES = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
VERSION_HELP = "The version you read; a stale one answers 409 and changes nothing."


# ---------------------------------------------------------------- serializers


class PlanComponentSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ComponentKind.choices)

    class Meta:
        model = PlanComponent
        fields = ["kind", "name", "weight", "threshold", "cap", "achievement"]
        extra_kwargs = {"name": {"required": False}, "threshold": {"required": False}, "cap": {"required": False}}


class TargetBonusSerializer(serializers.ModelSerializer):
    employee_id = serializers.CharField(source="employee.employee_id", read_only=True)
    employee_name = serializers.CharField(source="employee.full_name", read_only=True)

    class Meta:
        model = TargetBonus
        fields = ["employee", "employee_id", "employee_name", "amount"]


class IncentivePlanSerializer(serializers.ModelSerializer):
    cycle = serializers.PrimaryKeyRelatedField(queryset=ReviewCycle.objects.all())
    departments = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), many=True, required=False)
    job_titles = serializers.ListField(child=serializers.CharField(max_length=120), required=False)
    components = PlanComponentSerializer(many=True, read_only=True)
    qi_weight = serializers.SerializerMethodField()
    min_qi_weight = serializers.SerializerMethodField()
    misalignment_warning = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    stalled = serializers.BooleanField(
        source="is_stalled",
        read_only=True,
        help_text="Under way with no progress for THROUGHLINE_JOB_STALL_AFTER seconds: no worker holds it; HR may resume it.",
    )
    payout_count = serializers.IntegerField(read_only=True, default=0)
    payout_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = IncentivePlan
        fields = [
            "id",
            "cycle",
            "name",
            "state",
            "departments",
            "job_titles",
            "minimum_tenure_months",
            "components",
            "qi_weight",
            "min_qi_weight",
            "misalignment_warning",
            "compute_total",
            "compute_done",
            "compute_error",
            "percent",
            "progress_at",
            "stalled",
            "computed_at",
            "approved_by",
            "approved_at",
            "published_at",
            "payout_count",
            "payout_total",
            "version",
        ]
        read_only_fields = [
            "state",
            "compute_total",
            "compute_done",
            "compute_error",
            "computed_at",
            "approved_by",
            "approved_at",
            "published_at",
            "version",
        ]

    def get_qi_weight(self, plan: IncentivePlan) -> int:
        return plan.qi_weight()

    def get_min_qi_weight(self, plan: IncentivePlan) -> int:
        return min_qi_weight()

    def get_misalignment_warning(self, plan: IncentivePlan) -> str:
        return plan.misalignment_warning()


class IncentivePlanUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    name = serializers.CharField(max_length=160, required=False)
    departments = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), many=True, required=False)
    job_titles = serializers.ListField(child=serializers.CharField(max_length=120), required=False)
    minimum_tenure_months = serializers.IntegerField(min_value=0, max_value=600, required=False)


class PlanVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)


class PlanComponentsSetSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    components = PlanComponentSerializer(many=True)


class TargetAmountSerializer(serializers.Serializer):
    employee = serializers.IntegerField(help_text="The employee's record id.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class TargetBonusesSetSerializer(serializers.Serializer):
    target_bonuses = TargetAmountSerializer(many=True)


class TargetImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv or .xlsx file with the columns employee_id and amount.")


class TargetImportSummarySerializer(serializers.Serializer):
    imported = serializers.IntegerField(required=False, help_text="Target bonuses written, once the import succeeded.")


class TargetBonusImportSerializer(serializers.ModelSerializer):
    """A target-bonus upload and its progress (a background job, as an org-chart import is)."""

    url = serializers.HyperlinkedIdentityField(view_name="target-bonus-import-detail")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    stalled = serializers.BooleanField(
        source="is_stalled",
        read_only=True,
        help_text="Under way with no progress for THROUGHLINE_JOB_STALL_AFTER seconds: no worker holds it; HR may resume it.",
    )
    errors = ImportProblemSerializer(many=True, read_only=True)
    summary = TargetImportSummarySerializer(read_only=True)

    class Meta:
        model = TargetBonusImport
        # Never the file's bytes: they can be megabytes, and they are pay data.
        fields = [
            "id",
            "url",
            "plan",
            "file_name",
            "created_at",
            "created_by",
            "status",
            "status_display",
            "total_rows",
            "processed_rows",
            "percent",
            "progress_at",
            "stalled",
            "errors",
            "summary",
            "finished_at",
        ]
        read_only_fields = fields


class PayoutAdjustmentSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = PayoutAdjustment
        fields = ["old_amount", "new_amount", "reason", "by", "at"]


class PayoutSerializer(serializers.ModelSerializer):
    employee_id = serializers.CharField(source="employee.employee_id", read_only=True)
    employee_name = serializers.CharField(source="employee.full_name", read_only=True)
    department = serializers.CharField(source="employee.department.name", read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    adjustments = PayoutAdjustmentSerializer(many=True, read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "plan",
            "plan_name",
            "employee",
            "employee_id",
            "employee_name",
            "department",
            "target_bonus",
            "computed_amount",
            "amount",
            "adjusted",
            "adjustment_reason",
            "breakdown",
            "adjustments",
            "version",
        ]
        read_only_fields = fields


class PayoutAdjustSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    adjustment_reason = serializers.CharField(allow_blank=True, help_text="Why; required, kept in the history.")


class PayoutFilterSerializer(serializers.Serializer):
    plan = IntegerFilter()
    employee = IntegerFilter()


# ---------------------------------------------------------------- views


def _export_response(plan: IncentivePlan, kind: str) -> HttpResponse:
    """The payroll file, as the plan's export page writes it (core.exports escapes people's text)."""
    rows = services.export_rows(plan)
    name = f"payouts-plan-{plan.pk}.{kind}"
    if kind == "csv":
        return exports.csv_response(rows, name, bom=False)
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Payouts")
    for row in rows:
        exports.xlsx_row(sheet, row)  # Decimals are written as exact numbers
    return exports.xlsx_response(book, name)


@extend_schema_view(
    create=extend_schema(responses={201: IncentivePlanSerializer, **WRITE_RESPONSES}),
    partial_update=extend_schema(
        request=IncentivePlanUpdateSerializer, responses={200: IncentivePlanSerializer, **WRITE_RESPONSES}
    ),
)
class IncentivePlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Incentive plans per review cycle: HR only (incentives/access.py). Listing and creating
    answer 403 to anyone else, as the plan list and "new plan" pages do; a plan itself is
    outside their scope (404), as its page is. Components, target bonuses, computing,
    approval, publication and the payroll export are actions."""

    serializer_class = IncentivePlanSerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = {"list": access.can_manage_plans, "create": access.can_manage_plans}
    required_message = access.PLANS_MESSAGE
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self) -> QuerySet[IncentivePlan]:
        return (
            access.plans_visible_to(self.request.user)
            .prefetch_related(Prefetch("components", queryset=PlanComponent.objects.order_by("position", "pk")))
            .annotate(payout_count=Count("payouts"), payout_total=Sum("payouts__amount"))
            .order_by("-created_at", "-pk")
        )

    def _read(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        cycle, departments = data.pop("cycle"), data.pop("departments", [])
        plan = services.plan_create(user=request.user, cycle=cycle, data=data, departments=departments)
        response = self._read(plan.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(IncentivePlanUpdateSerializer, request.data)
        version, departments = data.pop("version"), data.pop("departments", None)
        services.plan_update(user=request.user, plan=plan, expected_version=version, data=data, departments=departments)
        return self._read(plan.pk)

    @extend_schema(
        request=PlanComponentsSetSerializer,
        responses={200: IncentivePlanSerializer, **WRITE_RESPONSES},
        description="Replace the plan's components; their weights must total 100.",
    )
    @action(detail=True, methods=["put"])
    def components(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(PlanComponentsSetSerializer, request.data)
        services.components_set(
            user=request.user, plan=plan, expected_version=data["version"], components=data["components"]
        )
        return self._read(plan.pk)

    @extend_schema(methods=["GET"], request=None, responses={200: TargetBonusSerializer(many=True), 404: NOT_FOUND})
    @extend_schema(
        methods=["PUT"],
        request=TargetBonusesSetSerializer,
        responses={200: TargetBonusSerializer(many=True), **WRITE_RESPONSES},
        description="Set (create or replace) target bonuses; all or nothing.",
    )
    # Never paged: the response is the whole list, and the schema says so.
    @action(detail=True, methods=["get", "put"], url_path="target-bonuses", pagination_class=None)
    def target_bonuses(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        if request.method == "PUT":
            data = validated(TargetBonusesSetSerializer, request.data)
            services.target_bonuses_set(
                user=request.user,
                plan=plan,
                amounts={row["employee"]: row["amount"] for row in data["target_bonuses"]},
            )
        bonuses = TargetBonus.objects.filter(plan=plan).select_related("employee").order_by("employee__full_name")
        return Response(TargetBonusSerializer(bonuses, many=True).data)

    @extend_schema(
        request={"multipart/form-data": TargetImportSerializer},
        responses={202: TargetBonusImportSerializer, **WRITE_RESPONSES},
        description=(
            "Import target bonuses from CSV or XLSX (employee_id, amount) in the background: every row "
            "checked, then all written or none. A file over the limits (size, rows, an .xlsx that unpacks "
            "too far) or with a cell that cannot be stored is refused at once with 400. Otherwise 202: "
            "the Location header and `url` name the import; poll it for progress and problems."
        ),
    )
    @action(detail=True, methods=["post"], url_path="target-bonuses/import", parser_classes=[MultiPartParser])
    def import_target_bonuses(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        upload = validated(TargetImportSerializer, request.data)["file"]
        # Checked from its size and a streamed look before it is read into memory (core.tabular).
        record = target_imports.target_import_start(user=request.user, plan=plan, file_name=upload.name, content=upload)
        # Read it back: with eager tasks (development) the import has already finished.
        job = access.target_imports_visible_to(request.user).defer("content").get(pk=record.pk)
        body = TargetBonusImportSerializer(job, context=self.get_serializer_context()).data
        # str(): the url is DRF's Hyperlink, which WSGI servers refuse as a header value.
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})

    @extend_schema(
        request=None,
        responses={202: IncentivePlanSerializer, **WRITE_RESPONSES},
        description="Compute every eligible person's payout in the background; poll the plan for progress.",
    )
    @action(detail=True, methods=["post"])
    def compute(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        services.compute_start(user=request.user, plan=plan)
        response = self._read(plan.pk)
        response.status_code = status.HTTP_202_ACCEPTED
        return response

    @extend_schema(
        request=PlanVersionSerializer,
        responses={200: IncentivePlanSerializer, **WRITE_RESPONSES},
        description="Approve the computed payouts; the plan is then locked.",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(PlanVersionSerializer, request.data)
        services.plan_approve(user=request.user, plan=plan, expected_version=data.get("version"))
        return self._read(plan.pk)

    @extend_schema(
        request=PlanVersionSerializer,
        responses={200: IncentivePlanSerializer, **WRITE_RESPONSES},
        description="Publish an approved plan: each person can then see their own payout.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = validated(PlanVersionSerializer, request.data)
        services.plan_publish(user=request.user, plan=plan, expected_version=data.get("version"))
        return self._read(plan.pk)

    @extend_schema(
        request=None,
        responses={(200, "text/csv"): OpenApiTypes.BINARY, 404: NOT_FOUND},
        description="The payouts for payroll, as CSV.",
    )
    @action(detail=True, methods=["get"], url_path="export-csv")
    def export_csv(self, request: Request, pk: str | None = None) -> HttpResponse:
        return _export_response(self.get_object(), "csv")

    @extend_schema(
        request=None,
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            404: NOT_FOUND,
        },
        description="The payouts for payroll, as an XLSX workbook.",
    )
    @action(detail=True, methods=["get"], url_path="export-xlsx")
    def export_xlsx(self, request: Request, pk: str | None = None) -> HttpResponse:
        return _export_response(self.get_object(), "xlsx")


@extend_schema_view(
    list=extend_schema(parameters=[PayoutFilterSerializer]),
    retrieve=extend_schema(responses={200: PayoutSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(request=PayoutAdjustSerializer, responses={200: PayoutSerializer, **WRITE_RESPONSES}),
)
class PayoutViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payouts: all for HR; once the plan is published the person's own and their reports' for managers; anyone
    else's answers 404. PATCH (HR) adjusts the amount with a required reason, kept in the history."""

    serializer_class = PayoutSerializer
    permission_classes = [IsAuthenticated, Requires]  # reading is scoped by the queryset; adjusting below
    parser_classes = [JSONParser]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Payout]:
        return (
            access.payouts_visible_to(self.request.user)
            .prefetch_related(Prefetch("adjustments", queryset=PayoutAdjustment.objects.select_related("by")))
            .order_by("plan_id", "employee__full_name", "pk")
        )

    def filter_queryset(self, queryset: QuerySet[Payout]) -> QuerySet[Payout]:
        if self.action != "list":
            return queryset
        filters = validated(PayoutFilterSerializer, self.request.query_params.dict())
        if "plan" in filters:
            queryset = queryset.filter(plan_id=filters["plan"])
        if "employee" in filters:
            queryset = queryset.filter(employee_id=filters["employee"])
        return queryset

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        payout = self.get_object()  # out of sight: 404, as on the page; in sight but not HR: 403
        deny_unless(access.can_adjust_payout(request.user, payout), access.ADJUST_MESSAGE)
        data = validated(PayoutAdjustSerializer, request.data)
        services.payout_adjust(
            user=request.user,
            payout=payout,
            amount=data["amount"],
            reason=data["adjustment_reason"],
            expected_version=data["version"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=payout.pk)).data)


@extend_schema_view(retrieve=extend_schema(responses={200: TargetBonusImportSerializer, 404: NOT_FOUND}))
class TargetBonusImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A target-bonus upload and its progress: HR's, as its plan is; anyone else gets 404. Start one
    with POST /incentive-plans/<id>/target-bonuses/import/."""

    serializer_class = TargetBonusImportSerializer
    permission_classes = [IsAuthenticated, Requires]  # scoped by the queryset (incentives.access)

    def get_queryset(self) -> QuerySet[TargetBonusImport]:
        # The uploaded bytes stay in the database: a progress poll should not fetch megabytes.
        return access.target_imports_visible_to(self.request.user).defer("content").order_by("-created_at", "-pk")

"""The people API: departments, employees (the signed-in person at employees/me/)
and org-chart imports.

Reads go through people.selectors and writes through people.services; these
classes only translate between HTTP and those functions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import Requires, deny_unless
from core.api import validated
from core.pagination import KeysetPagination
from core.parsers import JSONParser
from people import access, org_import, selectors, services
from people.api.serializers import (
    ChainLinkSerializer,
    DepartmentCreateSerializer,
    DepartmentMoveSerializer,
    DepartmentSerializer,
    EmployeeFilterSerializer,
    EmployeeSerializer,
    EmployeeUpdateSerializer,
    HistoryEntrySerializer,
    HistoryFilterSerializer,
    OrgImportCreateSerializer,
    OrgImportSerializer,
)
from people.models import Department, Employee, OrgChartImport
from people.selectors import history

BAD_REQUEST = OpenApiResponse(description="Invalid input; the body names each field and what is wrong with it.")
FORBIDDEN = OpenApiResponse(description="Only HR admins may do this.")
CONFLICT = OpenApiResponse(description="Someone saved this record after you read it; nothing was changed.")


class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Departments are not secret: everyone signed in reads the whole tree; HR admins change it."""

    serializer_class = DepartmentSerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = {"create": access.can_manage_people, "partial_update": access.can_manage_people}
    required_message = access.HR_ONLY_PEOPLE
    # JSON only: DRF reads a boolean missing from a form as false, so a form-encoded
    # PATCH of someone's job title would also deactivate them.
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Department]:
        return (
            access.departments_visible_to(self.request.user)
            .select_related("parent", "head")
            .annotate(headcount=Count("employees", filter=Q(employees__is_active=True)))
            .order_by("name")
        )

    @extend_schema(request=DepartmentCreateSerializer, responses={201: DepartmentSerializer, 400: BAD_REQUEST})
    def create(self, request: Request) -> Response:
        data = validated(DepartmentCreateSerializer, request.data, request)
        department = services.department_create(**data, user=request.user)
        return Response(self._read(department), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DepartmentMoveSerializer,
        responses={200: DepartmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="Move a department under another (or to the top); a loop in the tree is refused.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        department = self.get_object()
        data = validated(DepartmentMoveSerializer, request.data, request)
        services.department_set_parent(department=department, parent=data["parent"], user=request.user)
        return Response(self._read(department))

    def _read(self, department: Department) -> dict[str, Any]:
        # Read back through the queryset so a write answers with the headcount, as a GET would.
        return self.get_serializer(self.get_queryset().get(pk=department.pk)).data


@extend_schema_view(list=extend_schema(parameters=[EmployeeFilterSerializer]))
class EmployeeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """People, scoped by the org chart: yourself and your reports, or everyone for HR.
    Anyone else's record answers 404, so its existence does not leak."""

    serializer_class = EmployeeSerializer
    pagination_class = KeysetPagination
    # Reading is scoped by the queryset; the one write (partial_update) looks the person up
    # first, so someone outside your scope answers 404 and one inside it 403 unless you are HR.
    permission_classes = [IsAuthenticated, Requires]
    parser_classes = [JSONParser]  # see DepartmentViewSet

    def get_queryset(self) -> QuerySet[Employee]:
        user = self.request.user
        # HR can open (and so reactivate) people who have left; the list hides them unless asked.
        visible = access.employees_visible_to(user, include_inactive=access.is_hr_admin(user))
        # The pk breaks ties between namesakes so that pages never repeat or skip anyone.
        return selectors.with_is_manager(visible.select_related("user")).order_by("full_name", "pk")

    def filter_queryset(self, queryset: QuerySet[Employee]) -> QuerySet[Employee]:
        # Only the list takes filters; get_object() must find a record whatever the query string says.
        if self.action != "list":
            return queryset
        return _filter_employees(
            queryset, validated(EmployeeFilterSerializer, self.request.query_params.dict(), self.request)
        )

    @extend_schema(
        request=EmployeeUpdateSerializer,
        responses={200: EmployeeSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="HR admins only. Send the `version` you read; moving someone moves their team with them.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        employee = self.get_object()  # 404 out of scope, then 403 for anyone but HR
        deny_unless(access.can_manage_people(request.user), access.HR_ONLY_PEOPLE)
        data = validated(EmployeeUpdateSerializer, request.data, request)
        version = data.pop("version")
        services.employee_update(employee=employee, expected_version=version, data=data, user=request.user)
        return Response(self._read(employee.pk))

    @extend_schema(responses={200: EmployeeSerializer, 404: OpenApiResponse(description="You have no record.")})
    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        """The signed-in person, with their roles and whether they manage anyone."""
        me = access.employee_for_user(request.user)
        if me is None:
            raise NotFound("You have no employee record.")
        return Response(self._read(me.pk))

    @extend_schema(responses=ChainLinkSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # a chain is short: never paged
    def chain(self, request: Request, pk: str | None = None) -> Response:
        """The managers above this person, the top of the organisation first."""
        employee = self.get_object()
        return Response(ChainLinkSerializer(selectors.reporting_chain(employee=employee), many=True).data)

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


def _filter_employees(queryset: QuerySet[Employee], filters: dict[str, Any]) -> QuerySet[Employee]:
    # People who have left are only in HR's queryset, so active=false shows others nobody.
    queryset = queryset.filter(is_active=filters["active"])
    if "department" in filters:
        queryset = queryset.filter(department_id=filters["department"])
    if "manager" in filters:
        queryset = queryset.filter(manager_id=filters["manager"])
    search = filters.get("search", "").strip()
    if search:
        queryset = queryset.filter(Q(full_name__icontains=search) | Q(employee_id__icontains=search))
    return queryset


class OrgImportViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Org-chart uploads and their progress. Listing and uploading are reserved to HR (403);
    a particular import is HR's record, so to anyone else it does not exist (404)."""

    serializer_class = OrgImportSerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = {"list": access.can_import_org_chart, "create": access.can_import_org_chart}
    required_message = access.HR_ONLY_IMPORT
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> QuerySet[OrgChartImport]:
        # The uploaded bytes stay in the database: a progress poll should not fetch megabytes.
        return access.imports_visible_to(self.request.user).defer("content").order_by("-created_at", "-pk")

    @extend_schema(request=OrgImportCreateSerializer, responses={202: OrgImportSerializer, 400: BAD_REQUEST})
    def create(self, request: Request) -> Response:
        """Upload a file; it is checked and applied in the background. Poll `url` for progress."""
        data = validated(OrgImportCreateSerializer, request.data, request)
        upload = data["file"]
        # start_import refuses a file over the limits from its size and a streamed look, before
        # reading it into memory.
        record = org_import.start_import(
            user=request.user, file_name=upload.name, content=upload, deactivate_missing=data["deactivate_missing"]
        )
        # Read it back: with eager tasks (development) the import has already finished.
        body = self.get_serializer(self.get_queryset().get(pk=record.pk)).data
        # str(): the serializer's url is DRF's Hyperlink, a str subclass that WSGI servers refuse
        # as a header value (runserver answered 500).
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})


@extend_schema_view(list=extend_schema(parameters=[HistoryFilterSerializer]))
class HistoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The action log: every change across the organisation, newest first. HR admins only (403).
    One record's history: `?kind=<app_label.model>&object=<id>`."""

    serializer_class = HistoryEntrySerializer
    permission_classes = [IsAuthenticated, Requires]
    required = staticmethod(access.can_read_action_log)  # a plain function would bind as a method
    required_message = access.HR_ONLY_HISTORY

    def get_queryset(self) -> QuerySet:
        return history.entries().select_related("actor__employee")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        data = validated(HistoryFilterSerializer, self.request.query_params.dict(), self.request)
        actor = data.get("actor")
        filters = history.HistoryFilters(
            action=data.get("action", ""),
            kind=data.get("kind", ""),
            object_id=data.get("object"),
            actor_id=actor.user_id if actor else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            search=data.get("search", "").strip(),
        )
        return history.entries(filters).select_related("actor__employee")

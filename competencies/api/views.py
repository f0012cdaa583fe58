"""The competencies API: `competencies`, `rating-scales`, `forms` and each form's
`versions` (with their sections), plus publish, retire, new-draft and preview.

Reads go through competencies.selectors and writes through competencies.services;
these classes only translate between HTTP and those functions. Who may do what is
competencies.access's: everyone signed in reads the library, the scales and published
forms, and a draft (or a never-published form) answers 404 to anyone but HR; every write
is HR set-up, so it answers 403 to anyone else (core.access.Requires), as the pages do.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from competencies import access, selectors, services
from competencies.api.serializers import (
    AppraisalFormSerializer,
    CompetencyCreateSerializer,
    CompetencyFilterSerializer,
    CompetencySerializer,
    CompetencyUpdateSerializer,
    FormCreateSerializer,
    FormPreviewSerializer,
    FormUpdateSerializer,
    FormVersionSerializer,
    FormVersionUpdateSerializer,
    MethodologyFilterSerializer,
    PreviewQuerySerializer,
    RatingScaleCreateSerializer,
    RatingScaleSerializer,
    RatingScaleUpdateSerializer,
    VersionActionSerializer,
    VersionQuerySerializer,
)
from competencies.models import AppraisalForm, Competency, FormVersion, RatingScale
from competencies.selectors import preview
from core.access import Requires
from core.api import validated
from core.parsers import JSONParser

BAD_REQUEST = OpenApiResponse(description="Invalid input; the body names each field and what is wrong with it.")
FORBIDDEN = OpenApiResponse(
    description="Only HR admins make this change (403 to anyone else, whichever record is named)."
)
CONFLICT = OpenApiResponse(description="Someone saved this after you read it; nothing was changed.")

WRITES = ("post", "put", "patch", "delete")


def writes_need(check):  # type: ignore[no-untyped-def]
    """``required_for`` of a resource everyone in scope reads and only ``check`` admits to change."""
    return dict.fromkeys(WRITES, check)


# ---------------------------------------------------------------- competencies


@extend_schema_view(list=extend_schema(parameters=[CompetencyFilterSerializer]))
class CompetencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The competency library with its behavioural indicators. Everyone signed in reads it; HR admins change it."""

    serializer_class = CompetencySerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = writes_need(access.can_manage_library)
    required_message = access.LIBRARY_ONLY_HR
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Competency]:
        return selectors.competencies(user=self.request.user).order_by("name", "pk")

    def filter_queryset(self, queryset: QuerySet[Competency]) -> QuerySet[Competency]:
        if self.action != "list":
            return queryset
        filters = validated(CompetencyFilterSerializer, self.request.query_params.dict(), self.request)
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if filters.get("category"):
            queryset = queryset.filter(category__iexact=filters["category"])
        return queryset

    @extend_schema(request=CompetencyCreateSerializer, responses={201: CompetencySerializer, 400: BAD_REQUEST})
    def create(self, request: Request) -> Response:
        data = validated(CompetencyCreateSerializer, request.data, request)
        competency = services.competency_create(user=request.user, **data)
        return Response(self._read(competency.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CompetencyUpdateSerializer,
        responses={200: CompetencySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="HR admins only. Send the `version` you read. Retire with `status: retired`.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        competency = self.get_object()
        data = validated(CompetencyUpdateSerializer, request.data, request)
        version, indicators = data.pop("version"), data.pop("indicators", None)
        services.competency_update(
            user=request.user, competency=competency, expected_version=version, data=data, indicators=indicators
        )
        return Response(self._read(competency.pk))

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


# ---------------------------------------------------------------- rating scales


@extend_schema_view(list=extend_schema(parameters=[MethodologyFilterSerializer]))
class RatingScaleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rating scales with their levels. Everyone signed in reads them; HR admins change them."""

    serializer_class = RatingScaleSerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = writes_need(access.can_manage_scales)
    required_message = access.SCALES_ONLY_HR
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[RatingScale]:
        return selectors.rating_scales(user=self.request.user).order_by("name", "pk")

    def filter_queryset(self, queryset: QuerySet[RatingScale]) -> QuerySet[RatingScale]:
        if self.action != "list":
            return queryset
        filters = validated(MethodologyFilterSerializer, self.request.query_params.dict(), self.request)
        if "methodology" in filters:
            queryset = queryset.filter(methodology=filters["methodology"])
        return queryset

    @extend_schema(request=RatingScaleCreateSerializer, responses={201: RatingScaleSerializer, 400: BAD_REQUEST})
    def create(self, request: Request) -> Response:
        data = validated(RatingScaleCreateSerializer, request.data, request)
        scale = services.scale_create(user=request.user, **data)
        return Response(self._read(scale.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RatingScaleUpdateSerializer,
        responses={200: RatingScaleSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="HR admins only. Send the `version` you read; `levels` replaces them all, and is refused "
        "once a published form uses the scale.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        scale = self.get_object()
        data = validated(RatingScaleUpdateSerializer, request.data, request)
        version, levels = data.pop("version"), data.pop("levels", None)
        services.scale_update(user=request.user, scale=scale, expected_version=version, data=data, levels=levels)
        return Response(self._read(scale.pk))

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


# ---------------------------------------------------------------- forms


def _version_detail(version: FormVersion) -> dict[str, Any]:
    return FormVersionSerializer(selectors.with_rows(FormVersion.objects.filter(pk=version.pk)).get()).data


@extend_schema_view(list=extend_schema(parameters=[MethodologyFilterSerializer]))
class AppraisalFormViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Appraisal forms and their versions. HR sees drafts too; anyone else signed in sees
    forms with a published version, and only their published and retired versions."""

    serializer_class = AppraisalFormSerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = writes_need(access.can_build_forms)
    required_message = access.FORMS_ONLY_HR
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[AppraisalForm]:
        return selectors.forms_with_versions(user=self.request.user).order_by("name", "pk")

    def filter_queryset(self, queryset: QuerySet[AppraisalForm]) -> QuerySet[AppraisalForm]:
        if self.action != "list":
            return queryset
        filters = validated(MethodologyFilterSerializer, self.request.query_params.dict(), self.request)
        if "methodology" in filters:
            queryset = queryset.filter(methodology=filters["methodology"])
        return queryset

    @extend_schema(
        request=FormCreateSerializer,
        responses={201: AppraisalFormSerializer, 400: BAD_REQUEST},
        description="HR admins only. The new form has a first draft with the four seeded dialogue questions.",
    )
    def create(self, request: Request) -> Response:
        data = validated(FormCreateSerializer, request.data, request)
        form = services.form_create(user=request.user, **data)
        return Response(self._read(form.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=FormUpdateSerializer,
        responses={200: AppraisalFormSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="HR admins only: the form's name, description and methodology. Its content lives on versions.",
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        form = self.get_object()
        data = validated(FormUpdateSerializer, request.data, request)
        services.form_update(user=request.user, form=form, expected_version=data.pop("version"), data=data)
        return Response(self._read(form.pk))

    @extend_schema(
        responses={204: None, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="HR admins only, and only a form that was never published.",
    )
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.form_delete(user=request.user, form=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={201: FormVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        description="Edit a published form: a new draft copying the published version. One draft at a time.",
    )
    @action(detail=True, methods=["post"], url_path="new-draft")
    def new_draft(self, request: Request, pk: str | None = None) -> Response:
        form = self.get_object()
        draft = services.form_start_new_draft(user=request.user, form=form)
        return Response(_version_detail(draft), status=status.HTTP_201_CREATED)

    def _read(self, pk: int) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=pk)).data


@extend_schema(parameters=[OpenApiParameter("form_pk", OpenApiTypes.INT, OpenApiParameter.PATH)])
class FormVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The versions of one form, newest first, each with its sections (goals, competencies, dialogue),
    its results/process balance and, for a draft, what stops it being published."""

    serializer_class = FormVersionSerializer
    permission_classes = [IsAuthenticated, Requires]
    required_for = writes_need(access.can_build_forms)
    required_message = access.FORMS_ONLY_HR
    parser_classes = [JSONParser]
    lookup_field = "number"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[FormVersion]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no form in the URL
            return FormVersion.objects.none()
        form = selectors.get_form(user=self.request.user, pk=self.kwargs["form_pk"])
        versions = selectors.versions_visible_to(user=self.request.user, form=form)
        return selectors.with_rows(versions).order_by("-number")

    @extend_schema(
        request=FormVersionUpdateSerializer,
        responses={200: FormVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="HR admins only, drafts only (a published version never changes: start a new draft). "
        "Send the `version` you read. Section weights must total 100 when given, and so must the "
        "competency weights; `competencies` and `questions` replace the section's rows.",
    )
    def partial_update(self, request: Request, form_pk: str | None = None, number: str | None = None) -> Response:
        version = self.get_object()
        data = validated(FormVersionUpdateSerializer, request.data, request)
        expected = data.pop("version")
        if "competencies" in data:
            data["competencies"] = [services.CompetencySpec(**row) for row in data["competencies"]]
        if "questions" in data:
            data["questions"] = [services.QuestionSpec(**row) for row in data["questions"]]
        services.draft_replace_content(user=request.user, version=version, expected_version=expected, data=data)
        return Response(_version_detail(version))

    @extend_schema(
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, description="The version you read (409 if stale).")],
        responses={204: None, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="HR admins only: discard a draft. Published versions are never deleted.",
    )
    def destroy(self, request: Request, form_pk: str | None = None, number: str | None = None) -> Response:
        version = self.get_object()
        expected = validated(VersionQuerySerializer, request.query_params.dict(), request).get("version")
        services.draft_discard(user=request.user, version=version, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=VersionActionSerializer,
        responses={200: FormVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="Freeze the draft. Refused, with what to fix, unless the section weights and the competency "
        "weights each total 100, there is at least one competency and the scales are set. The form's "
        "previously published version is retired.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, form_pk: str | None = None, number: str | None = None) -> Response:
        version = self.get_object()
        expected = validated(VersionActionSerializer, request.data, request)["version"]
        services.form_publish(user=request.user, version=version, expected_version=expected)
        return Response(_version_detail(version))

    @extend_schema(
        request=VersionActionSerializer,
        responses={200: FormVersionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
        description="Stop offering a published version to new cycles; appraisals made with it keep it.",
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, form_pk: str | None = None, number: str | None = None) -> Response:
        version = self.get_object()
        expected = validated(VersionActionSerializer, request.data, request)["version"]
        services.version_retire(user=request.user, version=version, expected_version=expected)
        return Response(_version_detail(version))

    @extend_schema(
        parameters=[PreviewQuerySerializer],
        responses={200: FormPreviewSerializer, 400: BAD_REQUEST},
        description="The version exactly as an employee (self-assessment) or a manager (review) will see it.",
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, form_pk: str | None = None, number: str | None = None) -> Response:
        version = self.get_object()
        audience = validated(PreviewQuerySerializer, request.query_params.dict(), request)["audience"]
        return Response(FormPreviewSerializer(preview.preview(version, audience=audience)).data)

"""One API style for every app: errors as JSON with field messages, stale writes as 409."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_description_list
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ConflictError


def validated(
    serializer_class: type[serializers.Serializer], data: Any, request: Request | None = None
) -> dict[str, Any]:
    """Check a request body with an input serializer; bad input raises 400 with field messages."""
    serializer = serializer_class(data=data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class NamedChoiceField(serializers.ChoiceField):
    # A choice field whose choice set is one named component of the OpenAPI schema
    # ("GoalStatusEnum"). Several choice sets share a field name across the apps (a priority's,
    # a goal's and a control chart's ``status``; a goal's and a chart signal's ``kind``), which
    # drf-spectacular would otherwise name by hash, with a warning.

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        choices = self.target.choices
        return {"type": "string", "enum": list(choices), "description": build_choice_description_list(choices.items())}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # Services validate with Django's ValidationError; the API answers it as DRF would its own.
        errors = as_serializer_error(exc)
        # full_clean files model-wide errors under "__all__"; DRF clients expect one key for them.
        if NON_FIELD_ERRORS in errors:
            errors.setdefault(api_settings.NON_FIELD_ERRORS_KEY, []).extend(errors.pop(NON_FIELD_ERRORS))
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)

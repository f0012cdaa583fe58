"""One API style for every app: errors as JSON with field messages, stale writes as 409."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_description_list
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
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


# What a database integer column can hold. SQLite raises OverflowError on a larger number (a
# 500), and PostgreSQL compares bigint ids with it only to find nothing: either way the caller
# mistyped, and is told so.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class IntegerFilter(serializers.IntegerField):
    """An integer query parameter (usually an id) for a list's filter serializer.

    Not a whole number, or outside what a 64-bit integer column holds: 400 naming the parameter.
    Every integer filter uses it (tests/core/test_api_robustness.py finds any that does not).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


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
    if isinstance(exc, SuspiciousOperation):
        # Django answers these with its HTML 400 page; an API client gets JSON it can read.
        return Response({"detail": _suspicious_message(exc)}, status=_suspicious_status(exc))
    return drf_exception_handler(exc, context)


def _suspicious_status(exc: SuspiciousOperation) -> int:
    if isinstance(exc, RequestDataTooBig):
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    return status.HTTP_400_BAD_REQUEST


def _suspicious_message(exc: SuspiciousOperation) -> str:
    # Django's own messages name settings; these name the limit as a caller meets it.
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return f"The request body is larger than the {limit:g} MB the API accepts (not counting uploaded files)."
    if isinstance(exc, TooManyFieldsSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters."
    if isinstance(exc, TooManyFilesSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    return "Bad request."


# ---------------------------------------------------------------- lists without per-field overhead


class PlainListSerializer(serializers.ListSerializer):
    """A list serializer that writes each row as its child serializer would, with less work.

    DRF resolves every field of every row through ``get_attribute`` (a generic walk with its
    checks) and renders each nested reference through a serializer of its own; over a page of 50
    rows that was most of a list request's time. This compiles the child's fields once per list
    into plain attribute paths: text, numbers, booleans and choices are written as read, other
    fields (dates, decimals, lists, method fields) by their own ``to_representation``, nested
    read-only serializers the same way, recursively. Set it as a read serializer's
    ``Meta.list_serializer_class``; tests/core/test_plain_list.py holds it to DRF's output.
    """

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        iterable = data.all() if hasattr(data, "all") else data
        plan = _plan(self.child)
        return [_render(plan, item) for item in iterable]


_SAME = (serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.ChoiceField)


def _plan(serializer: serializers.Serializer) -> list[tuple[str, tuple[str, ...], Any, Any]]:
    """(name, attribute path, nested plan or None, field to render with or None) per readable field."""
    plan = []
    for field in serializer._readable_fields:
        path = tuple(field.source_attrs)
        if isinstance(field, serializers.SerializerMethodField):
            plan.append((field.field_name, (), None, field))
        elif isinstance(field, serializers.Serializer):
            plan.append((field.field_name, path, _plan(field), None))
        elif isinstance(field, _SAME) and not isinstance(field, serializers.ListSerializer):
            plan.append((field.field_name, path, None, None))
        else:
            plan.append((field.field_name, path, None, field))
    return plan


def _render(plan: list[tuple[str, tuple[str, ...], Any, Any]], instance: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, path, nested, field in plan:
        if not path:  # a method field: it reads the whole instance
            row[name] = field.to_representation(instance)
            continue
        value = instance
        for attr in path:
            value = value[attr] if isinstance(value, Mapping) else getattr(value, attr)
            if value is None:
                break
        if callable(value) and not hasattr(value, "all"):  # get_<field>_display, a property-like method
            value = value()
        if value is None:
            row[name] = None
        elif nested is not None:
            row[name] = _render(nested, value)
        else:
            row[name] = value if field is None else field.to_representation(value)
    return row


# ---------------------------------------------------------------- the schema and its docs


def docs_are_public() -> bool:
    return settings.THROUGHLINE_API_DOCS_PUBLIC


class SchemaReadable(BasePermission):
    """/api/schema/: anyone where THROUGHLINE_API_DOCS_PUBLIC (development), else signed-in people
    (401 to anyone else, as the rest of the API)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return docs_are_public() or bool(request.user and request.user.is_authenticated)


def docs_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """/api/docs/ is a page a person opens: where the docs are not public, someone not signed in
    goes to the sign-in page and comes back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not docs_are_public() and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped

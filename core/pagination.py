"""Keyset (cursor) pagination: the API's one style for its large lists.

A page is read *after* the last row of the page before, by the list's own ordering: the next
link carries that row's ordering values in an opaque ``cursor``, and the next page is
``WHERE (a, b, pk) > (…) ORDER BY a, b, pk LIMIT 51``. With an index that matches the ordering,
the last page of 50,000 rows costs what the first does; page numbers made the database count
every row for ``count`` and then read and discard every row before the page (the last page of
the goals API was 100 times the first).

A list paginated this way answers ``{"next": <url or null>, "results": [...]}``: clients follow
``next`` until it is null. There is no ``count`` (the cost this removes) and no page numbers.

The ordering is the queryset's ``order_by``; it must end with the primary key (so that no two
rows share a position) and name no nullable column (a row comparison with NULL matches nothing).
The cursor only narrows the view's queryset, which is already scoped to what the caller may
see: a forged cursor can skip rows, never reveal one.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Field, Model, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

INVALID_CURSOR = "Not a cursor this list gave: start from the list without one and follow its `next` links."


class Key:
    """One term of a list's ordering: the lookup path, its direction, and the model field behind it."""

    def __init__(self, model: type[Model], term: str) -> None:
        self.descending = term.startswith("-")
        self.path = term.lstrip("-")
        self.field = _field_at(model, self.path)
        if self.field.null:
            raise ImproperlyConfigured(f"Keyset ordering {self.path!r} of {model.__name__} is nullable.")

    def value_of(self, row: Model | dict[str, Any]) -> Any:
        if isinstance(row, dict):  # a values() row: keyed by the path, the primary key by its column
            return row[self.field.attname if self.path == "pk" else self.path]
        value: Any = row
        for part in self.path.split("__"):
            value = value.pk if part == "pk" else getattr(value, part)
        return value


def _field_at(model: type[Model], path: str) -> Field:
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model  # type: ignore[assignment]
    last = parts[-1]
    return model._meta.pk if last == "pk" else model._meta.get_field(last)  # type: ignore[return-value]


def keys_of(queryset: QuerySet) -> list[Key]:  # type: ignore[type-arg]
    ordering = [str(term) for term in queryset.query.order_by]
    if not ordering or ordering[-1].lstrip("-") not in ("pk", "id"):
        raise ImproperlyConfigured(f"A keyset-paginated list must be ordered by columns ending with pk: {ordering}")
    return [Key(queryset.model, term) for term in ordering]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: list[Key]) -> list[Any]:
    """The ordering values a cursor carries, each as its column's Python type; 400 if it is not one."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(cursor)
        parsed = [key.field.to_python(value) for key, value in zip(keys, values, strict=True)]
        # Only what encode_cursor writes: each value as its column's type writes it, none null.
        if any(value is None for value in parsed) or [_plain(value) for value in parsed] != values:
            raise ValueError(cursor)
        # A NUL or a number past 64 bits: values the database cannot hold answer 400, not 500.
        for value in parsed:
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(cursor)
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise ValueError(cursor)
        return parsed
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, DjangoValidationError, RecursionError):
        raise ValidationError({"cursor": [INVALID_CURSOR]}) from None


def after(keys: list[Key], values: list[Any]) -> Q | TupleGreaterThan | TupleLessThan:
    """The rows that come after ``values`` in the ordering ``keys``.

    One direction throughout: a row comparison, ``(a, b, pk) > (x, y, z)``, which PostgreSQL
    answers as a range scan of the index on (a, b, pk). Mixed directions: the same condition
    spelt out, ``a > x OR (a = x AND (b > y OR …))``.
    """
    if len({key.descending for key in keys}) == 1:
        lookup = TupleLessThan if keys[0].descending else TupleGreaterThan
        return lookup(Tuple(*(F(key.path) for key in keys)), tuple(values))
    condition = Q()
    for key, value in reversed(list(zip(keys, values, strict=True))):
        beyond = Q(**{f"{key.path}__{'lt' if key.descending else 'gt'}": value})
        condition = beyond if not condition else beyond | (Q(**{key.path: value}) & condition)
    return condition


def cursor_after(queryset: QuerySet, position: int) -> str:  # type: ignore[type-arg]
    """The cursor of the page that starts after the first ``position`` rows of ``queryset`` (empty for
    the first page): for a benchmark or a test that wants a deep page without walking to it."""
    if position <= 0:
        return ""
    keys = keys_of(queryset)
    row = queryset[position - 1]
    return encode_cursor([key.value_of(row) for key in keys])


class KeysetPagination(BasePagination):
    """Pages of ``page_size`` rows in the queryset's order, each after the cursor of the last."""

    page_size = 50
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any]:  # type: ignore[type-arg]
        self.request = request
        keys = keys_of(queryset)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(after(keys, decode_cursor(cursor, keys)))
        # One row more than the page tells whether there is a next page, without counting.
        rows = list(queryset[: self.page_size + 1])
        page = rows[: self.page_size]
        more = len(rows) > self.page_size
        self.next_cursor = encode_cursor([key.value_of(page[-1]) for key in keys]) if more else None
        return page

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (this list with a `cursor`); null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "Where the page starts: take it from the `next` link of the page before (the first page "
                    "has none). Pages hold up to 50 rows; the list has no page numbers and no count."
                ),
                "schema": {"type": "string"},
            }
        ]

"""Bulk writes at COPY speed, for generated data (people.demo, cascade.demo) and large imports.

On PostgreSQL rows go in with COPY, several times faster than bulk_create's INSERTs at hundreds
of thousands of rows; elsewhere (SQLite in development and tests) these fall back to
bulk_create. Like bulk_create they send no signals, run no save() and validate nothing: the
caller has checked its rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.utils import timezone

# bulk_create's batch where COPY is not available.
BATCH_SIZE = 1000
# Rows per COPY statement: enough to amortise the round trip, small enough to keep the text in memory small.
COPY_CHUNK = 20_000


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` primary keys for new rows of ``model``, drawn from its sequence up front, so that
    rows can point at each other (a manager, a path) before any of them is written. PostgreSQL only."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy_text(value: object) -> str:
    """A value as COPY's text format spells it."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy(model: type[models.Model], columns: Sequence[str], lines: Iterable[str]) -> None:
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == COPY_CHUNK:
                # The driver's cursor: Django's wrapper has no COPY.
                cursor.cursor.copy_expert(sql, io.StringIO("\n".join(chunk) + "\n"))
                chunk = []
        if chunk:
            cursor.cursor.copy_expert(sql, io.StringIO("\n".join(chunk) + "\n"))


def copy_values(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert rows given as tuples of ``columns`` (attnames: ``owner_id``, not ``owner``); every
    other field takes its default, the same for every row (auto_now fields one timestamp), and an
    automatic primary key its sequence's next value. With PostgreSQL's COPY, without building a
    model instance a row, which is most of the cost at half a million goals; elsewhere bulk_create.
    Like bulk_create: no signals, no save(), no validation."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        return len(model.objects.bulk_create(objs, batch_size=BATCH_SIZE))
    given = set(columns)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    rest = [f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key]
    now = timezone.now()
    fixed = []
    for f in rest:
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        fixed.append(_copy_text(json.dumps(value, cls=f.encoder) if isinstance(f, models.JSONField) else value))
    tail = "".join("\t" + text for text in fixed)
    names = [connection.ops.quote_name(by_attname[c].column) for c in columns]
    names += [connection.ops.quote_name(f.column) for f in rest]
    _copy(model, names, ("\t".join(map(_copy_text, row)) + tail for row in rows))
    return len(rows)


def copy_in(model: type[models.Model], objs: Iterable[models.Model]) -> int:
    """Insert unsaved ``objs`` with PostgreSQL's COPY (``copy_values`` of every field as the
    objects hold it; auto_now fields one timestamp for the lot); elsewhere bulk_create. Either
    every object has its primary key set (``reserve_ids``) or none has."""
    objs = list(objs)
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        return len(model.objects.bulk_create(objs, batch_size=BATCH_SIZE))
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and objs[0].pk is None)]
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, getattr(obj, f.attname) or now)
    json_fields = {f.attname: f.encoder for f in fields if isinstance(f, models.JSONField)}
    attnames = [f.attname for f in fields]

    def row(obj: models.Model) -> list[object]:
        values = [getattr(obj, name) for name in attnames]
        for index, name in enumerate(attnames):
            if name in json_fields:
                values[index] = json.dumps(values[index], cls=json_fields[name])
        return values

    return copy_values(model, attnames, (row(obj) for obj in objs))


def set_values(model: type[models.Model], attname: str, values: dict[int, object]) -> int:
    """Set one column of many rows, ``{primary key: value}``. On PostgreSQL one UPDATE joined to
    the values as arrays: bulk_update's CASE of a thousand WHENs per batch costs the square of the
    batch, minutes for 100,000 rows; elsewhere bulk_update."""
    if not values:
        return 0
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    if connection.vendor != "postgresql":
        objs = [model(**{model._meta.pk.attname: pk, attname: value}) for pk, value in values.items()]
        return model.objects.bulk_update(objs, [field.name], batch_size=BATCH_SIZE)
    quote = connection.ops.quote_name
    pk = model._meta.pk
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {quote(field.column)} = v.value "
        f"FROM unnest(%s::{pk.rel_db_type(connection)}[], %s::{field.db_type(connection)}[]) AS v(key, value) "
        f"WHERE t.{quote(pk.column)} = v.key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(values), list(values.values())])
        return cursor.rowcount


def give_ids(objs: Sequence[models.Model]) -> None:
    """On PostgreSQL, set the primary keys of unsaved ``objs`` (all of one model) from its
    sequence (``reserve_ids``), so that copy_in writes them and rows can point at them before
    they are written; elsewhere nothing: bulk_create sets them as it inserts."""
    if objs and connection.vendor == "postgresql":
        for obj, pk in zip(objs, reserve_ids(type(objs[0]), len(objs)), strict=True):
            obj.pk = pk


def insert_new(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """Insert rows given as tuples of ``columns`` (attnames; every other field its default, the
    same for every row, as copy_values), skipping any a unique constraint already holds, as
    ``bulk_create(ignore_conflicts=True)`` does; returns how many were inserted. On PostgreSQL one
    ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`` per batch, with no model instance
    per row; elsewhere bulk_create."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        return len(model.objects.bulk_create(objs, batch_size=BATCH_SIZE, ignore_conflicts=True))
    quote = connection.ops.quote_name
    given = set(columns)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    rest = [f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key]
    now = timezone.now()
    constants: list[object] = []
    selected = []
    for f in rest:
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        if isinstance(f, models.JSONField):
            value = json.dumps(value, cls=f.encoder)
        constants.append(value)
        selected.append(f"%s::{f.db_type(connection)}")
    arrays = ", ".join(f"%s::{by_attname[c].db_type(connection)}[]" for c in columns)
    names = ", ".join(quote(by_attname[c].column) for c in columns)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}{''.join(', ' + quote(f.column) for f in rest)}) "
        f"SELECT v.*{''.join(', ' + s for s in selected)} FROM unnest({arrays}) AS v "
        "ON CONFLICT DO NOTHING"
    )
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), COPY_CHUNK):
            chunk = rows[start : start + COPY_CHUNK]
            cursor.execute(sql, [*constants, *([row[i] for row in chunk] for i in range(len(columns)))])
            inserted += cursor.rowcount
    return inserted

"""The goals API's rows, read as plain values: GoalSerializer's JSON, without its per-row cost.

A page of 50 goals through GoalSerializer joined nine tables (goal, its priority, parent goal,
department, owner, period, measure and two people): PostgreSQL spent about 100 ms *planning* that
join for under 1 ms of execution, and DRF built a serializer per row for the line of sight. Here
the goals are read alone (``.values()`` of their own columns, off the list's index), the rows they
name in one more query (a union of one small read per kind), and each field is rendered by GoalSerializer's own
field, so that numbers, dates and choices come out exactly as the serializer writes them
(tests/cascade/test_api_rows.py holds the two to the same output).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.fields import Field

from cascade.api.serializers import GoalSerializer
from cascade.models import Goal, GoalPeriod, QualityMeasure, QualityPriority
from people.models import Department, Employee


def _own_columns() -> tuple[str, ...]:
    """GoalSerializer's fields that are the goal's own columns (no relation, no computed field), in its
    order: read from the serializer, so that a field added there is read here too."""
    model_fields = {field.name: field for field in Goal._meta.get_fields()}
    return tuple(
        name for name in GoalSerializer.Meta.fields if name in model_fields and not model_fields[name].is_relation
    )


OWN = _own_columns()
PEOPLE = ("owner_id", "close_requested_by_id", "result_signed_off_by_id")
COLUMNS = (*OWN, "priority_id", "parent_goal_id", "department_id", "period_id", "measure_id", *PEOPLE)


@cache
def _fields() -> dict[str, Field]:
    """GoalSerializer's bound fields, built once (a serializer deep-copies its fields when made)."""
    return dict(GoalSerializer().fields)


@cache
def _converted() -> tuple[tuple[str, Field], ...]:
    """The goal's own columns whose JSON differs from the value read (dates, times, decimals):
    text, whole numbers, booleans and choices are written as they are read."""
    same = (serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.ChoiceField)
    return tuple((name, field) for name, field in _fields().items() if name in OWN and not isinstance(field, same))


def goal_values(queryset: QuerySet[Goal]) -> QuerySet[Goal]:
    """The goals of ``queryset`` (its filters and order kept) as dicts of the columns the rows need."""
    return queryset.select_related(None).prefetch_related(None).values(*COLUMNS)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _branches() -> list[tuple[str, str, tuple[str, ...]]]:
    """(kind, SELECT … WHERE … IN ({ids}), which goal columns hold the ids): one per kind of row a
    goal names, each (kind, id, label, number, other). Plain SQL: composing these seven through the
    ORM cost more Python than the rest of the page. NULLs are typed, since PostgreSQL types a
    union's columns pair by pair and two bare NULLs make text."""
    number, other = "CAST(NULL AS NUMERIC)", "CAST(NULL AS BIGINT)"
    through = _table(Goal.contributing_departments.through)
    department = _table(Department)

    def simple(kind: str, model: type[Model], label: str, value: str, columns: tuple[str, ...]):  # type: ignore[no-untyped-def]
        table = _table(model)
        return kind, f"SELECT '{kind}', id, {label}, {value}, {other} FROM {table} WHERE id IN ({{ids}})", columns

    return [
        (
            "contributing",
            f"SELECT 'contributing', t.goal_id, d.name, {number}, t.department_id FROM {through} t "
            f"JOIN {department} d ON d.id = t.department_id WHERE t.goal_id IN ({{ids}})",
            ("id",),
        ),
        simple("department", Department, "name", number, ("department_id",)),
        simple("priority", QualityPriority, "title", "progress", ("priority_id",)),
        simple("parent", Goal, "title", "progress", ("parent_goal_id",)),
        simple("person", Employee, "full_name", number, PEOPLE),
        simple("period", GoalPeriod, "name", number, ("period_id",)),
        simple("measure", QualityMeasure, "name", number, ("measure_id",)),
    ]


def _referenced(goals: list[dict[str, Any]]) -> dict[str, dict[int, Any]]:
    """Every row the goals name, in one query (a UNION ALL of one small indexed read per kind):
    each query costs a round trip, and the join of them all cost more to plan than to run."""
    parts, params = [], []
    for _kind, sql, columns in _branches():
        ids = sorted({g[c] for g in goals for c in columns if g[c] is not None})
        if ids:
            parts.append(sql.format(ids=", ".join(["%s"] * len(ids))))
            params += ids
    found: dict[str, dict[int, Any]] = {
        kind: {} for kind in ("department", "priority", "parent", "person", "period", "measure")
    }
    contributing: dict[int, list[tuple[str, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for kind, pk, label, value, department_id in cursor.fetchall():
            if kind == "contributing":
                contributing.setdefault(pk, []).append((label, department_id))
            else:
                found[kind][pk] = (label, value)
    # As the serializer lists them: by the department's name (Department's ordering).
    found["contributing"] = {goal: sorted(listed) for goal, listed in contributing.items()}
    return found


def goal_rows(goals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GoalSerializer's representation of each goal (dicts from ``goal_values``), with one query
    for every row they name (priorities, parent goals, departments, people, periods, measures)."""
    if not goals:
        return []
    progress = _fields()["progress"]
    converted = _converted()
    found = _referenced(goals)
    people = found["person"]

    def ref(kind: str, pk: int | None, label: str) -> dict[str, Any] | None:
        return None if pk is None else {"id": pk, label: found[kind][pk][0]}

    def person(pk: int | None) -> dict[str, Any] | None:
        return None if pk is None else {"id": pk, "name": people[pk][0]}

    def step(kind: str, pk: int | None) -> dict[str, Any] | None:
        if pk is None:
            return None
        title, number = found[kind][pk]
        return {"id": pk, "title": title, "progress": progress.to_representation(number)}

    rows = []
    for goal in goals:
        own = dict(goal)
        for name, field in converted:
            if own[name] is not None:
                own[name] = field.to_representation(own[name])
        rows.append(
            {
                "id": own["id"],
                "level": own["level"],
                "title": own["title"],
                "description": own["description"],
                "priority": ref("priority", goal["priority_id"], "title"),
                "parent_goal": ref("parent", goal["parent_goal_id"], "title"),
                "department": ref("department", goal["department_id"], "name"),
                "owner": person(goal["owner_id"]),
                "contributing_departments": [
                    {"id": pk, "name": name} for name, pk in found["contributing"].get(goal["id"], [])
                ],
                "period": ref("period", goal["period_id"], "name"),
                "weight": own["weight"],
                "kind": own["kind"],
                "measure": ref("measure", goal["measure_id"], "name"),
                "baseline": own["baseline"],
                "target": own["target"],
                "progress_mode": own["progress_mode"],
                "progress": own["progress"],
                "approval": own["approval"],
                "status": own["status"],
                "due_date": own["due_date"],
                "improvement_hours_per_month": own["improvement_hours_per_month"],
                "line_of_sight": {
                    "department_goal": step("parent", goal["parent_goal_id"]),
                    "priority": step("priority", goal["priority_id"]),
                },
                "approved_at": own["approved_at"],
                "cancel_requested_at": own["cancel_requested_at"],
                "cancel_reason": own["cancel_reason"],
                "close_requested_at": own["close_requested_at"],
                "close_requested_by": person(goal["close_requested_by_id"]),
                "close_proposed_status": own["close_proposed_status"],
                "close_comment": own["close_comment"],
                "result_signed_off_at": own["result_signed_off_at"],
                "result_signed_off_by": person(goal["result_signed_off_by_id"]),
                "result_by_measure": own["result_by_measure"],
                "created_at": own["created_at"],
                "updated_at": own["updated_at"],
                "version": own["version"],
            }
        )
    return rows

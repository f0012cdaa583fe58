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

from django.db.models import BigIntegerField, CharField, DecimalField, F, QuerySet, Value
from django.db.models.functions import Cast
from rest_framework.fields import Field

from cascade.api.serializers import GoalSerializer
from cascade.models import Goal, GoalPeriod, QualityMeasure, QualityPriority
from people.models import Department, Employee

# GoalSerializer's fields that are the goal's own columns, rendered by the serializer's field.
OWN = (
    "id",
    "level",
    "title",
    "description",
    "weight",
    "kind",
    "baseline",
    "target",
    "progress_mode",
    "progress",
    "approval",
    "status",
    "due_date",
    "improvement_hours_per_month",
    "approved_at",
    "cancel_requested_at",
    "cancel_reason",
    "close_requested_at",
    "close_proposed_status",
    "close_comment",
    "result_signed_off_at",
    "result_by_measure",
    "created_at",
    "updated_at",
    "version",
)
PEOPLE = ("owner_id", "close_requested_by_id", "result_signed_off_by_id")
COLUMNS = (*OWN, "priority_id", "parent_goal_id", "department_id", "period_id", "measure_id", *PEOPLE)


@cache
def _fields() -> dict[str, Field]:
    """GoalSerializer's bound fields, built once (a serializer deep-copies its fields when made)."""
    return dict(GoalSerializer().fields)


def goal_values(queryset: QuerySet[Goal]) -> QuerySet[Goal]:
    """The goals of ``queryset`` (its filters and order kept) as dicts of the columns the rows need."""
    return queryset.select_related(None).prefetch_related(None).values(*COLUMNS)


def _branch(queryset: QuerySet, kind: str, label: str, number: str | None = None, other: str | None = None) -> QuerySet:  # type: ignore[type-arg]
    """One kind of referenced row as (kind, id, label, number, other), for the union below."""
    return (
        queryset.order_by()
        .annotate(
            row_kind=Value(kind, output_field=CharField()),
            row_id=F("pk") if other is None else F("goal_id"),
            row_label=F(label),
            # Typed NULLs: PostgreSQL types a union's columns pair by pair, and two bare NULLs make text.
            row_number=F(number) if number else Cast(Value(None), DecimalField(max_digits=5, decimal_places=2)),
            row_other=F(other) if other else Cast(Value(None), BigIntegerField()),
        )
        .values_list("row_kind", "row_id", "row_label", "row_number", "row_other")
    )


def _referenced(goals: list[dict[str, Any]]) -> dict[str, dict[int, Any]]:
    """Every row the goals name, in one query (a UNION ALL of one small indexed read per kind):
    each query costs a round trip, and the join of them all cost more to plan than to run."""

    def ids(*columns: str) -> set[int]:
        return {g[c] for g in goals for c in columns if g[c] is not None}

    Contributing = Goal.contributing_departments.through
    branches = [
        _branch(
            Contributing.objects.filter(goal_id__in=ids("id")),
            "contributing",
            "department__name",
            other="department_id",
        ),
        _branch(Department.objects.filter(pk__in=ids("department_id")), "department", "name"),
        _branch(QualityPriority.objects.filter(pk__in=ids("priority_id")), "priority", "title", "progress"),
        _branch(Goal.objects.filter(pk__in=ids("parent_goal_id")), "parent", "title", "progress"),
        _branch(Employee.objects.filter(pk__in=ids(*PEOPLE)), "person", "full_name"),
        _branch(GoalPeriod.objects.filter(pk__in=ids("period_id")), "period", "name"),
        _branch(QualityMeasure.objects.filter(pk__in=ids("measure_id")), "measure", "name"),
    ]
    found: dict[str, dict[int, Any]] = {
        kind: {} for kind in ("department", "priority", "parent", "person", "period", "measure")
    }
    contributing: dict[int, list[tuple[str, int]]] = {}
    for kind, pk, label, number, other in branches[0].union(*branches[1:], all=True):
        if kind == "contributing":
            contributing.setdefault(pk, []).append((label, other))
        else:
            found[kind][pk] = (label, number)
    # As the serializer lists them: by the department's name (Department's ordering).
    found["contributing"] = {goal: sorted(listed) for goal, listed in contributing.items()}
    return found


def goal_rows(goals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GoalSerializer's representation of each goal (dicts from ``goal_values``), with one query
    for every row they name (priorities, parent goals, departments, people, periods, measures)."""
    if not goals:
        return []
    fields = _fields()
    progress = fields["progress"]
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
        own = {name: None if goal[name] is None else fields[name].to_representation(goal[name]) for name in OWN}
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

"""The goals API's list writes each goal exactly as GoalSerializer does (cascade.api.rows reads
them as plain values, for speed), in a fixed number of queries however long the page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from cascade.api.rows import goal_rows, goal_values
from cascade.api.serializers import GoalSerializer
from cascade.models import Goal, GoalStatus, ProgressMode
from tests.cascade.factories import GoalFactory, QualityMeasureFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory

API = "/api/v1"


def as_json(data) -> list[dict]:  # type: ignore[no-untyped-def]
    import json

    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def varied_goals(cast) -> list[Goal]:
    priority = QualityPriorityFactory(title="Safer medicines")
    measure = QualityMeasureFactory(priority=priority, name="Dose errors")
    ward = GoalFactory(
        priority=priority,
        department=cast.employee.department,
        title="Ward goal",
        progress=Decimal("12.5"),
        contributing_departments=[DepartmentFactory(name="Theatres"), DepartmentFactory(name="Pharmacy B")],
    )
    now = timezone.now()
    return [
        ward,
        GoalFactory(
            owner=cast.employee,
            parent_goal=ward,
            title="Measured goal",
            measure=measure,
            progress_mode=ProgressMode.MEASURE,
            baseline=Decimal("4.5"),
            target=Decimal("1.25"),
            due_date=datetime.date(2026, 6, 30),
            improvement_hours_per_month=Decimal("3.5"),
            close_requested_at=now,
            close_requested_by=cast.employee,
            close_proposed_status=GoalStatus.ACHIEVED,
            close_comment="Done",
        ),
        GoalFactory(
            owner=cast.manager,
            title="Signed off",
            status=GoalStatus.ACHIEVED,
            result_signed_off_at=now,
            result_signed_off_by=cast.hr,
            approved_at=now,
        ),
        GoalFactory(owner=cast.stranger, title="Plain"),
    ]


def test_rows_are_what_the_serializer_writes(varied_goals):
    expected = as_json(
        GoalSerializer(Goal.objects.filter(pk__in=[g.pk for g in varied_goals]).order_by("pk"), many=True).data
    )

    values = {row["id"]: row for row in goal_values(Goal.objects.all())}
    rows = as_json(goal_rows([values[g.pk] for g in sorted(varied_goals, key=lambda g: g.pk)]))

    assert rows == expected
    assert [d["name"] for d in rows[0]["contributing_departments"]] == ["Pharmacy B", "Theatres"]


def test_the_list_reads_a_fixed_number_of_queries(cast, varied_goals, api_client_for):
    client = api_client_for(cast.hr)
    client.get(f"{API}/goals/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/goals/")
    for n in range(30):
        GoalFactory(
            owner=cast.employee, parent_goal=varied_goals[0], title=f"More {n}", measure=varied_goals[1].measure
        )

    with CaptureQueriesContext(connection) as many:
        body = client.get(f"{API}/goals/").json()

    assert len(body["results"]) == 34
    assert len(many) == len(few) <= 12

"""core.api.PlainListSerializer: the API lists that use it answer exactly what DRF's own list
serializer writes for the same records, read whole, and their queries do not grow with the page."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from appraisals.access import appraisals_visible_to
from appraisals.api.serializers import AppraisalSerializer
from appraisals.models import Appraisal
from cascade.api.serializers import GoalUpdateSerializer
from cascade.models import GoalUpdate
from people.api.serializers import EmployeeSerializer
from people.models import Employee
from people.selectors import with_is_manager
from tests.appraisals.factories import appraisal_scenario
from tests.cascade.factories import GoalFactory
from tests.factories import EmployeeFactory

API = "/api/v1"


def drf_list(serializer_class, records, person: Employee) -> list[dict]:  # type: ignore[no-untyped-def]
    request = Request(APIRequestFactory().get("/"))
    request.user = person.user
    child = serializer_class(context={"request": request})
    plain = serializers.ListSerializer(child=child, context={"request": request}).to_representation(list(records))
    return json.loads(JSONRenderer().render(plain))


@pytest.fixture
def scored(cast):  # type: ignore[no-untyped-def]
    """Two appraisals: the employee's, scored but not shared, and a colleague's, scored and shared."""
    mine = appraisal_scenario(employee=cast.employee)
    theirs = appraisal_scenario(employee=EmployeeFactory(manager=cast.manager, department=cast.employee.department))
    Appraisal.objects.filter(pk=mine.appraisal.pk).update(score=Decimal("3.25"))
    Appraisal.objects.filter(pk=theirs.appraisal.pk).update(score=Decimal("4.5"), shared_at=timezone.now())
    return mine, theirs


@pytest.mark.parametrize("who", ["employee", "manager", "hr"])
def test_the_appraisal_list_is_what_drf_writes(cast, scored, api_client_for, who):
    person = getattr(cast, who)

    listed = api_client_for(person).get(f"{API}/appraisals/").json()["results"]

    assert listed == drf_list(AppraisalSerializer, appraisals_visible_to(person.user).order_by("-pk"), person)
    assert listed
    if who == "employee":  # the score stays hidden until shared (appraisals.access)
        assert [row["score"] for row in listed] == [None]


def test_the_employee_list_is_what_drf_writes(cast, api_client_for):
    listed = api_client_for(cast.hr).get(f"{API}/employees/").json()["results"]

    records = with_is_manager(Employee.objects.select_related("department", "manager", "user")).order_by(
        "full_name", "pk"
    )
    assert listed == drf_list(EmployeeSerializer, records, cast.hr)
    assert any(row["is_manager"] for row in listed) and any(row["roles"] for row in listed)


def test_the_progress_update_list_is_what_drf_writes(cast, api_client_for):
    goal = GoalFactory(owner=cast.employee)
    for percent in ("10.00", "20.50"):
        GoalUpdate.objects.create(
            goal=goal,
            author=cast.employee,
            percent=Decimal(percent),
            progress_after=Decimal(percent),
            comment="On track",
        )

    listed = api_client_for(cast.manager).get(f"{API}/goal-updates/").json()["results"]

    records = GoalUpdate.objects.select_related("goal", "author").order_by("-created_at", "-pk")
    assert listed == drf_list(GoalUpdateSerializer, records, cast.manager)
    assert [row["percent"] for row in listed] == ["20.50", "10.00"]


def test_a_longer_appraisal_page_reads_no_more_queries(cast, scored, api_client_for):
    client = api_client_for(cast.hr)
    client.get(f"{API}/appraisals/")
    with CaptureQueriesContext(connection) as two:
        client.get(f"{API}/appraisals/")
    for _ in range(3):
        appraisal_scenario(employee=EmployeeFactory(manager=cast.manager))

    with CaptureQueriesContext(connection) as five:
        assert len(client.get(f"{API}/appraisals/").json()["results"]) == 5

    assert len(five) == len(two)

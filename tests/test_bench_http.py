"""The HTTP bench's yardstick and arithmetic (bench/bare.py, bench/http.py): what its ratios rest on."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bench.http import Run, ratio
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.urls("bench.urls")


def test_bare_view_lists_ten_departments_to_a_signed_in_person(cast):
    for number in range(12):
        DepartmentFactory(name=f"Bench ward {number:02d}")
    client = APIClient()
    client.force_login(cast.employee.user)

    response = client.get("/bench/bare/")

    assert response.status_code == 200
    assert len(response.json()) == 10
    assert {"id", "name", "parent"} == set(response.json()[0])


def test_bare_view_refuses_anonymous_callers(db):
    assert APIClient().get("/bench/bare/").status_code in {401, 403}


def test_app_pages_are_still_served_beside_the_bare_view(cast, client_for):
    assert client_for(cast.employee).get("/").status_code == 200


def test_ratio_divides_by_the_mean_of_the_neighbouring_bare_runs():
    assert ratio(30.0, [50.0, 70.0]) == 0.5
    assert ratio(1.0, [3.0]) == 0.333


def test_percentiles_and_rate_of_a_run():
    run = Run(seconds=2.0, latencies=[n / 100 for n in range(1, 101)])

    assert run.rps == 50
    assert run.percentile(0.5) == 0.5
    assert run.percentile(0.95) == 0.95

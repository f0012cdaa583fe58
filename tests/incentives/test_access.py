"""One access policy for incentives (incentives/access.py), answered alike by the pages and the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from incentives.models.recognition import PathwayCandidate
from incentives.services import pathways as pathway_service
from incentives.services import recognition as recognition_service

pytestmark = pytest.mark.django_db

APP = Path(__file__).resolve().parents[2] / "incentives"


def test_only_access_py_asks_who_is_hr():
    """Views, API, selectors and services ask incentives/access.py; none re-derives a role."""
    offenders = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if path.name != "access.py" and re.search(r"is_hr_admin|_require_hr\b", path.read_text())
    ]
    assert offenders == []


@pytest.fixture
def candidate(cast) -> PathwayCandidate:
    pathway_service.save_pathway(user=cast.hr.user, data={"name": "Quality Champion", "min_recognitions": 1})
    recognition_service.post_recognition(
        user=cast.stranger.user, recipients=[cast.employee], message="Thanks", send_email=False
    )
    [found] = pathway_service.find_candidates()
    return found


def test_a_plan_is_404_and_the_plan_list_403_on_the_page_and_in_the_api(world, client_for, api_client_for):
    cast, cycle, plan = world
    for person in (cast.employee, cast.manager, cast.stranger):
        page, api = client_for(person), api_client_for(person)
        assert page.get(reverse("incentives:plan_detail", args=[plan.pk])).status_code == 404
        assert api.get(f"/api/v1/incentive-plans/{plan.pk}/").status_code == 404
        assert page.get(reverse("incentives:plan_list")).status_code == 403
        assert api.get("/api/v1/incentive-plans/").status_code == 403
        assert page.get(reverse("incentives:plan_create")).status_code == 403
        assert api.post("/api/v1/incentive-plans/", {"cycle": cycle.pk, "name": "x"}, format="json").status_code == 403


def test_pathway_set_up_and_candidates_answer_alike_on_the_page_and_in_the_api(
    cast, candidate, client_for, api_client_for
):
    pathway = candidate.pathway
    for person in (cast.employee, cast.manager, cast.stranger):
        page, api = client_for(person), api_client_for(person)
        # "New pathway" is HR's set-up: 403 alike.
        assert page.get(reverse("incentives:pathway_create")).status_code == 403
        assert api.post("/api/v1/pathways/", {"name": "x", "min_recognitions": 1}, format="json").status_code == 403
        # One pathway's set-up and its candidates are outside their scope: 404 alike.
        assert page.get(reverse("incentives:pathway_edit", args=[pathway.pk])).status_code == 404
        assert api.patch(f"/api/v1/pathways/{pathway.pk}/", {"min_recognitions": 2}, format="json").status_code == 404
        assert page.post(reverse("incentives:candidate_confirm", args=[candidate.pk])).status_code == 404
        assert api.get(f"/api/v1/pathways/{pathway.pk}/candidates/").status_code == 404
        assert (
            api.post(f"/api/v1/pathways/{pathway.pk}/confirm/", {"candidate": candidate.pk}, format="json").status_code
            == 404
        )
        # The pathway itself is everyone's to read.
        assert page.get(reverse("incentives:pathway_detail", args=[pathway.pk])).status_code == 200
        assert api.get(f"/api/v1/pathways/{pathway.pk}/").status_code == 200
    candidate.refresh_from_db()
    assert candidate.status == "pending"

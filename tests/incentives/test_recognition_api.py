"""The `recognitions` and `pathways` resources: scope, filters, writes and permissions for the four kinds of user.

The module is its own URLconf (the two resources on a router of their own), so
that it does not depend on how the project's router is wired.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import include, path
from rest_framework.routers import DefaultRouter
from rest_framework.test import APIClient

from incentives.api import recognition as recognition_api
from incentives.models import CandidateStatus, Pathway, PathwayCandidate, Recognition
from incentives.services import pathways as pathway_service
from incentives.services import recognition as recognition_service
from tests.appraisals.factories import CompetencyFactory
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory

router = DefaultRouter()
recognition_api.register(router)
urlpatterns = [path("api/v1/", include(router.urls))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

RECOGNITIONS, PATHWAYS = "/api/v1/recognitions/", "/api/v1/pathways/"


# ---------------------------------------------------------------- recognitions


def test_anyone_signed_in_posts_thanks_and_everyone_reads_the_feed(cast, api_client_for):
    goal = FunctionalGoalFactory()
    response = api_client_for(cast.stranger).post(
        RECOGNITIONS, {"recipients": [cast.employee.pk], "goal": goal.pk, "message": "Thanks!"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.data["recipients"] == [{"id": cast.employee.pk, "name": cast.employee.full_name}]
    assert response.data["priority"]["id"] == goal.priority_id
    for person in (cast.employee, cast.manager, cast.stranger, cast.hr):
        listing = api_client_for(person).get(RECOGNITIONS)
        assert [row["id"] for row in listing.data["results"]] == [response.data["id"]]


def test_the_feed_filters_by_department_priority_and_person(cast, api_client_for):
    goal = FunctionalGoalFactory()
    to_employee = recognition_service.post_recognition(
        user=cast.stranger.user, recipients=[cast.employee], goal=goal.pk, message="a"
    )
    to_stranger = recognition_service.post_recognition(user=cast.employee.user, recipients=[cast.stranger], message="b")
    client = api_client_for(cast.manager)

    def ids(**params):
        return [row["id"] for row in client.get(RECOGNITIONS, params).data["results"]]

    assert ids(department=cast.stranger.department_id) == [to_stranger.pk]
    assert ids(priority=goal.priority_id) == [to_employee.pk]
    assert ids(person=cast.employee.pk) == [to_employee.pk]
    assert client.get(RECOGNITIONS, {"person": "x"}).status_code == 400


def test_linking_a_goal_the_author_cannot_see_answers_400(cast, api_client_for):
    private = IndividualGoalFactory(owner=cast.employee)
    response = api_client_for(cast.stranger).post(
        RECOGNITIONS, {"recipients": [cast.employee.pk], "goal": private.pk, "message": "Thanks"}, format="json"
    )
    assert response.status_code == 400 and "goal" in response.data
    assert not Recognition.objects.exists()


def test_unknown_fields_and_anonymous_users_are_refused(cast, api_client_for):
    response = api_client_for(cast.employee).post(
        RECOGNITIONS, {"recipients": [cast.stranger.pk], "message": "x", "author": cast.hr.pk}, format="json"
    )
    assert response.status_code == 400 and "author" in response.data
    assert APIClient().get(RECOGNITIONS).status_code in (401, 403)


def test_only_hr_hides_a_post_with_a_reason_and_then_only_hr_and_the_author_see_it(cast, api_client_for):
    post = recognition_service.post_recognition(user=cast.employee.user, recipients=[cast.stranger], message="x")
    url = f"{RECOGNITIONS}{post.pk}/hide/"
    for person in (cast.employee, cast.manager, cast.stranger):
        assert api_client_for(person).post(url, {"reason": "no"}, format="json").status_code == 403
    assert api_client_for(cast.hr).post(url, {}, format="json").status_code == 400
    response = api_client_for(cast.hr).post(url, {"reason": "Names a patient."}, format="json")
    assert response.status_code == 200 and response.data["is_hidden"]
    assert response.data["hidden_reason"] == "Names a patient."
    for person in (cast.hr, cast.employee):
        assert api_client_for(person).get(f"{RECOGNITIONS}{post.pk}/").status_code == 200
    for person in (cast.manager, cast.stranger, cast.chief):
        assert api_client_for(person).get(f"{RECOGNITIONS}{post.pk}/").status_code == 404
        assert api_client_for(person).get(RECOGNITIONS).data["results"] == []
        assert api_client_for(person).post(url, {"reason": "again"}, format="json").status_code == 404


# ---------------------------------------------------------------- pathways


def test_hr_defines_a_pathway_and_everyone_reads_it(cast, api_client_for):
    competency = CompetencyFactory()
    body = {
        "name": "Process Excellence",
        "min_achieved_goals": 2,
        "goal_cycles": 2,
        "competency_levels": [{"competency": competency.pk, "min_rating": "4"}],
    }
    for person in (cast.employee, cast.manager, cast.stranger):
        assert api_client_for(person).post(PATHWAYS, body, format="json").status_code == 403
    response = api_client_for(cast.hr).post(PATHWAYS, body, format="json")
    assert response.status_code == 201, response.data
    pk = response.data["id"]
    assert response.data["competency_levels"][0]["competency_name"] == competency.name
    for person in (cast.employee, cast.stranger):
        assert api_client_for(person).get(f"{PATHWAYS}{pk}/").data["name"] == "Process Excellence"
        # Changing one pathway is HR's set-up: outside anyone else's scope (404), as its edit page.
        assert (
            api_client_for(person).patch(f"{PATHWAYS}{pk}/", {"min_recognitions": 1}, format="json").status_code == 404
        )
        assert api_client_for(person).delete(f"{PATHWAYS}{pk}/").status_code == 404
    response = api_client_for(cast.hr).patch(f"{PATHWAYS}{pk}/", {"min_recognitions": 3}, format="json")
    assert response.status_code == 200 and response.data["min_recognitions"] == 3
    assert response.data["competency_levels"][0]["competency"] == competency.pk  # kept when not sent
    assert api_client_for(cast.hr).post(PATHWAYS, {"name": "Empty"}, format="json").status_code == 400
    assert api_client_for(cast.hr).delete(f"{PATHWAYS}{pk}/").status_code == 204
    assert api_client_for(cast.hr).get(f"{PATHWAYS}{pk}/").status_code == 404


@pytest.fixture
def pending(cast) -> PathwayCandidate:
    pathway_service.save_pathway(user=cast.hr.user, data={"name": "Quality Champion", "min_recognitions": 1})
    recognition_service.post_recognition(user=cast.stranger.user, recipients=[cast.employee], message="a")
    [candidate] = pathway_service.find_candidates()
    return candidate


def test_only_hr_lists_candidates_and_confirms(cast, pending, api_client_for):
    url = f"{PATHWAYS}{pending.pathway_id}/"
    for person in (cast.employee, cast.manager, cast.stranger):
        client = api_client_for(person)
        # Candidates are outside their scope: 404, as on the pages.
        assert client.get(f"{url}candidates/").status_code == 404
        assert client.post(f"{url}confirm/", {"candidate": pending.pk}, format="json").status_code == 404
    client = api_client_for(cast.hr)
    listing = client.get(f"{url}candidates/", {"status": "pending"})
    assert [row["employee"]["id"] for row in listing.data] == [cast.employee.pk]
    assert listing.data[0]["evidence"] == {"recognitions": 1}
    response = client.post(f"{url}confirm/", {"candidate": pending.pk}, format="json")
    assert response.status_code == 200 and response.data["status"] == CandidateStatus.AWARDED
    assert client.post(f"{url}confirm/", {"candidate": pending.pk}, format="json").status_code == 400
    feed = api_client_for(cast.stranger).get(RECOGNITIONS).data["results"]
    assert feed[0]["kind"] == "award" and feed[0]["pathway"]["name"] == "Quality Champion"


def test_hr_declines_with_a_reason(cast, pending, api_client_for):
    url = f"{PATHWAYS}{pending.pathway_id}/decline/"
    assert (
        api_client_for(cast.manager).post(url, {"candidate": pending.pk, "reason": "x"}, format="json").status_code
        == 404
    )
    client = api_client_for(cast.hr)
    assert client.post(url, {"candidate": pending.pk}, format="json").status_code == 400
    assert client.post(url, {"candidate": 999999, "reason": "x"}, format="json").status_code == 404
    response = client.post(url, {"candidate": pending.pk, "reason": "Not yet."}, format="json")
    assert response.status_code == 200 and response.data["decline_reason"] == "Not yet."
    other = Pathway.objects.create(name="Other", min_recognitions=5)
    wrong = client.post(f"{PATHWAYS}{other.pk}/confirm/", {"candidate": pending.pk}, format="json")
    assert wrong.status_code == 404


def test_the_schema_of_both_resources_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--urlconf", __name__, "--file", str(tmp_path / "schema.yml")
    )

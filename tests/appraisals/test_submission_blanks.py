"""A self-assessment or a review with ratings still blank is not submitted: the service
refuses it with a message per blank rating, the API answers 400 with those field
messages, and the page's confirm step lists what is blank before anything is sent.
Comments and evidence may stay empty (the page marks them optional)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from appraisals.models import Appraisal, AppraisalState, HistoryEntry
from appraisals.services import appraisals as svc
from tests.appraisals.factories import appraisal_scenario, fill_blank_ratings

pytestmark = pytest.mark.django_db


def user_of(employee):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(pk=employee.user_id)


def fresh(appraisal: Appraisal) -> Appraisal:
    return Appraisal.objects.select_related("participant__cycle", "participant__employee").get(pk=appraisal.pk)


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def _rate(s, employee, *, goals: dict, competencies: dict) -> Appraisal:  # type: ignore[no-untyped-def]
    """Save ratings only (no comment, no evidence), keyed by position in the scenario's goals and rows."""
    a = fresh(s.appraisal)
    return svc.appraisal_save_draft(
        user=user_of(employee),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[i].pk: {"rating": Decimal(r)} for i, r in goals.items()} or None,
        competency_ratings={s.rows[i].pk: {"rating": Decimal(r)} for i, r in competencies.items()} or None,
    )


# ---------------------------------------------------------------- the service


def test_it_refuses_a_blank_self_assessment_naming_every_blank(s, cast):
    a = fresh(s.appraisal)
    with pytest.raises(ValidationError) as refused:
        svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    errors = refused.value.message_dict
    assert "4 ratings are still blank" in errors["__all__"][0]
    assert set(errors) == {
        "__all__",
        f"goal_ratings.{s.goals[0].pk}.rating",
        f"goal_ratings.{s.goals[1].pk}.rating",
        f"competency_ratings.{s.rows[0].pk}.rating",
        f"competency_ratings.{s.rows[1].pk}.rating",
    }
    assert errors[f"goal_ratings.{s.goals[1].pk}.rating"] == [
        "Goal 2: choose a rating before you submit your self-assessment."
    ]
    a = fresh(s.appraisal)
    assert (a.state, a.self_submitted_at) == (AppraisalState.SELF_ASSESSMENT, None)
    assert not HistoryEntry.objects.filter(action="submitted the self-assessment").exists()


def test_it_lists_only_what_is_still_blank(s, cast):
    a = _rate(s, cast.employee, goals={0: 4}, competencies={1: 3})
    blanks = svc.blank_ratings(a, side="self")
    assert [(b.section, b.label) for b in blanks] == [
        ("Goals", "Goal 2"),
        ("Competencies", s.rows[0].competency.name),
    ]
    assert svc.blank_ratings(a, side="manager")  # the manager's side is a separate matter
    with pytest.raises(ValidationError, match="2 ratings are still blank"):
        svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)


def test_it_submits_every_rating_with_comments_and_evidence_left_empty(s, cast):
    a = _rate(s, cast.employee, goals={0: 4, 1: 2}, competencies={0: 3, 1: 5})
    assert svc.blank_ratings(a, side="self") == []
    a = svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    assert a.state == AppraisalState.MANAGER_REVIEW


def test_it_refuses_a_review_with_blank_ratings(s, cast):
    a = _rate(s, cast.employee, goals={0: 4, 1: 2}, competencies={0: 3, 1: 5})
    svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    a = _rate(s, cast.manager, goals={0: 4, 1: 3}, competencies={0: 2})
    with pytest.raises(ValidationError) as refused:
        svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    errors = refused.value.message_dict
    assert "1 rating is still blank" in errors["__all__"][0]
    assert list(errors) == ["__all__", f"competency_ratings.{s.rows[1].pk}.rating"]
    a = fresh(s.appraisal)
    assert (a.state, a.score) == (AppraisalState.MANAGER_REVIEW, None)
    a = _rate(s, cast.manager, goals={}, competencies={1: 4})
    a = svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    assert a.state == AppraisalState.DIALOGUE and a.score is not None


def test_a_cancelled_goal_needs_no_rating(s, cast):
    from cascade.models import Goal, GoalStatus

    Goal.objects.filter(pk=s.goals[1].pk).update(status=GoalStatus.CANCELLED)
    a = _rate(s, cast.employee, goals={0: 4}, competencies={0: 3, 1: 5})
    assert svc.blank_ratings(a, side="self") == []


# ---------------------------------------------------------------- the page


def test_the_confirm_page_lists_what_is_blank_and_offers_no_submit(client_for, s, cast):
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_action", args=[s.appraisal.pk])
    posted = {
        "version": fresh(s.appraisal).version,
        "action": "submit_self",
        f"goal-{s.goals[0].pk}-rating": "4",
        f"goal-{s.goals[0].pk}-comment": "Typed just before submitting.",
    }
    response = client.post(url, posted)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Your self-assessment is not complete yet" in page
    assert "3 ratings are still blank" in page
    assert "Goal 2</a>: no rating yet" in page and "Goal 1</a>" not in page
    for row in s.rows:
        assert f"{row.competency.name}</a>: no rating yet" in page
    assert 'name="confirmed"' not in page  # nothing to submit from here
    assert "Back to the appraisal" in page
    a = fresh(s.appraisal)
    assert a.state == AppraisalState.SELF_ASSESSMENT  # nothing submitted, what was typed is saved
    assert a.goal_ratings.get(goal=s.goals[0]).self_comment == "Typed just before submitting."


def test_the_confirm_page_asks_once_everything_is_rated(client_for, s, cast):
    fill_blank_ratings(fresh(s.appraisal), side="self")
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_action", args=[s.appraisal.pk])
    response = client.post(url, {"version": fresh(s.appraisal).version, "action": "submit_self"})
    page = response.content.decode()
    assert "Submit your self-assessment to Ward Manager?" in page and 'name="confirmed" value="1"' in page
    assert fresh(s.appraisal).state == AppraisalState.SELF_ASSESSMENT
    response = client.post(url, {"version": fresh(s.appraisal).version, "action": "submit_self", "confirmed": "1"})
    assert response.status_code == 302
    assert fresh(s.appraisal).state == AppraisalState.MANAGER_REVIEW


def test_a_confirmed_submission_with_blanks_comes_back_with_the_messages_on_the_page(client_for, s, cast):
    """Say the confirm page was opened, then a rating cleared in another tab."""
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_action", args=[s.appraisal.pk])
    response = client.post(url, {"version": fresh(s.appraisal).version, "action": "submit_self", "confirmed": "1"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not submitted: 4 ratings are still blank" in page
    assert "Goal 1: choose a rating before you submit your self-assessment." in page
    assert fresh(s.appraisal).state == AppraisalState.SELF_ASSESSMENT


def test_the_reviewers_confirm_page_lists_their_blanks(client_for, s, cast):
    fill_blank_ratings(fresh(s.appraisal), side="self")
    a = fresh(s.appraisal)
    svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    response = client_for(cast.manager).post(
        reverse("appraisals:appraisal_action", args=[s.appraisal.pk]),
        {"version": fresh(s.appraisal).version, "action": "submit_review"},
    )
    page = response.content.decode()
    assert "Your review of Staff Nurse is not complete yet" in page and "4 ratings are still blank" in page
    assert fresh(s.appraisal).state == AppraisalState.MANAGER_REVIEW


def test_the_page_marks_ratings_needed_and_comments_optional(client_for, s, cast):
    page = client_for(cast.employee).get(reverse("appraisals:appraisal_detail", args=[s.appraisal.pk]))
    text = page.content.decode()
    assert "(needed to submit)" in text
    assert 'Comment <span class="muted">(optional)</span>' in text
    assert 'Evidence <span class="muted">(optional)</span>' in text
    assert "You confirm on the next page, which lists any rating still blank." in text


# ---------------------------------------------------------------- the API


def test_the_api_refuses_a_blank_self_assessment_with_field_messages(api_client_for, s, cast):
    url = f"/api/v1/appraisals/{s.appraisal.pk}/submit-self/"
    response = api_client_for(cast.employee).post(url, {"version": fresh(s.appraisal).version}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "4 ratings are still blank" in body["non_field_errors"][0]
    assert body[f"goal_ratings.{s.goals[0].pk}.rating"] == [
        "Goal 1: choose a rating before you submit your self-assessment."
    ]
    assert f"competency_ratings.{s.rows[1].pk}.rating" in body
    assert fresh(s.appraisal).state == AppraisalState.SELF_ASSESSMENT


def test_the_api_refuses_a_review_with_blanks_and_takes_a_complete_one(api_client_for, s, cast):
    fill_blank_ratings(fresh(s.appraisal), side="self")
    employee, manager = api_client_for(cast.employee), api_client_for(cast.manager)
    base = f"/api/v1/appraisals/{s.appraisal.pk}/"
    assert (
        employee.post(f"{base}submit-self/", {"version": fresh(s.appraisal).version}, format="json").status_code == 200
    )
    refused = manager.post(f"{base}submit-review/", {"version": fresh(s.appraisal).version}, format="json")
    assert refused.status_code == 400 and f"goal_ratings.{s.goals[0].pk}.rating" in refused.json()
    fill_blank_ratings(fresh(s.appraisal), side="manager")
    done = manager.post(f"{base}submit-review/", {"version": fresh(s.appraisal).version}, format="json")
    assert done.status_code == 200 and done.json()["state"] == AppraisalState.DIALOGUE

"""The appraisals API: scope (404 outside it), draft saves with 409 on a stale version,
the steps as actions, manager ratings hidden until shared, locked records, check-ins,
development plans, cycles, and the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from appraisals.models import (
    ActionStatus,
    Appraisal,
    AppraisalState,
    CheckIn,
    DevelopmentAction,
    GoalRating,
    HistoryEntry,
)
from appraisals.services import appraisals as svc
from cascade.models import GoalStatus
from competencies.models import QuestionKey
from tests.appraisals.factories import CompetencyFactory, ReviewCycleFactory, appraisal_scenario
from tests.factories import EmployeeFactory

BASE = "/api/v1"


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def _url(s, suffix: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"{BASE}/appraisals/{s.appraisal.pk}/{suffix}"


def _version(s) -> int:  # type: ignore[no-untyped-def]
    return Appraisal.objects.get(pk=s.appraisal.pk).version


def _patch(client: APIClient, s, body: dict):  # type: ignore[no-untyped-def]
    return client.patch(_url(s), {"version": _version(s), **body}, format="json")


def _step(client: APIClient, s, step: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(_url(s, f"{step}/"), {"version": _version(s), **extra}, format="json")


def _self_rate_all(client: APIClient, s) -> None:  # type: ignore[no-untyped-def]
    """Rate every goal and competency on the self side: a self-assessment with blanks is not submitted."""
    body = {
        "goal_ratings": [{"goal": g.pk, "rating": "4"} for g in s.goals],
        "competency_ratings": [{"form_competency": row.pk, "rating": "3"} for row in s.rows],
    }
    assert _patch(client, s, body).status_code == 200


def _through_review(api_client_for, s, cast, *, share: bool) -> None:  # type: ignore[no-untyped-def]
    employee, manager = api_client_for(cast.employee), api_client_for(cast.manager)
    _self_rate_all(employee, s)
    assert _step(employee, s, "submit-self").status_code == 200
    body = {
        "goal_ratings": [
            {"goal": g.pk, "rating": r, "comment": "Seen"} for g, r in zip(s.goals, ["4", "2"], strict=True)
        ],
        "competency_ratings": [{"form_competency": row.pk, "rating": r} for row, r in zip(s.rows, [5, 3], strict=True)],
    }
    assert _patch(manager, s, body).status_code == 200
    assert _step(manager, s, "submit-review").status_code == 200
    if share:
        assert _step(manager, s, "share").status_code == 200


# ---------------------------------------------------------------- scope


@pytest.mark.parametrize(
    ("who", "listed", "detail"),
    [
        ("employee", 1, 200),
        ("manager", 1, 200),
        ("chief", 1, 200),
        ("hr", 1, 200),
        ("stranger", 0, 404),
    ],
)
def test_appraisals_are_visible_to_the_person_their_managers_and_hr_only(api_client_for, s, cast, who, listed, detail):
    client = api_client_for(getattr(cast, who))
    assert len(client.get(f"{BASE}/appraisals/").json()["results"]) == listed
    assert client.get(_url(s)).status_code == detail
    assert client.get(f"{BASE}/check-ins/{s.check_in.pk}/").status_code == detail
    assert client.get(f"{BASE}/development-plans/{s.plan.pk}/").status_code == detail


def test_a_peer_with_the_same_manager_sees_nothing(api_client_for, s, cast):
    peer = EmployeeFactory(manager=cast.manager, department=cast.employee.department)
    client = api_client_for(peer)
    assert client.get(_url(s)).status_code == 404
    assert client.patch(_url(s), {"version": 1}, format="json").status_code == 404
    assert client.post(_url(s, "submit-self/"), {"version": 1}, format="json").status_code == 404
    assert client.get(f"{BASE}/check-ins/").json()["results"] == []


def test_anonymous_requests_are_refused(s):
    assert APIClient().get(f"{BASE}/appraisals/").status_code == 401


def test_the_list_filters_by_cycle_and_state(api_client_for, s, cast):
    client = api_client_for(cast.hr)
    assert len(client.get(f"{BASE}/appraisals/", {"cycle": s.cycle.pk}).json()["results"]) == 1
    assert client.get(f"{BASE}/appraisals/", {"state": "locked"}).json()["results"] == []
    assert client.get(f"{BASE}/appraisals/", {"state": "nonsense"}).status_code == 400


# ---------------------------------------------------------------- the page's content


def test_the_detail_has_goals_with_charts_competencies_with_descriptors_and_questions(api_client_for, s, cast):
    body = api_client_for(cast.employee).get(_url(s)).json()
    assert [g["title"] for g in body["goals"]] == ["Goal 1", "Goal 2"]
    first = body["goals"][0]
    assert first["chart"]["n"] == 12
    assert first["special_cause"] is False
    assert first["common_cause_caution"] is True
    assert "common-cause variation" in first["caution"]
    assert body["goals"][1]["chart"] is None
    competency = body["competencies"][0]
    assert competency["scale"]["levels"][2]["label"] == "Meets expectations"
    assert competency["scale"]["levels"][2]["indicator"].endswith("level 3 behaviour.")
    assert {q["key"] for q in body["questions"]} == set(QuestionKey.values)
    assert body["permissions"]["can_edit_self"] is True
    assert body["permissions"]["can_edit_manager"] is False


def test_a_goal_whose_chart_shows_a_special_cause_carries_no_caution(api_client_for, cast):
    s = appraisal_scenario(employee=cast.employee, measure_values=[50] * 10 + [70] * 8)
    first = api_client_for(cast.employee).get(_url(s)).json()["goals"][0]
    assert first["special_cause"] is True
    assert (first["common_cause_caution"], first["caution"]) == (False, "")


# ---------------------------------------------------------------- drafts and 409


def test_the_employee_saves_a_draft(api_client_for, s, cast):
    response = _patch(
        api_client_for(cast.employee),
        s,
        {
            "goal_ratings": [{"goal": s.goals[0].pk, "rating": "3", "comment": "Halfway"}],
            "competency_ratings": [{"form_competency": s.rows[0].pk, "rating": 4, "evidence": "Led the map"}],
            "answers": [{"question": s.questions[QuestionKey.SUCCESSES].pk, "text": "Falls down"}],
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2
    assert (body["goals"][0]["self_rating"], body["goals"][0]["self_comment"]) == ("3.00", "Halfway")
    assert body["competencies"][0]["self_evidence"] == "Led the map"


def test_a_stale_save_answers_409_and_loses_nothing(api_client_for, s, cast):
    client = api_client_for(cast.employee)
    first = client.patch(
        _url(s), {"version": 1, "goal_ratings": [{"goal": s.goals[0].pk, "rating": "4"}]}, format="json"
    )
    assert first.status_code == 200
    stale = client.patch(
        _url(s), {"version": 1, "goal_ratings": [{"goal": s.goals[0].pk, "rating": "1"}]}, format="json"
    )
    assert stale.status_code == 409
    assert "Reload" in stale.json()["detail"]
    assert GoalRating.objects.get(goal=s.goals[0]).self_rating == Decimal(4)
    assert _version(s) == 2


def test_a_rating_off_the_scale_answers_400_naming_the_field(api_client_for, s, cast):
    response = _patch(api_client_for(cast.employee), s, {"goal_ratings": [{"goal": s.goals[0].pk, "rating": "9"}]})
    assert response.status_code == 400
    assert f"goal_ratings.{s.goals[0].pk}.rating" in response.json()
    assert not GoalRating.objects.exists()


def test_the_state_cannot_be_written(api_client_for, s, cast):
    response = _patch(api_client_for(cast.employee), s, {"state": "locked"})
    assert response.status_code == 400
    assert "state" in response.json()
    assert Appraisal.objects.get(pk=s.appraisal.pk).state == AppraisalState.SELF_ASSESSMENT


def test_the_version_is_required(api_client_for, s, cast):
    response = api_client_for(cast.employee).patch(_url(s), {"employee_comment": "x"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()


@pytest.mark.parametrize(("who", "status"), [("manager", 400), ("chief", 403), ("hr", 403)])
def test_only_the_open_side_may_be_written(api_client_for, s, cast, who, status):
    response = _patch(api_client_for(getattr(cast, who)), s, {"goal_ratings": [{"goal": s.goals[0].pk, "rating": "4"}]})
    assert response.status_code == status
    assert not GoalRating.objects.exists()


# ---------------------------------------------------------------- the steps


def test_the_whole_journey_through_the_api(api_client_for, s, cast):
    _through_review(api_client_for, s, cast, share=True)
    employee = api_client_for(cast.employee)
    response = _step(employee, s, "acknowledge", comment="Fair")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["employee_comment"], body["score"]) == ("acknowledged", "Fair", "65.00")
    assert body["score_detail"]["breakdown"]["formula_version"] == "1"


@pytest.mark.parametrize(
    ("who", "step", "status"),
    [
        ("manager", "submit-self", 403),
        ("chief", "submit-self", 403),
        ("hr", "submit-self", 403),
        ("employee", "submit-review", 403),
        ("employee", "share", 403),
        ("manager", "submit-review", 400),  # the self-assessment is not in yet
        ("manager", "acknowledge", 403),
    ],
)
def test_each_step_is_refused_to_the_wrong_person_or_state(api_client_for, s, cast, who, step, status):
    response = _step(api_client_for(getattr(cast, who)), s, step)
    assert response.status_code == status
    assert Appraisal.objects.get(pk=s.appraisal.pk).state == AppraisalState.SELF_ASSESSMENT


def test_a_step_twice_answers_400_with_the_reason(api_client_for, s, cast):
    client = api_client_for(cast.employee)
    _self_rate_all(client, s)
    assert _step(client, s, "submit-self").status_code == 200
    second = _step(client, s, "submit-self")
    assert second.status_code == 400
    assert "already been submitted" in str(second.json())


def test_a_stale_step_answers_409(api_client_for, s, cast):
    response = api_client_for(cast.employee).post(_url(s, "submit-self/"), {"version": 99}, format="json")
    assert response.status_code == 409


# ---------------------------------------------------------------- manager ratings hidden until shared


def test_the_employee_sees_the_managers_ratings_only_once_shared(api_client_for, s, cast):
    _through_review(api_client_for, s, cast, share=False)
    hidden = api_client_for(cast.employee).get(_url(s)).json()
    assert hidden["goals"][0]["manager_rating"] is None
    assert hidden["goals"][0]["manager_comment"] == ""
    assert hidden["competencies"][0]["manager_rating"] is None
    assert (hidden["score"], hidden["score_detail"], hidden["manager_hidden"]) == (None, None, True)
    listed = api_client_for(cast.employee).get(f"{BASE}/appraisals/").json()["results"][0]
    assert listed["score"] is None
    assert api_client_for(cast.chief).get(_url(s)).json()["goals"][0]["manager_rating"] == "4.00"
    assert _step(api_client_for(cast.manager), s, "share").status_code == 200
    shown = api_client_for(cast.employee).get(_url(s)).json()
    assert (shown["goals"][0]["manager_rating"], shown["goals"][0]["manager_comment"]) == ("4.00", "Seen")
    assert shown["score"] == "65.00"


def test_history_is_shown_to_hr_and_only_the_last_change_to_others(api_client_for, s, cast):
    _patch(api_client_for(cast.employee), s, {"goal_ratings": [{"goal": s.goals[0].pk, "rating": "4"}]})
    hr_view = api_client_for(cast.hr).get(_url(s)).json()
    entry = hr_view["history"][0]
    assert (entry["who"], entry["field"], entry["old"], entry["new"]) == ("Staff Nurse", "self_rating", None, "4")
    mine = api_client_for(cast.employee).get(_url(s)).json()
    assert mine["history"] == []
    assert mine["last_change"]["who"] == "Staff Nurse"


# ---------------------------------------------------------------- locked


def test_a_locked_appraisal_refuses_every_write_through_the_api(api_client_for, s, cast):
    _through_review(api_client_for, s, cast, share=True)
    svc.appraisal_lock(appraisal=Appraisal.objects.get(pk=s.appraisal.pk), user=cast.hr.user)
    version = _version(s)
    manager, employee = api_client_for(cast.manager), api_client_for(cast.employee)
    assert _patch(manager, s, {"goal_ratings": [{"goal": s.goals[0].pk, "rating": "1"}]}).status_code == 400
    refused = _step(employee, s, "acknowledge", comment="late")
    assert refused.status_code == 400
    assert "locked" in str(refused.json())
    assert _version(s) == version
    assert GoalRating.objects.get(goal=s.goals[0]).manager_rating == Decimal(4)


# ---------------------------------------------------------------- check-ins


def test_check_ins_are_written_by_each_side_and_completed_by_the_reviewer(api_client_for, s, cast):
    url = f"{BASE}/check-ins/{s.check_in.pk}/"
    employee, manager = api_client_for(cast.employee), api_client_for(cast.manager)
    response = employee.patch(url, {"version": 1, "employee_notes": "On track", "obstacles": "Rota"}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2
    refused = employee.patch(url, {"version": 2, "coaching_notes": "x"}, format="json")
    assert refused.status_code == 400
    assert "coaching_notes" in refused.json()
    assert manager.patch(url, {"version": 1, "manager_notes": "Stale"}, format="json").status_code == 409
    assert manager.patch(url, {"version": 2, "coaching_notes": "Try a PDSA"}, format="json").status_code == 200
    assert employee.post(f"{url}complete/", {"version": 3}, format="json").status_code == 403
    done = manager.post(f"{url}complete/", {"version": 3}, format="json")
    assert done.status_code == 200
    assert [g["title"] for g in done.json()["goal_snapshot"]] == ["Goal 1", "Goal 2"]
    assert api_client_for(cast.chief).patch(url, {"version": 4, "manager_notes": "x"}, format="json").status_code == 403
    assert CheckIn.objects.get(pk=s.check_in.pk).coaching_notes == "Try a PDSA"


# ---------------------------------------------------------------- development plans


def test_development_plans_take_actions_and_are_agreed(api_client_for, s, cast):
    url = f"{BASE}/development-plans/{s.plan.pk}/"
    employee, manager = api_client_for(cast.employee), api_client_for(cast.manager)
    competency = CompetencyFactory(name="Process thinking")
    assert employee.patch(url, {"version": 1, "summary": "Learn SPC"}, format="json").status_code == 200
    added = manager.post(
        f"{url}add-action/",
        {"description": "Run a PDSA", "competency": competency.pk, "target_level": 3, "due_date": "2026-11-30"},
        format="json",
    )
    assert added.status_code == 201, added.json()
    assert added.json()["competency"] == {"id": competency.pk, "name": "Process thinking"}
    too_high = manager.post(
        f"{url}add-action/", {"description": "x", "competency": competency.pk, "target_level": 6}, format="json"
    )
    assert too_high.status_code == 400
    assert "target_level" in too_high.json()
    assert [a["description"] for a in employee.get(f"{url}actions/").json()] == ["Run a PDSA"]
    assert employee.post(f"{url}agree/", {"version": 2}, format="json").status_code == 200
    action_url = f"{url}actions/{added.json()['id']}/"
    assert employee.patch(action_url, {"description": "Changed"}, format="json").status_code == 400
    moved = employee.patch(action_url, {"status": "done"}, format="json")
    assert moved.status_code == 200
    assert moved.json()["completed_at"] is not None
    assert DevelopmentAction.objects.get().status == ActionStatus.DONE
    assert api_client_for(cast.hr).patch(action_url, {"status": "dropped"}, format="json").status_code == 403
    assert api_client_for(cast.stranger).get(f"{url}actions/").status_code == 404


def test_an_action_of_another_plan_answers_404(api_client_for, s, cast):
    other = appraisal_scenario(employee=EmployeeFactory(manager=cast.manager))
    action = DevelopmentAction.objects.create(plan=other.plan, description="Theirs")
    url = f"{BASE}/development-plans/{s.plan.pk}/actions/{action.pk}/"
    assert api_client_for(cast.manager).patch(url, {"status": "done"}, format="json").status_code == 404


# ---------------------------------------------------------------- cycles


def test_cycles_are_listed_to_hr_and_to_the_people_in_them(api_client_for, s, cast):
    ReviewCycleFactory(name="Nobody's cycle")
    assert api_client_for(cast.hr).get(f"{BASE}/cycles/").json()["count"] == 2
    mine = api_client_for(cast.employee).get(f"{BASE}/cycles/").json()
    assert [c["name"] for c in mine["results"]] == [s.cycle.name]
    assert mine["results"][0]["phase_label"] == "Study: performance review"
    assert api_client_for(cast.stranger).get(f"{BASE}/cycles/{s.cycle.pk}/").status_code == 404
    assert api_client_for(cast.hr).post(f"{BASE}/cycles/", {}, format="json").status_code == 405


# ---------------------------------------------------------------- schema


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/appraisals/{id}/submit-self/", "/api/v1/check-ins/{id}/complete/", "/api/v1/cycles/"):
        assert path in text


def test_history_records_api_writes_with_the_user(api_client_for, s, cast):
    _patch(api_client_for(cast.employee), s, {"goal_ratings": [{"goal": s.goals[1].pk, "comment": "Note"}]})
    entry = HistoryEntry.objects.get(participant=s.participant, field="self_comment")
    assert (entry.actor_id, entry.old, entry.new) == (cast.employee.user_id, "", "Note")


def test_a_cancelled_goal_leaves_the_page(api_client_for, s, cast):
    s.goals[1].status = GoalStatus.CANCELLED
    s.goals[1].save()
    assert [g["title"] for g in api_client_for(cast.employee).get(_url(s)).json()["goals"]] == ["Goal 1"]

"""Everyone's review pages: my reviews, team reviews, to-dos, the appraisal (automatic
saving, workflow actions, print), the check-in and the development plan.

The cast (tests/conftest.py): chief → manager → employee in Nursing, a stranger in
Pharmacy, an HR admin. ``appraisal_scenario`` (tests/appraisals/factories.py) gives
the employee an appraisal reviewed by the manager: two goals (the first driven by a
measure of twelve flat points, so within common-cause variation), two competencies on
a 1–5 scale and the four dialogue questions, with a check-in and a development plan.
The chief is the skip-level manager: they read, never write.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisals.models import (
    ActionStatus,
    Appraisal,
    AppraisalState,
    CheckIn,
    CompetencyRating,
    DevelopmentAction,
    DevelopmentPlan,
    DialogueAnswer,
    GoalRating,
    ToDo,
    ToDoKind,
)
from appraisals.services import appraisals as svc
from tests.appraisals.factories import DevelopmentActionFactory, appraisal_scenario, fill_blank_ratings

pytestmark = pytest.mark.django_db

ROLES = ["employee", "manager", "chief", "stranger", "hr"]
HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def fresh(appraisal: Appraisal) -> Appraisal:
    return Appraisal.objects.get(pk=appraisal.pk)


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def self_post(s, version: int, **extra) -> dict:  # type: ignore[no-untyped-def]
    """The employee's side as the page posts it."""
    first, second = s.goals
    data = {
        "version": version,
        f"goal-{first.pk}-rating": "4",
        f"goal-{first.pk}-comment": "Scanned every dose on the ward.",
        f"goal-{second.pk}-rating": "",
        f"goal-{second.pk}-comment": "Half done.",
        f"competency-{s.rows[0].pk}-rating": "3",
        f"competency-{s.rows[0].pk}-evidence": "Ran two PDSA cycles.",
        f"answer-{s.questions['successes'].pk}": "The scanning audit.",
    }
    data.update(extra)
    return data


def to_manager_review(s, cast) -> Appraisal:  # type: ignore[no-untyped-def]
    a = fresh(s.appraisal)
    fill_blank_ratings(a, side="self")  # a submission needs every rating
    return svc.appraisal_submit_self(user=cast.employee.user, appraisal=a, expected_version=a.version)


def manager_rates(s, cast) -> Appraisal:  # type: ignore[no-untyped-def]
    a = to_manager_review(s, cast)
    return svc.appraisal_save_draft(
        user=cast.manager.user,
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[0].pk: {"rating": Decimal(2), "comment": "SECRET MANAGER COMMENT"}},
        competency_ratings={s.rows[0].pk: {"rating": Decimal(5), "evidence": "Led the huddle."}},
    )


# ---------------------------------------------------------------- permission tables


@pytest.mark.parametrize(
    ("who", "status"), [("employee", 200), ("manager", 200), ("chief", 200), ("stranger", 404), ("hr", 200)]
)
@pytest.mark.parametrize("name", ["appraisal_detail", "appraisal_print"])
def test_the_appraisal_is_read_by_the_person_the_chain_and_hr(client_for, cast, s, who, status, name):
    response = client_for(getattr(cast, who)).get(reverse(f"appraisals:{name}", args=[s.appraisal.pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("employee", 200), ("manager", 200), ("chief", 200), ("stranger", 404), ("hr", 200)]
)
def test_the_check_in_and_plan_are_read_by_the_person_the_chain_and_hr(client_for, cast, s, who, status):
    client = client_for(getattr(cast, who))
    assert client.get(reverse("appraisals:checkin_detail", args=[s.check_in.pk])).status_code == status
    assert client.get(reverse("appraisals:plan_detail", args=[s.plan.pk])).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    # The manager may not write while the self-assessment is open (400); the chief and HR read only (403).
    [("employee", 200), ("manager", 400), ("chief", 403), ("stranger", 404), ("hr", 403)],
)
def test_only_the_person_writes_the_self_assessment(client_for, cast, s, who, status):
    response = client_for(getattr(cast, who)).post(
        reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, s.appraisal.version), **HTMX
    )
    assert response.status_code == status
    assert GoalRating.objects.exists() is (status == 200)


@pytest.mark.parametrize(
    ("who", "status"), [("employee", 302), ("manager", 302), ("chief", 403), ("stranger", 404), ("hr", 403)]
)
def test_the_person_and_the_reviewer_write_the_check_in(client_for, cast, s, who, status):
    field = "manager_notes" if who == "manager" else "employee_notes"
    response = client_for(getattr(cast, who)).post(
        reverse("appraisals:checkin_detail", args=[s.check_in.pk]), {"version": 1, field: "Talked it through."}
    )
    assert response.status_code == status
    assert CheckIn.objects.filter(**{field: "Talked it through."}).exists() is (status == 302)


@pytest.mark.parametrize(
    ("who", "status"), [("employee", 302), ("manager", 302), ("chief", 403), ("stranger", 404), ("hr", 403)]
)
def test_the_person_and_the_reviewer_write_the_plan(client_for, cast, s, who, status):
    client = client_for(getattr(cast, who))
    url = reverse("appraisals:plan_detail", args=[s.plan.pk])
    assert client.post(url, {"action": "save", "version": 1, "summary": "Lead a PDSA."}).status_code == status
    assert client.post(url, {"action": "add", "version": 1, "description": "Coach a peer"}).status_code == status
    assert DevelopmentAction.objects.filter(plan=s.plan).exists() is (status == 302)


@pytest.mark.parametrize(
    ("who", "status"), [("employee", 403), ("manager", 200), ("chief", 200), ("stranger", 403), ("hr", 403)]
)
def test_team_reviews_are_for_managers(client_for, cast, s, who, status):
    response = client_for(getattr(cast, who)).get(reverse("appraisals:team_reviews"))
    assert response.status_code == status
    if status == 403:  # a page reserved to a role says so, as the API would
        assert "for managers and reviewers" in response.content.decode()


@pytest.mark.parametrize("who", ROLES)
def test_everyone_has_my_reviews_and_a_to_do_list(client_for, cast, who):
    client = client_for(getattr(cast, who))
    assert client.get(reverse("appraisals:my_reviews")).status_code == 200
    assert client.get(reverse("appraisals:todo_list")).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["appraisal_detail", "appraisal_save", "appraisal_action", "appraisal_print", "checkin_detail", "plan_detail"],
)
def test_an_unknown_record_is_404(client_for, cast, name):
    assert client_for(cast.hr).get(reverse(f"appraisals:{name}", args=[999999])).status_code in (404, 405)


def test_saves_and_actions_only_answer_posts(client_for, cast, s):
    client = client_for(cast.employee)
    assert client.get(reverse("appraisals:appraisal_save", args=[s.appraisal.pk])).status_code == 405
    assert client.get(reverse("appraisals:appraisal_action", args=[s.appraisal.pk])).status_code == 405


# ---------------------------------------------------------------- the lists


def test_my_reviews_lists_the_cycle_with_its_records_and_the_open_to_dos(client_for, cast, s):
    ToDo.objects.create(
        employee=cast.employee, cycle=s.cycle, participant=s.participant, kind=ToDoKind.SELF_ASSESSMENT,
        due=datetime.date(2000, 1, 1),
    )  # fmt: skip
    page = html(client_for(cast.employee).get(reverse("appraisals:my_reviews")))
    assert s.cycle.name in page
    assert reverse("appraisals:appraisal_detail", args=[s.appraisal.pk]) in page
    assert reverse("appraisals:checkin_detail", args=[s.check_in.pk]) in page
    assert reverse("appraisals:plan_detail", args=[s.plan.pk]) in page
    assert "Write your self-assessment" in page and "Overdue" in page
    assert "Your turn: self-assessment" in page


def test_my_reviews_without_a_cycle_explains_when_reviews_appear(client_for, cast):
    page = html(client_for(cast.stranger).get(reverse("appraisals:my_reviews")))
    assert "You are not in a review cycle yet" in page and "When HR launches a review cycle" in page


def test_the_to_do_list_links_each_to_do_and_highlights_the_overdue(client_for, cast, s):
    ToDo.objects.create(
        employee=cast.manager, cycle=s.cycle, participant=s.participant, kind=ToDoKind.MANAGER_REVIEW,
        due=datetime.date(2000, 1, 1),
    )  # fmt: skip
    ToDo.objects.create(
        employee=cast.manager, cycle=s.cycle, participant=s.participant, kind=ToDoKind.CHECK_IN,
        due=datetime.date(2999, 1, 1),
    )  # fmt: skip
    page = html(client_for(cast.manager).get(reverse("appraisals:todo_list")))
    assert "Review your team member: Staff Nurse" in page
    assert page.count("todo--overdue") == 1 and "1 Jan 2999" in page
    assert reverse("appraisals:appraisal_detail", args=[s.appraisal.pk]) in page
    assert reverse("appraisals:checkin_detail", args=[s.check_in.pk]) in page


def test_the_to_do_list_can_include_the_done_ones(client_for, cast, s):
    ToDo.objects.create(
        employee=cast.employee, cycle=s.cycle, participant=s.participant, kind=ToDoKind.CHECK_IN,
        due=datetime.date(2026, 5, 1), done_at=timezone.now(),
    )  # fmt: skip
    ToDo.objects.create(
        employee=cast.employee, cycle=s.cycle, participant=s.participant, kind=ToDoKind.SELF_ASSESSMENT,
        due=datetime.date(2026, 9, 30),
    )  # fmt: skip
    client = client_for(cast.employee)
    assert "Hold your check-in" not in html(client.get(reverse("appraisals:todo_list")))
    page = html(client.get(reverse("appraisals:todo_list"), {"show": "all"}))
    assert page.index("Write your self-assessment") < page.index("Hold your check-in")  # open ones first
    assert "todo--done" in page


def test_team_reviews_show_what_waits_on_whom_and_the_skip_level_reads_only(client_for, cast, s):
    manager_rates(s, cast)
    manager_page = html(client_for(cast.manager).get(reverse("appraisals:team_reviews")))
    assert "Staff Nurse" in manager_page and "Your turn: manager review" in manager_page
    assert "1 waiting for you" in manager_page
    chief_page = html(client_for(cast.chief).get(reverse("appraisals:team_reviews")))
    assert "Further down your line" in chief_page and "read-only" in chief_page
    assert "Waiting on Ward Manager: manager review" in chief_page
    assert "Your turn" not in chief_page


def test_team_reviews_show_the_score_once_the_review_is_submitted(client_for, cast, s):
    a = manager_rates(s, cast)
    client = client_for(cast.manager)
    assert "badge--state-manager_review" in html(client.get(reverse("appraisals:team_reviews")))
    fill_blank_ratings(a, side="manager")
    svc.appraisal_submit_review(user=cast.manager.user, appraisal=a, expected_version=a.version)
    score = fresh(a).score
    assert score is not None
    assert f"{score}" in html(client.get(reverse("appraisals:team_reviews")))


# ---------------------------------------------------------------- the appraisal page


def test_the_page_shows_goals_progress_chart_caution_and_the_scale(client_for, cast, s):
    page = html(client_for(cast.employee).get(reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])))
    goal = s.goals[0]
    assert f'data-chart="xmr" data-chart-source="goal-{goal.pk}-chart"' in page
    assert f'id="goal-{goal.pk}-chart" type="application/json"' in page
    assert "No special cause: this change is within the process’s normal variation." in page
    assert "Meets expectations" in page and "What was agreed." in page  # a level and its descriptor
    assert f'name="goal-{goal.pk}-rating" value="3"' in page  # levels as radio buttons
    assert "level 3 behaviour" in page  # the competency's indicator at each level
    assert 'hx-post="' + reverse("appraisals:appraisal_save", args=[s.appraisal.pk]) in page
    assert 'hx-trigger="change delay:800ms, keyup changed delay:2s from:textarea' in page
    assert "Submit my self-assessment" in page
    assert 'aria-current="step"' in page and "Self-assessment" in page


def test_a_special_cause_shows_its_badge_and_no_caution(client_for, cast):
    s = appraisal_scenario(employee=cast.employee, measure_values=[50] * 12 + [90] * 8)
    page = html(client_for(cast.employee).get(reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])))
    assert "badge--signal-improvement" in page
    assert "this change is within the process’s normal variation" not in page


def test_an_autosave_writes_the_self_side_and_answers_the_new_version(client_for, cast, s):
    response = client_for(cast.employee).post(
        reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, s.appraisal.version), **HTMX
    )
    assert response.status_code == 200
    a = fresh(s.appraisal)
    assert a.version == s.appraisal.version + 1
    body = html(response)
    assert "Saved" in body
    assert f'<input type="hidden" name="version" value="{a.version}" id="appraisal-version" hx-swap-oob="true">' in body
    rating = GoalRating.objects.get(goal=s.goals[0])
    assert (rating.self_rating, rating.self_comment, rating.manager_rating) == (
        Decimal(4),
        "Scanned every dose on the ward.",
        None,
    )
    assert GoalRating.objects.get(goal=s.goals[1]).self_rating is None
    assert CompetencyRating.objects.get().self_evidence == "Ran two PDSA cycles."
    assert DialogueAnswer.objects.get().text == "The scanning audit."


def test_an_autosave_by_the_reviewer_writes_the_manager_side_and_refreshes_the_score(client_for, cast, s):
    a = to_manager_review(s, cast)
    response = client_for(cast.manager).post(
        reverse("appraisals:appraisal_save", args=[a.pk]),
        {"version": a.version, f"goal-{s.goals[0].pk}-rating": "5", f"goal-{s.goals[0].pk}-comment": "Superb."},
        **HTMX,
    )
    assert response.status_code == 200
    rating = GoalRating.objects.get(goal=s.goals[0])
    assert (rating.self_rating, rating.manager_rating, rating.manager_comment) == (Decimal(3), Decimal(5), "Superb.")
    assert 'id="score-section" aria-labelledby="score-title" hx-swap-oob="true"' in html(response)


def test_without_javascript_the_save_button_posts_and_comes_back(client_for, cast, s):
    response = client_for(cast.employee).post(
        reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, s.appraisal.version)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])
    assert GoalRating.objects.get(goal=s.goals[0]).self_rating == Decimal(4)


def test_a_stale_autosave_is_409_and_changes_nothing(client_for, cast, s):
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_save", args=[s.appraisal.pk])
    assert client.post(url, self_post(s, 1), **HTMX).status_code == 200
    stale = self_post(s, 1, **{f"goal-{s.goals[0].pk}-comment": "Typed in the other tab."})
    response = client.post(url, stale, **HTMX)
    assert response.status_code == 409
    body = html(response)
    assert "someone else changed this appraisal" in body and "your text is kept below" in body
    assert 'data-overwrite-version="2"' in body  # saving over their change is a deliberate step
    assert "hx-swap-oob" not in body  # the page keeps the version it was based on
    assert GoalRating.objects.get(goal=s.goals[0]).self_comment == "Scanned every dose on the ward."
    assert fresh(s.appraisal).version == 2


def test_a_stale_save_without_javascript_is_409_with_the_input_kept(client_for, cast, s):
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_save", args=[s.appraisal.pk])
    client.post(url, self_post(s, 1))
    response = client.post(url, self_post(s, 1, **{f"goal-{s.goals[0].pk}-comment": "Typed in the other tab."}))
    assert response.status_code == 409
    page = html(response)
    assert "Typed in the other tab." in page and "Not saved" in page
    assert 'name="version" value="2"' in page  # saving again now replaces the other change
    assert GoalRating.objects.get(goal=s.goals[0]).self_comment == "Scanned every dose on the ward."


def test_a_rating_off_the_scale_is_400_with_the_input_kept(client_for, cast, s):
    data = self_post(s, 1, **{f"goal-{s.goals[0].pk}-rating": "7"})
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_save", args=[s.appraisal.pk])
    htmx = client.post(url, data, **HTMX)
    assert htmx.status_code == 400 and "is not a level of the scale" in html(htmx)
    response = client.post(url, data)
    assert response.status_code == 400
    page = html(response)
    assert "is not a level of the scale" in page and "Scanned every dose on the ward." in page
    assert not GoalRating.objects.exists()


def test_a_save_after_the_step_moved_on_is_400_and_keeps_the_text(client_for, cast, s):
    a = to_manager_review(s, cast)  # submitted in another tab
    late = self_post(s, a.version, **{f"goal-{s.goals[0].pk}-comment": "Typed after submitting elsewhere."})
    response = client_for(cast.employee).post(reverse("appraisals:appraisal_save", args=[a.pk]), late)
    assert response.status_code == 400
    page = html(response)
    assert "can no longer change" in page
    assert "Typed after submitting elsewhere.</textarea>" in page  # still in its field, to copy
    assert not GoalRating.objects.filter(self_comment="Typed after submitting elsewhere.").exists()


def test_a_save_without_a_version_is_refused(client_for, cast, s):
    data = self_post(s, 1)
    del data["version"]
    response = client_for(cast.employee).post(reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), data, **HTMX)
    assert response.status_code == 400 and "out of date" in html(response)
    assert not GoalRating.objects.exists()


def test_the_manager_side_is_hidden_from_the_employee_until_shared(client_for, cast, s):
    a = manager_rates(s, cast)
    client = client_for(cast.employee)
    url = reverse("appraisals:appraisal_detail", args=[a.pk])
    page = html(client.get(url))
    assert "SECRET MANAGER COMMENT" not in page and "Led the huddle." not in page
    assert "appear here once they share them with you" in page
    assert "The score appears once Ward Manager shares their ratings with you." in page
    assert "SECRET MANAGER COMMENT" not in html(client.get(reverse("appraisals:appraisal_print", args=[a.pk])))
    assert "SECRET MANAGER COMMENT" in html(client_for(cast.manager).get(url))
    assert "SECRET MANAGER COMMENT" in html(client_for(cast.chief).get(url))
    a = fresh(a)
    svc.appraisal_share(user=cast.manager.user, appraisal=a, expected_version=a.version)
    page = html(client.get(url))
    assert "SECRET MANAGER COMMENT" in page and "How it is worked out" in page


def test_the_self_assessment_is_hidden_from_the_reviewer_until_submitted(client_for, cast, s):
    client_for(cast.employee).post(reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, 1))
    url = reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])
    assert "Scanned every dose on the ward." not in html(client_for(cast.manager).get(url))
    to_manager_review(s, cast)
    assert "Scanned every dose on the ward." in html(client_for(cast.manager).get(url))


def test_the_actions_move_the_appraisal_through_its_states(client_for, cast, s):
    employee, manager = client_for(cast.employee), client_for(cast.manager)
    url = reverse("appraisals:appraisal_action", args=[s.appraisal.pk])

    # Text typed since the last automatic save goes with the step; the confirm page comes first.
    full = {f"goal-{s.goals[1].pk}-rating": "3", f"competency-{s.rows[1].pk}-rating": "4"}
    response = employee.post(url, self_post(s, 1, action="submit_self", **full))
    assert response.status_code == 200 and "Submit your self-assessment to Ward Manager?" in html(response)
    assert GoalRating.objects.get(goal=s.goals[0]).self_comment == "Scanned every dose on the ward."
    a = fresh(s.appraisal)
    assert a.state == AppraisalState.SELF_ASSESSMENT
    response = employee.post(url, {"version": a.version, "action": "submit_self", "confirmed": "1"})
    assert response.status_code == 302
    a = fresh(s.appraisal)
    assert a.state == AppraisalState.MANAGER_REVIEW

    page = html(manager.get(reverse("appraisals:appraisal_detail", args=[a.pk])))
    assert "Submit my review" in page and "Share my ratings with Staff Nurse" in page
    goal = f"goal-{s.goals[0].pk}"
    assert manager.post(url, {"version": a.version, "action": "share", f"{goal}-rating": "4"}).status_code == 302
    a = fresh(a)
    assert a.shared_at is not None and a.state == AppraisalState.MANAGER_REVIEW
    fill_blank_ratings(a, side="manager")
    assert manager.post(url, {"version": a.version, "action": "submit_review", "confirmed": "1"}).status_code == 302
    a = fresh(a)
    assert a.state == AppraisalState.DIALOGUE and a.score is not None

    page = html(employee.get(reverse("appraisals:appraisal_detail", args=[a.pk])))
    assert "Acknowledge my appraisal" in page and 'name="employee_comment"' in page
    response = employee.post(url, {"version": a.version, "action": "acknowledge", "employee_comment": "Fair."})
    assert response.status_code == 302
    a = fresh(a)
    assert a.state == AppraisalState.ACKNOWLEDGED and a.employee_comment == "Fair."


def test_an_action_out_of_turn_is_refused(client_for, cast, s):
    url = reverse("appraisals:appraisal_action", args=[s.appraisal.pk])
    # The reviewer, before the self-assessment is in: a refusal that says why (400); the others may not at all.
    response = client_for(cast.manager).post(url, {"version": 1, "action": "submit_review"})
    assert response.status_code == 400 and "The review opens once Staff Nurse has submitted" in html(response)
    assert client_for(cast.chief).post(url, {"version": 1, "action": "submit_self"}).status_code == 403
    assert client_for(cast.hr).post(url, {"version": 1, "action": "submit_self"}).status_code == 403
    response = client_for(cast.employee).post(url, {"version": 1, "action": "acknowledge"})
    assert response.status_code == 400 and "nothing to acknowledge yet" in html(response)
    assert client_for(cast.employee).post(url, {"version": 1, "action": "explode"}).status_code == 400
    assert fresh(s.appraisal).state == AppraisalState.SELF_ASSESSMENT


def test_a_stale_action_is_409_and_moves_nothing(client_for, cast, s):
    client = client_for(cast.employee)
    client.post(reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, 1))
    response = client.post(
        reverse("appraisals:appraisal_action", args=[s.appraisal.pk]), {"version": 1, "action": "submit_self"}
    )
    assert response.status_code == 409
    assert fresh(s.appraisal).state == AppraisalState.SELF_ASSESSMENT


def test_a_locked_appraisal_refuses_every_post_and_reads_only(client_for, cast, s):
    client_for(cast.employee).post(reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, 1))
    a = fresh(s.appraisal)
    svc.appraisal_lock(appraisal=a, user=cast.hr.user)
    a = fresh(a)
    before = (a.version, list(GoalRating.objects.values_list("self_comment", flat=True)))
    client = client_for(cast.employee)
    data = self_post(s, a.version, **{f"goal-{s.goals[0].pk}-comment": "Changed after the close."})
    for name, extra in (("appraisal_save", {}), ("appraisal_save", HTMX), ("appraisal_action", {})):
        response = client.post(reverse(f"appraisals:{name}", args=[a.pk]), {**data, "action": "submit_self"}, **extra)
        assert response.status_code in (400, 409), name
        assert "locked" in html(response)
    for who in ("employee", "manager", "hr"):
        page = html(client_for(getattr(cast, who)).get(reverse("appraisals:appraisal_detail", args=[a.pk])))
        assert "This appraisal is locked" in page
        assert "hx-post" not in page and 'type="radio"' not in page and "<textarea" not in page
    assert (fresh(a).version, list(GoalRating.objects.values_list("self_comment", flat=True))) == before


def test_the_skip_level_and_hr_read_without_a_form(client_for, cast, s):
    to_manager_review(s, cast)
    for who, reason in (("chief", "as a manager further up the line"), ("hr", "as HR")):
        page = html(client_for(getattr(cast, who)).get(reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])))
        assert reason in page
        assert "hx-post" not in page and 'type="radio"' not in page and "Submit my" not in page


def test_the_score_shows_its_breakdown_in_plain_words(client_for, cast, s):
    a = manager_rates(s, cast)
    page = html(client_for(cast.manager).get(reverse("appraisals:appraisal_detail", args=[a.pk])))
    assert "How it is worked out" in page and "60&nbsp;% of the goals figure" in page
    assert "self ratings are shown beside them but never scored" in page
    assert "not rated" in page  # the second goal


def test_hr_sees_the_history(client_for, cast, s):
    client_for(cast.employee).post(reverse("appraisals:appraisal_save", args=[s.appraisal.pk]), self_post(s, 1))
    url = reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])
    hr_page = html(client_for(cast.hr).get(url))
    assert "History" in hr_page and "Scanned every dose on the ward." in hr_page
    assert 'id="history-title"' not in html(client_for(cast.employee).get(url))


def test_the_print_page_is_clean(client_for, cast, s):
    page = html(client_for(cast.manager).get(reverse("appraisals:appraisal_print", args=[s.appraisal.pk])))
    assert "site-nav" not in page and "hx-post" not in page
    assert "appraisals.css" in page and "Latest values of" in page


@pytest.mark.parametrize("who", ["employee", "manager"])
def test_the_appraisal_page_takes_a_bounded_number_of_queries(client_for, cast, who):
    s = appraisal_scenario(employee=cast.employee, goal_weights=[20] * 5, competency_weights=[25] * 4)
    client = client_for(getattr(cast, who))
    url = reverse("appraisals:appraisal_detail", args=[s.appraisal.pk])
    client.get(url)  # the session and the user, once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    print(f"appraisal page for the {who}: {len(queries)} queries (5 goals, 4 competencies)")
    assert len(queries) <= 25, [q["sql"] for q in queries.captured_queries]


# ---------------------------------------------------------------- the check-in


def test_the_check_in_saves_each_side_and_the_reviewer_completes_it(client_for, cast, s):
    url = reverse("appraisals:checkin_detail", args=[s.check_in.pk])
    employee, manager = client_for(cast.employee), client_for(cast.manager)
    page = html(employee.get(url))
    assert 'name="employee_notes"' in page and 'name="manager_notes"' not in page
    assert "Save and complete" not in page and "Goal 1" in page  # live progress before completion
    assert employee.post(url, {"version": 1, "employee_notes": "On track.", "obstacles": "Scanners"}).status_code == 302
    page = html(manager.get(url))
    assert 'name="manager_notes"' in page and "On track." in page and "Save and complete" in page
    response = manager.post(
        url, {"version": 2, "manager_notes": "Agreed.", "coaching_notes": "Try X", "action": "complete"}
    )
    assert response.status_code == 302
    check_in = CheckIn.objects.get()
    assert (check_in.employee_notes, check_in.manager_notes, check_in.completed_at is not None) == (
        "On track.",
        "Agreed.",
        True,
    )
    assert [g["title"] for g in check_in.goal_snapshot] == ["Goal 1", "Goal 2"]
    page = html(employee.get(url))
    assert "as it stood on" in page and "<textarea" not in page
    assert employee.post(url, {"version": check_in.version, "employee_notes": "Later"}).status_code == 400


def test_a_stale_check_in_save_is_409_with_the_input_kept(client_for, cast, s):
    url = reverse("appraisals:checkin_detail", args=[s.check_in.pk])
    client_for(cast.manager).post(url, {"version": 1, "obstacles": "Staffing"})
    response = client_for(cast.employee).post(url, {"version": 1, "obstacles": "Scanners", "employee_notes": "Mine"})
    assert response.status_code == 409
    page = html(response)
    assert "Scanners" in page and "Mine" in page and 'name="version" value="2"' in page
    assert CheckIn.objects.get().obstacles == "Staffing"


def test_only_the_reviewer_completes_the_check_in(client_for, cast, s):
    url = reverse("appraisals:checkin_detail", args=[s.check_in.pk])
    assert client_for(cast.employee).post(url, {"version": 1, "action": "complete"}).status_code == 403
    assert CheckIn.objects.get().completed_at is None


# ---------------------------------------------------------------- the development plan


def test_the_plan_takes_actions_and_is_agreed(client_for, cast, s):
    url = reverse("appraisals:plan_detail", args=[s.plan.pk])
    client = client_for(cast.employee)
    competency = s.rows[0].competency
    response = client.post(
        url,
        {"action": "add", "version": 1, "description": "Run a PDSA on handover", "competency": competency.pk,
         "target_level": "4", "due_date": "2026-11-30"},
    )  # fmt: skip
    assert response.status_code == 302
    action = DevelopmentAction.objects.get()
    assert (action.competency, action.target_level, action.due_date) == (competency, 4, datetime.date(2026, 11, 30))
    response = client.post(url, {"action": "agree", "version": 1, "summary": "Lead improvement."})
    assert response.status_code == 302
    plan = DevelopmentPlan.objects.get()
    assert plan.summary == "Lead improvement." and plan.agreed_at is not None
    page = html(client.get(url))
    assert "Add an action" not in page and "Update progress" in page
    prefix = f"action-{action.pk}"
    response = client_for(cast.manager).post(
        url, {"action": "update", "item": action.pk, "version": plan.version, f"{prefix}-status": ActionStatus.DONE}
    )
    assert response.status_code == 302
    assert DevelopmentAction.objects.get().status == ActionStatus.DONE


def test_agreeing_an_empty_plan_is_400_with_the_summary_kept(client_for, cast, s):
    response = client_for(cast.employee).post(
        reverse("appraisals:plan_detail", args=[s.plan.pk]), {"action": "agree", "version": 1, "summary": "Draft"}
    )
    assert response.status_code == 400
    assert "Add at least one development action" in html(response) and "Draft" in html(response)
    assert DevelopmentPlan.objects.get().agreed_at is None


def test_a_bad_action_is_400_with_the_input_kept(client_for, cast, s):
    response = client_for(cast.employee).post(
        reverse("appraisals:plan_detail", args=[s.plan.pk]),
        {"action": "add", "version": 1, "description": "Shadow the matron", "target_level": "3"},
    )
    assert response.status_code == 400
    assert "Choose the competency" in html(response) and "Shadow the matron" in html(response)


def test_a_stale_plan_save_is_409_with_the_summary_kept(client_for, cast, s):
    url = reverse("appraisals:plan_detail", args=[s.plan.pk])
    client_for(cast.manager).post(url, {"action": "save", "version": 1, "summary": "The manager's."})
    response = client_for(cast.employee).post(url, {"action": "save", "version": 1, "summary": "Mine."})
    assert response.status_code == 409 and "Mine." in html(response)
    assert DevelopmentPlan.objects.get().summary == "The manager's."


def test_an_action_of_another_plan_is_404(client_for, cast, s):
    other = DevelopmentActionFactory()
    response = client_for(cast.employee).post(
        reverse("appraisals:plan_detail", args=[s.plan.pk]), {"action": "update", "item": other.pk, "version": 1}
    )
    assert response.status_code == 404

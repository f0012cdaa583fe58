"""The appraisal workflow: each step and each refusal, 409 on a stale save, locked
records that never change, the history, next-cycle goals, and the page's query count."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appraisals import selectors
from appraisals.models import (
    Appraisal,
    AppraisalState,
    CompetencyRating,
    DialogueAnswer,
    GoalRating,
    HistoryEntry,
)
from appraisals.services import appraisals as svc
from cascade.models import Approval, Goal, GoalLevel, GoalStatus
from competencies.models import QuestionKey
from core.errors import ConflictError
from tests.appraisals.factories import (
    AppraisalFactory,
    ParticipantWithRecordsFactory,
    PublishedFormVersionFactory,
    ReviewCycleFactory,
    appraisal_scenario,
    fill_blank_ratings,
)
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityPriorityFactory
from tests.factories import EmployeeFactory


def user_of(employee):  # type: ignore[no-untyped-def]
    """A fresh user object: the selectors cache the employee record on it."""
    return get_user_model().objects.get(pk=employee.user_id)


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def _fresh(appraisal: Appraisal) -> Appraisal:
    return Appraisal.objects.select_related("participant__cycle", "participant__employee").get(pk=appraisal.pk)


def _self_rate(s, cast, ratings=(4, 3), competencies=(4, 5)):  # type: ignore[no-untyped-def]
    a = _fresh(s.appraisal)
    return svc.appraisal_save_draft(
        user=user_of(cast.employee),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={
            g.pk: {"rating": Decimal(r), "comment": "Did it."} for g, r in zip(s.goals, ratings, strict=True)
        },
        competency_ratings={
            row.pk: {"rating": Decimal(r), "evidence": "Mapped the ward."}
            for row, r in zip(s.rows, competencies, strict=True)
        },
    )


def _to_review(s, cast) -> Appraisal:  # type: ignore[no-untyped-def]
    a = _self_rate(s, cast)
    return svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)


def _manager_rate(s, cast, ratings=(4, 2), competencies=(5, 3)) -> Appraisal:  # type: ignore[no-untyped-def]
    a = _fresh(s.appraisal)
    return svc.appraisal_save_draft(
        user=user_of(cast.manager),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={g.pk: {"rating": r, "comment": "Seen it."} for g, r in zip(s.goals, ratings, strict=True)},
        competency_ratings={row.pk: {"rating": r} for row, r in zip(s.rows, competencies, strict=True)},
    )


def _to_dialogue(s, cast, *, share: bool = True) -> Appraisal:  # type: ignore[no-untyped-def]
    _to_review(s, cast)
    a = _manager_rate(s, cast)
    a = svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    if share:
        a = svc.appraisal_share(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    return a


# ---------------------------------------------------------------- the factories


def test_the_factories_build_a_ready_appraisal(cast):
    p = ParticipantWithRecordsFactory(employee=cast.employee, records__appraisal_state=AppraisalState.SELF_ASSESSMENT)
    assert p.reviewer == cast.manager
    assert p.form_version.status == "published"
    assert [row.weight for row in p.form_version.competencies.all()] == [50, 50]
    assert p.form_version.questions.count() == 4
    assert p.appraisal.state == AppraisalState.SELF_ASSESSMENT
    assert p.check_in and p.development_plan
    assert p.cycle.period.name == p.cycle.name
    assert ReviewCycleFactory(year=2025).period.start.year == 2025
    assert [row.weight for row in PublishedFormVersionFactory(competency_weights=[50, 30, 20]).competencies.all()] == [
        50,
        30,
        20,
    ]
    assert AppraisalFactory().state == AppraisalState.DRAFT


# ---------------------------------------------------------------- each step


def test_start_opens_the_self_assessment_once(cast):
    s = appraisal_scenario(employee=cast.employee, state=AppraisalState.DRAFT)
    a = svc.appraisal_start(appraisal=_fresh(s.appraisal))
    assert a.state == AppraisalState.SELF_ASSESSMENT
    assert a.version == 2
    with pytest.raises(ValidationError, match="already been opened"):
        svc.appraisal_start(appraisal=a)


def test_start_study_opens_every_draft_of_the_cycle_and_can_run_again(cast):
    s = appraisal_scenario(employee=cast.employee, state=AppraisalState.DRAFT)
    other = ParticipantWithRecordsFactory(cycle=s.cycle, employee=EmployeeFactory(manager=cast.manager))
    assert svc.start_study(cycle=s.cycle) == 2
    assert svc.start_study(cycle=s.cycle) == 0
    assert set(Appraisal.objects.values_list("state", flat=True)) == {AppraisalState.SELF_ASSESSMENT}
    entry = HistoryEntry.objects.get(participant=other)
    assert (entry.field, entry.old, entry.new, entry.actor) == ("state", "draft", "self_assessment", None)


def test_the_employee_saves_a_self_assessment_and_submits_it(s, cast):
    a = _self_rate(s, cast)
    rating = GoalRating.objects.get(appraisal=a, goal=s.goals[0])
    assert (rating.self_rating, rating.self_comment, rating.manager_rating) == (Decimal(4), "Did it.", None)
    assert CompetencyRating.objects.get(appraisal=a, form_competency=s.rows[1]).self_rating == Decimal(5)
    a = svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    assert a.state == AppraisalState.MANAGER_REVIEW
    assert a.self_submitted_at is not None


def test_the_self_assessment_cannot_be_submitted_twice(s, cast):
    a = _to_review(s, cast)
    with pytest.raises(ValidationError, match="The self-assessment has already been submitted"):
        svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)


def test_the_self_assessment_cannot_be_submitted_before_it_opens(cast):
    s = appraisal_scenario(employee=cast.employee, state=AppraisalState.DRAFT)
    with pytest.raises(ValidationError, match="has not opened yet"):
        svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=_fresh(s.appraisal), expected_version=None)


def test_a_draft_appraisal_refuses_the_employees_ratings(cast):
    s = appraisal_scenario(employee=cast.employee, state=AppraisalState.DRAFT)
    with pytest.raises(ValidationError, match="opens when the cycle's Study phase begins"):
        _self_rate(s, cast)


@pytest.mark.parametrize("who", ["manager", "chief", "hr"])
def test_only_the_employee_submits_the_self_assessment(s, cast, who):
    with pytest.raises(PermissionDenied):
        svc.appraisal_submit_self(user=user_of(getattr(cast, who)), appraisal=_fresh(s.appraisal), expected_version=1)
    assert _fresh(s.appraisal).state == AppraisalState.SELF_ASSESSMENT


def test_the_review_waits_for_the_self_assessment(s, cast):
    with pytest.raises(ValidationError, match="once Staff Nurse has submitted"):
        svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=_fresh(s.appraisal), expected_version=1)
    with pytest.raises(ValidationError, match="The review opens once"):
        _manager_rate(s, cast)


def test_the_reviewer_submits_the_review_and_the_score_is_stored(s, cast):
    _to_review(s, cast)
    a = _manager_rate(s, cast)
    assert a.score is None  # not stored while the review is a draft
    a = svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    assert a.state == AppraisalState.DIALOGUE
    assert a.manager_submitted_at is not None
    # goals 60/40 at 4 and 2 on 1–5 → 75 and 25 → 55; competencies 60/40 at 5 and 3 → 100 and 50 → 80;
    # form 60/40 → 0.6 × 55 + 0.4 × 80 = 65.
    assert a.score == Decimal("65.00")
    assert a.score_breakdown["formula_version"] == "1"
    with pytest.raises(ValidationError, match="The review has already been submitted"):
        svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=a, expected_version=a.version)


@pytest.mark.parametrize("who", ["employee", "chief", "hr", "stranger"])
def test_only_the_reviewer_submits_and_shares_the_review(s, cast, who):
    a = _to_review(s, cast)
    with pytest.raises(PermissionDenied):
        svc.appraisal_submit_review(user=user_of(getattr(cast, who)), appraisal=a, expected_version=a.version)
    with pytest.raises(PermissionDenied):
        svc.appraisal_share(user=user_of(getattr(cast, who)), appraisal=a, expected_version=a.version)


def test_the_reviewer_of_an_override_is_the_one_who_reviews(cast):
    s = appraisal_scenario(employee=cast.employee, reviewer=cast.chief)
    _to_review(s, cast)
    fill_blank_ratings(_fresh(s.appraisal), side="manager")
    with pytest.raises(PermissionDenied):
        svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=_fresh(s.appraisal), expected_version=None)
    a = svc.appraisal_submit_review(user=user_of(cast.chief), appraisal=_fresh(s.appraisal), expected_version=None)
    assert a.state == AppraisalState.DIALOGUE


def test_sharing_stores_the_score_and_happens_once(s, cast):
    _to_review(s, cast)
    a = _manager_rate(s, cast)
    a = svc.appraisal_share(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    assert a.shared_at is not None
    assert a.state == AppraisalState.MANAGER_REVIEW  # sharing does not move the state
    assert a.score == Decimal("65.00")
    with pytest.raises(ValidationError, match="already been shared"):
        svc.appraisal_share(user=user_of(cast.manager), appraisal=a, expected_version=a.version)


def test_nothing_is_shared_before_the_review_opens(s, cast):
    with pytest.raises(ValidationError, match="nothing to share yet"):
        svc.appraisal_share(user=user_of(cast.manager), appraisal=_fresh(s.appraisal), expected_version=None)


def test_a_changed_rating_after_sharing_recomputes_the_stored_score(s, cast):
    a = _to_dialogue(s, cast)
    a = svc.appraisal_save_draft(
        user=user_of(cast.manager),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[1].pk: {"rating": 4}},
    )
    # goals (60 × 75 + 40 × 75) / 100 = 75 → 0.6 × 75 + 0.4 × 80 = 77.
    assert a.score == Decimal("77.00")


def test_the_employee_acknowledges_with_a_comment(s, cast):
    a = _to_dialogue(s, cast)
    a = svc.appraisal_acknowledge(
        user=user_of(cast.employee), appraisal=a, expected_version=a.version, comment="  Fair, thank you.  "
    )
    assert a.state == AppraisalState.ACKNOWLEDGED
    assert a.acknowledged_at is not None
    assert a.employee_comment == "Fair, thank you."
    with pytest.raises(ValidationError, match="already been acknowledged"):
        svc.appraisal_acknowledge(user=user_of(cast.employee), appraisal=a, expected_version=a.version)


def test_acknowledging_waits_for_the_shared_review(s, cast):
    a = _to_dialogue(s, cast, share=False)
    with pytest.raises(ValidationError, match="not shared their ratings yet"):
        svc.appraisal_acknowledge(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    with pytest.raises(PermissionDenied):
        svc.appraisal_acknowledge(user=user_of(cast.manager), appraisal=a, expected_version=a.version)
    b = appraisal_scenario(employee=EmployeeFactory(manager=cast.manager))
    with pytest.raises(ValidationError, match="nothing to acknowledge yet"):
        svc.appraisal_acknowledge(
            user=user_of(b.participant.employee), appraisal=_fresh(b.appraisal), expected_version=None
        )


def test_the_employee_comments_during_the_dialogue_only(s, cast):
    with pytest.raises(ValidationError) as refused:
        svc.appraisal_save_draft(
            user=user_of(cast.employee), appraisal=_fresh(s.appraisal), expected_version=None, employee_comment="Hi"
        )
    assert "employee_comment" in refused.value.message_dict
    a = _to_dialogue(s, cast)
    a = svc.appraisal_save_draft(
        user=user_of(cast.employee), appraisal=a, expected_version=a.version, employee_comment="Hi"
    )
    assert a.employee_comment == "Hi"


def test_dialogue_answers_are_written_by_each_side_in_turn(s, cast):
    goals_q = s.questions[QuestionKey.NEXT_CYCLE_GOALS]
    a = svc.appraisal_save_draft(
        user=user_of(cast.employee), appraisal=_fresh(s.appraisal), expected_version=1, answers={goals_q.pk: "Falls"}
    )
    assert DialogueAnswer.objects.get(appraisal=a, question=goals_q).text == "Falls"
    with pytest.raises(ValidationError):  # the manager waits for the self-assessment
        svc.appraisal_save_draft(
            user=user_of(cast.manager), appraisal=a, expected_version=a.version, answers={goals_q.pk: "x"}
        )
    a = _to_dialogue(s, cast)
    a = svc.appraisal_save_draft(
        user=user_of(cast.manager),
        appraisal=a,
        expected_version=a.version,
        answers={goals_q.pk: {"text": "Falls\nSepsis"}},
    )
    assert DialogueAnswer.objects.get(appraisal=a, question=goals_q).text == "Falls\nSepsis"


# ---------------------------------------------------------------- what each side may write


def test_a_rating_must_be_a_level_of_the_scale_and_nothing_is_half_written(s, cast):
    with pytest.raises(ValidationError) as refused:
        svc.appraisal_save_draft(
            user=user_of(cast.employee),
            appraisal=_fresh(s.appraisal),
            expected_version=1,
            goal_ratings={s.goals[0].pk: {"rating": 4}, s.goals[1].pk: {"rating": "7"}},
            competency_ratings={s.rows[0].pk: {"rating": "2.5"}},
        )
    errors = refused.value.message_dict
    assert f"goal_ratings.{s.goals[1].pk}.rating" in errors
    assert "7 is not a level of the scale" in errors[f"goal_ratings.{s.goals[1].pk}.rating"][0]
    assert f"competency_ratings.{s.rows[0].pk}.rating" in errors
    assert not GoalRating.objects.exists()
    assert _fresh(s.appraisal).version == 1


def test_a_goal_that_is_not_the_persons_is_refused(s, cast):
    someone_elses = IndividualGoalFactory(owner=cast.manager, period=s.cycle.period)
    cancelled = IndividualGoalFactory(owner=cast.employee, period=s.cycle.period, status=GoalStatus.CANCELLED)
    with pytest.raises(ValidationError) as refused:
        svc.appraisal_save_draft(
            user=user_of(cast.employee),
            appraisal=_fresh(s.appraisal),
            expected_version=1,
            goal_ratings={someone_elses.pk: {"rating": 3}, cancelled.pk: {"rating": 3}},
        )
    assert len(refused.value.message_dict["goal_ratings"]) == 2


def test_a_cleared_rating_is_saved_as_none(s, cast):
    a = _self_rate(s, cast)
    a = svc.appraisal_save_draft(
        user=user_of(cast.employee),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[0].pk: {"rating": ""}},
    )
    assert GoalRating.objects.get(appraisal=a, goal=s.goals[0]).self_rating is None


def test_each_side_writes_only_its_own_fields(s, cast):
    _to_review(s, cast)
    a = _manager_rate(s, cast)
    rating = GoalRating.objects.get(appraisal=a, goal=s.goals[0])
    assert (rating.self_rating, rating.self_comment) == (Decimal(4), "Did it.")  # the employee's, untouched
    assert (rating.manager_rating, rating.manager_comment) == (Decimal(4), "Seen it.")
    with pytest.raises(ValidationError, match="has been submitted"):
        _self_rate(s, cast)


@pytest.mark.parametrize("who", ["chief", "hr"])
def test_readers_above_and_hr_never_write(s, cast, who):
    _to_review(s, cast)
    with pytest.raises(PermissionDenied):
        _manager_rate_as(s, getattr(cast, who))


def _manager_rate_as(s, employee):  # type: ignore[no-untyped-def]
    a = _fresh(s.appraisal)
    return svc.appraisal_save_draft(
        user=user_of(employee), appraisal=a, expected_version=a.version, goal_ratings={s.goals[0].pk: {"rating": 5}}
    )


def test_a_stranger_cannot_write(s, cast):
    with pytest.raises(PermissionDenied):
        _manager_rate_as(s, cast.stranger)


# ---------------------------------------------------------------- 409


def test_a_stale_save_answers_conflict_and_loses_nothing(s, cast):
    first_reader = _fresh(s.appraisal)
    second_reader = _fresh(s.appraisal)
    svc.appraisal_save_draft(
        user=user_of(cast.employee),
        appraisal=first_reader,
        expected_version=first_reader.version,
        goal_ratings={s.goals[0].pk: {"rating": 4, "comment": "First tab"}},
    )
    with pytest.raises(ConflictError):
        svc.appraisal_save_draft(
            user=user_of(cast.employee),
            appraisal=second_reader,
            expected_version=1,
            goal_ratings={s.goals[0].pk: {"rating": 2, "comment": "Second tab"}, s.goals[1].pk: {"rating": 1}},
        )
    rating = GoalRating.objects.get(goal=s.goals[0])
    assert (rating.self_rating, rating.self_comment) == (Decimal(4), "First tab")
    assert not GoalRating.objects.filter(goal=s.goals[1]).exists()
    assert _fresh(s.appraisal).version == 2


def test_a_stale_step_answers_conflict(s, cast):
    a = _self_rate(s, cast)
    with pytest.raises(ConflictError):
        svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version - 1)
    assert _fresh(a).state == AppraisalState.SELF_ASSESSMENT


# ---------------------------------------------------------------- locking


@pytest.mark.parametrize("reach", ["draft", "self", "review", "dialogue"])
def test_hr_locks_from_any_state_with_the_final_score(cast, reach):
    s = appraisal_scenario(
        employee=cast.employee, state=AppraisalState.DRAFT if reach == "draft" else AppraisalState.SELF_ASSESSMENT
    )
    if reach == "review":
        _to_review(s, cast)
        _manager_rate(s, cast)
    if reach == "dialogue":
        _to_dialogue(s, cast)
    a = svc.appraisal_lock(appraisal=_fresh(s.appraisal), user=user_of(cast.hr))
    assert a.state == AppraisalState.LOCKED
    assert a.locked_at is not None
    assert a.score == (Decimal("65.00") if reach in ("review", "dialogue") else None)
    assert a.score_breakdown["formula_version"] == "1"
    with pytest.raises(ValidationError, match="already locked"):
        svc.appraisal_lock(appraisal=a, user=user_of(cast.hr))


@pytest.mark.parametrize("who", ["employee", "manager", "chief"])
def test_only_hr_locks(s, cast, who):
    with pytest.raises(PermissionDenied):
        svc.appraisal_lock(appraisal=_fresh(s.appraisal), user=user_of(getattr(cast, who)))


def test_closing_a_cycle_locks_every_appraisal_in_bulk_once(s, cast):
    _to_dialogue(s, cast)
    other = ParticipantWithRecordsFactory(cycle=s.cycle, employee=EmployeeFactory(manager=cast.manager))
    assert svc.lock_cycle(cycle=s.cycle, user=user_of(cast.hr)) == 2
    assert svc.lock_cycle(cycle=s.cycle) == 0
    assert _fresh(s.appraisal).score == Decimal("65.00")
    assert Appraisal.objects.get(participant=other).state == AppraisalState.LOCKED


@pytest.fixture
def locked(s, cast):  # type: ignore[no-untyped-def]
    _to_dialogue(s, cast)
    a = svc.appraisal_lock(appraisal=_fresh(s.appraisal), user=user_of(cast.hr))
    return a


def test_a_locked_appraisal_refuses_every_service(s, cast, locked):
    calls = [
        lambda: svc.appraisal_save_draft(
            user=user_of(cast.manager),
            appraisal=locked,
            expected_version=None,
            goal_ratings={s.goals[0].pk: {"rating": 1}},
        ),
        lambda: svc.appraisal_save_draft(
            user=user_of(cast.employee), appraisal=locked, expected_version=None, employee_comment="Changed my mind"
        ),
        lambda: svc.appraisal_acknowledge(user=user_of(cast.employee), appraisal=locked, expected_version=None),
        lambda: svc.appraisal_share(user=user_of(cast.manager), appraisal=locked, expected_version=None),
        lambda: svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=locked, expected_version=None),
        lambda: svc.appraisal_submit_review(user=user_of(cast.manager), appraisal=locked, expected_version=None),
        lambda: svc.appraisal_start(appraisal=locked),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="locked"):
            call()
    assert _fresh(locked).version == locked.version
    assert GoalRating.objects.get(goal=s.goals[0]).manager_rating == Decimal(4)


def test_a_locked_appraisal_refuses_a_direct_save_or_delete(s, locked):
    a = Appraisal.objects.get(pk=locked.pk)
    a.employee_comment = "Edited behind the services' back"
    with pytest.raises(ValidationError, match="locked"):
        a.save()
    with pytest.raises(ValidationError, match="locked"):
        a.delete()
    rating = GoalRating.objects.get(goal=s.goals[0])
    rating.manager_rating = Decimal(1)
    with pytest.raises(ValidationError, match="locked"):
        rating.save()
    with pytest.raises(ValidationError, match="locked"):
        rating.delete()
    answer = DialogueAnswer(appraisal=a, question=s.questions[QuestionKey.SUCCESSES], text="New")
    with pytest.raises(ValidationError, match="locked"):
        answer.save()


def test_a_locked_appraisal_refuses_bulk_writes(s, locked):
    with pytest.raises(ValidationError, match="locked"):
        Appraisal.objects.filter(pk=locked.pk).update(employee_comment="bulk")
    with pytest.raises(ValidationError, match="locked"):
        GoalRating.objects.filter(appraisal=locked).update(manager_rating=1)
    with pytest.raises(ValidationError, match="locked"):
        CompetencyRating.objects.filter(appraisal=locked).delete()
    with pytest.raises(ValidationError, match="locked"):
        DialogueAnswer.objects.bulk_create([DialogueAnswer(appraisal=locked, question=s.questions["successes"])])
    rows = list(GoalRating.objects.filter(appraisal=locked))
    for row in rows:
        row.manager_rating = Decimal(1)
    with pytest.raises(ValidationError, match="locked"), transaction.atomic():
        GoalRating.objects.bulk_update(rows, ["manager_rating"])
    assert Appraisal.objects.get(pk=locked.pk).employee_comment == ""


def test_a_locked_appraisal_is_read_only_in_the_admin(client_for, s, cast, locked):
    client = client_for(cast.hr)
    url = reverse("admin:appraisals_appraisal_change", args=[locked.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"employee_comment": "Admin edit", "state": "draft"})
    assert response.status_code == 403
    rating = GoalRating.objects.get(goal=s.goals[0])
    rating_url = reverse("admin:appraisals_goalrating_change", args=[rating.pk]) if _registered("goalrating") else None
    if rating_url:
        assert client.post(rating_url, {"manager_rating": "1"}).status_code == 403
    fresh = _fresh(locked)
    assert (fresh.state, fresh.employee_comment, fresh.version) == (AppraisalState.LOCKED, "", locked.version)


def _registered(model_name: str) -> bool:
    from django.contrib import admin

    return any(m._meta.model_name == model_name for m in admin.site._registry)


def test_the_admin_lock_action_calls_the_service(client_for, s, cast):
    client = client_for(cast.hr)
    url = reverse("admin:appraisals_appraisal_changelist")
    response = client.post(url, {"action": "lock_selected", "_selected_action": [s.appraisal.pk]})
    assert response.status_code == 302
    assert _fresh(s.appraisal).state == AppraisalState.LOCKED
    assert HistoryEntry.objects.filter(participant=s.participant, action="locked", actor=cast.hr.user).exists()


def test_nobody_but_hr_reaches_the_appraisal_admin(client_for, s, cast):
    response = client_for(cast.manager).get(reverse("admin:appraisals_appraisal_change", args=[s.appraisal.pk]))
    assert response.status_code in (302, 403)


# ---------------------------------------------------------------- history


def test_every_change_is_in_the_history_with_who_old_and_new(s, cast):
    a = _self_rate(s, cast)
    a = svc.appraisal_save_draft(
        user=user_of(cast.employee),
        appraisal=a,
        expected_version=a.version,
        goal_ratings={s.goals[0].pk: {"rating": 5}},
    )
    entries = HistoryEntry.objects.filter(participant=s.participant, field="self_rating", record="goal: Goal 1")
    assert [(e.old, e.new, e.actor_id, e.action) for e in entries.order_by("pk")] == [
        (None, "4", cast.employee.user_id, "saved"),
        ("4", "5", cast.employee.user_id, "saved"),
    ]
    svc.appraisal_submit_self(user=user_of(cast.employee), appraisal=a, expected_version=a.version)
    step = HistoryEntry.objects.get(participant=s.participant, action="submitted the self-assessment", field="state")
    assert (step.old, step.new, step.cycle_id) == ("self_assessment", "manager_review", s.cycle.pk)


def test_an_unchanged_save_writes_no_history_and_keeps_the_version(s, cast):
    a = _self_rate(s, cast)
    count, version = HistoryEntry.objects.count(), a.version
    a = _self_rate(s, cast)
    assert (HistoryEntry.objects.count(), a.version) == (count, version)


def test_history_for_lists_the_newest_first(s, cast):
    from appraisals import history

    _to_review(s, cast)
    entries = history.history_for(s.participant)
    assert entries[0].action == "submitted the self-assessment"
    assert history.actor_name(entries[0]) == "Staff Nurse"


# ---------------------------------------------------------------- next-cycle goals


def _answer_next_goals(s, cast, text: str) -> None:  # type: ignore[no-untyped-def]
    svc.appraisal_save_draft(
        user=user_of(cast.employee),
        appraisal=_fresh(s.appraisal),
        expected_version=None,
        answers={s.questions[QuestionKey.NEXT_CYCLE_GOALS].pk: text},
    )


def test_next_cycle_goal_texts_are_one_per_line(s, cast):
    _answer_next_goals(
        s, cast, "- Cut falls on ward 7 by half\n\n  2. Run a PDSA on handover  \n- cut falls on ward 7 by half\n"
    )
    assert svc.next_cycle_goal_texts(_fresh(s.appraisal)) == ["Cut falls on ward 7 by half", "Run a PDSA on handover"]


def test_next_cycle_goals_become_draft_goals_once(s, cast):
    _answer_next_goals(s, cast, "Cut falls by half\nRun a PDSA on handover")
    later = ReviewCycleFactory(year=2027, phase="plan")
    department_goal = FunctionalGoalFactory(
        priority=s.priority, department=cast.employee.department, period=later.period
    )
    ParticipantWithRecordsFactory(cycle=later, employee=cast.employee)
    ParticipantWithRecordsFactory(cycle=later, employee=cast.stranger)  # not in the first cycle: nothing
    assert svc.carry_next_cycle_goals(from_cycle=s.cycle, to_cycle=later) == 2
    assert svc.carry_next_cycle_goals(from_cycle=s.cycle, to_cycle=later) == 0
    goals = Goal.objects.filter(period=later.period, level=GoalLevel.INDIVIDUAL).order_by("title")
    assert [(g.title, g.owner, g.approval, g.weight, g.priority, g.parent_goal) for g in goals] == [
        ("Cut falls by half", cast.employee, Approval.DRAFT, 1, s.priority, department_goal),
        ("Run a PDSA on handover", cast.employee, Approval.DRAFT, 1, s.priority, department_goal),
    ]
    assert HistoryEntry.objects.filter(cycle=later, action__startswith="carried over").count() == 2


def test_next_cycle_goals_fall_back_to_the_first_active_priority(cast):
    s = appraisal_scenario(employee=cast.employee, goal_weights=[])
    _answer_next_goals(s, cast, "Learn SPC")
    later = ReviewCycleFactory(year=2027)
    ParticipantWithRecordsFactory(cycle=later, employee=cast.employee)
    QualityPriorityFactory(title="AAA first priority")
    assert svc.carry_next_cycle_goals(from_cycle=s.cycle, to_cycle=later) == 1
    goal = Goal.objects.get(period=later.period)
    assert (goal.priority.title, goal.parent_goal) == ("AAA first priority", None)


# ---------------------------------------------------------------- the page


def _page_queries(cast, goals: int, competencies: int, who) -> int:  # type: ignore[no-untyped-def]
    s = appraisal_scenario(
        employee=cast.employee,
        goal_weights=[100 // goals] * goals,
        competency_weights=[100 // competencies] * competencies,
    )
    for goal in s.goals[1:3]:
        goal.measure = s.measure
        goal.save()
    _self_rate(s, cast, ratings=[3] * goals, competencies=[3] * competencies)
    user = user_of(who)
    with CaptureQueriesContext(connection) as queries:
        appraisal, access = selectors.get_appraisal(user=user, pk=s.appraisal.pk)
        page = selectors.appraisal_page(appraisal=appraisal, access=access)
    started = time.perf_counter()
    for _ in range(10):
        selectors.appraisal_page(appraisal=appraisal, access=access)
    print(f"appraisal_page: {(time.perf_counter() - started) * 100:.1f} ms each")
    assert len(page.goals) == goals
    assert len(page.competencies) == competencies
    return len(queries)


@pytest.mark.parametrize("who", ["employee", "manager", "chief", "hr"])
def test_the_page_takes_a_bounded_number_of_queries(cast, who):
    assert _page_queries(cast, 5, 4, getattr(cast, who)) <= 25


def test_the_page_query_count_does_not_grow_with_goals(cast):
    many = _page_queries(cast, 5, 4, cast.manager)
    few = _page_queries(cast, 2, 4, cast.manager)
    print(f"appraisal_page queries: {many} (5 goals, 4 competencies), {few} (2 goals)")
    assert many == few <= 25

"""Career pathways: each criterion firing and not, the nightly job, HR's decisions, titles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from appraisals.models import ActionStatus, Appraisal, AppraisalState, CompetencyRating, CycleState
from cascade.models import GoalStatus
from incentives import tasks
from incentives.models import CandidateStatus, Pathway, PathwayCandidate, Recognition, RecognitionKind
from incentives.selectors import recognition as selectors
from incentives.services import pathways as service
from incentives.services import recognition as recognition_service
from tests.appraisals.factories import (
    DevelopmentActionFactory,
    DevelopmentPlanFactory,
    ParticipantFactory,
    ReviewCycleFactory,
)
from tests.cascade.factories import IndividualGoalFactory

pytestmark = pytest.mark.django_db


def pathway(hr, **criteria) -> Pathway:
    levels = criteria.pop("levels", [])
    return service.save_pathway(user=hr.user, data={"name": "Quality Champion", **criteria}, levels=levels)


def closed_cycle(year: int):
    return ReviewCycleFactory(year=year, state=CycleState.CLOSED, phase=None)


def achieved_goals(person, cycle, count: int, status=GoalStatus.ACHIEVED, *, signed_off: bool = True) -> None:
    """Goals closed with ``status``, the result signed off by the person's manager unless told otherwise."""
    sign_off = {"result_signed_off_at": timezone.now(), "result_signed_off_by": person.manager} if signed_off else {}
    for _ in range(count):
        IndividualGoalFactory(owner=person, period=cycle.period, status=status, weight=10, **sign_off)


def locked_rating(person, cycle, rating: str):
    """A locked appraisal for ``person`` in ``cycle`` rating the form's first competency ``rating``; returns it."""
    participant = ParticipantFactory(cycle=cycle, employee=person)
    row = participant.form_version.competencies.order_by("order").first()
    appraisal = Appraisal.objects.create(participant=participant, state=AppraisalState.MANAGER_REVIEW)
    CompetencyRating.objects.create(appraisal=appraisal, form_competency=row, manager_rating=Decimal(rating))
    appraisal.state = AppraisalState.LOCKED
    appraisal.save()
    return row.competency, participant


# ---------------------------------------------------------------- definitions


def test_only_hr_defines_pathways_and_at_least_one_criterion_is_needed(cast):
    with pytest.raises(PermissionDenied):
        pathway(cast.manager, min_recognitions=1)
    with pytest.raises(ValidationError) as error:
        pathway(cast.hr)
    assert "criteria" in error.value.message_dict
    assert pathway(cast.hr, min_recognitions=2).min_recognitions == 2


# ---------------------------------------------------------------- each criterion


def test_achieved_qi_goals_count_over_the_last_closed_cycles_only(cast):
    old, recent = closed_cycle(2024), closed_cycle(2025)
    running = ReviewCycleFactory(year=2026)
    achieved_goals(cast.employee, old, 2)
    achieved_goals(cast.employee, recent, 1)
    achieved_goals(cast.employee, running, 5)  # not closed: does not count
    achieved_goals(cast.manager, recent, 3, status=GoalStatus.NOT_ACHIEVED)
    one_cycle = pathway(cast.hr, min_achieved_goals=2, goal_cycles=1)
    assert service.evaluate(one_cycle) == {}
    two_cycles = service.save_pathway(user=cast.hr.user, pathway=one_cycle, data={"goal_cycles": 2})
    assert service.evaluate(two_cycles) == {cast.employee.pk: {"achieved_goals": 3}}


def test_an_achieved_goal_counts_only_once_its_result_is_signed_off(cast):
    cycle = closed_cycle(2025)
    achieved_goals(cast.employee, cycle, 2, signed_off=False)  # closed by the owner alone: a claim
    champion = pathway(cast.hr, min_achieved_goals=2, goal_cycles=1)
    assert service.evaluate(champion) == {}
    achieved_goals(cast.employee, cycle, 1)
    assert service.evaluate(champion) == {}
    achieved_goals(cast.employee, cycle, 1)
    assert service.evaluate(champion) == {cast.employee.pk: {"achieved_goals": 2}}


def test_a_competency_level_counts_only_from_a_locked_appraisal_at_or_above_the_minimum(cast):
    cycle = closed_cycle(2025)
    competency, _ = locked_rating(cast.employee, cycle, "4")
    champion = pathway(cast.hr, levels=[(competency, Decimal("4"))])
    assert service.evaluate(champion) == {cast.employee.pk: {"competencies": {competency.name: "4.00"}}}
    stricter = service.save_pathway(user=cast.hr.user, pathway=champion, data={}, levels=[(competency, Decimal("5"))])
    assert service.evaluate(stricter) == {}


def test_a_competency_rated_in_an_appraisal_not_yet_locked_does_not_count(cast):
    participant = ParticipantFactory(cycle=ReviewCycleFactory(), employee=cast.employee)
    row = participant.form_version.competencies.first()
    appraisal = Appraisal.objects.create(participant=participant, state=AppraisalState.DIALOGUE)
    CompetencyRating.objects.create(appraisal=appraisal, form_competency=row, manager_rating=Decimal("5"))
    assert service.evaluate(pathway(cast.hr, levels=[(row.competency, Decimal("3"))])) == {}


def test_recognitions_received_count_but_hidden_ones_do_not(cast):
    first = recognition_service.post_recognition(user=cast.manager.user, recipients=[cast.employee], message="a")
    recognition_service.post_recognition(user=cast.stranger.user, recipients=[cast.employee], message="b")
    champion = pathway(cast.hr, min_recognitions=2)
    assert service.evaluate(champion) == {cast.employee.pk: {"recognitions": 2}}
    recognition_service.hide_recognition(user=cast.hr.user, post=first, reason="Duplicate")
    assert service.evaluate(champion) == {}


def test_completed_development_actions_count_and_planned_ones_do_not(cast):
    plan = DevelopmentPlanFactory(participant=ParticipantFactory(cycle=closed_cycle(2025), employee=cast.employee))
    DevelopmentActionFactory(plan=plan, status=ActionStatus.DONE)
    DevelopmentActionFactory(plan=plan)
    champion = pathway(cast.hr, min_development_actions=2)
    assert service.evaluate(champion) == {}
    champion = service.save_pathway(user=cast.hr.user, pathway=champion, data={"min_development_actions": 1})
    assert service.evaluate(champion) == {cast.employee.pk: {"development_actions": 1}}


def test_every_criterion_must_be_met(cast):
    recognition_service.post_recognition(user=cast.manager.user, recipients=[cast.employee], message="a")
    recognition_service.post_recognition(user=cast.manager.user, recipients=[cast.stranger], message="b")
    plan = DevelopmentPlanFactory(participant=ParticipantFactory(cycle=closed_cycle(2025), employee=cast.stranger))
    DevelopmentActionFactory(plan=plan, status=ActionStatus.DONE)
    both = pathway(cast.hr, min_recognitions=1, min_development_actions=1)
    assert list(service.evaluate(both)) == [cast.stranger.pk]


# ---------------------------------------------------------------- the nightly job


def test_the_nightly_job_proposes_new_candidates_once(cast):
    champion = pathway(cast.hr, min_recognitions=1)
    recognition_service.post_recognition(user=cast.manager.user, recipients=[cast.employee], message="a")
    assert tasks.find_pathway_candidates.delay().get() == 1
    candidate = PathwayCandidate.objects.get()
    assert (candidate.pathway, candidate.employee, candidate.status) == (champion, cast.employee, "pending")
    assert candidate.evidence == {"recognitions": 1}
    assert tasks.find_pathway_candidates.delay().get() == 0
    recognition_service.post_recognition(user=cast.manager.user, recipients=[cast.stranger], message="b")
    assert tasks.find_pathway_candidates() == 1
    assert PathwayCandidate.objects.count() == 2


def test_inactive_pathways_and_inactive_people_are_not_evaluated(cast):
    recognition_service.post_recognition(user=cast.manager.user, recipients=[cast.employee, cast.stranger], message="a")
    pathway(cast.hr, min_recognitions=1, is_active=False)
    assert service.find_candidates() == []
    service.save_pathway(user=cast.hr.user, pathway=Pathway.objects.get(), data={"is_active": True})
    cast.stranger.is_active = False
    cast.stranger.save()
    assert [c.employee for c in service.find_candidates()] == [cast.employee]


def test_the_nightly_job_is_scheduled_once_and_hr_edits_survive_a_migrate(cast):
    tasks.register_periodic_tasks()
    task = PeriodicTask.objects.get(task="incentives.find_pathway_candidates")
    task.enabled = False
    task.save()
    tasks.register_periodic_tasks()
    call_command("migrate", verbosity=0)  # post_migrate registers again: nothing changes
    scheduled = PeriodicTask.objects.filter(task="incentives.find_pathway_candidates")
    assert scheduled.count() == 1 and not scheduled.get().enabled


# ---------------------------------------------------------------- HR's decisions


@pytest.fixture
def candidate(cast) -> PathwayCandidate:
    pathway(cast.hr, min_recognitions=1)
    recognition_service.post_recognition(user=cast.stranger.user, recipients=[cast.employee], message="a")
    [found] = service.find_candidates()
    return found


def test_confirming_awards_the_title_on_the_profile_and_in_the_feed(
    cast, candidate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        service.confirm(user=cast.hr.user, candidate=candidate)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.AWARDED and candidate.decided_by == cast.hr
    assert [t.pathway.name for t in selectors.titles_for(cast.employee)] == ["Quality Champion"]
    award = Recognition.objects.get(kind=RecognitionKind.AWARD)
    assert award.author is None and list(award.recipients.all()) == [cast.employee]
    assert award in selectors.feed(user=cast.stranger.user)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([cast.employee.user.email, cast.manager.user.email])
    assert "Quality Champion" in mail.outbox[0].subject


def test_declining_keeps_the_reason_and_the_person_is_not_proposed_again(cast, candidate):
    with pytest.raises(ValidationError):
        service.decline(user=cast.hr.user, candidate=candidate, reason="")
    service.decline(user=cast.hr.user, candidate=candidate, reason="Too soon after joining.")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DECLINED and candidate.decline_reason == "Too soon after joining."
    assert selectors.titles_for(cast.employee) == []
    assert service.find_candidates() == []


def test_a_decided_candidate_cannot_be_decided_again(cast, candidate):
    service.confirm(user=cast.hr.user, candidate=candidate, send_email=False)
    with pytest.raises(ValidationError):
        service.decline(user=cast.hr.user, candidate=candidate, reason="Changed my mind")
    with pytest.raises(ValidationError):
        service.confirm(user=cast.hr.user, candidate=candidate)


def test_only_hr_confirms_or_declines(cast, candidate):
    for person in (cast.employee, cast.manager, cast.stranger):
        with pytest.raises(PermissionDenied):
            service.confirm(user=person.user, candidate=candidate)
        with pytest.raises(PermissionDenied):
            service.decline(user=person.user, candidate=candidate, reason="No")
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PENDING

"""Every change in a review cycle is written to the organisation's one action log, in the
change's own transaction: who, what, on which record, from what to what."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied

from appraisals.models import Appraisal, CheckIn, DevelopmentPlan, Participant, Phase, ReviewCycle, ToDo, ToDoKind
from appraisals.services import appraisals as workflow
from appraisals.services import checkins, cycles, development, todos
from competencies.models import AssignmentRule
from core.models import ActionLogEntry
from tests.appraisals.factories import (
    PublishedFormVersionFactory,
    appraisal_scenario,
    data_around_today,
    fill_blank_ratings,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("goal_period")]


def user_of(employee):  # type: ignore[no-untyped-def]
    """A fresh user object: access caches the employee record on it."""
    return get_user_model().objects.get(pk=employee.user_id)


def entries_on(obj, action: str | None = None):  # type: ignore[no-untyped-def]
    found = ActionLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    ).order_by("at", "pk")
    return list(found.filter(action=action) if action else found)


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(employee=cast.employee)


def test_setting_up_and_changing_a_cycle_is_logged_with_hr_as_the_actor(cast):
    cycle = cycles.cycle_create(user=user_of(cast.hr), data=data_around_today(name="Spring cycle"))
    [created] = entries_on(cycle, "appraisals.cycle.set_up")
    assert (created.actor_id, created.actor_label) == (cast.hr.user_id, "HR Admin")
    cycles.cycle_update(
        user=user_of(cast.hr), cycle=cycle, expected_version=cycle.version, data={"name": "Spring review"}
    )
    [changed] = entries_on(cycle, "appraisals.cycle.changed")
    assert changed.changes["name"] == ["Spring cycle", "Spring review"]


def test_a_phase_move_is_logged_with_the_old_and_new_phase(cast, s):
    s.cycle.phase = Phase.DO
    s.cycle.save()
    cycles.phase_move(user=user_of(cast.hr), cycle=ReviewCycle.objects.get(pk=s.cycle.pk), phase=Phase.STUDY)
    [moved] = entries_on(s.cycle, "appraisals.cycle.moved_to_another_phase")
    assert moved.actor_id == cast.hr.user_id
    assert moved.changes == {"phase": ["do", "study"]}


def test_a_refused_phase_move_writes_nothing(cast, s):
    before = ActionLogEntry.objects.count()
    with pytest.raises(PermissionDenied):
        cycles.phase_move(user=user_of(cast.manager), cycle=s.cycle, phase=Phase.ACT)
    assert ActionLogEntry.objects.count() == before


def test_each_appraisal_step_is_logged_on_the_person_with_its_state_change(cast, s):
    fill_blank_ratings(s.appraisal, side="self")
    appraisal = Appraisal.objects.get(pk=s.appraisal.pk)
    workflow.appraisal_submit_self(user=user_of(cast.employee), appraisal=appraisal, expected_version=appraisal.version)
    [submitted] = entries_on(s.participant, "appraisals.appraisal.submitted_the_self_assessment")
    assert submitted.actor_id == cast.employee.user_id
    assert submitted.changes["state"] == ["self_assessment", "manager_review"]
    assert submitted.data["record"] == "appraisal"
    appraisal = Appraisal.objects.get(pk=s.appraisal.pk)
    workflow.appraisal_lock(user=user_of(cast.hr), appraisal=appraisal, expected_version=appraisal.version)
    [locked] = [e for e in entries_on(s.participant) if e.changes.get("state", [None, None])[1] == "locked"]
    assert locked.actor_id == cast.hr.user_id


def test_check_in_and_development_plan_changes_are_logged_old_to_new(cast, s):
    check_in = CheckIn.objects.get(participant=s.participant)
    checkins.checkin_save(
        user=user_of(cast.employee), check_in=check_in, expected_version=check_in.version, data={"obstacles": "Rota"}
    )
    [saved] = entries_on(s.participant, "appraisals.check_in.saved")
    assert (saved.actor_id, saved.changes["obstacles"]) == (cast.employee.user_id, ["", "Rota"])
    plan = DevelopmentPlan.objects.get(participant=s.participant)
    development.plan_save(user=user_of(cast.manager), plan=plan, expected_version=plan.version, summary="Lead a PDSA")
    [summary] = entries_on(s.participant, "appraisals.development_plan.saved")
    assert (summary.actor_id, summary.changes["summary"]) == (cast.manager.user_id, ["", "Lead a PDSA"])


def test_ticking_a_to_do_is_logged_and_ticking_it_again_is_not(cast, s):
    todo = ToDo.objects.create(
        employee=cast.employee, cycle=s.cycle, participant=s.participant, kind=ToDoKind.CHECK_IN, due=s.cycle.end
    )
    todos.todo_done(user=user_of(cast.employee), todo=todo)
    todos.todo_done(user=user_of(cast.employee), todo=todo)
    [done] = entries_on(todo, "appraisals.todo.done")
    assert done.actor_id == cast.employee.user_id
    assert done.changes["done_at"][0] is None and done.changes["done_at"][1]


def test_a_launch_is_logged_by_hr_and_then_by_the_job(cast, django_capture_on_commit_callbacks):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    cycle = cycles.cycle_create(user=user_of(cast.hr), data=data_around_today())
    with django_capture_on_commit_callbacks(execute=True):
        cycles.cycle_launch(user=user_of(cast.hr), cycle=cycle)
    [started] = entries_on(cycle, "appraisals.cycle.launch_started")
    assert (started.actor_id, started.changes["state"]) == (cast.hr.user_id, ["setup", "launching"])
    [launched] = entries_on(cycle, "appraisals.cycle.launched")
    assert launched.actor_id is None  # the background job
    assert launched.changes["state"] == ["launching", "active"]
    assert Participant.objects.filter(cycle=cycle).exists()

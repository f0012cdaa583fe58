"""Setting up a review cycle (appraisals.services.cycles): dates, who takes part, overrides, permissions."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from appraisals.models import CycleState, HistoryEntry, ParticipantOverride, Phase, ReviewCycle
from appraisals.services import cycles
from cascade.models import GoalPeriod
from competencies.models import AssignmentRule, FormVersion, VersionStatus
from core.errors import ConflictError
from tests.appraisals.factories import AppraisalFormFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.factories import DepartmentFactory, EmployeeFactory

D = datetime.date
pytestmark = pytest.mark.usefixtures("goal_period")


def cycle_data(**changes: object) -> dict[str, object]:
    """A valid 2026 cycle: the quarters are the phase windows."""
    data: dict[str, object] = {
        "name": "2026 review",
        "methodology": "pdsa",
        "start": D(2026, 1, 1),
        "end": D(2026, 12, 31),
        "plan_start": D(2026, 1, 1),
        "plan_end": D(2026, 3, 31),
        "do_start": D(2026, 4, 1),
        "do_end": D(2026, 6, 30),
        "study_start": D(2026, 7, 1),
        "study_end": D(2026, 9, 30),
        "act_start": D(2026, 10, 1),
        "act_end": D(2026, 12, 31),
    }
    data.update(changes)
    return data


@pytest.fixture
def default_form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


def refusal(user, **changes: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        cycles.cycle_create(user=user, data=cycle_data(**changes))
    return caught.value.message_dict


# ---------------------------------------------------------------- creating


def test_it_reviews_the_open_period_holding_the_plan_window_and_creates_none(cast, goal_period):
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    assert cycle.state == CycleState.SETUP and cycle.phase is None
    assert cycle.period == goal_period
    assert GoalPeriod.objects.count() == 1
    assert cycle.created_by == cast.hr
    assert HistoryEntry.objects.filter(cycle=cycle, action="set up").exists()


def test_the_default_prefers_the_period_hr_marked_and_skips_closed_ones(cast, goal_period):
    GoalPeriod.objects.create(name="2026 closed", start=D(2026, 1, 1), end=D(2026, 12, 31), is_open=False)
    marked = GoalPeriod.objects.create(name="2026", start=D(2026, 1, 1), end=D(2026, 12, 31), is_default=True)
    assert cycles.cycle_create(user=cast.hr.user, data=cycle_data()).period == marked


def test_several_cycles_may_review_the_period_hr_chooses(cast):
    period = GoalPeriod.objects.create(name="2026", start=D(2026, 1, 1), end=D(2026, 12, 31))
    first = cycles.cycle_create(user=cast.hr.user, data=cycle_data(period=period))
    second = cycles.cycle_create(user=cast.hr.user, data=cycle_data(name="Another", period=period))
    assert first.period == second.period == period
    assert list(period.review_cycles.order_by("name")) == [first, second]


def test_without_an_open_period_holding_the_plan_window_it_asks_for_one(cast, goal_period):
    GoalPeriod.objects.filter(pk=goal_period.pk).update(is_open=False)
    errors = refusal(cast.hr.user)
    assert list(errors) == ["period"]
    assert "1 January 2026 to 31 March 2026" in errors["period"][0]


def test_it_rejects_phases_out_of_order(cast):
    errors = refusal(
        cast.hr.user,
        plan_start=D(2026, 4, 1),
        plan_end=D(2026, 6, 30),
        do_start=D(2026, 1, 1),
        do_end=D(2026, 3, 31),
    )
    assert "do_start" in errors
    assert "in that order" in errors["do_start"][0]


def test_it_rejects_overlapping_phases(cast):
    errors = refusal(cast.hr.user, study_start=D(2026, 6, 15))
    assert list(errors) == ["study_start"]
    assert "overlaps the Do window, which ends on 30 June 2026" in errors["study_start"][0]
    assert "1 July 2026" in errors["study_start"][0]


def test_it_rejects_a_phase_starting_before_the_cycle(cast):
    errors = refusal(cast.hr.user, plan_start=D(2025, 12, 1))
    assert list(errors) == ["plan_start"]
    assert "before the cycle does" in errors["plan_start"][0]


def test_it_rejects_a_phase_ending_after_the_cycle(cast):
    errors = refusal(cast.hr.user, act_end=D(2027, 1, 31))
    assert list(errors) == ["act_end"]
    assert "after the cycle does" in errors["act_end"][0]


def test_it_rejects_a_window_that_ends_before_it_starts(cast):
    errors = refusal(cast.hr.user, study_end=D(2026, 6, 1))
    assert "study_end" in errors


def test_it_rejects_a_cycle_ending_before_it_starts(cast):
    errors = refusal(cast.hr.user, end=D(2025, 6, 1))
    assert "end" in errors


def test_it_names_the_dmaic_phase_in_its_messages(cast):
    errors = refusal(cast.hr.user, methodology="dmaic", study_start=D(2026, 6, 15))
    assert errors["study_start"][0].startswith("The Improve (Study) window overlaps the Analyse (Do) window")


def test_the_database_refuses_overlapping_phases_too(cast):
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewCycle.objects.filter(pk=cycle.pk).update(do_start=D(2026, 3, 1))


def test_it_requires_departments_unless_everyone_takes_part(cast):
    errors = refusal(cast.hr.user, include_everyone=False)
    assert "departments" in errors


def test_a_name_a_goal_period_already_has_is_fine(cast):
    GoalPeriod.objects.create(name="2026 review", start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert cycles.cycle_create(user=cast.hr.user, data=cycle_data()).name == "2026 review"


def test_it_refuses_fields_that_are_not_set_up_here(cast):
    assert "state" in refusal(cast.hr.user, state=CycleState.ACTIVE)


# ---------------------------------------------------------------- updating


def test_update_refuses_a_stale_version(cast):
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    cycles.cycle_update(user=cast.hr.user, cycle=cycle, expected_version=1, data={"name": "2026 cycle"})
    with pytest.raises(ConflictError):
        cycles.cycle_update(user=cast.hr.user, cycle=cycle, expected_version=1, data={"name": "Other"})


def test_update_changes_the_cycle_and_leaves_its_goal_period_alone(cast, goal_period):
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    updated = cycles.cycle_update(
        user=cast.hr.user,
        cycle=cycle,
        expected_version=cycle.version,
        data={"name": "2026 cycle", "act_end": D(2026, 12, 20), "end": D(2026, 12, 20)},
    )
    assert updated.version == 2
    assert updated.period == goal_period
    goal_period.refresh_from_db()
    assert goal_period.name == "Organisation period"
    entry = HistoryEntry.objects.get(cycle=cycle, action="changed", field="end")
    assert (entry.old, entry.new) == ("2026-12-31", "2026-12-20")


def test_update_validates_dates_with_field_names(cast):
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    with pytest.raises(ValidationError) as caught:
        cycles.cycle_update(user=cast.hr.user, cycle=cycle, expected_version=None, data={"do_start": D(2026, 3, 1)})
    assert "do_start" in caught.value.message_dict


def test_after_launch_only_the_name_changes(cast):
    cycle = ReviewCycleFactory(state=CycleState.ACTIVE, phase=Phase.DO)
    with pytest.raises(ValidationError) as caught:
        cycles.cycle_update(user=cast.hr.user, cycle=cycle, expected_version=None, data={"end": D(2026, 12, 30)})
    assert "end" in caught.value.message_dict
    with pytest.raises(ValidationError):
        cycles.cycle_update(user=cast.hr.user, cycle=cycle, expected_version=None, data={}, departments=[])
    renamed = cycles.cycle_update(user=cast.hr.user, cycle=cycle, expected_version=None, data={"name": "Renamed"})
    assert renamed.name == "Renamed"


# ---------------------------------------------------------------- who takes part


def test_everyone_active_takes_part_by_default(cast):
    EmployeeFactory(department=cast.employee.department, is_active=False)
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    assert set(cycles.eligible_employees(cycle)) == {cast.chief, cast.manager, cast.employee, cast.stranger, cast.hr}


def test_chosen_departments_take_their_sub_departments(cast):
    ward = DepartmentFactory(name="Ward 7", parent=cast.employee.department)
    bay = DepartmentFactory(name="Ward 7 bay B", parent=ward)
    nurse = EmployeeFactory(department=bay, manager=cast.manager)
    cycle = cycles.cycle_create(
        user=cast.hr.user, data=cycle_data(include_everyone=False), departments=[cast.employee.department]
    )
    assert set(cycles.eligible_employees(cycle)) == {cast.chief, cast.manager, cast.employee, nurse}
    ward_only = cycles.cycle_create(
        user=cast.hr.user, data=cycle_data(name="Ward only", include_everyone=False), departments=[ward]
    )
    assert list(cycles.eligible_employees(ward_only)) == [nurse]


def test_exclusions_are_left_out(cast):
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data(), excluded=[cast.stranger, cast.chief])
    assert set(cycles.eligible_employees(cycle)) == {cast.manager, cast.employee, cast.hr}


def test_people_hired_after_the_cut_off_are_left_out(cast):
    newcomer = EmployeeFactory(hire_date=D(2026, 5, 2))
    on_the_day = EmployeeFactory(hire_date=D(2026, 5, 1))
    unknown = EmployeeFactory(hire_date=None)
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data(hired_on_or_before=D(2026, 5, 1)))
    eligible = set(cycles.eligible_employees(cycle))
    assert newcomer not in eligible
    assert {on_the_day, unknown, cast.employee} <= eligible


# ---------------------------------------------------------------- overrides and the preview


def test_launch_preview_counts_and_names_the_gaps(cast):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, department=cast.employee.department)
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    preview = cycles.launch_preview(cycle)
    assert preview.eligible == 5
    assert preview.forms == [(version, 3)]
    assert set(preview.without_form) == {cast.stranger, cast.hr}
    assert set(preview.without_reviewer) == {cast.chief, cast.stranger, cast.hr}
    assert not preview.ready


def test_overrides_set_the_form_and_reviewer(cast, default_form):
    special = PublishedFormVersionFactory()
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    cycles.override_set(
        user=cast.hr.user, cycle=cycle, employee=cast.employee, form_version=special, reviewer=cast.chief
    )
    cycles.override_set(user=cast.hr.user, cycle=cycle, employee=cast.stranger, reviewer=cast.hr)
    employees = list(cycles.eligible_employees(cycle))
    assignment = cycles.assign(cycle, employees)
    assert assignment.forms[cast.employee.pk] == special
    assert assignment.reviewers[cast.employee.pk] == cast.chief.pk
    assert assignment.forms[cast.stranger.pk] == default_form
    assert assignment.reviewers[cast.stranger.pk] == cast.hr.pk
    assert assignment.reviewers[cast.manager.pk] == cast.chief.pk  # their manager, by default
    cycles.override_clear(user=cast.hr.user, cycle=cycle, employee=cast.employee)
    assert not ParticipantOverride.objects.filter(cycle=cycle, employee=cast.employee).exists()


def test_the_reviewer_by_default_is_the_nearest_active_manager(cast, default_form):
    cast.manager.is_active = False
    cast.manager.save()
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    assignment = cycles.assign(cycle, [cast.employee])
    assert assignment.reviewers[cast.employee.pk] == cast.chief.pk


def test_overrides_refuse_a_draft_form_and_reviewing_oneself(cast):
    draft = FormVersion.objects.create(form=AppraisalFormFactory(), number=1)
    assert draft.status == VersionStatus.DRAFT
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    with pytest.raises(ValidationError) as caught:
        cycles.override_set(user=cast.hr.user, cycle=cycle, employee=cast.employee, form_version=draft)
    assert "form_version" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        cycles.override_set(user=cast.hr.user, cycle=cycle, employee=cast.employee, reviewer=cast.employee)
    assert "reviewer" in caught.value.message_dict
    with pytest.raises(ValidationError):
        cycles.override_set(user=cast.hr.user, cycle=cycle, employee=cast.employee)


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("who", ["employee", "manager", "chief", "stranger"])
def test_only_hr_sets_up_and_runs_cycles(cast, who):
    user = getattr(cast, who).user
    cycle = cycles.cycle_create(user=cast.hr.user, data=cycle_data())
    running = ReviewCycleFactory(state=CycleState.ACTIVE, phase=Phase.DO)
    attempts = [
        lambda: cycles.cycle_create(user=user, data=cycle_data(name="Mine")),
        lambda: cycles.cycle_update(user=user, cycle=cycle, expected_version=None, data={"name": "Mine"}),
        lambda: cycles.override_set(user=user, cycle=cycle, employee=cast.employee, reviewer=cast.chief),
        lambda: cycles.override_clear(user=user, cycle=cycle, employee=cast.employee),
        lambda: cycles.cycle_launch(user=user, cycle=cycle),
        lambda: cycles.participants_add(user=user, cycle=running, employees=[cast.stranger]),
        lambda: cycles.phase_move(user=user, cycle=running, phase=Phase.STUDY),
        lambda: cycles.cycle_close(user=user, cycle=running),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    cycle.refresh_from_db()
    running.refresh_from_db()
    assert (cycle.name, cycle.state) == ("2026 review", CycleState.SETUP)
    assert (running.state, running.phase) == (CycleState.ACTIVE, Phase.DO)

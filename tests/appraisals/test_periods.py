"""Goal periods and review cycles: which period each person sees, the default HR marks, cycles set
up with windows already past, who is late, and the data migration for cycles that made their own."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from appraisals.models import CycleState, Participant, Phase, ReviewCycle, ToDo, ToDoKind
from appraisals.selectors import cycles as cycle_selectors
from appraisals.services import cycles
from cascade import selectors
from cascade.models import GoalPeriod
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, data_around_today
from tests.cascade.factories import GoalFactory

TODAY = datetime.date.today()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


@pytest.fixture
def year(db) -> GoalPeriod:
    """The organisation's period, marked as the default, holding everyone's goals."""
    return GoalPeriod.objects.create(name="This year", start=days(-200), end=days(200), is_default=True)


@pytest.fixture
def review_period(db) -> GoalPeriod:
    """Another open period, the one a cycle for Nursing alone reviews."""
    return GoalPeriod.objects.create(name="Nursing review", start=days(-100), end=days(100))


def launch(cast, **data: object) -> ReviewCycle:
    """HR sets up and launches a cycle; the launch task's body runs here (it is queued on commit)."""
    cycle = cycles.cycle_create(
        user=cast.hr.user,
        data=data,
        departments=[cast.employee.department] if data.get("include_everyone") is False else (),
    )
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    return cycles.run_launch(cycle.pk, notify=False)


# ---------------------------------------------------------------- which period a person sees


def test_a_participant_sees_their_cycles_period_and_everyone_else_the_default(cast, form, year, review_period):
    cycle = launch(cast, **data_around_today(Phase.DO), period=review_period, include_everyone=False)
    assert cycle.state == CycleState.ACTIVE
    assert Participant.objects.filter(cycle=cycle, employee=cast.employee).exists()
    assert selectors.default_period_for(cast.employee.user) == review_period
    assert selectors.default_period_for(cast.manager.user) == review_period  # Nursing too
    # Pharmacy and HR are outside the cycle: nothing changes for them.
    assert selectors.default_period_for(cast.stranger.user) == year
    assert selectors.default_period_for(cast.hr.user) == year


def test_a_cycle_being_set_up_or_closed_changes_no_one_s_period(cast, form, year, review_period):
    cycle = cycles.cycle_create(user=cast.hr.user, data={**data_around_today(Phase.DO), "period": review_period})
    assert selectors.default_period_for(cast.employee.user) == year
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycles.run_launch(cycle.pk, notify=False)
    assert selectors.default_period_for(cast.employee.user) == review_period
    cycles.cycle_close(user=cast.hr.user, cycle=ReviewCycle.objects.get(pk=cycle.pk))
    assert selectors.default_period_for(cast.employee.user) == year


def test_without_a_marked_default_it_is_the_open_period_containing_today_else_the_latest(db, cast):
    assert selectors.default_period_for(cast.employee.user) is None
    last_year = GoalPeriod.objects.create(name="Last year", start=days(-500), end=days(-135))
    assert selectors.default_period_for(cast.employee.user) == last_year
    GoalPeriod.objects.create(name="Next year", start=days(300), end=days(600))
    current = GoalPeriod.objects.create(name="Current", start=days(-100), end=days(100))
    GoalPeriod.objects.create(name="Hidden", start=days(-10), end=days(10), is_open=False)
    assert selectors.default_period_for(cast.employee.user) == current
    GoalPeriod.objects.filter(pk=last_year.pk).update(is_default=True)
    assert selectors.default_period_for(cast.employee.user) == last_year


def test_home_and_my_goals_of_someone_outside_the_cycle_keep_their_goals(client_for, cast, form, year, review_period):
    GoalFactory(owner=cast.stranger, period=year, title="Cut dispensing errors")
    launch(cast, **data_around_today(Phase.DO), period=review_period, include_everyone=False)
    client = client_for(cast.stranger)
    assert "Cut dispensing errors" in client.get(reverse("home")).content.decode()
    page = client.get(reverse("cascade:my_goals")).content.decode()
    assert "Cut dispensing errors" in page
    GoalFactory(owner=cast.employee, period=review_period, title="Falls bundle on every ward")
    assert "Falls bundle on every ward" in client_for(cast.employee).get(reverse("cascade:my_goals")).content.decode()


def test_the_goal_to_dos_open_the_cycles_period(cast, form, year, review_period):
    cycle = launch(cast, **data_around_today(Phase.PLAN), period=review_period)
    todo = ToDo.objects.select_related("cycle").get(employee=cast.manager, kind=ToDoKind.APPROVE_GOALS, cycle=cycle)
    from appraisals.services import todos

    assert todos.todo_link(todo) == f"{reverse('cascade:team_goals')}?period={review_period.pk}"


# ---------------------------------------------------------------- HR marks the default


def test_hr_marks_the_default_period_in_the_browser_and_the_mark_moves(client_for, cast, year, review_period):
    client = client_for(cast.hr)
    page = client.get(reverse("cascade:period_list")).content.decode()
    assert "This year" in page and "Make Nursing review the default period" in page
    response = client.post(reverse("cascade:period_make_default", args=[review_period.pk]))
    assert response.status_code == 302
    assert list(GoalPeriod.objects.filter(is_default=True)) == [review_period]
    assert selectors.default_period_for(cast.stranger.user) == review_period


def test_hr_adds_a_period_and_bad_dates_get_a_message(client_for, cast, year):
    client = client_for(cast.hr)
    url = reverse("cascade:period_list")
    response = client.post(url, {"name": "Next year", "start": days(300), "end": days(200)})
    assert response.status_code == 400
    assert "must end on or after the day it starts" in response.content.decode()
    response = client.post(url, {"name": "this year", "start": days(300), "end": days(600)})
    assert response.status_code == 400 and "already exists" in response.content.decode()
    response = client.post(url, {"name": "Next year", "start": days(300), "end": days(600)})
    assert response.status_code == 302
    assert GoalPeriod.objects.get(name="Next year").is_open


@pytest.mark.parametrize("role", ["employee", "manager", "stranger"])
def test_only_hr_sees_the_goal_periods_page(client_for, cast, year, role):
    # Goal-period set-up is reserved to HR: 403 with a message, like every role-reserved set-up page.
    client = client_for(getattr(cast, role))
    response = client.get(reverse("cascade:period_list"))
    assert response.status_code == 403 and "Only HR" in response.content.decode()
    assert client.post(reverse("cascade:period_make_default", args=[year.pk])).status_code == 403
    assert GoalPeriod.objects.get(pk=year.pk).is_default


def test_the_admin_action_makes_one_period_the_default(cast, year, review_period):
    admin = site._registry[GoalPeriod]
    request = RequestFactory().post("/")
    request.user = cast.hr.user
    request._messages = type("Messages", (), {"add": lambda *args, **kwargs: None})()
    admin.make_default(request, GoalPeriod.objects.filter(pk=review_period.pk))
    assert list(GoalPeriod.objects.filter(is_default=True)) == [review_period]


# ---------------------------------------------------------------- windows already past, and who is late


def test_a_cycle_with_windows_past_warns_and_starts_in_the_phase_of_today(cast, form, year):
    data = data_around_today(Phase.STUDY)
    cycle = cycles.cycle_create(user=cast.hr.user, data=data)
    assert cycle.period == year  # the open period holding the Plan window
    note = cycles.start_note(cycle)
    assert "already past" in note and "Study: performance review phase" in note
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    cycle = cycles.run_launch(cycle.pk, notify=False)
    assert (cycle.state, cycle.phase) == (CycleState.ACTIVE, Phase.STUDY)
    given = set(ToDo.objects.filter(cycle=cycle).values_list("kind", flat=True))
    assert given == {ToDoKind.SELF_ASSESSMENT, ToDoKind.MANAGER_REVIEW}
    # Plan and Do closed long ago, but nobody was given their to-dos: nobody is late for them.
    board = cycle_selectors.dashboard(cycle)
    assert (board.overdue_count, board.behind_count) == (0, 0)
    assert not board.is_late


def test_a_cycle_in_the_future_gives_no_warning(cast, year):
    data = data_around_today(Phase.PLAN)
    data.update(
        {name: value + datetime.timedelta(days=20) for name, value in data.items() if isinstance(value, datetime.date)}
    )
    assert cycles.start_note(cycles.cycle_create(user=cast.hr.user, data=data)) == ""


def test_the_cycle_form_shows_the_warning_and_the_detail_page_too(client_for, cast, year):
    client = client_for(cast.hr)
    data = {key: str(value) for key, value in data_around_today(Phase.DO).items()}
    response = client.post(reverse("appraisals:cycle_create"), {**data, "include_everyone": "1"}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Some phase windows are already past (Plan)" in page and "Do: mid-cycle check-in phase" in page
    cycle = ReviewCycle.objects.get(name="Launch test")
    assert cycle.period == year
    edit = client.get(reverse("appraisals:cycle_edit", args=[cycle.pk])).content.decode()
    assert "data-start-note" in edit


def test_people_are_late_only_for_to_dos_given_whose_window_has_closed(cast, form, year):
    cycle = launch(cast, **data_around_today(Phase.DO))
    assert cycle_selectors.behind_participants(cycle, today=TODAY).count() == 0  # Do is still open
    after_do = cycle.do_end + datetime.timedelta(days=1)
    behind = cycle_selectors.behind_participants(cycle, today=after_do)
    # Everyone was given a check-in in Do and none was held: all are late for it, none for Plan.
    assert behind.count() == Participant.objects.filter(cycle=cycle).count()
    assert all(p.behind_do and not getattr(p, "behind_plan", False) for p in behind)
    assert cycle_selectors.behind_phases(cycle, today=after_do) == [Phase.PLAN, Phase.DO]


# ---------------------------------------------------------------- the data migration


def test_the_migration_points_old_cycles_at_real_goals_and_marks_a_default(cast):
    migration = importlib.import_module("appraisals.migrations.0004_default_period_data")
    org = GoalPeriod.objects.create(name="Year", start=days(-200), end=days(200))
    GoalFactory(owner=cast.employee, period=org)
    dates = data_around_today(Phase.DO)
    # An old launched cycle whose own period stayed empty, and one in which goals were set.
    empty_own = GoalPeriod.objects.create(name="Empty cycle", start=dates["start"], end=dates["end"], is_open=True)
    used_own = GoalPeriod.objects.create(name="Used cycle", start=dates["start"], end=dates["end"], is_open=False)
    GoalFactory(owner=cast.stranger, period=used_own)
    fields = {k: v for k, v in dates.items() if k not in {"name", "methodology"}}
    empty = ReviewCycle.objects.create(name="Empty cycle", period=empty_own, state=CycleState.ACTIVE, **fields)
    used = ReviewCycle.objects.create(name="Used cycle", period=used_own, state=CycleState.CLOSED, **fields)

    migration.forwards(apps, None)

    empty.refresh_from_db()
    used.refresh_from_db()
    assert empty.period == org
    assert not GoalPeriod.objects.get(pk=empty_own.pk).is_open
    assert used.period == used_own and used.period.is_open
    assert list(GoalPeriod.objects.filter(is_default=True)) == [org]

"""The counts HR reads on the cycle list, the cycle's dashboard and the home page: goal setting is
done when a person's goals in the period their cycle reviews are approved, none still pending,
cancelled goals and other periods' goals aside; each cycle counts its own period's goals."""

from __future__ import annotations

import datetime

import pytest

from appraisals.models import Participant, Phase, ReviewCycle
from appraisals.selectors import cycles as cycle_selectors
from appraisals.services import cycles
from cascade.models import Approval, Goal, GoalLevel, GoalPeriod, GoalStatus
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, data_around_today
from tests.cascade.factories import GoalFactory

TODAY = datetime.date.today()
PENDING = (Approval.DRAFT, Approval.SUBMITTED, Approval.RETURNED)


@pytest.fixture
def form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


@pytest.fixture
def periods(db) -> tuple[GoalPeriod, GoalPeriod]:
    day = datetime.timedelta(days=1)
    year = GoalPeriod.objects.create(name="This year", start=TODAY - 200 * day, end=TODAY + 200 * day, is_default=True)
    other = GoalPeriod.objects.create(name="Nursing review", start=TODAY - 100 * day, end=TODAY + 100 * day)
    return year, other


def launch(cast, name: str, period: GoalPeriod, phase: str = Phase.PLAN) -> ReviewCycle:
    data = {**data_around_today(phase), "name": name, "period": period}
    cycle = cycles.cycle_create(user=cast.hr.user, data=data)
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    return cycles.run_launch(cycle.pk, notify=False)


def recount(cycle: ReviewCycle) -> int:
    """Goal setting done, counted person by person in Python."""
    done = 0
    for participant in Participant.objects.filter(cycle=cycle).select_related("employee"):
        goals = Goal.objects.filter(
            owner=participant.employee, period=cycle.period, level=GoalLevel.INDIVIDUAL
        ).exclude(status=GoalStatus.CANCELLED)
        approvals = set(goals.values_list("approval", flat=True))
        done += Approval.APPROVED in approvals and not approvals & set(PENDING)
    return done


def test_goal_setting_counts_agree_with_a_recount_on_every_page_and_per_period(cast, form, periods):
    year, other = periods
    first = launch(cast, "Whole organisation", year)
    second = launch(cast, "Nursing again", other)
    # In the year: the employee's two goals approved (done); the manager's one approved and one
    # submitted (not done); the stranger's approved, with a returned one cancelled (done); the
    # chief's approved, with a cancelled draft beside it (done); everyone else's none (not done).
    GoalFactory.create_batch(2, owner=cast.employee, period=year, approval=Approval.APPROVED)
    GoalFactory(owner=cast.manager, period=year, approval=Approval.APPROVED)
    GoalFactory(owner=cast.manager, period=year, approval=Approval.SUBMITTED)
    GoalFactory(owner=cast.stranger, period=year, approval=Approval.APPROVED)
    GoalFactory(owner=cast.stranger, period=year, approval=Approval.RETURNED, status=GoalStatus.CANCELLED)
    GoalFactory(owner=cast.chief, period=year, approval=Approval.APPROVED)
    GoalFactory(owner=cast.chief, period=year, approval=Approval.DRAFT, status=GoalStatus.CANCELLED)
    # In the other period: only the stranger's goal, approved.
    GoalFactory(owner=cast.stranger, period=other, approval=Approval.APPROVED)

    assert (recount(first), recount(second)) == (3, 1)
    board = cycle_selectors.dashboard(first)
    assert board.counts[Phase.PLAN] == 3
    assert (board.completion.done, board.completion.total) == (3, Participant.objects.filter(cycle=first).count())
    assert sum(row.done for row in board.departments) == 3
    rows = {row.cycle.name: row.completion.done for row in cycle_selectors.cycle_rows()}
    assert rows == {"Whole organisation": 3, "Nursing again": 1}
    assert cycle_selectors.cycle_card(second).completion.done == 1

    # The manager's submitted goal is approved, the employee's second returned: the counts follow.
    Goal.objects.filter(owner=cast.manager, approval=Approval.SUBMITTED).update(approval=Approval.APPROVED)
    returned = Goal.objects.filter(owner=cast.employee).first()
    Goal.objects.filter(pk=returned.pk).update(approval=Approval.RETURNED)
    assert recount(first) == 3
    assert cycle_selectors.dashboard(first).counts[Phase.PLAN] == 3
    assert cycle_selectors.cycle_card(first).completion.done == 3
    names = set(
        Participant.objects.filter(cycle=first)
        .filter(cycle_selectors.done_condition(Phase.PLAN, first))
        .values_list("employee__full_name", flat=True)
    )
    assert names == {cast.manager.full_name, cast.chief.full_name, cast.stranger.full_name}


def test_people_late_for_goal_setting_are_those_given_it_and_not_done(cast, form, periods):
    year, _other = periods
    cycle = launch(cast, "Whole organisation", year)
    GoalFactory(owner=cast.employee, period=year, approval=Approval.APPROVED)
    after_plan = cycle.plan_end + datetime.timedelta(days=1)
    behind = cycle_selectors.behind_participants(cycle, today=after_plan)
    given = set(cycle.todos.exclude(participant=None).values_list("participant__employee__full_name", flat=True))
    names = {p.employee.full_name for p in behind.select_related("employee") if p.behind_plan}
    assert cast.employee.full_name not in names
    assert names == given - {cast.employee.full_name}

"""The demo hospital's review cycles (appraisals/demo.py): a closed one from last year, a current one in Do."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from appraisals import demo
from appraisals.models import (
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleState,
    DevelopmentAction,
    HistoryEntry,
    Participant,
    Phase,
    ReviewCycle,
    ToDoKind,
)
from appraisals.services import todos
from cascade.models import Approval, Goal
from cascade.selectors import organisation_default_period
from people.models import Employee

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def hospital(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo, seeded once for this module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def person(username: str) -> Employee:
    return Employee.objects.select_related("user").get(user__username=username)


def cycles() -> tuple[ReviewCycle, ReviewCycle]:
    previous_name, current_name = demo.cycle_names(timezone.localdate().year)
    return ReviewCycle.objects.get(name=previous_name), ReviewCycle.objects.get(name=current_name)


def test_there_is_a_closed_cycle_from_last_year_and_a_running_one(hospital: str) -> None:
    previous, current = cycles()
    year = timezone.localdate().year
    assert (previous.state, previous.start.year, previous.period.start.year) == (CycleState.CLOSED, year - 1, year - 1)
    assert (current.state, current.phase, current.methodology) == (CycleState.ACTIVE, Phase.DO, "pdsa")
    assert current.period == organisation_default_period()
    assert (
        current.window(Phase.DO)[0] <= timezone.localdate() <= current.window(Phase.DO)[1] or year != current.end.year
    )
    assert "Loaded the review cycles" in hospital


def test_everyone_but_the_chief_executive_takes_part(hospital: str) -> None:
    previous, current = cycles()
    hospital_people = Employee.objects.filter(user__email__endswith="@hospital.example")
    chief = hospital_people.get(manager__isnull=True)
    for cycle in (previous, current):
        taking_part = set(Participant.objects.filter(cycle=cycle).values_list("employee_id", flat=True))
        assert taking_part == set(hospital_people.exclude(pk=chief.pk).values_list("pk", flat=True))
        assert not Participant.objects.filter(cycle=cycle, reviewer__isnull=True).exists()


def test_last_years_appraisals_are_locked_with_scores_and_history(hospital: str) -> None:
    previous, _ = cycles()
    appraisals = Appraisal.objects.filter(participant__cycle=previous)
    assert set(appraisals.values_list("state", flat=True)) == {AppraisalState.LOCKED}
    scored = appraisals.filter(score__isnull=False)
    assert scored.count() >= appraisals.count() - 1
    assert all(a.score_breakdown["sections"]["competencies"]["rated"] == 4 for a in scored)
    assert appraisals.filter(acknowledged_at__isnull=True).count() == 3  # two unacknowledged, one never submitted
    employee = person("employee")
    mine = HistoryEntry.objects.filter(participant__cycle=previous, participant__employee=employee)
    assert {"submitted the self-assessment", "shared the ratings", "acknowledged the appraisal", "locked"} <= set(
        mine.values_list("action", flat=True)
    )
    window_start = datetime.datetime.combine(previous.start, datetime.time.min, tzinfo=datetime.UTC)
    window_end = datetime.datetime.combine(previous.end, datetime.time.max, tzinfo=datetime.UTC)
    assert all(window_start <= at <= window_end for at in mine.values_list("at", flat=True))
    assert window_start <= previous.closed_at <= window_end
    assert all(window_start <= at <= window_end for at in appraisals.values_list("locked_at", flat=True))


def test_last_years_development_plans_have_actions_on_competencies(hospital: str) -> None:
    previous, _ = cycles()
    actions = DevelopmentAction.objects.filter(plan__participant__cycle=previous)
    assert actions.count() >= Participant.objects.filter(cycle=previous).count()
    assert not actions.filter(competency__isnull=True).exists()
    assert not actions.filter(target_level__isnull=True).exists()
    assert set(actions.values_list("status", flat=True)) >= {"planned", "in_progress", "done"}
    employee_plan = actions.filter(plan__participant__employee=person("employee"))
    assert employee_plan.exists() and employee_plan.first().plan.agreed_at is not None


def test_this_years_check_ins_are_partly_done(hospital: str) -> None:
    _, current = cycles()
    check_ins = CheckIn.objects.filter(participant__cycle=current)
    done = check_ins.filter(completed_at__isnull=False).count()
    assert 0.25 * check_ins.count() <= done <= 0.75 * check_ins.count()
    assert check_ins.exclude(employee_notes="").filter(completed_at__isnull=True).exists()  # under way
    assert current.launch_done == current.launch_total == check_ins.count()


def test_every_role_has_something_to_do(hospital: str) -> None:
    employee, manager = person("employee"), person("manager")
    assert [t.kind for t in todos.todos_for(employee)] == [ToDoKind.CHECK_IN]
    about = {t.participant.employee for t in todos.todos_for(manager) if t.kind == ToDoKind.CHECK_IN}
    assert employee in about
    mine = CheckIn.objects.get(participant__cycle=cycles()[1], participant__employee=manager)
    assert mine.completed_at is not None  # the manager's own check-in with their manager is done


def test_last_years_next_cycle_goals_are_draft_goals_now(hospital: str) -> None:
    carried = Goal.objects.filter(period=organisation_default_period(), description__contains="next-cycle QI goal")
    assert carried.count() >= 3
    assert set(carried.values_list("approval", flat=True)) == {Approval.DRAFT}
    assert not carried.filter(owner__user__username__in=["employee", "manager"]).exists()


def test_seeding_sends_no_email_and_rerunning_creates_nothing(hospital: str) -> None:
    assert mail.outbox == []
    before = (ReviewCycle.objects.count(), Participant.objects.count(), HistoryEntry.objects.count())
    output = seed()
    assert "review cycles are already loaded" in output
    assert (ReviewCycle.objects.count(), Participant.objects.count(), HistoryEntry.objects.count()) == before


def test_the_windows_put_any_day_of_the_year_in_do() -> None:
    period = type("Period", (), {"start": datetime.date(2026, 1, 1), "end": datetime.date(2026, 12, 31)})()
    for day in (
        datetime.date(2026, 1, 2),
        datetime.date(2026, 6, 1),
        datetime.date(2026, 11, 25),
        datetime.date(2026, 12, 29),
    ):
        dates = demo.windows_in_do(period, day)
        cycle = ReviewCycle(methodology="pdsa", **dates)
        from appraisals.services.cycles import date_problems, phase_on

        assert date_problems(cycle) == {}, day
        assert phase_on(cycle, day) == Phase.DO, day

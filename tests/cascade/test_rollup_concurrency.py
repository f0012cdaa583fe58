"""The roll-up under concurrency: simultaneous progress updates on sibling goals never leave
the parent (or the priority) at a value that a fresh roll-up would not give.

Real threads, each with its own database connection, start together at a barrier. It needs
PostgreSQL: SQLite serialises writers on the whole file, so it cannot show the race.
"""

from __future__ import annotations

import datetime
import random
import threading
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection, connections

from cascade import progress
from cascade.models import Approval, Goal, QualityPriority
from tests.cascade.factories import (
    FunctionalGoalFactory,
    GoalPeriodFactory,
    IndividualGoalFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

REPETITIONS = 30
SIBLINGS = 8
UPDATES = 20


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite locks the whole database per write, so there is no race to show")


def fresh_rollup(parent: Goal) -> Decimal:
    return progress.weighted_mean((child.progress, child.weight) for child in progress.counted_children(parent))


def run_simultaneously(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Each call in its own thread with its own database connection, all released at once."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
        except BaseException as exc:  # collected and asserted on in the test thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_simultaneous_updates_on_siblings_leave_the_parent_and_priority_equal_to_a_fresh_roll_up(postgres_only):
    period = GoalPeriodFactory()
    priority = QualityPriorityFactory()
    ward = DepartmentFactory(name="Ward 7")
    parent = FunctionalGoalFactory(
        title="Ward scanning", priority=priority, period=period, department=ward, approval=Approval.APPROVED
    )
    # A second top-level goal, so the priority's roll-up is a real weighted mean.
    FunctionalGoalFactory(priority=priority, period=period, weight=50, approval=Approval.APPROVED)
    weights = [5, 10, 10, 15, 15, 15, 20, 10]
    siblings = [
        IndividualGoalFactory(
            parent_goal=parent,
            owner=EmployeeFactory(department=ward),
            weight=weight,
            approval=Approval.APPROVED,
        )
        for weight in weights
    ]
    rng = random.Random(11)
    mismatches = []
    for run in range(REPETITIONS):
        # 20 updates over the 8 siblings: every sibling at least twice or once, some raced on.
        chosen = siblings + [rng.choice(siblings) for _ in range(UPDATES - SIBLINGS)]
        rng.shuffle(chosen)
        updates = [
            partial(
                progress.record_update,
                user=goal.owner.user,
                goal=Goal.objects.select_related("owner__user").get(pk=goal.pk),
                percent=Decimal(rng.randint(0, 10000)) / 100,
                comment="Concurrent",
            )
            for goal in chosen
        ]
        errors = run_simultaneously(updates)
        assert errors == [], f"run {run + 1}: {errors!r}"
        parent.refresh_from_db()
        expected = fresh_rollup(parent)
        stored_priority = QualityPriority.objects.get(pk=priority.pk).progress
        expected_priority = progress.weighted_mean(
            (g.progress, g.weight) for g in progress.counted_children(priority=priority)
        )
        if parent.progress != expected or stored_priority != expected_priority:
            mismatches.append((run + 1, parent.progress, expected, stored_priority, expected_priority))
    assert mismatches == [], f"{len(mismatches)} of {REPETITIONS} runs off a fresh roll-up: {mismatches}"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_observations_leave_measure_driven_goals_at_the_latest_value(postgres_only):
    """Values for different dates recorded at once: the goals follow the latest-dated value."""
    from cascade import services
    from cascade.models import ProgressMode
    from tests.cascade.factories import QualityMeasureFactory

    period = GoalPeriodFactory()
    priority = QualityPriorityFactory()
    lead = priority.owner
    measure = QualityMeasureFactory(priority=priority, baseline=Decimal("0"), target=Decimal("100"))
    goals = [
        FunctionalGoalFactory(
            priority=priority,
            period=period,
            measure=measure,
            progress_mode=ProgressMode.MEASURE,
            approval=Approval.APPROVED,
            weight=50,
        )
        for _ in range(2)
    ]
    rng = random.Random(7)
    mismatches = []
    for run in range(REPETITIONS // 3):
        first = datetime.date(2025, 1, 1) + datetime.timedelta(days=20 * run)
        days = [first + datetime.timedelta(days=i) for i in range(8)]
        values = {day: Decimal(rng.randint(0, 100)) for day in days}
        errors = run_simultaneously(
            [
                partial(services.observation_add, user=lead.user, measure=measure, date=day, value=values[day])
                for day in rng.sample(days, len(days))
            ]
        )
        assert errors == [], f"run {run + 1}: {errors!r}"
        expected = progress.clamp_percent(values[days[-1]])
        stored = sorted(set(Goal.objects.filter(pk__in=[g.pk for g in goals]).values_list("progress", flat=True)))
        if stored != [expected]:
            mismatches.append((run + 1, stored, expected))
    assert mismatches == [], f"{len(mismatches)} of {REPETITIONS // 3} runs off the latest value: {mismatches}"

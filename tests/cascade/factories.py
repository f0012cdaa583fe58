"""factory_boy factories for the cascade: priorities, measures, observations, periods, goals.

They write rows directly, as a fixture would, not through cascade.services: a test
that is about a rule calls the service itself. Goals default to a functional
(department) goal; pass ``owner`` for an individual one, whose department and
level then follow from the owner. A goal under ``parent_goal`` takes the parent's
priority and period unless given others.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from cascade.models import (
    Direction,
    Goal,
    GoalLevel,
    GoalPeriod,
    MeasureType,
    Methodology,
    Observation,
    QualityMeasure,
    QualityPriority,
)
from tests.factories import DepartmentFactory, EmployeeFactory


class GoalPeriodFactory(factory.django.DjangoModelFactory):
    """The calendar year 2026 unless told otherwise; the same name returns the same period."""

    class Meta:
        model = GoalPeriod
        django_get_or_create = ("name",)

    name = "2026"
    start = datetime.date(2026, 1, 1)
    end = datetime.date(2026, 12, 31)


class QualityPriorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualityPriority

    title = factory.Sequence(lambda n: f"Quality priority {n}")
    aim = "Halve the rate of harm by December, for every inpatient."
    methodology = Methodology.PDSA
    owner = factory.SubFactory(EmployeeFactory, is_quality_lead=True)
    period_start = datetime.date(2026, 1, 1)
    period_end = datetime.date(2026, 12, 31)


class QualityMeasureFactory(factory.django.DjangoModelFactory):
    """Higher is better, from a baseline of 50 towards a target of 80, unless told otherwise."""

    class Meta:
        model = QualityMeasure

    priority = factory.SubFactory(QualityPriorityFactory)
    name = factory.Sequence(lambda n: f"Measure {n}")
    unit = "%"
    measure_type = MeasureType.OUTCOME
    direction = Direction.UP
    baseline = Decimal("50")
    target = Decimal("80")
    department = factory.SubFactory(DepartmentFactory)


class ObservationFactory(factory.django.DjangoModelFactory):
    """One value a month from January 2025, so that a batch never repeats a date."""

    class Meta:
        model = Observation

    measure = factory.SubFactory(QualityMeasureFactory)
    date = factory.Sequence(lambda n: datetime.date(2025 + n // 12, n % 12 + 1, 1))
    value = Decimal("50")


class GoalFactory(factory.django.DjangoModelFactory):
    """A draft goal: functional by default, individual when given an ``owner``."""

    class Meta:
        model = Goal
        skip_postgeneration_save = True

    owner = None
    parent_goal = None
    level = factory.LazyAttribute(lambda g: GoalLevel.INDIVIDUAL if g.owner else GoalLevel.FUNCTIONAL)
    title = factory.Sequence(lambda n: f"Goal {n}")
    priority = factory.Maybe(
        "parent_goal",
        yes_declaration=factory.SelfAttribute("parent_goal.priority"),
        no_declaration=factory.SubFactory(QualityPriorityFactory),
    )
    department = factory.Maybe(
        "owner",
        yes_declaration=factory.SelfAttribute("owner.department"),
        no_declaration=factory.SubFactory(DepartmentFactory),
    )
    period = factory.Maybe(
        "parent_goal",
        yes_declaration=factory.SelfAttribute("parent_goal.period"),
        no_declaration=factory.SubFactory(GoalPeriodFactory),
    )
    weight = 100

    @factory.post_generation
    def contributing_departments(obj: Goal, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted:
            obj.contributing_departments.set(extracted)


class FunctionalGoalFactory(GoalFactory):
    """A department's goal, directly under a priority."""

    owner = None
    level = GoalLevel.FUNCTIONAL


class IndividualGoalFactory(GoalFactory):
    """A person's goal; its department is the owner's."""

    owner = factory.SubFactory(EmployeeFactory)
    level = GoalLevel.INDIVIDUAL


__all__ = [
    "FunctionalGoalFactory",
    "GoalFactory",
    "GoalPeriodFactory",
    "IndividualGoalFactory",
    "ObservationFactory",
    "QualityMeasureFactory",
    "QualityPriorityFactory",
]

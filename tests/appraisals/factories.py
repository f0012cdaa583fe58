"""factory_boy factories for review cycles and what people do in them.

Rows are written directly, as a fixture would, not through appraisals.services:
a test that is about a rule calls the service itself.

- ``PublishedFormVersionFactory``: a published form version (60 % goals on a plain
  1–5 scale, 40 % competencies) with ``competencies`` competency rows (default 2,
  weights split to total 100, each on the same 1–5 scale with five behavioural
  indicators) and the four default dialogue questions (successes, learning
  moments, next-cycle goals, peer sharing). Pass ``goals_weight``/
  ``competencies_weight`` or ``competency_weights=[50, 30, 20]`` to change them.
- ``ReviewCycleFactory``: a running PDSA cycle over its own goal period (one per
  cycle, named like the cycle), 2026 by default, in the Study phase, with the
  quarters as phase windows. ``year=2025`` moves every date.
- ``ParticipantFactory``: one person in a cycle, reviewed by their manager.
- ``AppraisalFactory``, ``CheckInFactory``, ``DevelopmentPlanFactory``,
  ``DevelopmentActionFactory``: the records of one participant.
- ``ParticipantWithRecordsFactory``: a participant with its appraisal, check-in
  and development plan, as a launch leaves them (``records__appraisal_state=...``).
- ``appraisal_scenario(employee=...)``: all of that plus the person's goals in the
  cycle's period (the first one driven by a measure with observations) and a form
  with the competencies asked for: what most appraisal tests start from.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import factory

from appraisals.models import (
    Appraisal,
    AppraisalState,
    CheckIn,
    CompetencyRating,
    CycleMethodology,
    CycleState,
    DevelopmentAction,
    DevelopmentPlan,
    GoalRating,
    Participant,
    Phase,
    ReviewCycle,
)
from appraisals.services import tallies
from cascade.models import Goal, ProgressMode, QualityMeasure, QualityPriority
from competencies.models import (
    AppraisalForm,
    BehaviouralIndicator,
    Competency,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    RatingScale,
    ScaleLevel,
)
from competencies.services.appraisal_forms import DEFAULT_QUESTIONS, publish_version
from people.models import Employee
from tests.cascade.factories import (
    GoalPeriodFactory,
    IndividualGoalFactory,
    ObservationFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)
from tests.factories import EmployeeFactory

PLAIN_LEVELS = [
    (Decimal("1"), "Unsatisfactory", "Well below what was agreed."),
    (Decimal("2"), "Needs improvement", "Some of what was agreed, with gaps."),
    (Decimal("3"), "Meets expectations", "What was agreed."),
    (Decimal("4"), "Exceeds expectations", "More than was agreed."),
    (Decimal("5"), "Outstanding", "Far beyond what was agreed; a model for others."),
]


class RatingScaleFactory(factory.django.DjangoModelFactory):
    """A 1–5 scale (``levels`` = [(value, label, descriptor), …] to change it)."""

    class Meta:
        model = RatingScale
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Scale {n}")

    @factory.post_generation
    def levels(obj: RatingScale, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        levels = extracted if extracted is not None else PLAIN_LEVELS
        ScaleLevel.objects.bulk_create(
            ScaleLevel(scale=obj, order=order, value=Decimal(value), label=label, descriptor=descriptor)
            for order, (value, label, descriptor) in enumerate(levels, start=1)
        )


class CompetencyFactory(factory.django.DjangoModelFactory):
    """A competency with five behavioural indicators (``indicators=[...]`` to change them)."""

    class Meta:
        model = Competency
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Competency {n}")
    description = "Improves the way the work is done."

    @factory.post_generation
    def indicators(obj: Competency, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        texts = extracted if extracted is not None else [f"{obj.name}: level {n} behaviour." for n in range(1, 6)]
        BehaviouralIndicator.objects.bulk_create(
            BehaviouralIndicator(competency=obj, level=level, text=text) for level, text in enumerate(texts, start=1)
        )


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class AppraisalFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppraisalForm

    name = factory.Sequence(lambda n: f"Appraisal form {n}")
    methodology = "pdsa"


class PublishedFormVersionFactory(factory.django.DjangoModelFactory):
    """A published form version, ready to be given to participants."""

    class Meta:
        model = FormVersion

    form = factory.SubFactory(AppraisalFormFactory)
    number = 1
    goals_weight = 60
    competencies_weight = 40
    goals_scale = factory.SubFactory(RatingScaleFactory)
    # Not fields: taken off in _create.
    competencies = 2
    competency_weights = None
    scale = factory.SelfAttribute("goals_scale")
    with_questions = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        competencies = kwargs.pop("competencies", 2)
        weights = kwargs.pop("competency_weights", None)
        scale = kwargs.pop("scale", None) or kwargs.get("goals_scale") or RatingScaleFactory()
        with_questions = kwargs.pop("with_questions", True)
        version = model_class.objects.create(**kwargs)
        if weights is None:
            weights = _split(100, competencies) if competencies else []
        FormCompetency.objects.bulk_create(
            FormCompetency(version=version, competency=CompetencyFactory(), weight=weight, scale=scale, order=order)
            for order, weight in enumerate(weights)
        )
        if with_questions:
            DialogueQuestion.objects.bulk_create(
                DialogueQuestion(version=version, key=key, text=text, help_text=help_text, order=order)
                for order, (key, text, help_text) in enumerate(DEFAULT_QUESTIONS)
            )
        return publish_version(version)


def _day(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, day)


class ReviewCycleFactory(factory.django.DjangoModelFactory):
    """A running PDSA cycle for one calendar year, in the Study phase; quarters are the phase windows."""

    class Meta:
        model = ReviewCycle
        exclude = ("year",)
        skip_postgeneration_save = True

    year = 2026
    name = factory.Sequence(lambda n: f"Review cycle {n}")
    methodology = CycleMethodology.PDSA
    start = factory.LazyAttribute(lambda c: _day(c.year, 1, 1))
    end = factory.LazyAttribute(lambda c: _day(c.year, 12, 31))
    plan_start = factory.LazyAttribute(lambda c: _day(c.year, 1, 1))
    plan_end = factory.LazyAttribute(lambda c: _day(c.year, 3, 31))
    do_start = factory.LazyAttribute(lambda c: _day(c.year, 4, 1))
    do_end = factory.LazyAttribute(lambda c: _day(c.year, 6, 30))
    study_start = factory.LazyAttribute(lambda c: _day(c.year, 7, 1))
    study_end = factory.LazyAttribute(lambda c: _day(c.year, 9, 30))
    act_start = factory.LazyAttribute(lambda c: _day(c.year, 10, 1))
    act_end = factory.LazyAttribute(lambda c: _day(c.year, 12, 31))
    period = factory.SubFactory(
        GoalPeriodFactory,
        name=factory.SelfAttribute("..name"),
        start=factory.SelfAttribute("..start"),
        end=factory.SelfAttribute("..end"),
    )
    state = CycleState.ACTIVE
    phase = Phase.STUDY
    launched_at = factory.LazyFunction(lambda: datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))


class ParticipantFactory(factory.django.DjangoModelFactory):
    """One person in a cycle on a published form, reviewed by their manager (as at launch)."""

    class Meta:
        model = Participant

    cycle = factory.SubFactory(ReviewCycleFactory)
    employee = factory.SubFactory(EmployeeFactory)
    form_version = factory.SubFactory(PublishedFormVersionFactory)
    reviewer = factory.LazyAttribute(lambda p: p.employee.manager)


class AppraisalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appraisal

    participant = factory.SubFactory(ParticipantFactory)
    state = AppraisalState.DRAFT


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    participant = factory.SubFactory(ParticipantFactory)


class DevelopmentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DevelopmentPlan

    participant = factory.SubFactory(ParticipantFactory)


class DevelopmentActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DevelopmentAction

    plan = factory.SubFactory(DevelopmentPlanFactory)
    description = factory.Sequence(lambda n: f"Development action {n}")
    due_date = datetime.date(2026, 12, 1)


class ParticipantWithRecordsFactory(ParticipantFactory):
    """A participant with an appraisal (``appraisal_state``), a check-in and a development plan."""

    class Meta:
        model = Participant
        skip_postgeneration_save = True

    @factory.post_generation
    def records(obj: Participant, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        state = kwargs.get("appraisal_state", AppraisalState.DRAFT)  # records__appraisal_state=...
        Appraisal.objects.create(participant=obj, state=state)
        CheckIn.objects.create(participant=obj)
        DevelopmentPlan.objects.create(participant=obj)
        # Made behind the services' back, so the cycle's summary rows are recounted as they would.
        tallies.refresh_for(obj)


@dataclass
class Scenario:
    cycle: ReviewCycle
    participant: Participant
    appraisal: Appraisal
    check_in: CheckIn
    plan: DevelopmentPlan
    form_version: FormVersion
    priority: QualityPriority
    goals: list[Goal]
    rows: list[FormCompetency]  # the form's competency rows, in order
    questions: dict[str, DialogueQuestion]  # by key
    measure: QualityMeasure | None = None
    extra: dict = field(default_factory=dict)


def appraisal_scenario(
    *,
    employee: Employee,
    reviewer: Employee | None = None,
    state: str = AppraisalState.SELF_ASSESSMENT,
    goal_weights: list[int] | None = None,
    competency_weights: list[int] | None = None,
    goals_weight: int = 60,
    competencies_weight: int = 40,
    measure_values: list[int | str] | None = None,
    cycle: ReviewCycle | None = None,
) -> Scenario:
    """One person's appraisal, ready to rate.

    Goals ``goal_weights`` (default [60, 40]) under one priority in the cycle's
    period; the first is driven by a measure with ``measure_values`` monthly
    observations (default: twelve flat points, so no special cause). The form has
    competencies weighted ``competency_weights`` (default [60, 40]) on a 1–5 scale,
    and the four default dialogue questions. ``reviewer`` defaults to the manager.
    """
    goal_weights = [60, 40] if goal_weights is None else goal_weights
    competency_weights = [60, 40] if competency_weights is None else competency_weights
    cycle = cycle or ReviewCycleFactory()
    version = PublishedFormVersionFactory(
        goals_weight=goals_weight, competencies_weight=competencies_weight, competency_weights=competency_weights
    )
    participant = ParticipantFactory(
        cycle=cycle,
        employee=employee,
        form_version=version,
        reviewer=reviewer if reviewer is not None else employee.manager,
    )
    appraisal = Appraisal.objects.create(participant=participant, state=state)
    check_in = CheckIn.objects.create(participant=participant)
    plan = DevelopmentPlan.objects.create(participant=participant)
    priority = QualityPriorityFactory()
    measure = None
    goals = []
    for index, weight in enumerate(goal_weights):
        extra = {}
        if index == 0:
            measure = QualityMeasureFactory(priority=priority)
            values = measure_values if measure_values is not None else [50] * 12
            for month, value in enumerate(values):
                ObservationFactory(
                    measure=measure, date=datetime.date(2025 + month // 12, month % 12 + 1, 1), value=Decimal(value)
                )
            extra = {"measure": measure, "progress_mode": ProgressMode.MEASURE, "baseline": Decimal(50),
                     "target": Decimal(80)}  # fmt: skip
        goals.append(
            IndividualGoalFactory(
                owner=employee,
                priority=priority,
                period=cycle.period,
                weight=weight,
                title=f"Goal {index + 1}",
                **extra,
            )
        )
    return Scenario(
        cycle=cycle,
        participant=participant,
        appraisal=appraisal,
        check_in=check_in,
        plan=plan,
        form_version=version,
        priority=priority,
        goals=goals,
        rows=list(version.competencies.order_by("order", "pk")),
        questions={q.key: q for q in version.questions.all()},
        measure=measure,
    )


def fill_blank_ratings(appraisal: Appraisal, *, side: str, value: Decimal = Decimal(3)) -> int:
    """Rate with ``value`` every goal and competency still blank on ``side`` ("self" or "manager"),
    as a person does before submitting (a submission with blanks is refused). Returns how many."""
    from appraisals.services.appraisals import blank_ratings

    blanks = blank_ratings(appraisal, side=side)
    for blank in blanks:
        kind, pk, _ = blank.field.split(".")
        model, key = (GoalRating, "goal_id") if kind == "goal_ratings" else (CompetencyRating, "form_competency_id")
        model.objects.update_or_create(appraisal=appraisal, **{key: int(pk)}, defaults={f"{side}_rating": value})
    return len(blanks)


__all__ = [
    "PLAIN_LEVELS",
    "AppraisalFactory",
    "AppraisalFormFactory",
    "CheckInFactory",
    "CompetencyFactory",
    "DevelopmentActionFactory",
    "DevelopmentPlanFactory",
    "ParticipantFactory",
    "ParticipantWithRecordsFactory",
    "PublishedFormVersionFactory",
    "RatingScaleFactory",
    "ReviewCycleFactory",
    "Scenario",
    "appraisal_scenario",
    "fill_blank_ratings",
]


# ---------------------------------------------------------------- cycle windows around today

TODAY = datetime.date.today()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def data_around_today(phase: str = Phase.PLAN, **changes: object) -> dict[str, object]:
    """A cycle whose ``phase`` window contains today; each window is 30 days."""
    offset = {Phase.PLAN: 0, Phase.DO: 31, Phase.STUDY: 62, Phase.ACT: 93}[phase]
    data: dict[str, object] = {"name": "Launch test", "methodology": "pdsa"}
    for index, name in enumerate((Phase.PLAN, Phase.DO, Phase.STUDY, Phase.ACT)):
        data[f"{name}_start"] = days(index * 31 - offset - 10)
        data[f"{name}_end"] = days(index * 31 - offset + 19)
    data["start"], data["end"] = data["plan_start"], data["act_end"]
    data.update(changes)
    return data

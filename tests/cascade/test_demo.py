"""The demo hospital's priorities and goals, and the synthetic organisation's goals (cascade/demo.py)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from cascade import charts, progress, workflow
from cascade.demo import PRIORITIES, months_before
from cascade.models import (
    Approval,
    Goal,
    GoalLevel,
    GoalPeriod,
    GoalSetEvent,
    GoalStatus,
    GoalUpdate,
    MeasureType,
    Observation,
    PriorityStatus,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
    ReviewAction,
)
from cascade.selectors import organisation_default_period
from people.demo import SYNTHETIC_EMAIL_DOMAIN
from people.models import Employee

pytestmark = pytest.mark.django_db
MAIN_OUTCOMES = (
    "Claims processing cycle time",
    "Medication administration errors per 1,000 doses",
    "Time in the emergency department",
)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def hospital(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo, seeded once for this module inside a transaction that is rolled back at its end;
    each test still runs in its own savepoint, so what a test changes is undone after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def counted_mean(goals) -> Decimal:
    return progress.weighted_mean((g.progress, g.weight) for g in goals)


def counted(goals) -> list[Goal]:
    return [g for g in goals if g.approval == Approval.APPROVED and g.status != GoalStatus.CANCELLED]


def test_it_loads_the_article_s_three_priorities_owned_by_the_quality_lead(hospital: str) -> None:
    # This year's (last year's, retired, belong to the closed review cycle: appraisals/demo.py).
    priorities = list(QualityPriority.objects.filter(status=PriorityStatus.ACTIVE).select_related("owner__user"))
    assert {(p.title, p.methodology) for p in priorities} == {(s.title, s.methodology) for s in PRIORITIES}
    today = timezone.localdate()
    for priority in priorities:
        assert priority.owner.user.username == "quality" and priority.owner.is_quality_lead
        assert priority.period_start <= today <= priority.period_end
        assert f"by 31 December {today.year}" in priority.aim


def test_there_is_a_current_period_and_a_previous_one(hospital: str) -> None:
    period = organisation_default_period()
    assert period.start <= timezone.localdate() <= period.end
    assert period.goals.exists()
    assert GoalPeriod.objects.filter(end__lt=period.start).exists()


def test_each_priority_has_measures_of_every_ihi_type_between_them(hospital: str) -> None:
    per_priority = (
        QualityPriority.objects.filter(status=PriorityStatus.ACTIVE)
        .annotate(n=Count("measures"))
        .values_list("n", flat=True)
    )
    assert all(n >= 2 for n in per_priority)
    assert set(QualityMeasure.objects.values_list("measure_type", flat=True)) == set(MeasureType.values)


def test_each_measure_has_at_least_24_monthly_observations_ending_last_month(hospital: str) -> None:
    last_month = months_before(timezone.localdate(), 1)[0]
    for measure in QualityMeasure.objects.all():
        dates = list(measure.observations.values_list("date", flat=True))
        assert len(dates) >= 24, measure.name
        assert dates == months_before(timezone.localdate(), len(dates)), measure.name
        assert dates[-1] == last_month


def test_rates_carry_their_numerator_and_denominator(hospital: str) -> None:
    rates = Observation.objects.filter(measure__unit__in=["%", "errors per 1,000 doses"])
    assert rates.exists() and not rates.filter(denominator__isnull=True).exists()
    for observation in rates.select_related("measure")[:60]:
        scale = 1000 if "1,000" in observation.measure.unit else 100
        assert abs(observation.numerator / observation.denominator * scale - observation.value) <= Decimal("0.05")


def test_the_baseline_is_the_early_mean_and_the_target_lies_beyond_it(hospital: str) -> None:
    for measure in QualityMeasure.objects.all():
        early = [o.value for o in measure.observations.all()[:12]]
        assert abs(sum(early) / len(early) - measure.baseline) < Decimal("0.06"), measure.name
        improvement = measure.target - measure.baseline
        assert improvement < 0 if measure.direction == "down" else improvement > 0, measure.name


def chart_of(measure: QualityMeasure) -> dict:
    observations = [(o.date, o.value) for o in measure.observations.order_by("date")]
    return charts.chart_for(observations, direction=measure.direction, target=measure.target).as_dict()


def test_the_charts_show_real_improvement_and_common_cause_variation(hospital: str) -> None:
    signals = {m.name: chart_of(m)["xmr"]["signals"] for m in QualityMeasure.objects.all()}
    improving = {name for name, found in signals.items() if any(s["kind"] == "improvement" for s in found)}
    stable = {name for name, found in signals.items() if not found}
    assert set(MAIN_OUTCOMES) <= improving
    assert "Discharges before noon" in stable
    assert "Readmissions within 7 days of discharge" in stable  # the balancing measure: no harm done


def test_employee_has_approved_goals_under_two_priorities_weighing_100(hospital: str) -> None:
    goals = list(Goal.objects.filter(owner__user__username="employee", period=organisation_default_period()))
    assert 3 <= len(goals) <= 4
    assert {g.approval for g in goals} == {Approval.APPROVED}
    assert sum(g.weight for g in goals) == 100
    assert len({g.priority_id for g in goals}) >= 2
    assert all(g.parent_goal and g.parent_goal.level == GoalLevel.FUNCTIONAL for g in goals)  # line of sight


def test_manager_has_approved_goals_and_a_submitted_set_to_approve(hospital: str) -> None:
    manager = Employee.objects.select_related("user").get(user__username="manager")
    this_year = Goal.objects.filter(period=organisation_default_period())
    assert this_year.filter(owner=manager, approval=Approval.APPROVED).aggregate(w=Sum("weight"))["w"] == 100
    waiting = this_year.filter(approval=Approval.SUBMITTED, owner__manager=manager)
    owner = waiting.first().owner
    assert waiting.count() == this_year.filter(owner=owner).count()
    goal_set = workflow.GoalSet(period=organisation_default_period(), owner=owner)
    approved = workflow.approve(user=manager.user, goal_set=goal_set)
    assert {g.approval for g in Goal.objects.filter(pk__in=[g.pk for g in approved])} == {Approval.APPROVED}


def test_a_returned_set_carries_the_manager_s_comment(hospital: str) -> None:
    event = GoalSetEvent.objects.select_related("actor__user", "owner").get(action=ReviewAction.RETURNED)
    assert event.actor.user.username == "manager" and event.comment
    goals = Goal.objects.filter(owner=event.owner, period=organisation_default_period())
    assert set(goals.values_list("approval", flat=True)) == {Approval.RETURNED}


def test_department_goals_are_approved_weigh_100_a_department_and_some_are_shared(hospital: str) -> None:
    functional = Goal.objects.filter(level=GoalLevel.FUNCTIONAL)
    totals = functional.values("department__name").annotate(total=Sum("weight"))
    assert {row["department__name"] for row in totals} >= {"Claims processing", "Pharmacy", "Nursing", "Emergency"}
    assert all(row["total"] == 100 for row in totals)
    assert set(functional.values_list("approval", flat=True)) == {Approval.APPROVED}
    assert set(functional.values_list("progress_mode", flat=True)) == set(ProgressMode.values)
    flow = functional.filter(title__startswith="Cut time in the emergency department").get()
    assert list(flow.contributing_departments.values_list("name", flat=True)) == ["Radiology"]


def test_stored_progress_equals_a_recomputation(hospital: str) -> None:
    noon = Goal.objects.get(title="A third of ward discharges before noon")
    assert noon.progress == counted_mean(counted(noon.children.all())) > 0
    for priority in QualityPriority.objects.all():
        assert priority.progress == counted_mean(counted(priority.goals.filter(parent_goal=None)))
    for goal in Goal.objects.filter(progress_mode=ProgressMode.MEASURE).select_related("measure"):
        latest = goal.measure.observations.order_by("-date").first().value
        assert goal.progress == progress.progress_towards(baseline=goal.baseline, target=goal.target, latest=latest)


def test_feeds_have_updates_with_comments_and_confidence(hospital: str) -> None:
    updates = GoalUpdate.objects.filter(goal__owner__user__username="employee")
    assert updates.count() >= 3 and not updates.filter(comment="").exists()
    assert len(set(GoalUpdate.objects.values_list("confidence", flat=True))) == 3
    assert GoalUpdate.objects.filter(created_at__lt=timezone.now() - datetime.timedelta(days=7)).exists()


def test_rerunning_creates_nothing_new(hospital: str) -> None:
    models = (QualityPriority, QualityMeasure, Observation, Goal, GoalUpdate, GoalSetEvent)
    before = [model.objects.count() for model in models]
    output = seed()
    assert [model.objects.count() for model in models] == before
    assert "already loaded" in output and "employee" in output


def test_synthetic_seeding_gives_five_goals_a_person_totalling_100() -> None:
    seed("--employees", "200")
    people = Employee.objects.filter(user__email__endswith=f"@{SYNTHETIC_EMAIL_DOMAIN}")
    goals = Goal.objects.filter(owner__in=people)
    per_person = goals.values("owner").annotate(n=Count("pk"), total=Sum("weight"))
    assert len(per_person) == 200
    assert {(row["n"], row["total"]) for row in per_person} == {(5, 100)}
    assert set(goals.values_list("approval", flat=True)) == {Approval.APPROVED}
    assert goals.filter(parent_goal__isnull=False).count() > 0.8 * goals.count()
    priorities = QualityPriority.objects.filter(title__startswith="Synthetic")
    assert priorities.count() == 3
    assert {m.observations.count() for m in QualityMeasure.objects.filter(priority__in=priorities)} == {24}
    children: dict[int, list[Goal]] = defaultdict(list)
    for goal in goals.filter(parent_goal__isnull=False):
        children[goal.parent_goal_id].append(goal)
    for parent in Goal.objects.filter(pk__in=list(children)[:20]):
        assert parent.progress == counted_mean(children[parent.pk])
    for priority in priorities:
        assert priority.progress == counted_mean(counted(priority.goals.filter(parent_goal=None)))
    before = Goal.objects.count()
    assert "already loaded" in seed("--employees", "200")
    assert Goal.objects.count() == before

"""The correlation analysis: Spearman's ρ and its bootstrap interval (audits/correlation.py), and the
pairs read from the database (audits/selectors/correlation.py).

Every ρ asserted here was worked out by hand from ranks, as written beside it, not by calling SciPy.
"""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from appraisals.models import Appraisal
from audits.correlation import MIN_N, NO_INTERVAL_FOR_TIES, resamples_for, spearman, spearman_along
from audits.models import AnalysisUnit, CorrelationScope, QIOutcome
from audits.selectors.correlation import collect
from cascade.models import Approval, Direction, GoalStatus
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.audits.helpers import TIED_RHO, TIED_X, TIED_Y, UNTIED_RHO, UNTIED_X, UNTIED_Y, WEAK_RHO, WEAK_X, WEAK_Y
from tests.audits.rules.helpers import queries_of
from tests.cascade.factories import (
    FunctionalGoalFactory,
    IndividualGoalFactory,
    ObservationFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory


def test_rho_without_ties_is_the_textbook_formula():
    result = spearman(UNTIED_X, UNTIED_Y)
    assert result.n == 10
    assert result.rho == pytest.approx(UNTIED_RHO, abs=1e-9)
    assert spearman(WEAK_X, WEAK_Y).rho == pytest.approx(WEAK_RHO, abs=1e-9)


def test_rho_with_ties_is_pearson_on_average_ranks():
    result = spearman(TIED_X, TIED_Y)
    assert result.rho == pytest.approx(TIED_RHO, abs=1e-9)
    assert result.rho == pytest.approx(0.85812, abs=1e-5)


def test_the_interval_is_reproducible_contains_rho_and_stays_within_minus_one_and_one():
    for x, y in ((UNTIED_X, UNTIED_Y), (TIED_X, TIED_Y), (WEAK_X, WEAK_Y)):
        first, again = spearman(x, y), spearman(x, y)
        assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)  # same seed, same numbers
        assert first.ci_low is not None and first.ci_high is not None
        assert -1 <= first.ci_low <= first.rho <= first.ci_high <= 1
    # A different seed resamples differently: the interval is the bootstrap's, not a formula's.
    other = spearman(WEAK_X, WEAK_Y, seed=7)
    assert (other.ci_low, other.ci_high) != (spearman(WEAK_X, WEAK_Y).ci_low, spearman(WEAK_X, WEAK_Y).ci_high)


def test_a_weak_link_has_an_interval_that_includes_zero_and_a_reversed_one_lies_below_it():
    weak = spearman(WEAK_X, WEAK_Y)
    assert weak.ci_low < 0 < weak.ci_high
    reversed_ = spearman(UNTIED_X, list(reversed(UNTIED_Y)))
    assert reversed_.rho < 0
    assert reversed_.ci_high < 0


def test_the_bootstraps_statistic_is_spearmanr_itself():
    rng = np.random.default_rng(3)
    samples_x = rng.integers(0, 101, size=(5, 30)).astype(float)  # ties on purpose
    samples_y = rng.normal(60, 15, size=(5, 30))
    vectorised = spearman_along(samples_x, samples_y, axis=-1)
    for row in range(5):
        assert vectorised[row] == pytest.approx(stats.spearmanr(samples_x[row], samples_y[row]).statistic, abs=1e-12)


def test_fewer_than_ten_pairs_are_not_shown():
    result = spearman(UNTIED_X[:9], UNTIED_Y[:9], noun="people")
    assert result.n == 9
    assert (result.rho, result.ci_low, result.ci_high) == (None, None, None)
    assert not result.shown
    assert result.note.startswith("Fewer than 10 people (n = 9): not shown")


def test_the_floor_can_be_raised_but_never_lowered_below_ten():
    assert not spearman(UNTIED_X, UNTIED_Y, min_n=12).shown
    assert "Fewer than 12" in spearman(UNTIED_X, UNTIED_Y, min_n=12).note
    assert not spearman(UNTIED_X[:9], UNTIED_Y[:9], min_n=5).shown
    assert MIN_N == 10


def test_a_constant_variable_has_no_rho_and_says_why():
    result = spearman(UNTIED_X, [70] * 10, noun="people", y_name="the appraisal score")
    assert result.n == 10
    assert result.rho is None and result.ci_low is None and result.ci_high is None
    assert result.note == "The appraisal score has the same value for all 10 people, so ρ is not defined."


def test_pairs_with_a_missing_value_are_left_out_before_counting():
    result = spearman([*UNTIED_X, None, 5], [*UNTIED_Y, 70, math.nan])
    assert result.n == 10
    assert result.rho == pytest.approx(UNTIED_RHO, abs=1e-9)
    assert "Left out for a missing value: 2." in result.note


def test_decimals_are_accepted_and_unpaired_input_is_refused():
    assert spearman([Decimal(v) for v in UNTIED_X], [Decimal(v) for v in UNTIED_Y]).rho == pytest.approx(UNTIED_RHO)
    with pytest.raises(ValueError, match="paired"):
        spearman([1, 2, 3], [1, 2])


def test_heavy_ties_give_an_interval_from_the_resamples_where_rho_is_defined_or_none_at_all():
    # Seven of ten people at 100 %: 0.7^10 ≈ 3 % of resamples draw only them, and ρ is undefined there.
    y = [60, 72, 65, 80, 58, 75, 70, 68, 55, 50]
    result = spearman([100] * 7 + [20, 40, 60], y)
    assert result.shown and not result.interval_unavailable
    assert -1 <= result.ci_low <= result.rho <= result.ci_high <= 1
    assert re.fullmatch(r"BCa interval over the \d+ resamples in which ρ is defined \(\d+ left out\)\.", result.note)
    assert result == spearman([100] * 7 + [20, 40, 60], y)
    # Eight of ten: 0.8^10 ≈ 11 % of the resamples are degenerate, more than the tenth allowed.
    # (With 1,999 resamples this fell either side of the tenth depending on the seed.)
    for seed in (1, 2, 3):
        worse = spearman([100] * 8 + [20, 40], y, seed=seed)
        assert worse.shown and worse.ci_low is None and worse.ci_high is None
        assert worse.interval_unavailable
        assert worse.note.startswith(f"{NO_INTERVAL_FOR_TIES}: in ")


# Small samples with heavy ties, where 1,999 resamples let the bounds move by an SD of up to 0.03.
SMALL_TIED = [
    ([1, 1, 2, 2, 2, 3, 3, 4, 4, 5], [2, 1, 2, 3, 3, 3, 4, 4, 5, 5]),
    ([0, 0, 0, 50, 50, 50, 50, 100, 100, 100, 100, 100], [3, 2, 3, 3, 4, 3, 4, 4, 5, 4, 5, 5]),
    ([1, 2, 2, 3, 3, 4, 4, 5, 5, 5], [3, 1, 4, 2, 5, 3, 3, 2, 4, 1]),
]


@pytest.mark.parametrize(("x", "y"), SMALL_TIED)
def test_at_small_n_the_bounds_are_stable_to_a_hundredth_across_seeds(x, y):
    results = [spearman(x, y, seed=seed) for seed in (11, 22, 33, 44, 55)]
    lows, highs = [r.ci_low for r in results], [r.ci_high for r in results]
    assert max(lows) - min(lows) <= 0.02 and max(highs) - min(highs) <= 0.02
    assert resamples_for(len(x)) >= 40_000


def test_the_number_of_resamples_falls_with_n_to_999():
    assert [resamples_for(n) for n in (10, 12, 50, 100, 500, 10_000)] == [49_999, 40_999, 9_999, 4_999, 999, 999]


# ---------------------------------------------------------------- the pairs from the database


@pytest.fixture
def cycle():
    return ReviewCycleFactory(name="Review 2026")


@pytest.fixture
def form():
    return PublishedFormVersionFactory(competencies=1)


def person(cycle, form, department, *, score, goals=(), name="") -> Appraisal:
    """Someone with an appraisal score in the cycle and ``goals`` = [(weight, progress, status), …]."""
    employee = EmployeeFactory(department=department, **({"full_name": name} if name else {}))
    participant = ParticipantFactory(cycle=cycle, employee=employee, form_version=form, reviewer=None)
    priority = QualityPriorityFactory()
    for weight, progress, status in goals:
        IndividualGoalFactory(
            owner=employee,
            priority=priority,
            period=cycle.period,
            weight=weight,
            progress=Decimal(progress),
            status=status,
            approval=Approval.APPROVED,
        )
    return Appraisal.objects.create(participant=participant, score=None if score is None else Decimal(score))


@pytest.mark.django_db
def test_a_persons_x_is_their_weighted_goal_achievement_with_achieved_goals_counting_in_full(cycle, form):
    nursing = DepartmentFactory(name="Nursing")
    open_ = GoalStatus.OPEN
    # 60 × 40 % + 40 × 100 % (achieved, whatever its progress says) = 64 %
    person(cycle, form, nursing, score="71.5", goals=[(60, "40", open_), (40, "10", GoalStatus.ACHIEVED)])
    # Cancelled goals and goals not yet approved do not count: 100 × 30 % = 30 %
    someone = person(cycle, form, nursing, score="55", goals=[(100, "30", open_)])
    IndividualGoalFactory(
        owner=someone.participant.employee, period=cycle.period, weight=50, progress=Decimal(90),
        status=GoalStatus.CANCELLED, approval=Approval.DRAFT,
    )  # fmt: skip
    IndividualGoalFactory(
        owner=someone.participant.employee, period=cycle.period, weight=50, progress=Decimal(90),
        approval=Approval.SUBMITTED,
    )  # fmt: skip
    # A score but no approved goals: left out, and counted in the note.
    person(cycle, form, nursing, score="80")
    # No score: not in the analysis at all.
    person(cycle, form, nursing, score=None, goals=[(100, "99", open_)])

    data = collect()
    assert data.cycle == cycle
    organisation, by_department, nursing_people = data.pair_sets
    assert (organisation.scope, organisation.unit, organisation.outcome) == (
        CorrelationScope.ORGANISATION, AnalysisUnit.PERSON, QIOutcome.QI_GOALS,
    )  # fmt: skip
    assert organisation.note == (
        "Appraisal scores from “Review 2026”. 1 person with a score but no approved goals in its goal period left out."
    )
    assert organisation.points() == [[64.0, 71.5], [30.0, 55.0]]  # by person, no names
    assert (by_department.unit, by_department.outcome) == (AnalysisUnit.DEPARTMENT, QIOutcome.MEASURES)
    assert (nursing_people.scope, nursing_people.department_id, nursing_people.label) == (
        CorrelationScope.DEPARTMENT, nursing.pk, "Nursing",
    )  # fmt: skip
    assert sorted(nursing_people.x) == [30.0, 64.0]


@pytest.mark.django_db
def test_the_latest_cycle_with_scores_is_used(cycle, form):
    older = ReviewCycleFactory(name="Review 2025", year=2025)
    person(older, form, DepartmentFactory(name="Nursing"), score="60", goals=[(100, "50", GoalStatus.OPEN)])
    assert collect().cycle == older  # the 2026 cycle has no score yet
    person(cycle, form, DepartmentFactory(name="Nursing"), score="70", goals=[(100, "50", GoalStatus.OPEN)])
    assert collect().cycle == cycle


@pytest.mark.django_db
def test_nothing_to_analyse_without_a_scored_cycle():
    data = collect()
    assert data.cycle is None and data.pair_sets == []


@pytest.mark.django_db
def test_a_departments_x_is_the_mean_improvement_of_the_measures_linked_to_its_goals(cycle, form):
    """Improvement = (latest − baseline) / (target − baseline), clamped, whichever way is better:
    - up, 50 → 80, latest 65: 15/30 = 50 %;   - down, 20 → 10, latest 12: −8/−10 = 80 %
    - up, 50 → 80, latest 95 (beyond the target): 100 %;   - an observation after the period: ignored."""
    flow, pharmacy, estates = (DepartmentFactory(name=n) for n in ("Patient flow", "Pharmacy", "Estates"))
    priority = QualityPriorityFactory()
    up = QualityMeasureFactory(priority=priority, direction=Direction.UP, baseline=Decimal(50), target=Decimal(80))
    down = QualityMeasureFactory(priority=priority, direction=Direction.DOWN, baseline=Decimal(20), target=Decimal(10))
    beyond = QualityMeasureFactory(priority=priority, baseline=Decimal(50), target=Decimal(80))
    ObservationFactory(measure=up, date=datetime.date(2026, 3, 1), value=Decimal(55))
    ObservationFactory(measure=up, date=datetime.date(2026, 6, 1), value=Decimal(65))
    ObservationFactory(measure=up, date=datetime.date(2027, 2, 1), value=Decimal(80))  # after the period's end
    ObservationFactory(measure=down, date=datetime.date(2026, 6, 1), value=Decimal(12))
    ObservationFactory(measure=beyond, date=datetime.date(2026, 6, 1), value=Decimal(95))
    approved = {"approval": Approval.APPROVED, "period": cycle.period, "priority": priority}
    FunctionalGoalFactory(department=flow, measure=up, **approved)
    FunctionalGoalFactory(department=flow, measure=down, **approved)
    FunctionalGoalFactory(department=pharmacy, measure=beyond, **approved)
    FunctionalGoalFactory(department=estates, measure=beyond, approval=Approval.DRAFT, period=cycle.period)
    for department, scores in ((flow, ["60", "70"]), (pharmacy, ["90"]), (estates, ["50"])):
        for score in scores:
            person(cycle, form, department, score=score, goals=[(100, "50", GoalStatus.OPEN)])

    departments = collect().pair_sets[1]
    assert departments.point_labels == ["Patient flow", "Pharmacy"]  # Estates' only link is a draft
    assert departments.x == [pytest.approx(65.0), pytest.approx(100.0)]  # (50 + 80) / 2, and 100
    assert departments.y == [pytest.approx(65.0), pytest.approx(90.0)]  # mean scores
    assert departments.points() == [[65.0, 65.0, "Patient flow"], [100.0, 90.0, "Pharmacy"]]
    assert "1 department with scores but no linked measure with data left out." in departments.note


@pytest.mark.django_db
def test_reading_the_pairs_takes_the_same_queries_whatever_the_size(cycle, form):
    def populate(count: int) -> None:
        for i in range(count):
            department = DepartmentFactory(name=f"Department {i % 4}")
            person(cycle, form, department, score=str(50 + i), goals=[(100, str(i * 3), GoalStatus.OPEN)])

    populate(4)
    small = queries_of(collect)
    populate(12)
    assert queries_of(collect) == small <= 7

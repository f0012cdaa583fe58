"""The score formula (version 1), checked against numbers worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appraisals import scoring
from appraisals.models import Appraisal, CompetencyRating, GoalRating
from appraisals.scoring import ScoredItem, compute
from tests.appraisals.factories import PublishedFormVersionFactory, RatingScaleFactory, appraisal_scenario

ONE_TO_FIVE = (Decimal(1), Decimal(5))


def item(pk: int, weight: int, rating: int | str | None, bounds=ONE_TO_FIVE) -> ScoredItem:  # type: ignore[no-untyped-def]
    return ScoredItem(pk, f"Item {pk}", weight, None if rating is None else Decimal(rating), *bounds)


def test_each_rating_is_normalised_on_its_scale():
    assert item(1, 1, 1).normalised == 0
    assert item(1, 1, 4).normalised == 75
    assert item(1, 1, 5).normalised == 100
    assert item(1, 1, 20, (Decimal(0), Decimal(40))).normalised == 50
    assert item(1, 1, None).normalised is None


def test_the_total_is_the_weighted_mean_of_weighted_sections():
    # Goals 60/40 rated 4 and 2 → 75 and 25 → (60×75 + 40×25) / 100 = 55.
    # Competencies 60/40 rated 5 and 3 → 100 and 50 → 80.
    # Form 60 % goals, 40 % competencies → 0.6 × 55 + 0.4 × 80 = 33 + 32 = 65.
    result = compute(
        goals_weight=60,
        competencies_weight=40,
        goals=[item(1, 60, 4), item(2, 40, 2)],
        competencies=[item(10, 60, 5), item(11, 40, 3)],
    )
    assert result.total == Decimal("65.00")
    sections = result.breakdown["sections"]
    assert (sections["goals"]["score"], sections["competencies"]["score"]) == ("55.00", "80.00")
    assert [i["normalised"] for i in sections["goals"]["items"]] == ["75.00", "25.00"]
    assert result.breakdown["complete"] is True
    assert result.breakdown["formula_version"] == scoring.FORMULA_VERSION == "1"


def test_goal_weights_need_not_total_100_in_a_section():
    # Weights 3 and 1, rated 5 and 1 → (3×100 + 1×0) / 4 = 75; all goals → total 75.
    result = compute(goals_weight=100, competencies_weight=0, goals=[item(1, 3, 5), item(2, 1, 1)], competencies=[])
    assert result.total == Decimal("75.00")


def test_the_total_is_rounded_once_half_up():
    # Goals: weights 1 and 1, rated 2 and 1 → 25 and 0 → 12.5; competencies rated 1 → 0.
    # 0.61 × 12.5 + 0.39 × 0 = 7.625 → 7.63 (half up, not the banker's 7.62).
    result = compute(
        goals_weight=61, competencies_weight=39, goals=[item(1, 1, 2), item(2, 1, 1)], competencies=[item(3, 1, 1)]
    )
    assert result.total == Decimal("7.63")


def test_sections_are_not_rounded_before_the_total():
    # Goals: three equal goals rated 1, 1, 2 → 0, 0, 25 → 8.333…; the competency rated 1 → 0.
    # Exact: 0.53 × 8.333… = 4.41666… → 4.42. Rounding the section first would give 0.53 × 8.33 = 4.4149 → 4.41.
    result = compute(
        goals_weight=53,
        competencies_weight=47,
        goals=[item(1, 1, 1), item(2, 1, 1), item(3, 1, 2)],
        competencies=[item(4, 1, 1)],
    )
    assert result.total == Decimal("4.42")
    assert result.breakdown["sections"]["goals"]["score"] == "8.33"  # shown rounded, kept exact


def test_unrated_items_are_left_out_and_listed_as_missing():
    # Goals: only the second (weight 40) is rated, 3 → 50: the section is 50.
    # Competencies both rated 5 → 100. Total 0.6 × 50 + 0.4 × 100 = 70.
    result = compute(
        goals_weight=60,
        competencies_weight=40,
        goals=[item(1, 60, None), item(2, 40, 3)],
        competencies=[item(10, 50, 5), item(11, 50, 5)],
    )
    assert result.total == Decimal("70.00")
    goals = result.breakdown["sections"]["goals"]
    assert goals["missing"] == [{"id": 1, "label": "Item 1"}]
    assert (goals["rated"], goals["of"]) == (1, 2)
    assert result.breakdown["complete"] is False
    assert "1 of 2 goals have no manager rating" in result.breakdown["notes"][0]


def test_a_section_with_nothing_rated_gives_its_weight_to_the_other():
    result = compute(
        goals_weight=60, competencies_weight=40, goals=[item(1, 100, None)], competencies=[item(10, 100, 4)]
    )
    assert result.total == Decimal("75.00")
    assert result.breakdown["sections"]["competencies"]["effective_weight"] == "100.00"
    assert result.breakdown["sections"]["goals"]["effective_weight"] == "0.00"
    assert any("left out of the total" in note for note in result.breakdown["notes"])


def test_nothing_rated_means_no_score():
    result = compute(goals_weight=60, competencies_weight=40, goals=[item(1, 100, None)], competencies=[])
    assert result.total is None
    assert result.breakdown["total"] is None


# ---------------------------------------------------------------- from an appraisal's records


@pytest.fixture
def s(cast):  # type: ignore[no-untyped-def]
    return appraisal_scenario(
        employee=cast.employee,
        goals_weight=70,
        competencies_weight=30,
        goal_weights=[50, 30, 20],
        competency_weights=[100],
    )


def _rate(s, goals: list, competency, *, self_too: bool = True) -> None:  # type: ignore[no-untyped-def]
    for goal, value in zip(s.goals, goals, strict=True):
        GoalRating.objects.create(
            appraisal=s.appraisal,
            goal=goal,
            manager_rating=None if value is None else Decimal(value),
            self_rating=Decimal(1) if self_too else None,
        )
    CompetencyRating.objects.create(
        appraisal=s.appraisal, form_competency=s.rows[0], manager_rating=Decimal(competency), self_rating=Decimal(5)
    )


def test_score_uses_the_participants_form_version_and_manager_ratings_only(s):
    # Goals 50/30/20 rated 5, 3, 1 → 100, 50, 0 → (5000 + 1500 + 0) / 100 = 65.
    # One competency rated 4 → 75. Form 70/30 → 45.5 + 22.5 = 68. Self ratings (1s and a 5) are ignored.
    _rate(s, [5, 3, 1], 4)
    result = scoring.score(s.appraisal)
    assert result.total == Decimal("68.00")
    assert result.breakdown["sections"]["goals"]["weight"] == 70


def test_a_newer_form_version_does_not_change_the_score(s):
    _rate(s, [5, 3, 1], 4)
    PublishedFormVersionFactory(form=s.form_version.form, number=2, goals_weight=10, competencies_weight=90)
    assert scoring.score(s.appraisal).total == Decimal("68.00")


def test_a_cancelled_goal_is_not_scored(s):
    _rate(s, [5, 3, 1], 4)
    s.goals[2].status = "cancelled"
    s.goals[2].save()
    # Goals 50/30 → (5000 + 1500) / 80 = 81.25; total 0.7 × 81.25 + 0.3 × 75 = 56.875 + 22.5 = 79.375 → 79.38.
    assert scoring.score(s.appraisal).total == Decimal("79.38")


def test_a_scale_that_does_not_start_at_one(cast):
    scale = RatingScaleFactory(
        levels=[(Decimal(0), "None", ""), (Decimal("2.5"), "Some", ""), (Decimal(10), "All", "")]
    )
    s = appraisal_scenario(employee=cast.employee, goal_weights=[100], competency_weights=[100])
    version = PublishedFormVersionFactory(
        goals_scale=scale, competency_weights=[100], goals_weight=50, competencies_weight=50
    )  # its competency row is on the same 0–10 scale
    s.participant.form_version = version
    s.participant.save()
    GoalRating.objects.create(appraisal=s.appraisal, goal=s.goals[0], manager_rating=Decimal("2.5"))
    CompetencyRating.objects.create(
        appraisal=s.appraisal, form_competency=version.competencies.get(), manager_rating=10
    )
    # Goal 2.5 on 0–10 → 25; competency 10 on 0–10 → 100; 0.5 × 25 + 0.5 × 100 = 62.5.
    assert scoring.score(Appraisal.objects.get(pk=s.appraisal.pk)).total == Decimal("62.50")


def test_score_many_matches_score_one_by_one(cast, s):
    _rate(s, [5, 3, 1], 4)
    other = appraisal_scenario(employee=cast.manager, cycle=s.cycle)
    GoalRating.objects.create(appraisal=other.appraisal, goal=other.goals[0], manager_rating=Decimal(3))
    both = scoring.score_many([s.appraisal, other.appraisal])
    assert both[s.appraisal.pk].total == scoring.score(s.appraisal).total == Decimal("68.00")
    # Other: goals 60/40 with only the first rated 3 → 50; no competency rated → goals take 100 %: 50.
    assert both[other.appraisal.pk].total == Decimal("50.00")

"""The payout rules (incentives/payout_formula.py): pure functions, no database."""

from __future__ import annotations

from decimal import Decimal

from incentives.payout_formula import ComponentRule, GoalFigure, compute_payout, qi_goal_achievement

D = Decimal


def rule(kind="org_measure", weight=100, threshold="0", cap="100", achievement=None, name="Measure"):
    return ComponentRule(
        kind=kind,
        name=name,
        weight=weight,
        threshold=D(threshold),
        cap=D(cap),
        achievement=None if achievement is None else D(achievement),
    )


def test_the_breakdown_reads_in_plain_language():
    result = compute_payout(
        target=D("2000"),
        components=[rule("qi_goals", 50, name="QI goals"), rule(weight=50, achievement="0")],
        goals=[GoalFigure(60, D("60")), GoalFigure(40, D("91.25"))],
    )
    assert result.breakdown[0] == (
        "QI goals: 72.5 % achieved (2 approved QI-linked goals) × 50 % weight × £2,000.00 target = £725.00"
    )
    assert result.amount == D("725.00")


def test_qi_goal_achievement_is_weighted_by_goal_weight_and_an_achieved_goal_counts_in_full():
    assert qi_goal_achievement([GoalFigure(75, D("40")), GoalFigure(25, D("80"))]) == D("50")
    assert qi_goal_achievement([GoalFigure(50, D("10"), achieved=True), GoalFigure(50, D("0"))]) == D("50")
    assert qi_goal_achievement([]) == 0


def test_below_the_threshold_a_component_pays_nothing():
    result = compute_payout(target=D("1000"), components=[rule(threshold="60", achievement="59.99")])
    assert result.amount == D("0.00")
    assert "below the 60 % threshold" in result.breakdown[0]
    at_threshold = compute_payout(target=D("1000"), components=[rule(threshold="60", achievement="60")])
    assert at_threshold.amount == D("600.00")


def test_above_the_cap_a_component_counts_as_the_cap():
    result = compute_payout(target=D("1000"), components=[rule(cap="150", achievement="180")])
    assert result.amount == D("1500.00")
    assert "capped at 150 %" in result.breakdown[0]


def test_weights_share_the_target_between_components():
    result = compute_payout(
        target=D("1000"),
        components=[rule("appraisal_score", 30, name="Appraisal"), rule(weight=70, achievement="50")],
        appraisal_score=D("80"),
    )
    # 1000 × 30 % × 80 % + 1000 × 70 % × 50 % = 240 + 350
    assert result.amount == D("590.00")


def test_no_appraisal_score_counts_as_zero():
    assert compute_payout(target=D("1000"), components=[rule("appraisal_score")]).amount == D("0.00")


def test_money_is_rounded_once_at_the_end_half_up():
    # Each component is £0.005 (1 × 1 % × 50 %); rounding each would give 0.01 + 0.01 = 0.02,
    # rounding once gives 0.01 (0.0100 exactly), and half-up on the sum 0.015 → 0.02 is tested below.
    components = [rule(weight=1, achievement="50", name="A"), rule(weight=1, achievement="50", name="B")]
    once = compute_payout(target=D("1"), components=components)
    assert once.amount == D("0.01")
    per_component = sum(
        (D("1") * D("1") / 100 * D("50") / 100).quantize(D("0.01"), rounding="ROUND_HALF_UP") for _ in components
    )
    assert per_component == D("0.02") != once.amount
    three = compute_payout(target=D("1"), components=[*components, rule(weight=1, achievement="50", name="C")])
    assert three.amount == D("0.02")  # 0.015 rounds half up


def test_amounts_are_decimals_never_floats_and_recomputing_gives_the_same_result():
    arguments = {
        "target": D("1234.57"),
        "components": [rule("qi_goals", 40), rule("appraisal_score", 35), rule(weight=25, achievement="33.33")],
        "goals": [GoalFigure(30, D("33.33")), GoalFigure(70, D("66.67"))],
        "appraisal_score": D("71.43"),
    }
    first, second = compute_payout(**arguments), compute_payout(**arguments)
    assert isinstance(first.amount, Decimal)
    assert first == second

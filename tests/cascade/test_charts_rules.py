"""cascade.charts: the runs limits, Anhøj's rules, exact arithmetic and the XmR rule choices of PRODUCT.md.

The runs limits are checked against a brute-force count of every arrangement (small n) and the
published Perla-Provost-Murray table (which rows agree); Anhøj's crossings limit against SciPy's
binomial quantile. Pure functions: no database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import combinations, pairwise

import pytest
from scipy import stats

from cascade.charts import (
    RUN_RULES,
    chart_for,
    crossings_limit,
    has_special_cause,
    longest_run_limit,
    runs_limits,
    runs_table,
)

# Perla RJ, Provost LP, Murray SK. BMJ Qual Saf 2011;20:46-51, Table 1: (lower, upper) by useful points.
PUBLISHED = {
    10: (3, 9), 11: (3, 10), 12: (3, 11), 13: (4, 11), 14: (4, 12), 15: (5, 12), 16: (5, 13), 17: (5, 13),
    18: (6, 14), 19: (6, 15), 20: (6, 16), 21: (7, 16), 22: (7, 17), 23: (7, 17), 24: (8, 18), 25: (8, 18),
    26: (9, 19), 27: (10, 19), 28: (10, 20), 29: (10, 20), 30: (11, 21), 31: (11, 22), 32: (11, 22),
    33: (11, 23), 34: (12, 23), 35: (13, 24), 36: (13, 24), 37: (13, 25), 38: (14, 26), 39: (14, 26),
    40: (15, 27), 41: (15, 27), 42: (16, 28), 43: (16, 28), 44: (17, 29), 45: (17, 30), 46: (17, 30),
    47: (18, 31), 48: (18, 31), 49: (19, 32), 50: (19, 32), 51: (20, 33), 52: (20, 33), 53: (21, 34),
    54: (21, 35), 55: (22, 35), 56: (22, 36), 57: (23, 36), 58: (23, 37), 59: (24, 38), 60: (24, 38),
}  # fmt: skip


def monthly(values, start_year: int = 2025):
    return [(date(start_year + i // 12, i % 12 + 1, 1), value) for i, value in enumerate(values)]


def chart(values, direction="up", **options):
    return chart_for(monthly(values), direction=direction, **options)


def runs_of(arrangement) -> int:
    return 1 + sum(a != b for a, b in pairwise(arrangement))


# --- The runs limits ---------------------------------------------------------------------


def test_for_every_even_number_of_useful_points_lower_and_upper_add_up_to_n_plus_2():
    for n in range(10, 201, 2):
        lower, upper = runs_table(n)
        assert lower + upper == n + 2, n


def test_the_limits_grow_with_the_series_and_never_cross():
    rows = [runs_table(n) for n in range(10, 201)]
    assert all(lower < upper for lower, upper in rows)
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in pairwise(rows))


@pytest.mark.parametrize(("above", "below"), [(5, 5), (5, 6), (7, 7), (4, 9), (8, 8), (6, 10), (1, 12)])
def test_each_tail_holds_at_most_2_5_percent_of_random_arrangements_and_is_as_wide_as_that_allows(above, below):
    # Every arrangement of the points above (1) and below (0) the median, counted one by one.
    n = above + below
    counts: dict[int, int] = {}
    for ones in combinations(range(n), above):
        arrangement = [1 if i in ones else 0 for i in range(n)]
        counts[runs_of(arrangement)] = counts.get(runs_of(arrangement), 0) + 1
    total = sum(counts.values())

    def share(condition) -> Fraction:
        return Fraction(sum(c for r, c in counts.items() if condition(r)), total)

    lower, upper = runs_limits(above, below)
    tail = Fraction(25, 1000)
    assert share(lambda r: r < lower) <= tail < share(lambda r: r < lower + 1)
    assert share(lambda r: r > upper) <= tail < share(lambda r: r > upper - 1)


def test_the_computed_rows_agree_with_the_published_table_where_the_module_says():
    differ_lower = {n for n in PUBLISHED if runs_table(n)[0] != PUBLISHED[n][0]}
    differ_upper = {n for n in PUBLISHED if runs_table(n)[1] != PUBLISHED[n][1]}
    assert differ_lower == {11, 12, 17, 20, 22, 23, 25, 32, 33, 37, 53, 55, 57, 59}
    assert differ_upper == {11, 12, 20, 22, 29, 34, 36, 41, 43, 46, 48, 50, 52, 53, 55, 57}
    # Never by more than one run.
    assert all(abs(a - b) <= 1 for n in PUBLISHED for a, b in zip(runs_table(n), PUBLISHED[n], strict=True))


def test_the_published_rows_that_broke_the_invariant_are_mended():
    for n, published in {32: (11, 22), 34: (12, 23), 36: (13, 24), 46: (17, 30), 50: (19, 32)}.items():
        assert sum(published) != n + 2
        assert sum(runs_table(n)) == n + 2


def test_a_series_of_any_length_gets_a_runs_verdict():
    assert runs_table(200) == (87, 115)
    assert runs_table(1000) == (470, 532)
    # 120 points alternating around the median: 120 runs, far too many.
    runs = chart([1, 9] * 60).as_dict()["run"]["runs"]
    assert (runs["useful"], runs["lower"], runs["upper"], runs["verdict"]) == (120, 50, 72, "too_many")


def test_the_chart_judges_its_runs_by_its_own_counts_above_and_below_the_median():
    # Median 11 (the 10th and 11th of 20 sorted values are both 11): five points on it, 15 useful,
    # 4 above (12, 13, 12, 14 at the end and 14, 16, 13, 15, 15 at the start: 9 above), 6 below.
    values = [14, 16, 13, 15, 15, 9, 11, 9, 11, 10, 11, 10, 9, 11, 10, 11, 12, 13, 12, 14]
    runs = chart(values).as_dict()["run"]["runs"]
    assert (runs["count"], runs["useful"]) == (3, 15)
    assert (runs["lower"], runs["upper"]) == runs_limits(9, 6) == (5, 12)
    assert runs["verdict"] == "too_few"


# --- Anhøj's rules -----------------------------------------------------------------------


def test_the_rule_sets_are_offered_with_ihi_first():
    assert RUN_RULES == (("ihi", "IHI run chart rules"), ("anhoej", "Anhøj rules"))


@pytest.mark.parametrize(
    ("n", "longest", "crossings"), [(10, 6, 2), (20, 7, 6), (23, 8, 7), (30, 8, 10), (100, 10, 41)]
)
def test_anhoej_limits_match_the_published_ones(n, longest, crossings):
    assert (longest_run_limit(n), crossings_limit(n)) == (longest, crossings)


def test_the_crossings_limit_is_the_binomial_5_percent_quantile():
    for n in range(2, 301):
        assert crossings_limit(n) == int(stats.binom.ppf(0.05, n - 1, 0.5)), n


# A step: ten points around 10, then ten around 15. Median 12.5, no point on it.
STEP = [9, 10, 11, 9, 10, 11, 9, 10, 11, 10, 14, 15, 16, 14, 15, 16, 14, 15, 16, 15]


def test_anhoej_rules_flag_a_long_run_and_too_few_crossings():
    result = chart(STEP, rules="anhoej")
    run = result.as_dict()["run"]
    assert (result.as_dict()["rules"], result.as_dict()["rules_label"]) == ("anhoej", "Anhøj rules")
    assert (run["longest_run"], run["longest_run_limit"], run["crossings"], run["crossings_limit"]) == (10, 7, 1, 6)
    assert run["signals"] == [
        {
            "rule": "long_run",
            "start": 0,
            "end": 9,
            "kind": "concern",
            "description": "10 points in a row below the median, longer than 7",
        },
        {
            "rule": "few_crossings",
            "start": 0,
            "end": 19,
            "kind": None,
            "description": "1 crossing of the median where at least 6 are expected",
        },
        {
            "rule": "long_run",
            "start": 10,
            "end": 19,
            "kind": "improvement",
            "description": "10 points in a row above the median, longer than 7",
        },
    ]
    # The IHI runs test is not part of these rules.
    assert run["runs"]["verdict"] == "not_applicable"
    assert has_special_cause(result)


def test_too_few_crossings_is_a_property_of_the_phase_not_of_its_points():
    points = chart(STEP, rules="anhoej").as_dict()["points"]
    assert [s["rule"] for s in points[0]["signals"] if s["chart"] == "run"] == ["long_run"]
    assert all("few_crossings" not in [s["rule"] for s in p["signals"]] for p in points)


def test_a_common_cause_series_passes_anhoej_rules():
    values = [13, 13, 13, 13, 12, 14, 10, 13, 9, 11, 13, 11, 13, 15, 12, 10, 11, 10, 9, 15]
    result = chart(values, rules="anhoej")
    run = result.as_dict()["run"]
    assert (run["longest_run"], run["longest_run_limit"], run["crossings"], run["crossings_limit"]) == (5, 7, 10, 6)
    assert run["signals"] == []
    assert not has_special_cause(result)


def test_six_on_one_side_is_an_ihi_shift_but_not_an_unusually_long_run_for_anhoej():
    # Median 5.5: six below, then alternating, then six above; 20 useful points, 10 runs.
    # IHI: two shifts of 6. Anhøj: longest run 6, not longer than round(log2(20) + 3) = 7;
    # 9 crossings, not fewer than 6.
    values = [1, 2, 3, 1, 2, 3, 8, 2, 9, 1, 8, 3, 9, 2, 9, 8, 9, 8, 9, 8]
    ihi = chart(values).as_dict()["run"]
    anhoej = chart(values, rules="anhoej").as_dict()["run"]
    assert [(s["rule"], s["start"], s["end"]) for s in ihi["signals"]] == [("shift", 0, 5), ("shift", 14, 19)]
    assert (anhoej["longest_run"], anhoej["crossings"], anhoej["signals"]) == (6, 9, [])
    assert (ihi["longest_run"], ihi["crossings"]) == (None, None)


def test_anhoej_rules_have_no_trend_rule():
    # 1,2,3,4,5 rising from index 1: an IHI trend; Anhøj has no such rule (about the median 3.5 no
    # run is longer than 3 of the 6 allowed, and 5 crossings are not fewer than 2).
    rising = [10, 1, 2, 3, 4, 5, 12, 0, 11, 1]
    assert [s["rule"] for s in chart(rising).as_dict()["run"]["signals"]] == ["trend"]
    assert chart(rising, rules="anhoej").as_dict()["run"]["signals"] == []


def test_the_summary_of_too_few_crossings_names_no_kind():
    # Ten points, five below then five above the median 5: one crossing where at least 2 are
    # expected; the runs of 5 are not longer than 6, and there is no XmR chart under 12 points.
    result = chart([2, 1, 2, 1, 2, 8, 9, 8, 9, 8], rules="anhoej")
    assert [s.rule for s in result.run.signals] == ["few_crossings"]
    assert result.summary == (
        "Non-random pattern on the run chart: 1 crossing of the median where at least 2 are expected since Jan 2025."
    )


def test_an_unknown_rule_set_is_refused():
    with pytest.raises(ValueError, match="rules"):
        chart([1, 2, 3], rules="westgard")  # type: ignore[arg-type]


# --- Exact arithmetic --------------------------------------------------------------------


def test_a_value_a_thousandth_above_a_seven_digit_median_is_above_it():
    # 13 points: six at 1234567.0000, the median 1234567.8900, six at 1234567.8910.
    # A relative tolerance of 1e-9 (1.2e-3 here) would put the six highest on the median.
    values = [Decimal("1234567.0000")] * 6 + [Decimal("1234567.8900")] + [Decimal("1234567.8910")] * 6
    run = chart(values).as_dict()["run"]
    assert run["median"] == 1234567.89
    assert [(s["rule"], s["start"], s["end"]) for s in run["signals"]] == [("shift", 0, 5), ("shift", 7, 12)]


def test_a_rise_of_a_ten_thousandth_from_a_thousand_million_is_a_trend():
    values = [Decimal("1000000000") + Decimal("0.0001") * i for i in range(10)]
    run = chart(values).as_dict()["run"]
    assert [(s["rule"], s["start"], s["end"]) for s in run["signals"]] == [("trend", 0, 9)]


@pytest.mark.parametrize("convert", [Decimal, float, str])
def test_a_point_exactly_on_the_limit_is_inside_whatever_the_input_type(convert):
    # As test_charts.ON_THE_LIMIT: mean 12.45, MR̄ 2.5, UCL 12.45 + 6.65 = 19.1 = the last point.
    values = [convert(v) for v in ("13", "11", "13", "11", "13", "11", "12", "10", "13", "10.3", "13", "19.1")]
    xmr = chart(values).as_dict()["xmr"]
    assert (xmr["ucl"], xmr["signals"]) == (19.1, [])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), Decimal("-Infinity"), "twelve"])
def test_a_value_that_is_not_a_finite_number_is_refused(bad):
    with pytest.raises(ValueError, match="number"):
        chart([1, 2, bad])


# --- XmR rule choices --------------------------------------------------------------------

# sum 255 → mean 12.75; moving ranges thirteen 1s, 3, 5, 5, 4, 1, 1 = 32 → MR̄ 32/19 = 1.6842
# UCL 12.75 + 2.66 × 1.6842 = 17.23; upper two-thirds 12.75 + 2.9867 = 15.7367.
# 16 (index 14) and 16 (index 16) are beyond it, but 11 between them is below the mean.
TWO_BEYOND_ONE_ACROSS = [12, 13] * 7 + [16, 11, 16, 12, 13, 12]
# The same with 13 in the middle: sum 257 → mean 12.85; MR̄ 28/19 = 1.4737; two-thirds 15.4633.
TWO_BEYOND_ALL_ABOVE = [12, 13] * 7 + [16, 13, 16, 12, 13, 12]


def test_two_of_three_needs_all_three_points_on_the_same_side_of_the_mean():
    across = chart(TWO_BEYOND_ONE_ACROSS).as_dict()["xmr"]
    assert (across["mean"], across["mr_bar"], across["upper_two_thirds"]) == (12.75, 1.6842, 15.7367)
    assert across["signals"] == []
    above = chart(TWO_BEYOND_ALL_ABOVE).as_dict()["xmr"]
    assert (above["mean"], above["upper_two_thirds"]) == (12.85, 15.4633)
    assert [(s["rule"], s["indices"]) for s in above["signals"]] == [("two_of_three", [14, 16])]


# A fall from a spike: 30 (index 12) is above the UCL (improvement when higher is better) and
# starts seven falling points (concern).
SPIKE_THEN_FALL = [10, 11] * 6 + [30, 25, 20, 15, 12, 11, 10]


def test_a_point_with_an_improvement_and_a_concern_signal_is_an_improvement_and_lists_both():
    points = chart(SPIKE_THEN_FALL).as_dict()["points"]
    assert points[14]["value"] == 20.0
    assert points[14]["signals"] == [
        {"chart": "run", "rule": "trend", "kind": "concern"},
        {"chart": "xmr", "rule": "trend", "kind": "concern"},
        {"chart": "xmr", "rule": "two_of_three", "kind": "improvement"},
    ]
    assert points[14]["signal_kind"] == "improvement"
    assert (points[15]["signal_kind"], points[0]["signal_kind"]) == ("concern", "concern")


# --- The moving-range chart --------------------------------------------------------------


def test_the_moving_range_chart_has_mr_bar_and_an_upper_limit_of_3_267_mr_bar():
    # test_charts.SPIKE_UP: moving ranges 1,3,1,0,3,0,1,1,10,11,2 → MR̄ 3, UCL 9.801.
    result = chart([12, 13, 10, 11, 11, 14, 14, 13, 12, 22, 11, 13]).as_dict()
    assert result["mr"] == {"mean": 3.0, "ucl": 9.801, "status": "provisional"}
    assert [p["mr"] for p in result["points"]] == [None, 1.0, 3.0, 1.0, 0.0, 3.0, 0.0, 1.0, 1.0, 10.0, 11.0, 2.0]


def test_there_is_no_moving_range_chart_without_limits():
    result = chart([12, 13, 10, 11, 11, 14, 14, 13, 12, 22, 11]).as_dict()
    assert result["mr"] == {"mean": None, "ucl": None, "status": "insufficient"}
    assert result["points"][1]["mr"] == 1.0

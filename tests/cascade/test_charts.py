"""Run charts and XmR charts (cascade.charts), checked against worked examples.

Every expected limit below was computed by hand; the comment above each data
set shows the arithmetic (sum → mean, moving ranges → MR̄, mean ± 2.66 × MR̄).
Pure functions: no database.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from cascade.charts import chart_for, has_special_cause, runs_table


def monthly(values, start_year: int = 2025):
    """Observations on the first of each month from January of start_year."""
    return [(date(start_year + i // 12, i % 12 + 1, 1), value) for i, value in enumerate(values)]


def chart(values, direction="up", target=None):
    return chart_for(monthly(values), direction=direction, target=target)


def xmr(values, direction="up", target=None):
    return chart(values, direction, target).as_dict()["xmr"]


def run(values, direction="up"):
    return chart(values, direction).as_dict()["run"]


def rules(signals):
    return [signal["rule"] for signal in signals]


# One point far above the rest.
# sum = 12+13+10+11+11+14+14+13+12+22+11+13 = 156 → mean = 156 / 12 = 13
# moving ranges 1,3,1,0,3,0,1,1,10,11,2 = 33 → MR̄ = 33 / 11 = 3
# UCL = 13 + 2.66 × 3 = 20.98; LCL = 13 − 7.98 = 5.02; two-thirds: 13 ± 5.32 = 18.32 / 7.68
# 22 (index 9) > 20.98: outside. No 7 on one side, no 7 rising, only 22 beyond 18.32.
SPIKE_UP = [12, 13, 10, 11, 11, 14, 14, 13, 12, 22, 11, 13]

# The mirror image (26 − x): same mean 13, same MR̄ 3, limits 20.98 / 5.02; 4 (index 9) < 5.02.
SPIKE_DOWN = [14, 13, 16, 15, 15, 12, 12, 13, 14, 4, 15, 13]

# Seven months below the mean.
# sum = (14+16+13+15+15) + (9+11+9+11+10+11+10) = 73 + 71 = 144 → mean = 12
# moving ranges 2,3,2,0,6,2,2,2,1,1,1 = 22 → MR̄ = 2
# UCL = 12 + 5.32 = 17.32; LCL = 6.68; two-thirds: 12 ± 3.5467 = 15.5467 / 8.4533
# indices 5..11 are all below 12: seven in a row. 16 is the only point beyond 15.5467.
SEVEN_BELOW = [14, 16, 13, 15, 15, 9, 11, 9, 11, 10, 11, 10]

# Only six below. sum = (12+14+16+14+13+16) + (9+11+9+10+10+10) = 85 + 59 = 144 → mean 12
# moving ranges 2,2,2,1,3,7,2,2,1,0,0 = 22 → MR̄ = 2, limits 17.32 / 6.68, two-thirds 15.5467 / 8.4533
# 12 (index 0) is on the mean, 1..5 above (five), 6..11 below (six); the two 16s are three apart.
SIX_BELOW = [12, 14, 16, 14, 13, 16, 9, 11, 9, 10, 10, 10]

# Seven rising. sum = (11+11+14+10+14) + (9+10+11+12+13+14+15) = 60 + 84 = 144 → mean 12
# moving ranges 0,3,4,4,5,1,1,1,1,1,1 = 22 → MR̄ = 2, limits 17.32 / 6.68, two-thirds 15.5467 / 8.4533
# indices 5..11 (9 → 15) each higher than the one before: six increases, seven points.
SEVEN_RISING = [11, 11, 14, 10, 14, 9, 10, 11, 12, 13, 14, 15]

# Six rising. sum = (14+13+10+14+11+13) + (9+10+11+12+13+14) = 75 + 69 = 144 → mean 12
# moving ranges 1,3,4,3,2,4,1,1,1,1,1 = 22 → MR̄ = 2; indices 6..11 rise: five increases only.
SIX_RISING = [14, 13, 10, 14, 11, 13, 9, 10, 11, 12, 13, 14]

# Seven rising but for a repeat. sum = (11+12+14+10+14) + (9+10+11+11+13+14+15) = 61 + 83 = 144 → mean 12
# moving ranges 1,2,4,4,5,1,1,0,2,1,1 = 22 → MR̄ = 2
# 9,10,11,(11),13,14,15: the equal 11 (index 8) is passed over; six points rise, one short of the XmR rule's 7.
# Median (run chart): sorted 9,10,10,11,11,11,12,13,14,14,14,15 → (11 + 12) / 2 = 11.5
RISING_WITH_REPEAT = [11, 12, 14, 10, 14, 9, 10, 11, 11, 13, 14, 15]

# Two of three near the upper limit. sum = 11+10+11+11+13+17+13+16+12+11+10+9 = 144 → mean 12
# moving ranges 1,1,0,2,4,4,3,4,1,1,1 = 22 → MR̄ = 2, UCL 17.32, upper two-thirds 15.5467
# 17 (index 5) and 16 (index 7) are beyond 15.5467 but inside 17.32; window 5..7 holds both.
TWO_OF_THREE_HIGH = [11, 10, 11, 11, 13, 17, 13, 16, 12, 11, 10, 9]

# One of three. sum = 12+11+11+12+17+11+12+10+12+11+13+12 = 144 → mean 12
# moving ranges 1,0,1,5,6,1,2,2,1,2,1 = 22 → MR̄ = 2, limits 17.32 / 6.68, two-thirds 15.5467 / 8.4533
# Only 17 (index 4) is beyond two-thirds. Nothing else fires: the common-cause 12-point set.
ONE_OF_THREE_HIGH = [12, 11, 11, 12, 17, 11, 12, 10, 12, 11, 13, 12]

# Two of three beyond two-thirds, but on opposite sides.
# sum = 12+11+14+13+14+18+6+12+11+12+10+11 = 144 → mean 12
# moving ranges 1,3,1,1,4,12,6,1,1,2,1 = 33 → MR̄ = 3
# UCL = 12 + 7.98 = 19.98; LCL = 4.02; two-thirds: 12 ± 5.32 = 17.32 / 6.68
# 18 (index 5) > 17.32 and 6 (index 6) < 6.68: one above, one below, so no signal.
SPLIT_TWO_OF_THREE = [12, 11, 14, 13, 14, 18, 6, 12, 11, 12, 10, 11]

# A point exactly on the upper limit (decimal values, as the database stores them).
# sum = 13+11+13+11+13+11+12+10+13+10.3+13+19.1 = 149.4 → mean = 149.4 / 12 = 12.45
# moving ranges 2,2,2,2,2,1,2,3,2.7,2.7,6.1 = 27.5 → MR̄ = 27.5 / 11 = 2.5
# UCL = 12.45 + 2.66 × 2.5 = 12.45 + 6.65 = 19.1 = the last point; LCL = 5.8
# two-thirds: 12.45 ± 4.4333 = 16.8833 / 8.0167 (only 19.1 is beyond: no 2-of-3)
ON_THE_LIMIT = [Decimal(v) for v in ("13", "11", "13", "11", "13", "11", "12", "10", "13", "10.3", "13", "19.1")]

# Twenty points of common-cause variation.
# sum = 13+13+13+13+12+14+10+13+9+11+13+11+13+15+12+10+11+10+9+15 = 240 → mean = 240 / 20 = 12
# moving ranges 0,0,0,1,2,4,3,4,2,2,2,2,2,3,2,1,1,1,6 = 38 → MR̄ = 38 / 19 = 2
# UCL = 17.32; LCL = 6.68; two-thirds 15.5467 / 8.4533 (15 is the highest value, 9 the lowest)
# Median: ten values ≤ 12 and ten ≥ 13 → (12 + 13) / 2 = 12.5; 11 runs, 20 useful, limits 7..15.
COMMON_CAUSE_20 = [13, 13, 13, 13, 12, 14, 10, 13, 9, 11, 13, 11, 13, 15, 12, 10, 11, 10, 9, 15]

# Nineteen points. sum = 209 → mean = 209 / 19 = 11
# moving ranges 3,2,1,1,1,2,1,0,2,4,3,4,0,4,1,3,3,1 = 36 → MR̄ = 36 / 18 = 2
# UCL = 11 + 5.32 = 16.32; LCL = 5.68; median 11 (the 10th of 19 sorted values).
COMMON_CAUSE_19 = [14, 11, 9, 10, 11, 10, 12, 11, 11, 9, 13, 10, 14, 14, 10, 9, 12, 9, 10]


# --- XmR rule 1: a point outside the limits -------------------------------------------


def test_a_point_above_the_upper_limit_is_a_special_cause():
    result = xmr(SPIKE_UP)
    assert (result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (13.0, 3.0, 20.98, 5.02)
    assert (result["upper_two_thirds"], result["lower_two_thirds"]) == (18.32, 7.68)
    assert result["signals"] == [
        {
            "rule": "outside_limits",
            "start": 9,
            "end": 9,
            "indices": [9],
            "kind": "improvement",
            "description": "1 point above the upper limit",
        }
    ]


def test_a_point_below_the_lower_limit_is_a_special_cause():
    result = xmr(SPIKE_DOWN, direction="down")
    assert (result["ucl"], result["lcl"]) == (20.98, 5.02)
    assert [(s["rule"], s["indices"], s["kind"]) for s in result["signals"]] == [("outside_limits", [9], "improvement")]
    assert result["signals"][0]["description"] == "1 point below the lower limit"


def test_a_point_exactly_on_the_limit_is_not_a_special_cause():
    result = xmr(ON_THE_LIMIT)
    assert (result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (12.45, 2.5, 19.1, 5.8)
    assert result["signals"] == []


# --- XmR rule 2: seven on one side of the mean ---------------------------------------


def test_seven_points_in_a_row_below_the_mean_are_a_special_cause():
    result = xmr(SEVEN_BELOW, direction="down")
    assert (result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (12.0, 2.0, 17.32, 6.68)
    assert result["signals"] == [
        {
            "rule": "shift",
            "start": 5,
            "end": 11,
            "indices": [5, 6, 7, 8, 9, 10, 11],
            "kind": "improvement",
            "description": "7 points in a row below the mean",
        }
    ]


def test_six_points_in_a_row_below_the_mean_are_not_a_special_cause():
    result = xmr(SIX_BELOW)
    assert (result["mean"], result["mr_bar"]) == (12.0, 2.0)
    assert result["signals"] == []


def test_a_point_exactly_on_the_mean_breaks_a_run_on_one_side():
    # 14 (index 0) then seven below 12 but for the 12 at index 4: 11,10,11,12,9,10,11,10 → runs of 3 and 4.
    # sum = 14+11+10+11+12+9+10+11+10+16+16+14 = 144 → mean 12; MR 3,1,1,1,3,1,1,1,6,0,2 = 20 → MR̄ 1.8182
    values = [14, 11, 10, 11, 12, 9, 10, 11, 10, 16, 16, 14]
    result = xmr(values)
    assert result["mean"] == 12.0
    assert "shift" not in rules(result["signals"])


def test_a_point_on_the_mean_counts_as_on_it_despite_floating_point_noise():
    # sum = 5 × 15 + 3 × 10 + 12.45 + 2 × 10 + 11.95 = 149.4 → mean = 12.45 exactly, which binary
    # floating point computes as 12.450000000000001. The 12.45 (index 8) must still sit ON the mean
    # and break 10,10,10 | 10,10,11.95 — otherwise indices 5..11 would read as seven below.
    values = [Decimal(v) for v in ("15", "15", "15", "15", "15", "10", "10", "10", "12.45", "10", "10", "11.95")]
    result = xmr(values)
    assert result["mean"] == 12.45
    assert "shift" not in rules(result["signals"])


# --- XmR rule 3: seven moving one way ------------------------------------------------


def test_seven_points_in_a_row_going_up_are_a_special_cause():
    result = xmr(SEVEN_RISING)
    assert (result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (12.0, 2.0, 17.32, 6.68)
    assert result["signals"] == [
        {
            "rule": "trend",
            "start": 5,
            "end": 11,
            "indices": [5, 6, 7, 8, 9, 10, 11],
            "kind": "improvement",
            "description": "7 points in a row going up",
        }
    ]


def test_six_points_in_a_row_going_up_are_not_a_special_cause():
    result = xmr(SIX_RISING)
    assert (result["mean"], result["mr_bar"]) == (12.0, 2.0)
    assert result["signals"] == []


def test_a_repeated_value_neither_extends_nor_breaks_a_trend_on_either_chart():
    result = chart(RISING_WITH_REPEAT).as_dict()
    assert (result["xmr"]["mean"], result["xmr"]["mr_bar"]) == (12.0, 2.0)
    # XmR: 9,10,11,(11),13,14,15 is six points rising once the repeat is passed over: one short of 7.
    assert result["xmr"]["signals"] == []
    # Run chart: 9,10,11,(11),13,14,15 — the repeat is passed over, six points rise.
    assert result["run"]["median"] == 11.5
    assert result["run"]["signals"] == [
        {
            "rule": "trend",
            "start": 5,
            "end": 11,
            "kind": "improvement",
            "description": "6 points in a row going up (repeated values not counted)",
        }
    ]


def test_a_repeated_value_inside_seven_rising_points_does_not_break_the_xmr_trend():
    # 8,9,10,(10),11,12,13,14 from index 4: seven points rise once the repeat is passed over.
    # (Were a repeat to break it, 8,9,10 | 10,…,14 would be three and five points: no signal.)
    result = xmr([14, 13, 16, 12, 8, 9, 10, 10, 11, 12, 13, 14])
    trends = [s for s in result["signals"] if s["rule"] == "trend"]
    assert trends == [
        {
            "rule": "trend",
            "start": 4,
            "end": 11,
            "indices": [4, 5, 6, 7, 8, 9, 10, 11],
            "kind": "improvement",
            "description": "7 points in a row going up (repeated values not counted)",
        }
    ]


def test_a_steady_climb_is_one_trend_signal_not_one_per_window():
    # 1..12: mean = 78 / 12 = 6.5; eleven moving ranges of 1 → MR̄ = 1
    # UCL = 6.5 + 2.66 = 9.16; LCL = 3.84; two-thirds: 6.5 ± 1.7733 = 8.2733 / 4.7267
    # outside: 1,2,3 (below 3.84) and 10,11,12 (above 9.16); six below then six above the mean;
    # beyond two-thirds: 1..4 (indices 0..3) and 9..12 (indices 8..11), each one cluster.
    result = xmr(list(range(1, 13)))
    assert (result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (6.5, 1.0, 9.16, 3.84)
    trends = [s for s in result["signals"] if s["rule"] == "trend"]
    assert [(s["start"], s["end"], s["description"]) for s in trends] == [(0, 11, "12 points in a row going up")]
    assert [s["indices"] for s in result["signals"] if s["rule"] == "outside_limits"] == [
        [0],
        [1],
        [2],
        [9],
        [10],
        [11],
    ]
    assert [s["indices"] for s in result["signals"] if s["rule"] == "two_of_three"] == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert "shift" not in rules(result["signals"])


# --- XmR rule 4: two of three beyond two-thirds ---------------------------------------


def test_two_of_three_points_beyond_two_thirds_on_the_same_side_are_a_special_cause():
    result = xmr(TWO_OF_THREE_HIGH, direction="down")
    assert (result["mean"], result["mr_bar"], result["ucl"]) == (12.0, 2.0, 17.32)
    assert (result["upper_two_thirds"], result["lower_two_thirds"]) == (15.5467, 8.4533)
    assert result["signals"] == [
        {
            "rule": "two_of_three",
            "start": 5,
            "end": 7,
            "indices": [5, 7],
            "kind": "concern",
            "description": "2 of 3 points in a row close to the upper limit",
        }
    ]


def test_one_of_three_points_beyond_two_thirds_is_not_a_special_cause():
    result = xmr(ONE_OF_THREE_HIGH)
    assert (result["mean"], result["mr_bar"], result["upper_two_thirds"]) == (12.0, 2.0, 15.5467)
    assert result["signals"] == []


def test_two_of_three_beyond_two_thirds_on_opposite_sides_are_not_a_special_cause():
    result = xmr(SPLIT_TWO_OF_THREE)
    assert (result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (12.0, 3.0, 19.98, 4.02)
    assert (result["upper_two_thirds"], result["lower_two_thirds"]) == (17.32, 6.68)
    assert result["signals"] == []


# --- Improvement or concern ----------------------------------------------------------


def test_the_direction_of_improvement_labels_the_same_data_oppositely():
    higher_is_better = chart(SPIKE_UP, direction="up").as_dict()
    lower_is_better = chart(SPIKE_UP, direction="down").as_dict()
    assert higher_is_better["xmr"]["signals"][0]["kind"] == "improvement"
    assert lower_is_better["xmr"]["signals"][0]["kind"] == "concern"
    assert higher_is_better["points"][9]["signal_kind"] == "improvement"
    assert lower_is_better["points"][9]["signal_kind"] == "concern"
    # Seven below the mean: good news when lower is better, bad when higher is.
    assert xmr(SEVEN_BELOW, direction="down")["signals"][0]["kind"] == "improvement"
    assert xmr(SEVEN_BELOW, direction="up")["signals"][0]["kind"] == "concern"
    # A rise: improvement when higher is better, concern when lower is.
    assert xmr(SEVEN_RISING, direction="up")["signals"][0]["kind"] == "improvement"
    assert xmr(SEVEN_RISING, direction="down")["signals"][0]["kind"] == "concern"


def test_points_carry_the_signals_they_belong_to():
    points = chart(SPIKE_UP).as_dict()["points"]
    assert [p["index"] for p in points if p["spc_signal"]] == [9]
    assert points[9] == {
        "index": 9,
        "date": "2025-10-01",
        "value": 22.0,
        "run_signal": False,
        "spc_signal": True,
        "signal_kind": "improvement",
        "phase": 0,
        "mr": 10.0,  # |22 − 12|
        "signals": [{"chart": "xmr", "rule": "outside_limits", "kind": "improvement"}],
    }
    assert points[0]["signal_kind"] is None
    assert (points[0]["mr"], points[1]["mr"]) == (None, 1.0)


# --- Assurance against a target (COMMON_CAUSE_20: UCL 17.32, LCL 6.68) -----------------


@pytest.mark.parametrize(
    ("direction", "target", "expected"),
    [
        ("up", 6, "always"),  # LCL 6.68 ≥ 6: even a low month meets it
        ("up", 6.68, "always"),  # LCL equal to the target still meets it
        ("up", 18, "never"),  # UCL 17.32 < 18: even a high month misses it
        ("up", 17.32, "inconsistent"),  # UCL equal to the target is not "never"
        ("up", 12, "inconsistent"),
        ("down", 18, "always"),  # UCL 17.32 ≤ 18
        ("down", 17.32, "always"),
        ("down", 6, "never"),  # LCL 6.68 > 6
        ("down", 6.68, "inconsistent"),
        ("down", 12, "inconsistent"),
    ],
)
def test_assurance_says_whether_the_process_will_meet_the_target(direction, target, expected):
    assert xmr(COMMON_CAUSE_20, direction, target)["assurance"] == expected


def test_there_is_no_assurance_without_a_target():
    assert xmr(COMMON_CAUSE_20, "up", None)["assurance"] is None


def test_there_is_no_assurance_without_limits():
    assert xmr(ONE_OF_THREE_HIGH[:11], "up", 6)["assurance"] is None


# --- Minimum data --------------------------------------------------------------------


def test_with_nine_points_the_run_chart_rules_do_not_apply():
    result = chart(list(range(1, 10))).as_dict()  # nine rising points: a trend, were rules to apply
    assert result["run"] == {
        "median": 5.0,
        "rules_apply": False,
        "signals": [],
        "runs": {"count": 2, "useful": 8, "lower": None, "upper": None, "verdict": "not_applicable"},
        "longest_run": None,
        "longest_run_limit": None,
        "crossings": None,
        "crossings_limit": None,
    }
    assert not any(p["run_signal"] for p in result["points"])
    assert result["summary"] == "Too few points to judge yet: 9 so far; run-chart rules need 10 and control limits 12."


def test_with_ten_points_the_run_chart_rules_apply():
    # 1..10: median 5.5; five below, five above → 2 runs of 10 useful, table 3..9 → too few.
    result = run(list(range(1, 11)))
    assert result["rules_apply"] is True
    assert result["signals"] == [
        {"rule": "trend", "start": 0, "end": 9, "kind": "improvement", "description": "10 points in a row going up"}
    ]
    assert result["runs"] == {"count": 2, "useful": 10, "lower": 3, "upper": 9, "verdict": "too_few"}


def test_with_eleven_points_there_are_no_limits():
    result = chart(ONE_OF_THREE_HIGH[:11], target=12).as_dict()
    assert result["xmr"] == {
        "status": "insufficient",
        "mean": None,
        "mr_bar": None,
        "ucl": None,
        "lcl": None,
        "upper_two_thirds": None,
        "lower_two_thirds": None,
        "signals": [],
        "assurance": None,
    }
    assert not any(p["spc_signal"] for p in result["points"])
    assert result["summary"] == "No non-random pattern on the run chart; control limits need 12 points (11 so far)."


def test_with_twelve_points_the_limits_are_provisional():
    result = xmr(ONE_OF_THREE_HIGH)
    assert (result["status"], result["ucl"], result["lcl"]) == ("provisional", 17.32, 6.68)


def test_with_nineteen_points_the_limits_are_still_provisional():
    result = chart(COMMON_CAUSE_19).as_dict()
    assert (result["xmr"]["status"], result["xmr"]["mean"], result["xmr"]["mr_bar"]) == ("provisional", 11.0, 2.0)
    assert (result["xmr"]["ucl"], result["xmr"]["lcl"]) == (16.32, 5.68)
    assert result["summary"] == (
        "Common-cause variation only: no special cause detected; changes are within the expected range"
        " (limits are provisional until 20 points)."
    )


def test_with_twenty_points_the_limits_are_final():
    result = xmr(COMMON_CAUSE_20)
    assert (result["status"], result["mean"], result["mr_bar"], result["ucl"], result["lcl"]) == (
        "final",
        12.0,
        2.0,
        17.32,
        6.68,
    )


def test_no_observations_give_an_empty_chart():
    result = chart([]).as_dict()
    assert (result["n"], result["points"], result["run"]["median"], result["xmr"]["status"]) == (
        0,
        [],
        None,
        "insufficient",
    )
    assert result["summary"] == "No data yet: add observations to see a chart."


# --- Run chart: shift and trend ------------------------------------------------------


def test_points_on_the_median_neither_count_towards_nor_break_a_shift():
    # sorted 3,3,3,4,4,4,5,5,5,6,7,7,8,8 → median (5 + 5) / 2 = 5
    # 7,8,6,8,7 above (five); 5 on; then 3,4,(5),3,4,(5),4,3: six below with two on the median between.
    values = [7, 8, 6, 8, 7, 5, 3, 4, 5, 3, 4, 5, 4, 3]
    result = run(values)
    assert result["median"] == 5.0
    assert result["signals"] == [
        {
            "rule": "shift",
            "start": 6,
            "end": 13,
            "kind": "concern",
            "description": "6 points in a row below the median (points on the median not counted)",
        }
    ]
    points = chart(values).as_dict()["points"]
    assert [p["index"] for p in points if p["run_signal"]] == [6, 7, 8, 9, 10, 11, 12, 13]
    assert points[6]["signal_kind"] == "concern"


def test_repeated_values_neither_count_towards_nor_break_a_trend():
    # sorted 2,3,4,4,5,5,6,7,7,8 → median 5. Rise 3,4,(4),6,7,(7),8: five points once repeats are passed over.
    result = run([5, 3, 4, 4, 6, 7, 7, 8, 2, 5], direction="down")
    assert result["median"] == 5.0
    assert result["signals"] == [
        {
            "rule": "trend",
            "start": 1,
            "end": 7,
            "kind": "concern",
            "description": "5 points in a row going up (repeated values not counted)",
        }
    ]


# --- Run chart: too few / too many runs (Perla, Provost & Murray 2011, Table 1) --------


def test_too_few_runs_are_reported_in_the_verdict_not_as_a_signal():
    # five 1s then five 9s: median (1 + 9) / 2 = 5, 10 useful, 2 runs < 3.
    result = chart([1, 1, 1, 1, 1, 9, 9, 9, 9, 9])
    assert result.as_dict()["run"]["runs"] == {"count": 2, "useful": 10, "lower": 3, "upper": 9, "verdict": "too_few"}
    assert result.as_dict()["run"]["signals"] == []
    assert has_special_cause(result)
    assert result.summary == (
        "Non-random pattern on the run chart: fewer runs around the median than chance allows "
        "(2 where 3 to 9 are expected)."
    )


def test_runs_on_the_lower_limit_are_not_too_few():
    # 1,1,1 | 9,9,9,9,9 | 1,1: median 5, 10 useful, 3 runs = the lower limit.
    assert run([1, 1, 1, 9, 9, 9, 9, 9, 1, 1])["runs"]["verdict"] == "ok"


def test_too_many_runs_are_reported_in_the_verdict():
    # 1,9 alternating twelve times: median 5, 12 useful (6 and 6), 12 runs > 10.
    # (The published table said 3 to 11: twelve runs in twelve points would never have been too many.)
    result = run([1, 9] * 6)
    assert result["runs"] == {"count": 12, "useful": 12, "lower": 4, "upper": 10, "verdict": "too_many"}
    assert result["signals"] == []


def test_runs_on_the_upper_limit_are_ok():
    # b,a,b,a,b,a,b,a,a,b around median 5: 9 runs of 10 useful = the upper limit.
    assert run([1, 9, 1, 9, 1, 9, 1, 9, 9, 1])["runs"] == {
        "count": 9,
        "useful": 10,
        "lower": 3,
        "upper": 9,
        "verdict": "ok",
    }


def test_the_runs_rule_does_not_apply_with_fewer_than_ten_useful_observations():
    # Twelve points, rules apply, but six sit on the median 5: 6 useful observations.
    result = run([5, 5, 5, 5, 5, 5, 1, 9, 1, 9, 1, 9])
    assert result["rules_apply"] is True
    assert result["runs"] == {"count": 6, "useful": 6, "lower": None, "upper": None, "verdict": "not_applicable"}


def test_the_runs_rule_applies_at_any_length():
    # 62 alternating points: 62 useful observations (past the old table's 60), 62 runs > 40.
    result = run([1, 9] * 31)
    assert result["runs"] == {"count": 62, "useful": 62, "lower": 24, "upper": 40, "verdict": "too_many"}
    assert runs_table(62) == (24, 40)


# --- Summary and contract ------------------------------------------------------------


def test_common_cause_only_data_says_so_in_plain_language():
    result = chart(COMMON_CAUSE_20)
    assert result.as_dict()["run"]["runs"] == {"count": 11, "useful": 20, "lower": 7, "upper": 15, "verdict": "ok"}
    assert result.summary == (
        "Common-cause variation only: no special cause detected; changes are within the expected range."
    )
    assert not has_special_cause(result)


def test_the_summary_names_the_latest_special_cause_and_when_it_began():
    result = chart(SEVEN_BELOW, direction="down")  # index 5 is June 2025
    assert result.summary == "Special cause (improvement): 7 points in a row below the mean since Jun 2025."
    assert has_special_cause(result)


def test_a_single_point_signal_is_dated_in_its_month():
    assert chart(SPIKE_UP).summary == "Special cause (improvement): 1 point above the upper limit in Oct 2025."


def test_the_chart_serialises_to_the_agreed_json_shape():
    result = chart_for(
        [(datetime(2024, 12, 1, 9, 30), Decimal("12.5")), *monthly(COMMON_CAUSE_20[1:])[:11]],
        direction="down",
        target=Decimal("10"),
    ).as_dict()
    json.dumps(result)  # JSON-ready: no dates, Decimals or tuples left
    assert set(result) == {
        *("direction", "target", "n", "points", "run", "xmr", "summary"),
        *("rules", "rules_label", "mr", "phases", "annotations"),
    }
    assert (result["direction"], result["target"], result["n"]) == ("down", 10.0, 12)
    assert (result["rules"], result["rules_label"]) == ("ihi", "IHI run chart rules")
    assert set(result["points"][0]) == {
        *("index", "date", "value", "run_signal", "spc_signal", "signal_kind"),
        *("phase", "mr", "signals"),
    }
    assert (result["points"][0]["date"], result["points"][0]["value"]) == ("2024-12-01", 12.5)
    assert set(result["run"]) == {
        *("median", "rules_apply", "signals", "runs"),
        *("longest_run", "longest_run_limit", "crossings", "crossings_limit"),
    }
    assert set(result["run"]["runs"]) == {"count", "useful", "lower", "upper", "verdict"}
    assert set(result["xmr"]) == {
        "status",
        "mean",
        "mr_bar",
        "ucl",
        "lcl",
        "upper_two_thirds",
        "lower_two_thirds",
        "signals",
        "assurance",
    }
    assert set(result["mr"]) == {"mean", "ucl", "status"}
    assert [set(phase) for phase in result["phases"]] == [
        {"index", "start", "end", "first", "last", "reason", "run", "xmr", "mr"}
    ]
    assert result["annotations"] == []
    assert isinstance(result["summary"], str)


def test_outputs_are_rounded_to_four_decimals():
    result = xmr(SEVEN_BELOW)
    assert (result["upper_two_thirds"], result["lower_two_thirds"]) == (15.5467, 8.4533)


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        chart_for(monthly([1, 2, 3]), direction="sideways", target=None)  # type: ignore[arg-type]


def test_limits_are_frozen_on_the_first_20_points_and_later_points_are_judged_against_them():
    # The 20 baseline points give mean 12, MR̄ 2 (see COMMON_CAUSE_20 above): UCL 17.32, LCL 6.68.
    # Eight later points at 5 — an improvement for "down" — fall below that LCL. Had the limits
    # been computed from all 28 points, the mean would drop to 10.0 and the stable baseline
    # would be flagged as a run above it.
    result = chart(COMMON_CAUSE_20 + [5] * 8, direction="down").as_dict()
    xmr = result["xmr"]
    assert (xmr["mean"], xmr["ucl"], xmr["lcl"]) == (12.0, 17.32, 6.68)
    assert all(point["spc_signal"] is False for point in result["points"][:20])
    outside = [s for s in xmr["signals"] if s["rule"] == "outside_limits"]
    assert [s["start"] for s in outside] == list(range(20, 28))
    assert {s["kind"] for s in xmr["signals"]} == {"improvement"}

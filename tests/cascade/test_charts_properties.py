"""cascade.charts: invariants that hold for any series (Hypothesis).

Series are drawn as Decimals with up to 4 decimals, as the database stores them, often from a
handful of values so that ties, points on the median and repeated values are common.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.charts import chart_for, runs_limits

FAST = settings(max_examples=60, deadline=None)

decimals = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)
few_values = st.sampled_from([Decimal(v) for v in ("1", "2", "2.5", "3", "7", "7.0001")])
series = st.one_of(st.lists(decimals, max_size=45), st.lists(few_values, max_size=45))
rule_sets = st.sampled_from(["ihi", "anhoej"])
directions = st.sampled_from(["up", "down"])


def monthly(values):
    return [(date(2020 + i // 12, i % 12 + 1, 1), value) for i, value in enumerate(values)]


def change_at(index: int):
    return [(date(2020 + index // 12, index % 12 + 1, 1), "change")]


def run_view(run: dict) -> dict:
    """A run chart without its median: what a monotone transform must leave as it is."""
    return {key: value for key, value in run.items() if key != "median"}


@FAST
@given(values=series, cut=st.integers(min_value=0, max_value=45))
def test_limits_are_symmetric_about_the_centre_line(values, cut):
    chart = chart_for(monthly(values), direction="up", change_points=change_at(cut))
    for phase in chart.phases:
        xmr = phase.xmr
        if not xmr.has_limits:
            assert (xmr.mean, xmr.ucl, xmr.lcl, phase.mr.ucl) == (None, None, None, None)
            continue
        assert xmr.ucl - xmr.mean == xmr.mean - xmr.lcl
        assert xmr.upper_two_thirds - xmr.mean == xmr.mean - xmr.lower_two_thirds
        assert xmr.lcl <= xmr.lower_two_thirds <= xmr.mean <= xmr.upper_two_thirds <= xmr.ucl
        assert phase.mr.mean == xmr.mr_bar and phase.mr.ucl >= phase.mr.mean >= 0


TRANSFORMS = [
    lambda x: 3 * x + 7,
    lambda x: x**3,
    lambda x: x**3 + x / 2 - 5,
    lambda x: -1 / (x + 1001),  # strictly increasing on (-1001, ∞), far from linear
]


@FAST
@given(
    values=series,
    transform=st.sampled_from(TRANSFORMS),
    rules=rule_sets,
    direction=directions,
    cut=st.integers(min_value=0, max_value=45),
)
def test_a_strictly_increasing_transform_leaves_the_run_chart_signals_unchanged(
    values, transform, rules, direction, cut
):
    options = {"direction": direction, "rules": rules, "change_points": change_at(cut)}
    before = chart_for(monthly(values), **options).as_dict()
    after = chart_for(monthly([transform(v) for v in values]), **options).as_dict()
    assert [run_view(p["run"]) for p in after["phases"]] == [run_view(p["run"]) for p in before["phases"]]
    assert [p["run_signal"] for p in after["points"]] == [p["run_signal"] for p in before["points"]]


SWAP = {"improvement": "concern", "concern": "improvement", None: None}


@FAST
@given(values=series, rules=rule_sets, cut=st.integers(min_value=0, max_value=45))
def test_reversing_the_direction_swaps_improvement_and_concern(values, rules, cut):
    up = chart_for(monthly(values), direction="up", rules=rules, change_points=change_at(cut)).as_dict()
    down = chart_for(monthly(values), direction="down", rules=rules, change_points=change_at(cut)).as_dict()
    for phase_up, phase_down in zip(up["phases"], down["phases"], strict=True):
        for chart in ("run", "xmr"):
            flipped = [{**s, "kind": SWAP[s["kind"]]} for s in phase_up[chart]["signals"]]
            assert phase_down[chart]["signals"] == flipped
    for point_up, point_down in zip(up["points"], down["points"], strict=True):
        assert point_down["signals"] == [{**s, "kind": SWAP[s["kind"]]} for s in point_up["signals"]]


@FAST
@given(half=st.integers(min_value=1, max_value=400))
def test_with_equal_halves_lower_and_upper_runs_limits_add_up_to_n_plus_2(half):
    lower, upper = runs_limits(half, half)
    assert lower + upper == 2 * half + 2


@FAST
@given(above=st.integers(min_value=1, max_value=300), below=st.integers(min_value=1, max_value=300))
def test_the_runs_limits_do_not_depend_on_which_half_is_which(above, below):
    lower, upper = runs_limits(above, below)
    assert runs_limits(below, above) == (lower, upper)
    assert 2 <= lower <= upper <= 2 * min(above, below) + (above != below)


phase_series = st.one_of(st.lists(decimals, min_size=1, max_size=30), st.lists(few_values, min_size=1, max_size=30))


@FAST
@given(first=phase_series, second=phase_series, other=st.data(), rules=rule_sets, direction=directions)
def test_phases_are_independent_of_each_other(first, second, other, rules, direction):
    # Changing one phase's values (keeping its length) leaves the other phase and its points as they were.
    options = {"direction": direction, "rules": rules, "target": 3, "change_points": change_at(len(first))}
    base = chart_for(monthly(first + second), **options).as_dict()
    assert [phase["first"] for phase in base["phases"]] == [0, len(first)]

    later = other.draw(st.lists(decimals, min_size=len(second), max_size=len(second)))
    changed_later = chart_for(monthly(first + later), **options).as_dict()
    assert changed_later["phases"][0] == base["phases"][0]
    assert changed_later["points"][: len(first)] == base["points"][: len(first)]

    earlier = other.draw(st.lists(decimals, min_size=len(first), max_size=len(first)))
    changed_earlier = chart_for(monthly(earlier + second), **options).as_dict()
    assert changed_earlier["phases"][1] == base["phases"][1]
    assert changed_earlier["points"][len(first) :] == base["points"][len(first) :]
    assert (changed_earlier["run"], changed_earlier["xmr"], changed_earlier["mr"]) == (
        base["run"],
        base["xmr"],
        base["mr"],
    )

"""Run charts and XmR (individuals) control charts for a quality measure.

The rules are PRODUCT.md's "Rules that must be exact":

- Run chart: median centre line; IHI rules, applied only from 10 points on.
  Shift = 6+ consecutive points on one side of the median (points on the
  median neither count nor break it); trend = 5+ consecutive points rising or
  falling (a repeat of the previous value is ignored); too few / too many runs
  by the Perla, Provost & Murray table below.
- XmR chart: mean ± 2.66 × average moving range. No limits under 12 points,
  "provisional" limits from 12 to 19, "final" from 20: the limits are computed
  from the first 20 points (the baseline) and then frozen, so that a later
  improvement is judged against the process as it was rather than dragging the
  limits along with it (and flagging the old, stable points). Special causes: a point
  outside the limits, 7 in a row on one side of the mean, 7 in a row moving one
  way, 2 of 3 beyond two-thirds of the way to a limit on the same side. Each
  signal is labelled improvement or concern by the direction of improvement,
  and the limits say whether the target will always, never or only sometimes
  be met.

Everything here is pure and dependency-free (no Django, no database) so that
the browser chart, the API and the tests read one single computation.
``chart_for`` is the entry point; ``Chart.as_dict()`` is the JSON contract.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

Direction = Literal["up", "down"]
Kind = Literal["improvement", "concern"]
XmrStatus = Literal["insufficient", "provisional", "final"]
RunsVerdict = Literal["too_few", "too_many", "ok", "not_applicable"]
XmrRule = Literal["outside_limits", "shift", "trend", "two_of_three"]
Assurance = Literal["always", "never", "inconsistent"]
Number = Decimal | float | int

# Outputs are rounded to this many decimals, all of them, so that the browser
# and the API never show 12.450000000000001.
DECIMALS = 4

# Floats from Decimal inputs carry binary noise ((87.1 + 87.3) / 2 is
# 87.19999999999999). A point that is on a line in exact arithmetic must count
# as on it, so every comparison treats differences this small as equality.
_TOLERANCE = 1e-9

RUN_RULES_MIN_POINTS = 10
RUN_SHIFT_LENGTH = 6
RUN_TREND_LENGTH = 5

LIMITS_MIN_POINTS = 12
FINAL_LIMITS_MIN_POINTS = 20
XMR_SCALING = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of two points
XMR_SHIFT_LENGTH = 7
XMR_TREND_LENGTH = 7  # points, i.e. 6 consecutive increases (or decreases)

# Limits on the number of runs for a run chart, by the number of useful
# observations (points not on the median): fewer runs than the lower limit is
# "too few", more than the upper limit is "too many" (about a 5 % risk of a
# false signal for random data).
# Source: Perla RJ, Provost LP, Murray SK. "The run chart: a simple analytical
# tool for learning from variation in healthcare processes." BMJ Qual Saf
# 2011;20:46-51, Table 1 (adapted there from Swed & Eisenhart, Ann Math Stat
# 1943). The table is reproduced, not recomputed: in some rows it differs by
# one run from an exact two-sided 5 % Swed-Eisenhart computation, and the
# published rows are what teams check their charts against by hand. Rows
# 10-26 were cross-checked against an independent copy of the table; rows
# 27-60 should be re-checked against the paper's PDF if it is to hand.
# Outside 10-60 useful observations the runs rule is not applied.
RUNS_LIMITS: dict[int, tuple[int, int]] = {
    10: (3, 9),
    11: (3, 10),
    12: (3, 11),
    13: (4, 11),
    14: (4, 12),
    15: (5, 12),
    16: (5, 13),
    17: (5, 13),
    18: (6, 14),
    19: (6, 15),
    20: (6, 16),
    21: (7, 16),
    22: (7, 17),
    23: (7, 17),
    24: (8, 18),
    25: (8, 18),
    26: (9, 19),
    27: (10, 19),
    28: (10, 20),
    29: (10, 20),
    30: (11, 21),
    31: (11, 22),
    32: (11, 22),
    33: (11, 23),
    34: (12, 23),
    35: (13, 24),
    36: (13, 24),
    37: (13, 25),
    38: (14, 26),
    39: (14, 26),
    40: (15, 27),
    41: (15, 27),
    42: (16, 28),
    43: (16, 28),
    44: (17, 29),
    45: (17, 30),
    46: (17, 30),
    47: (18, 31),
    48: (18, 31),
    49: (19, 32),
    50: (19, 32),
    51: (20, 33),
    52: (20, 33),
    53: (21, 34),
    54: (21, 35),
    55: (22, 35),
    56: (22, 36),
    57: (23, 36),
    58: (23, 37),
    59: (24, 38),
    60: (24, 38),
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------
# Result types: frozen, so a chart handed to a view or serializer cannot be
# altered on the way; each has as_dict() giving the JSON-ready contract.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartPoint:
    index: int
    date: date
    value: float
    run_signal: bool
    spc_signal: bool
    signal_kind: Kind | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "date": self.date.isoformat(),
            "value": _rounded(self.value),
            "run_signal": self.run_signal,
            "spc_signal": self.spc_signal,
            "signal_kind": self.signal_kind,
        }


@dataclass(frozen=True)
class RunSignal:
    """A shift or trend on the run chart; start and end are inclusive point indices."""

    rule: Literal["shift", "trend"]
    start: int
    end: int
    kind: Kind
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "description": self.description,
        }


@dataclass(frozen=True)
class RunsTest:
    """The number of runs about the median against the Perla et al. table."""

    count: int
    useful: int
    lower: int | None
    upper: int | None
    verdict: RunsVerdict

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "useful": self.useful,
            "lower": self.lower,
            "upper": self.upper,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class RunChart:
    median: float | None
    rules_apply: bool
    signals: tuple[RunSignal, ...]
    runs: RunsTest

    def as_dict(self) -> dict[str, Any]:
        return {
            "median": _rounded(self.median),
            "rules_apply": self.rules_apply,
            "signals": [signal.as_dict() for signal in self.signals],
            "runs": self.runs.as_dict(),
        }


@dataclass(frozen=True)
class XmrSignal:
    """A special cause on the XmR chart; ``indices`` are the points it flags."""

    rule: XmrRule
    start: int
    end: int
    indices: tuple[int, ...]
    kind: Kind
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "indices": list(self.indices),
            "kind": self.kind,
            "description": self.description,
        }


@dataclass(frozen=True)
class XmrChart:
    status: XmrStatus
    mean: float | None
    mr_bar: float | None
    ucl: float | None
    lcl: float | None
    upper_two_thirds: float | None
    lower_two_thirds: float | None
    signals: tuple[XmrSignal, ...]
    assurance: Assurance | None

    @property
    def has_limits(self) -> bool:
        return self.status != "insufficient"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "mean": _rounded(self.mean),
            "mr_bar": _rounded(self.mr_bar),
            "ucl": _rounded(self.ucl),
            "lcl": _rounded(self.lcl),
            "upper_two_thirds": _rounded(self.upper_two_thirds),
            "lower_two_thirds": _rounded(self.lower_two_thirds),
            "signals": [signal.as_dict() for signal in self.signals],
            "assurance": self.assurance,
        }


@dataclass(frozen=True)
class Chart:
    direction: Direction
    target: float | None
    points: tuple[ChartPoint, ...]
    run: RunChart
    xmr: XmrChart
    summary: str

    @property
    def n(self) -> int:
        return len(self.points)

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "target": _rounded(self.target),
            "n": self.n,
            "points": [point.as_dict() for point in self.points],
            "run": self.run.as_dict(),
            "xmr": self.xmr.as_dict(),
            "summary": self.summary,
        }


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def chart_for(
    observations: Iterable[tuple[date | datetime, Number]],
    *,
    direction: Direction,
    target: Number | None = None,
) -> Chart:
    """Run chart and XmR chart for observations already sorted by date.

    ``direction`` is the measure's direction of improvement: "up" when higher
    is better, "down" when lower is better. ``target`` is optional; without it
    there is no assurance verdict.
    """
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    dates, values = _unpack(observations)
    goal = None if target is None else _finite(target)
    run = _run_chart(values, direction)
    xmr = _xmr_chart(values, direction, goal)
    return Chart(
        direction=direction,
        target=goal,
        points=_points(dates, values, run, xmr),
        run=run,
        xmr=xmr,
        summary=_summary(dates, run, xmr),
    )


def has_special_cause(chart: Chart) -> bool:
    """True when either chart shows non-random variation.

    That is any XmR signal, any run-chart shift or trend, or too few / too many
    runs: the runs rule is a signal in its own right on a run chart even though
    it has no span to draw and so is not listed among the run signals.
    """
    return bool(chart.xmr.signals or chart.run.signals or chart.run.runs.verdict in ("too_few", "too_many"))


# --------------------------------------------------------------------------
# Input and small helpers
# --------------------------------------------------------------------------


def _unpack(observations: Iterable[tuple[date | datetime, Number]]) -> tuple[list[date], list[float]]:
    dates: list[date] = []
    values: list[float] = []
    for when, value in observations:
        dates.append(when.date() if isinstance(when, datetime) else when)
        values.append(_finite(value))
    return dates, values


def _finite(value: Number) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _compare(a: float, b: float) -> int:
    """-1, 0 or 1 as a is below, on or above b, within the tolerance above."""
    if math.isclose(a, b, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE):
        return 0
    return 1 if a > b else -1


def _rounded(value: float | None) -> float | None:
    # "+ 0.0" turns -0.0 into 0.0, which JSON would otherwise print as -0.0.
    return None if value is None else round(value, DECIMALS) + 0.0


def _kind(side: int, direction: Direction) -> Kind:
    """Above the centre line / moving up is improvement when higher is better."""
    upward = side > 0
    return "improvement" if upward == (direction == "up") else "concern"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass
class _Stretch:
    """A maximal stretch found by the scanners below (mutable while scanning).

    ``side`` is +1 (above / rising) or -1 (below / falling); ``members`` are
    the indices of the points that count towards it.
    """

    side: int
    members: list[int]

    @property
    def start(self) -> int:
        return self.members[0]

    @property
    def end(self) -> int:
        return self.members[-1]


def _side_stretches(sides: Sequence[int], *, line_breaks: bool) -> list[_Stretch]:
    """Maximal stretches of consecutive points on one side of a centre line.

    ``sides`` holds -1, 0 or 1 per point. A point on the line (0) is skipped
    when ``line_breaks`` is false (the run chart's rule) and ends the stretch
    when it is true (the XmR chart's rule).
    """
    stretches: list[_Stretch] = []
    current: _Stretch | None = None
    for index, side in enumerate(sides):
        if side == 0:
            if line_breaks:
                current = None
            continue
        if current is not None and current.side == side:
            current.members.append(index)
        else:
            current = _Stretch(side, [index])
            stretches.append(current)
    return stretches


def _monotone_stretches(values: Sequence[float], *, repeats_break: bool) -> list[_Stretch]:
    """Maximal stretches of points each higher (or each lower) than the one before.

    A point equal to the previous one ends the stretch when ``repeats_break``
    (the XmR chart's rule) and is passed over otherwise (the run chart's rule:
    it neither counts nor breaks, so the next point is compared with the last
    one that counted). A turning point belongs to both the rise and the fall.
    """
    stretches: list[_Stretch] = []
    current: _Stretch | None = None
    previous = 0  # index of the last point that counted
    for index in range(1, len(values)):
        step = _compare(values[index], values[previous])
        if step == 0:
            if repeats_break:
                current = None
                previous = index
            continue
        if current is not None and current.side == step:
            current.members.append(index)
        else:
            current = _Stretch(step, [previous, index])
            stretches.append(current)
        previous = index
    return stretches


# --------------------------------------------------------------------------
# Run chart
# --------------------------------------------------------------------------


def _run_chart(values: Sequence[float], direction: Direction) -> RunChart:
    if not values:
        return RunChart(median=None, rules_apply=False, signals=(), runs=RunsTest(0, 0, None, None, "not_applicable"))
    median = statistics.median(values)
    sides = [_compare(value, median) for value in values]
    rules_apply = len(values) >= RUN_RULES_MIN_POINTS
    signals = (*_run_shifts(sides, direction), *_run_trends(values, direction)) if rules_apply else ()
    return RunChart(
        median=median,
        rules_apply=rules_apply,
        signals=tuple(sorted(signals, key=lambda s: (s.start, s.end))),
        runs=_runs_test(sides, rules_apply),
    )


def _run_shifts(sides: Sequence[int], direction: Direction) -> list[RunSignal]:
    signals = []
    for stretch in _side_stretches(sides, line_breaks=False):
        if len(stretch.members) < RUN_SHIFT_LENGTH:
            continue
        where = "above" if stretch.side > 0 else "below"
        description = f"{len(stretch.members)} points in a row {where} the median"
        if stretch.end - stretch.start + 1 > len(stretch.members):
            description += " (points on the median not counted)"
        signals.append(RunSignal("shift", stretch.start, stretch.end, _kind(stretch.side, direction), description))
    return signals


def _run_trends(values: Sequence[float], direction: Direction) -> list[RunSignal]:
    signals = []
    for stretch in _monotone_stretches(values, repeats_break=False):
        if len(stretch.members) < RUN_TREND_LENGTH:
            continue
        way = "up" if stretch.side > 0 else "down"
        description = f"{len(stretch.members)} points in a row going {way}"
        if stretch.end - stretch.start + 1 > len(stretch.members):
            description += " (repeated values not counted)"
        signals.append(RunSignal("trend", stretch.start, stretch.end, _kind(stretch.side, direction), description))
    return signals


def _runs_test(sides: Sequence[int], rules_apply: bool) -> RunsTest:
    """Count runs about the median and judge the count against RUNS_LIMITS.

    Too few / too many runs is deliberately NOT added to the run signals: it
    is a property of the whole series, with no span to highlight and no
    direction to call improvement or concern. It is reported here, in the
    verdict, and counted by has_special_cause() and the summary.
    """
    stretches = _side_stretches(sides, line_breaks=False)
    count = len(stretches)
    useful = sum(len(stretch.members) for stretch in stretches)
    limits = RUNS_LIMITS.get(useful) if rules_apply else None
    if limits is None:
        return RunsTest(count, useful, None, None, "not_applicable")
    lower, upper = limits
    verdict: RunsVerdict = "too_few" if count < lower else "too_many" if count > upper else "ok"
    return RunsTest(count, useful, lower, upper, verdict)


# --------------------------------------------------------------------------
# XmR chart
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limits:
    mean: float
    mr_bar: float
    ucl: float
    lcl: float
    upper_two_thirds: float
    lower_two_thirds: float


def _xmr_chart(values: Sequence[float], direction: Direction, target: float | None) -> XmrChart:
    if len(values) < LIMITS_MIN_POINTS:
        # Too few points for limits worth drawing: no centre line either, so
        # nobody reads a half-made control chart.
        return XmrChart("insufficient", None, None, None, None, None, None, (), None)
    limits = _limits(values[:FINAL_LIMITS_MIN_POINTS])
    return XmrChart(
        status="final" if len(values) >= FINAL_LIMITS_MIN_POINTS else "provisional",
        mean=limits.mean,
        mr_bar=limits.mr_bar,
        ucl=limits.ucl,
        lcl=limits.lcl,
        upper_two_thirds=limits.upper_two_thirds,
        lower_two_thirds=limits.lower_two_thirds,
        signals=_xmr_signals(values, limits, direction),
        assurance=_assurance(limits, direction, target),
    )


def _limits(values: Sequence[float]) -> _Limits:
    """Mean ± 2.66 × average moving range, and two-thirds of the way to each limit."""
    mean = statistics.fmean(values)
    mr_bar = statistics.fmean(abs(b - a) for a, b in pairwise(values))
    reach = XMR_SCALING * mr_bar
    return _Limits(
        mean=mean,
        mr_bar=mr_bar,
        ucl=mean + reach,
        lcl=mean - reach,
        upper_two_thirds=mean + reach * 2 / 3,
        lower_two_thirds=mean - reach * 2 / 3,
    )


def _xmr_signals(values: Sequence[float], limits: _Limits, direction: Direction) -> tuple[XmrSignal, ...]:
    signals = [
        *_outside_limits(values, limits, direction),
        *_xmr_shifts(values, limits, direction),
        *_xmr_trends(values, direction),
        *_two_of_three(values, limits, direction),
    ]
    return tuple(signals)


def _xmr_signal(rule: XmrRule, members: Sequence[int], side: int, direction: Direction, description: str) -> XmrSignal:
    return XmrSignal(rule, members[0], members[-1], tuple(members), _kind(side, direction), description)


def _outside_limits(values: Sequence[float], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    """Rule 1: one signal per point strictly above the UCL or below the LCL (on the limit is inside)."""
    signals = []
    for index, value in enumerate(values):
        if _compare(value, limits.ucl) > 0:
            signals.append(_xmr_signal("outside_limits", [index], 1, direction, "1 point above the upper limit"))
        elif _compare(value, limits.lcl) < 0:
            signals.append(_xmr_signal("outside_limits", [index], -1, direction, "1 point below the lower limit"))
    return signals


def _xmr_shifts(values: Sequence[float], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    """Rule 2: 7+ in a row on one side of the mean; a point exactly on the mean ends the run."""
    sides = [_compare(value, limits.mean) for value in values]
    signals = []
    for stretch in _side_stretches(sides, line_breaks=True):
        if len(stretch.members) >= XMR_SHIFT_LENGTH:
            where = "above" if stretch.side > 0 else "below"
            description = f"{len(stretch.members)} points in a row {where} the mean"
            signals.append(_xmr_signal("shift", stretch.members, stretch.side, direction, description))
    return signals


def _xmr_trends(values: Sequence[float], direction: Direction) -> list[XmrSignal]:
    """Rule 3: 7+ points each higher (or each lower) than the one before.

    Choice: a value equal to the previous one BREAKS the run here, unlike the
    run chart's trend rule where it is ignored. A flat step is not a move in
    either direction, and the XmR rule asks for consecutive moves one way.
    """
    signals = []
    for stretch in _monotone_stretches(values, repeats_break=True):
        if len(stretch.members) >= XMR_TREND_LENGTH:
            way = "up" if stretch.side > 0 else "down"
            description = f"{len(stretch.members)} points in a row going {way}"
            signals.append(_xmr_signal("trend", stretch.members, stretch.side, direction, description))
    return signals


def _two_of_three(values: Sequence[float], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    """Rule 4: 2 of 3 consecutive points beyond two-thirds of the way to a limit, same side.

    Every window of three is tested; overlapping windows that flag the same
    points on the same side make one signal, so a cluster is reported once.
    """
    beyond = [
        1 if _compare(v, limits.upper_two_thirds) > 0 else -1 if _compare(v, limits.lower_two_thirds) < 0 else 0
        for v in values
    ]
    signals = []
    for side in (1, -1):
        for members in _clusters(beyond, side):
            where = "upper" if side > 0 else "lower"
            out_of = max(3, members[-1] - members[0] + 1)
            description = f"{len(members)} of {out_of} points in a row close to the {where} limit"
            signals.append(_xmr_signal("two_of_three", members, side, direction, description))
    return sorted(signals, key=lambda s: s.start)


def _clusters(beyond: Sequence[int], side: int) -> list[list[int]]:
    clusters: list[list[int]] = []
    for start in range(len(beyond) - 2):
        hits = [i for i in range(start, start + 3) if beyond[i] == side]
        if len(hits) < 2:
            continue
        if clusters and set(hits) & set(clusters[-1]):
            clusters[-1] = sorted(set(clusters[-1]) | set(hits))
        else:
            clusters.append(hits)
    return clusters


def _assurance(limits: _Limits, direction: Direction, target: float | None) -> Assurance | None:
    """Will the process, as it runs now, meet the target?

    "always" when even the worse limit meets it, "never" when even the better
    limit misses it, "inconsistent" when the target lies between the limits.
    """
    if target is None:
        return None
    if direction == "up":
        if _compare(limits.lcl, target) >= 0:
            return "always"
        return "never" if _compare(limits.ucl, target) < 0 else "inconsistent"
    if _compare(limits.ucl, target) <= 0:
        return "always"
    return "never" if _compare(limits.lcl, target) > 0 else "inconsistent"


# --------------------------------------------------------------------------
# Points and summary
# --------------------------------------------------------------------------


def _points(dates: Sequence[date], values: Sequence[float], run: RunChart, xmr: XmrChart) -> tuple[ChartPoint, ...]:
    points = []
    for index, (when, value) in enumerate(zip(dates, values, strict=True)):
        in_run = [s for s in run.signals if s.start <= index <= s.end]
        in_xmr = [s for s in xmr.signals if index in s.indices]
        # The XmR chart's verdict wins (it is the stricter test); within a
        # chart the first signal in rule order decides.
        first = in_xmr[0] if in_xmr else in_run[0] if in_run else None
        points.append(ChartPoint(index, when, value, bool(in_run), bool(in_xmr), first.kind if first else None))
    return tuple(points)


def _month(when: date) -> str:
    # Not strftime("%b"): that follows the server's locale.
    return f"{_MONTHS[when.month - 1]} {when.year}"


def _when(dates: Sequence[date], start: int, end: int) -> str:
    return f"in {_month(dates[start])}" if start == end else f"since {_month(dates[start])}"


def _summary(dates: Sequence[date], run: RunChart, xmr: XmrChart) -> str:
    """One plain-language sentence: the latest signal, or why there is none."""
    n = len(dates)
    if n == 0:
        return "No data yet: add observations to see a chart."
    if xmr.signals:
        return _signal_sentence("Special cause", dates, xmr.signals)
    if run.signals:
        return _signal_sentence("Non-random pattern on the run chart", dates, run.signals)
    if run.runs.verdict in ("too_few", "too_many"):
        fewer_or_more = "fewer" if run.runs.verdict == "too_few" else "more"
        return (
            f"Non-random pattern on the run chart: {fewer_or_more} runs around the median than chance allows "
            f"({run.runs.count} where {run.runs.lower} to {run.runs.upper} are expected)."
        )
    if not run.rules_apply:
        return (
            f"Too few points to judge yet: {n} so far; run-chart rules need {RUN_RULES_MIN_POINTS} "
            f"and control limits {LIMITS_MIN_POINTS}."
        )
    if not xmr.has_limits:
        return f"No non-random pattern on the run chart; control limits need {LIMITS_MIN_POINTS} points ({n} so far)."
    sentence = "Common-cause variation only: no special cause detected; changes are within the expected range"
    if xmr.status == "provisional":
        sentence += f" (limits are provisional until {FINAL_LIMITS_MIN_POINTS} points)"
    return sentence + "."


def _signal_sentence(label: str, dates: Sequence[date], signals: Sequence[RunSignal | XmrSignal]) -> str:
    latest = max(signals, key=lambda s: (s.end, s.start))
    sentence = f"{label} ({latest.kind}): {latest.description} {_when(dates, latest.start, latest.end)}"
    others = len(signals) - 1
    if others:
        sentence += f", and {_plural(others, 'other signal')}"
    return sentence + "."

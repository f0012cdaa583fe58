"""Run charts, XmR (individuals) and moving-range charts for a quality measure, phase by phase.

The rules are PRODUCT.md's "Rules that must be exact":

- Run chart: median centre line, rules applied only from 10 points on, by one of two rule sets
  the measure chooses (``RUN_RULES``):
  - IHI (the default): shift = 6+ consecutive points on one side of the median (points on the
    median neither count nor break it); trend = 5+ consecutive points rising or falling (a repeat
    of the previous value neither counts nor breaks it); too few / too many runs by the exact
    distribution of the number of runs (``runs_limits``, below).
  - Anhøj (qicharts2's default): an unusually long run (longest run of useful points on one side
    > round(log2(n) + 3)) or too few crossings of the median (fewer than the 5 % lower binomial
    quantile of n − 1 trials at 0.5), n = the useful points (those not on the median).
- XmR chart: mean ± 2.66 × average moving range. No limits under 12 points, "provisional" limits
  from 12 to 19, "final" from 20: the limits are computed from the first 20 points of the phase
  (its baseline) and then held, so that a later improvement is judged against the process as it
  was rather than dragging the limits along with it. Special causes: a point outside the limits;
  7 in a row on one side of the mean (a point on the mean ends the run); 7 in a row moving one way
  (a repeated value neither extends nor breaks it, as on the run chart); 2 of 3 consecutive points
  beyond two-thirds of the way to a limit, all three on the same side of the mean (NHS England's
  Making Data Count). Each signal is labelled improvement or concern by the direction of
  improvement, and the limits say whether the target will always, never or only sometimes be met.
- Moving-range chart: centre line MR̄ (the same baseline), upper limit 3.267 × MR̄.
- Change points split the series into phases. Each phase has its own median, rules, limits and
  moving ranges; no rule runs across a change point; the chart's verdicts (top-level ``run``,
  ``xmr``, ``mr``, the summary, ``has_special_cause``) are those of the current (last) phase.

Exact arithmetic: values arrive as Decimal (the database's 10 digits with 4 decimals; floats and
ints are converted through ``str``) and every line and comparison is computed in exact rational
arithmetic (``fractions.Fraction``: a mean is a ratio that Decimal would have to round). So
1234567.8910 is never "on" a median of 1234567.8900, and a point exactly on a limit is on it.
Outputs are rounded to ``DECIMALS`` only in ``as_dict``.

Everything here is pure and dependency-free (no Django, no database) so that the browser chart,
the API and the tests read one single computation. ``chart_for`` is the entry point;
``Chart.as_dict()`` is the JSON contract.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal

Direction = Literal["up", "down"]
Kind = Literal["improvement", "concern"]
RuleSet = Literal["ihi", "anhoej"]
XmrStatus = Literal["insufficient", "provisional", "final"]
RunsVerdict = Literal["too_few", "too_many", "ok", "not_applicable"]
RunRule = Literal["shift", "trend", "long_run", "few_crossings"]
XmrRule = Literal["outside_limits", "shift", "trend", "two_of_three"]
Assurance = Literal["always", "never", "inconsistent"]
Number = Decimal | float | int

# The run-chart rule sets a measure may choose, (value, label): the model's choices.
RUN_RULES: tuple[tuple[RuleSet, str], ...] = (("ihi", "IHI run chart rules"), ("anhoej", "Anhøj rules"))
_RULES_LABELS: dict[str, str] = dict(RUN_RULES)

# Outputs are rounded to this many decimals, all of them, so that the browser
# and the API never show 12.450000000000001.
DECIMALS = 4

RUN_RULES_MIN_POINTS = 10
RUN_SHIFT_LENGTH = 6
RUN_TREND_LENGTH = 5
# The runs rule needs this many useful points (not on the median), as the published table did.
RUNS_MIN_USEFUL = 10

# Too few / too many runs: the exact distribution of the number of runs R in a random
# arrangement of ``above`` points above and ``below`` points below the median (Swed & Eisenhart,
# Ann Math Stat 1943), at any number of useful points (no table, no cut-off). The limits are
#   lower = the largest r with P(R < r) ≤ 2.5 %, "too few" when R < lower;
#   upper = the smallest r with P(R > r) ≤ 2.5 %, "too many" when R > upper,
# so a random series is flagged at most 5 % of the time in all (2.5 % each way). With equal halves
# the distribution is symmetric about n/2 + 1, so lower + upper = n + 2 for every even n.
# Of the tail conventions tried (5 % or 2.5 % a tail, normal approximations), 2.5 % a tail
# reproduces most rows of Perla, Provost & Murray's Table 1 (BMJ Qual Saf 2011;20:46-51), the
# table this module used until it was computed: of its rows 10-60 (halves floor(n/2), ceil(n/2)),
# the lower limit agrees in 37 rows and the upper in 35. Where they differ the published row is
# either stricter than 2.5 % a tail (lower 11, 12, 17, 20, 22, 23, 25, 32, 33, 37; upper 11, 12,
# 20, 22) or breaks it (lower 53, 55, 57, 59; upper 29, 34, 36, 41, 43, 46, 48, 50, 52, 53, 55, 57:
# rows 52, 53, 55 and 57 flag over 5 % of random series), and its even rows 32, 34, 36, 46, 48, 50
# and 52 break lower + upper = n + 2. A chart's halves are its own counts above and below the
# median, which differ when points sit on the median; ``runs_table(n)`` gives the row for n
# useful points split in halves, as the published table did.
RUNS_TAIL = Fraction(25, 1000)

# Anhøj's crossings rule: the lower 5 % quantile of Binomial(n − 1, 0.5), R's qbinom(0.05, n − 1, 0.5).
CROSSINGS_TAIL = Fraction(5, 100)

LIMITS_MIN_POINTS = 12
FINAL_LIMITS_MIN_POINTS = 20
XMR_SCALING = Fraction("2.66")  # 3 / d2, d2 = 1.128 for moving ranges of two points
MR_SCALING = Fraction("3.267")  # D4 for moving ranges of two points
XMR_SHIFT_LENGTH = 7
XMR_TREND_LENGTH = 7  # points, i.e. 6 consecutive increases (or decreases)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------
# The runs rules' limits (pure number theory, cached: a chart asks for few distinct sizes)
# --------------------------------------------------------------------------


def _ways_rising(above: int, below: int, most: int) -> Iterator[int]:
    """How many arrangements have 2, 3, … ``most`` runs, in that order.

    2k runs: 2·C(above − 1, k − 1)·C(below − 1, k − 1); 2k + 1 runs:
    C(above − 1, k)·C(below − 1, k − 1) + C(above − 1, k − 1)·C(below − 1, k). The binomials are
    stepped along (one multiplication and one exact division each) rather than recomputed, which
    keeps a series of thousands of points to milliseconds.
    """
    m, p = above - 1, below - 1
    a0, a1, b0, b1 = 1, m, 1, p  # C(m, j), C(m, j + 1), C(p, j), C(p, j + 1)
    j = 0
    while True:
        if 2 * j + 2 > most:
            return
        yield 2 * a0 * b0
        if 2 * j + 3 > most:
            return
        yield a1 * b0 + a0 * b1
        a0, a1 = a1, a1 * (m - j - 1) // (j + 2)
        b0, b1 = b1, b1 * (p - j - 1) // (j + 2)
        j += 1


def _ways_falling(above: int, below: int, most: int) -> Iterator[int]:
    """How many arrangements have ``most``, ``most`` − 1, … 2 runs, in that order (see ``_ways_rising``)."""
    m, p = above - 1, below - 1
    j = (most - 2) // 2
    a0, a1, b0, b1 = math.comb(m, j), math.comb(m, j + 1), math.comb(p, j), math.comb(p, j + 1)
    while j >= 0:
        if 2 * j + 3 <= most:
            yield a1 * b0 + a0 * b1
        yield 2 * a0 * b0
        if j:
            a0, a1 = a0 * j // (m - j + 1), a0
            b0, b1 = b0 * j // (p - j + 1), b0
        j -= 1


@lru_cache(maxsize=4096)
def runs_limits(above: int, below: int) -> tuple[int, int]:
    """(lower, upper) for the number of runs, from its exact distribution (see ``RUNS_TAIL``).

    Only the tails are summed, in integers (counts of arrangements), so the comparison with the
    tail probability is exact. With everything on one side there is a single run, always.
    """
    if above < 0 or below < 0:
        raise ValueError("the counts above and below the median cannot be negative")
    if above == 0 or below == 0:
        return (1, 1)
    # A tail may hold at most RUNS_TAIL of all arrangements: count × denominator ≤ numerator × total.
    allowed = RUNS_TAIL.numerator * math.comb(above + below, above)
    scale = RUNS_TAIL.denominator
    most = 2 * min(above, below) + (above != below)

    lower, fewer = 2, 0  # fewer = arrangements with R < lower
    for ways in _ways_rising(above, below, most):
        if lower == most or (fewer + ways) * scale > allowed:
            break
        fewer += ways
        lower += 1
    upper, more = most, 0  # more = arrangements with R > upper
    for ways in _ways_falling(above, below, most):
        if upper == 2 or (more + ways) * scale > allowed:
            break
        more += ways
        upper -= 1
    return lower, upper


def runs_table(useful: int) -> tuple[int, int]:
    """The limits for ``useful`` points split in halves (floor and ceiling), the published table's layout."""
    return runs_limits(useful // 2, useful - useful // 2)


def longest_run_limit(useful: int) -> int:
    """Anhøj: a run longer than this is unusually long (round half to even, as R's round)."""
    return round(math.log2(useful) + 3)


@lru_cache(maxsize=4096)
def crossings_limit(useful: int) -> int:
    """Anhøj: fewer crossings than this are too few; the smallest k with P(X ≤ k) ≥ 5 %, X ~ B(useful − 1, ½)."""
    trials = max(useful - 1, 0)
    needed = CROSSINGS_TAIL.numerator * 2**trials  # compared with cumulative × denominator
    cumulative, ways = 0, 1  # ways = C(trials, k)
    for k in range(trials + 1):
        cumulative += ways
        if cumulative * CROSSINGS_TAIL.denominator >= needed:
            return k
        ways = ways * (trials - k) // (k + 1)
    return trials


# --------------------------------------------------------------------------
# Result types: frozen, so a chart handed to a view or serializer cannot be
# altered on the way; each has as_dict() giving the JSON-ready contract.
# Lines and values are exact Fractions; as_dict rounds them.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PointSignal:
    """One signal as a point carries it."""

    chart: Literal["run", "xmr"]
    rule: str
    kind: Kind | None

    def as_dict(self) -> dict[str, Any]:
        return {"chart": self.chart, "rule": self.rule, "kind": self.kind}


@dataclass(frozen=True)
class ChartPoint:
    index: int
    date: date
    value: Fraction
    phase: int
    mr: Fraction | None
    signals: tuple[PointSignal, ...]

    @property
    def run_signal(self) -> bool:
        return any(s.chart == "run" for s in self.signals)

    @property
    def spc_signal(self) -> bool:
        return any(s.chart == "xmr" for s in self.signals)

    @property
    def signal_kind(self) -> Kind | None:
        """Improvement when any signal on the point is one (Making Data Count's convention), else concern."""
        kinds = {s.kind for s in self.signals}
        return "improvement" if "improvement" in kinds else "concern" if "concern" in kinds else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "date": self.date.isoformat(),
            "value": _rounded(self.value),
            "run_signal": self.run_signal,
            "spc_signal": self.spc_signal,
            "signal_kind": self.signal_kind,
            "phase": self.phase,
            "mr": _rounded(self.mr),
            "signals": [signal.as_dict() for signal in self.signals],
        }


@dataclass(frozen=True)
class RunSignal:
    """A run-chart signal; start and end are inclusive point indices.

    ``kind`` is None for too few crossings (Anhøj), which has no direction. That signal describes
    the phase as a whole: it spans the phase and is not carried by its points, as the IHI runs
    verdict is not.
    """

    rule: RunRule
    start: int
    end: int
    kind: Kind | None
    description: str

    @property
    def marks_points(self) -> bool:
        return self.rule != "few_crossings"

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
    """The number of runs about the median against its exact limits (IHI rules only)."""

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
    rules: RuleSet
    median: Fraction | None
    rules_apply: bool
    signals: tuple[RunSignal, ...]
    runs: RunsTest
    # Anhøj's figures; None under the IHI rules (or before the rules apply).
    longest_run: int | None = None
    longest_run_limit: int | None = None
    crossings: int | None = None
    crossings_limit: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "median": _rounded(self.median),
            "rules_apply": self.rules_apply,
            "signals": [signal.as_dict() for signal in self.signals],
            "runs": self.runs.as_dict(),
            "longest_run": self.longest_run,
            "longest_run_limit": self.longest_run_limit,
            "crossings": self.crossings,
            "crossings_limit": self.crossings_limit,
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
    mean: Fraction | None
    mr_bar: Fraction | None
    ucl: Fraction | None
    lcl: Fraction | None
    upper_two_thirds: Fraction | None
    lower_two_thirds: Fraction | None
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
class MrChart:
    """The moving-range chart under the X chart: centre line MR̄, upper limit 3.267 × MR̄."""

    mean: Fraction | None
    ucl: Fraction | None
    status: XmrStatus

    def as_dict(self) -> dict[str, Any]:
        return {"mean": _rounded(self.mean), "ucl": _rounded(self.ucl), "status": self.status}


@dataclass(frozen=True)
class Phase:
    """The points from one change point to the next, with their own charts; ``first``/``last`` inclusive."""

    index: int
    first: int
    last: int
    start: date
    end: date
    reason: str | None
    run: RunChart
    xmr: XmrChart
    mr: MrChart

    @property
    def n(self) -> int:
        return self.last - self.first + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "first": self.first,
            "last": self.last,
            "reason": self.reason,
            "run": self.run.as_dict(),
            "xmr": self.xmr.as_dict(),
            "mr": self.mr.as_dict(),
        }


@dataclass(frozen=True)
class Annotation:
    date: date
    kind: str
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "kind": self.kind, "label": self.label}


@dataclass(frozen=True)
class Chart:
    direction: Direction
    target: Fraction | None
    rules: RuleSet
    points: tuple[ChartPoint, ...]
    phases: tuple[Phase, ...]
    annotations: tuple[Annotation, ...]
    # The current (last) phase's charts; empty ones when there are no points.
    run: RunChart
    xmr: XmrChart
    mr: MrChart
    summary: str

    @property
    def n(self) -> int:
        return len(self.points)

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "target": _rounded(self.target),
            "n": self.n,
            "rules": self.rules,
            "rules_label": _RULES_LABELS[self.rules],
            "points": [point.as_dict() for point in self.points],
            "run": self.run.as_dict(),
            "xmr": self.xmr.as_dict(),
            "mr": self.mr.as_dict(),
            "phases": [phase.as_dict() for phase in self.phases],
            "annotations": [annotation.as_dict() for annotation in self.annotations],
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
    rules: RuleSet = "ihi",
    change_points: Sequence[tuple[date | datetime, str]] = (),
    annotations: Sequence[tuple[date | datetime, str, str]] = (),
) -> Chart:
    """Run chart, XmR chart and moving-range chart, phase by phase, for observations sorted by date.

    ``direction`` is the measure's direction of improvement: "up" when higher is better, "down"
    when lower is better. ``target`` is optional; without it there is no assurance verdict.
    ``rules`` is the run-chart rule set (``RUN_RULES``). Each change point (date, reason) starts a
    new phase at the first observation dated on or after its date; one before the first
    observation, after the last, or leaving an empty phase starts none (of two that would start the
    same phase, the later names it), and every change point is still returned as an annotation.
    ``annotations`` (date, kind, label) are passed through beside them, sorted by date.
    """
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    if rules not in _RULES_LABELS:
        raise ValueError(f"rules must be one of {', '.join(_RULES_LABELS)}, not {rules!r}")
    dates, values = _unpack(observations)
    goal = None if target is None else _exact(target)
    phases = tuple(
        _phase(index, first, last, reason, dates, values, direction, goal, rules)
        for index, (first, last, reason) in enumerate(_phase_bounds(dates, change_points))
    )
    current = phases[-1] if phases else None
    run = current.run if current else _run_chart([], 0, direction, rules)
    xmr = current.xmr if current else _xmr_chart([], 0, direction, goal)
    mr = current.mr if current else MrChart(None, None, "insufficient")
    return Chart(
        direction=direction,
        target=goal,
        rules=rules,
        points=_points(dates, values, phases),
        phases=phases,
        annotations=_annotations(change_points, annotations),
        run=run,
        xmr=xmr,
        mr=mr,
        summary=_summary(dates, phases),
    )


def has_special_cause(chart: Chart) -> bool:
    """True when either chart shows non-random variation in the current phase.

    That is any XmR signal, any run-chart signal, or too few / too many runs: the runs rule is a
    signal in its own right on a run chart even though it has no span to draw and so is not listed
    among the run signals.
    """
    return bool(chart.xmr.signals or chart.run.signals or chart.run.runs.verdict in ("too_few", "too_many"))


# --------------------------------------------------------------------------
# Input and small helpers
# --------------------------------------------------------------------------


def _day(when: date | datetime) -> date:
    return when.date() if isinstance(when, datetime) else when


def _unpack(observations: Iterable[tuple[date | datetime, Number]]) -> tuple[list[date], list[Fraction]]:
    dates: list[date] = []
    values: list[Fraction] = []
    for when, value in observations:
        dates.append(_day(when))
        values.append(_exact(value))
    return dates, values


def _exact(value: Number) -> Fraction:
    """The value as an exact fraction: a Decimal as it is, a float or int through its shortest text."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return Fraction(number)


def _sign(a: Fraction, b: Fraction) -> int:
    """-1, 0 or 1 as a is below, on or above b (exactly).

    Cross-multiplied by hand (denominators are positive): several times faster than Fraction's
    own comparison, which goes through generic number checks, and charts compare thousands of times.
    """
    left, right = a.numerator * b.denominator, b.numerator * a.denominator
    return (left > right) - (left < right)


def _rounded(value: Fraction | None) -> float | None:
    """Rounded exactly to DECIMALS places (half to even), then the nearest float.

    In integers, as round(Fraction) would do but without its generic checks (a chart rounds every
    point); int / int is correctly rounded, so 12.45 comes out as the float 12.45. "+ 0.0" turns
    -0.0 into 0.0, which JSON would otherwise print as -0.0.
    """
    if value is None:
        return None
    scale = 10**DECIMALS
    scaled, rest = divmod(value.numerator * scale, value.denominator)
    if 2 * rest > value.denominator or (2 * rest == value.denominator and scaled % 2):
        scaled += 1
    return scaled / scale + 0.0


def _median(values: Sequence[Fraction]) -> Fraction:
    # Sorted as integers over a common denominator: exact, and far quicker than comparing Fractions.
    common = math.lcm(*(value.denominator for value in values))
    ordered = sorted(values, key=lambda value: value.numerator * (common // value.denominator))
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _mean(values: Iterable[Fraction]) -> Fraction:
    items = list(values)
    return sum(items, Fraction(0)) / len(items)


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


def _monotone_stretches(values: Sequence[Fraction]) -> list[_Stretch]:
    """Maximal stretches of points each higher (or each lower) than the one before.

    A point equal to the previous one neither counts nor breaks (both charts' rule): the next
    point is compared with the last one that counted. A turning point belongs to both the rise
    and the fall.
    """
    stretches: list[_Stretch] = []
    current: _Stretch | None = None
    previous = 0  # index of the last point that counted
    for index in range(1, len(values)):
        step = _sign(values[index], values[previous])
        if step == 0:
            continue
        if current is not None and current.side == step:
            current.members.append(index)
        else:
            current = _Stretch(step, [previous, index])
            stretches.append(current)
        previous = index
    return stretches


# --------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------


def _phase_bounds(
    dates: Sequence[date], change_points: Sequence[tuple[date | datetime, str]]
) -> list[tuple[int, int, str | None]]:
    """(first, last, reason) of each phase, the first phase's reason None."""
    if not dates:
        return []
    starts: dict[int, str | None] = {0: None}
    for when, reason in sorted(change_points, key=lambda cp: _day(cp[0])):
        first = next((i for i, d in enumerate(dates) if d >= _day(when)), None)
        if first is None or first == 0:
            continue  # after the last observation, or on or before the first: no phase starts
        starts[first] = reason  # a later change point at the same first point: the earlier's phase is empty
    firsts = sorted(starts)
    lasts = [following - 1 for following in firsts[1:]] + [len(dates) - 1]
    return [(first, last, starts[first]) for first, last in zip(firsts, lasts, strict=True)]


def _phase(
    index: int,
    first: int,
    last: int,
    reason: str | None,
    dates: Sequence[date],
    values: Sequence[Fraction],
    direction: Direction,
    target: Fraction | None,
    rules: RuleSet,
) -> Phase:
    own = values[first : last + 1]
    xmr = _xmr_chart(own, first, direction, target)
    return Phase(
        index=index,
        first=first,
        last=last,
        start=dates[first],
        end=dates[last],
        reason=reason,
        run=_run_chart(own, first, direction, rules),
        xmr=xmr,
        mr=MrChart(
            mean=xmr.mr_bar,
            ucl=None if xmr.mr_bar is None else MR_SCALING * xmr.mr_bar,
            status=xmr.status,
        ),
    )


def _annotations(
    change_points: Sequence[tuple[date | datetime, str]], others: Sequence[tuple[date | datetime, str, str]]
) -> tuple[Annotation, ...]:
    found = [Annotation(_day(when), "change_point", reason) for when, reason in change_points]
    found += [Annotation(_day(when), kind, label) for when, kind, label in others]
    return tuple(sorted(found, key=lambda a: a.date))  # stable: change points first on a shared date


# --------------------------------------------------------------------------
# Run chart (``offset`` is the phase's first point: signals carry chart-wide indices)
# --------------------------------------------------------------------------


def _run_chart(values: Sequence[Fraction], offset: int, direction: Direction, rules: RuleSet) -> RunChart:
    if not values:
        return RunChart(rules, None, False, (), RunsTest(0, 0, None, None, "not_applicable"))
    median = _median(values)
    sides = [_sign(value, median) for value in values]
    stretches = _side_stretches(sides, line_breaks=False)
    rules_apply = len(values) >= RUN_RULES_MIN_POINTS
    count, useful = len(stretches), sum(len(s.members) for s in stretches)
    if rules == "anhoej":
        return _anhoej(median, stretches, offset, direction, rules_apply)
    signals = (
        (*_run_shifts(stretches, offset, direction), *_run_trends(values, offset, direction)) if rules_apply else ()
    )
    return RunChart(
        rules=rules,
        median=median,
        rules_apply=rules_apply,
        signals=tuple(sorted(signals, key=lambda s: (s.start, s.end))),
        runs=_runs_test(sides, count, useful, rules_apply),
    )


def _shift_description(stretch: _Stretch) -> str:
    where = "above" if stretch.side > 0 else "below"
    description = f"{len(stretch.members)} points in a row {where} the median"
    if stretch.end - stretch.start + 1 > len(stretch.members):
        description += " (points on the median not counted)"
    return description


def _run_shifts(stretches: Sequence[_Stretch], offset: int, direction: Direction) -> list[RunSignal]:
    return [
        RunSignal("shift", offset + s.start, offset + s.end, _kind(s.side, direction), _shift_description(s))
        for s in stretches
        if len(s.members) >= RUN_SHIFT_LENGTH
    ]


def _run_trends(values: Sequence[Fraction], offset: int, direction: Direction) -> list[RunSignal]:
    signals = []
    for stretch in _monotone_stretches(values):
        if len(stretch.members) < RUN_TREND_LENGTH:
            continue
        signals.append(
            RunSignal(
                "trend",
                offset + stretch.start,
                offset + stretch.end,
                _kind(stretch.side, direction),
                _trend_description(stretch),
            )
        )
    return signals


def _trend_description(stretch: _Stretch) -> str:
    way = "up" if stretch.side > 0 else "down"
    description = f"{len(stretch.members)} points in a row going {way}"
    if stretch.end - stretch.start + 1 > len(stretch.members):
        description += " (repeated values not counted)"
    return description


def _runs_test(sides: Sequence[int], count: int, useful: int, rules_apply: bool) -> RunsTest:
    """Count runs about the median and judge the count against its exact limits.

    The halves are the phase's own counts above and below the median. Too few / too many runs is
    deliberately NOT added to the run signals: it is a property of the whole series, with no span
    to highlight and no direction to call improvement or concern. It is reported here, in the
    verdict, and counted by has_special_cause() and the summary.
    """
    if not rules_apply or useful < RUNS_MIN_USEFUL:
        return RunsTest(count, useful, None, None, "not_applicable")
    above = sum(1 for side in sides if side > 0)
    lower, upper = runs_limits(above, useful - above)
    verdict: RunsVerdict = "too_few" if count < lower else "too_many" if count > upper else "ok"
    return RunsTest(count, useful, lower, upper, verdict)


def _anhoej(
    median: Fraction, stretches: Sequence[_Stretch], offset: int, direction: Direction, rules_apply: bool
) -> RunChart:
    """Anhøj's two rules on the runs of useful points (points on the median skipped, as in qicharts2)."""
    count, useful = len(stretches), sum(len(s.members) for s in stretches)
    runs = RunsTest(count, useful, None, None, "not_applicable")
    if not rules_apply or not useful:
        return RunChart("anhoej", median, rules_apply, (), runs)
    longest = max(len(s.members) for s in stretches)
    long_limit = longest_run_limit(useful)
    crossings, few_limit = count - 1, crossings_limit(useful)
    signals = [
        RunSignal(
            "long_run",
            offset + s.start,
            offset + s.end,
            _kind(s.side, direction),
            f"{_shift_description(s)}, longer than {long_limit}",
        )
        for s in stretches
        if len(s.members) > long_limit
    ]
    if crossings < few_limit:
        # No span or direction of its own: it spans the phase's useful points and is no one's kind.
        first, last = offset + stretches[0].start, offset + stretches[-1].end
        description = f"{_plural(crossings, 'crossing')} of the median where at least {few_limit} are expected"
        signals.append(RunSignal("few_crossings", first, last, None, description))
    return RunChart(
        rules="anhoej",
        median=median,
        rules_apply=True,
        signals=tuple(sorted(signals, key=lambda s: (s.start, s.end))),
        runs=runs,
        longest_run=longest,
        longest_run_limit=long_limit,
        crossings=crossings,
        crossings_limit=few_limit,
    )


# --------------------------------------------------------------------------
# XmR chart
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Limits:
    mean: Fraction
    mr_bar: Fraction
    ucl: Fraction
    lcl: Fraction
    upper_two_thirds: Fraction
    lower_two_thirds: Fraction


def _xmr_chart(values: Sequence[Fraction], offset: int, direction: Direction, target: Fraction | None) -> XmrChart:
    if len(values) < LIMITS_MIN_POINTS:
        # Too few points for limits worth drawing: no centre line either, so
        # nobody reads a half-made control chart.
        return XmrChart("insufficient", None, None, None, None, None, None, (), None)
    limits = _limits(values[:FINAL_LIMITS_MIN_POINTS])
    signals = _xmr_signals(values, limits, direction)
    return XmrChart(
        status="final" if len(values) >= FINAL_LIMITS_MIN_POINTS else "provisional",
        mean=limits.mean,
        mr_bar=limits.mr_bar,
        ucl=limits.ucl,
        lcl=limits.lcl,
        upper_two_thirds=limits.upper_two_thirds,
        lower_two_thirds=limits.lower_two_thirds,
        signals=tuple(_shifted(signal, offset) for signal in signals),
        assurance=_assurance(limits, direction, target),
    )


def _shifted(signal: XmrSignal, offset: int) -> XmrSignal:
    return XmrSignal(
        signal.rule,
        signal.start + offset,
        signal.end + offset,
        tuple(i + offset for i in signal.indices),
        signal.kind,
        signal.description,
    )


def _limits(values: Sequence[Fraction]) -> _Limits:
    """Mean ± 2.66 × average moving range, and two-thirds of the way to each limit."""
    mean = _mean(values)
    mr_bar = _mean(abs(b - a) for a, b in pairwise(values))
    reach = XMR_SCALING * mr_bar
    return _Limits(
        mean=mean,
        mr_bar=mr_bar,
        ucl=mean + reach,
        lcl=mean - reach,
        upper_two_thirds=mean + reach * 2 / 3,
        lower_two_thirds=mean - reach * 2 / 3,
    )


def _xmr_signals(values: Sequence[Fraction], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    return [
        *_outside_limits(values, limits, direction),
        *_xmr_shifts(values, limits, direction),
        *_xmr_trends(values, direction),
        *_two_of_three(values, limits, direction),
    ]


def _xmr_signal(rule: XmrRule, members: Sequence[int], side: int, direction: Direction, description: str) -> XmrSignal:
    return XmrSignal(rule, members[0], members[-1], tuple(members), _kind(side, direction), description)


def _outside_limits(values: Sequence[Fraction], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    """Rule 1: one signal per point strictly above the UCL or below the LCL (on the limit is inside)."""
    signals = []
    for index, value in enumerate(values):
        if _sign(value, limits.ucl) > 0:
            signals.append(_xmr_signal("outside_limits", [index], 1, direction, "1 point above the upper limit"))
        elif _sign(value, limits.lcl) < 0:
            signals.append(_xmr_signal("outside_limits", [index], -1, direction, "1 point below the lower limit"))
    return signals


def _xmr_shifts(values: Sequence[Fraction], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    """Rule 2: 7+ in a row on one side of the mean; a point exactly on the mean ends the run."""
    sides = [_sign(value, limits.mean) for value in values]
    signals = []
    for stretch in _side_stretches(sides, line_breaks=True):
        if len(stretch.members) >= XMR_SHIFT_LENGTH:
            where = "above" if stretch.side > 0 else "below"
            description = f"{len(stretch.members)} points in a row {where} the mean"
            signals.append(_xmr_signal("shift", stretch.members, stretch.side, direction, description))
    return signals


def _xmr_trends(values: Sequence[Fraction], direction: Direction) -> list[XmrSignal]:
    """Rule 3: 7+ points each higher (or each lower) than the one before.

    A repeated value neither extends nor breaks the run (as on the run chart): a flat step is not
    a move either way, nor a reversal. The signal flags every point of its span, repeats included.
    """
    signals = []
    for stretch in _monotone_stretches(values):
        if len(stretch.members) >= XMR_TREND_LENGTH:
            span = list(range(stretch.start, stretch.end + 1))
            signals.append(_xmr_signal("trend", span, stretch.side, direction, _trend_description(stretch)))
    return signals


def _two_of_three(values: Sequence[Fraction], limits: _Limits, direction: Direction) -> list[XmrSignal]:
    """Rule 4: 2 of 3 consecutive points beyond two-thirds of the way to a limit, all three on its side of the mean.

    Every window of three is tested; overlapping windows that flag the same points on the same
    side make one signal, so a cluster is reported once. A point on the mean is on neither side.
    """
    sides = [_sign(value, limits.mean) for value in values]
    beyond = [
        1 if _sign(v, limits.upper_two_thirds) > 0 else -1 if _sign(v, limits.lower_two_thirds) < 0 else 0
        for v in values
    ]
    signals = []
    for side in (1, -1):
        for members in _clusters(beyond, sides, side):
            where = "upper" if side > 0 else "lower"
            out_of = max(3, members[-1] - members[0] + 1)
            description = f"{len(members)} of {out_of} points in a row close to the {where} limit"
            signals.append(_xmr_signal("two_of_three", members, side, direction, description))
    return sorted(signals, key=lambda s: s.start)


def _clusters(beyond: Sequence[int], sides: Sequence[int], side: int) -> list[list[int]]:
    clusters: list[list[int]] = []
    for start in range(len(beyond) - 2):
        window = range(start, start + 3)
        if any(sides[i] != side for i in window):
            continue
        hits = [i for i in window if beyond[i] == side]
        if len(hits) < 2:
            continue
        if clusters and set(hits) & set(clusters[-1]):
            clusters[-1] = sorted(set(clusters[-1]) | set(hits))
        else:
            clusters.append(hits)
    return clusters


def _assurance(limits: _Limits, direction: Direction, target: Fraction | None) -> Assurance | None:
    """Will the process, as it runs now, meet the target?

    "always" when even the worse limit meets it, "never" when even the better
    limit misses it, "inconsistent" when the target lies between the limits.
    """
    if target is None:
        return None
    if direction == "up":
        if limits.lcl >= target:
            return "always"
        return "never" if limits.ucl < target else "inconsistent"
    if limits.ucl <= target:
        return "always"
    return "never" if limits.lcl > target else "inconsistent"


# --------------------------------------------------------------------------
# Points and summary
# --------------------------------------------------------------------------


def _points(dates: Sequence[date], values: Sequence[Fraction], phases: Sequence[Phase]) -> tuple[ChartPoint, ...]:
    points = []
    for phase in phases:
        for index in range(phase.first, phase.last + 1):
            signals = [
                PointSignal("run", s.rule, s.kind)
                for s in phase.run.signals
                if s.marks_points and s.start <= index <= s.end
            ]
            signals += [PointSignal("xmr", s.rule, s.kind) for s in phase.xmr.signals if index in s.indices]
            moving_range = None if index == phase.first else abs(values[index] - values[index - 1])
            points.append(ChartPoint(index, dates[index], values[index], phase.index, moving_range, tuple(signals)))
    return tuple(points)


def _month(when: date) -> str:
    # Not strftime("%b"): that follows the server's locale.
    return f"{_MONTHS[when.month - 1]} {when.year}"


def _when(dates: Sequence[date], start: int, end: int) -> str:
    return f"in {_month(dates[start])}" if start == end else f"since {_month(dates[start])}"


def _summary(dates: Sequence[date], phases: Sequence[Phase]) -> str:
    """One plain-language sentence about the current phase: the latest signal, or why there is none."""
    if not phases:
        return "No data yet: add observations to see a chart."
    current = phases[-1]
    sentence = _phase_sentence(dates, current)
    if current.index == 0:
        return sentence
    return f"Since the change point in {_month(current.start)}, {sentence[0].lower()}{sentence[1:]}"


def _phase_sentence(dates: Sequence[date], phase: Phase) -> str:
    n, run, xmr = phase.n, phase.run, phase.xmr
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
    kind = f" ({latest.kind})" if latest.kind else ""
    sentence = f"{label}{kind}: {latest.description} {_when(dates, latest.start, latest.end)}"
    others = len(signals) - 1
    if others:
        sentence += f", and {_plural(others, 'other signal')}"
    return sentence + "."

"""Spearman's ρ with a bootstrap 95 % interval: the statistics of the correlation analysis, no database.

``spearman(x, y)`` takes paired values (one pair per person, or per department) and returns
n, ρ and the interval, or no ρ and a note saying why:

- **ρ** is ``scipy.stats.spearmanr``: Pearson's r of the average ranks, so ties share a rank.
- **The interval** is ``scipy.stats.bootstrap`` over the *pairs* (``paired=True``: a person's
  two values are resampled together), 95 %, with a fixed seed so that the same data always give
  the same interval. ``spearmanr`` is not vectorised over resamples (given two 2-D arrays it
  returns a matrix of every row against every other), so the bootstrap's statistic is the same
  definition written with SciPy's vectorised parts: ``rankdata`` along the resample axis, then
  ``pearsonr`` along it — what ``spearmanr`` itself does for one sample. Without that, thousands of
  resamples in a hundred departments would take minutes.
- **Method and size**: BCa (bias-corrected and accelerated) up to ``BCA_MAX_N`` pairs; above
  that the percentile interval, because BCa's jackknife costs n more evaluations of ρ on n − 1
  pairs while its correction is negligible at that size. 1,999 resamples up to ``SMALL_N`` (50)
  pairs, 999 above: a 10,000-person organisation with its hundred departments takes three to four
  seconds in all (measured on two shared cores).
- **Degenerate resamples**: with many tied values a resample can draw one value only, for which
  ρ is not defined; SciPy then gives no interval. The interval is then the percentile interval of
  the resamples where ρ is defined, and the note says how many were left out; if more than a
  tenth were, there is no interval.

Nothing is computed below ``MIN_N`` pairs (10): ρ is None and the note says "Fewer than 10 …".
A variable with one value throughout has no ranks to compare: ρ is None with a note. Pairs with
a missing value (None or NaN) are left out before counting, and the note says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy import stats

MIN_N = 10
CONFIDENCE = 0.95
# Any fixed number: the same data must always give the same interval.
SEED = 20_260_815
# Each resample is ranked (n log n): small groups get more resamples, where they cost little and
# ties make the bootstrap distribution lumpy; 999 above that keep a 10,000-person organisation and
# its departments to a few seconds in all.
N_RESAMPLES_SMALL = 1_999
SMALL_N = 50
N_RESAMPLES = 999
BCA_MAX_N = 1_000
# Resamples are ranked a batch at a time, at most this many values per batch (about 16 MB of floats).
BATCH_CELLS = 2_000_000
# More degenerate resamples than this share and the interval is not given.
MAX_DEGENERATE_SHARE = 0.1

Number = float | int | Decimal | None


@dataclass(frozen=True)
class Correlation:
    n: int
    rho: float | None
    ci_low: float | None
    ci_high: float | None
    note: str = ""

    @property
    def shown(self) -> bool:
        return self.rho is not None


def spearman_along(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's ρ of each pair of rows (Pearson's r of average ranks), vectorised for ``bootstrap``."""
    return stats.pearsonr(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis).statistic


def _floats(values: Sequence[Number]) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def _clip(value: float) -> float:
    """Within [−1, 1], and rounded past floating-point noise (so that ρ = 1 is not 0.9999999999999996)."""
    return round(float(min(1.0, max(-1.0, value))), 10)


def spearman(
    x: Sequence[Number],
    y: Sequence[Number],
    *,
    min_n: int = MIN_N,
    noun: str = "pairs",
    x_name: str = "the first variable",
    y_name: str = "the second variable",
    seed: int = SEED,
) -> Correlation:
    """ρ between paired values with its 95 % bootstrap interval (see the module docstring).

    ``noun`` names the pairs in the notes ("people", "departments"); ``min_n`` can raise the floor
    of 10, never lower it.
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must be paired: {len(x)} values against {len(y)}.")
    floor = max(MIN_N, int(min_n))
    xs, ys = _floats(x), _floats(y)
    complete = np.isfinite(xs) & np.isfinite(ys)
    dropped = int(len(xs) - complete.sum())
    xs, ys = xs[complete], ys[complete]
    n = len(xs)
    notes = [f"Left out for a missing value: {dropped}."] if dropped else []

    if n < floor:
        notes.insert(0, f"Fewer than {floor} {noun} (n = {n}): not shown, too few to say anything reliable.")
        return Correlation(n=n, rho=None, ci_low=None, ci_high=None, note=" ".join(notes))
    constant = [name for name, values in ((x_name, xs), (y_name, ys)) if np.ptp(values) == 0]
    if constant:
        names = " and ".join(constant)
        notes.insert(0, f"{names[0].upper()}{names[1:]} has the same value for all {n} {noun}, so ρ is not defined.")
        return Correlation(n=n, rho=None, ci_low=None, ci_high=None, note=" ".join(notes))

    rho = float(stats.spearmanr(xs, ys).statistic)
    low, high, interval_note = _interval(xs, ys, seed)
    if interval_note:
        notes.append(interval_note)
    return Correlation(n=n, rho=_clip(rho), ci_low=low, ci_high=high, note=" ".join(notes))


def _interval(xs: np.ndarray, ys: np.ndarray, seed: int) -> tuple[float | None, float | None, str]:
    n = len(xs)
    n_resamples = N_RESAMPLES_SMALL if n <= SMALL_N else N_RESAMPLES
    with warnings.catch_warnings():
        # A resample with one value throughout (ConstantInputWarning) or a distribution BCa cannot
        # use (DegenerateDataWarning) is dealt with below; the warnings would only fill the log.
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            (xs, ys),
            spearman_along,
            paired=True,
            vectorized=True,
            n_resamples=n_resamples,
            batch=max(1, BATCH_CELLS // n),
            confidence_level=CONFIDENCE,
            method="BCa" if n <= BCA_MAX_N else "percentile",
            rng=np.random.default_rng(seed),
        )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if math.isfinite(low) and math.isfinite(high):
        return _clip(low), _clip(high), ""
    # Degenerate resamples (ρ undefined) or a distribution with no spread (ρ = ±1 in every resample).
    distribution = np.asarray(result.bootstrap_distribution, dtype=float)
    defined = distribution[np.isfinite(distribution)]
    left_out = len(distribution) - len(defined)
    if not len(defined) or left_out > MAX_DEGENERATE_SHARE * len(distribution):
        return (
            None,
            None,
            (
                f"No interval: in {left_out} of {len(distribution)} resamples one variable had a single value "
                "(too many tied values)."
            ),
        )
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    note = (
        f"Percentile interval over the {len(defined)} resamples in which ρ is defined ({left_out} left out)."
        if left_out
        else ""
    )
    return _clip(float(low)), _clip(float(high)), note

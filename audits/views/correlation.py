"""The metric correlation analysis page: what the latest audit found about QI outcomes and scores.

HR admins and quality leads read it (audits.access decides); everyone else gets 403.
It shows the ``CorrelationResult`` rows of the latest succeeded audit run, or of ``?run=<id>``
(404 for an unknown run, 400 for something that is not a run number): the organisation first
(by person, then by department), then each department. Every shown result states n, ρ, its 95 %
interval, the unit of analysis and the outcome, in words that describe an association and never a
cause. HR admins see a scatter plot (static/js/scatter.js, from ``json_script`` data) and a table of
the same numbers for anyone who cannot see it; every other reader sees where ρ and its interval lie
between −1 and 1 instead, and no pair at all (``audits.access.can_see_individual_scores``, below).
Results on too few pairs say "not shown".

The page reads a fixed number of queries however many departments there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audits import access
from audits.correlation import MIN_N, NO_INTERVAL_FOR_TIES
from audits.models import (
    AnalysisUnit,
    AuditRun,
    CorrelationResult,
    CorrelationScope,
    Finding,
    RunState,
)
from audits.rules.correlation import WeakQILink, finding_key
from audits.selectors import runs as selectors
from core.access import get_visible_or_404, requires

RECENT_RUNS = 20
# How audits/correlation.py words a result under the floor.
FLOOR_NOTE = re.compile(r"Fewer than (\d+) ")
# Lower bounds of the achievement bands in the table that stands in for a large scatter plot.
BANDS = (0, 20, 40, 60, 80)
# Up to this many points, the table lists every department; people are always grouped in bands.
LISTED_POINTS = 200
# The picture of ρ and its interval for readers who may not see the points: an SVG this many units
# wide and high, −1 at the left edge of the scale and 1 at its right.
INTERVAL_WIDTH, INTERVAL_HEIGHT = 320, 52
INTERVAL_LEFT, INTERVAL_RIGHT = 16, 304
INTERVAL_TICKS = ((-1.0, "\u22121"), (-0.5, "\u22120.5"), (0.0, "0"), (0.5, "0.5"), (1.0, "1"))

AXES = {
    AnalysisUnit.PERSON: {
        "heading": "QI goal achievement and appraisal scores, by person",
        "unit": "Each point is one person.",
        "x": "Achievement of QI-linked goals (%)",
        "y": "Appraisal score",
        "x_short": "QI goal achievement",
        "y_short": "appraisal scores",
        "who": "people",
        "summary_unit": "Unit of analysis: the person (one pair of values per person).",
        "outcome": "Achievement of their QI-linked goals in the cycle (mean progress, weighted by goal weight; "
        "an achieved goal counts 100 %).",
    },
    AnalysisUnit.DEPARTMENT: {
        "heading": "Improvement of linked measures and mean appraisal scores, by department",
        "unit": "Each point is one department.",
        "x": "Improvement of linked measures (% of the way to target)",
        "y": "Mean appraisal score",
        "x_short": "measure improvement",
        "y_short": "mean appraisal scores",
        "who": "departments",
        "summary_unit": "Unit of analysis: the department (one pair of values per department).",
        "outcome": "Improvement of the quality measures linked to the department's goals (progress from "
        "baseline towards target, honouring the direction of improvement), averaged over its measures.",
    },
}


@dataclass
class Band:
    label: str
    count: int
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class IntervalPicture:
    """Where ρ and its interval lie on the scale from −1 to 1, in SVG units (the template draws it)."""

    rho: float
    low: float | None
    high: float | None
    zero: float
    ticks: list[tuple[float, str]]
    width: int = INTERVAL_WIDTH
    height: int = INTERVAL_HEIGHT


def _along(value: float) -> float:
    return round(INTERVAL_LEFT + (value + 1) / 2 * (INTERVAL_RIGHT - INTERVAL_LEFT), 1)


@dataclass
class Panel:
    result: CorrelationResult
    title: str
    axes: dict[str, str]
    chart_id: str
    # Whether the reader sees each pair (a point per person or department); see ``_panel``.
    individual: bool = True
    reading: list[str] = field(default_factory=list)
    chart: dict | None = None
    bands: list[Band] = field(default_factory=list)
    rows: list[tuple[str, float, float]] = field(default_factory=list)
    finding: Finding | None = None

    @property
    def shown(self) -> bool:
        return self.result.rho is not None

    @property
    def rho_text(self) -> str:
        return _signed(self.result.rho) if self.result.rho is not None else ""

    @property
    def interval_unavailable(self) -> bool:
        """ρ is shown, but too many tied values left the bootstrap no interval (audits/correlation.py says so)."""
        return self.result.rho is not None and NO_INTERVAL_FOR_TIES in self.result.note

    @property
    def interval_text(self) -> str:
        if self.interval_unavailable:
            return "not available: too many tied values"
        if self.result.ci_low is None or self.result.ci_high is None:
            return "none"
        return f"{_signed(self.result.ci_low)} to {_signed(self.result.ci_high)}"

    @property
    def interval_picture(self) -> IntervalPicture | None:
        result = self.result
        if result.rho is None:
            return None
        bounds = result.ci_low is not None and result.ci_high is not None
        return IntervalPicture(
            rho=_along(result.rho),
            low=_along(result.ci_low) if bounds else None,
            high=_along(result.ci_high) if bounds else None,
            zero=_along(0.0),
            ticks=[(_along(value), label) for value, label in INTERVAL_TICKS],
        )

    @property
    def too_small(self) -> bool:
        return self.result.rho is None and self.floor is not None

    @property
    def floor(self) -> int | None:
        """The floor the result fell under ("Fewer than 10 people …" in its note), None if it did not."""
        found = FLOOR_NOTE.search(self.result.note)
        return int(found.group(1)) if found and self.result.n < int(found.group(1)) else None


def _signed(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def reading(result: CorrelationResult, axes: dict[str, str]) -> list[str]:
    """The result in plain words: how strong, which way, and what the interval allows."""
    rho = result.rho or 0.0
    size = abs(rho)
    if size < 0.1:
        lines = [f"Practically no association between {axes['x_short']} and {axes['y_short']}."]
    else:
        strength = "A weak" if size < 0.3 else "A moderate" if size < 0.5 else "A strong"
        way = "higher" if rho > 0 else "lower"
        lines = [
            f"{strength} {'positive' if rho > 0 else 'negative'} association: {axes['who']} with higher "
            f"{axes['x_short']} tend to have {way} {axes['y_short']}."
        ]
    if result.ci_low is None or result.ci_high is None:
        if NO_INTERVAL_FOR_TIES in result.note:
            lines.append(
                "No interval: too many tied values, so that many resamples of the pairs had a single value "
                "throughout; read ρ with great caution."
            )
        else:
            lines.append("No interval could be given (see the note).")
    elif result.ci_low > 0:
        lines.append("The whole interval lies above zero.")
    elif result.ci_high < 0:
        lines.append("The whole interval lies below zero.")
    else:
        lines.append("The interval includes zero: the data are also consistent with no association at all.")
    return lines


def _bands(points: list[list]) -> list[Band]:
    bands = []
    for index, low in enumerate(BANDS):
        last = index == len(BANDS) - 1
        high = 100 if last else BANDS[index + 1]
        ys = [p[1] for p in points if low <= p[0] < high or (last and p[0] >= high)]
        label = f"{low}–{high} %" if last else f"{low}–under {high} %"
        if ys:
            bands.append(Band(label, len(ys), sum(ys) / len(ys), min(ys), max(ys)))
        else:
            bands.append(Band(label, 0, None, None, None))
    return bands


def _panel(result: CorrelationResult, findings: dict[str, Finding], *, individual: bool) -> Panel:
    """One result as the page shows it; ``individual``: whether the reader may see its pairs.

    A reader who may not see every person's score (anyone but HR) gets ρ, its interval, n and a
    picture of where they lie between −1 and 1 — and no pair, neither in the page nor in its JSON.
    A scatter plot would hand them each person's exact score: goals are not private, so a point's
    achievement names its person. A binned grid (achievement bands × score bands, small cells held
    back) was not chosen: the reader still knows which band of achievement each person is in, so a
    band whose people all fall in one score band tells each of them their score band however many
    they are, and the grids of the organisation and of its departments overlap, so that one can be
    subtracted from the other. The per-department points (each department's mean score) are held
    back too: a department of one is one person's score, and a mean beside the means of the teams
    within it gives away the rest by subtraction.
    """
    axes = AXES[AnalysisUnit(result.unit)]
    title = result.department.name if result.department_id else "Organisation"
    slug = f"dept-{result.department_id}" if result.department_id else "org"
    panel = Panel(
        result=result, title=title, axes=axes, chart_id=f"scatter-{slug}-{result.unit}", individual=individual
    )
    key = finding_key(department_id=result.department_id, unit=result.unit, outcome=result.outcome)
    panel.finding = findings.get(f"{WeakQILink.key}:{key}")
    if not panel.shown:
        return panel
    panel.reading = reading(result, axes)
    if not individual:
        return panel
    points = [p for p in result.points if isinstance(p, list) and len(p) >= 2]
    by_department = result.unit == AnalysisUnit.DEPARTMENT
    panel.chart = {
        "title": f"{title}: {axes['heading']}",
        "x_label": axes["x"],
        "y_label": axes["y"],
        "unit": result.unit,
        "summary": (
            f"Scatter plot of {len(points)} {axes['who']}: {axes['x'].lower()} across, {axes['y'].lower()} up. "
            f"Spearman's ρ = {_signed(result.rho or 0)}."
        ),
        "points": points,
    }
    if by_department and len(points) <= LISTED_POINTS:
        panel.rows = sorted(((str(p[2]) if len(p) > 2 else "", p[0], p[1]) for p in points), key=lambda r: r[0])
    else:
        panel.bands = _bands(points)
    return panel


def _order(result: CorrelationResult) -> tuple:
    organisation = result.scope == CorrelationScope.ORGANISATION
    return (not organisation, result.unit != AnalysisUnit.PERSON, result.department.name if result.department else "")


@requires(access.can_read_correlation, access.CORRELATION_MESSAGE)
@require_GET
def correlation(request: HttpRequest) -> HttpResponse:
    status = 200
    error = ""
    wanted = request.GET.get("run", "").strip()
    run: AuditRun | None
    if wanted and not wanted.isdigit():
        status, error = 400, "“run” must be the number of an audit run; the latest audit is shown instead."
        run = selectors.latest_run()
    elif wanted:
        run = get_visible_or_404(access.runs_visible_to(request.user), pk=int(wanted))
    else:
        run = selectors.latest_run()

    panels: list[Panel] = []
    if run is not None:
        # The findings this run found (first seen by it or before, last seen by it or after), whatever
        # became of them since; the latest per result if HR resolved one and it was found again.
        findings: dict[str, Finding] = {}
        for f in Finding.objects.filter(
            rule=WeakQILink.key, first_seen_run_id__lte=run.pk, last_seen_run_id__gte=run.pk
        ).order_by("pk"):
            findings[f.fingerprint] = f
        results = sorted(
            access.correlation_results_visible_to(request.user).filter(run=run).select_related("department"), key=_order
        )
        individual = access.can_see_individual_scores(request.user)
        panels = [_panel(r, findings, individual=individual) for r in results]
    organisation = [p for p in panels if p.result.scope == CorrelationScope.ORGANISATION]
    departments = [p for p in panels if p.result.scope == CorrelationScope.DEPARTMENT]
    recent = list(
        access.runs_visible_to(request.user)
        .filter(state=RunState.SUCCEEDED, finished_at__isnull=False)
        .order_by("-finished_at", "-pk")[:RECENT_RUNS]
    )
    if run is not None and run not in recent:
        recent.insert(0, run)
    return render(
        request,
        "audits/correlation.html",
        {
            "run": run,
            "error": error,
            "organisation": organisation,
            "shown_departments": [p for p in departments if p.shown],
            "hidden_departments": [p for p in departments if not p.shown],
            "recent_runs": recent,
            "min_n": MIN_N,
            "individual": access.can_see_individual_scores(request.user),
            "rule": WeakQILink,
        },
        status=status,
    )

"""Ratings disconnected from QI outcomes: the metric correlation analysis, and its findings.

For the organisation and for each department, Spearman's ρ between a QI outcome and appraisal
scores, with a bootstrap 95 % interval (audits/correlation.py), on the pairs of
audits/selectors/correlation.py: per person (QI goal achievement against the appraisal score) and,
for the organisation, per department (the improvement of the measures linked to its goals
against its mean score). Results on fewer than min_n pairs (never fewer than 10) are not shown.

A shown result is a finding when the link is

- **negative**: the whole interval lies below zero (high) — people, or departments, with better
  QI outcomes tend to have lower scores;
- **absent**: ρ below min_rho (medium) — scores and QI outcomes barely move together.

The wording says "move together", never "because": a correlation says nothing about cause.

``evaluate`` also hands the run its ``CorrelationResult`` rows, unsaved, in
``ctx.correlation_results`` (the correlation page reads them); the run stores them
(audits/services/correlation.py), replacing any it had, so that a rerun leaves one set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from audits.correlation import MIN_N, Correlation, spearman
from audits.models import AnalysisUnit, CorrelationResult, CorrelationScope, Severity, SubjectType
from audits.rules.base import AuditContext, FindingDraft, Rule, Threshold, register
from audits.selectors import scope as s
from audits.selectors.correlation import AXIS_NAMES, PairSet, collect

NOTE_MAX = CorrelationResult._meta.get_field("note").max_length
Analysis = tuple[PairSet, Correlation]


def figure(value: float) -> str:
    """ρ or a bound to two decimals, with a true minus sign."""
    return f"{value:.2f}".replace("-", "\u2212")


def interval(result: Correlation) -> str:
    if result.ci_low is None or result.ci_high is None:
        return "no interval: too many tied values"
    return f"95 % interval {figure(result.ci_low)} to {figure(result.ci_high)}"


def summary(pairs: PairSet, result: Correlation) -> str:
    """ "ρ = 0.08, 95 % interval −0.21 to 0.35, n = 42 people"."""
    return f"ρ = {figure(result.rho or 0)}, {interval(result)}, n = {result.n} {pairs.noun}"


def finding_key(*, department_id: int | None, unit: str, outcome: str) -> str:
    """The finding's key for one analysis, stable across runs (the correlation page looks findings up by it)."""
    scope = "organisation" if department_id is None else f"department:{department_id}"
    return f"{scope}:{unit}:{outcome}"


def analyse(*, min_n: int = MIN_N) -> tuple[list[Analysis], str]:
    """Every analysis, organisation first, and the name of the review cycle the scores come from."""
    data = collect()
    analyses = [
        (
            pairs,
            spearman(
                pairs.x,
                pairs.y,
                min_n=min_n,
                noun=pairs.noun,
                x_name=AXIS_NAMES[pairs.outcome],
                y_name="the appraisal score",
            ),
        )
        for pairs in data.pair_sets
    ]
    return analyses, data.cycle.name if data.cycle else ""


def result_drafts(analyses: Iterable[Analysis]) -> list[CorrelationResult]:
    """The analyses as result rows, unsaved and without their run (the run stores them)."""
    rows = []
    for pairs, result in analyses:
        note = " ".join(part for part in (pairs.note, result.note) if part)
        rows.append(
            CorrelationResult(
                scope=pairs.scope,
                department_id=pairs.department_id,
                unit=pairs.unit,
                outcome=pairs.outcome,
                n=result.n,
                rho=result.rho,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                # Nothing to plot for a result that is not shown, and no reason to keep people's pairs.
                points=pairs.points() if result.shown else [],
                note=note if len(note) <= NOTE_MAX else note[: NOTE_MAX - 1] + "…",
            )
        )
    return rows


@register
class WeakQILink(Rule):
    key = "weak_qi_link"
    title = "Appraisal scores that do not track QI outcomes"
    pitfall = "Ratings disconnected from QI outcomes"
    description = (
        "In the latest review cycle with appraisal scores, Spearman's ρ between scores and QI outcomes, with a "
        "bootstrap 95 % interval: per person (achievement of their QI-linked goals) for the organisation and each "
        "department, and per department (improvement of the measures linked to its goals) for the organisation. "
        "Only results on at least min_n people or departments (never fewer than 10) are shown and judged. "
        "Severity: high when the whole interval lies below zero (a negative link), medium when ρ is below "
        "min_rho (no real link)."
    )
    mitigation = (
        "Look at how appraisal ratings weigh QI results: compare where scores and QI outcomes part ways, calibrate "
        "ratings across managers, and update appraisal criteria that no longer reflect the organisation's quality "
        "work, so that performance scores and improvement results tell the same story."
    )
    thresholds = (
        Threshold(
            key="min_rho",
            label="Weakest link that counts",
            default=Decimal("0.2"),
            minimum=Decimal("0"),
            maximum=Decimal("1"),
            unit="ρ",
            help="A Spearman's ρ below this counts as no link between appraisal scores and QI outcomes.",
        ),
        Threshold(
            key="min_n",
            label="Fewest people or departments in an analysis",
            default=Decimal("10"),
            minimum=Decimal(MIN_N),
            maximum=Decimal("1000"),
            unit="points",
            help="Smaller groups are not shown or judged: too few to say anything reliable. Never below 10.",
            whole=True,
        ),
    )

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        min_rho = Decimal(limits["min_rho"])
        analyses, cycle_name = analyse(min_n=max(MIN_N, int(limits["min_n"])))
        ctx.correlation_results = result_drafts(analyses)
        drafts = []
        for pairs, result in analyses:
            if result.rho is None:
                continue
            if result.ci_high is not None and result.ci_high < 0:
                drafts.append(self._draft(pairs, result, cycle_name, min_rho, negative=True))
            elif Decimal(str(result.rho)) < min_rho:
                drafts.append(self._draft(pairs, result, cycle_name, min_rho, negative=False))
        return drafts

    def _draft(
        self, pairs: PairSet, result: Correlation, cycle_name: str, min_rho: Decimal, *, negative: bool
    ) -> FindingDraft:
        by_person = pairs.unit == AnalysisUnit.PERSON
        scores = "appraisal scores" if by_person else "departments' mean appraisal scores"
        outcome = "QI goal achievement" if by_person else "the improvement of the measures linked to their goals"
        where = "Across the organisation" if pairs.scope == CorrelationScope.ORGANISATION else f"In {pairs.label}"
        subject = f"{pairs.label}: {'QI goals' if by_person else 'linked measures'} and appraisal scores"
        if negative:
            what = (
                "people who achieve more of their QI goals tend to have lower scores"
                if by_person
                else "departments whose linked measures improved more tend to have lower mean scores"
            )
            message = (
                f"{where}, {scores} in “{cycle_name}” and {outcome} move in opposite directions "
                f"({summary(pairs, result)}): {what}. This is an association, not proof of a cause."
            )
        else:
            how = "move together weakly" if (result.rho or 0) > 0 else "do not move together"
            message = (
                f"{where}, {scores} in “{cycle_name}” and {outcome} {how} ({summary(pairs, result)}); "
                f"a link counts from ρ = {s.as_set(min_rho)}."
            )
        return FindingDraft(
            key=finding_key(department_id=pairs.department_id, unit=pairs.unit, outcome=pairs.outcome),
            severity=Severity.HIGH if negative else Severity.MEDIUM,
            subject_type=SubjectType.CORRELATION,
            subject_id=pairs.department_id,
            subject_label=subject,
            department_id=pairs.department_id,
            message=message,
            details={
                "departments": [pairs.department_id] if pairs.department_id else [],
                "figures": {
                    "link": "negative" if negative else "absent",
                    "rho": round(result.rho or 0, 3),
                    **(
                        {"interval_low": round(result.ci_low, 3), "interval_high": round(result.ci_high, 3)}
                        if result.ci_low is not None and result.ci_high is not None
                        else {}
                    ),
                    "n": result.n,
                    "each_point_is": "one person" if by_person else "one department",
                    "review_cycle": cycle_name,
                    "min_rho": s.number(min_rho),
                },
            },
        )

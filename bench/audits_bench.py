"""Alignment-audit figures for ``python -m bench.run``, after the other benchmarks built the organisation.

- ``audit_10k_s``: HR runs a full alignment audit inline (``start_run(queue=False)``, as the
  worker's task would run it): every enabled rule over the synthetic organisation of 10,000
  people with ~50,000 goals, the launched review cycle and the incentive plan (plus the imported
  org chart beside it), each rule's findings applied in its own transaction, and the alignment
  scores, from "queued" to "succeeded". Target ≤ 30 s.
- ``audit_10k_again_s``: the same audit once more on unchanged data: every finding is confirmed
  (last seen moves on), none is new or closed.
- ``audit_10k_findings``: how many findings the audit opened, for scale.

Before timing, the launched cycle's appraisals get scores (``_score_appraisals``, not timed),
so that the correlation analysis compares 10,000 people's QI goal achievement with their
scores — with the bootstrap, the costliest part of an audit — rather than finding nothing to
compare.

Import this module only after ``django.setup()``.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from appraisals.models import Appraisal
from audits.models import AuditRun, CorrelationResult, Finding, RunState
from audits.services import runs
from people.models import Employee

Figures = dict[str, dict[str, Any]]
TARGETS = {"audit_10k_s": 30}


def _hr_user():  # type: ignore[no-untyped-def]
    """An active HR admin; the benches before this one make the synthetic organisation's top person one."""
    hr = Employee.objects.select_related("user").filter(is_active=True, is_hr_admin=True).order_by("pk").first()
    if hr is None:
        top = (
            Employee.objects.select_related("user").filter(is_active=True, manager__isnull=True).order_by("pk").first()
        )
        if top is None:
            raise ImproperlyConfigured("The audit bench needs an organisation: run the other benches first.")
        Employee.objects.filter(pk=top.pk).update(is_hr_admin=True)
        hr = top
    return hr.user


def _score_appraisals() -> int:
    """Scores for the bench cycle's appraisals (seeded, so every bench run compares the same data)."""
    rng = random.Random(20261125)
    appraisals = list(Appraisal.objects.filter(score__isnull=True).only("pk", "score"))
    for appraisal in appraisals:
        appraisal.score = Decimal(rng.randint(5000, 9800)) / 100
    Appraisal.objects.bulk_update(appraisals, ["score"], batch_size=2000)
    return len(appraisals)


def _timed_run(user) -> tuple[float, AuditRun]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    run = runs.start_run(user=user, queue=False)
    elapsed = time.perf_counter() - started
    if run.state != RunState.SUCCEEDED:
        raise SystemExit(f"The bench audit ended {run.state}: {run.error}")
    return elapsed, run


def bench_audit(results: dict) -> None:
    """Time a full audit over the organisation the bench built; add the figures to ``results``."""
    user = _hr_user()
    people = Employee.objects.filter(is_active=True).count()
    _score_appraisals()
    first, run = _timed_run(user)
    again, rerun = _timed_run(user)
    results["audit_10k_s"] = {
        "value": round(first, 3),
        "unit": "s",
        "measured": f"inline run over {people} active people, {run.total_steps - 1} rules, score {run.alignment_score}",
    }
    results["audit_10k_again_s"] = {
        "value": round(again, 3),
        "unit": "s",
        "measured": f"unchanged data: {rerun.findings_seen} confirmed, {rerun.findings_new} new",
    }
    shown = CorrelationResult.objects.filter(run=run, rho__isnull=False)
    results["audit_10k_correlations"] = {
        "value": shown.count(),
        "unit": "analyses",
        "measured": f"largest n {max(shown.values_list('n', flat=True), default=0)}",
    }
    results["audit_10k_findings"] = {"value": Finding.objects.filter(first_seen_run=run).count(), "unit": "findings"}

"""Storing an audit run's correlation results (the rule computes them; it never writes)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from audits.models import AuditRun, CorrelationResult

BATCH = 500


def store_results(*, run: AuditRun, rows: Sequence[CorrelationResult]) -> list[CorrelationResult]:
    """The run's results, replacing any it already has, so that a rerun leaves one set, not two."""
    for row in rows:
        row.run = run
    with transaction.atomic():
        CorrelationResult.objects.filter(run=run).delete()
        return CorrelationResult.objects.bulk_create(rows, batch_size=BATCH)

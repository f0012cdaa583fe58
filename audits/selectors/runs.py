"""Reads for the alignment audits: the score's history. Who may read them is audits.access."""

from __future__ import annotations

from django.db.models import QuerySet

from audits.models import AuditRun, RunState


def _succeeded() -> QuerySet[AuditRun]:
    return AuditRun.objects.filter(state=RunState.SUCCEEDED, finished_at__isnull=False)


def latest_run() -> AuditRun | None:
    """The latest run that finished successfully: the source of the current score."""
    return _succeeded().order_by("-finished_at", "-pk").first()


def previous_run(run: AuditRun) -> AuditRun | None:
    """The succeeded run that finished before this one, if any (what its score is compared with)."""
    if run.finished_at is None:
        return None
    return (
        _succeeded().filter(finished_at__lt=run.finished_at).exclude(pk=run.pk).order_by("-finished_at", "-pk").first()
    )


def score_trend(limit: int = 30) -> list[AuditRun]:
    """The latest ``limit`` succeeded runs, oldest first, for the score's chart (one query)."""
    latest = list(_succeeded().order_by("-finished_at", "-pk")[:limit])
    latest.reverse()
    return latest

"""Reads for the alignment audits: who may read them, the findings and runs they see, the score's history.

HR admins and quality leads read everything in audits; only HR acts (the services check
that). Everyone else sees nothing: empty querysets for lists, and ``Http404`` for one
finding or run, so that the existence of a finding does not leak. Each function issues a
fixed number of queries.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from audits.models import AuditRun, Finding, RunState
from people import selectors as people

User = AbstractBaseUser | AnonymousUser


def can_read_audits(user: User) -> bool:
    """HR admins and quality leads read the audits; nobody else does."""
    return people.is_hr_admin(user) or people.is_quality_lead(user)


def findings_visible_to(*, user: User) -> QuerySet[Finding]:
    if not can_read_audits(user):
        return Finding.objects.none()
    return Finding.objects.all()


def get_finding(*, user: User, pk: int) -> Finding:
    try:
        return findings_visible_to(user=user).select_related("department").get(pk=pk)
    except Finding.DoesNotExist:
        raise Http404("No such finding.") from None


def runs_visible_to(*, user: User) -> QuerySet[AuditRun]:
    if not can_read_audits(user):
        return AuditRun.objects.none()
    return AuditRun.objects.all()


def get_run(*, user: User, pk: int) -> AuditRun:
    try:
        return runs_visible_to(user=user).get(pk=pk)
    except AuditRun.DoesNotExist:
        raise Http404("No such audit run.") from None


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

"""Reads about recognition and career pathways, scoped by incentives/access.py.

The feed is public to everyone signed in, except hidden posts, which only HR and
the post's author still see. Pathway definitions are readable by everyone signed
in; candidates are HR's.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.access import get_visible_or_404
from incentives import access
from incentives.models.recognition import CandidateStatus, Pathway, PathwayCandidate, Recognition
from people.models import Employee


def get_recognition(*, user, pk: int) -> Recognition:
    return get_visible_or_404(access.recognitions_visible_to(user), pk=pk)


def feed(
    *,
    user,
    department: int | None = None,
    priority: int | None = None,
    person: int | None = None,
) -> QuerySet[Recognition]:
    """The recognition feed, newest first. ``department``: posts to that department or to anyone in it;
    ``priority``: posts linked (through their goal or measure) to that priority; ``person``: posts thanking them."""
    queryset = access.recognitions_visible_to(user)
    if department is not None:
        queryset = queryset.filter(Q(department_id=department) | Q(recipients__department_id=department)).distinct()
    if priority is not None:
        queryset = queryset.filter(priority_id=priority)
    if person is not None:
        queryset = queryset.filter(recipients__id=person).distinct()
    return queryset


def get_pathway(*, user, pk: int) -> Pathway:
    return get_visible_or_404(access.pathways_visible_to(user), pk=pk)


def candidates_for(pathway: Pathway, *, status: str | None = None) -> QuerySet[PathwayCandidate]:
    queryset = pathway.candidates.select_related("employee__department", "decided_by")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def titles_for(employee: Employee) -> list[PathwayCandidate]:
    """The titles this person has been awarded (oldest first), for their profile:
    each row's ``pathway.name`` is the title and ``decided_at`` when it was awarded."""
    return list(
        PathwayCandidate.objects.filter(employee=employee, status=CandidateStatus.AWARDED)
        .select_related("pathway")
        .order_by("decided_at", "pk")
    )


def unread_notifications(employee: Employee) -> QuerySet:
    return employee.notifications.filter(read_at__isnull=True).select_related("recognition")

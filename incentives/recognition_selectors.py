"""Reads about recognition and career pathways.

The feed is public to everyone signed in, except hidden posts, which only HR and
the post's author still see. Pathway definitions are readable by everyone signed
in; candidates are HR's.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from incentives.models.recognition import CandidateStatus, Pathway, PathwayCandidate, Recognition
from people import selectors as people
from people.models import Employee

RECOGNITION_RELATED = ("author", "department", "goal", "measure", "priority", "pathway", "hidden_by")


def recognitions_visible_to(*, user) -> QuerySet[Recognition]:
    queryset = Recognition.objects.select_related(*RECOGNITION_RELATED).prefetch_related(
        Prefetch("recipients", queryset=Employee.objects.select_related("department").order_by("full_name"))
    )
    if not user.is_authenticated:
        return queryset.none()
    if people.is_hr_admin(user):
        return queryset
    employee = people.employee_for_user(user)
    if employee is None:
        return queryset.filter(is_hidden=False)
    return queryset.filter(Q(is_hidden=False) | Q(author=employee))


def get_recognition(*, user, pk: int) -> Recognition:
    try:
        return recognitions_visible_to(user=user).get(pk=pk)
    except Recognition.DoesNotExist:
        raise Http404("No such recognition.") from None


def feed(
    *,
    user,
    department: int | None = None,
    priority: int | None = None,
    person: int | None = None,
) -> QuerySet[Recognition]:
    """The recognition feed, newest first. ``department``: posts to that department or to anyone in it;
    ``priority``: posts linked (through their goal or measure) to that priority; ``person``: posts thanking them."""
    queryset = recognitions_visible_to(user=user)
    if department is not None:
        queryset = queryset.filter(Q(department_id=department) | Q(recipients__department_id=department)).distinct()
    if priority is not None:
        queryset = queryset.filter(priority_id=priority)
    if person is not None:
        queryset = queryset.filter(recipients__id=person).distinct()
    return queryset


def pathways_visible_to(*, user) -> QuerySet[Pathway]:
    if not user.is_authenticated:
        return Pathway.objects.none()
    return Pathway.objects.prefetch_related("competency_levels__competency")


def get_pathway(*, user, pk: int) -> Pathway:
    try:
        return pathways_visible_to(user=user).get(pk=pk)
    except Pathway.DoesNotExist:
        raise Http404("No such pathway.") from None


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

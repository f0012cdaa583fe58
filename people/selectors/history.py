"""Reading the action log (core.models.ActionLogEntry): across the organisation with filters,
or for one record. Who may read it is people.access.can_read_action_log's to say (HR).

Every read here costs a fixed number of queries whatever the number of entries: the entry
keeps the actor's name and the record's name as they were, so a page needs no join but the
content type (cached per request by Django).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from django.utils import timezone

from core.models import ActionLogEntry
from people.models import Employee


@dataclass(frozen=True)
class HistoryFilters:
    """What to narrow the log to; every field is optional."""

    action: str = ""
    kind: str = ""  # "app_label.model", e.g. "cascade.goal"
    object_id: int | None = None  # with kind: one record's history
    actor_id: int | None = None  # the user who acted
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None  # inclusive
    search: str = ""  # in the record's name as it was when the entry was written


def kind_of(obj: Model | type[Model]) -> str:
    """A record's kind as the log's filters spell it: ``app_label.model``."""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}"


def content_type_for_kind(kind: str) -> ContentType | None:
    app_label, _, model = kind.partition(".")
    if not app_label or not model:
        return None
    try:
        return ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None


def entries(filters: HistoryFilters = HistoryFilters()) -> QuerySet[ActionLogEntry]:
    """Entries matching ``filters``, newest first."""
    queryset = ActionLogEntry.objects.select_related("content_type").order_by("-at", "-pk")
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.kind:
        content_type = content_type_for_kind(filters.kind)
        if content_type is None:
            return queryset.none()
        queryset = queryset.filter(content_type=content_type)
        if filters.object_id is not None:
            queryset = queryset.filter(object_id=filters.object_id)
    if filters.actor_id is not None:
        queryset = queryset.filter(actor_id=filters.actor_id)
    if filters.date_from is not None:
        queryset = queryset.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to is not None:
        queryset = queryset.filter(at__lt=_start_of(filters.date_to + datetime.timedelta(days=1)))
    if filters.search:
        queryset = queryset.filter(object_repr__icontains=filters.search)
    return queryset


def entries_for(obj: Model) -> QuerySet[ActionLogEntry]:
    """One record's history, newest first."""
    return entries(HistoryFilters(kind=kind_of(obj), object_id=obj.pk))


def action_names() -> list[str]:
    """Every action the log holds, for the filter's choices (one query)."""
    return list(ActionLogEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def kinds() -> list[tuple[str, str]]:
    """Every kind of record the log holds, as ``(kind, label)`` sorted by label (one query)."""
    ids = ActionLogEntry.objects.order_by().values_list("content_type_id", flat=True).distinct()
    found = []
    for content_type in ContentType.objects.filter(pk__in=ids):
        model = content_type.model_class()
        label = str(model._meta.verbose_name).capitalize() if model else content_type.model
        found.append((f"{content_type.app_label}.{content_type.model}", f"{label} ({content_type.app_label})"))
    return sorted(found, key=lambda pair: pair[1])


def actors() -> QuerySet[Employee]:
    """The people who have acted, by name (for the filter's choices; one query when listed)."""
    acted = ActionLogEntry.objects.filter(actor__isnull=False).values("actor_id")
    return Employee.objects.filter(user_id__in=acted).order_by("full_name")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

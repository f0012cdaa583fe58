"""The history of every record in a review cycle: who changed which field, when, from what to what.

Every service in appraisals.services calls ``record`` for every change it makes,
inside its transaction, so that a change and its history are written together or
not at all. Values are stored JSON-safe (decimals and dates as strings, records
as their ids). HR reads the whole history; the person and their reviewer see the
last change only (appraisals.selectors decides).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from appraisals.models import HistoryEntry, Participant, ReviewCycle

Changes = Mapping[str, tuple[Any, Any]]


def json_safe(value: Any) -> Any:
    """A value as the history stores it: JSON types only."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # "3.50" → "3.5", "100" stays "100" (not "1E+2")
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def entries(
    *,
    cycle: ReviewCycle | int,
    participant: Participant | int | None,
    record: str,
    action: str,
    user,
    changes: Changes | None = None,
) -> list[HistoryEntry]:
    """The unsaved entries ``record`` would write: one per changed field, or one for the action alone."""
    cycle_id = cycle if isinstance(cycle, int) else cycle.pk
    participant_id = participant if participant is None or isinstance(participant, int) else participant.pk
    actor_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    common = {
        "cycle_id": cycle_id,
        "participant_id": participant_id,
        "record": record[:60],
        "action": action[:60],
        "actor_id": actor_id,
    }
    changed = [(field, old, new) for field, (old, new) in (changes or {}).items() if json_safe(old) != json_safe(new)]
    if not changed:
        return [HistoryEntry(**common)]
    return [
        HistoryEntry(**common, field=field[:80], old=json_safe(old), new=json_safe(new)) for field, old, new in changed
    ]


def record(
    *,
    cycle: ReviewCycle | int,
    participant: Participant | int | None,
    record: str,
    action: str,
    user,
    changes: Changes | None = None,
) -> list[HistoryEntry]:
    """Write the history of one change. ``changes`` maps a field to its (old, new) values;
    fields whose values did not change are left out. ``user`` None means the system
    (a scheduled job)."""
    rows = entries(cycle=cycle, participant=participant, record=record, action=action, user=user, changes=changes)
    return HistoryEntry.objects.bulk_create(rows)


def record_many(rows: Iterable[HistoryEntry]) -> int:
    """Write entries built with ``entries`` in one query (bulk services)."""
    return len(HistoryEntry.objects.bulk_create(list(rows), batch_size=2000))


def history_for(participant: Participant | int, *, limit: int | None = None) -> list[HistoryEntry]:
    """One person's history in a cycle, newest first, with who made each change (one query)."""
    participant_id = participant if isinstance(participant, int) else participant.pk
    queryset = HistoryEntry.objects.select_related("actor", "actor__employee").filter(participant_id=participant_id)
    if limit is not None:
        queryset = queryset[:limit]
    return list(queryset)


def last_change(participant: Participant | int) -> HistoryEntry | None:
    """The most recent entry: the "last changed by … on …" line the person and reviewer see."""
    found = history_for(participant, limit=1)
    return found[0] if found else None


def actor_name(entry: HistoryEntry) -> str:
    """Who made a change, as people know them."""
    if entry.actor_id is None:
        return "Throughline (scheduled)"
    employee = getattr(entry.actor, "employee", None)
    return employee.full_name if employee is not None else entry.actor.get_username()

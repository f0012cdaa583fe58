"""The history of every record in a review cycle: who changed which field, when, from what to what.

Every service in appraisals.services calls ``record`` for every change it makes,
inside its transaction, so that a change and its history are written together or
not at all. Values are stored JSON-safe (decimals and dates as strings, records
as their ids). HR reads the whole history; the person and their reviewer see the
last change only (appraisals.selectors decides).

Every change written here is also written to the organisation's one action log
(``core.models.ActionLogEntry``), in the same transaction: one entry per change, on
the participant (a person's records in the cycle) or the cycle itself, named
``appraisals.<record>.<action>`` (``appraisals.appraisal.submitted_self_assessment``),
with the changed fields as old → new and the record's label in ``data``. The field-level
rows stay here too because the cycle's history page filters them by person and field,
and the "last change" line reads them by participant with one indexed query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.utils.text import slugify

from appraisals.models import HistoryEntry, Participant, ReviewCycle
from core.log import current_source, json_safe  # one JSON-safe form for both histories
from core.models import ActionLogEntry

Changes = Mapping[str, tuple[Any, Any]]


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
    written = HistoryEntry.objects.bulk_create(rows)
    _log(written)
    return written


def record_many(rows: Iterable[HistoryEntry]) -> int:
    """Write entries built with ``entries`` in one query (bulk services), and their action log."""
    written = HistoryEntry.objects.bulk_create(list(rows), batch_size=2000)
    _log(written)
    return len(written)


def action_name(record: str, action: str) -> str:
    """The action log's name for a change: ``appraisals.<record kind>.<action>``, e.g.
    ``appraisals.goal.saved`` for the record "goal: Fewer falls" saved."""
    kind = slugify(record.split(":", 1)[0]).replace("-", "_") or "record"
    verb = slugify(action).replace("-", "_") or "changed"
    return f"appraisals.{kind}.{verb}"[:80]


def _log(rows: list[HistoryEntry]) -> int:
    """One action-log entry per change (the history's rows of one record, action and actor),
    on the participant or, for the cycle's own changes, the cycle. A fixed number of queries."""
    if not rows:
        return 0
    groups: dict[tuple, list[HistoryEntry]] = {}
    for row in rows:
        groups.setdefault((row.cycle_id, row.participant_id, row.record, row.action, row.actor_id), []).append(row)
    participant_ids = {key[1] for key in groups if key[1] is not None}
    cycle_ids = {key[0] for key in groups if key[1] is None}
    participants: dict[int, Participant] = {}
    ids = sorted(participant_ids)
    for start in range(0, len(ids), 500):  # in chunks: SQLite caps the parameters of one query
        chunk = Participant.objects.select_related("employee", "cycle").filter(pk__in=ids[start : start + 500])
        participants.update((p.pk, p) for p in chunk)
    cycles = {c.pk: c for c in ReviewCycle.objects.filter(pk__in=cycle_ids)}
    actor_ids = {key[4] for key in groups if key[4] is not None}
    actors = {u.pk: u for u in get_user_model().objects.select_related("employee").filter(pk__in=actor_ids)}
    participant_type = ContentType.objects.get_for_model(Participant)
    cycle_type = ContentType.objects.get_for_model(ReviewCycle)
    source = current_source()[:250]
    log = []
    for (cycle_id, participant_id, record_label, action, actor_id), group in groups.items():
        subject = participants.get(participant_id) if participant_id is not None else cycles.get(cycle_id)
        if subject is None:
            continue
        actor = actors.get(actor_id) if actor_id is not None else None
        log.append(
            ActionLogEntry(
                actor=actor,
                actor_label=_actor_label(actor),
                action=action_name(record_label, action),
                content_type=participant_type if participant_id is not None else cycle_type,
                object_id=subject.pk,
                object_repr=str(subject)[:200],
                changes={row.field: [row.old, row.new] for row in group if row.field},
                data={"record": record_label, "action": action, "cycle": cycle_id},
                source=source,
            )
        )
    ActionLogEntry.objects.bulk_create(log, batch_size=1000)
    return len(log)


def _actor_label(user) -> str:  # type: ignore[no-untyped-def]
    if user is None:
        return ""
    employee = getattr(user, "employee", None)
    label = employee.full_name if employee is not None else user.get_full_name()
    return (label or user.get_username())[:150]


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

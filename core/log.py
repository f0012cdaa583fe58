"""Writing the action log, in the manner of pretix's ``log_action``.

Every service that changes state calls ``log_action`` inside its transaction, so that a
change and its log entry are written together or not at all. Which request or job did it
is read from a context variable that the middleware (requests) and Celery's signals
(jobs) set, so services need not pass it around.
"""

from __future__ import annotations

import contextvars
import datetime
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.formatting import plain
from core.models import ActionLogEntry

Changes = Mapping[str, tuple[Any, Any]]

_source: contextvars.ContextVar[str] = contextvars.ContextVar("action_source", default="")


def json_safe(value: Any) -> Any:
    """A value as the log stores it: JSON types only (decimals and dates as strings, records as ids)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return plain(value)  # "3.50" → "3.5", "100" stays "100" (not "1E+2")
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


def changed(changes: Changes | None) -> dict[str, list[Any]]:
    """Only the fields whose value really changed, as ``{field: [old, new]}``."""
    out: dict[str, list[Any]] = {}
    for field, (old, new) in (changes or {}).items():
        old_safe, new_safe = json_safe(old), json_safe(new)
        if old_safe != new_safe:
            out[field] = [old_safe, new_safe]
    return out


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields' current values (foreign keys by id), to compare after a change."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = getattr(obj, field.attname)
    return values


def diff(before: Mapping[str, Any], obj: models.Model) -> dict[str, tuple[Any, Any]]:
    """``before`` (a snapshot) against the object as it is now."""
    after = snapshot(obj, before.keys())
    return {name: (before[name], after[name]) for name in before}


def _actor(user) -> tuple[Any, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    label = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return user, (label or user.get_username())[:150]


def _repr(obj: models.Model) -> str:
    return str(obj)[:200]


def log_action(
    obj: models.Model,
    action: str,
    *,
    user=None,
    changes: Changes | None = None,
    data: Mapping[str, Any] | None = None,
) -> ActionLogEntry:
    """Write one entry for ``action`` on ``obj``; call it inside the change's transaction."""
    actor, label = _actor(user)
    return ActionLogEntry.objects.create(
        actor=actor,
        actor_label=label,
        action=action[:80],
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=obj.pk,
        object_repr=_repr(obj),
        changes=changed(changes),
        data=json_safe(dict(data or {})),
        source=_source.get()[:250],
    )


def log_actions(objs: Iterable[models.Model], action: str, *, user=None, data: Mapping[str, Any] | None = None) -> int:
    """One entry per object for a bulk change (a launch, a computation): one INSERT per thousand."""
    actor, label = _actor(user)
    source = _source.get()[:250]
    safe = json_safe(dict(data or {}))
    types: dict[type, ContentType] = {}
    rows = []
    for obj in objs:
        model = type(obj)
        if model not in types:
            types[model] = ContentType.objects.get_for_model(model, for_concrete_model=False)
        rows.append(
            ActionLogEntry(
                actor=actor,
                actor_label=label,
                action=action[:80],
                content_type=types[model],
                object_id=obj.pk,
                object_repr=_repr(obj),
                data=safe,
                source=source,
            )
        )
    ActionLogEntry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# ---------------------------------------------------------------- where a change came from


class source:
    """Name the request or job that the entries written inside the block belong to."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._token: contextvars.Token | None = None

    def __enter__(self) -> source:
        self._token = _source.set(self.label)
        return self

    def __exit__(self, *exc) -> None:
        if self._token is not None:
            _source.reset(self._token)


def current_source() -> str:
    return _source.get()


def connect_job_signals() -> None:
    """Entries written by a Celery task carry the task's name and id."""
    from celery import signals

    tokens: dict[str, contextvars.Token] = {}

    def started(task_id=None, task=None, **_):
        tokens[task_id] = _source.set(f"job {getattr(task, 'name', 'task')} · {task_id}")

    def finished(task_id=None, **_):
        token = tokens.pop(task_id, None)
        if token is not None:
            try:
                _source.reset(token)
            except ValueError:  # set in another context (eager tasks nested in a request)
                _source.set("")

    signals.task_prerun.connect(started, weak=False, dispatch_uid="core.log.started")
    signals.task_postrun.connect(finished, weak=False, dispatch_uid="core.log.finished")

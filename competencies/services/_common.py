"""What every competencies service shares: how fields are applied, and optimistic
locking with a ``version`` field (a stale save is a 409). Who may act is asked of
competencies.access."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F

from core.errors import ConflictError

FORM_CONFLICT = (
    "Someone else changed this form while you were editing it. Reload to see their changes; your edits were not saved."
)


def apply(instance: models.Model, data: Mapping[str, object], editable: frozenset[str]) -> None:
    unknown = set(data) - editable
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def check_version(model: type[models.Model], pk: int, expected_version: int | None, message: str | None = None) -> None:
    """Lock the row; refuse (409) if it was saved since ``expected_version`` was read, or is gone."""
    current = model._base_manager.select_for_update().filter(pk=pk).values_list("version", flat=True).first()
    if current is None or (expected_version is not None and current != expected_version):
        raise ConflictError(message) if message else ConflictError()


def save_versioned(
    model: type[models.Model], instance: models.Model, expected_version: int | None, message: str | None = None
) -> None:
    check_version(model, instance.pk, expected_version, message)
    instance.version = F("version") + 1  # type: ignore[attr-defined]
    save_or_explain(instance)
    instance.refresh_from_db(fields=["version"])


def save_or_explain(instance: models.Model, field: str = "name") -> None:
    """Save; a unique constraint lost to a concurrent save becomes a field message, not a 500.

    ``full_clean`` has normally caught the clash already; this covers the race between the two.
    """
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError(
            {field: "Another record with this name was saved at the same time; choose another."}
        ) from None


def stored(model: type[models.Model], pk: int, fields: frozenset[str] | tuple[str, ...]) -> dict[str, object]:
    """The named fields as the database holds them now (foreign keys by id): the "old" of a logged change."""
    names = [model._meta.get_field(name).attname for name in sorted(fields)]
    row = model._base_manager.filter(pk=pk).values(*names).first() or {}
    return {name: row.get(model._meta.get_field(name).attname) for name in sorted(fields)}


def changes_since(before: Mapping[str, object], instance: models.Model) -> dict[str, tuple[object, object]]:
    """``before`` (from ``stored``) against the instance as saved, for ``log_action(changes=...)``."""
    return {name: (old, getattr(instance, instance._meta.get_field(name).attname)) for name, old in before.items()}

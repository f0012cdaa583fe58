"""Rows frozen with the record they belong to (an appraisal's ratings once it is locked, a form
version's rows once it is published): single and bulk writes are refused alike.

A child model inherits ``FrozenChild``, names its parent's foreign key in ``frozen_with`` and
says in ``frozen_refusal(parent_ids)`` why the change is refused (None when it is not).
``save``/``delete`` on one row and ``update``/``delete``/``bulk_create`` on a queryset all ask it,
because bulk writes skip ``save()`` and ``delete()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models

__all__ = ["FrozenChild", "FrozenChildQuerySet"]


class FrozenChildQuerySet(models.QuerySet):
    def _refuse_if_frozen(self, parent_ids: Iterable[Any]) -> None:
        refusal = self.model.frozen_refusal(parent_ids)
        if refusal:
            raise ValidationError(refusal)

    def _parent_ids(self) -> models.QuerySet:
        return self.values(self.model._meta.get_field(self.model.frozen_with).attname)

    def update(self, **kwargs: object) -> int:
        self._refuse_if_frozen(self._parent_ids())
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse_if_frozen(self._parent_ids())
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        objs = list(objs)
        attname = self.model._meta.get_field(self.model.frozen_with).attname
        self._refuse_if_frozen({getattr(obj, attname) for obj in objs})
        return super().bulk_create(objs, *args, **kwargs)


class FrozenChild(models.Model):
    """A row that belongs to a parent record and is frozen with it."""

    frozen_with: ClassVar[str]  # the foreign key to the parent, e.g. "appraisal"

    objects = FrozenChildQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self._refuse_if_frozen()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self._refuse_if_frozen()
        return super().delete(*args, **kwargs)

    @classmethod
    def frozen_refusal(cls, parent_ids: Iterable[Any]) -> str | None:
        """Why rows of these parents may not change now; None when they may."""
        raise NotImplementedError

    def _refuse_if_frozen(self) -> None:
        parent_id = getattr(self, self._meta.get_field(self.frozen_with).attname)
        refusal = type(self).frozen_refusal([parent_id])
        if refusal:
            raise ValidationError(refusal)

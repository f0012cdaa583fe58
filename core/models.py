"""The action log: one row per state change, written in the change's own transaction."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class ActionLogEntry(models.Model):
    """Who did what to which record, when, from what to what, and through which request or job.

    ``changes`` maps a field to ``[old, new]`` (JSON-safe); ``data`` carries what else the
    action needs to be read later (a reason, a count). The record is named by content type
    and id, and its name at the time is kept, so the entry outlives the record.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's name when they acted; kept if the account goes.
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # "POST /goals/12/approve/ · 3f2a…" or "job appraisals.launch_cycle · 9c1e…"
    source = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "action log entry"
        verbose_name_plural = "action log"
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="actionlog_by_object"),
            models.Index(fields=["action", "-at"], name="actionlog_by_action"),
            models.Index(fields=["actor", "-at"], name="actionlog_by_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.object_repr}"

    @property
    def kind(self) -> str:
        """The record's kind as ``app.model`` (e.g. ``cascade.goal``)."""
        return f"{self.content_type.app_label}.{self.content_type.model}"

"""The heartbeat every background job shares: when it last made progress, and when it has stalled.

A job (a cycle's launch, a plan's payout computation, an audit run, an import) is a row
that its Celery task updates as it goes. Each model mixes in ``JobHeartbeat`` and says,
in ``job_under_way``, whether the job is still to finish. The task stamps ``progress_at``
with every progress write (``beat()`` merged into the update), and starting or resuming
a job stamps it too, so a job queued to a broker no worker reads stalls as well.

The one rule: a job is *stalled* when it is under way and has recorded no progress for
``THROUGHLINE_JOB_STALL_AFTER`` seconds. Its worker died (redelivery comes only after the
broker's visibility timeout) or never took it; pages then say so, never that the work
"carries on", and offer HR a Resume that queues the task again. Every job is idempotent,
so resuming one whose worker was merely slow does no harm.

``batches`` is how jobs walk their work, so that a test can slow a job down and kill its
worker half-way: only the killed-worker tests' worker settings (tests/jobs/worker_settings.py)
define THROUGHLINE_JOB_TEST_BATCH and THROUGHLINE_JOB_TEST_PAUSE.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def stall_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.THROUGHLINE_JOB_STALL_AFTER)


def beat() -> dict[str, datetime.datetime]:
    """The field to write with any progress: ``Model.objects.filter(pk=…).update(done=…, **beat())``."""
    return {"progress_at": timezone.now()}


def stalled_since(progress_at: datetime.datetime | None, *, now: datetime.datetime | None = None) -> bool:
    """Whether a job under way whose last progress was at ``progress_at`` has stalled. A job with no
    stamp at all counts as stalled: nothing shows it alive. (Rows made before the stamp existed got
    the migration's time, so a job then under way shows as stalled a few minutes after the upgrade.)"""
    if progress_at is None:
        return True
    return (now or timezone.now()) - progress_at >= stall_after()


def quiet_q(*, now: datetime.datetime | None = None) -> Q:
    """The database form of ``stalled_since`` (combine it with the model's own "under way" filter)."""
    return Q(progress_at__isnull=True) | Q(progress_at__lte=(now or timezone.now()) - stall_after())


class JobHeartbeat(models.Model):
    """``progress_at`` and the stall rule, for a model whose rows are background jobs."""

    # Stamped when the row is made, so a job is fresh when queued; then by every progress write.
    progress_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        editable=False,
        help_text="When the job last recorded progress (or was queued).",
    )

    class Meta:
        abstract = True

    @property
    def job_under_way(self) -> bool:  # pragma: no cover - each job model says
        raise NotImplementedError

    @property
    def is_stalled(self) -> bool:
        return self.job_under_way and stalled_since(self.progress_at)


def pause_for_tests() -> None:
    """After a unit of work, the pause a killed-worker test asks for (none outside tests)."""
    pause = getattr(settings, "THROUGHLINE_JOB_TEST_PAUSE", 0.0)
    if pause:
        time.sleep(pause)


def batches[T](items: Sequence[T], size: int) -> Iterator[tuple[int, Sequence[T]]]:
    """``(start, slice)`` over ``items`` in slices of ``size``. In tests the environment may shrink the
    slices and pause after each, so that a worker can be killed while a job is half-way."""
    size = getattr(settings, "THROUGHLINE_JOB_TEST_BATCH", 0) or size
    for start in range(0, len(items), size):
        yield start, items[start : start + size]
        pause_for_tests()

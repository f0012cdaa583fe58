"""The import runner: which kinds exist, recording an upload, and running it.

Every kind is listed in ``HANDLERS`` below, by hand: adding a kind is one line here and its
module beside this one (see cascade.imports.rows for what a handler declares).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cascade.imports import goals, observations
from cascade.imports.rows import ImportFileError, ImportHandler, Problem, read_rows
from cascade.models import CascadeImport, ImportKind, QualityMeasure
from core import jobs
from core.log import log_action
from core.tabular import Upload, check_upload, read_upload
from people.models import ImportStatus

logger = logging.getLogger(__name__)

HANDLERS: dict[str, ImportHandler] = {
    ImportKind.OBSERVATIONS: observations.HANDLER,
    ImportKind.GOALS: goals.HANDLER,
}


def handler_for(kind: str) -> ImportHandler:
    try:
        return HANDLERS[str(kind)]
    except KeyError:
        raise ValidationError({"file": f"Imports of {kind} are not available."}) from None


# ---------------------------------------------------------------- the whole run


def start_import(
    *,
    user,
    kind: str,
    file_name: str,
    content: Upload,
    measure: QualityMeasure | None = None,
    period=None,
) -> CascadeImport:
    """Record an upload and queue its import once the record is committed. The file is refused
    first (core.tabular.check_upload: size, type, bomb, rows, unreadable cells) as a field error,
    before it is read into memory."""
    from cascade.tasks import run_import as run_import_task  # the task module imports this one

    handler = handler_for(kind)
    if handler.authorize is not None:
        handler.authorize(user, measure=measure, period=period)
    check_upload(file_name, content)  # after the right to upload: no one else makes the server read a file
    with transaction.atomic():
        record = CascadeImport.objects.create(
            kind=kind,
            measure=measure,
            period=period,
            created_by=user,
            file_name=file_name[:255],
            content=read_upload(content),
            **jobs.beat(),
        )
        log_action(record, "import.uploaded", user=user, data={"kind": kind, "file_name": record.file_name})
        transaction.on_commit(lambda: run_import_task.delay(record.pk))
    return record


def import_resume(*, user, record: CascadeImport) -> CascadeImport:
    """The uploader or HR resumes an import that stalled (core.jobs): it is queued again and, as
    nothing of an unfinished import was committed, runs from the start. One that is moving, or was
    resumed a moment ago, is left alone."""
    from cascade.tasks import run_import as run_import_task  # the task module imports this one

    with transaction.atomic():
        current = CascadeImport.objects.select_for_update().get(pk=record.pk)
        if current.is_finished:
            raise ValidationError("This import has finished; there is nothing to resume.")
        if not current.is_stalled:
            return current
        CascadeImport.objects.filter(pk=current.pk).update(**jobs.beat())
        log_action(current, "import.resumed", user=user)
        transaction.on_commit(lambda: run_import_task.delay(current.pk))
    current.refresh_from_db()
    return current


def run_import(import_id: int) -> CascadeImport:
    """Check and apply one uploaded file. Safe to run again: a finished import is left alone,
    and an interrupted one starts over, since nothing of it was committed."""
    record = CascadeImport.objects.select_related("created_by", "measure__department", "period").get(pk=import_id)
    if record.is_finished:
        return record

    def mark(**fields: object) -> None:
        CascadeImport.objects.filter(pk=import_id).update(**fields, **jobs.beat())

    def finish(status: str, problems: list[Problem], **fields: object) -> None:
        with transaction.atomic():
            mark(status=status, errors=[p.as_dict() for p in problems], finished_at=timezone.now(), **fields)
            log_action(
                record,
                f"import.{status}",
                user=record.created_by,
                changes={"status": (record.status, status)},
                data={"problems": len(problems)},
            )

    def reject(problems: list[Problem], **fields: object) -> CascadeImport:
        finish(ImportStatus.REJECTED, problems, **fields)
        return CascadeImport.objects.get(pk=import_id)

    try:
        handler = handler_for(record.kind)
        rows = read_rows(record.file_name, bytes(record.content), handler)
    except ImportFileError as exc:
        return reject([Problem(0, "file", str(exc))])
    except ValidationError as exc:
        return reject([Problem(0, "file", m) for m in exc.messages])
    mark(status=ImportStatus.VALIDATING, total_rows=len(rows), processed_rows=0)
    if not rows:
        return reject([Problem(0, "file", "The file has a header but no rows.")])
    try:
        problems = handler.check(record, rows)
        if problems:
            order = {name: i for i, name in enumerate(handler.columns)}
            problems.sort(key=lambda p: (p.row, order.get(p.field, len(order))))
            return reject(problems, processed_rows=len(rows))
        mark(status=ImportStatus.APPLYING, processed_rows=len(rows))
        with transaction.atomic():
            # A resumed import may race the run it replaced: the second to get here waits for the
            # first to commit, then finds it finished and applies nothing.
            if CascadeImport.objects.select_for_update().get(pk=import_id).is_finished:
                return CascadeImport.objects.get(pk=import_id)
            summary = handler.apply(record, rows)
            mark(status=ImportStatus.SUCCEEDED, summary=summary, finished_at=timezone.now())
            # One entry for the import; the records it created have their own (cascade.services).
            log_action(
                record,
                "import.succeeded",
                user=record.created_by,
                changes={"status": (record.status, ImportStatus.SUCCEEDED)},
                data=summary,
            )
    except (ValidationError, PermissionDenied) as exc:
        # A rule the check could not foresee: the data changed meanwhile, or the uploader lost the right.
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc) or "You may no longer do this."]
        return reject([Problem(0, "file", f"{m} Nothing was changed.") for m in messages])
    except Exception:
        logger.exception("Cascade import %s failed", import_id)
        finish(
            ImportStatus.FAILED,
            [
                Problem(
                    0,
                    "file",
                    "The import stopped on an unexpected error; nothing was changed. "
                    "The error has been logged for your administrator.",
                )
            ],
        )
    return CascadeImport.objects.get(pk=import_id)

"""Target-bonus imports in the background, as the org chart's and the cascade's are.

The upload is refused at once, before anything is recorded, for what the file is (core.tabular:
over the size limit, a zip bomb, more rows than the limit, a CSV cell that cannot be stored) and
for what the plan is (locked, computing); otherwise it is recorded with its bytes and
``incentives.run_target_import`` is queued once the record is committed. The task checks every
row outside any transaction, writing progress, then writes all the amounts in one transaction or
none (incentives.services.plans). HR may resume one that stalled (core.jobs); it starts over.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core import jobs
from core.errors import ConflictError
from core.log import log_action
from core.tabular import Problem, Upload, check_upload, read_upload
from incentives.models import IncentivePlan, TargetBonusImport
from incentives.services import plans
from people.models import ImportStatus

logger = logging.getLogger(__name__)


def target_import_start(*, user, plan: IncentivePlan, file_name: str, content: Upload) -> TargetBonusImport:
    """Record an upload of target bonuses and queue its import once the record is committed."""
    from incentives.tasks import run_target_import  # the task module imports this one

    plans._may_manage_plans(user, "import target bonuses")
    plans._require_setup(plan)
    check_upload(file_name, content)
    with transaction.atomic():
        record = TargetBonusImport.objects.create(
            plan=plan, created_by=user, file_name=file_name[:255], content=read_upload(content), **jobs.beat()
        )
        log_action(record, "target_bonus_import.started", user=user, data={"plan": plan.pk, "file": record.file_name})
        transaction.on_commit(lambda: run_target_import.delay(record.pk))
    return record


def target_import_resume(*, user, record: TargetBonusImport) -> TargetBonusImport:
    """Queue a stalled import again; nothing of it was committed, so it runs from the start. One
    that is moving, or was resumed a moment ago, is left alone."""
    from incentives.tasks import run_target_import  # the task module imports this one

    plans._may_manage_plans(user, "import target bonuses")
    with transaction.atomic():
        current = TargetBonusImport.objects.select_for_update().get(pk=record.pk)
        if current.is_finished:
            raise ValidationError("This import has finished; there is nothing to resume.")
        if not current.is_stalled:
            return current
        TargetBonusImport.objects.filter(pk=current.pk).update(**jobs.beat())
        log_action(current, "target_bonus_import.resumed", user=user)
        transaction.on_commit(lambda: run_target_import.delay(current.pk))
    current.refresh_from_db()
    return current


def run_target_import(import_id: int) -> TargetBonusImport:
    """Check and apply one uploaded file. Safe to run again: a finished import is left alone, and an
    interrupted one starts over."""
    record = TargetBonusImport.objects.select_related("plan", "created_by").get(pk=import_id)
    if record.is_finished:
        return record

    def mark(**fields: object) -> None:
        TargetBonusImport.objects.filter(pk=import_id).update(**fields, **jobs.beat())

    def finish(status: str, problems: list[Problem], **fields: object) -> TargetBonusImport:
        with transaction.atomic():
            mark(status=status, errors=[p.as_dict() for p in problems], finished_at=timezone.now(), **fields)
            log_action(
                record, f"target_bonus_import.{status}", user=record.created_by, data={"problems": len(problems)}
            )
        return TargetBonusImport.objects.get(pk=import_id)

    def file_problems(exc: ValidationError) -> list[Problem]:
        return [Problem(0, "file", message) for message in exc.messages]

    try:
        rows = plans.read_target_file(record.file_name, bytes(record.content))
    except ValidationError as exc:
        return finish(ImportStatus.REJECTED, file_problems(exc))
    if not rows:
        return finish(ImportStatus.REJECTED, [Problem(0, "file", "The file has a header but no rows.")])
    mark(status=ImportStatus.VALIDATING, total_rows=len(rows), processed_rows=0)
    every = settings.THROUGHLINE_IMPORT_PROGRESS_EVERY

    def progress(done: int) -> None:
        if done % every == 0:
            mark(processed_rows=done)

    try:
        clean, problems = plans.check_target_rows(rows, on_progress=progress)
        if problems:
            return finish(ImportStatus.REJECTED, problems, processed_rows=len(rows))
        mark(status=ImportStatus.APPLYING, processed_rows=len(rows))
        with transaction.atomic():
            # A resumed import may race the run it replaced: the second here finds it finished.
            if TargetBonusImport.objects.select_for_update().get(pk=import_id).is_finished:
                return TargetBonusImport.objects.get(pk=import_id)
            count = plans.write_imported_targets(record.plan, clean, user=record.created_by, file_name=record.file_name)
            summary = {"imported": count}
            mark(status=ImportStatus.SUCCEEDED, summary=summary, finished_at=timezone.now())
            log_action(record, "target_bonus_import.succeeded", user=record.created_by, data=summary)
    except (ValidationError, PermissionDenied, ConflictError) as exc:
        # The plan changed meanwhile (locked, computing) or the uploader lost the right.
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc) or "You may no longer do this."]
        return finish(ImportStatus.REJECTED, [Problem(0, "file", f"{m} Nothing was imported.") for m in messages])
    except Exception:
        logger.exception("Target-bonus import %s failed", import_id)
        return finish(
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
    return TargetBonusImport.objects.get(pk=import_id)

"""HR's actions on a finding: acknowledge it (it stays on the list) or resolve it (a comment says how).

Both are HR's only, take the version HR read (a stale one raises ConflictError and changes
nothing) and act only on an active finding: one the audit has closed, or HR has already
resolved, is history. Each action is kept as a FindingEvent with who, when and the comment.

A resolved finding is no longer active, so if the next audit still finds the problem it
opens a new finding and says that HR had resolved the earlier one (audits/services/runs.py).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audits import access
from audits.models import Finding, FindingAction, FindingEvent, FindingStatus
from core.errors import ConflictError
from core.log import log_action
from people import access as people

COMMENT_MAX = 4000


def acknowledge(*, user, finding: Finding, comment: str, expected_version: int | None) -> Finding:
    """HR has seen the finding and owns it; it stays on the list until it no longer holds or is resolved."""
    return _act(
        user=user,
        finding=finding,
        comment=comment,
        expected_version=expected_version,
        status=FindingStatus.ACKNOWLEDGED,
        action=FindingAction.ACKNOWLEDGED,
        comment_required=False,
    )


def resolve(*, user, finding: Finding, comment: str, expected_version: int | None) -> Finding:
    """HR dealt with the finding; the comment (required) says how."""
    return _act(
        user=user,
        finding=finding,
        comment=comment,
        expected_version=expected_version,
        status=FindingStatus.RESOLVED,
        action=FindingAction.RESOLVED,
        comment_required=True,
    )


def _act(
    *,
    user,
    finding: Finding,
    comment: str,
    expected_version: int | None,
    status: FindingStatus,
    action: FindingAction,
    comment_required: bool,
) -> Finding:
    if not access.can_act_on_findings(user, finding):
        raise PermissionDenied(access.ACT_MESSAGE)
    comment = (comment or "").strip()
    if comment_required and not comment:
        raise ValidationError({"comment": "Say how it was resolved: a comment is required to resolve a finding."})
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": f"Keep the comment under {COMMENT_MAX} characters."})
    by = people.employee_for_user(user)
    with transaction.atomic():
        # The audit run locks a rule's active findings while it applies them: this waits for it.
        current = Finding.objects.select_for_update().get(pk=finding.pk)
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        if not current.is_active:
            state = "no longer holds (an audit closed it)" if current.status == FindingStatus.CLOSED else "is resolved"
            raise ValidationError(f"This finding {state}: only an open or acknowledged finding can change.")
        if status == FindingStatus.ACKNOWLEDGED and current.status == FindingStatus.ACKNOWLEDGED:
            raise ValidationError("This finding is already acknowledged.")
        now = timezone.now()
        was = current.status
        current.status = status
        current.comment = comment
        current.acted_by = by
        current.acted_at = now
        current.version = F("version") + 1
        current.save(update_fields=["status", "comment", "acted_by", "acted_at", "version"])
        FindingEvent.objects.create(finding=current, action=action, by=by, comment=comment)
        log_action(
            current, f"finding.{action}", user=user, changes={"status": (was, status)}, data={"comment": comment}
        )
    current.refresh_from_db()
    return current

"""The cycle's summary rows (appraisals.models.CycleTally): recounted, in the caller's
transaction, by every service that changes what they count.

A recount reads the truth (the participants and their records) after taking the summary
rows' locks, so two changes in the same department at once cannot lose a count: the second
waits for the first to commit, then counts again with its change visible (READ COMMITTED
takes a fresh snapshot per statement). Rows are locked in department order, so recounts
never deadlock one another. One person's change recounts their department; launches and
bulk moves recount the whole cycle in one grouped query.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q

from appraisals.models import AppraisalState, CycleTally, Participant

STATE_FIELDS = {
    AppraisalState.DRAFT: "draft",
    AppraisalState.SELF_ASSESSMENT: "self_assessment",
    AppraisalState.MANAGER_REVIEW: "manager_review",
    AppraisalState.DIALOGUE: "dialogue",
    AppraisalState.ACKNOWLEDGED: "acknowledged_state",
    AppraisalState.LOCKED: "locked",
}
COUNTED = [
    "participants",
    "no_appraisal",
    *STATE_FIELDS.values(),
    "check_ins_held",
    "plans_agreed",
    "acknowledged",
]


def _counts() -> dict[str, Count]:
    """What one row holds, as annotations on Participant rows grouped by department."""
    return {
        "participants": Count("pk"),
        "no_appraisal": Count("pk", filter=Q(appraisal__isnull=True)),
        **{name: Count("pk", filter=Q(appraisal__state=state)) for state, name in STATE_FIELDS.items()},
        "check_ins_held": Count("pk", filter=Q(check_in__completed_at__isnull=False)),
        "plans_agreed": Count("pk", filter=Q(development_plan__agreed_at__isnull=False)),
        "acknowledged": Count("pk", filter=Q(appraisal__acknowledged_at__isnull=False)),
    }


def _recount(cycle_id: int, department_ids: set[int] | None) -> None:
    """Recount ``department_ids`` of the cycle (None: every department), under the rows' locks."""
    participants = Participant.objects.filter(cycle_id=cycle_id)
    if department_ids is not None:
        participants = participants.filter(employee__department_id__in=department_ids)
    with transaction.atomic():
        if department_ids is None:
            department_ids = set(participants.values_list("employee__department_id", flat=True).distinct())
            department_ids |= set(CycleTally.objects.filter(cycle_id=cycle_id).values_list("department_id", flat=True))
        # Every row exists before it is locked (a concurrent creator's insert is skipped, not doubled).
        CycleTally.objects.bulk_create(
            [CycleTally(cycle_id=cycle_id, department_id=pk) for pk in sorted(department_ids)], ignore_conflicts=True
        )
        rows = list(
            CycleTally.objects.select_for_update()
            .filter(cycle_id=cycle_id, department_id__in=department_ids)
            .order_by("department_id")
        )
        found = {
            row.pop("employee__department_id"): row
            for row in participants.values("employee__department_id").annotate(**_counts()).order_by()
        }
        for row in rows:
            counts = found.get(row.department_id, {})
            for name in COUNTED:
                setattr(row, name, counts.get(name, 0))
        CycleTally.objects.bulk_update(rows, COUNTED)
        # Departments nobody of the cycle belongs to any more keep no row.
        CycleTally.objects.filter(cycle_id=cycle_id, department_id__in=department_ids, participants=0).delete()


def refresh_for(participant: Participant | int) -> None:
    """Recount the department of one participant (after their appraisal, check-in or plan changed)."""
    pk = participant if isinstance(participant, int) else participant.pk
    found = Participant.objects.filter(pk=pk).values_list("cycle_id", "employee__department_id").first()
    if found is not None:
        _recount(found[0], {found[1]})


def refresh_departments(cycle_id: int, department_ids: Iterable[int]) -> None:
    """Recount some departments of the cycle (people added to it)."""
    ids = set(department_ids)
    if ids:
        _recount(cycle_id, ids)


def rebuild(cycle_id: int) -> None:
    """Recount every department of the cycle (a launch, a bulk move, or ``rebuild_cycle_tallies``)."""
    _recount(cycle_id, None)

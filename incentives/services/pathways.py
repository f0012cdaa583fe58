"""Career pathways: HR's definitions, who meets them, and HR's decision on each candidate.

A pathway's criteria (each with 0 / no rows meaning "not a criterion"; at least
one must be set), all drawn from history:

- achieved QI goals: the person's individual goals closed as *achieved* with the
  result signed off (by the approver or HR, or by the goal's measure) in the
  goal periods of the ``goal_cycles`` most recent closed review cycles, at least
  ``min_achieved_goals`` of them (every goal sits under a quality priority);
- competency levels: for each ``PathwayCompetency``, a manager rating of at least
  ``min_rating`` for that competency in one of the person's locked appraisals;
- recognitions received: at least ``min_recognitions`` visible thanks posts
  naming the person;
- development actions: at least ``min_development_actions`` of the person's
  development actions marked done.

``find_candidates`` (the nightly job) proposes everyone active who meets every
criterion of an active pathway and has no candidacy for it yet; HR confirms
(the title is awarded and announced in the feed) or declines with a reason (the
row stays, so the person is not proposed again for that pathway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from appraisals.models import ActionStatus, AppraisalState, CompetencyRating, CycleState, DevelopmentAction, ReviewCycle
from cascade.models import Goal, GoalLevel, GoalStatus
from competencies.models import Competency
from core.access import deny_unless
from core.formatting import plain
from core.inputs import check_length
from core.log import diff, log_action, log_actions, snapshot
from incentives import access
from incentives.models.recognition import (
    CandidateStatus,
    Pathway,
    PathwayCandidate,
    PathwayCompetency,
    Recognition,
    RecognitionKind,
)
from incentives.services import recognition as recognition_service
from people.access import employee_for_user
from people.models import Employee

PATHWAY_FIELDS = (
    "name",
    "description",
    "is_active",
    "min_achieved_goals",
    "goal_cycles",
    "min_recognitions",
    "min_development_actions",
)


def _deciding_hr(user) -> Employee | None:
    deny_unless(access.can_manage_pathways(user), access.PATHWAYS_MESSAGE)
    return employee_for_user(user)


# ---------------------------------------------------------------- definitions


def _too_long(name: str) -> str:
    try:
        check_length(name, model=Pathway, field="name")
    except ValidationError as error:
        return error.messages[0]
    return ""


def _validate(pathway: Pathway, levels: Sequence[tuple[Competency, Decimal]]) -> None:
    errors: dict[str, str] = {}
    if not (pathway.name or "").strip():
        errors["name"] = "Give the title a name."
    elif too_long := _too_long(pathway.name):
        errors["name"] = too_long
    elif Pathway.objects.filter(name__iexact=pathway.name.strip()).exclude(pk=pathway.pk).exists():
        errors["name"] = "There is already a pathway with this name."
    if pathway.goal_cycles < 1:
        errors["goal_cycles"] = "Count achieved goals over at least one closed cycle."
    if not (pathway.min_achieved_goals or pathway.min_recognitions or pathway.min_development_actions or levels):
        errors["criteria"] = (
            "Set at least one criterion: achieved QI goals, a competency level, recognitions or development actions."
        )
    competencies = [c.pk for c, _ in levels]
    if len(set(competencies)) != len(competencies):
        errors["competency_levels"] = "Name each competency once."
    if any(Decimal(level) <= 0 for _, level in levels):
        errors["competency_levels"] = "A minimum rating is a positive number."
    if errors:
        raise ValidationError(errors)


def save_pathway(
    *,
    user,
    pathway: Pathway | None = None,
    data: dict,
    levels: Sequence[tuple[Competency, Decimal]] | None = None,
) -> Pathway:
    """Create (``pathway`` None) or change a pathway. ``levels``: the competency levels, replacing
    the existing ones when given."""
    _deciding_hr(user)
    pathway = pathway or Pathway()
    created = pathway.pk is None
    before = snapshot(pathway, PATHWAY_FIELDS) if not created else {}
    for field in PATHWAY_FIELDS:
        if field in data:
            value = data[field]
            setattr(pathway, field, value.strip() if isinstance(value, str) else value)
    current = (
        [(row.competency, row.min_rating) for row in pathway.competency_levels.select_related("competency")]
        if pathway.pk
        else []
    )
    new_levels = list(levels) if levels is not None else current
    _validate(pathway, new_levels)
    with transaction.atomic():
        if pathway.pk:
            pathway.version += 1
        pathway.save()
        if levels is not None:
            pathway.competency_levels.all().delete()
            PathwayCompetency.objects.bulk_create(
                PathwayCompetency(pathway=pathway, competency=c, min_rating=Decimal(m)) for c, m in new_levels
            )
        if created:
            log_action(
                pathway,
                "pathway.created",
                user=user,
                data={**snapshot(pathway, PATHWAY_FIELDS), "competency_levels": _level_lines(new_levels)},
            )
        else:
            changes = diff(before, pathway)
            if levels is not None:
                changes["competency_levels"] = (_level_lines(current), _level_lines(new_levels))
            log_action(pathway, "pathway.updated", user=user, changes=changes)
    return pathway


def _level_lines(levels: Sequence[tuple[Competency, Decimal]]) -> list[str]:
    return [f"{competency.name} ≥ {plain(level)}" for competency, level in levels]


def delete_pathway(*, user, pathway: Pathway) -> None:
    _deciding_hr(user)
    if pathway.candidates.filter(status=CandidateStatus.AWARDED).exists():
        raise ValidationError("People hold this title; make the pathway inactive instead of deleting it.")
    with transaction.atomic():
        log_action(pathway, "pathway.deleted", user=user, data=snapshot(pathway, PATHWAY_FIELDS))
        pathway.delete()


# ---------------------------------------------------------------- criteria


def _counts(rows: Iterable[tuple[int, int]]) -> dict[int, int]:
    return {pk: n for pk, n in rows if pk is not None}


def closed_periods(cycles: int) -> list[int]:
    """The goal periods of the ``cycles`` most recent closed review cycles."""
    return list(
        ReviewCycle.objects.filter(state=CycleState.CLOSED)
        .order_by("-end", "-pk")
        .values_list("period_id", flat=True)[:cycles]
    )


def evaluate(pathway: Pathway, employee_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """Who meets every criterion of the pathway: {employee id: evidence}. A handful of grouped
    queries, whatever the number of people. ``employee_ids`` narrows the people considered."""
    people_qs = Employee.objects.filter(is_active=True)
    if employee_ids is not None:
        people_qs = people_qs.filter(pk__in=list(employee_ids))
    eligible: set[int] = set(people_qs.values_list("pk", flat=True))
    evidence: dict[int, dict] = {pk: {} for pk in eligible}

    def keep(found: dict[int, object], key: str) -> None:
        nonlocal eligible
        eligible &= set(found)
        for pk in eligible:
            evidence[pk][key] = found[pk]

    if pathway.min_achieved_goals:
        periods = closed_periods(pathway.goal_cycles)
        rows = (
            Goal.objects.filter(
                level=GoalLevel.INDIVIDUAL,
                status=GoalStatus.ACHIEVED,
                # Only a signed-off result counts: the owner's own "achieved" is a claim (PRODUCT.md).
                result_signed_off_at__isnull=False,
                period_id__in=periods,
                owner_id__in=eligible,
            )
            .values("owner_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=pathway.min_achieved_goals)
            .values_list("owner_id", "n")
        )
        keep(_counts(rows), "achieved_goals")
    levels = list(pathway.competency_levels.select_related("competency"))
    if levels:
        reached: dict[int, dict[str, str]] = {pk: {} for pk in eligible}
        for level in levels:
            rows = (
                CompetencyRating.objects.filter(
                    appraisal__state=AppraisalState.LOCKED,
                    form_competency__competency_id=level.competency_id,
                    manager_rating__gte=level.min_rating,
                    appraisal__participant__employee_id__in=eligible,
                )
                .values("appraisal__participant__employee_id")
                .annotate(best=Max("manager_rating"))
                .values_list("appraisal__participant__employee_id", "best")
            )
            found = dict(rows)
            eligible &= set(found)
            for pk in eligible:
                reached[pk][level.competency.name] = str(Decimal(found[pk]).quantize(Decimal("0.01")))
        for pk in eligible:
            evidence[pk]["competencies"] = reached[pk]
    if pathway.min_recognitions:
        through = Recognition.recipients.through
        rows = (
            through.objects.filter(
                recognition__kind=RecognitionKind.THANKS, recognition__is_hidden=False, employee_id__in=eligible
            )
            .values("employee_id")
            .annotate(n=Count("recognition_id", distinct=True))
            .filter(n__gte=pathway.min_recognitions)
            .values_list("employee_id", "n")
        )
        keep(_counts(rows), "recognitions")
    if pathway.min_development_actions:
        rows = (
            DevelopmentAction.objects.filter(status=ActionStatus.DONE, plan__participant__employee_id__in=eligible)
            .values("plan__participant__employee_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=pathway.min_development_actions)
            .values_list("plan__participant__employee_id", "n")
        )
        keep(_counts(rows), "development_actions")
    if not (pathway.min_achieved_goals or levels or pathway.min_recognitions or pathway.min_development_actions):
        return {}
    return {pk: evidence[pk] for pk in sorted(eligible)}


def find_candidates(pathways: Iterable[Pathway] | None = None) -> list[PathwayCandidate]:
    """The nightly job: propose everyone newly eligible for each active pathway. Nobody is proposed
    twice for one pathway (whatever became of the first candidacy). Returns the new candidates."""
    pathways = list(pathways) if pathways is not None else list(Pathway.objects.filter(is_active=True))
    created: list[PathwayCandidate] = []
    for pathway in pathways:
        found = evaluate(pathway)
        known = set(pathway.candidates.values_list("employee_id", flat=True))
        new = [
            PathwayCandidate(pathway=pathway, employee_id=pk, evidence=evidence)
            for pk, evidence in found.items()
            if pk not in known
        ]
        if not new:
            continue
        with transaction.atomic():
            # ignore_conflicts: a run alongside this one may have proposed some of them (no ids come back).
            PathwayCandidate.objects.bulk_create(new, ignore_conflicts=True)
            proposed = list(
                pathway.candidates.filter(employee_id__in=[c.employee_id for c in new], status=CandidateStatus.PENDING)
                .select_related("pathway", "employee")
                .order_by("employee_id")
            )
            log_actions(proposed, "pathway_candidate.proposed", data={"pathway": pathway.pk})
        created += proposed
    return created


# ---------------------------------------------------------------- decisions


def _pending(candidate: PathwayCandidate) -> PathwayCandidate:
    candidate = PathwayCandidate.objects.select_for_update().select_related("pathway", "employee").get(pk=candidate.pk)
    if candidate.status != CandidateStatus.PENDING:
        raise ValidationError(f"This candidate was already {candidate.get_status_display().lower()}.")
    return candidate


def confirm(*, user, candidate: PathwayCandidate, send_email: bool = True) -> PathwayCandidate:
    """HR awards the title: it shows on the person's profile and is announced in the feed."""
    hr = _deciding_hr(user)
    with transaction.atomic():
        candidate = _pending(candidate)
        candidate.status = CandidateStatus.AWARDED
        candidate.decided_at = timezone.now()
        candidate.decided_by = hr
        candidate.save(update_fields=["status", "decided_at", "decided_by"])
        log_action(
            candidate,
            "pathway_candidate.awarded",
            user=user,
            changes={"status": (CandidateStatus.PENDING, candidate.status)},
            data={"pathway": candidate.pathway_id, "employee": candidate.employee_id},
        )
        recognition_service.announce_award(candidate=candidate, send_email=send_email)
    return candidate


def decline(*, user, candidate: PathwayCandidate, reason: str) -> PathwayCandidate:
    """HR declines, with a reason; the person is not proposed again for this pathway."""
    hr = _deciding_hr(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the candidate is declined; the reason is kept."})
    with transaction.atomic():
        candidate = _pending(candidate)
        candidate.status = CandidateStatus.DECLINED
        candidate.decline_reason = reason
        candidate.decided_at = timezone.now()
        candidate.decided_by = hr
        candidate.save(update_fields=["status", "decline_reason", "decided_at", "decided_by"])
        log_action(
            candidate,
            "pathway_candidate.declined",
            user=user,
            changes={"status": (CandidateStatus.PENDING, candidate.status)},
            data={"pathway": candidate.pathway_id, "employee": candidate.employee_id, "reason": reason},
        )
    return candidate

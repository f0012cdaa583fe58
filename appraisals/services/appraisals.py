"""Writes for appraisals: saving drafts, the workflow steps, locking, and next-cycle goals.

    draft → self_assessment → manager_review → dialogue → acknowledged → locked
          (start)      (submit self)   (submit review)  (acknowledge)  (lock: HR / cycle close)

The reviewer shares their ratings (and so the score) with the employee during the
manager review or the dialogue; the employee acknowledges only what was shared.

Every step locks the appraisal's row (``select_for_update``), refuses a stale
``expected_version`` with ConflictError (409) and a wrong state with a
ValidationError saying why, checks who is acting (PermissionDenied), writes its
history (appraisals.history) and bumps the version, all in one transaction:
nothing is ever half-written. A locked appraisal never changes by any path; the
models refuse it too (``Appraisal.save``, ``AppraisalPart.save``, their querysets).
Who may do what is appraisals.access's; the score is appraisals.scoring's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from appraisals import history, scoring
from appraisals.access import AppraisalAccess, access_for, can_lock
from appraisals.models import (
    LOCKED_MESSAGE,
    Appraisal,
    AppraisalState,
    CompetencyRating,
    DialogueAnswer,
    GoalRating,
    Participant,
    ReviewCycle,
    ToDoKind,
)
from appraisals.services import tallies, todos
from cascade.models import Approval, Goal, GoalKind, GoalLevel, GoalStatus, PriorityStatus, QualityPriority
from competencies.models import DialogueQuestion, FormCompetency, QuestionKey, ScaleLevel
from core.access import deny_unless
from core.errors import ConflictError
from core.formatting import plain

HR_ONLY_ACTIONS = (
    "HR reads appraisals and changes them only through HR actions, such as closing the cycle; "
    "the person and their reviewer write the appraisal."
)
GOAL_TITLE_MAX = 200

# ---------------------------------------------------------------- locking and bookkeeping


def _lock(appraisal: Appraisal, expected_version: int | None) -> Appraisal:
    """Lock the row and bring ``appraisal`` up to date with it; refuse a locked or stale one."""
    current = Appraisal.objects.select_for_update().get(pk=appraisal.pk)
    for field in Appraisal._meta.concrete_fields:
        setattr(appraisal, field.attname, getattr(current, field.attname))
    if appraisal.state == AppraisalState.LOCKED:
        raise ValidationError(LOCKED_MESSAGE)
    if expected_version is not None and appraisal.version != expected_version:
        raise ConflictError()
    return appraisal


def _save(appraisal: Appraisal, fields: set[str]) -> None:
    appraisal.version = F("version") + 1
    appraisal.save(update_fields=sorted(fields | {"version", "updated_at"}))
    appraisal.refresh_from_db(fields=["version", "updated_at"])


def _record(appraisal: Appraisal, *, record: str, action: str, user, changes=None) -> None:  # type: ignore[no-untyped-def]
    participant = appraisal.participant
    history.record(
        cycle=participant.cycle_id,
        participant=participant.pk,
        record=record,
        action=action,
        user=user,
        changes=changes,
    )


def _name(participant: Participant) -> str:
    return participant.employee.full_name


def _refuse_outsider(access: AppraisalAccess, participant: Participant) -> None:
    """HR and skip-level managers read; they never write the appraisal itself."""
    if access.is_hr and not (access.is_employee or access.is_reviewer):
        raise PermissionDenied(HR_ONLY_ACTIONS)
    if not (access.is_employee or access.is_reviewer):
        raise PermissionDenied(
            f"You can read this appraisal, but only {_name(participant)} and their reviewer write it."
        )


def _store_score(appraisal: Appraisal) -> dict[str, tuple[Any, Any]]:
    result = scoring.score(appraisal)
    changes = {"score": (appraisal.score, result.total)}
    appraisal.score = result.total
    appraisal.score_breakdown = result.breakdown
    return changes


# ---------------------------------------------------------------- saving a draft


def _closed_message(appraisal: Appraisal, access: AppraisalAccess) -> str:
    """Why the user's side of the appraisal cannot be written in its current state."""
    state = appraisal.state
    if access.is_employee:
        if state == AppraisalState.DRAFT:
            return "Your self-assessment opens when the cycle's Study phase begins."
        if state == AppraisalState.MANAGER_REVIEW:
            return "Your self-assessment has been submitted, so it can no longer change."
        if state == AppraisalState.DIALOGUE:
            return "Your self-assessment has been submitted; during the dialogue you can write the answers and your comment."
        return "The appraisal has been acknowledged, so it can no longer change."
    if state in (AppraisalState.DRAFT, AppraisalState.SELF_ASSESSMENT):
        return f"The review opens once {_name(appraisal.participant)} has submitted their self-assessment."
    return "The appraisal has been acknowledged, so the review can no longer change."


def _rating(value: object, levels: list[Decimal], field: str, label: str, scale_name: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError({field: f"{label}: {value!r} is not a rating."})
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{label}: {value!r} is not a rating."}) from None
    for level in levels:
        if number.is_finite() and level == number:
            return level
    allowed = ", ".join(plain(level) for level in levels)
    raise ValidationError({field: f"{label}: {value} is not a level of the scale “{scale_name}” ({allowed})."})


def _text(value: object, field: str, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: f"{label}: text is expected."})
    return value.strip()


def _key(raw: object, field: str) -> int:
    try:
        return int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValidationError({field: f"{raw!r} is not an id."}) from None


def _items(value: Mapping | None, field: str) -> dict[int, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({field: "Expected a mapping of ids to values."})
    return {_key(raw, field): item for raw, item in value.items()}


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for name, messages in exc.message_dict.items():
        errors.setdefault(name, []).extend(messages)


def _levels(scale_ids: set[int]) -> dict[int, tuple[str, list[Decimal]]]:
    levels: dict[int, tuple[str, list[Decimal]]] = {}
    for scale_id, scale_name, value in (
        ScaleLevel.objects.filter(scale_id__in=scale_ids)
        .order_by("order")
        .values_list("scale_id", "scale__name", "value")
    ):
        levels.setdefault(scale_id, (scale_name, []))[1].append(value)
    return levels


def _rating_rows(
    *,
    appraisal: Appraisal,
    model: type[GoalRating] | type[CompetencyRating],
    key_field: str,
    items: dict[int, Any],
    targets: dict[int, tuple[str, int | None]],
    side: str,
    text_name: str,
    field: str,
    levels: dict[int, tuple[str, list[Decimal]]],
    errors: dict[str, list[str]],
) -> list[tuple[Any, dict[str, tuple[Any, Any]], str]]:
    """Validated changes to goal or competency ratings: (row, {field: (old, new)}, label) for each changed row."""
    existing = {
        getattr(row, key_field): row for row in model.objects.filter(appraisal=appraisal, **{f"{key_field}__in": items})
    }
    rating_field, text_field = f"{side}_rating", f"{side}_{text_name}"
    changed = []
    for pk, item in items.items():
        where = f"{field}.{pk}"
        if pk not in targets:
            what = "goal of this person in the cycle" if model is GoalRating else "competency on this appraisal form"
            errors.setdefault(field, []).append(f"{pk} is not a {what}.")
            continue
        label, scale_id = targets[pk]
        if not isinstance(item, Mapping):
            errors.setdefault(where, []).append(f"{label}: expected “rating” and “{text_name}”.")
            continue
        unknown = sorted(set(item) - {"rating", text_name})
        if unknown:
            errors.setdefault(where, []).append(f"{label}: unknown field(s) {', '.join(unknown)}.")
            continue
        row = existing.get(pk) or model(appraisal=appraisal, **{key_field: pk})
        changes: dict[str, tuple[Any, Any]] = {}
        try:
            if "rating" in item:
                scale_name, values = levels.get(scale_id, ("", [])) if scale_id else ("", [])
                if scale_id is None or not values:
                    raise ValidationError({f"{where}.rating": f"{label}: this section has no rating scale."})
                new = _rating(item["rating"], values, f"{where}.rating", label, scale_name)
                if new != getattr(row, rating_field):
                    changes[rating_field] = (getattr(row, rating_field), new)
            if text_name in item:
                new_text = _text(item[text_name], f"{where}.{text_name}", label)
                if new_text != getattr(row, text_field):
                    changes[text_field] = (getattr(row, text_field), new_text)
        except ValidationError as exc:
            _merge(errors, exc)
            continue
        if changes:
            changed.append((row, changes, label))
    return changed


def appraisal_save_draft(
    *,
    user,
    appraisal: Appraisal,
    expected_version: int | None,
    goal_ratings: Mapping[int, Mapping[str, Any]] | None = None,
    competency_ratings: Mapping[int, Mapping[str, Any]] | None = None,
    answers: Mapping[int, Any] | None = None,
    employee_comment: str | None = None,
) -> Appraisal:
    """Save what the user may write in the appraisal's current state, all of it or nothing.

    ``goal_ratings`` is keyed by goal id, ``competency_ratings`` by form competency
    (row) id: ``{"rating": Decimal | None, "comment" / "evidence": str}``; only the keys
    given change. The employee writes the self side, the reviewer the manager side.
    ``answers`` is keyed by dialogue question id (a text, or ``{"text": ...}``);
    ``employee_comment`` is the employee's, during the dialogue. A rating must be one
    of its scale's level values. Once the review has been submitted or shared, a
    change to the manager's ratings recomputes the stored score.
    """
    goal_items = _items(goal_ratings, "goal_ratings")
    competency_items = _items(competency_ratings, "competency_ratings")
    answer_items = _items(answers, "answers")
    with transaction.atomic():
        _lock(appraisal, expected_version)
        participant = appraisal.participant
        access = access_for(user, participant, appraisal)
        if not access.can_read:
            raise PermissionDenied("You cannot see this appraisal.")
        _refuse_outsider(access, participant)
        if (goal_items or competency_items) and not (access.can_edit_self or access.can_edit_manager):
            raise ValidationError(_closed_message(appraisal, access))
        if answer_items and not access.can_edit_answers:
            raise ValidationError({"answers": _closed_message(appraisal, access)})
        if employee_comment is not None and not access.can_comment:
            message = (
                "Only the person appraised writes this comment."
                if not access.is_employee
                else "You can comment on the appraisal during the dialogue."
            )
            raise ValidationError({"employee_comment": message})
        side = "self" if access.is_employee else "manager"
        version = participant.form_version
        errors: dict[str, list[str]] = {}

        goal_changes: list = []
        competency_changes: list = []
        rows: list[FormCompetency] = []
        if goal_items or competency_items:
            rows = list(FormCompetency.objects.filter(version=version).select_related("competency"))
            levels = _levels({version.goals_scale_id, *(row.scale_id for row in rows)} - {None})
        if goal_items:
            goals = {g.pk: (g.title, version.goals_scale_id) for g in scoring.appraised_goals(participant)}
            goal_changes = _rating_rows(
                appraisal=appraisal,
                model=GoalRating,
                key_field="goal_id",
                items=goal_items,
                targets=goals,
                side=side,
                text_name="comment",
                field="goal_ratings",
                levels=levels,
                errors=errors,
            )
        if competency_items:
            targets = {row.pk: ((row.frozen or {}).get("name") or row.competency.name, row.scale_id) for row in rows}
            competency_changes = _rating_rows(
                appraisal=appraisal,
                model=CompetencyRating,
                key_field="form_competency_id",
                items=competency_items,
                targets=targets,
                side=side,
                text_name="evidence",
                field="competency_ratings",
                levels=levels,
                errors=errors,
            )
        answer_changes = _answer_changes(appraisal, answer_items, errors) if answer_items else []
        comment_change = None
        if employee_comment is not None:
            try:
                new_comment = _text(employee_comment, "employee_comment", "Your comment")
            except ValidationError as exc:
                _merge(errors, exc)
            else:
                if new_comment != appraisal.employee_comment:
                    comment_change = (appraisal.employee_comment, new_comment)
        if errors:
            raise ValidationError(errors)

        for kind, changes in (("goal", goal_changes), ("competency", competency_changes)):
            for row, fields, label in changes:
                for name, (_old, new) in fields.items():
                    setattr(row, name, new)
                row.save()
                _record(appraisal, record=f"{kind}: {label}", action="saved", user=user, changes=fields)
        for answer, (old, new), question in answer_changes:
            answer.text = new
            answer.save()
            _record(
                appraisal, record=f"dialogue: {question.key}", action="saved", user=user, changes={"text": (old, new)}
            )
        fields: set[str] = set()
        if comment_change is not None:
            appraisal.employee_comment = comment_change[1]
            fields.add("employee_comment")
            _record(
                appraisal, record="appraisal", action="saved", user=user, changes={"employee_comment": comment_change}
            )
        manager_changed = side == "manager" and bool(goal_changes or competency_changes)
        if manager_changed and (appraisal.manager_submitted_at or appraisal.shared_at):
            score_change = _store_score(appraisal)
            fields |= {"score", "score_breakdown"}
            _record(appraisal, record="appraisal", action="score recomputed", user=user, changes=score_change)
        if fields or goal_changes or competency_changes or answer_changes:
            _save(appraisal, fields)
    return appraisal


def _answer_changes(appraisal: Appraisal, items: dict[int, Any], errors: dict[str, list[str]]) -> list:
    questions = {q.pk: q for q in DialogueQuestion.objects.filter(version_id=appraisal.participant.form_version_id)}
    existing = {a.question_id: a for a in DialogueAnswer.objects.filter(appraisal=appraisal, question_id__in=items)}
    changes = []
    for pk, item in items.items():
        if pk not in questions:
            errors.setdefault("answers", []).append(f"{pk} is not a question on this appraisal form.")
            continue
        value = item.get("text") if isinstance(item, Mapping) else item
        try:
            text = _text(value, f"answers.{pk}.text", questions[pk].text)
        except ValidationError as exc:
            _merge(errors, exc)
            continue
        answer = existing.get(pk) or DialogueAnswer(appraisal=appraisal, question_id=pk)
        if text != answer.text:
            changes.append((answer, (answer.text, text), questions[pk]))
    return changes


# ---------------------------------------------------------------- what a submission needs


@dataclass(frozen=True)
class Blank:
    """A rating still empty on one side that the form needs before that side is submitted."""

    field: str  # the key the API and the page file the message under, e.g. "goal_ratings.12.rating"
    section: str  # "Goals" or "Competencies"
    label: str  # the goal's title or the competency's name
    anchor: str  # the id of the item's heading on the appraisal page


def blank_ratings(appraisal: Appraisal, *, side: str) -> list[Blank]:
    """The ratings still empty on ``side`` ("self" or "manager"), goals first, in the page's order.

    Every goal the appraisal rates needs a rating when the form's goals section has a
    scale, and every competency on the form needs one; comments and evidence may stay
    empty (the page marks them optional). A submission with blanks is refused, since
    a blank self-assessment, once submitted, cannot be taken back.
    """
    participant = appraisal.participant
    version = participant.form_version
    rows = list(FormCompetency.objects.filter(version=version).select_related("competency"))
    rated = _levels({version.goals_scale_id, *(row.scale_id for row in rows)} - {None})
    rating_field = f"{side}_rating"
    blanks: list[Blank] = []
    if version.goals_scale_id in rated:
        goals = list(scoring.appraised_goals(participant).values_list("pk", "title"))
        done = set(
            GoalRating.objects.filter(appraisal=appraisal, **{f"{rating_field}__isnull": False}).values_list(
                "goal_id", flat=True
            )
        )
        blanks += [
            Blank(field=f"goal_ratings.{pk}.rating", section="Goals", label=title, anchor=f"goal-{pk}-title")
            for pk, title in goals
            if pk not in done
        ]
    done = set(
        CompetencyRating.objects.filter(appraisal=appraisal, **{f"{rating_field}__isnull": False}).values_list(
            "form_competency_id", flat=True
        )
    )
    blanks += [
        Blank(
            field=f"competency_ratings.{row.pk}.rating",
            section="Competencies",
            label=(row.frozen or {}).get("name") or row.competency.name,
            anchor=f"competency-{row.pk}-title",
        )
        for row in rows
        if row.scale_id in rated and row.pk not in done
    ]
    return blanks


def _refuse_blanks(appraisal: Appraisal, *, side: str, what: str) -> None:
    """Refuse a submission with ratings still empty, naming each one (400 with field messages in the API)."""
    blanks = blank_ratings(appraisal, side=side)
    if not blanks:
        return
    count = len(blanks)
    errors: dict[str, list[str]] = {
        NON_FIELD_ERRORS: [
            f"Not submitted: {count} rating{'s are' if count != 1 else ' is'} still blank. Rate every goal and "
            f"competency before you submit {what}; comments and evidence may stay empty."
        ]
    }
    for blank in blanks:
        errors[blank.field] = [f"{blank.label}: choose a rating before you submit {what}."]
    raise ValidationError(errors)


# ---------------------------------------------------------------- the workflow steps


def _step(appraisal: Appraisal, user, *, record_action: str, changes: dict[str, tuple[Any, Any]]) -> None:  # type: ignore[no-untyped-def]
    for name, (_old, new) in changes.items():
        setattr(appraisal, name, new)
    _save(appraisal, set(changes) | ({"score_breakdown"} if "score" in changes else set()))
    _record(appraisal, record="appraisal", action=record_action, user=user, changes=changes)
    if "state" in changes:
        tallies.refresh_for(appraisal.participant_id)


def appraisal_start(*, appraisal: Appraisal, user=None) -> Appraisal:  # type: ignore[no-untyped-def]
    """Open the self-assessment (draft → self_assessment) when the Study phase begins. ``user`` None: the scheduler."""
    with transaction.atomic():
        _lock(appraisal, None)
        if appraisal.state != AppraisalState.DRAFT:
            raise ValidationError("The self-assessment has already been opened.")
        _step(
            appraisal,
            user,
            record_action="opened the self-assessment",
            changes={"state": (appraisal.state, AppraisalState.SELF_ASSESSMENT)},
        )
    return appraisal


def start_study(*, cycle: ReviewCycle, user=None) -> int:  # type: ignore[no-untyped-def]
    """Open every draft appraisal of the cycle (the Study phase begins); safe to run again. Returns how many."""
    with transaction.atomic():
        drafts = Appraisal.objects.select_for_update().filter(participant__cycle=cycle, state=AppraisalState.DRAFT)
        ids = list(drafts.values_list("pk", "participant_id"))
        if not ids:
            return 0
        Appraisal.objects.filter(pk__in=[pk for pk, _ in ids]).update(
            state=AppraisalState.SELF_ASSESSMENT, version=F("version") + 1, updated_at=timezone.now()
        )
        history.record_many(
            entry
            for _, participant_id in ids
            for entry in history.entries(
                cycle=cycle,
                participant=participant_id,
                record="appraisal",
                action="opened the self-assessment",
                user=user,
                changes={"state": (AppraisalState.DRAFT, AppraisalState.SELF_ASSESSMENT)},
            )
        )
        tallies.rebuild(cycle.pk)
    return len(ids)


def appraisal_submit_self(*, user, appraisal: Appraisal, expected_version: int | None) -> Appraisal:
    """The employee hands their self-assessment to the reviewer (self_assessment → manager_review)."""
    with transaction.atomic():
        _lock(appraisal, expected_version)
        access = access_for(user, appraisal.participant, appraisal)
        if not access.is_employee:
            raise PermissionDenied(f"Only {_name(appraisal.participant)} can submit their self-assessment.")
        if appraisal.state == AppraisalState.DRAFT:
            raise ValidationError("The self-assessment has not opened yet: it opens when the Study phase begins.")
        if appraisal.state != AppraisalState.SELF_ASSESSMENT:
            raise ValidationError("The self-assessment has already been submitted.")
        _refuse_blanks(appraisal, side="self", what="your self-assessment")
        _step(
            appraisal,
            user,
            record_action="submitted the self-assessment",
            changes={
                "state": (appraisal.state, AppraisalState.MANAGER_REVIEW),
                "self_submitted_at": (None, timezone.now()),
            },
        )
        todos.complete_todos(participant=appraisal.participant, kind=ToDoKind.SELF_ASSESSMENT)
    return appraisal


def appraisal_submit_review(*, user, appraisal: Appraisal, expected_version: int | None) -> Appraisal:
    """The reviewer completes their review (manager_review → dialogue); the score is computed and stored."""
    with transaction.atomic():
        _lock(appraisal, expected_version)
        access = access_for(user, appraisal.participant, appraisal)
        if not access.is_reviewer:
            raise PermissionDenied(f"Only the reviewer of {_name(appraisal.participant)} can submit the review.")
        if appraisal.state in (AppraisalState.DRAFT, AppraisalState.SELF_ASSESSMENT):
            raise ValidationError(
                f"The review opens once {_name(appraisal.participant)} has submitted their self-assessment."
            )
        if appraisal.state != AppraisalState.MANAGER_REVIEW:
            raise ValidationError("The review has already been submitted.")
        _refuse_blanks(appraisal, side="manager", what="your review")
        changes = {
            "state": (appraisal.state, AppraisalState.DIALOGUE),
            "manager_submitted_at": (None, timezone.now()),
            **_store_score(appraisal),
        }
        _step(appraisal, user, record_action="submitted the review", changes=changes)
        todos.complete_todos(participant=appraisal.participant, kind=ToDoKind.MANAGER_REVIEW)
    return appraisal


def appraisal_share(*, user, appraisal: Appraisal, expected_version: int | None) -> Appraisal:
    """The reviewer shows their ratings, comments and the score to the employee (manager_review or dialogue)."""
    with transaction.atomic():
        _lock(appraisal, expected_version)
        access = access_for(user, appraisal.participant, appraisal)
        if not access.is_reviewer:
            raise PermissionDenied(f"Only the reviewer of {_name(appraisal.participant)} can share the ratings.")
        if appraisal.shared_at is not None:
            raise ValidationError("The ratings have already been shared.")
        if appraisal.state in (AppraisalState.DRAFT, AppraisalState.SELF_ASSESSMENT):
            raise ValidationError(
                "There is nothing to share yet: the review opens once the self-assessment has been submitted."
            )
        changes = {"shared_at": (None, timezone.now()), **_store_score(appraisal)}
        _step(appraisal, user, record_action="shared the ratings", changes=changes)
        # The employee now has something to do: read the review and acknowledge it.
        todos.todo_add(participant=appraisal.participant, kind=ToDoKind.ACKNOWLEDGE)
    return appraisal


def appraisal_acknowledge(*, user, appraisal: Appraisal, expected_version: int | None, comment: str = "") -> Appraisal:
    """The employee confirms they have seen the review, with an optional comment (dialogue → acknowledged)."""
    with transaction.atomic():
        _lock(appraisal, expected_version)
        access = access_for(user, appraisal.participant, appraisal)
        if not access.is_employee:
            raise PermissionDenied(f"Only {_name(appraisal.participant)} can acknowledge their appraisal.")
        if appraisal.state == AppraisalState.ACKNOWLEDGED:
            raise ValidationError("The appraisal has already been acknowledged.")
        if appraisal.state != AppraisalState.DIALOGUE:
            raise ValidationError("There is nothing to acknowledge yet: the review has not been submitted.")
        if appraisal.shared_at is None:
            raise ValidationError("Your reviewer has not shared their ratings yet; you can acknowledge once they have.")
        changes: dict[str, tuple[Any, Any]] = {
            "state": (appraisal.state, AppraisalState.ACKNOWLEDGED),
            "acknowledged_at": (None, timezone.now()),
        }
        comment = _text(comment, "comment", "Your comment")
        if comment and comment != appraisal.employee_comment:
            changes["employee_comment"] = (appraisal.employee_comment, comment)
        _step(appraisal, user, record_action="acknowledged the appraisal", changes=changes)
        todos.complete_todos(participant=appraisal.participant, kind=ToDoKind.ACKNOWLEDGE)
    return appraisal


def appraisal_lock(*, appraisal: Appraisal, user, expected_version: int | None = None) -> Appraisal:
    """Make the appraisal final, from any state (HR, or the cycle closing: ``user`` None); the final score is stored."""
    if user is not None:
        deny_unless(can_lock(user), "Only HR admins can lock an appraisal.")
    with transaction.atomic():
        current = Appraisal.objects.select_for_update().filter(pk=appraisal.pk).values_list("state", flat=True).first()
        if current == AppraisalState.LOCKED:
            raise ValidationError("The appraisal is already locked.")
        _lock(appraisal, expected_version)
        changes = {
            "state": (appraisal.state, AppraisalState.LOCKED),
            "locked_at": (None, timezone.now()),
            **_store_score(appraisal),
        }
        _step(appraisal, user, record_action="locked", changes=changes)
    return appraisal


def lock_cycle(*, cycle: ReviewCycle, user=None) -> int:  # type: ignore[no-untyped-def]
    """Lock every appraisal of the cycle not locked yet, each with its final score; safe to run again.

    For closing a cycle: a fixed number of queries per thousand appraisals. Returns how many it locked.
    """
    if user is not None:
        deny_unless(can_lock(user), "Only HR admins can close a cycle.")
    with transaction.atomic():
        open_ids = list(
            Appraisal.objects.select_for_update()
            .filter(participant__cycle=cycle)
            .exclude(state=AppraisalState.LOCKED)
            .values_list("pk", flat=True)
        )
        appraisals = list(
            Appraisal.objects.select_related("participant__cycle", "participant__form_version").filter(pk__in=open_ids)
        )
        scores = scoring.score_many(appraisals)
        now = timezone.now()
        entries = []
        for appraisal in appraisals:
            result = scores[appraisal.pk]
            entries += history.entries(
                cycle=cycle,
                participant=appraisal.participant_id,
                record="appraisal",
                action="locked",
                user=user,
                changes={
                    "state": (appraisal.state, AppraisalState.LOCKED),
                    "locked_at": (None, now),
                    "score": (appraisal.score, result.total),
                },
            )
            appraisal.state = AppraisalState.LOCKED
            appraisal.locked_at = now
            appraisal.score = result.total
            appraisal.score_breakdown = result.breakdown
            appraisal.version += 1
            appraisal.updated_at = now
        Appraisal.objects.bulk_update(
            appraisals, ["state", "locked_at", "score", "score_breakdown", "version", "updated_at"], batch_size=500
        )
        history.record_many(entries)
        tallies.rebuild(cycle.pk)
    return len(appraisals)


# ---------------------------------------------------------------- next-cycle goals

_BULLET = re.compile(r"^\s*(?:[-*•–·]|\d+[.)])\s+")


def next_cycle_goal_texts(appraisal: Appraisal) -> list[str]:
    """The next-cycle QI goals agreed in the dialogue: one per non-empty line, bullets and repeats removed."""
    texts = DialogueAnswer.objects.filter(appraisal=appraisal, question__key=QuestionKey.NEXT_CYCLE_GOALS).values_list(
        "text", flat=True
    )
    return _split_goals("\n".join(texts))


def _split_goals(text: str) -> list[str]:
    goals: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        title = _BULLET.sub("", line).strip()[:GOAL_TITLE_MAX].strip()
        if title and title.casefold() not in seen:
            seen.add(title.casefold())
            goals.append(title)
    return goals


def carry_next_cycle_goals(*, from_cycle: ReviewCycle, to_cycle: ReviewCycle) -> int:
    """Turn the next-cycle QI goals written in ``from_cycle``'s dialogues into draft goals of ``to_cycle``.

    For each person in both cycles, one draft individual goal per line of their
    answer, in ``to_cycle``'s period, weight 1 (to be set when they plan), under the
    priority their previous goals served most by weight (else the first active
    priority) and, when their department has a goal for that priority in the new
    period, under that department goal. A person who already has a goal with that
    title in the new period gets no second one, so running this again creates
    nothing twice. Returns how many goals it created (a fixed number of queries).
    """
    if from_cycle.pk == to_cycle.pk:
        raise ValidationError("Next-cycle goals go from one cycle to another, not to the same cycle.")
    with transaction.atomic():
        participants = {
            p.employee_id: p
            for p in Participant.objects.filter(cycle=to_cycle, employee__cycle_participations__cycle=from_cycle)
            .select_related("employee")
            .order_by("pk")
        }
        texts: dict[int, list[str]] = defaultdict(list)
        for employee_id, text in DialogueAnswer.objects.filter(
            appraisal__participant__cycle=from_cycle,
            appraisal__participant__employee_id__in=participants,
            question__key=QuestionKey.NEXT_CYCLE_GOALS,
        ).values_list("appraisal__participant__employee_id", "text"):
            texts[employee_id].append(text)
        wanted = {employee_id: _split_goals("\n".join(t)) for employee_id, t in texts.items()}
        wanted = {employee_id: titles for employee_id, titles in wanted.items() if titles}
        if not wanted:
            return 0
        active = set(QualityPriority.objects.filter(status=PriorityStatus.ACTIVE).values_list("pk", flat=True))
        fallback = QualityPriority.objects.filter(status=PriorityStatus.ACTIVE).order_by("title", "pk").first()
        served: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for owner_id, priority_id, weight in (
            Goal.objects.filter(owner_id__in=wanted, period_id=from_cycle.period_id)
            .exclude(status=GoalStatus.CANCELLED)
            .values_list("owner_id", "priority_id", "weight")
        ):
            if priority_id in active:
                served[owner_id][priority_id] += weight
        department_goals: dict[tuple[int, int], int] = {}
        for pk, priority_id, department_id in (
            Goal.objects.filter(level=GoalLevel.FUNCTIONAL, period_id=to_cycle.period_id)
            .exclude(status=GoalStatus.CANCELLED)
            .order_by("-weight", "pk")
            .values_list("pk", "priority_id", "department_id")
        ):
            department_goals.setdefault((priority_id, department_id), pk)
        taken = {
            (owner_id, title.casefold())
            for owner_id, title in Goal.objects.filter(owner_id__in=wanted, period_id=to_cycle.period_id).values_list(
                "owner_id", "title"
            )
        }
        goals, entries = [], []
        for employee_id, titles in wanted.items():
            participant = participants[employee_id]
            weights = served.get(employee_id)
            priority_id = (
                min(weights, key=lambda pk: (-weights[pk], pk)) if weights else (fallback.pk if fallback else None)
            )
            if priority_id is None:
                continue  # no active priority to hang a goal under
            department_id = participant.employee.department_id
            for title in titles:
                if (employee_id, title.casefold()) in taken:
                    continue
                taken.add((employee_id, title.casefold()))
                goals.append(
                    Goal(
                        level=GoalLevel.INDIVIDUAL,
                        title=title,
                        description=f"Agreed in the {from_cycle.name} appraisal dialogue as a next-cycle QI goal.",
                        priority_id=priority_id,
                        parent_goal_id=department_goals.get((priority_id, department_id)),
                        department_id=department_id,
                        owner_id=employee_id,
                        period_id=to_cycle.period_id,
                        weight=1,
                        kind=GoalKind.PROCESS,
                        approval=Approval.DRAFT,
                    )
                )
                entries += history.entries(
                    cycle=to_cycle,
                    participant=participant.pk,
                    record=f"goal: {title}",
                    action=f"carried over from {from_cycle.name}",
                    user=None,
                    changes={"title": (None, title)},
                )
        Goal.objects.bulk_create(goals, batch_size=1000)
        history.record_many(entries)
    return len(goals)

"""Writes for appraisal forms: the form, its draft version's sections and rows,
publishing, retiring, and starting a new draft from a published version.

HR admins only (competencies.access). Every change is written to the action log in its
transaction — on the form, or on the version for its content, rows and status. Every change to a draft (its weights, a competency row, a
question) goes through ``_lock_draft``: it locks the version's row, refuses a
stale ``expected_version`` with a 409 (ConflictError) and anything but a draft
with a message, and bumps the version afterwards — so two people editing one
draft are told, not silently merged. ``expected_version=None`` skips the
staleness check (for callers that read and write in one step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify

from competencies import access
from competencies.models import (
    AppraisalForm,
    Competency,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    Methodology,
    QuestionKey,
    RatingScale,
    VersionStatus,
)
from competencies.services import validation
from competencies.services._common import FORM_CONFLICT, apply, changes_since, check_version, save_or_explain, stored
from core.access import deny_unless
from core.log import log_action
from people.access import employee_for_user
from people.models import Employee

# The performance dialogue every new form starts with; ``key`` lets later steps
# find a question whatever HR renames it to (appraisals turn the answers to
# "next_cycle_goals" into draft goals for the next cycle).
DEFAULT_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    (
        QuestionKey.SUCCESSES,
        "Which of your improvement efforts made a measurable difference this cycle?",
        "Name the change, the measure that moved and by how much. Small tests of change count.",
    ),
    (
        QuestionKey.LEARNING_MOMENTS,
        "Which efforts fell short, and what did you learn from them?",
        "A test that did not work is still a result: say what it taught you and the team, not who was at fault.",
    ),
    (
        QuestionKey.NEXT_CYCLE_GOALS,
        "What improvement goals will you take on next cycle?",
        "Agree one to three stretching goals, each linked to a quality priority. They become draft goals "
        "for the next cycle.",
    ),
    (
        QuestionKey.PEER_SHARING,
        "What practice from your work should other teams hear about, and how will you share it?",
        "A huddle, a ward round, a short write-up on the intranet: say who would benefit.",
    ),
)


@dataclass(frozen=True)
class CompetencySpec:
    """A competency row of a draft; ``scale`` None means the goals section's scale."""

    competency: Competency
    weight: int
    scale: RatingScale | None = None


@dataclass(frozen=True)
class QuestionSpec:
    """A dialogue question; a blank ``key`` is made from the text."""

    text: str
    help_text: str = ""
    key: str = ""


def _may_build(user) -> None:  # type: ignore[no-untyped-def]
    deny_unless(access.can_build_forms(user), access.FORMS_ONLY_HR)


def _log(version: FormVersion, action: str, *, user, changes=None, data=None) -> None:  # type: ignore[no-untyped-def]
    """An entry on the version, naming its form and number (a discarded draft's entries keep them)."""
    log_action(
        version,
        f"form_version.{action}",
        user=user,
        changes=changes,
        data={"form": version.form_id, "number": version.number, **(data or {})},
    )


# ---------------------------------------------------------------- forms

FORM_FIELDS = frozenset({"name", "description", "methodology"})
VERSION_FIELDS = frozenset({"goals_weight", "competencies_weight", "goals_scale"})
WEIGHT_FIELDS = frozenset({"goals_weight", "competencies_weight"})


def form_create(
    *,
    user,
    name: str,
    description: str = "",
    methodology: str = Methodology.GENERIC,
    goals_scale: RatingScale | None = None,
) -> AppraisalForm:
    """A new form with its first draft (goals 60, competencies 40, the four seeded dialogue questions).

    The draft is ``selectors.draft_of(form)``.
    """
    _may_build(user)
    form = AppraisalForm()
    apply(form, {"name": name, "description": description, "methodology": methodology}, FORM_FIELDS)
    with transaction.atomic():
        form.full_clean()
        save_or_explain(form)
        draft = FormVersion.objects.create(form=form, number=1, goals_scale=goals_scale)
        _write_questions(draft, [QuestionSpec(text=t, help_text=h, key=k) for k, t, h in DEFAULT_QUESTIONS])
        log_action(
            form,
            "appraisal_form.created",
            user=user,
            data={"name": form.name, "methodology": form.methodology, "goals_scale": goals_scale, "draft": 1},
        )
    return form


def form_update(
    *, user, form: AppraisalForm, expected_version: int | None, data: Mapping[str, object]
) -> AppraisalForm:
    """Name, description and methodology: the form's label, not a version's content."""
    _may_build(user)
    with transaction.atomic():
        check_version(AppraisalForm, form.pk, expected_version, FORM_CONFLICT)
        before = stored(AppraisalForm, form.pk, FORM_FIELDS)
        apply(form, data, FORM_FIELDS)
        form.full_clean()
        form.version = F("version") + 1
        save_or_explain(form)
        form.refresh_from_db(fields=["version"])
        log_action(form, "appraisal_form.updated", user=user, changes=changes_since(before, form))
    return form


def form_delete(*, user, form: AppraisalForm) -> None:
    """Only a form that was never published; a published one is retired instead."""
    _may_build(user)
    with transaction.atomic():
        if form.versions.exclude(status=VersionStatus.DRAFT).exists():
            raise ValidationError(
                f"“{form.name}” has been published, so it cannot be deleted; retire it instead, "
                "so that appraisals made with it keep their form."
            )
        log_action(form, "appraisal_form.deleted", user=user, data={"name": form.name, "rules": form.rules.count()})
        form.rules.all().delete()
        for draft in form.versions.all():
            draft.delete()
        form.delete()


def form_start_new_draft(*, user, form: AppraisalForm) -> FormVersion:
    """Editing a published form: a new draft copying the published version (or the latest one).

    A form has at most one draft; asking for a second is refused, naming the first.
    """
    _may_build(user)
    with transaction.atomic():
        # Serialises two admins pressing "edit" at once: the second sees the first one's draft.
        AppraisalForm.objects.select_for_update().filter(pk=form.pk).first()
        existing = form.versions.filter(status=VersionStatus.DRAFT).first()
        if existing is not None:
            raise ValidationError(
                f"Version {existing.number} of “{form.name}” is already a draft; edit that one instead."
            )
        source = (
            form.versions.filter(status=VersionStatus.PUBLISHED).first() or form.versions.order_by("-number").first()
        )
        number = (form.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        try:
            with transaction.atomic():
                draft = _copy(source, form, number)
        except IntegrityError:
            raise ValidationError(f"“{form.name}” already has a draft; reload to see it.") from None
        _log(draft, "draft_started", user=user, data={"copied_from": source.number if source else None})
    return draft


def _copy(source: FormVersion | None, form: AppraisalForm, number: int) -> FormVersion:
    if source is None:
        draft = FormVersion.objects.create(form=form, number=number)
        _write_questions(draft, [QuestionSpec(text=t, help_text=h, key=k) for k, t, h in DEFAULT_QUESTIONS])
        return draft
    draft = FormVersion.objects.create(
        form=form,
        number=number,
        goals_weight=source.goals_weight,
        goals_scale_id=source.goals_scale_id,
        competencies_weight=source.competencies_weight,
    )
    FormCompetency.objects.bulk_create(
        FormCompetency(version=draft, competency_id=row.competency_id, weight=row.weight, scale_id=row.scale_id,
                       order=row.order)
        for row in source.competencies.all()
    )  # fmt: skip
    DialogueQuestion.objects.bulk_create(
        DialogueQuestion(version=draft, key=q.key, text=q.text, help_text=q.help_text, order=q.order)
        for q in source.questions.all()
    )
    return draft


# ---------------------------------------------------------------- the draft's sections


def _lock_draft(version: FormVersion, expected_version: int | None) -> None:
    check_version(FormVersion, version.pk, expected_version, FORM_CONFLICT)
    version.refresh_from_db()
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(version.frozen_message())


def _touch(version: FormVersion) -> None:
    FormVersion.objects.filter(pk=version.pk).update(version=F("version") + 1, updated_at=timezone.now())
    version.refresh_from_db(fields=["version", "updated_at"])


def _save_draft(version: FormVersion) -> None:
    version.version = F("version") + 1
    version.save()
    version.refresh_from_db(fields=["version", "updated_at"])


def _rows(version: FormVersion) -> list[FormCompetency]:
    return list(version.competencies.select_related("competency", "scale").order_by("order", "pk"))


def _clean_version(version: FormVersion) -> None:
    version.full_clean(exclude=["form", "published_by"], validate_constraints=False)


def draft_update(
    *, user, version: FormVersion, expected_version: int | None, data: Mapping[str, object]
) -> FormVersion:
    """Set any of ``goals_weight``, ``competencies_weight`` and ``goals_scale``.

    When a section weight is given, the two section weights must then total 100.
    """
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        before = stored(FormVersion, version.pk, VERSION_FIELDS)
        apply(version, data, VERSION_FIELDS)
        _clean_version(version)
        if WEIGHT_FIELDS & set(data):
            _refuse_section_total(version)
        _save_draft(version)
        _log(version, "edited", user=user, changes=changes_since(before, version))
    return version


def draft_set_weights(
    *,
    user,
    version: FormVersion,
    expected_version: int | None,
    goals_weight: int,
    competencies_weight: int,
    competency_weights: Mapping[int, int] | None = None,
) -> FormVersion:
    """The builder's weights in one step: both sections and, if given, every competency row
    (row id → weight). Sections must total 100, and so must the competencies; otherwise
    nothing is saved and the message gives the numbers that are off."""
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        before = stored(FormVersion, version.pk, WEIGHT_FIELDS)
        version.goals_weight, version.competencies_weight = goals_weight, competencies_weight
        _clean_version(version)
        problems: dict[str, list[str]] = {}
        section = validation.section_weights_problem(goals_weight, competencies_weight)
        if section:
            problems["weights"] = [section]
        rows = _rows(version)
        old_weights = {row.competency.name: row.weight for row in rows}
        if competency_weights is not None:
            if set(competency_weights) != {row.pk for row in rows}:
                raise ValidationError(
                    {"competencies": "Give a weight for each competency on the form, and only those."}
                )
            for row in rows:
                row.weight = competency_weights[row.pk]
            messages = _row_weight_problems(rows)
            total = validation.competency_weights_problem([(row.competency.name, row.weight) for row in rows])
            messages += [total] if total else []
            if messages:
                problems["competencies"] = messages
        if problems:
            raise ValidationError(problems)
        _save_draft(version)
        changes = changes_since(before, version)
        if competency_weights is not None:
            FormCompetency.objects.bulk_update(rows, ["weight"])
            changes["competency_weights"] = (old_weights, {row.competency.name: row.weight for row in rows})
        _log(version, "edited", user=user, changes=changes)
    return version


def _refuse_section_total(version: FormVersion) -> None:
    problem = validation.section_weights_problem(version.goals_weight, version.competencies_weight)
    if problem:
        raise ValidationError({"weights": problem})


def _row_weight_problems(rows: Iterable[FormCompetency]) -> list[str]:
    return [
        f"“{row.competency.name}” needs a weight between 1 and 100, not {row.weight}."
        for row in rows
        if not isinstance(row.weight, int) or not 1 <= row.weight <= 100
    ]


# ---------------------------------------------------------------- competency rows


def draft_add_competency(
    *,
    user,
    version: FormVersion,
    expected_version: int | None,
    competency: Competency,
    weight: int,
    scale: RatingScale | None = None,
) -> FormCompetency:
    """Add a competency at the end. Weights need not total 100 until publishing (the builder shows the sum)."""
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        if competency.is_retired:
            raise ValidationError({"competency": f"“{competency.name}” is retired, so it cannot be added to a form."})
        if version.competencies.filter(competency=competency).exists():
            raise ValidationError({"competency": f"“{competency.name}” is already on this form."})
        scale = scale or version.goals_scale
        if scale is None:
            raise ValidationError({"scale": "Choose the rating scale for this competency."})
        top = version.competencies.aggregate(top=Max("order"))["top"]
        row = FormCompetency(
            version=version, competency=competency, weight=weight, scale=scale, order=0 if top is None else top + 1
        )
        row.full_clean(exclude=["version", "competency", "scale"], validate_constraints=False)
        row.save()
        _touch(version)
        _log(
            version,
            "competency_added",
            user=user,
            data={"competency": competency.name, "weight": weight, "scale": scale.name},
        )
    return row


def draft_update_competency(
    *,
    user,
    version: FormVersion,
    expected_version: int | None,
    row: FormCompetency,
    weight: int | None = None,
    scale: RatingScale | None = None,
) -> FormCompetency:
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _check_belongs(row, version)
        before = stored(FormCompetency, row.pk, ("weight", "scale"))
        if weight is not None:
            row.weight = weight
        if scale is not None:
            row.scale = scale
        row.full_clean(exclude=["version", "competency", "scale"], validate_constraints=False)
        # Only the fields this call changes: the caller's row may predate other edits in this transaction.
        changed = [name for name, value in (("weight", weight), ("scale", scale)) if value is not None]
        if changed:
            row.save(update_fields=changed)
        _touch(version)
        _log(
            version,
            "competency_changed",
            user=user,
            changes=changes_since(before, row),
            data={"competency": row.competency.name},
        )
    return row


def draft_remove_competency(*, user, version: FormVersion, expected_version: int | None, row: FormCompetency) -> None:
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _check_belongs(row, version)
        name = row.competency.name
        row.delete()
        _touch(version)
        _log(version, "competency_removed", user=user, data={"competency": name})


def draft_reorder_competencies(
    *, user, version: FormVersion, expected_version: int | None, row_ids: Sequence[int]
) -> None:
    """Put the competency rows in this order (every row id of the draft, once)."""
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        before = _names_in_order(version)
        _reorder(list(version.competencies.all()), row_ids, "competencies")
        _touch(version)
        _log(version, "competencies_reordered", user=user, changes={"order": (before, _names_in_order(version))})


def draft_move_competency(
    *, user, version: FormVersion, expected_version: int | None, row: FormCompetency, offset: int
) -> None:
    """Move one row up (offset -1) or down (+1): the keyboard's way to reorder. Past either end it stays put."""
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _check_belongs(row, version)
        before = _names_in_order(version)
        _move(list(version.competencies.order_by("order", "pk")), row.pk, offset)
        _touch(version)
        _log(version, "competencies_reordered", user=user, changes={"order": (before, _names_in_order(version))})


# ---------------------------------------------------------------- dialogue questions


def draft_add_question(
    *, user, version: FormVersion, expected_version: int | None, text: str, help_text: str = "", key: str = ""
) -> DialogueQuestion:
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        existing = list(version.questions.all())
        taken = {q.key for q in existing}
        question = _new_question(version, QuestionSpec(text=text, help_text=help_text, key=key), taken)
        question.order = max((q.order for q in existing), default=-1) + 1
        question.save()
        _touch(version)
        _log(version, "question_added", user=user, data={"key": question.key, "text": question.text})
    return question


def draft_update_question(
    *,
    user,
    version: FormVersion,
    expected_version: int | None,
    question: DialogueQuestion,
    text: str | None = None,
    help_text: str | None = None,
) -> DialogueQuestion:
    """Reword a question; its key stays, so later steps still find it."""
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _check_belongs(question, version)
        before = stored(DialogueQuestion, question.pk, ("text", "help_text"))
        if text is not None:
            question.text = text.strip()
        if help_text is not None:
            question.help_text = help_text.strip()
        question.full_clean(exclude=["version"], validate_constraints=False)
        question.save()
        _touch(version)
        changes = changes_since(before, question)
        _log(version, "question_changed", user=user, changes=changes, data={"key": question.key})
    return question


def draft_remove_question(
    *, user, version: FormVersion, expected_version: int | None, question: DialogueQuestion
) -> None:
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _check_belongs(question, version)
        removed = {"key": question.key, "text": question.text}
        question.delete()
        _touch(version)
        _log(version, "question_removed", user=user, data=removed)


def draft_reorder_questions(
    *, user, version: FormVersion, expected_version: int | None, question_ids: Sequence[int]
) -> None:
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        before = _keys_in_order(version)
        _reorder(list(version.questions.all()), question_ids, "questions")
        _touch(version)
        _log(version, "questions_reordered", user=user, changes={"order": (before, _keys_in_order(version))})


def draft_move_question(
    *, user, version: FormVersion, expected_version: int | None, question: DialogueQuestion, offset: int
) -> None:
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _check_belongs(question, version)
        before = _keys_in_order(version)
        _move(list(version.questions.order_by("order", "pk")), question.pk, offset)
        _touch(version)
        _log(version, "questions_reordered", user=user, changes={"order": (before, _keys_in_order(version))})


def _names_in_order(version: FormVersion) -> list[str]:
    return list(version.competencies.order_by("order", "pk").values_list("competency__name", flat=True))


def _keys_in_order(version: FormVersion) -> list[str]:
    return list(version.questions.order_by("order", "pk").values_list("key", flat=True))


def _check_belongs(row: FormCompetency | DialogueQuestion, version: FormVersion) -> None:
    if row.version_id != version.pk:
        raise ValidationError("That row belongs to another version of the form; reload the page.")


def _reorder(rows: list, ids: Sequence[int], field: str) -> None:  # type: ignore[type-arg]
    by_id = {row.pk: row for row in rows}
    if sorted(ids) != sorted(by_id):
        raise ValidationError({field: "Give every row of this form once, in the new order; reload and try again."})
    for order, pk in enumerate(ids):
        by_id[pk].order = order
    if rows:
        type(rows[0]).objects.bulk_update(rows, ["order"])


def _move(rows: list, pk: int, offset: int) -> None:  # type: ignore[type-arg]
    ids = [row.pk for row in rows]
    position = ids.index(pk)
    target = min(max(position + offset, 0), len(ids) - 1)
    ids.insert(target, ids.pop(position))
    _reorder(rows, ids, "order")


def _question_key(spec: QuestionSpec, taken: set[str]) -> str:
    if spec.key:
        try:
            validate_slug(spec.key)
        except ValidationError:
            raise ValidationError({"key": f"“{spec.key}” is not a valid key: use letters, numbers, - and _."}) from None
        if spec.key in taken:
            raise ValidationError({"key": f"Another question on this form has the key “{spec.key}”."})
        return spec.key
    base = slugify(spec.text).replace("-", "_")[:40] or "question"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _new_question(version: FormVersion, spec: QuestionSpec, taken: set[str]) -> DialogueQuestion:
    key = _question_key(spec, taken)
    taken.add(key)
    question = DialogueQuestion(version=version, key=key, text=spec.text.strip(), help_text=spec.help_text.strip())
    question.full_clean(exclude=["version"], validate_constraints=False)
    return question


def _write_questions(version: FormVersion, specs: Sequence[QuestionSpec]) -> None:
    taken: set[str] = set()
    questions = []
    for order, spec in enumerate(specs):
        question = _new_question(version, spec, taken)
        question.order = order
        questions.append(question)
    DialogueQuestion.objects.bulk_create(questions)


# ---------------------------------------------------------------- the whole draft at once (the API)


def draft_replace_content(
    *, user, version: FormVersion, expected_version: int | None, data: Mapping[str, object]
) -> FormVersion:
    """Set any of ``goals_weight``, ``competencies_weight``, ``goals_scale``, ``competencies``
    (CompetencySpecs: replaces every row) and ``questions`` (QuestionSpecs: replaces every question).

    What is given must add up: section weights to 100 when a section weight is given, the
    competency weights to 100 when competencies are given. A retired competency may stay
    on a draft that already has it, but not be added.
    """
    _may_build(user)
    unknown = set(data) - VERSION_FIELDS - {"competencies", "questions"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    with transaction.atomic():
        _lock_draft(version, expected_version)
        before = stored(FormVersion, version.pk, VERSION_FIELDS)
        old_rows = {row.competency.name: row.weight for row in _rows(version)}
        old_keys = _keys_in_order(version)
        apply(version, {k: v for k, v in data.items() if k in VERSION_FIELDS}, VERSION_FIELDS)
        _clean_version(version)
        problems: dict[str, list[str]] = {}
        if WEIGHT_FIELDS & set(data):
            section = validation.section_weights_problem(version.goals_weight, version.competencies_weight)
            if section:
                problems["weights"] = [section]
        if "competencies" in data:
            rows, messages = _rows_from_specs(version, list(data["competencies"]))  # type: ignore[call-overload]
            if messages:
                problems["competencies"] = messages
        if problems:
            raise ValidationError(problems)
        _save_draft(version)
        if "competencies" in data:
            version.competencies.all().delete()
            FormCompetency.objects.bulk_create(rows)
        changes = changes_since(before, version)
        if "competencies" in data:
            changes["competencies"] = (old_rows, {row.competency.name: row.weight for row in rows})
        if "questions" in data:
            version.questions.all().delete()
            _write_questions_listing(version, list(data["questions"]))  # type: ignore[call-overload]
            changes["questions"] = (old_keys, _keys_in_order(version))
        _log(version, "content_replaced", user=user, changes=changes)
    return version


def _rows_from_specs(version: FormVersion, specs: list[CompetencySpec]) -> tuple[list[FormCompetency], list[str]]:
    already = set(version.competencies.values_list("competency_id", flat=True))
    messages, seen, rows = [], set(), []
    for order, spec in enumerate(specs):
        name = spec.competency.name
        if spec.competency.pk in seen:
            messages.append(f"“{name}” is on the form twice.")
        seen.add(spec.competency.pk)
        if spec.competency.is_retired and spec.competency.pk not in already:
            messages.append(f"“{name}” is retired, so it cannot be added to a form.")
        scale = spec.scale or version.goals_scale
        if scale is None:
            messages.append(f"Choose the rating scale for “{name}”.")
        rows.append(FormCompetency(version=version, competency=spec.competency, weight=spec.weight, scale=scale,
                                   order=order))  # fmt: skip
    messages += _row_weight_problems(rows)
    total = validation.competency_weights_problem([(row.competency.name, row.weight) for row in rows])
    if total:
        messages.append(total)
    return rows, messages


def _write_questions_listing(version: FormVersion, specs: list[QuestionSpec]) -> None:
    """Like _write_questions, naming the question at fault by its position."""
    try:
        _write_questions(version, specs)
    except ValidationError as exc:
        messages = [f"{field}: {m}" if field != "__all__" else m for field, ms in exc.message_dict.items() for m in ms]
        raise ValidationError({"questions": messages}) from None


# ---------------------------------------------------------------- publishing and retiring


def form_publish(*, user, version: FormVersion, expected_version: int | None) -> FormVersion:
    """Freeze the draft: it must be complete (weights total 100, at least one competency, scales set).

    The form's previously published version is retired: new cycles take this one, while
    appraisals already made keep pointing at theirs.
    """
    _may_build(user)
    with transaction.atomic():
        check_version(FormVersion, version.pk, expected_version, FORM_CONFLICT)
        publish_version(version, by=employee_for_user(user), user=user)
    return version


def publish_version(version: FormVersion, *, by: Employee | None = None, user=None) -> FormVersion:  # type: ignore[no-untyped-def]
    """The core of form_publish without the permission check, for the demo seed and data migrations.

    ``user`` is the actor the action log names (None: the seed or a migration did it)."""
    with transaction.atomic():
        _lock_draft(version, None)
        rows = list(
            version.competencies.select_related("competency", "scale")
            .prefetch_related("competency__indicators")
            .order_by("order", "pk")
        )
        problems = validation.publish_problems(version, rows)
        if problems:
            raise ValidationError(problems)
        for row in rows:
            row.frozen = snapshot(row.competency)
        FormCompetency.objects.bulk_update(rows, ["frozen"])
        for current in FormVersion.objects.select_for_update().filter(
            form_id=version.form_id, status=VersionStatus.PUBLISHED
        ):
            current.status = VersionStatus.RETIRED
            current.version = F("version") + 1
            current.save()
            _log(
                current,
                "retired",
                user=user,
                changes={"status": (VersionStatus.PUBLISHED, VersionStatus.RETIRED)},
                data={"superseded_by": version.number},
            )
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = by
        _save_draft(version)
        _log(version, "published", user=user, changes={"status": (VersionStatus.DRAFT, VersionStatus.PUBLISHED)})
    return version


def snapshot(competency: Competency) -> dict[str, object]:
    """A competency's wording as a published version keeps it."""
    return {
        "name": competency.name,
        "description": competency.description,
        "category": competency.category,
        "indicators": [{"level": i.level, "text": i.text} for i in competency.indicators.all()],
    }


def version_retire(*, user, version: FormVersion, expected_version: int | None) -> FormVersion:
    """Stop offering a published version to new cycles. Appraisals made with it keep it, unchanged."""
    _may_build(user)
    with transaction.atomic():
        check_version(FormVersion, version.pk, expected_version, FORM_CONFLICT)
        version.refresh_from_db()
        if version.status != VersionStatus.PUBLISHED:
            state = "a draft; discard it instead" if version.is_draft else "already retired"
            raise ValidationError(f"Version {version.number} of “{version.form.name}” is {state}.")
        version.status = VersionStatus.RETIRED
        version.version = F("version") + 1
        version.save()
        version.refresh_from_db(fields=["version", "updated_at"])
        _log(version, "retired", user=user, changes={"status": (VersionStatus.PUBLISHED, VersionStatus.RETIRED)})
    return version


def draft_discard(*, user, version: FormVersion, expected_version: int | None) -> None:
    """Throw a draft away. Published versions are never deleted."""
    _may_build(user)
    with transaction.atomic():
        _lock_draft(version, expected_version)
        _log(version, "discarded", user=user)
        version.delete()

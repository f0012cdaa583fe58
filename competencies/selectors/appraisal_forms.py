"""Reads for appraisal forms and their versions, scoped by competencies.access: a draft,
or a form never published, answers 404 to anyone but HR."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from competencies import access
from competencies.models import (
    AppraisalForm,
    AssignmentRule,
    Competency,
    CompetencyStatus,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    RatingScale,
    VersionStatus,
    min_process_weight,
)
from competencies.services import validation
from core.access import get_visible_or_404

# ---------------------------------------------------------------- forms and versions


def get_form(*, user, pk: object) -> AppraisalForm:  # type: ignore[no-untyped-def]
    return get_visible_or_404(access.forms_visible_to(user), pk=pk)


def versions_visible_to(*, user, form: AppraisalForm | None = None) -> QuerySet[FormVersion]:  # type: ignore[no-untyped-def]
    """The versions this person may see (of one form, if given), with their form and goals scale."""
    versions = access.form_versions_visible_to(user).select_related("form", "goals_scale")
    return versions.filter(form=form) if form is not None else versions


def get_version(*, user, form: AppraisalForm, number: object) -> FormVersion:  # type: ignore[no-untyped-def]
    return get_visible_or_404(versions_visible_to(user=user, form=form), number=number)


def published_version(form: AppraisalForm) -> FormVersion | None:
    """The version new cycles take; None when the form is not (or no longer) published."""
    return form.versions.filter(status=VersionStatus.PUBLISHED).first()


def draft_of(form: AppraisalForm) -> FormVersion | None:
    """The form's one draft, if HR is editing it."""
    return form.versions.filter(status=VersionStatus.DRAFT).first()


def with_rows(versions: QuerySet[FormVersion]) -> QuerySet[FormVersion]:
    """Versions with their competency rows (competency, indicators, scale, levels) and questions: no query per row."""
    rows = FormCompetency.objects.select_related("competency", "scale").prefetch_related(
        "competency__indicators", "scale__levels"
    )
    return versions.select_related("goals_scale").prefetch_related(
        Prefetch("competencies", queryset=rows), "questions", "goals_scale__levels"
    )


def forms_with_versions(*, user) -> QuerySet[AppraisalForm]:  # type: ignore[no-untyped-def]
    """The forms this person may see, each with ``visible_versions`` (newest first; drafts for HR only)
    and its rules: the forms list of the pages and the API."""
    versions = access.form_versions_visible_to(user).order_by("-number")
    rules = access.rules_visible_to(user).select_related("department").order_by("priority", "pk")
    return access.forms_visible_to(user).prefetch_related(
        Prefetch("versions", queryset=versions, to_attr="visible_versions"),
        Prefetch("rules", queryset=rules, to_attr="visible_rules"),
    )


# ---------------------------------------------------------------- what the builder shows


def version_problems(version: FormVersion) -> dict[str, list[str]]:
    """What stops this version being published (empty when nothing does): the builder shows it live."""
    rows = list(version.competencies.select_related("competency").order_by("order", "pk"))
    return validation.publish_problems(version, rows)


@dataclass(frozen=True)
class Balance:
    """How much of a form rates results and how much rates the way work is improved.

    Process-kind goals also count as process, but which goals a person has is only
    known at appraisal; a form's own process share is its competencies section.
    """

    results_weight: int
    process_weight: int
    floor: int

    @property
    def below_floor(self) -> bool:
        return self.process_weight < self.floor

    @property
    def warning(self) -> str:
        if not self.below_floor:
            return ""
        return (
            f"Over-emphasis on end results: only {self.process_weight}% of this form rates how people improve "
            f"the work (the competencies section), below the floor of {self.floor}%. Give the competencies more "
            "weight or add process-oriented competencies. (Process-kind goals count too, but they are only "
            "known at appraisal.)"
        )


def balance_of(goals_weight: int, competencies_weight: int) -> Balance:
    """The balance of section weights as typed (the builder's live bar)."""
    return Balance(results_weight=goals_weight, process_weight=competencies_weight, floor=min_process_weight())


def version_balance(version: FormVersion) -> Balance:
    """Results against process for the builder's balance bar and its "over-emphasis on end results" warning."""
    return balance_of(version.goals_weight, version.competencies_weight)


@dataclass
class BuilderContent:
    """A version with everything its builder page shows, each loaded in one query."""

    version: FormVersion
    rows: list[FormCompetency]
    questions: list[DialogueQuestion]
    scales: list[RatingScale]  # what the scale choices offer (editing only)
    available: list[Competency]  # what "Add a competency" offers (editing only)


def builder_content(version: FormVersion, *, editing: bool) -> BuilderContent:
    """The version read afresh with its rows and questions and, when ``editing``, the choices the builder offers."""
    version = FormVersion.objects.select_related("form", "goals_scale", "published_by").get(pk=version.pk)
    rows = list(version.competencies.select_related("competency", "scale").order_by("order", "pk"))
    questions = list(version.questions.order_by("order", "pk"))
    scales: list[RatingScale] = []
    available: list[Competency] = []
    if editing:
        scales = list(RatingScale.objects.order_by("name"))
        on_form = [row.competency_id for row in rows]
        available = list(
            Competency.objects.filter(status=CompetencyStatus.ACTIVE).exclude(pk__in=on_form).order_by("name")
        )
    return BuilderContent(version, rows, questions, scales, available)


def scales_for_choice() -> list[RatingScale]:
    """Every rating scale, by name: what a new form's goals scale may be."""
    return list(RatingScale.objects.order_by("name"))


def rules_of(form: AppraisalForm) -> list[AssignmentRule]:
    return list(form.rules.select_related("department"))

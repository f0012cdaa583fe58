"""A form version exactly as the people appraised with it will see it.

``preview(version, audience=...)`` answers the structure that the appraisal
pages render — for the employee's self-assessment or the manager's review —
so that HR's preview, the API and the real appraisal cannot drift apart.

A competency's indicator for level n is shown beside the n-th level of its
scale (lowest first). A published version shows the competency's wording as
it stood at publication; a draft shows the library's current wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from competencies.models import FormCompetency, FormVersion, RatingScale
from competencies.selectors.appraisal_forms import Balance, version_balance, with_rows
from competencies.services import validation

Audience = Literal["employee", "manager"]
AUDIENCES: tuple[Audience, ...] = ("employee", "manager")

PROMPTS: dict[Audience, dict[str, str]] = {
    "employee": {
        "label": "Employee (self-assessment)",
        "goals": "Rate how far you got with each of your goals, and say what made the difference.",
        "goals_note": "Your approved goals for the cycle appear here, each with its linked measure's chart.",
        "competencies": "For each competency, choose the level that best describes how you worked this cycle, "
        "and give an example.",
        "dialogue": "Think about these questions before you meet your manager; you will talk them through together.",
    },
    "manager": {
        "label": "Manager (review)",
        "goals": "Rate each goal of the person you are appraising, with the evidence you saw.",
        "goals_note": "Their approved goals for the cycle appear here, each with its linked measure's run or SPC "
        "chart and any signal.",
        "competencies": "Choose the level that best describes how they worked this cycle, with an example; their "
        "self-assessment is shown beside your rating.",
        "dialogue": "Talk these questions through together and note what you agree.",
    },
}


@dataclass(frozen=True)
class LevelView:
    order: int
    value: Decimal
    label: str
    descriptor: str
    indicator: str = ""  # the competency's behaviour at this level; blank for the goals scale


@dataclass(frozen=True)
class ScaleView:
    id: int
    name: str
    methodology: str
    levels: list[LevelView]


@dataclass(frozen=True)
class IndicatorView:
    level: int
    text: str


@dataclass(frozen=True)
class CompetencyView:
    id: int  # the form row's id
    competency_id: int
    name: str
    description: str
    category: str
    weight: int  # within the competencies section
    share_of_score: Decimal  # of the whole form: weight × section weight / 100
    retired: bool
    scale: ScaleView
    indicators: list[IndicatorView]


@dataclass(frozen=True)
class GoalsSectionView:
    weight: int
    scale: ScaleView | None
    prompt: str
    note: str


@dataclass(frozen=True)
class CompetenciesSectionView:
    weight: int
    prompt: str
    items: list[CompetencyView]


@dataclass(frozen=True)
class QuestionView:
    id: int
    key: str
    text: str
    help_text: str


@dataclass(frozen=True)
class DialogueSectionView:
    prompt: str
    questions: list[QuestionView]


@dataclass(frozen=True)
class FormPreview:
    form_id: int
    form_name: str
    description: str
    methodology: str
    version_id: int
    number: int
    status: str
    audience: Audience
    audience_label: str
    goals: GoalsSectionView
    competencies: CompetenciesSectionView
    dialogue: DialogueSectionView
    balance: Balance
    problems: dict[str, list[str]] = field(default_factory=dict)


def preview(version: FormVersion, *, audience: Audience = "employee") -> FormPreview:
    """The whole form for one audience, in a fixed number of queries."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    version = with_rows(FormVersion.objects.filter(pk=version.pk)).get()
    prompts = PROMPTS[audience]
    rows = list(version.competencies.all())
    form = version.form
    return FormPreview(
        form_id=form.pk,
        form_name=form.name,
        description=form.description,
        methodology=form.methodology,
        version_id=version.pk,
        number=version.number,
        status=version.status,
        audience=audience,
        audience_label=prompts["label"],
        goals=GoalsSectionView(
            weight=version.goals_weight,
            scale=_scale(version.goals_scale, {}) if version.goals_scale else None,
            prompt=prompts["goals"],
            note=prompts["goals_note"],
        ),
        competencies=CompetenciesSectionView(
            weight=version.competencies_weight,
            prompt=prompts["competencies"],
            items=[_competency(row, version) for row in rows],
        ),
        dialogue=DialogueSectionView(
            prompt=prompts["dialogue"],
            questions=[
                QuestionView(id=q.pk, key=q.key, text=q.text, help_text=q.help_text) for q in version.questions.all()
            ],
        ),
        balance=version_balance(version),
        problems=validation.publish_problems(version, rows) if version.is_draft else {},
    )


def _scale(scale: RatingScale, indicators: dict[int, str]) -> ScaleView:
    levels = sorted(scale.levels.all(), key=lambda level: level.order)
    return ScaleView(
        id=scale.pk,
        name=scale.name,
        methodology=scale.methodology,
        levels=[
            LevelView(
                order=position,
                value=level.value,
                label=level.label,
                descriptor=level.descriptor,
                indicator=indicators.get(position, ""),
            )
            for position, level in enumerate(levels, start=1)
        ],
    )


def _competency(row: FormCompetency, version: FormVersion) -> CompetencyView:
    competency = row.competency
    if row.frozen and not version.is_draft:
        wording = row.frozen
    else:
        wording = {
            "name": competency.name,
            "description": competency.description,
            "category": competency.category,
            "indicators": [{"level": i.level, "text": i.text} for i in competency.indicators.all()],
        }
    indicators = [IndicatorView(level=i["level"], text=i["text"]) for i in wording["indicators"]]
    return CompetencyView(
        id=row.pk,
        competency_id=competency.pk,
        name=wording["name"],
        description=wording["description"],
        category=wording["category"],
        weight=row.weight,
        share_of_score=(Decimal(row.weight) * version.competencies_weight / 100).quantize(Decimal("0.01")),
        retired=competency.is_retired,
        scale=_scale(row.scale, {i.level: i.text for i in indicators}),
        indicators=indicators,
    )

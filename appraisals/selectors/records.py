"""Reads for people's records in review cycles: who sees which appraisal, check-in and
development plan, and everything one appraisal page shows.

Scope (PRODUCT.md; appraisals.access has the rules): a person sees their own
records; their reviewer and everyone above them in the reporting chain see
theirs; HR sees all. Anything else answers 404, so that its existence does not
leak. Each function issues a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import prefetch_related_objects

from appraisals import history, scoring
from appraisals.access import (
    PARTICIPANT_RELATED,
    AppraisalAccess,
    access_for,
    appraisals_visible_to,
    checkins_visible_to,
    cycles_visible_to,
    development_plans_visible_to,
)
from appraisals.models import (
    Appraisal,
    CheckIn,
    CompetencyRating,
    CycleState,
    DevelopmentPlan,
    DialogueAnswer,
    GoalRating,
    HistoryEntry,
    Participant,
    ReviewCycle,
)
from cascade import charts
from cascade import selectors as cascade_selectors
from cascade.models import Goal, GoalPeriod, Observation, ProgressMode
from competencies.models import DialogueQuestion, FormCompetency, ScaleLevel
from competencies.selectors.preview import IndicatorView, LevelView, ScaleView
from core.access import get_visible_or_404
from people.models import Employee

# ---------------------------------------------------------------- scope (appraisals.access decides)


def running_cycle_period(employee: Employee) -> GoalPeriod | None:
    """The goal period of the running cycle this person takes part in (the latest starting, should
    there be two), or None. Registered with cascade.selectors.register_person_period (apps.py), so
    that every page opens a participant's goals in the period their cycle reviews (one query)."""
    cycle = (
        ReviewCycle.objects.filter(state=CycleState.ACTIVE, participants__employee=employee)
        .select_related("period")
        .order_by("-start", "-pk")
        .first()
    )
    return cycle.period if cycle is not None else None


def get_cycle(*, user, pk: int) -> ReviewCycle:  # type: ignore[no-untyped-def]
    return get_visible_or_404(cycles_visible_to(user), pk=pk)


def get_appraisal(*, user, pk: int) -> tuple[Appraisal, AppraisalAccess]:  # type: ignore[no-untyped-def]
    """One appraisal the user may read, with what they may do with it; 404 outside their scope."""
    appraisal = get_visible_or_404(appraisals_visible_to(user), pk=pk)
    return appraisal, access_for(user, appraisal.participant, appraisal)


def get_check_in(*, user, pk: int) -> tuple[CheckIn, AppraisalAccess]:  # type: ignore[no-untyped-def]
    check_in = get_visible_or_404(checkins_visible_to(user), pk=pk)
    return check_in, access_for(user, check_in.participant)


def get_plan(*, user, pk: int) -> tuple[DevelopmentPlan, AppraisalAccess]:  # type: ignore[no-untyped-def]
    plan = get_visible_or_404(development_plans_visible_to(user), pk=pk)
    return plan, access_for(user, plan.participant)


# ---------------------------------------------------------------- lists for dashboards


def team_appraisals(*, manager: Employee, cycle: ReviewCycle | None = None) -> list[Appraisal]:
    """The appraisals this manager reviews, by person (one query)."""
    queryset = Appraisal.objects.select_related(*PARTICIPANT_RELATED).filter(participant__reviewer=manager)
    if cycle is not None:
        queryset = queryset.filter(participant__cycle=cycle)
    return list(queryset.order_by("-participant__cycle__start", "participant__employee__full_name", "pk"))


def my_appraisals(*, employee: Employee) -> list[Appraisal]:
    """The person's own appraisals, the latest cycle first (one query)."""
    queryset = Appraisal.objects.select_related(*PARTICIPANT_RELATED).filter(participant__employee=employee)
    return list(queryset.order_by("-participant__cycle__start", "pk"))


def team_check_ins(*, manager: Employee, cycle: ReviewCycle | None = None) -> list[CheckIn]:
    queryset = CheckIn.objects.select_related(*PARTICIPANT_RELATED).filter(participant__reviewer=manager)
    if cycle is not None:
        queryset = queryset.filter(participant__cycle=cycle)
    return list(queryset.order_by("-participant__cycle__start", "participant__employee__full_name", "pk"))


def my_check_ins(*, employee: Employee) -> list[CheckIn]:
    queryset = CheckIn.objects.select_related(*PARTICIPANT_RELATED).filter(participant__employee=employee)
    return list(queryset.order_by("-participant__cycle__start", "pk"))


def team_plans(*, manager: Employee, cycle: ReviewCycle | None = None) -> list[DevelopmentPlan]:
    queryset = DevelopmentPlan.objects.select_related(*PARTICIPANT_RELATED).filter(participant__reviewer=manager)
    if cycle is not None:
        queryset = queryset.filter(participant__cycle=cycle)
    return list(queryset.order_by("-participant__cycle__start", "participant__employee__full_name", "pk"))


def my_plans(*, employee: Employee) -> list[DevelopmentPlan]:
    queryset = DevelopmentPlan.objects.select_related(*PARTICIPANT_RELATED).filter(participant__employee=employee)
    return list(queryset.order_by("-participant__cycle__start", "pk"))


# ---------------------------------------------------------------- the appraisal page

COMMON_CAUSE_CAUTION = (
    "This change lies within common-cause variation: the chart shows no special cause, so the movement "
    "may be the process's ordinary noise rather than the effect of the work. Rate on the evidence, not on the movement."
)
TOO_FEW_POINTS_CAUTION = (
    "Only {n} data point{s}: too few to tell a real change from common-cause variation. Rate on the evidence, "
    "not on the movement."
)


@dataclass(frozen=True)
class GoalRow:
    goal: Goal
    id: int
    title: str
    weight: int
    kind: str
    progress: Decimal
    status: str
    status_label: str
    approval: str
    approval_label: str
    priority_title: str
    parent_title: str  # the department goal it serves, or "" when directly under the priority
    measure_id: int | None
    measure_name: str
    measure_unit: str
    measure_driven: bool
    chart: dict[str, Any] | None  # cascade.charts.Chart.as_dict(), for a goal with a linked measure
    special_cause: bool
    common_cause_caution: bool
    caution: str
    chart_summary: str
    self_rating: Decimal | None
    self_comment: str
    manager_rating: Decimal | None
    manager_comment: str


@dataclass(frozen=True)
class CompetencyRow:
    id: int  # the form row's id (FormCompetency): the key for saving a rating
    competency_id: int
    name: str
    description: str
    weight: int
    scale: ScaleView  # each level with its descriptor and the competency's indicator at that level
    indicators: list[IndicatorView]
    self_rating: Decimal | None
    self_evidence: str
    manager_rating: Decimal | None
    manager_evidence: str


@dataclass(frozen=True)
class QuestionRow:
    id: int
    key: str
    text: str
    help_text: str
    answer: str


@dataclass(frozen=True)
class LastChange:
    who: str
    at: Any
    action: str
    record: str


@dataclass
class AppraisalPage:
    appraisal: Appraisal
    access: AppraisalAccess
    participant: Participant
    cycle: ReviewCycle
    employee: Employee
    reviewer: Employee | None
    state: str
    state_label: str
    phase_label: str
    goals_weight: int
    competencies_weight: int
    goals_scale: ScaleView | None
    goals: list[GoalRow]
    competencies: list[CompetencyRow]
    questions: list[QuestionRow]
    # None while the score is hidden from the employee (not shared yet).
    score: scoring.ScoreResult | None
    score_is_final: bool
    manager_hidden: bool  # the manager's side is hidden from this reader (the employee, before sharing)
    self_hidden: bool  # the self-assessment is hidden from this reader (not submitted yet)
    history: list[HistoryEntry] = field(default_factory=list)  # HR only
    last_change: LastChange | None = None
    employee_comment: str = ""

    @property
    def goal_ids(self) -> list[int]:
        return [row.id for row in self.goals]


def _scale_view(scale_id: int | None, name: str, methodology: str, levels: list, indicators: dict[int, str]):  # type: ignore[no-untyped-def]
    return ScaleView(
        id=scale_id or 0,
        name=name,
        methodology=methodology,
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


def _chart(goal: Goal, observations: list[tuple]) -> tuple[dict | None, bool, bool, str, str]:  # type: ignore[type-arg]
    """The linked measure's chart, whether it shows a special cause, and the caution to show."""
    if goal.measure_id is None:
        return None, False, False, "", ""
    measure = goal.measure
    target = goal.target if goal.target is not None else measure.target
    chart = cascade_selectors.measure_chart(measure, target=target, observations=observations)
    special = charts.has_special_cause(chart)
    caution = ""
    if not special:
        if chart.n < charts.RUN_RULES_MIN_POINTS:
            caution = TOO_FEW_POINTS_CAUTION.format(n=chart.n, s="" if chart.n == 1 else "s")
        else:
            caution = COMMON_CAUSE_CAUTION
    return chart.as_dict(), special, not special, caution, chart.summary


def appraisal_page(*, appraisal: Appraisal, access: AppraisalAccess) -> AppraisalPage:
    """Everything the appraisal page shows, in a fixed number of queries (about a dozen)
    whatever the number of goals and competencies. The manager's side (ratings,
    comments, the score) is left out for the employee until it is shared; the
    self-assessment is left out for others until it is submitted."""
    participant = appraisal.participant
    cycle = participant.cycle
    version = participant.form_version
    show_manager = access.sees_manager_ratings
    show_self = access.sees_self_ratings

    goals = list(scoring.appraised_goals(participant).select_related("measure", "priority", "parent_goal"))
    measure_ids = {g.measure_id for g in goals if g.measure_id}
    # The charts split at each measure's change points: one query for all of them.
    prefetch_related_objects([g.measure for g in goals if g.measure_id], "change_points")
    series: dict[int, list[tuple]] = {pk: [] for pk in measure_ids}  # type: ignore[type-arg]
    if measure_ids:
        for measure_id, date, value in (
            Observation.objects.filter(measure_id__in=measure_ids)
            .order_by("measure_id", "date")
            .values_list("measure_id", "date", "value")
        ):
            series[measure_id].append((date, value))
    goal_ratings = {r.goal_id: r for r in GoalRating.objects.filter(appraisal=appraisal)}

    rows = list(FormCompetency.objects.filter(version_id=version.pk).select_related("competency", "scale"))
    scale_ids = {row.scale_id for row in rows} | ({version.goals_scale_id} if version.goals_scale_id else set())
    levels: dict[int, list[ScaleLevel]] = {pk: [] for pk in scale_ids}
    scales: dict[int, tuple[str, str]] = {}
    for level in (
        ScaleLevel.objects.filter(scale_id__in=scale_ids).select_related("scale").order_by("scale_id", "order")
    ):
        levels[level.scale_id].append(level)
        scales[level.scale_id] = (level.scale.name, level.scale.methodology)
    competency_ratings = {r.form_competency_id: r for r in CompetencyRating.objects.filter(appraisal=appraisal)}
    questions = list(DialogueQuestion.objects.filter(version_id=version.pk))
    answers = dict(DialogueAnswer.objects.filter(appraisal=appraisal).values_list("question_id", "text"))

    goal_rows = []
    for goal in goals:
        rating = goal_ratings.get(goal.pk)
        chart, special, caution_flag, caution, summary = _chart(goal, series.get(goal.measure_id, []))
        goal_rows.append(
            GoalRow(
                goal=goal,
                id=goal.pk,
                title=goal.title,
                weight=goal.weight,
                kind=goal.kind,
                progress=goal.progress,
                status=goal.status,
                status_label=goal.get_status_display(),
                approval=goal.approval,
                approval_label=goal.get_approval_display(),
                priority_title=goal.priority.title,
                parent_title=goal.parent_goal.title if goal.parent_goal_id else "",
                measure_id=goal.measure_id,
                measure_name=goal.measure.name if goal.measure_id else "",
                measure_unit=goal.measure.unit if goal.measure_id else "",
                measure_driven=goal.progress_mode == ProgressMode.MEASURE,
                chart=chart,
                special_cause=special,
                common_cause_caution=caution_flag,
                caution=caution,
                chart_summary=summary,
                self_rating=rating.self_rating if rating and show_self else None,
                self_comment=rating.self_comment if rating and show_self else "",
                manager_rating=rating.manager_rating if rating and show_manager else None,
                manager_comment=rating.manager_comment if rating and show_manager else "",
            )
        )

    competency_rows = []
    for row in rows:
        wording = row.frozen or {
            "name": row.competency.name,
            "description": row.competency.description,
            "indicators": [],
        }
        indicators = [IndicatorView(level=i["level"], text=i["text"]) for i in wording.get("indicators", [])]
        name, methodology = scales.get(row.scale_id, (row.scale.name, row.scale.methodology))
        rating = competency_ratings.get(row.pk)
        competency_rows.append(
            CompetencyRow(
                id=row.pk,
                competency_id=row.competency_id,
                name=wording["name"],
                description=wording.get("description", ""),
                weight=row.weight,
                scale=_scale_view(
                    row.scale_id, name, methodology, levels.get(row.scale_id, []), {i.level: i.text for i in indicators}
                ),
                indicators=indicators,
                self_rating=rating.self_rating if rating and show_self else None,
                self_evidence=rating.self_evidence if rating and show_self else "",
                manager_rating=rating.manager_rating if rating and show_manager else None,
                manager_evidence=rating.manager_evidence if rating and show_manager else "",
            )
        )

    goals_scale = None
    if version.goals_scale_id:
        name, methodology = scales.get(version.goals_scale_id, ("", ""))
        goals_scale = _scale_view(version.goals_scale_id, name, methodology, levels[version.goals_scale_id], {})

    score = None
    final = appraisal.is_locked and appraisal.score_breakdown
    if show_manager:
        if final:
            score = scoring.ScoreResult(total=appraisal.score, breakdown=appraisal.score_breakdown)
        else:
            bounds = {pk: (lv[0].value, lv[-1].value) for pk, lv in levels.items() if lv}
            score = scoring.compute(
                goals_weight=version.goals_weight,
                competencies_weight=version.competencies_weight,
                goals=scoring.goal_items(
                    goals, {pk: r.manager_rating for pk, r in goal_ratings.items()}, bounds.get(version.goals_scale_id)
                ),
                competencies=scoring.competency_items(
                    rows, {pk: r.manager_rating for pk, r in competency_ratings.items()}, bounds
                ),
            )

    entries = history.history_for(participant) if access.sees_history else history.history_for(participant, limit=1)
    last = entries[0] if entries else None
    return AppraisalPage(
        appraisal=appraisal,
        access=access,
        participant=participant,
        cycle=cycle,
        employee=participant.employee,
        reviewer=participant.reviewer,
        state=appraisal.state,
        state_label=appraisal.get_state_display(),
        phase_label=cycle.phase_label(),
        goals_weight=version.goals_weight,
        competencies_weight=version.competencies_weight,
        goals_scale=goals_scale,
        goals=goal_rows,
        competencies=competency_rows,
        questions=[
            QuestionRow(id=q.pk, key=q.key, text=q.text, help_text=q.help_text, answer=answers.get(q.pk, ""))
            for q in questions
        ],
        score=score,
        score_is_final=bool(final),
        manager_hidden=not show_manager,
        self_hidden=not show_self,
        history=entries if access.sees_history else [],
        last_change=(
            LastChange(who=history.actor_name(last), at=last.at, action=last.action, record=last.record)
            if last
            else None
        ),
        employee_comment=appraisal.employee_comment,
    )


__all__ = [
    "COMMON_CAUSE_CAUTION",
    "AppraisalPage",
    "CompetencyRow",
    "GoalRow",
    "QuestionRow",
    "appraisal_page",
    "get_appraisal",
    "get_check_in",
    "get_cycle",
    "get_plan",
    "my_appraisals",
    "my_check_ins",
    "my_plans",
    "team_appraisals",
    "team_check_ins",
    "team_plans",
]

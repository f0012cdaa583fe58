"""Helpers the audit test modules share (not a test module): surveys made, opened, answered and
closed; runs and findings made directly; the correlation data sets with their ρ worked by hand."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.utils import timezone

from appraisals.models import Appraisal
from audits.models import AuditRun, Finding, FindingStatus, RunState, Severity, SubjectType, Survey, SurveyItem
from audits.services import surveys as services
from cascade.models import Approval, GoalStatus
from people.models import Department, Employee
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory
from tests.cascade.factories import IndividualGoalFactory, QualityPriorityFactory
from tests.factories import EmployeeFactory

# ---------------------------------------------------------------- surveys

SURVEY_OPENS = datetime.date(2026, 3, 2)  # the day test surveys open unless told otherwise


def make_survey(
    hr: Employee,
    *,
    departments: list[Department] | None = None,
    opens_on: datetime.date = SURVEY_OPENS,
    closes_on: datetime.date | None = None,
    every: int = 7,
    items: list[dict] | None = None,
    title: str = "QI pulse",
) -> Survey:
    return services.survey_create(
        user=hr.user,
        data={
            "title": title,
            "introduction": "Tell us.",
            "opens_on": opens_on,
            "closes_on": closes_on or opens_on + datetime.timedelta(days=20),
            "reminder_every_days": every,
        },
        departments=departments or [],
        items=items,
    )


def open_survey(hr: Employee, **kwargs: object) -> Survey:
    survey = make_survey(hr, **kwargs)  # type: ignore[arg-type]
    return services.open_survey(survey=survey, today=survey.opens_on, notify=False)


def answer(person: Employee, survey: Survey, value: int | list[int] = 4, today: datetime.date | None = None) -> None:
    items = list(SurveyItem.objects.filter(survey=survey).order_by("position", "pk"))
    values = value if isinstance(value, list) else [value] * len(items)
    services.submit_answers(
        user=person.user,
        survey=survey,
        values={item.pk: v for item, v in zip(items, values, strict=True)},
        today=today or survey.opens_on,
    )


def close(survey: Survey) -> Survey:
    return services.close_survey(survey=survey)


def people_in(department: Department, count: int) -> list[Employee]:
    return [EmployeeFactory(department=department) for _ in range(count)]


# ---------------------------------------------------------------- runs and findings

UNALIGNED = "unaligned_goals"  # pitfall "Unaligned goals"
SILOS = "siloed_goals"  # pitfall "Siloed goal setting"
START = timezone.make_aware(datetime.datetime(2026, 3, 2, 5, 0))


def make_run(*, score: str | None = "50", days: int = 0, state: str = RunState.SUCCEEDED, **extra) -> AuditRun:
    when = START + datetime.timedelta(days=days)
    run = AuditRun.objects.create(state=state, alignment_score=Decimal(score) if score else None, **extra)
    finished = when if state in (RunState.SUCCEEDED, RunState.FAILED) else None
    AuditRun.objects.filter(pk=run.pk).update(created_at=when, started_at=when, finished_at=finished)
    run.refresh_from_db()
    return run


_serial = iter(range(1, 1_000_000))


def make_finding(
    run: AuditRun,
    *,
    rule: str = UNALIGNED,
    severity: str = Severity.MEDIUM,
    department: Department | None = None,
    status: str = FindingStatus.OPEN,
    label: str | None = None,
    details: dict | None = None,
    **extra,
) -> Finding:
    n = next(_serial)
    return Finding.objects.create(
        rule=rule,
        fingerprint=f"{rule}:subject:{n}",
        severity=severity,
        subject_type=SubjectType.DEPARTMENT if department else SubjectType.ORGANISATION,
        subject_id=department.pk if department else None,
        subject_label=label or (department.name if department else f"Organisation {n}"),
        department=department,
        message="Something to act on.",
        mitigation="Do the right thing.",
        details=details or {},
        status=status,
        first_seen_run=run,
        last_seen_run=run,
        first_seen_at=run.finished_at or START,
        last_seen_at=run.finished_at or START,
        **extra,
    )


# ---------------------------------------------------------------- correlation data

# Ten people, no ties. QI goal achievement (%) and appraisal score:
#   x      12  25  31  40  48  55  63  70  82  95     ranks 1..10
#   y      48  41  60  52  77  80  66  70  91  85     ranks 2 1 4 3 7 8 5 6 10 9
#   d      −1   1  −1   1  −2  −2   2   2  −1   1     Σd² = 22
#   ρ = 1 − 6·22 / (10·(10² − 1)) = 1 − 132/990 = 13/15 ≈ 0.8667
UNTIED_X = [12, 25, 31, 40, 48, 55, 63, 70, 82, 95]
UNTIED_Y = [48, 41, 60, 52, 77, 80, 66, 70, 91, 85]
UNTIED_RHO = 13 / 15

# Ten people with ties in x, so ρ is Pearson's r of the average ranks:
#   x      0    0    50  50  50  75  100  100  100  100
#   rank   1.5  1.5  4   4   4   6   8.5  8.5  8.5  8.5     (mean 5.5)
#   y      40   55   45  60  50  70  65   80   75   90
#   rank   1    4    2   5   3   7   6    9    8    10      (mean 5.5)
#   Σ(rx − 5.5)(ry − 5.5) = 18 + 6 + 5.25 + 0.75 + 3.75 + 0.75 + 1.5 + 10.5 + 7.5 + 13.5 = 67.5
#   Σ(rx − 5.5)² = 16 + 16 + 3·2.25 + 0.25 + 4·9 = 75;   Σ(ry − 5.5)² = 10·99/12 = 82.5
#   ρ = 67.5 / √(75 · 82.5) = 67.5 / 78.6607 ≈ 0.85812
# (The untied formula would say 1 − 6·22.5/990 ≈ 0.8636: ties need the Pearson form.)
TIED_X = [0, 0, 50, 50, 50, 75, 100, 100, 100, 100]
TIED_Y = [40, 55, 45, 60, 50, 70, 65, 80, 75, 90]
TIED_RHO = 67.5 / math.sqrt(75 * 82.5)

# A link close to nothing: y ranks 3 9 1 7 10 2 5 8 4 6 against x ranks 1..10.
#   d²: 4 49 4 9 25 16 4 0 25 16 → Σd² = 152;  ρ = 1 − 912/990 = 13/165 ≈ 0.0788
WEAK_X = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
WEAK_Y = [53, 59, 51, 57, 60, 52, 55, 58, 54, 56]
WEAK_RHO = 13 / 165


def people(cycle, department, xs, ys) -> None:
    """One person per (x, y): an approved goal at x % progress and an appraisal score of y."""
    form = PublishedFormVersionFactory(competencies=1)
    priority = QualityPriorityFactory()
    for x, y in zip(xs, ys, strict=True):
        employee = EmployeeFactory(department=department)
        participant = ParticipantFactory(cycle=cycle, employee=employee, form_version=form, reviewer=None)
        IndividualGoalFactory(
            owner=employee, priority=priority, period=cycle.period, weight=100, progress=Decimal(x),
            approval=Approval.APPROVED, status=GoalStatus.OPEN,
        )  # fmt: skip
        Appraisal.objects.create(participant=participant, score=Decimal(y))

"""The cascade's part of the demo and benchmark organisations (``manage.py seed_demo`` calls these).

``seed_hospital`` hangs the source article's three quality priorities on the
demo hospital of ``people.demo``: measures with two years of monthly data, the
departments' goals, the demo people's goals (one set waiting for approval, one
returned) and some progress updates. Priorities, measures and observations go
through the services; goals are checked by services.validate_goal and written a
level at a time; every set then goes through the goal-setting workflow, submitted
and approved (or returned) by the people the workflow names. Progress follows
cascade.progress's formulas, and is refreshed and rolled up once at the end.

``seed_synthetic`` gives the synthetic organisation about five approved goals a
person with bulk writes, for the benchmarks. Both are safe to run again: each
checks its own marker and leaves a loaded organisation alone.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from cascade import progress, services, workflow
from cascade.models import (
    Approval,
    Direction,
    Goal,
    GoalKind,
    GoalLevel,
    GoalPeriod,
    GoalSetEvent,
    GoalUpdate,
    MeasureType,
    Methodology,
    Observation,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from people import bulk
from people import demo as people_demo
from people.models import Department, Employee

# A fixed seed, so that every run draws the same data and the same charts.
RANDOM_SEED = people_demo.RANDOM_SEED
QUALITY_LOGIN = "quality"
SYNTHETIC_PREFIX = "Synthetic: "
BATCH_SIZE = 2000


@dataclass(frozen=True)
class SeedResult:
    created: bool
    message: str


# ---------------------------------------------------------------- periods and dates


def goal_periods(today: datetime.date) -> tuple[GoalPeriod, GoalPeriod]:
    """The calendar year containing ``today`` and the year before, created when missing."""
    return _year_period(today.year), _year_period(today.year - 1)


def _year_period(year: int) -> GoalPeriod:
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return GoalPeriod.objects.get_or_create(name=str(year), defaults={"start": start, "end": end})[0]


def months_before(today: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the ``count`` whole months before ``today``'s month, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append(datetime.date(year, month, 1))
    return months[::-1]


# ---------------------------------------------------------------- priorities and measures


@dataclass(frozen=True)
class PrioritySpec:
    key: str
    title: str
    aim: str  # "{year}" is replaced by the current period's year
    methodology: str


PRIORITIES = (
    PrioritySpec(
        "claims",
        "Reduce claims processing cycle time",
        "Cut the average time from discharge to an accepted claim from about 9 days to 5 days by "
        "31 December {year}, for every inpatient and outpatient claim, with Lean standard work at claims "
        "intake, and lift first-pass yield from 78 % to 90 %.",
        Methodology.LEAN,
    ),
    PrioritySpec(
        "medication",
        "Improve medication safety",
        "Reduce medication administration errors on the adult wards from about 4 to 2 per 1,000 doses by "
        "31 December {year}, and reconcile 90 % of admitted patients' medicines within 24 hours, through "
        "PDSA cycles on bedside barcode scanning and pharmacist-led reconciliation.",
        Methodology.PDSA,
    ),
    PrioritySpec(
        "flow",
        "Improve patient flow",
        "Cut the mean time patients spend in the emergency department from 6.7 to 4 hours by 31 December "
        "{year}, with imaging reported within 20 hours and a third of ward discharges before noon, without "
        "7-day readmissions rising above 5 %, through one DMAIC project shared by Emergency, Radiology and Nursing.",
        Methodology.DMAIC,
    ),
)


@dataclass(frozen=True)
class MeasureSpec:
    """A measure and how its demo data is drawn: a level before a change, another after it, and noise.

    ``after == before`` draws common-cause variation only. A rate (``scale`` set) is drawn as a
    numerator over a monthly volume, so the value is exactly numerator / denominator × scale.
    """

    key: str
    priority: str
    name: str
    description: str
    unit: str
    measure_type: str
    direction: str
    department: str
    months: int
    before: float
    after: float
    noise: float
    target: Decimal
    changed_months: int = 9
    scale: int | None = None
    volume: int = 0
    places: int = 1
    seed: int = 0  # varies the draw; chosen so that the charts tell the story described above


MEASURES = (
    MeasureSpec(
        "claims_cycle", "claims", "Claims processing cycle time",
        "Mean working days from the patient's discharge to the payer accepting the claim.",
        "days", MeasureType.OUTCOME, Direction.DOWN, "Claims processing",
        months=30, before=9.2, after=6.6, noise=0.45, target=Decimal("5.0"), changed_months=13,
    ),
    MeasureSpec(
        "claims_fpy", "claims", "Claims first-pass yield",
        "Claims accepted by the payer the first time they are submitted, of all claims submitted.",
        "%", MeasureType.PROCESS, Direction.UP, "Claims processing",
        months=30, before=78.0, after=85.5, noise=1.6, target=Decimal("90"), changed_months=8, scale=100, volume=4200,
    ),
    MeasureSpec(
        "med_errors", "medication", "Medication administration errors per 1,000 doses",
        "Administration errors reported on the adult wards (wrong drug, dose, time, route or patient, "
        "and omitted doses) per 1,000 doses given.",
        "errors per 1,000 doses", MeasureType.OUTCOME, Direction.DOWN, "Pharmacy",
        months=27, before=4.2, after=2.9, noise=0.3, target=Decimal("2.0"), scale=1000, volume=38000, places=2,
    ),
    MeasureSpec(
        "med_rec", "medication", "Medicines reconciled within 24 hours of admission",
        "Adult admissions whose medicines a pharmacist reconciled within 24 hours, of all adult admissions.",
        "%", MeasureType.PROCESS, Direction.UP, "Pharmacy",
        months=27, before=62.0, after=79.0, noise=3.0, target=Decimal("90"), changed_months=10, scale=100, volume=1150,
    ),
    MeasureSpec(
        "ed_los", "flow", "Time in the emergency department",
        "Mean hours from arrival to leaving the emergency department, admitted and discharged patients.",
        "hours", MeasureType.OUTCOME, Direction.DOWN, "Emergency",
        months=27, before=6.8, after=5.6, noise=0.3, target=Decimal("4.0"), places=2,
    ),
    MeasureSpec(
        "noon", "flow", "Discharges before noon",
        "Ward discharges completed before 12:00, of all ward discharges.",
        "%", MeasureType.PROCESS, Direction.UP, "Nursing",
        months=24, before=18.5, after=18.5, noise=1.8, target=Decimal("33"), scale=100, volume=900, seed=19,
    ),
    MeasureSpec(
        "radiology_tat", "flow", "Radiology report turnaround",
        "Median hours from a scan being taken to its report being verified, all modalities.",
        "hours", MeasureType.PROCESS, Direction.DOWN, "Radiology",
        months=24, before=31.0, after=22.5, noise=2.0, target=Decimal("20"),
    ),
    MeasureSpec(
        "readmissions", "flow", "Readmissions within 7 days of discharge",
        "Emergency readmissions within 7 days, of all ward discharges: the balancing measure for earlier discharge.",
        "%", MeasureType.BALANCING, Direction.DOWN, "Nursing",
        months=27, before=4.8, after=4.8, noise=0.35, target=Decimal("4.5"), scale=100, volume=2100, places=2,
        seed=15,
    ),
)  # fmt: skip


# A change point where a measure's change was adopted (the first month of its step), with the reason.
CHANGE_POINTS = {
    "claims_cycle": "Lean standard work adopted at claims intake (checklist, single queue, same-day coding "
    "queries) after three PDSA cycles.",
}


@dataclass(frozen=True)
class Point:
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def _rounded(value: float, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def measure_series(spec: MeasureSpec) -> list[Point]:
    """The measure's monthly values, oldest first; the same every run (seeded by the measure's key)."""
    rng = random.Random(f"{RANDOM_SEED}:{spec.key}:{spec.seed}")
    first_changed = spec.months - spec.changed_months
    points = []
    for index in range(spec.months):
        # The change takes hold over two months, as real changes do.
        share = 0.0 if index < first_changed else (0.5 if index == first_changed else 1.0)
        value = spec.before + (spec.after - spec.before) * share + rng.gauss(0, spec.noise)
        points.append(_point(spec, value, rng))
    return points


def _point(spec: MeasureSpec, value: float, rng: random.Random) -> Point:
    if spec.scale is None:
        return Point(_rounded(value, spec.places))
    denominator = round(spec.volume * rng.uniform(0.92, 1.08))
    numerator = round(value / spec.scale * denominator)
    rate = _rounded(numerator / denominator * spec.scale, spec.places)
    return Point(rate, Decimal(numerator), Decimal(denominator))


def baseline_of(points: Sequence[Point], places: int) -> Decimal:
    """The early mean (the first twelve months): where the measure stood before the work began."""
    early = [p.value for p in points[:12]]
    return (sum(early) / len(early)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _create_priorities(user, owner: Employee, period: GoalPeriod) -> dict[str, QualityPriority]:
    return {
        spec.key: services.priority_create(
            user=user,
            data={
                "title": spec.title,
                "aim": spec.aim.format(year=period.start.year),
                "methodology": spec.methodology,
                "owner": owner,
                "period_start": period.start,
                "period_end": period.end,
            },
        )
        for spec in PRIORITIES
    }


def _create_measures(
    user, priorities: dict[str, QualityPriority], departments: dict[str, Department], today: datetime.date
) -> dict[str, QualityMeasure]:
    measures = {}
    for spec in MEASURES:
        points = measure_series(spec)
        measure = services.measure_create(
            user=user,
            data={
                "priority": priorities[spec.priority],
                "name": spec.name,
                "description": spec.description,
                "unit": spec.unit,
                "measure_type": spec.measure_type,
                "direction": spec.direction,
                "baseline": baseline_of(points, spec.places),
                "target": spec.target,
                "department": departments[spec.department],
            },
        )
        rows = [
            {"date": month, "value": p.value, "numerator": p.numerator, "denominator": p.denominator}
            for month, p in zip(months_before(today, spec.months), points, strict=True)
        ]
        services.observations_add_many(user=user, measure=measure, rows=rows)
        if spec.key in CHANGE_POINTS:
            # The month the change was adopted starts a new phase: limits of its own, no rule across it.
            month = months_before(today, spec.months)[spec.months - spec.changed_months]
            services.change_point_mark(user=user, measure=measure, date=month, reason=CHANGE_POINTS[spec.key])
        measures[spec.key] = measure
    return measures


# ---------------------------------------------------------------- the hospital's goals


@dataclass(frozen=True)
class Update:
    """A progress update: a percentage, a value (goals with a baseline and target) or a comment alone."""

    days_ago: int
    comment: str
    confidence: int = 2
    percent: int | None = None
    value: str | None = None


@dataclass(frozen=True)
class GoalSpec:
    title: str
    parent: str  # a priority key (department goals) or a department goal's key (individual goals)
    weight: int
    kind: str = GoalKind.PROCESS
    key: str = ""
    measure: str | None = None
    driven: bool = False  # progress comes from the linked measure
    baseline: str | None = None
    target: str | None = None
    contributors: tuple[str, ...] = ()
    hours: int = 0
    due: tuple[int, int] = (12, 31)  # month and day in the current period
    description: str = ""
    updates: tuple[Update, ...] = ()


@dataclass(frozen=True)
class Person:
    """A hospital person by department and job title; ``nth`` counts holders of the title in plan order."""

    department: str
    job_title: str
    nth: int = 0


@dataclass(frozen=True)
class GoalSetSpec:
    """A department's or a person's goals for the current period and where the set stands."""

    goals: tuple[GoalSpec, ...]
    department: str | None = None
    person: Person | None = None
    state: str = Approval.APPROVED
    comment: str = ""  # the approver's, when the set is returned
    updates_by: Person | None = None  # who writes a department goal's updates; the head by default


RESULT = GoalKind.RESULT
# Goals are set in the first weeks of the period; the oldest update is this many days old.
SETTING_TIME = datetime.timedelta(days=14)
OLDEST_UPDATE_DAYS = 200

DEPARTMENT_SETS = (
    GoalSetSpec(department="Claims processing", goals=(
        GoalSpec("Cut average claims cycle time from 9 to 5 days", "claims", 40, RESULT, key="claims_cycle",
                 measure="claims_cycle", driven=True, hours=4,
                 updates=(Update(12, "Cycle time has stayed below the old average for a year: the XmR chart "
                                    "shows a real shift, not luck. Coding queries are the next bottleneck.", 3),)),
        GoalSpec("Standard work at claims intake to lift first-pass yield to 90 %", "claims", 35, key="claims_fpy",
                 measure="claims_fpy", hours=10, due=(9, 30),
                 description="An intake checklist, a single queue and a daily review of rejected claims."),
        GoalSpec("Daily Lean huddles and a visual board for the claims team", "claims", 25, key="claims_huddle",
                 hours=6, due=(6, 30)),
    )),
    GoalSetSpec(department="Finance", goals=(
        GoalSpec("Post payer remittances within two working days of receipt", "claims", 60, RESULT,
                 key="finance_remit", contributors=("Claims processing",), hours=2,
                 updates=(Update(17, "2.4 working days on average in October, from 4.1 in January.", 2, 70),)),
        GoalSpec("Monthly cost-of-poor-quality report on claims rework", "claims", 40, key="finance_copq", hours=3,
                 updates=(Update(24, "Rework cost reported to the quality committee since June.", 3, 50),)),
    )),
    GoalSetSpec(department="Pharmacy", goals=(
        GoalSpec("Reduce medication administration errors to 2 per 1,000 doses", "medication", 40, RESULT,
                 key="med_errors", measure="med_errors", driven=True, contributors=("Nursing",), hours=4),
        GoalSpec("Pharmacist-led medicines reconciliation within 24 hours for 90 % of admissions", "medication", 35,
                 key="med_rec", measure="med_rec", contributors=("Nursing",), hours=8),
        GoalSpec("Three PDSA cycles on bedside barcode scanning", "medication", 25, key="barcode", hours=6,
                 due=(9, 30), description="Cycle 1 on Ward 4, cycle 2 on Ward 7, cycle 3 on every adult ward."),
    )),
    GoalSetSpec(department="Nursing", goals=(
        GoalSpec("Safer medication rounds on every adult ward", "medication", 35, key="rounds", hours=6,
                 description="Do-not-disturb tabards, protected round times and double checks on high-risk drugs."),
        GoalSpec("A third of ward discharges before noon", "flow", 40, RESULT, key="noon", measure="noon", hours=8,
                 updates=(Update(9, "No signal yet on discharges before noon: the Analyse phase found late "
                                    "discharge medicines (TTOs) and transport as the main causes.", 1),)),
        GoalSpec("Criteria-led discharge on Wards 4 and 7 without raising readmissions", "flow", 25, key="cld",
                 measure="readmissions", hours=4),
    )),
    GoalSetSpec(department="Emergency", goals=(
        GoalSpec("Cut time in the emergency department to 4 hours", "flow", 60, RESULT, key="ed_los",
                 measure="ed_los", driven=True, contributors=("Radiology",), hours=4,
                 updates=(Update(5, "Rapid assessment at triage moved the mean down by over an hour; "
                                    "waits for a bed are now the larger share.", 2),)),
        GoalSpec("Rapid assessment and treatment at triage (DMAIC Improve phase)", "flow", 40, key="triage",
                 hours=8, due=(10, 31)),
    )),
    GoalSetSpec(department="Radiology", goals=(
        GoalSpec("Cut radiology report turnaround from 31 to 20 hours", "flow", 55, RESULT, key="rad_tat",
                 measure="radiology_tat", driven=True, contributors=("Emergency",), hours=4),
        GoalSpec("Protected reporting sessions and a single reporting worklist", "flow", 45, key="rad_sessions",
                 hours=6),
    )),
    GoalSetSpec(department="Quality office", goals=(
        GoalSpec("Facilitate the claims value-stream map and two kaizen events", "claims", 30, key="qo_claims",
                 contributors=("Claims processing",), hours=16, due=(9, 30)),
        GoalSpec("Lead the medication-safety PDSA collaborative", "medication", 35, key="qo_medication",
                 contributors=("Pharmacy", "Nursing"), hours=16),
        GoalSpec("Take the patient-flow DMAIC project through Measure and Analyse", "flow", 35, key="qo_flow",
                 contributors=("Emergency", "Radiology", "Nursing"), hours=16, due=(8, 31)),
    )),
)  # fmt: skip

# Ward 7 of Nursing: the "manager" login leads it and the "employee" login is its first staff nurse.
EMPLOYEE = Person("Nursing", "Staff Nurse", 0)
MANAGER = Person("Nursing", "Ward Manager, Ward 7")
SUBMITTED_OWNER = Person("Nursing", "Staff Nurse", 1)
RETURNED_OWNER = Person("Nursing", "Senior Staff Nurse")

PERSONAL_SETS = (
    GoalSetSpec(person=EMPLOYEE, goals=(
        GoalSpec("Wear the do-not-disturb tabard on every medication round and log interruptions", "rounds", 30,
                 hours=2, updates=(Update(40, "Tabards in use on day shifts; nights start next week.", 2, 30),
                                   Update(11, "Interruptions per round down from 6 to 3 on the log.", 3, 55))),
        GoalSpec("Check the admission medicines list with the patient for every admission I take", "med_rec", 20,
                 hours=1, updates=(Update(20, "Checked with the patient on all my admissions this fortnight.", 3, 50),)),
        GoalSpec("Prepare next-day discharges the evening before", "noon", 30, RESULT, hours=2,
                 updates=(Update(6, "Evening preparation done for 14 of 20 next-day discharges; discharge "
                                    "medicines are the hold-up.", 2, 40),)),
        GoalSpec("Use criteria-led discharge for ten patients", "cld", 20, RESULT, baseline="0", target="10",
                 due=(9, 30), updates=(Update(3, "Training done; six criteria-led discharges so far.", 3, None, "6"),)),
    )),
    GoalSetSpec(person=MANAGER, goals=(
        GoalSpec("Audit one medication round a week on Ward 7 and feed back at the safety huddle", "rounds", 30,
                 hours=3, updates=(Update(15, "Twelve rounds audited; double checks now on every insulin dose.", 3, 60),)),
        GoalSpec("Lift Ward 7 discharges before noon from 18 % to 35 %", "noon", 40, RESULT, baseline="18",
                 target="35", hours=4,
                 updates=(Update(4, "24 % in October: better, but the board round still finishes too late.", 1,
                                 None, "24"),)),
        GoalSpec("Test a discharge lounge for Ward 7 patients (DMAIC Improve)", "cld", 30, hours=4, due=(11, 30)),
    )),
    GoalSetSpec(person=SUBMITTED_OWNER, state=Approval.SUBMITTED, goals=(
        GoalSpec("Scan the barcode for every dose on my medication rounds", "rounds", 50, hours=1),
        GoalSpec("Book transport for next-day discharges by 4 pm", "noon", 50, RESULT, hours=1),
    )),
    GoalSetSpec(
        person=RETURNED_OWNER, state=Approval.RETURNED,
        comment="Please make both measurable: how many rounds will you audit, and by when? And say what "
                "'help with discharges' means for Ward 7, for example leading the 9 am board round.",
        goals=(GoalSpec("Improve medication safety", "rounds", 60), GoalSpec("Help with discharges", "noon", 40)),
    ),
    GoalSetSpec(person=Person("Nursing", "Healthcare Assistant"), goals=(
        GoalSpec("Have paperwork and belongings ready by 11 am for every planned discharge", "noon", 60, RESULT,
                 updates=(Update(8, "Ready by 11 for most planned discharges this month.", 2, 45),)),
        GoalSpec("Report every interrupted medication round on the ward board", "rounds", 40),
    )),
    GoalSetSpec(person=Person("Nursing", "Ward Manager, Ward 4"), goals=(
        GoalSpec("Lead criteria-led discharge on Ward 4", "cld", 50, hours=4,
                 updates=(Update(10, "Criteria agreed with the consultants; first patients next week.", 2, 25),)),
        GoalSpec("Weekly medication-round audits on Ward 4", "rounds", 50, hours=3),
    )),
    GoalSetSpec(person=Person("Claims processing", "Claims Team Leader"), goals=(
        GoalSpec("Bring claims first-pass yield to 90 %", "claims_fpy", 50, RESULT, measure="claims_fpy", driven=True,
                 updates=(Update(7, "Intake checklist in use since the spring; first-pass yield around 86 %.", 3),)),
        GoalSpec("Run the daily claims huddle and keep the visual board current", "claims_huddle", 30, hours=4,
                 updates=(Update(14, "Huddle every day at 9:15; 31 ideas raised, 19 done.", 3, 70),)),
        GoalSpec("Map the claims intake value stream with the QI facilitator", "claims_fpy", 20, hours=6,
                 due=(6, 30), updates=(Update(60, "Current-state map finished; future state agreed.", 3, 100),)),
    )),
    GoalSetSpec(person=Person("Claims processing", "Claims Processor"), goals=(
        GoalSpec("Use the intake checklist on every claim I key", "claims_fpy", 60,
                 updates=(Update(9, "Checklist on every claim; rejections on my claims halved.", 3, 80),)),
        GoalSpec("Bring one improvement idea a week to the huddle", "claims_huddle", 40, hours=2),
    )),
    GoalSetSpec(person=Person("Claims processing", "Clinical Coder"), goals=(
        GoalSpec("Answer coding queries within one working day", "claims_fpy", 70, RESULT, baseline="3",
                 target="1", updates=(Update(5, "Averaging 1.8 days this month.", 2, None, "1.8"),)),
        GoalSpec("Teach ward clerks the five commonest coding errors", "claims_huddle", 30, hours=2),
    )),
    GoalSetSpec(person=Person("Pharmacy", "Lead Clinical Pharmacist"), goals=(
        GoalSpec("Reconcile medicines within 24 hours for 90 % of admissions", "med_rec", 50, RESULT,
                 measure="med_rec", driven=True),
        GoalSpec("Lead PDSA cycle 2 on barcode scanning on Ward 7", "barcode", 50, hours=8, due=(6, 30),
                 updates=(Update(30, "Cycle 2 studied: scanning rose from 61 % to 88 % of doses; adopting.", 3, 100),)),
    )),
    GoalSetSpec(person=Person("Pharmacy", "Clinical Pharmacist"), goals=(
        GoalSpec("Reconcile medicines for every admission on my wards within 24 hours", "med_rec", 60, RESULT,
                 updates=(Update(13, "Weekend admissions are the gap; proposing a Saturday session.", 2, 65),)),
        GoalSpec("Test the barcode-scanning prompt on Ward 4 (PDSA cycle 1)", "barcode", 40, hours=4, due=(3, 31),
                 updates=(Update(200, "Cycle 1 done: the prompt works, the scanners need charging docks.", 3, 100),)),
    )),
    GoalSetSpec(person=Person("Pharmacy", "Pharmacy Technician"), goals=(
        GoalSpec("Charging docks for bedside scanners on every adult ward (PDSA cycle 3)", "barcode", 60, RESULT,
                 hours=2, updates=(Update(12, "Docks fitted on four of ten wards.", 2, 40),)),
        GoalSpec("Have the admission medicines history ready for the pharmacist by 10 am", "med_rec", 40),
    )),
    GoalSetSpec(person=Person("Emergency", "Emergency Department Nurse Manager"), goals=(
        GoalSpec("A senior nurse at triage from 10:00 to 22:00 every day", "triage", 60, RESULT, hours=4,
                 updates=(Update(16, "Covered on 26 of 31 days in October.", 2, 80),)),
        GoalSpec("Escalate every patient in the department over 4 hours at the board round", "triage", 40),
    )),
    GoalSetSpec(person=Person("Emergency", "Emergency Nurse"), goals=(
        GoalSpec("Rapid assessment within 15 minutes of arrival for every patient I triage", "triage", 70, RESULT,
                 updates=(Update(2, "Median 12 minutes on my shifts this month.", 3, 75),)),
        GoalSpec("Complete the DMAIC Yellow Belt course", "qo_flow", 30, hours=4, due=(6, 30),
                 updates=(Update(90, "Course and project write-up complete.", 3, 100),)),
    )),
    GoalSetSpec(person=Person("Radiology", "Radiology Services Manager"), goals=(
        GoalSpec("Protected reporting sessions every weekday", "rad_sessions", 60, hours=4,
                 updates=(Update(18, "Sessions running four days a week; Fridays start in December.", 2, 75),)),
        GoalSpec("One reporting worklist for every modality", "rad_sessions", 40, RESULT, hours=2,
                 updates=(Update(25, "CT and MRI on the single worklist; ultrasound next.", 2, 50),)),
    )),
    GoalSetSpec(person=Person("Quality office", "Quality Improvement Manager"), goals=(
        GoalSpec("Facilitate two kaizen events in claims processing", "qo_claims", 30, hours=8,
                 updates=(Update(35, "First kaizen event done: intake checklist designed.", 3, 50),)),
        GoalSpec("Coach the medication-safety PDSA teams every fortnight", "qo_medication", 35, hours=8),
        GoalSpec("Publish SPC charts for every priority measure each month", "qo_flow", 35, RESULT, hours=4,
                 updates=(Update(1, "All eight measures charted for October.", 3, 90),)),
    )),
    GoalSetSpec(person=Person("Quality office", "QI Facilitator"), goals=(
        GoalSpec("Lead the claims value-stream mapping workshop", "qo_claims", 50, hours=12, due=(4, 30),
                 updates=(Update(150, "Workshop held with claims, coding and finance.", 3, 100),)),
        GoalSpec("Facilitate the patient-flow DMAIC team", "qo_flow", 50, hours=12,
                 updates=(Update(10, "Analyse phase: fishbone and Pareto of discharge delays done.", 2, 60),)),
    )),
    GoalSetSpec(person=Person("Quality office", "Quality Data Analyst"), goals=(
        GoalSpec("Automate the monthly emergency department length-of-stay extract", "qo_flow", 50, RESULT, hours=6),
        GoalSpec("Build the medication-error run chart from incident reports", "qo_medication", 50, RESULT, hours=6,
                 updates=(Update(45, "Run chart live on the quality dashboard.", 3, 100),)),
    )),
)  # fmt: skip


@dataclass
class HospitalContext:
    """What the hospital's goals are built from, looked up once, and what has been built."""

    period: GoalPeriod
    priorities: dict[str, QualityPriority]
    measures: dict[str, QualityMeasure]
    departments: dict[str, Department]
    staff: dict[tuple[str, str], list[Employee]]
    department_goals: dict[str, Goal] = field(default_factory=dict)
    # Every goal with its spec and the person who writes its updates (its owner, or the department's head).
    planned: list[tuple[Goal, GoalSpec, Employee]] = field(default_factory=list)
    # Each update with the progress it left (None: a comment on a goal whose progress is derived).
    updates: list[tuple[Goal, Update, Employee, Decimal | None]] = field(default_factory=list)

    def person(self, who: Person) -> Employee:
        return self.staff[(who.department, who.job_title)][who.nth]


def _hospital_staff() -> dict[tuple[str, str], list[Employee]]:
    staff: dict[tuple[str, str], list[Employee]] = defaultdict(list)
    employees = Employee.objects.filter(user__email__endswith=f"@{people_demo.HOSPITAL_EMAIL_DOMAIN}")
    for employee in employees.select_related("user", "department", "manager__user").order_by("employee_id"):
        staff[(employee.department.name, employee.job_title)].append(employee)
    return staff


def _new_goal(
    spec: GoalSpec, ctx: HospitalContext, *, author: Employee, owner: Employee | None = None, department=None
) -> Goal:
    """A draft goal, checked by the rules services.goal_create applies, not saved yet."""
    parent = ctx.department_goals.get(spec.parent)
    month, day = spec.due
    goal = Goal(
        level=GoalLevel.FUNCTIONAL if owner is None else GoalLevel.INDIVIDUAL,
        title=spec.title,
        description=spec.description,
        priority=ctx.priorities[spec.parent] if parent is None else parent.priority,
        parent_goal=parent,
        department=department if owner is None else owner.department,
        owner=owner,
        period=ctx.period,
        weight=spec.weight,
        kind=spec.kind,
        measure=ctx.measures.get(spec.measure or ""),
        baseline=None if spec.baseline is None else Decimal(spec.baseline),
        target=None if spec.target is None else Decimal(spec.target),
        progress_mode=ProgressMode.MEASURE if spec.driven else ProgressMode.MANUAL,
        due_date=datetime.date(ctx.period.start.year, month, day),
        improvement_hours_per_month=Decimal(spec.hours),
        created_by=author,
    )
    services.validate_goal(goal)
    ctx.planned.append((goal, spec, author))
    return goal


def _create_goals(ctx: HospitalContext) -> None:
    """Drafts of every set, one INSERT a level: department goals first, as individual goals hang on them."""
    for spec in DEPARTMENT_SETS:
        department = ctx.departments[spec.department]
        for goal_spec in spec.goals:
            goal = _new_goal(goal_spec, ctx, author=department.head, department=department)
            ctx.department_goals[goal_spec.key] = goal
    Goal.objects.bulk_create(ctx.department_goals.values())
    shared = Goal.contributing_departments.through
    shared.objects.bulk_create(
        shared(goal_id=ctx.department_goals[goal.key].pk, department_id=ctx.departments[name].pk)
        for spec in DEPARTMENT_SETS
        for goal in spec.goals
        for name in goal.contributors
    )
    individual = [
        _new_goal(goal_spec, ctx, author=ctx.person(spec.person), owner=ctx.person(spec.person))
        for spec in PERSONAL_SETS
        for goal_spec in spec.goals
    ]
    Goal.objects.bulk_create(individual)


def _settle_sets(ctx: HospitalContext) -> None:
    """Through the goal-setting workflow, by the people it names: the head submits and approves the
    department's set; each person submits theirs and their manager approves or returns it."""
    for spec in DEPARTMENT_SETS:
        department = ctx.departments[spec.department]
        goal_set = workflow.GoalSet(period=ctx.period, department=department)
        workflow.submit(user=department.head.user, goal_set=goal_set)
        workflow.approve(user=department.head.user, goal_set=goal_set, comment="Agreed at the quality committee.")
    for spec in PERSONAL_SETS:
        owner = ctx.person(spec.person)
        goal_set = workflow.GoalSet(period=ctx.period, owner=owner)
        workflow.submit(user=owner.user, goal_set=goal_set)
        if spec.state == Approval.APPROVED:
            workflow.approve(user=owner.manager.user, goal_set=goal_set)
        elif spec.state == Approval.RETURNED:
            workflow.return_for_changes(user=owner.manager.user, goal_set=goal_set, comment=spec.comment)


def _apply_updates(ctx: HospitalContext) -> None:
    """Move the goals that take a percentage or a value by their updates, oldest first, as
    progress.record_update would (its formulas), and store the results in one query."""
    moved = []
    for goal, spec, author in ctx.planned:
        for update in sorted(spec.updates, key=lambda u: -u.days_ago):
            after = _progress_after(goal, update)
            ctx.updates.append((goal, update, author, after))
            if after is not None:
                goal.progress = after
                moved.append(goal)
    Goal.objects.bulk_update(set(moved), ["progress"])


def _progress_after(goal: Goal, update: Update) -> Decimal | None:
    if update.value is not None:
        return progress.progress_towards(baseline=goal.baseline, target=goal.target, latest=Decimal(update.value))
    if update.percent is not None:
        return progress.clamp_percent(Decimal(update.percent))
    return None


def _refresh_progress(ctx: HospitalContext) -> None:
    """Measure-driven goals from their data, then every parent and priority from its children."""
    for measure in ctx.measures.values():
        progress.refresh_measure_driven(measure)
    progress.rollup_from(goal for goal, _, _ in ctx.planned)


def _write_updates(ctx: HospitalContext) -> None:
    """The updates as feed entries, spread over the months since the goals were set."""
    stored = dict(Goal.objects.filter(pk__in=[g.pk for g, _, _ in ctx.planned]).values_list("pk", "progress"))
    records = [
        GoalUpdate(
            goal=goal,
            author=author,
            value=None if update.value is None else Decimal(update.value),
            percent=None if update.percent is None else Decimal(update.percent),
            confidence=update.confidence,
            comment=update.comment,
            progress_after=stored[goal.pk] if after is None else after,
        )
        for goal, update, author, after in ctx.updates
    ]
    GoalUpdate.objects.bulk_create(records)
    now, set_at = timezone.now(), _set_at(ctx.period)
    scale = min(1.0, (now - set_at) / datetime.timedelta(days=OLDEST_UPDATE_DAYS))
    for record, (_, update, _, _) in zip(records, ctx.updates, strict=True):
        # Creation stamps "now"; date each update back (compressed early in the period).
        record.created_at = now - datetime.timedelta(days=update.days_ago * scale, hours=update.days_ago % 7 * scale)
    GoalUpdate.objects.bulk_update(records, ["created_at"])


def _set_at(period: GoalPeriod) -> datetime.datetime:
    """When the demo's goals were set: the first weeks of the period (or now, on its first days)."""
    start = timezone.make_aware(datetime.datetime.combine(period.start, datetime.time(9)))
    return min(timezone.now(), start + SETTING_TIME)


def _date_goal_setting(ctx: HospitalContext) -> None:
    """Goals and settled sets dated to the start of the period; the sets still open stay recent."""
    set_at = _set_at(ctx.period)
    Goal.objects.filter(pk__in=[goal.pk for goal, _, _ in ctx.planned]).update(created_at=set_at)
    open_sets = [ctx.person(spec.person) for spec in PERSONAL_SETS if spec.state != Approval.APPROVED]
    GoalSetEvent.objects.filter(period=ctx.period).exclude(owner__in=open_sets).update(created_at=set_at)


def _hospital_goals(ctx: HospitalContext) -> None:
    _create_goals(ctx)
    _settle_sets(ctx)
    _apply_updates(ctx)
    _refresh_progress(ctx)
    _write_updates(ctx)
    _date_goal_setting(ctx)


def hospital_loaded() -> bool:
    return QualityPriority.objects.filter(owner__user__username=QUALITY_LOGIN, title=PRIORITIES[0].title).exists()


def seed_hospital() -> SeedResult:
    """The article's three priorities, their measures and the hospital's goals, owned by the quality lead."""
    with transaction.atomic():
        if hospital_loaded():
            return SeedResult(
                False, "The demo hospital's priorities and goals are already loaded; nothing was changed."
            )
        quality = Employee.objects.select_related("user").filter(user__username=QUALITY_LOGIN).first()
        if quality is None:
            raise people_demo.SeedConflict("Load the demo hospital's people (people.demo) before its goals.")
        today = timezone.localdate()
        period, _previous = goal_periods(today)
        departments = {d.name: d for d in Department.objects.select_related("head__user")}
        priorities = _create_priorities(quality.user, quality, period)
        measures = _create_measures(quality.user, priorities, departments, today)
        ctx = HospitalContext(period, priorities, measures, departments, _hospital_staff())
        _hospital_goals(ctx)
    return SeedResult(
        True,
        f"Loaded the quality priorities: {len(priorities)} priorities, {len(measures)} measures, "
        f"{len(ctx.planned)} goals, {len(ctx.updates)} progress updates.",
    )


# ---------------------------------------------------------------- the synthetic organisation

SYNTHETIC_MEASURES = ("claims_cycle", "med_errors", "ed_los")
SYNTHETIC_GOALS_PER_PERSON = 5
# Five weights totalling 100, varied from person to person.
WEIGHT_PATTERNS = ((30, 25, 20, 15, 10), (20, 20, 20, 20, 20), (40, 20, 20, 10, 10), (25, 25, 20, 15, 15))
SYNTHETIC_TITLES = (
    "Standardise the handover checklist",
    "Cut waiting time for the first appointment",
    "Run a PDSA cycle on the booking process",
    "Reduce rework on incomplete referrals",
    "Report every near miss within 24 hours",
    "Map the discharge process with the team",
    "Lift first-time-right documentation",
    "Complete improvement-science training",
    "Test a daily safety huddle",
    "Cut turnaround of results to the ward",
)


def synthetic_loaded() -> bool:
    return QualityPriority.objects.filter(title__startswith=SYNTHETIC_PREFIX).exists()


def seed_synthetic(size: int) -> SeedResult:
    """About five approved goals for each of the synthetic organisation's ``size`` people, in bulk."""
    with transaction.atomic():
        if synthetic_loaded():
            return SeedResult(False, "The synthetic organisation's goals are already loaded.")
        staff = list(
            Employee.objects.filter(user__email__endswith=f"@{people_demo.SYNTHETIC_EMAIL_DOMAIN}")
            .select_related("department")
            .order_by("pk")
        )
        if len(staff) != size:
            raise people_demo.SeedConflict(
                f"The synthetic organisation has {len(staff)} people, not {size}; load its people first."
            )
        period, _previous = goal_periods(timezone.localdate())
        priorities = _synthetic_priorities(staff[0], period)
        functional = _synthetic_functional_goals(staff, priorities, period)
        individual = _synthetic_individual_goals(staff, priorities, functional, period)
        rollup_in_bulk(priorities)
    return SeedResult(True, f"Loaded the synthetic goals: {len(functional) + individual} goals for {size} people.")


def _synthetic_priorities(owner: Employee, period: GoalPeriod) -> list[QualityPriority]:
    today = timezone.localdate()
    priorities = QualityPriority.objects.bulk_create(
        QualityPriority(
            title=f"{SYNTHETIC_PREFIX}{spec.title}",
            aim=spec.aim.format(year=period.start.year),
            methodology=spec.methodology,
            owner=owner,
            period_start=period.start,
            period_end=period.end,
        )
        for spec in PRIORITIES
    )
    specs = {spec.key: spec for spec in MEASURES}
    observations = []
    for priority, key in zip(priorities, SYNTHETIC_MEASURES, strict=True):
        spec = replace(specs[key], months=24, changed_months=8)
        points = measure_series(spec)
        measure = QualityMeasure.objects.create(
            priority=priority,
            name=f"{SYNTHETIC_PREFIX}{spec.name}",
            unit=spec.unit,
            measure_type=spec.measure_type,
            direction=spec.direction,
            baseline=baseline_of(points, spec.places),
            target=spec.target,
            department=owner.department,
        )
        observations += [
            Observation(measure=measure, date=month, value=p.value, numerator=p.numerator, denominator=p.denominator)
            for month, p in zip(months_before(today, spec.months), points, strict=True)
        ]
    Observation.objects.bulk_create(observations)
    return priorities


def _synthetic_functional_goals(
    staff: list[Employee], priorities: list[QualityPriority], period: GoalPeriod
) -> dict[int, list[Goal]]:
    """Two approved goals for each department, under two different priorities, weighted 60 and 40."""
    departments = sorted({e.department for e in staff}, key=lambda d: d.pk)
    goals = []
    for index, department in enumerate(departments):
        for offset, (weight, kind) in enumerate(((60, GoalKind.RESULT), (40, GoalKind.PROCESS))):
            priority = priorities[(index + offset) % len(priorities)]
            goals.append(
                Goal(
                    level=GoalLevel.FUNCTIONAL,
                    title=f"{department.name}: {priority.title.removeprefix(SYNTHETIC_PREFIX).lower()}",
                    priority=priority,
                    department=department,
                    period=period,
                    weight=weight,
                    kind=kind,
                    approval=Approval.APPROVED,
                    due_date=period.end,
                    improvement_hours_per_month=Decimal(4 * (offset + 1)),
                )
            )
    Goal.objects.bulk_create(goals, batch_size=BATCH_SIZE)
    by_department: dict[int, list[Goal]] = defaultdict(list)
    for goal in goals:
        by_department[goal.department_id].append(goal)
    return by_department


def _synthetic_individual_goals(
    staff: list[Employee], priorities: list[QualityPriority], functional: dict[int, list[Goal]], period: GoalPeriod
) -> int:
    """Five approved goals a person, weights totalling 100, mostly under their own or their division's
    department goals and one in ten straight under a priority; written as rows, with COPY on
    PostgreSQL (people.bulk.copy_values): half a million goals for 100,000 people."""
    rng = random.Random(RANDOM_SEED)
    parents_of = {d.pk: functional[d.pk] + functional.get(d.parent_id, []) for d in {e.department for e in staff}}
    rows = []
    for index, employee in enumerate(staff):
        weights = WEIGHT_PATTERNS[index % len(WEIGHT_PATTERNS)]
        parents = parents_of[employee.department_id]
        for slot, weight in enumerate(weights):
            spot = index + slot
            parent = None if spot % 10 == 0 else parents[spot % len(parents)]
            priority_id = priorities[spot % len(priorities)].pk if parent is None else parent.priority_id
            rows.append(_synthetic_goal(employee, parent, priority_id, period, weight, slot, rng))
    return bulk.copy_values(Goal, SYNTHETIC_GOAL_COLUMNS, rows)


HOURS = tuple(Decimal(2 * slot) for slot in range(3))


# The columns of a synthetic goal, in the order _synthetic_goal gives them; the rest take their defaults.
SYNTHETIC_GOAL_COLUMNS = (
    "level", "title", "priority_id", "parent_goal_id", "department_id", "owner_id", "period_id", "weight",
    "kind", "progress", "approval", "due_date", "improvement_hours_per_month", "created_by_id",
)  # fmt: skip


def _synthetic_goal(
    owner: Employee,
    parent: Goal | None,
    priority_id: int,
    period: GoalPeriod,
    weight: int,
    slot: int,
    rng: random.Random,
) -> tuple[object, ...]:
    # A row rather than a Goal: half a million of these are built, and a model instance a row
    # cost more than writing them (people.bulk.copy_values).
    return (
        GoalLevel.INDIVIDUAL.value,
        SYNTHETIC_TITLES[(owner.pk + slot) % len(SYNTHETIC_TITLES)],
        priority_id,
        None if parent is None else parent.pk,
        owner.department_id,
        owner.pk,
        period.pk,
        weight,
        (GoalKind.PROCESS if slot % 2 else GoalKind.RESULT).value,
        Decimal(rng.randrange(0, 10001)) / 100,
        Approval.APPROVED.value,
        period.end,
        HOURS[slot % 3],
        owner.pk,
    )


def rollup_in_bulk(priorities: Sequence[QualityPriority]) -> None:
    """Store every department goal's and priority's progress from their children, in a few queries.

    The same weighted mean as cascade.progress.rollup_from, grouped by parent rather than
    one parent at a time: individual goals into department goals, then roots into priorities.
    """
    counted = progress.counted_goals().order_by()
    totals = {"weighted": Sum(F("progress") * F("weight")), "weights": Sum("weight")}
    children = counted.filter(priority__in=priorities, parent_goal__isnull=False).values("parent_goal_id")
    parents = [Goal(pk=row["parent_goal_id"], progress=_mean(row)) for row in children.annotate(**totals)]
    Goal.objects.bulk_update(parents, ["progress"], batch_size=BATCH_SIZE)
    roots = {
        row["priority_id"]: _mean(row)
        for row in counted.filter(progress.IN_PRIORITY_PERIOD, priority__in=priorities, parent_goal__isnull=True)
        .values("priority_id")
        .annotate(**totals)
    }
    for priority in priorities:
        QualityPriority.objects.filter(pk=priority.pk).update(progress=roots.get(priority.pk, Decimal("0.00")))


def _mean(row: dict[str, object]) -> Decimal:
    if not row["weights"]:
        return Decimal("0.00")
    return progress.clamp_percent(Decimal(row["weighted"]) / Decimal(row["weights"]))

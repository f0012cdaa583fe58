"""Demo data for competencies: the QI competency library, four rating scales and
one published appraisal form per methodology, assigned to the demo hospital's
departments.

``manage.py seed_demo`` calls ``seed_hospital()`` (and ``seed_synthetic(size)``)
after the people app has loaded the organisation. Both are safe to run again:
whatever already exists (by name, ignoring case) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from competencies.models import (
    AppraisalForm,
    AssignmentRule,
    BehaviouralIndicator,
    Competency,
    DialogueQuestion,
    FormCompetency,
    FormVersion,
    Methodology,
    RatingScale,
    ScaleLevel,
)
from competencies.services import DEFAULT_QUESTIONS, publish_version, validation
from people.models import Department


@dataclass
class SeedResult:
    created: bool
    message: str


# ---------------------------------------------------------------- the library

PROCESS_THINKING = "Process thinking"
DATA_INFORMED = "Data-informed decision making"
COLLABORATIVE = "Collaborative problem solving"
CHANGE_MANAGEMENT = "Change management"

COMPETENCIES: dict[str, tuple[str, tuple[str, str, str, str, str]]] = {
    PROCESS_THINKING: (
        "Sees work as a chain of steps that can be drawn, measured and redesigned — from a patient's arrival "
        "on the ward to a claim's payment.",
        (
            "Describes their own tasks but not the steps before and after them; workarounds are treated as part "
            "of the job.",
            "Helps the team map a process and can point to where hand-offs, waits or rework happen.",
            "Maps a process end to end on their own (a discharge, a claim's route through coding and billing), "
            "separates the steps that help the patient from waste, and proposes a redesign.",
            "Leads redesigns across a department, writes the new standard work so the gain holds, and coaches "
            "colleagues in mapping.",
            "Shapes how the hospital designs processes across departments; teams ask for their view before "
            "changing a service.",
        ),
    ),
    DATA_INFORMED: (
        "Reads process measures — error rates, waiting times, turnaround — and lets them, not impressions, "
        "decide what to try next.",
        (
            "Uses data when it is handed over; reads one figure without asking how it varies from week to week.",
            "Keeps a simple tally or run chart of their own work and notices when the numbers move.",
            "Picks a measure that will show whether a change helps, plots it over time, and tells a real signal "
            "from ordinary variation before acting.",
            "Builds the measurement plan for the team's improvement work, balancing measures included, and "
            "challenges decisions taken on a single data point.",
            "Sets how the hospital measures improvement and teaches leaders to read run and SPC charts.",
        ),
    ),
    COLLABORATIVE: (
        "Works with other professions and departments to find the root causes of a problem and agree a fix "
        "that works for everyone who shares the process.",
        (
            "Raises problems with their manager, rarely with the colleagues who share the process.",
            "Joins huddles and root-cause sessions and says what the problem looks like from their role.",
            "Brings the right people together — nurses, pharmacists, porters, coders — runs a root-cause "
            "analysis and agrees who does what next.",
            "Resolves problems that cross department lines, keeps disagreement about the process rather than "
            "the people, and sees actions through.",
            "Builds lasting links between teams so that problems are solved where they start instead of "
            "being escalated.",
        ),
    ),
    CHANGE_MANAGEMENT: (
        "Plans, explains and sustains changes to how work is done, so that an improvement outlives the "
        "project that made it.",
        (
            "Follows a new way of working once told to, and may slip back to the old one under pressure.",
            "Explains to colleagues why a change is happening and reports where it is not working.",
            "Plans a change with the people it affects, tests it small first and adjusts it before spreading it.",
            "Leads change across a service: expects resistance, secures time and resources, and builds in "
            "checks that keep the new process in place.",
            "Guides the hospital through large changes and spreads what works between sites, so that gains "
            "last for years.",
        ),
    ),
}

# ---------------------------------------------------------------- scales

LEAN_SCALE = "Lean 1–5"
BELT_SCALE = "Six Sigma belt scale"
PDSA_SCALE = "PDSA maturity scale"
PLAIN_SCALE = "Plain 1–5"

SCALES: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    LEAN_SCALE: (
        Methodology.LEAN,
        "How far someone practises Lean in their daily work.",
        (
            ("Learner", "Knows the basic kinds of waste and follows standard work."),
            ("Participant", "Takes part in improvement events and suggests changes in their own area."),
            ("Practitioner", "Improves their own area with value-stream maps, 5S and standard work."),
            ("Coach", "Leads improvement events and coaches others in Lean tools."),
            ("Lean leader", "Builds Lean habits across the service and keeps them going."),
        ),
    ),
    BELT_SCALE: (
        Methodology.SIX_SIGMA,
        "Six Sigma proficiency, White Belt to Master Black Belt.",
        (
            ("White Belt", "Knows the DMAIC vocabulary and supplies data from their own work to projects."),
            ("Yellow Belt", "Takes part in projects and collects and charts their data."),
            ("Green Belt", "Leads small DMAIC projects within their department."),
            ("Black Belt", "Leads complex projects across departments and coaches Green Belts."),
            ("Master Black Belt", "Steers the improvement programme and trains Black Belts."),
        ),
    ),
    PDSA_SCALE: (
        Methodology.PDSA,
        "How mature someone's use of Plan-Do-Study-Act cycles is.",
        (
            ("Aware", "Knows what a PDSA cycle is and joins one when asked."),
            ("Planning", "Writes a plan with a prediction and a measure before testing a change."),
            ("Testing", "Runs small tests of change and records what happened against the prediction."),
            ("Learning", "Studies the results, adapts or abandons the change, and links cycles together."),
            ("Spreading", "Spreads tested changes to other teams and helps them run their own cycles."),
        ),
    ),
    PLAIN_SCALE: (
        Methodology.GENERIC,
        "A plain five-point scale for any goal or competency.",
        (
            ("Unsatisfactory", "Well below what was agreed."),
            ("Needs improvement", "Some of what was agreed, with clear gaps."),
            ("Meets expectations", "What was agreed, done well."),
            ("Exceeds expectations", "More than was agreed, or harder than expected."),
            ("Outstanding", "Exceptional, and an example to others."),
        ),
    ),
}

# ---------------------------------------------------------------- forms

# name: (methodology, description, goals weight, competency scale, [(competency, weight)], departments)
# Goals are rated on the plain scale everywhere: they are about achievement, not proficiency.
FORMS: dict[str, tuple[str, str, int, str, tuple[tuple[str, int], ...], tuple[str, ...]]] = {
    "Lean appraisal": (
        Methodology.LEAN,
        "For teams that improve flow with Lean, such as claims processing.",
        60,
        LEAN_SCALE,
        ((PROCESS_THINKING, 40), (DATA_INFORMED, 20), (COLLABORATIVE, 20), (CHANGE_MANAGEMENT, 20)),
        ("Claims processing",),
    ),
    "Six Sigma appraisal": (
        Methodology.SIX_SIGMA,
        "For services that reduce variation with DMAIC projects. Weighted heavily on results: "
        "the builder warns about it.",
        75,
        BELT_SCALE,
        ((DATA_INFORMED, 40), (PROCESS_THINKING, 30), (COLLABORATIVE, 15), (CHANGE_MANAGEMENT, 15)),
        ("Radiology",),
    ),
    "PDSA appraisal": (
        Methodology.PDSA,
        "For clinical teams that test changes in Plan-Do-Study-Act cycles.",
        55,
        PDSA_SCALE,
        ((CHANGE_MANAGEMENT, 30), (COLLABORATIVE, 30), (DATA_INFORMED, 20), (PROCESS_THINKING, 20)),
        ("Pharmacy", "Nursing"),
    ),
    "General appraisal": (
        Methodology.GENERIC,
        "For everyone whom no other form is assigned to.",
        60,
        PLAIN_SCALE,
        ((PROCESS_THINKING, 25), (DATA_INFORMED, 25), (COLLABORATIVE, 25), (CHANGE_MANAGEMENT, 25)),
        (),
    ),
}
DEFAULT_FORM = "General appraisal"


def seed_hospital() -> SeedResult:
    """The library, scales and forms, with rules for whichever demo departments exist."""
    with transaction.atomic():
        created = _seed()
    if not created:
        return SeedResult(False, "The competency library and appraisal forms are already loaded; nothing was changed.")
    return SeedResult(True, f"Loaded the competency library and appraisal forms: created {', '.join(created)}.")


def seed_synthetic(size: int) -> SeedResult:
    """The same library and forms for a synthetic organisation (its departments get the default form)."""
    return seed_hospital()


def _seed() -> list[str]:
    created: list[str] = []
    competencies = {name: _competency(name, created) for name in COMPETENCIES}
    scales = {name: _scale(name, created) for name in SCALES}
    for name in FORMS:
        form = _form(name, competencies, scales, created)
        _rules(name, form, created)
    return created


def _competency(name: str, created: list[str]) -> Competency:
    existing = Competency.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    description, indicators = COMPETENCIES[name]
    competency = Competency.objects.create(name=name, description=description, category="Quality improvement")
    BehaviouralIndicator.objects.bulk_create(
        BehaviouralIndicator(competency=competency, level=level, text=text)
        for level, text in enumerate(indicators, start=1)
    )
    created.append(f"competency “{name}”")
    return competency


def _scale(name: str, created: list[str]) -> RatingScale:
    existing = RatingScale.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    methodology, description, levels = SCALES[name]
    specs = [validation.LevelSpec(Decimal(n), label, descriptor) for n, (label, descriptor) in enumerate(levels, 1)]
    validation.validate_levels(specs)
    scale = RatingScale.objects.create(name=name, methodology=methodology, description=description)
    ScaleLevel.objects.bulk_create(
        ScaleLevel(scale=scale, order=order, value=s.value, label=s.label, descriptor=s.descriptor)
        for order, s in enumerate(specs, start=1)
    )
    created.append(f"scale “{name}”")
    return scale


def _form(
    name: str, competencies: dict[str, Competency], scales: dict[str, RatingScale], created: list[str]
) -> AppraisalForm:
    existing = AppraisalForm.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    methodology, description, goals_weight, scale_name, rows, _ = FORMS[name]
    form = AppraisalForm.objects.create(name=name, methodology=methodology, description=description)
    version = FormVersion.objects.create(
        form=form,
        number=1,
        goals_weight=goals_weight,
        goals_scale=scales[PLAIN_SCALE],
        competencies_weight=100 - goals_weight,
    )
    FormCompetency.objects.bulk_create(
        FormCompetency(version=version, competency=competencies[c], weight=w, scale=scales[scale_name], order=i)
        for i, (c, w) in enumerate(rows)
    )
    DialogueQuestion.objects.bulk_create(
        DialogueQuestion(version=version, key=key, text=text, help_text=help_text, order=i)
        for i, (key, text, help_text) in enumerate(DEFAULT_QUESTIONS)
    )
    publish_version(version)
    created.append(f"form “{name}”")
    return form


def _rules(name: str, form: AppraisalForm, created: list[str]) -> None:
    if name == DEFAULT_FORM:
        if not AssignmentRule.objects.filter(is_default=True).exists():
            AssignmentRule.objects.create(form=form, is_default=True)
            created.append("the default rule")
        return
    for department in Department.objects.filter(name__in=FORMS[name][5]):
        if not AssignmentRule.objects.filter(department=department, job_title="").exists():
            AssignmentRule.objects.create(form=form, department=department)
            created.append(f"the rule for {department.name}")

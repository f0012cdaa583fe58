"""Read models for the alignment pages: the dashboard, the findings list and a finding's drill-down.

Every function issues a fixed number of queries however many findings, runs or people
there are: counts are grouped in the database, the findings drawn on the dashboard are
cut per group by a window function before they are read, and a finding's drill-down
reads each kind of record (goals, people, forms, plans, priorities, departments) in one
query.

A finding stores its rule's key; the rule's title and pitfall come from the registry
(audits.rules), so grouping by pitfall happens here, in Python, over rows already
grouped by rule in the database.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.text import slugify

from audits import access
from audits.models import ACTIVE_STATUSES, AuditRun, Finding, FindingStatus, Severity, SubjectType
from audits.rules import all_rules, get_rule
from audits.rules.base import Rule
from audits.selectors import runs as selectors
from cascade import charts
from cascade.models import Goal, QualityPriority
from competencies.models import AppraisalForm
from incentives.models import IncentivePlan
from people.models import Department, Employee

User = AbstractBaseUser | AnonymousUser

SHOWN_PER_GROUP = 5  # findings drawn per pitfall and department on the dashboard; the counts say how many more
TREND_RUNS = 30  # runs on the score chart
DRILL_SHOWN = 100  # records listed per kind in a finding's drill-down
SEVERITY_ORDER = [Severity.HIGH, Severity.MEDIUM, Severity.LOW]
NO_DEPARTMENT = "Whole organisation"
OTHER_PITFALL = "Other checks"


# ---------------------------------------------------------------- rules and pitfalls


@dataclass(frozen=True)
class RuleInfo:
    key: str
    title: str
    pitfall: str
    pitfall_slug: str
    description: str = ""


def rule_info(key: str) -> RuleInfo:
    """The rule behind a finding, or a stand-in when the rule no longer exists (old findings stay readable)."""
    try:
        rule = get_rule(key)
    except KeyError:
        return RuleInfo(key=key, title=key.replace("_", " ").capitalize(), pitfall=OTHER_PITFALL, pitfall_slug="other")
    return _info(rule)


def _info(rule: type[Rule]) -> RuleInfo:
    return RuleInfo(
        key=rule.key,
        title=rule.title,
        pitfall=rule.pitfall,
        pitfall_slug=slugify(rule.pitfall),
        description=plain_description(rule),
    )


def plain_description(rule: type[Rule]) -> str:
    """The rule's description with its thresholds' keys ("min_hours") given as the labels HR sees
    on the settings page, so that the words match the fields."""
    text = rule.description
    for threshold in rule.thresholds:
        label = f"“{threshold.label}”"
        text = re.sub(rf"\b{re.escape(threshold.key)}\b", lambda _match, label=label: label, text)
    return text


def pitfall_choices() -> list[tuple[str, str]]:
    """Every pitfall the registered rules belong to, in run order."""
    seen: dict[str, str] = {}
    for rule in all_rules():
        seen.setdefault(slugify(rule.pitfall), rule.pitfall)
    return list(seen.items())


def rule_choices() -> list[tuple[str, str]]:
    return [(rule.key, rule.title) for rule in all_rules()]


def rules_of_pitfall(slug: str) -> list[str]:
    return [rule.key for rule in all_rules() if slugify(rule.pitfall) == slug]


def severity_rank() -> Case:
    """High first: an expression to order findings by severity in the database."""
    return Case(
        *(When(severity=value, then=Value(rank)) for rank, value in enumerate(SEVERITY_ORDER)),
        default=Value(len(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )


# ---------------------------------------------------------------- the dashboard


@dataclass
class SeverityCounts:
    high: int = 0
    medium: int = 0
    low: int = 0

    @property
    def total(self) -> int:
        return self.high + self.medium + self.low

    def add(self, severity: str, n: int) -> None:
        if severity in (Severity.HIGH, Severity.MEDIUM, Severity.LOW):
            setattr(self, str(severity), getattr(self, str(severity)) + n)

    def badges(self) -> list[tuple[str, str, int]]:
        """(severity, label, count) for the severities present, high first."""
        return [(str(s), s.label, getattr(self, str(s))) for s in SEVERITY_ORDER if getattr(self, str(s))]

    def sort_key(self) -> tuple[int, int, int, int]:
        return (-self.high, -self.medium, -self.low, -self.total)


@dataclass
class DepartmentGroup:
    department_id: int | None
    name: str
    counts: SeverityCounts = field(default_factory=SeverityCounts)
    findings: list[Finding] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.counts.total - len(self.findings)


@dataclass
class PitfallGroup:
    pitfall: str
    slug: str
    counts: SeverityCounts = field(default_factory=SeverityCounts)
    departments: list[DepartmentGroup] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)


@dataclass
class DepartmentScoreRow:
    department_id: int | None
    name: str
    people: int
    aligned: int
    score: Decimal | None


@dataclass
class Overview:
    latest: AuditRun | None  # the latest succeeded run: the score's source
    previous: AuditRun | None  # the succeeded run before it
    change: Decimal | None  # latest score − previous score, in percentage points
    last_run: AuditRun | None  # the latest run in any state: what the "Run now" card shows
    trend: list[AuditRun]
    chart: dict[str, Any] | None
    departments: list[DepartmentScoreRow]
    groups: list[PitfallGroup]
    open_total: int
    open_counts: SeverityCounts

    @property
    def change_size(self) -> Decimal | None:
        return abs(self.change) if self.change is not None else None


def overview(*, user: User) -> Overview:
    trend = [run for run in selectors.score_trend(limit=TREND_RUNS)]
    latest = selectors.latest_run()
    previous = _previous(trend, latest)
    change = None
    if latest and previous and latest.alignment_score is not None and previous.alignment_score is not None:
        change = latest.alignment_score - previous.alignment_score
    groups, counts = open_finding_groups(access.findings_visible_to(user))
    return Overview(
        latest=latest,
        previous=previous,
        change=change,
        last_run=access.runs_visible_to(user).order_by("-created_at", "-pk").first(),
        trend=trend,
        chart=score_chart(trend),
        departments=department_scores(latest),
        groups=groups,
        open_total=counts.total,
        open_counts=counts,
    )


def _previous(trend: list[AuditRun], latest: AuditRun | None) -> AuditRun | None:
    if latest is None:
        return None
    earlier = [run for run in trend if run.pk != latest.pk]
    if not earlier:
        return None
    # The trend is oldest first; the run just before the latest is the last of the others
    # that finished before it.
    before = [run for run in earlier if _when(run) <= _when(latest)]
    return before[-1] if before else None


def _when(run: AuditRun) -> datetime.datetime:
    return run.finished_at or run.created_at


def score_chart(trend: Iterable[AuditRun]) -> dict[str, Any] | None:
    """The organisation alignment score over runs, in the run-chart contract of cascade.charts.

    A run chart (median, shifts, trends) rather than a bare line: it tells a real change
    in alignment from the ups and downs of chance, as it does for a quality measure.
    """
    points = [(_when(run), run.alignment_score) for run in trend if run.alignment_score is not None]
    if not points:
        return None
    chart = charts.chart_for(points, direction="up").as_dict()
    chart.update(title="Organisation alignment score", unit="%")
    return chart


def department_scores(run: AuditRun | None) -> list[DepartmentScoreRow]:
    """The run's department scores, worst first; departments with nobody in scope last."""
    if run is None:
        return []
    rows = []
    for item in run.department_scores or []:
        if not isinstance(item, Mapping):
            continue
        rows.append(
            DepartmentScoreRow(
                department_id=item.get("department"),
                name=str(item.get("name") or NO_DEPARTMENT),
                people=int(item.get("people") or 0),
                aligned=int(item.get("aligned") or 0),
                score=_decimal(item.get("score")),
            )
        )
    rows.sort(key=lambda r: (r.score is None, r.score if r.score is not None else Decimal(0), r.name))
    return rows


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def open_finding_groups(findings: QuerySet[Finding]) -> tuple[list[PitfallGroup], SeverityCounts]:
    """Active findings by pitfall, then department, with counts by severity: two queries.

    The worst groups come first (most high-severity findings, then medium, then low); the
    findings drawn in each group are its most severe, most recently seen.
    """
    active = findings.filter(status__in=ACTIVE_STATUSES)
    totals = SeverityCounts()
    pitfalls: dict[str, PitfallGroup] = {}
    departments: dict[tuple[str, int | None], DepartmentGroup] = {}
    names: dict[int, str] = {}

    # The findings to draw, at most SHOWN_PER_GROUP per rule and department (the groups are
    # finer than pitfall × department, so each pitfall × department has enough to cut from).
    shown = (
        active.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("rule"), F("department_id")],
                order_by=[severity_rank().asc(), F("last_seen_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=SHOWN_PER_GROUP)
        .select_related("department")
        .only(
            "pk",
            "rule",
            "severity",
            "status",
            "subject_type",
            "subject_label",
            "message",
            "last_seen_at",
            "department__name",
        )
    )
    samples: list[Finding] = list(shown)
    for finding in samples:
        if finding.department_id is not None:
            names[finding.department_id] = finding.department.name

    for row in active.values("rule", "department_id", "severity").annotate(n=Count("pk")).order_by():
        info = rule_info(row["rule"])
        group = pitfalls.get(info.pitfall_slug)
        if group is None:
            group = pitfalls[info.pitfall_slug] = PitfallGroup(pitfall=info.pitfall, slug=info.pitfall_slug)
        if info.key not in {r.key for r in group.rules}:
            group.rules.append(info)
        key = (info.pitfall_slug, row["department_id"])
        department = departments.get(key)
        if department is None:
            name = names.get(row["department_id"], NO_DEPARTMENT) if row["department_id"] else NO_DEPARTMENT
            department = departments[key] = DepartmentGroup(department_id=row["department_id"], name=name)
            group.departments.append(department)
        department.counts.add(row["severity"], row["n"])
        group.counts.add(row["severity"], row["n"])
        totals.add(row["severity"], row["n"])

    rank = {severity: index for index, severity in enumerate(SEVERITY_ORDER)}
    for finding in sorted(samples, key=lambda f: (rank.get(f.severity, 9), -f.last_seen_at.timestamp(), -f.pk)):
        finding.rule_info = rule_info(finding.rule)  # type: ignore[attr-defined]
        department = departments.get((finding.rule_info.pitfall_slug, finding.department_id))  # type: ignore[attr-defined]
        if department is not None and len(department.findings) < SHOWN_PER_GROUP:
            department.findings.append(finding)
    for department in departments.values():
        distinct_titles(department.findings)

    ordered = sorted(pitfalls.values(), key=lambda g: (*g.counts.sort_key(), g.pitfall))
    for group in ordered:
        # The whole organisation first (it concerns everyone), then the worst departments.
        group.departments.sort(key=lambda d: (d.department_id is not None, *d.counts.sort_key(), d.name))
    return ordered, totals


# ---------------------------------------------------------------- runs


@dataclass
class RunChange:
    """A run's effect on the findings: what it found new, still found, and closed."""

    key: str
    label: str
    count: int


def run_changes(run: AuditRun) -> list[RunChange]:
    return [
        RunChange("new", "New findings", run.findings_new),
        RunChange("seen", "Still found", run.findings_seen),
        RunChange("closed", "No longer hold (closed)", run.findings_closed),
    ]


def findings_of_run(findings: QuerySet[Finding], run_id: int, change: str) -> QuerySet[Finding]:
    """The findings a run opened ("new"), found again ("seen") or closed ("closed")."""
    if change == "new":
        return findings.filter(first_seen_run_id=run_id)
    if change == "seen":
        return findings.filter(last_seen_run_id=run_id).exclude(first_seen_run_id=run_id)
    if change == "closed":
        return findings.filter(closed_by_run_id=run_id)
    return findings.filter(Q(first_seen_run_id=run_id) | Q(last_seen_run_id=run_id) | Q(closed_by_run_id=run_id))


# ---------------------------------------------------------------- the findings list


@dataclass(frozen=True)
class FindingFilter:
    status: str = "active"  # "active" (open or acknowledged), a FindingStatus value, or "all"
    pitfall: str = ""
    rule: str = ""
    severity: str = ""
    department: int | None = None  # 0: findings about the whole organisation
    run: int | None = None
    change: str = ""


STATUS_FILTERS: list[tuple[str, str]] = [
    ("active", "Open or acknowledged"),
    *[(str(value), label) for value, label in FindingStatus.choices],
    ("all", "All"),
]


def filter_findings(findings: QuerySet[Finding], wanted: FindingFilter) -> QuerySet[Finding]:
    if wanted.status == "active":
        findings = findings.filter(status__in=ACTIVE_STATUSES)
    elif wanted.status in FindingStatus.values:
        findings = findings.filter(status=wanted.status)
    if wanted.pitfall:
        findings = findings.filter(rule__in=rules_of_pitfall(wanted.pitfall))
    if wanted.rule:
        findings = findings.filter(rule=wanted.rule)
    if wanted.severity:
        findings = findings.filter(severity=wanted.severity)
    if wanted.department == 0:
        findings = findings.filter(department__isnull=True)
    elif wanted.department is not None:
        findings = findings.filter(department_id=wanted.department)
    if wanted.run is not None:
        findings = findings_of_run(findings, wanted.run, wanted.change)
    return findings


def finding_rows(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """The list's columns, most severe and most recent first."""
    return findings.select_related("department", "last_seen_run").order_by(
        severity_rank().asc(), "-last_seen_at", "-pk"
    )


def decorate(findings: Iterable[Finding]) -> list[Finding]:
    """Attach each finding's rule title and pitfall (from the registry; no query) and a title
    that no other finding of the list shares."""
    rows = list(findings)
    for finding in rows:
        finding.rule_info = rule_info(finding.rule)  # type: ignore[attr-defined]
    distinct_titles(rows)
    return rows


def distinct_titles(findings: list[Finding]) -> None:
    """Set ``list_title`` on each finding so that no two in one list read alike.

    Two findings may concern one subject ("Pharmacy" is short of aligned people *and* its
    messaging differs): the rule's title tells them apart, then the department, then a
    number, so a reader (or a screen reader's list of links) never meets two identical links.
    """
    refinements = (
        lambda f: f.rule_info.title,  # type: ignore[attr-defined]
        lambda f: f.department.name if f.department_id else NO_DEPARTMENT,
    )
    for finding in findings:
        finding.list_title = finding.subject_label  # type: ignore[attr-defined]
    for refine in refinements:
        counts = Counter(f.list_title for f in findings)  # type: ignore[attr-defined]
        for finding in findings:
            if counts[finding.list_title] > 1:  # type: ignore[attr-defined]
                finding.list_title = f"{finding.list_title} — {refine(finding)}"  # type: ignore[attr-defined]
    seen: Counter[str] = Counter()
    counts = Counter(f.list_title for f in findings)  # type: ignore[attr-defined]
    for finding in findings:
        if counts[finding.list_title] > 1:  # type: ignore[attr-defined]
            seen[finding.list_title] += 1  # type: ignore[attr-defined]
            finding.list_title = f"{finding.list_title} ({seen[finding.list_title]})"  # type: ignore[attr-defined]


def departments_with_findings(findings: QuerySet[Finding]) -> list[Department]:
    """The departments the findings concern, for the filter's choices (one query)."""
    return list(Department.objects.filter(pk__in=findings.values("department_id")).order_by("name"))


# ---------------------------------------------------------------- a finding's drill-down


@dataclass
class DrillItem:
    label: str
    url: str | None
    note: str = ""


@dataclass
class DrillSection:
    key: str
    title: str
    items: list[DrillItem]
    total: int  # ids the finding names; more than the items when some are cut or no longer exist
    missing: int = 0

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items) - self.missing)


def _ids(values: object) -> list[int]:
    if not isinstance(values, list | tuple):
        return []
    ids: list[int] = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number not in ids:
            ids.append(number)
    return ids


def _priorities(ids: list[int]) -> dict[int, DrillItem]:
    return {
        p.pk: DrillItem(p.title, reverse("cascade:priority_detail", args=[p.pk]), p.get_status_display())
        for p in QualityPriority.objects.filter(pk__in=ids).only("pk", "title", "status")
    }


def _departments(ids: list[int]) -> dict[int, DrillItem]:
    return {
        d.pk: DrillItem(d.name, reverse("cascade:department_goals", args=[d.pk]))
        for d in Department.objects.filter(pk__in=ids).only("pk", "name")
    }


def _goals(ids: list[int]) -> dict[int, DrillItem]:
    goals = Goal.objects.filter(pk__in=ids).select_related("owner", "department", "priority")
    goals = goals.only("pk", "title", "level", "status", "owner__full_name", "department__name", "priority__title")
    items = {}
    for goal in goals:
        whose = goal.owner.full_name if goal.owner_id else goal.department.name
        note = f"{goal.get_level_display()} · {whose} · under “{goal.priority.title}”"
        items[goal.pk] = DrillItem(goal.title, reverse("cascade:goal_detail", args=[goal.pk]), note)
    return items


def _employees(ids: list[int]) -> dict[int, DrillItem]:
    people = Employee.objects.filter(pk__in=ids).select_related("department")
    people = people.only("pk", "full_name", "job_title", "department__name")
    return {
        e.pk: DrillItem(
            e.full_name,
            reverse("people:detail", args=[e.pk]),
            " · ".join(part for part in (e.job_title, e.department.name) if part),
        )
        for e in people
    }


def _forms(ids: list[int]) -> dict[int, DrillItem]:
    return {
        f.pk: DrillItem(f.name, reverse("competencies:form_detail", args=[f.pk]))
        for f in AppraisalForm.objects.filter(pk__in=ids).only("pk", "name")
    }


def _plans(ids: list[int]) -> dict[int, DrillItem]:
    plans = IncentivePlan.objects.filter(pk__in=ids).select_related("cycle").only("pk", "name", "state", "cycle__name")
    return {
        p.pk: DrillItem(
            p.name, reverse("incentives:plan_detail", args=[p.pk]), f"{p.cycle.name} · {p.get_state_display()}"
        )
        for p in plans
    }


# The drill-down's kinds, in the order the page lists them: from the organisation's
# priorities down to the records of one person.
DRILL_KINDS: list[tuple[str, str, Any]] = [
    ("priorities", "Quality priorities", _priorities),
    ("departments", "Departments", _departments),
    ("goals", "Goals", _goals),
    ("employees", "People", _employees),
    ("forms", "Appraisal forms", _forms),
    ("plans", "Incentive plans", _plans),
]


def drill_down(finding: Finding) -> list[DrillSection]:
    """The records behind a finding, each linked to its page: one query per kind it names."""
    details = finding.details if isinstance(finding.details, Mapping) else {}
    sections = []
    for key, title, load in DRILL_KINDS:
        ids = _ids(details.get(key))
        if not ids:
            continue
        wanted = ids[:DRILL_SHOWN]
        found: dict[int, DrillItem] = load(wanted)
        items = [found[i] for i in wanted if i in found]
        sections.append(
            DrillSection(key=key, title=title, items=items, total=len(ids), missing=len(wanted) - len(items))
        )
    return sections


def figures(finding: Finding) -> list[tuple[str, str]]:
    """The numbers the rule measured (details["figures"]), as label and value."""
    details = finding.details if isinstance(finding.details, Mapping) else {}
    raw = details.get("figures")
    if not isinstance(raw, Mapping):
        return []
    # Sorted by label: the database's JSON does not keep the order the rule wrote them in.
    return sorted((_label(key), _value(value)) for key, value in raw.items())


def _label(key: object) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    return str(value)


# Where a finding's subject lives, by subject type: the page name and what its id is.
SUBJECT_PAGES: dict[str, str] = {
    SubjectType.DEPARTMENT: "cascade:department_goals",
    SubjectType.PRIORITY: "cascade:priority_detail",
    SubjectType.GOAL: "cascade:goal_detail",
    SubjectType.TEAM: "people:detail",  # a team is named by its manager
    SubjectType.EMPLOYEE: "people:detail",
    SubjectType.FORM: "competencies:form_detail",
    SubjectType.PLAN: "incentives:plan_detail",
    SubjectType.SURVEY: "audits:survey_results",
}


def subject_url(finding: Finding) -> str | None:
    if finding.subject_type == SubjectType.CORRELATION:
        return reverse("audits:correlation")
    page = SUBJECT_PAGES.get(finding.subject_type)
    if page is None or finding.subject_id is None:
        return None
    return reverse(page, args=[finding.subject_id])

"""The alignment pages' read models (audits/selectors/dashboard.py): findings grouped by pitfall and
department with counts by severity, the score trend and its change, department scores worst
first, the findings list's filters, and a finding's drill-down to the records behind it —
each in a fixed number of queries however many findings there are."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from audits.models import Finding, FindingStatus, RunState, Severity, SubjectType
from audits.selectors import dashboard as read
from cascade.models import GoalLevel
from tests.audits.helpers import SILOS, UNALIGNED, make_finding, make_run
from tests.cascade.factories import GoalFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------- grouping


def test_open_findings_are_grouped_by_pitfall_then_department_with_counts_by_severity():
    run = make_run()
    nursing, pharmacy = DepartmentFactory(name="Nursing"), DepartmentFactory(name="Pharmacy")
    make_finding(run, rule=UNALIGNED, severity=Severity.HIGH, department=nursing)
    make_finding(run, rule=UNALIGNED, severity=Severity.LOW, department=nursing)
    make_finding(run, rule=UNALIGNED, severity=Severity.MEDIUM, department=pharmacy)
    make_finding(run, rule=SILOS, severity=Severity.LOW, department=pharmacy)
    make_finding(run, rule=SILOS, severity=Severity.LOW)  # the whole organisation
    make_finding(run, rule=SILOS, severity=Severity.HIGH, department=pharmacy, status=FindingStatus.RESOLVED)
    make_finding(run, rule=SILOS, severity=Severity.HIGH, department=pharmacy, status=FindingStatus.CLOSED)
    make_finding(run, rule=UNALIGNED, severity=Severity.LOW, department=pharmacy, status=FindingStatus.ACKNOWLEDGED)

    groups, totals = read.open_finding_groups(Finding.objects.all())

    assert (totals.high, totals.medium, totals.low) == (1, 1, 4)
    # The pitfall with a high-severity finding comes first; resolved and closed findings are left out.
    assert [g.pitfall for g in groups] == ["Unaligned goals", "Siloed goal setting"]
    unaligned, silos = groups
    assert [(d.name, d.counts.high, d.counts.medium, d.counts.low) for d in unaligned.departments] == [
        ("Nursing", 1, 0, 1),
        ("Pharmacy", 0, 1, 1),
    ]
    # The whole organisation first, then departments.
    assert [(d.name, d.counts.total) for d in silos.departments] == [("Whole organisation", 1), ("Pharmacy", 1)]
    # Findings drawn most severe first, each with its rule's title.
    assert [f.severity for f in unaligned.departments[0].findings] == [Severity.HIGH, Severity.LOW]
    assert unaligned.departments[0].findings[0].rule_info.title.startswith("Departments with few people")


def test_a_group_draws_a_few_findings_and_counts_the_rest(django_assert_max_num_queries):
    run = make_run()
    ward = DepartmentFactory(name="Ward 7")
    for _ in range(read.SHOWN_PER_GROUP + 4):
        make_finding(run, rule=UNALIGNED, severity=Severity.LOW, department=ward)
    make_finding(run, rule=UNALIGNED, severity=Severity.HIGH, department=ward, label="The worst one")

    with django_assert_max_num_queries(2):
        groups, _ = read.open_finding_groups(Finding.objects.all())

    department = groups[0].departments[0]
    assert department.counts.total == read.SHOWN_PER_GROUP + 5
    assert len(department.findings) == read.SHOWN_PER_GROUP
    assert department.more == 5
    assert department.findings[0].subject_label == "The worst one"


def test_grouping_reads_the_same_number_of_queries_for_many_findings(django_assert_max_num_queries):
    run = make_run()
    departments = [DepartmentFactory(name=f"Dept {i}") for i in range(12)]
    for i in range(240):
        make_finding(
            run,
            rule=(UNALIGNED, SILOS)[i % 2],
            severity=(Severity.HIGH, Severity.MEDIUM, Severity.LOW)[i % 3],
            department=departments[i % 12],
        )
    with django_assert_max_num_queries(2):
        groups, totals = read.open_finding_groups(Finding.objects.all())
    assert totals.total == 240
    assert sum(len(d.findings) for g in groups for d in g.departments) <= 2 * 12 * read.SHOWN_PER_GROUP


def test_a_finding_of_a_rule_that_no_longer_exists_is_still_shown():
    run = make_run()
    make_finding(run, rule="retired_check")
    groups, _ = read.open_finding_groups(Finding.objects.all())
    assert groups[0].pitfall == read.OTHER_PITFALL
    assert read.rule_info("retired_check").title == "Retired check"


# ---------------------------------------------------------------- the score


def test_the_score_trend_is_a_run_chart_of_finished_runs_with_the_change_since_the_previous_one(cast):
    make_run(score="40", days=0)
    make_run(score="55.5", days=7)
    make_run(score=None, days=10, state=RunState.FAILED)
    make_run(score="52", days=14)

    overview = read.overview(user=cast.hr.user)

    assert overview.latest.alignment_score == Decimal("52")
    assert overview.previous.alignment_score == Decimal("55.5")
    assert overview.change == Decimal("-3.5")
    assert overview.change_size == Decimal("3.5")
    assert [p["value"] for p in overview.chart["points"]] == [40, 55.5, 52]
    assert overview.chart["unit"] == "%"
    assert overview.chart["run"]["median"] == 52
    # The last run in any state is what the "Run now" card shows.
    assert overview.last_run.alignment_score == Decimal("52")


def test_no_run_no_score(cast):
    overview = read.overview(user=cast.hr.user)
    assert overview.latest is None
    assert overview.last_run is None
    assert overview.chart is None
    assert overview.change is None
    assert overview.departments == []
    assert overview.groups == []


def test_department_scores_come_worst_first_with_empty_departments_last():
    run = make_run(
        department_scores=[
            {"department": 1, "name": "Nursing", "people": 10, "aligned": 9, "score": "90.00"},
            {"department": 2, "name": "Pharmacy", "people": 4, "aligned": 1, "score": "25.00"},
            {"department": 3, "name": "Estates", "people": 0, "aligned": 0, "score": None},
            {"department": 4, "name": "Radiology", "people": 5, "aligned": 3, "score": "60.00"},
        ]
    )
    rows = read.department_scores(run)
    assert [(r.name, r.score) for r in rows] == [
        ("Pharmacy", Decimal("25.00")),
        ("Radiology", Decimal("60.00")),
        ("Nursing", Decimal("90.00")),
        ("Estates", None),
    ]


# ---------------------------------------------------------------- the findings list


def test_filters_narrow_the_findings_by_status_pitfall_rule_severity_department_and_run():
    first, second = make_run(days=0), make_run(days=7)
    nursing, pharmacy = DepartmentFactory(name="Nursing"), DepartmentFactory(name="Pharmacy")
    a = make_finding(first, rule=UNALIGNED, severity=Severity.HIGH, department=nursing)
    b = make_finding(first, rule=SILOS, severity=Severity.LOW, department=pharmacy)
    c = make_finding(first, rule=SILOS, severity=Severity.LOW)
    d = make_finding(first, rule=UNALIGNED, severity=Severity.MEDIUM, department=pharmacy, status="resolved")
    e = make_finding(first, rule=UNALIGNED, severity=Severity.LOW, department=nursing, status="acknowledged")
    Finding.objects.filter(pk=a.pk).update(last_seen_run=second)
    Finding.objects.filter(pk=b.pk).update(status=FindingStatus.CLOSED, closed_by_run=second)
    f = make_finding(second, rule=UNALIGNED, severity=Severity.LOW, department=nursing)

    def pks(**wanted) -> set[int]:
        return set(
            read.filter_findings(Finding.objects.all(), read.FindingFilter(**wanted)).values_list("pk", flat=True)
        )

    assert pks() == {a.pk, c.pk, e.pk, f.pk}  # open or acknowledged, by default
    assert pks(status="all") == {a.pk, b.pk, c.pk, d.pk, e.pk, f.pk}
    assert pks(status="resolved") == {d.pk}
    assert pks(status="acknowledged") == {e.pk}
    assert pks(pitfall="siloed-goal-setting", status="all") == {b.pk, c.pk}
    assert pks(rule=UNALIGNED) == {a.pk, e.pk, f.pk}
    assert pks(severity=Severity.HIGH) == {a.pk}
    assert pks(department=pharmacy.pk, status="all") == {b.pk, d.pk}
    assert pks(department=0) == {c.pk}
    assert pks(run=second.pk, change="new", status="all") == {f.pk}
    assert pks(run=second.pk, change="seen", status="all") == {a.pk}
    assert pks(run=second.pk, change="closed", status="all") == {b.pk}


def test_the_list_puts_the_most_severe_first():
    run = make_run()
    low = make_finding(run, severity=Severity.LOW)
    high = make_finding(run, severity=Severity.HIGH)
    medium = make_finding(run, severity=Severity.MEDIUM)
    assert list(read.finding_rows(Finding.objects.all())) == [high, medium, low]


# ---------------------------------------------------------------- drill-down


def test_the_drill_down_links_each_record_behind_a_finding(django_assert_max_num_queries):
    from competencies.models import AppraisalForm

    run = make_run()
    pharmacy = DepartmentFactory(name="Pharmacy")
    person = EmployeeFactory(full_name="Pat Pharmacist", department=pharmacy, job_title="Pharmacist")
    priority = QualityPriorityFactory(title="Safer medicines")
    goal = GoalFactory(owner=person, priority=priority, title="Check every discharge letter")
    assert goal.level == GoalLevel.INDIVIDUAL
    form = AppraisalForm.objects.create(name="Pharmacy form")
    finding = make_finding(
        run,
        department=pharmacy,
        details={
            "employees": [person.pk],
            "goals": [goal.pk, 999_999],  # one goal was deleted since
            "priorities": [priority.pk],
            "departments": [pharmacy.pk],
            "forms": [form.pk],
            "plans": [],
            "figures": {"alignment_percent": 12.5, "people": 8, "periods": ["2026"]},
        },
    )

    with django_assert_max_num_queries(5):
        sections = {s.key: s for s in read.drill_down(finding)}

    assert list(sections) == ["priorities", "departments", "goals", "employees", "forms"]
    assert sections["employees"].items[0].label == "Pat Pharmacist"
    assert sections["employees"].items[0].url == reverse("people:detail", args=[person.pk])
    assert sections["employees"].items[0].note == "Pharmacist · Pharmacy"
    assert sections["goals"].items[0].url == reverse("cascade:goal_detail", args=[goal.pk])
    assert "Safer medicines" in sections["goals"].items[0].note
    assert (sections["goals"].total, sections["goals"].missing, sections["goals"].more) == (2, 1, 0)
    assert sections["priorities"].items[0].url == reverse("cascade:priority_detail", args=[priority.pk])
    assert sections["departments"].items[0].url == reverse("cascade:department_goals", args=[pharmacy.pk])
    assert sections["forms"].items[0].url == reverse("competencies:form_detail", args=[form.pk])
    assert read.figures(finding) == [("Alignment percent", "12.5"), ("People", "8"), ("Periods", "2026")]


def test_a_long_drill_down_is_cut_and_says_how_many_more(monkeypatch):
    run = make_run()
    ids = [EmployeeFactory().pk for _ in range(5)]
    finding = make_finding(run, details={"employees": ids + ids[:2]})  # repeats count once
    monkeypatch.setattr(read, "DRILL_SHOWN", 3)
    section = read.drill_down(finding)[0]
    assert (len(section.items), section.total, section.more) == (3, 5, 2)


def test_a_finding_links_its_subject():
    run = make_run()
    pharmacy = DepartmentFactory(name="Pharmacy")
    finding = make_finding(run, department=pharmacy)
    assert read.subject_url(finding) == reverse("cascade:department_goals", args=[pharmacy.pk])
    finding.subject_type, finding.subject_id = SubjectType.CORRELATION, None
    assert read.subject_url(finding) == reverse("audits:correlation")
    finding.subject_type = SubjectType.ORGANISATION
    assert read.subject_url(finding) is None


# ---------------------------------------------------------------- titles in a list


def test_findings_about_one_subject_never_share_a_title_in_a_list():
    run = make_run()
    pharmacy = DepartmentFactory(name="Pharmacy")
    make_finding(run, rule=UNALIGNED, department=pharmacy)
    make_finding(run, rule="inconsistent_messaging", department=pharmacy)
    # Same rule, same words, two departments; then the same words twice in one department.
    make_finding(run, rule=SILOS, label="Sepsis screening", department=pharmacy)
    make_finding(run, rule=SILOS, label="Sepsis screening", department=DepartmentFactory(name="Emergency"))
    make_finding(run, rule=SILOS, label="Night audit")
    make_finding(run, rule=SILOS, label="Night audit")
    rows = read.decorate(read.finding_rows(Finding.objects.all()))
    titles = [f.list_title for f in rows]
    assert len(set(titles)) == len(titles)
    by_rule = {f.rule: f.list_title for f in rows if f.subject_label == "Pharmacy"}
    assert by_rule[UNALIGNED] == f"Pharmacy — {read.rule_info(UNALIGNED).title}"
    assert by_rule["inconsistent_messaging"].startswith("Pharmacy — ")
    assert {t for t in titles if t.startswith("Sepsis")} == {
        f"Sepsis screening — {read.rule_info(SILOS).title} — Pharmacy",
        f"Sepsis screening — {read.rule_info(SILOS).title} — Emergency",
    }
    # A title nothing else shares stays as the rule wrote it.
    assert "Night audit" not in titles and sum(t.startswith("Night audit") for t in titles) == 2


def test_the_dashboard_groups_never_show_two_findings_alike(cast):
    run = make_run()
    make_finding(run, rule=SILOS, label="Sepsis screening")
    make_finding(run, rule=SILOS, label="Sepsis screening")
    groups, _ = read.open_finding_groups(Finding.objects.all())
    titles = [f.list_title for g in groups for d in g.departments for f in d.findings]
    assert len(titles) == 2 and len(set(titles)) == 2

"""The correlation analysis page: who may open it, what it shows of a run's results, and its bounds."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisals.models import ReviewCycle
from audits import access
from audits.models import AuditRun, CorrelationResult, CorrelationScope, Finding, RunState
from audits.rules.base import AuditContext
from audits.rules.correlation import WeakQILink
from audits.services import correlation
from audits.services.runs import apply_drafts
from tests.appraisals.factories import ReviewCycleFactory
from tests.audits.helpers import UNTIED_X, UNTIED_Y, WEAK_X, WEAK_Y, people
from tests.audits.rules.helpers import TODAY
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

URL = reverse("audits:correlation")


def audit() -> AuditRun:
    """A finished run whose correlation step ran (results and findings written as the engine would)."""
    run = AuditRun.objects.create(state=RunState.RUNNING)
    ctx = AuditContext(today=TODAY, run=run)
    drafts = list(WeakQILink().evaluate(ctx, WeakQILink.defaults()))
    with transaction.atomic():
        correlation.store_results(run=run, rows=ctx.correlation_results)
        apply_drafts(run, WeakQILink, drafts)
    AuditRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED, finished_at=timezone.now())
    run.refresh_from_db()
    return run


@pytest.fixture
def analysed(cast) -> AuditRun:
    """Nursing: ten people with a weak link (ρ = 13/165 ≈ 0.08); Pharmacy: two people, too few."""
    cycle = ReviewCycleFactory(name="Review 2026")
    people(cycle, DepartmentFactory(name="Nursing"), WEAK_X, WEAK_Y)
    people(cycle, DepartmentFactory(name="Pharmacy"), [20, 80], [55, 75])
    return audit()


@pytest.mark.parametrize(
    ("who", "status"), [("hr", 200), ("quality", 200), ("employee", 403), ("manager", 403), ("stranger", 403)]
)
def test_only_hr_admins_and_quality_leads_can_read_it(users, analysed, who, status, client_for):
    response = client_for(users[who]).get(URL)
    assert response.status_code == status
    if status == 403:
        assert "0.08" not in response.content.decode()


def test_it_asks_anonymous_visitors_to_sign_in(analysed):
    response = Client().get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_it_shows_the_organisation_first_then_departments_with_n_rho_interval_and_unit(users, analysed, client_for):
    response = client_for(users["quality"]).get(URL)
    page = response.content.decode()
    nursing = CorrelationResult.objects.get(run=analysed, department__name="Nursing")
    organisation = CorrelationResult.objects.get(run=analysed, scope=CorrelationScope.ORGANISATION, unit="person")
    assert page.index('<h2 id="org-title">Organisation</h2>') < page.index('<h2 id="dept-title">Departments</h2>')
    assert page.index("QI goal achievement and appraisal scores, by person") < page.index(">Nursing</h3>")
    assert "Unit of analysis: the person" in page
    assert "Unit of analysis: the department" in page
    assert "Achievement of their QI-linked goals in the cycle" in page  # the outcome, named
    assert f"{nursing.rho:.2f}" == "0.08" and ">0.08</dd>" in page
    low, high = (f"{v:.2f}".replace("-", "\u2212") for v in (nursing.ci_low, nursing.ci_high))
    assert f">{low} to {high}</dd>" in page
    assert "10 people" in page and f"{organisation.n} people" in page
    assert "The interval includes zero" in page
    # Pharmacy has two people: named, counted, not shown.
    assert re.search(r">Pharmacy</th><td class=\"num\">2</td><td>Not shown: n below 10", page)
    # The department unit had no measures to compare: not shown either, and it says so.
    assert "Not shown: n below 10</strong> (n = 0)" in page


def test_it_says_when_tied_values_leave_no_interval(users, cast, client_for):
    # Nine of ten at 100 %: a third of the resamples hold only them, where ρ is not defined.
    cycle = ReviewCycleFactory(name="Review 2026")
    people(cycle, DepartmentFactory(name="Nursing"), [100] * 9 + [40], [60, 72, 65, 80, 58, 75, 70, 68, 55, 50])
    audit()
    page = client_for(users["quality"]).get(URL).content.decode()
    assert "data-interval-unavailable>not available: too many tied values</dd>" in page
    assert "No interval: too many tied values, so that many resamples of the pairs had a single value" in page


def test_it_explains_how_to_read_rho_without_claiming_a_cause(users, analysed, client_for):
    page = client_for(users["hr"]).get(URL).content.decode()
    assert "Association, not cause." in page
    assert "The 95 % interval" in page
    assert "does not show that one causes the other" in page
    for claim in ("because", "leads to", "results in", "drives"):
        assert claim not in page


def test_the_scatter_plot_gets_its_points_as_json_and_a_table_stands_in_for_it(users, analysed, client_for):
    page = client_for(users["hr"]).get(URL).content.decode()
    found = re.search(r'<script id="scatter-org-person" type="application/json">(.*?)</script>', page, re.S)
    data = json.loads(found.group(1))
    assert data["unit"] == "person"
    assert data["x_label"] == "Achievement of QI-linked goals (%)" and data["y_label"] == "Appraisal score"
    assert len(data["points"]) == 12
    assert all(len(p) == 2 for p in data["points"])  # people are never named
    assert 'data-scatter data-scatter-source="scatter-org-person"' in page
    assert "The numbers behind the plot" in page
    assert "0–under 20 %" in page


def test_a_quality_lead_gets_rho_its_interval_and_n_but_no_one_s_score(users, analysed, client_for):
    """Goals are not private, so a point's achievement names its person: no pair reaches a
    quality lead, in the page or in its data, only where ρ and its interval lie."""
    page = client_for(users["quality"]).get(URL).content.decode()
    assert "application/json" not in page and "data-scatter" not in page
    assert "The numbers behind the plot" not in page and "Lowest" not in page
    nursing = CorrelationResult.objects.get(run=analysed, department__name="Nursing")
    assert f">{nursing.n} people</dd>" in page and ">0.08</dd>" in page
    assert page.count('class="corr-interval"') == 2  # the organisation's result and Nursing's
    assert "Spearman's ρ 0.08, 95 % interval" in page  # the picture's text alternative
    assert "only HR may see" in page
    for score in {f"{y:.1f}" for y in WEAK_Y} | {f"{y:.2f}" for y in WEAK_Y}:
        assert not re.search(rf"(?<![\d.]){re.escape(score)}(?!\d)", page), score


def test_who_sees_each_persons_point_is_one_check(users, cast):
    assert access.can_see_individual_scores(users["hr"].user)
    for who in ("quality", "employee", "manager", "stranger"):
        assert not access.can_see_individual_scores(users[who].user)


def test_a_result_that_is_a_finding_links_to_it(users, analysed, client_for):
    nursing = DepartmentFactory(name="Nursing")
    finding = Finding.objects.get(fingerprint=f"{WeakQILink.key}:department:{nursing.pk}:person:qi_goals")
    page = client_for(users["hr"]).get(URL).content.decode()
    assert reverse("audits:finding_detail", args=[finding.pk]) in page
    assert "The audit reports this as a finding" in page


def test_it_reads_the_latest_succeeded_run_or_the_one_asked_for(users, analysed, client_for):
    cycle_people = CorrelationResult.objects.filter(run=analysed).count()
    AuditRun.objects.create(state=RunState.FAILED, finished_at=timezone.now())  # later, but failed
    client = client_for(users["hr"])
    assert client.get(URL).context["run"] == analysed

    people(ReviewCycle.objects.get(name="Review 2026"), DepartmentFactory(name="Nursing"), UNTIED_X, UNTIED_Y)
    newer = audit()
    assert client.get(URL).context["run"] == newer
    older = client.get(URL, {"run": analysed.pk})
    assert older.status_code == 200 and older.context["run"] == analysed
    assert (
        len(older.context["organisation"])
        + len(older.context["shown_departments"])
        + len(older.context["hidden_departments"])
        == cycle_people
    )
    assert client.get(URL, {"run": 999_999}).status_code == 404
    bad = client.get(URL, {"run": "latest"})
    assert bad.status_code == 400
    assert "must be the number of an audit run" in bad.content.decode()


def test_without_a_finished_audit_it_says_so(users, client_for):
    page = client_for(users["hr"]).get(URL).content.decode()
    assert "No finished audit yet" in page


def test_no_inline_styles_or_scripts(users, analysed, client_for):
    page = client_for(users["hr"]).get(URL).content.decode()
    assert "style=" not in page
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_it_reads_a_fixed_number_of_queries_however_many_departments(users, django_assert_max_num_queries, client_for):
    cycle = ReviewCycleFactory(name="Review 2026")
    people(cycle, DepartmentFactory(name="Nursing"), WEAK_X, WEAK_Y)
    audit()
    client = client_for(users["quality"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    for i in range(6):
        people(cycle, DepartmentFactory(name=f"Ward {i}"), UNTIED_X, UNTIED_Y)
    audit()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert len(response.context["shown_departments"]) == 7


def test_it_only_answers_get(users, analysed, client_for):
    assert client_for(users["hr"]).post(URL).status_code == 405

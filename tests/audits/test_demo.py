"""The demo hospital's audits tell their story: a trend over three runs, a finding that closed itself,
HR's acknowledgement and resolution, and the pitfalls the issue names."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.core.management import call_command

from audits.models import AuditRun, Finding, FindingStatus, RunState, Survey, SurveyState

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_three_runs_four_weeks_apart_with_a_trend_and_a_closed_finding(hospital: str) -> None:
    runs = list(AuditRun.objects.order_by("finished_at"))
    assert [r.state for r in runs] == [RunState.SUCCEEDED] * 3
    gaps = {(b.finished_at - a.finished_at).days for a, b in itertools.pairwise(runs)}
    assert gaps == {28}
    # The department whose goals waited for approval eight weeks ago is aligned since: its finding closed.
    assert runs[0].alignment_score < runs[1].alignment_score
    closed = Finding.objects.get(rule="unaligned_goals", status=FindingStatus.CLOSED)
    assert closed.first_seen_run == runs[0] and closed.closed_by_run == runs[1]
    assert "Ran three alignment audits" in hospital


def test_the_story_names_an_unaligned_department_a_plan_below_the_floor_and_a_team_without_time(
    hospital: str,
) -> None:
    active = Finding.objects.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
    assert active.filter(rule="unaligned_goals").exists()
    plan = active.get(rule="reward_misalignment")
    assert plan.status == FindingStatus.ACKNOWLEDGED and plan.comment
    assert active.filter(rule="improvement_time").exists()
    assert Finding.objects.filter(status=FindingStatus.RESOLVED).count() == 1
    assert Survey.objects.filter(state=SurveyState.CLOSED).exists()


def test_seeding_again_adds_no_runs(hospital: str) -> None:
    call_command("seed_demo", stdout=StringIO())
    assert AuditRun.objects.count() == 3

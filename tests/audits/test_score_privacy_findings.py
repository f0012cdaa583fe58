"""Audit findings about appraisal scores give no one's score away (PRODUCT.md: ratings are private,
aggregates included). tests/audits/test_score_privacy.py reads every page and API response; this
file holds the cases its organisation does not build."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appraisals.models import Appraisal, AppraisalState
from audits.models import Finding
from audits.services.runs import start_run
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory, ReviewCycleFactory
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_a_team_scored_alike_does_not_give_its_scores_away_in_a_finding(users, client_for):
    """The rating-spread finding names a team whose reviewer gave everyone the same score; its
    figures must not then hand the quality lead that score (page and API)."""
    cycle = ReviewCycleFactory()
    form = PublishedFormVersionFactory(competencies=1)
    chief, stranger = users["manager"].manager, users["stranger"]
    for manager, scores in ((chief, ["47.83"] * 5), (stranger, ["20.11", "90.37", "55.59"])):
        for score in scores:
            person = EmployeeFactory(department=manager.department, manager=manager)
            participant = ParticipantFactory(cycle=cycle, employee=person, form_version=form)
            Appraisal.objects.create(
                participant=participant, state=AppraisalState.DIALOGUE, score=Decimal(score), shared_at=timezone.now()
            )
    start_run(user=users["hr"].user, queue=False)
    finding = Finding.objects.get(subject_label=f"Team of {chief.full_name}")
    client = client_for(users["quality"])
    for path in (reverse("audits:finding_detail", args=[finding.pk]), f"/api/v1/findings/{finding.pk}/"):
        body = client.get(path).content.decode()
        assert not re.search(r"(?<![\d.,])47\.8\d?(?!\d)", body), path  # 47.83 or 47.8

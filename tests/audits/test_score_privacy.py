"""No page or API response lets a reader recover an appraisal score or a payout they may not see.

PRODUCT.md: "appraisal contents, ratings, payouts and survey answers are private: no page or API
response lets a reader recover one person's score, rating or payout that they may not see
(aggregates, charts and exports included)", and "before an incentive plan is published only HR
sees its payouts".

The organisation is the permission table's (tests/test_permission_table.py: nine roles, one record
of every kind), grown by people whose appraisal scores are distinctive (values like 31.17 that
no other figure on a page is likely to match, in every form the app prints a score: 31.17 with two
decimals, 31.2 with one, either followed by "%") — a department of eleven people, ten one-person
wards whose measures give the per-department analysis its ten points — and by a full audit run, so
that the correlation analysis, the findings and the dashboard are filled. Then every URL of the
permission table that a role may GET (pages, API, exports; every record named in a URL, and every
finding the audit wrote) is read as that role, and no body may hold a score that
``appraisals.access.can_see_score`` hides from the role, nor the payout of the unpublished plan.

The first test checks the check: HR, who may see every score, finds them on the correlation page.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appraisals.access import can_see_score
from appraisals.models import Appraisal, AppraisalState
from audits.models import AuditRun, Finding
from audits.services.runs import start_run
from cascade.models import Approval, GoalStatus
from tests.appraisals.factories import ParticipantFactory
from tests.cascade.factories import IndividualGoalFactory, ObservationFactory, QualityMeasureFactory
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.test_permission_table import ALLOWED, SIGNED_IN, TABLE, World, _path, build_world, known_urls

READERS = [role for role in SIGNED_IN if role != "hr"]  # everyone signed in who is not HR

# Two decimals, each with its own whole part, none near a round figure in one decimal (31.2, not 31.0):
# 30.17, 31.83, 32.37, 33.63, 34.41, 35.59, 36.17, …
SCORES = [Decimal(f"{30 + i}.{('17', '83', '37', '63', '41', '59')[i % 6]}") for i in range(26)]
# The unpublished plan's payout: the amount, as computed, and the person's target bonus.
PAYOUT = {"amount": Decimal("1537.41"), "computed_amount": Decimal("1537.41"), "target_bonus": Decimal("2113.57")}


def score_forms(score: Decimal) -> list[re.Pattern[str]]:
    """Every way the app prints a score (str of the Decimal, JSON floats, floatformat 2 and 1), as a
    number standing alone: 31.2 must not match inside 131.25."""
    forms = {str(score), floatformat(score, 2), floatformat(score, 1)}
    return [re.compile(rf"(?<![\d.,]){re.escape(f)}(?!\d)") for f in forms]


def money_forms(amount: Decimal) -> list[re.Pattern[str]]:
    """A payout as the API gives it (1537.41) and as the pages do (1,537.41)."""
    forms = {str(amount), floatformat(amount, "2g")}
    return [re.compile(rf"(?<![\d.,]){re.escape(f)}(?!\d)") for f in forms]


@dataclass
class Org:
    world: World
    appraisals: list[Appraisal]
    # role → (what is hidden from it, patterns): the scores it may not see and the payout.
    hidden: dict[str, list[tuple[str, re.Pattern[str]]]] = field(default_factory=dict)
    paths: dict[str, list[tuple[str, bool, dict[str, Any]]]] = field(default_factory=dict)


def _scored(participant, score: Decimal, *, shared: bool) -> Appraisal:
    now = timezone.now()
    appraisal, _ = Appraisal.objects.update_or_create(
        participant=participant,
        defaults={
            "state": AppraisalState.DIALOGUE,
            "score": score,
            "self_submitted_at": now,
            "shared_at": now if shared else None,
        },
    )
    return appraisal


def grow(world: World) -> list[Appraisal]:
    """Scored appraisals in the world's cycle, a full audit, a distinctive payout (see the docstring)."""
    cycle, period = world.cycle, world.period
    scores = iter(SCORES)
    appraisals = []
    # The permission table's people: the employee's review is not shared yet (their manager and
    # the skip-level see the score, they do not); the peer's is; the quality lead's own is too.
    appraisals.append(_scored(world.appraisal.participant, next(scores), shared=False))
    for person, shared in ((world.peer, True), (world.other_department, False)):
        appraisals.append(_scored(person.cycle_participations.get(cycle=cycle), next(scores), shared=shared))
    form = world.appraisal.participant.form_version
    ql = ParticipantFactory(cycle=cycle, employee=world.quality_lead, form_version=form, reviewer=None)
    appraisals.append(_scored(ql, next(scores), shared=True))

    # Surgery: eleven people under a chief none of the roles is above, so only HR may see their scores.
    surgery = DepartmentFactory(name="Surgery")
    chief = EmployeeFactory(full_name="Chief Surgeon", department=surgery)
    for i in range(11):
        person = EmployeeFactory(department=surgery, manager=chief)
        IndividualGoalFactory(
            owner=person, priority=world.priority, period=period, weight=100, progress=Decimal(5 + 8 * i),
            approval=Approval.APPROVED, status=GoalStatus.OPEN,
        )  # fmt: skip
        participant = ParticipantFactory(cycle=cycle, employee=person, form_version=form)
        appraisals.append(_scored(participant, next(scores), shared=True))
    # Ten one-person wards, each with a measure-linked goal: the per-department analysis has its ten points.
    for i in range(10):
        ward = DepartmentFactory(name=f"Ward {i + 1}")
        person = EmployeeFactory(department=ward)
        measure = QualityMeasureFactory(priority=world.priority, department=ward)
        ObservationFactory(measure=measure, date=period.start + datetime.timedelta(days=30), value=Decimal(53 + 3 * i))
        IndividualGoalFactory(
            owner=person, priority=world.priority, period=period, weight=100, progress=Decimal(7 + 9 * i),
            approval=Approval.APPROVED, status=GoalStatus.OPEN, measure=measure,
        )  # fmt: skip
        participant = ParticipantFactory(cycle=cycle, employee=person, form_version=form, reviewer=None)
        appraisals.append(_scored(participant, next(scores), shared=True))

    type(world.payout).objects.filter(pk=world.payout.pk).update(**PAYOUT)
    start_run(user=world.hr.user, queue=False)
    return appraisals


def _reachable(world: World, role: str) -> list[tuple[str, bool, dict[str, Any]]]:
    """(path, is API, query) of every URL in the permission table that ``role`` may GET, and of
    every finding the audit wrote (pages and API)."""
    urls = known_urls()
    found = []
    for name, row in sorted(TABLE.items()):
        url = urls.get(name)
        if url is None or row.get is None or (url.api and url.methods and "GET" not in url.methods):
            continue
        if row.get[role] in (200, ALLOWED):
            found.append((_path(world, url, row), url.api, row.query(world)))
    if TABLE["audits:finding_detail"].get[role] == 200:
        for pk in Finding.objects.values_list("pk", flat=True):
            found.append((reverse("audits:finding_detail", args=[pk]), False, {}))
            found.append((f"/api/v1/findings/{pk}/", True, {}))
    if TABLE["audits:run_detail"].get[role] == 200:
        for pk in AuditRun.objects.values_list("pk", flat=True):
            found.append((reverse("audits:run_detail", args=[pk]), False, {}))
            found.append((f"/api/v1/audits/{pk}/", True, {}))
            found.append((reverse("audits:correlation"), False, {"run": pk}))
    return found


@pytest.fixture(scope="module")
def org(django_db_setup, django_db_blocker):
    """Built once for the module in a transaction rolled back at its end (as the permission table's)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            appraisals = grow(world)
            org = Org(world=world, appraisals=appraisals)
            for role, person in world.people.items():
                user = get_user_model().objects.get(pk=person.user_id)
                world.users[role] = user
                client = Client()
                client.force_login(user)
                world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
                hidden = []
                for appraisal in appraisals:
                    fresh = Appraisal.objects.select_related("participant__employee").get(pk=appraisal.pk)
                    if not can_see_score(user, fresh.participant, fresh):
                        who = fresh.participant.employee.full_name
                        hidden += [(f"the score {fresh.score} of {who}", p) for p in score_forms(fresh.score)]
                if role != "hr":
                    for what, amount in PAYOUT.items():
                        hidden += [(f"the unpublished payout's {what} {amount}", p) for p in money_forms(amount)]
                org.hidden[role] = hidden
                org.paths[role] = _reachable(world, role)
            yield org
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _client(org: Org, role: str, api: bool) -> Client | APIClient:
    if api:
        client = APIClient()
        client.force_authenticate(user=org.world.users[role])
        return client
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = org.world.sessions[role]
    return client


def _text(response) -> str:
    """The body as text; an XLSX export is a zip of XML, read part by part."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return body.decode("utf-8", "replace")


def test_the_check_finds_the_scores_where_hr_may_read_them(org, db):
    """HR sees every point of the scatter: were the patterns wrong, the other tests would prove nothing."""
    assert org.hidden["hr"] == []
    page = _text(_client(org, "hr", api=False).get(reverse("audits:correlation")))
    missing = [str(a.score) for a in org.appraisals[4:] if not any(p.search(page) for p in score_forms(a.score))]
    assert missing == []
    # And what every other role must not find is really there to find: each is hidden from someone.
    assert all(org.hidden[role] for role in READERS)


@pytest.mark.parametrize("role", READERS)
def test_no_page_or_api_response_shows_a_score_or_payout_the_reader_may_not_see(org, db, role):
    leaks = []
    reached = 0
    for path, api, query in org.paths[role]:
        response = _client(org, role, api).get(path, query)
        if response.status_code != 200:
            continue
        reached += 1
        body = _text(response)
        leaks += [f"{path}: {what}" for what, pattern in org.hidden[role] if pattern.search(body)]
    assert reached > 20  # the reader reached pages and the API, not a wall of refusals
    assert leaks == [], f"{len(leaks)} leaks as {role}:\n" + "\n".join(sorted(set(leaks))[:40])

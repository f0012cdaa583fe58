"""Jobs survive a killed worker: a real Celery worker (prefork, one child) is killed with SIGKILL
half-way through a job (a cycle's launch, an audit, a payout computation), and the job still
finishes with exactly one record per person, finding or payout.

- the pool child killed: the task is rejected, not acknowledged (reject-on-worker-lost), so the
  broker hands it back and the same worker finishes it;
- the whole worker killed: its message stays unacknowledged until the visibility timeout (a few
  seconds in these workers' settings), then the next worker gets it;
- the whole worker killed and no redelivery yet: the page says the job has stalled (never that it
  "carries on") and HR's Resume, an ordinary POST, queues it again.

They need PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL) and skip without them.
"""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appraisals.models import Appraisal, CheckIn, CycleState, DevelopmentPlan, Participant, Phase, ReviewCycle
from appraisals.services import cycles
from audits.models import AuditRun, Finding, RunState
from audits.services import runs
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, ReviewCycleFactory
from tests.factories import EmployeeFactory
from tests.jobs.conftest import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

PEOPLE = 40  # and the cast's five: 45 participants
SLOW = {"THROUGHLINE_JOB_TEST_BATCH": 5, "THROUGHLINE_JOB_TEST_PAUSE": 0.4}  # 9 batches, about 4 s


@pytest.fixture
def cycle(cast):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    for n in range(PEOPLE):
        EmployeeFactory(full_name=f"Nurse {n:02}", department=cast.employee.department, manager=cast.manager)
    year = timezone.localdate().year
    return ReviewCycleFactory(year=year, state=CycleState.SETUP, phase=None, launched_at=None)


def launch(cast, cycle) -> None:
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)  # no transaction around it: queued at once


def state(cycle) -> ReviewCycle:
    return ReviewCycle.objects.get(pk=cycle.pk)


def half_way(cycle) -> bool:
    current = state(cycle)
    return current.state == CycleState.LAUNCHING and 10 <= current.launch_done < current.launch_total


def assert_one_record_per_person(cycle) -> None:
    people = 5 + PEOPLE
    participants = Participant.objects.filter(cycle=cycle)
    assert participants.count() == people
    assert participants.values("employee").distinct().count() == people
    assert not participants.values("employee").annotate(n=Count("pk")).filter(n__gt=1).exists()
    for model in (Appraisal, CheckIn, DevelopmentPlan):
        assert model.objects.filter(participant__cycle=cycle).count() == people
    current = state(cycle)
    assert (current.state, current.launch_done, current.launch_total) == (CycleState.ACTIVE, people, people)
    assert current.phase == Phase.ACT  # the cycle is this calendar year; today is in its last quarter or earlier
    assert not current.is_stalled


def hr_client(cast) -> Client:
    client = Client()
    client.force_login(cast.hr.user)
    return client


def test_a_launch_whose_pool_child_is_killed_is_redelivered_and_finishes(cast, cycle, start_worker):
    worker = start_worker(**SLOW)
    launch(cast, cycle)
    assert wait_for(lambda: half_way(cycle), 30), worker.output()

    stopped_at = state(cycle).launch_done
    worker.kill_pool_child()

    seen: list[int] = []

    def launched() -> bool:
        current = state(cycle)
        seen.append(current.launch_done)
        return current.state == CycleState.ACTIVE

    assert wait_for(launched, 60), worker.output()
    assert seen[0] >= stopped_at and seen == sorted(seen)  # the page's count never falls back
    assert "WorkerLostError" in worker.output()  # the child died; the task was rejected, not acknowledged
    assert_one_record_per_person(cycle)


def test_a_launch_whose_whole_worker_is_killed_is_finished_by_the_next_worker(cast, cycle, start_worker):
    first = start_worker(**SLOW, THROUGHLINE_TEST_VISIBILITY=3)
    launch(cast, cycle)
    assert wait_for(lambda: half_way(cycle), 30), first.output()

    first.kill()
    stopped_at = state(cycle).launch_done
    assert state(cycle).state == CycleState.LAUNCHING and stopped_at < 5 + PEOPLE

    second = start_worker(**SLOW, THROUGHLINE_TEST_VISIBILITY=3)
    assert wait_for(lambda: state(cycle).state == CycleState.ACTIVE, 90), second.output()
    assert_one_record_per_person(cycle)


def test_a_stalled_launch_says_so_and_hr_resumes_it(cast, cycle, start_worker, settings):
    settings.THROUGHLINE_JOB_STALL_AFTER = 2
    client = hr_client(cast)
    progress = reverse("appraisals:launch_progress", args=[cycle.pk])
    first = start_worker(**SLOW)  # the production visibility timeout: no redelivery within the test
    launch(cast, cycle)
    assert wait_for(lambda: half_way(cycle), 30), first.output()
    moving = client.get(progress).content.decode()
    assert "carries on" in moving and "Stalled" not in moving

    first.kill()
    assert wait_for(lambda: state(cycle).is_stalled, 10)
    page = client.get(progress, headers={"HX-Request": "true"}).content.decode()
    assert "The launch has stalled" in page and "Stalled:" in page
    assert "carries on" not in page
    resume = reverse("appraisals:launch_resume", args=[cycle.pk])
    assert f'action="{resume}"' in page and ">Resume</button>" in page

    second = start_worker(**SLOW)
    response = client.post(resume)
    assert response.status_code == 302 and response["Location"] == progress
    assert client.post(resume).status_code == 302  # a second press while it runs queues nothing more

    assert wait_for(lambda: state(cycle).state == CycleState.ACTIVE, 60), second.output()
    assert_one_record_per_person(cycle)
    assert "Launched" in client.get(progress).content.decode()


# ---------------------------------------------------------------- an audit


@pytest.fixture
def audit_data(cast):
    """Enough for the default rules to find something: people without goals in an open period."""
    from tests.cascade.factories import GoalPeriodFactory

    today = timezone.localdate()
    GoalPeriodFactory(start=today - datetime.timedelta(days=30), end=today + datetime.timedelta(days=300))


def test_a_stalled_audit_does_not_block_run_now_and_resuming_it_records_nothing_twice(
    cast, audit_data, start_worker, settings
):
    settings.THROUGHLINE_JOB_STALL_AFTER = 2
    client = hr_client(cast)
    reference = runs.start_run(user=cast.hr.user, queue=False)  # what a clean run finds, here and now
    assert reference.state == RunState.SUCCEEDED
    findings = set(Finding.objects.values_list("fingerprint", flat=True))

    first = start_worker(THROUGHLINE_JOB_TEST_PAUSE=0.5)
    response = client.post(reverse("audits:run_now"))
    stuck = AuditRun.objects.exclude(pk=reference.pk).get()
    assert response["Location"] == reverse("audits:run_detail", args=[stuck.pk])
    assert wait_for(lambda: AuditRun.objects.get(pk=stuck.pk).done_steps >= 1, 30), first.output()
    first.kill()
    assert wait_for(lambda: AuditRun.objects.get(pk=stuck.pk).is_stalled, 10)

    page = client.get(reverse("audits:run_detail", args=[stuck.pk])).content.decode()
    assert "The audit has stalled" in page and "carries on" not in page
    assert reverse("audits:run_resume", args=[stuck.pk]) in page

    second = start_worker()
    assert client.post(reverse("audits:run_resume", args=[stuck.pk])).status_code == 302
    assert wait_for(lambda: AuditRun.objects.get(pk=stuck.pk).state == RunState.SUCCEEDED, 60), second.output()
    assert set(Finding.objects.values_list("fingerprint", flat=True)) == findings
    assert Finding.objects.count() == len(findings)  # none recorded twice

    # A run that stalls does not hold "Run now" back: the new run takes its place at once.
    second.kill()
    client.post(reverse("audits:run_now"))
    third_run = AuditRun.objects.order_by("-created_at", "-pk").first()
    assert wait_for(lambda: AuditRun.objects.get(pk=third_run.pk).is_stalled, 10)
    response = client.post(reverse("audits:run_now"))
    newest = AuditRun.objects.order_by("-created_at", "-pk").first()
    assert newest.pk != third_run.pk and response["Location"] == reverse("audits:run_detail", args=[newest.pk])
    gave_way = AuditRun.objects.get(pk=third_run.pk)
    assert gave_way.state == RunState.FAILED and "a new run took its place" in gave_way.error

    third = start_worker()
    assert wait_for(lambda: AuditRun.objects.get(pk=newest.pk).state == RunState.SUCCEEDED, 60), third.output()
    assert Finding.objects.count() == len(findings)


# ---------------------------------------------------------------- payouts


def test_a_computation_whose_pool_child_is_killed_finishes_with_one_payout_each(world, start_worker):
    from incentives.models.plans import IncentivePlan, Payout, PlanState
    from incentives.services import plans as plan_services

    cast, _cycle, plan = world
    plan_services.compute_start(user=cast.hr.user, plan=plan, queue=False)
    plan_services.run_compute(plan.pk)  # a clean computation, here and now, to compare with
    clean = {p.employee_id: p.amount for p in Payout.objects.filter(plan=plan)}
    assert len(clean) == 4

    def computing() -> IncentivePlan:
        return IncentivePlan.objects.get(pk=plan.pk)

    worker = start_worker(THROUGHLINE_JOB_TEST_BATCH=1, THROUGHLINE_JOB_TEST_PAUSE=1)
    plan_services.compute_start(user=cast.hr.user, plan=computing())
    assert wait_for(lambda: computing().state == PlanState.COMPUTING and 1 <= computing().compute_done < 4, 30)
    worker.kill_pool_child()

    assert wait_for(lambda: computing().state == PlanState.COMPUTED, 60), worker.output()
    assert "WorkerLostError" in worker.output()
    assert {p.employee_id: p.amount for p in Payout.objects.filter(plan=plan)} == clean
    assert Payout.objects.filter(plan=plan).count() == 4

"""The stall rule (core.jobs) and what the pages make of it, without a worker: a job that has
recorded no progress for THROUGHLINE_JOB_STALL_AFTER is shown as stalled, never as carrying on,
with a Resume for HR that queues it again (tasks are eager here) and gives the same records a
clean run gives, none twice. The killed-worker tests (test_killed_worker.py) do this for real.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from appraisals.models import CycleState, Participant, ReviewCycle
from appraisals.services import cycles
from audits.models import AuditRun, RunState
from cascade.models import CascadeImport, ImportKind
from core import jobs
from incentives.models.plans import IncentivePlan, Payout, PlanState
from incentives.services import plans as plan_services
from people.models import Employee, ImportStatus, OrgChartImport
from tests.appraisals.factories import PublishedFormVersionFactory, ReviewCycleFactory

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside the task: nothing after it runs, not even ``except Exception``."""


def long_ago() -> datetime.datetime:
    return timezone.now() - jobs.stall_after() - datetime.timedelta(seconds=1)


# ---------------------------------------------------------------- the rule


def test_a_job_is_stalled_only_when_under_way_and_quiet_for_the_set_time(settings):
    settings.THROUGHLINE_JOB_STALL_AFTER = 300
    now = timezone.now()
    assert not jobs.stalled_since(now - datetime.timedelta(seconds=299), now=now)
    assert jobs.stalled_since(now - datetime.timedelta(seconds=300), now=now)
    assert jobs.stalled_since(None, now=now)  # nothing shows it alive

    run = AuditRun.objects.create(state=RunState.RUNNING)
    assert not run.is_stalled  # made a moment ago
    AuditRun.objects.filter(pk=run.pk).update(progress_at=now - datetime.timedelta(seconds=301))
    run.refresh_from_db()
    assert run.is_stalled
    assert set(AuditRun.objects.filter(jobs.quiet_q())) == {run}
    AuditRun.objects.filter(pk=run.pk).update(state=RunState.SUCCEEDED)
    run.refresh_from_db()
    assert not run.is_stalled  # a finished job never stalls


# ---------------------------------------------------------------- the launch


@pytest.fixture
def launching(cast):
    """A cycle whose launch was queued to a broker no worker reads."""
    version = PublishedFormVersionFactory()
    from competencies.models import AssignmentRule

    AssignmentRule.objects.create(form=version.form, is_default=True)
    cycle = ReviewCycleFactory(year=timezone.localdate().year, state=CycleState.SETUP, phase=None, launched_at=None)
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)  # on_commit never fires in this test's transaction
    return cycle


def test_a_launch_that_moves_carries_on_and_one_that_stalls_says_so(client_for, cast, launching):
    client = client_for(cast.hr)
    progress = reverse("appraisals:launch_progress", args=[launching.pk])
    page = client.get(progress).content.decode()
    assert "carries on" in page and "Stalled" not in page

    ReviewCycle.objects.filter(pk=launching.pk).update(progress_at=long_ago())
    page = client.get(progress).content.decode()
    assert "The launch has stalled" in page and "carries on" not in page
    assert reverse("appraisals:launch_resume", args=[launching.pk]) in page


def test_hr_resumes_a_stalled_launch_once_and_everyone_gets_one_record(
    client_for, cast, launching, django_capture_on_commit_callbacks
):
    ReviewCycle.objects.filter(pk=launching.pk).update(progress_at=long_ago())
    resume = reverse("appraisals:launch_resume", args=[launching.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.hr).post(resume)
    assert response.status_code == 302
    launching.refresh_from_db()
    assert launching.state == CycleState.ACTIVE
    assert Participant.objects.filter(cycle=launching).count() == Employee.objects.count()

    # Pressed again (a stale page): the cycle is running, so the answer says so, and nothing is queued.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        again = client_for(cast.hr).post(resume)
    assert again.status_code == 400 and "not launching" in again.content.decode() and not queued
    assert Participant.objects.filter(cycle=launching).count() == Employee.objects.count()


def test_a_launch_that_is_moving_is_not_queued_twice(client_for, cast, launching, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client_for(cast.hr).post(reverse("appraisals:launch_resume", args=[launching.pk]))
    assert response.status_code == 302 and not queued
    assert ReviewCycle.objects.get(pk=launching.pk).state == CycleState.LAUNCHING


@pytest.mark.parametrize("who", ["manager", "employee"])
def test_only_hr_resumes_a_launch(client_for, cast, launching, who):
    ReviewCycle.objects.filter(pk=launching.pk).update(progress_at=long_ago())
    response = client_for(getattr(cast, who)).post(reverse("appraisals:launch_resume", args=[launching.pk]))
    assert response.status_code in (403, 404)
    assert ReviewCycle.objects.get(pk=launching.pk).progress_at < timezone.now() - jobs.stall_after()


# ---------------------------------------------------------------- payouts


def test_a_computation_killed_half_way_is_shown_stalled_and_resumes_to_the_same_payouts(
    client_for,
    world,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    cast, _cycle, plan = world
    with django_capture_on_commit_callbacks(execute=True):
        plan_services.compute_start(user=cast.hr.user, plan=plan)
    clean = {p.employee_id: (p.amount, p.breakdown) for p in Payout.objects.filter(plan=plan)}
    assert len(clean) == 4

    # Again, one person a batch, and the worker dies after the first batch.
    settings.THROUGHLINE_JOB_TEST_BATCH = 1
    original = jobs.batches

    def dies_after_one(items, size):
        batches = original(items, size)
        yield next(batches)  # the first batch is committed and counted
        raise WorkerKilled

    monkeypatch.setattr(jobs, "batches", dies_after_one)
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        plan_services.compute_start(user=cast.hr.user, plan=IncentivePlan.objects.get(pk=plan.pk))
    monkeypatch.setattr(jobs, "batches", original)
    half_done = IncentivePlan.objects.get(pk=plan.pk)
    assert (half_done.state, half_done.compute_done, half_done.compute_total) == (PlanState.COMPUTING, 1, 4)
    IncentivePlan.objects.filter(pk=plan.pk).update(progress_at=long_ago())

    client = client_for(cast.hr)
    page = client.get(reverse("incentives:compute_progress", args=[plan.pk])).content.decode()
    assert "Computing has stalled" in page and "carries on" not in page
    resume = reverse("incentives:compute_resume", args=[plan.pk])
    assert resume in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resume).status_code == 302
    assert IncentivePlan.objects.get(pk=plan.pk).state == PlanState.COMPUTED
    assert {p.employee_id: (p.amount, p.breakdown) for p in Payout.objects.filter(plan=plan)} == clean
    assert Payout.objects.filter(plan=plan).count() == 4
    assert sum(p.amount for p in Payout.objects.filter(plan=plan)) > Decimal("0")


# ---------------------------------------------------------------- audits


def test_a_stalled_audit_is_shown_stalled_and_run_now_starts_a_new_one_at_once(client_for, cast):
    stuck = AuditRun.objects.create(state=RunState.RUNNING, total_steps=5, done_steps=2, progress_at=long_ago())
    client = client_for(cast.hr)
    page = client.get(reverse("audits:run_detail", args=[stuck.pk])).content.decode()
    assert "The audit has stalled" in page and "carries on" not in page
    assert reverse("audits:run_resume", args=[stuck.pk]) in page
    assert "Stalled" in client.get(reverse("audits:dashboard")).content.decode()

    response = client.post(reverse("audits:run_now"))
    fresh = AuditRun.objects.exclude(pk=stuck.pk).get()
    assert response["Location"] == reverse("audits:run_detail", args=[fresh.pk])
    stuck.refresh_from_db()
    assert stuck.state == RunState.FAILED and "a new run took its place" in stuck.error


def test_hr_resumes_a_stalled_audit_as_the_same_run(client_for, cast, django_capture_on_commit_callbacks):
    stuck = AuditRun.objects.create(state=RunState.RUNNING, total_steps=5, done_steps=2, progress_at=long_ago())
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.hr).post(reverse("audits:run_resume", args=[stuck.pk]))
    assert response["Location"] == reverse("audits:run_detail", args=[stuck.pk])
    stuck.refresh_from_db()
    assert (stuck.state, stuck.attempts) == (RunState.SUCCEEDED, 1)
    assert AuditRun.objects.count() == 1


def test_a_worker_that_comes_back_to_a_run_given_up_meanwhile_stops(cast, monkeypatch):
    """The old attempt's next progress write finds the run no longer its own and stops quietly."""
    from audits.services import runs

    run = runs.start_run(user=cast.hr.user, queue=False)
    AuditRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING)

    def resumed_meanwhile(run, rule, drafts):  # HR resumed the run while this attempt ran its first rule
        AuditRun.objects.filter(pk=run.pk).update(attempts=F("attempts") + 1)

    monkeypatch.setattr(runs, "apply_drafts", resumed_meanwhile)
    left = runs.run_audit(run.pk)
    assert left.state == RunState.RUNNING and left.attempts == 3  # left to the attempt that holds it
    assert left.done_steps == 0


def test_only_hr_resumes_an_audit(client_for, cast):
    stuck = AuditRun.objects.create(state=RunState.RUNNING, progress_at=long_ago())
    response = client_for(cast.employee).post(reverse("audits:run_resume", args=[stuck.pk]))
    assert response.status_code in (403, 404)


# ---------------------------------------------------------------- imports


def test_a_stalled_org_chart_import_resumes_once(client_for, cast, django_capture_on_commit_callbacks):
    client = client_for(cast.hr)
    csv = (
        "employee_id,name,email,department,manager_id,job_title,hire_date\n"
        "N1,Nia Brown,nia@example.org,Radiology,,Radiographer,2020-02-02\n"
    )
    client.post(reverse("people:import"), {"file": SimpleUploadedFile("org.csv", csv.encode())})  # never ran
    record = OrgChartImport.objects.get()
    OrgChartImport.objects.filter(pk=record.pk).update(progress_at=long_ago())
    detail = reverse("people:import_detail", args=[record.pk])
    page = client.get(detail).content.decode()
    assert "Stalled" in page and reverse("people:import_resume", args=[record.pk]) in page

    for _ in range(2):  # a second press finds it finished and changes nothing
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("people:import_resume", args=[record.pk]))["Location"] == detail
    assert OrgChartImport.objects.get().status == ImportStatus.SUCCEEDED
    assert Employee.objects.filter(full_name="Nia Brown").count() == 1
    assert "Stalled" not in client.get(detail).content.decode()


def test_a_stalled_cascade_import_is_resumed_by_its_uploader_and_hidden_from_others(
    client_for, cast, django_capture_on_commit_callbacks
):
    record = CascadeImport.objects.create(
        kind=ImportKind.GOALS, created_by=cast.manager.user, file_name="goals.csv", content=b"title\n"
    )
    CascadeImport.objects.filter(pk=record.pk).update(progress_at=long_ago())
    detail = reverse("cascade:import_detail", args=[record.pk])
    resume = reverse("cascade:import_resume", args=[record.pk])
    page = client_for(cast.manager).get(detail).content.decode()
    assert "Stalled" in page and resume in page and "carries on" not in page

    assert client_for(cast.stranger).post(resume).status_code == 404
    assert CascadeImport.objects.get(pk=record.pk).status == ImportStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(cast.manager).post(resume)["Location"] == detail
    assert CascadeImport.objects.get(pk=record.pk).is_finished  # here: the file is refused, with its reasons
    assert "Stalled" not in client_for(cast.manager).get(detail).content.decode()


def test_the_api_says_a_run_has_stalled_and_hr_resumes_it_there(cast, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    stuck = AuditRun.objects.create(state=RunState.RUNNING, total_steps=5, done_steps=2, progress_at=long_ago())
    client = APIClient()
    client.force_authenticate(cast.hr.user)
    assert client.get(f"/api/v1/audits/{stuck.pk}/").json()["stalled"] is True
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/audits/{stuck.pk}/resume/")
    assert response.status_code == 202
    body = client.get(f"/api/v1/audits/{stuck.pk}/").json()
    assert (body["state"], body["stalled"]) == (RunState.SUCCEEDED, False)
    assert client.post(f"/api/v1/audits/{stuck.pk}/resume/").status_code == 400  # finished: nothing to resume

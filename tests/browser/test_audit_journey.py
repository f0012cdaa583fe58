"""An alignment audit in a real browser: HR raises the alignment floor in the settings, runs an
audit now, watches the progress bar reach "Finished", opens a finding from the dashboard and
resolves it with a comment."""

from __future__ import annotations

import datetime
import re
import threading
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audits.models import Finding, FindingStatus, RuleConfig
from cascade.models import Approval
from people.demo import DEMO_PASSWORD
from tests.browser.journey import sign_in
from tests.cascade.factories import GoalFactory, GoalPeriodFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOOR_LABEL = "Minimum share of aligned people"


@pytest.fixture
def organisation() -> None:
    """A small hospital in the current goal period: Nursing's people all have approved goals under
    an active priority; Pharmacy's have none, so the alignment check reports Pharmacy."""
    today = timezone.localdate()
    nursing = DepartmentFactory(name="Nursing")
    pharmacy = DepartmentFactory(name="Pharmacy")
    hr_department = DepartmentFactory(name="Human Resources")
    hr = EmployeeFactory(user__username="hradmin", full_name="Hana Rahman", department=hr_department, is_hr_admin=True)
    hr.user.set_password(DEMO_PASSWORD)
    hr.user.save()
    chief = EmployeeFactory(full_name="Chief Nurse", department=nursing, is_quality_lead=True)
    nurses = [EmployeeFactory(full_name=f"Nurse {n}", department=nursing, manager=chief) for n in range(3)]
    for n in range(3):
        EmployeeFactory(full_name=f"Pharmacist {n}", department=pharmacy)
    period = GoalPeriodFactory(
        name="This year", start=today - datetime.timedelta(days=90), end=today + datetime.timedelta(days=90)
    )
    priority = QualityPriorityFactory(
        title="Safer medication", owner=chief, period_start=period.start, period_end=period.end
    )
    for person in (chief, *nurses):
        GoalFactory(owner=person, priority=priority, period=period, approval=Approval.APPROVED)


@pytest.fixture
def worker(monkeypatch):
    """A stand-in for the Celery worker: the queued run starts a moment later in a thread of its
    own, so that the page really polls a run that is waiting, then running, then finished."""
    from audits import tasks
    from audits.services import runs

    threads: list[threading.Thread] = []

    def work(run_id: int) -> None:
        try:
            time.sleep(1.5)
            runs.run_audit(run_id)
        finally:
            connection.close()

    def delay(run_id: int) -> None:
        thread = threading.Thread(target=work, args=(run_id,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(tasks.run_audit, "delay", delay)
    yield
    for thread in threads:
        thread.join(timeout=60)


def test_hr_changes_a_threshold_runs_an_audit_and_resolves_a_finding(page, organisation, worker, assert_accessible):
    sign_in(page, "hradmin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alignment").click()
    page.get_by_role("heading", name="No audit has run yet").wait_for()

    # The settings: raise the alignment floor from 70 % to 80 %.
    page.get_by_role("navigation", name="Alignment").get_by_role("link", name="Settings").click()
    rule = page.locator("#rule-unaligned_goals")
    floor = rule.get_by_label(FLOOR_LABEL)
    assert floor.input_value() == "70"
    floor.fill("80")
    rule.get_by_role("button", name=re.compile("^Save")).click()
    page.locator(".messages").get_by_text("was saved").wait_for()
    assert page.locator("#rule-unaligned_goals").get_by_label(FLOOR_LABEL).input_value() == "80"
    assert RuleConfig.objects.get(rule="unaligned_goals").thresholds["min_alignment_percent"] == "80"

    # Run an audit now and watch it finish.
    page.get_by_role("navigation", name="Alignment").get_by_role("link", name="Dashboard").click()
    page.get_by_role("button", name="Run now").first.click()
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    status = page.locator("#run-status")
    assert status.get_by_role("heading").inner_text() in ("Waiting to start…", "Running…")
    assert status.get_attribute("hx-trigger") == "every 1s"
    status.get_by_role("heading", name="Finished").wait_for(timeout=30_000)  # polled, no reload
    assert page.locator("#run-status").get_attribute("hx-trigger") is None  # the polling stopped
    assert page.locator("#run-progress").get_attribute("value") == "100"
    assert_accessible(page)
    assert "step" in page.locator("[data-run-step]").inner_text()

    # From the dashboard, open Pharmacy's finding under "Unaligned goals".
    status.get_by_role("link", name="Open the dashboard").click()
    assert page.locator("[data-alignment-score]").is_visible()
    group = page.locator("section.audit-pitfall").filter(has_text="Unaligned goals")
    group.get_by_role("link", name="Pharmacy", exact=True).last.click()
    page.get_by_role("heading", name="What to do").wait_for()
    assert "floor is 80" in page.get_by_role("main").inner_text()
    behind = page.get_by_role("region", name=re.compile("^People"))
    assert behind.get_by_role("link", name="Pharmacist 0").is_visible()

    # Resolve it with a comment.
    page.get_by_label("Comment").fill("Pharmacy agreed its goals with the medication safety priority.")
    page.get_by_role("button", name="Resolve").click()
    page.locator(".messages").get_by_text("The finding is resolved.").wait_for()
    assert page.locator("[data-finding-status]").inner_text().strip() == "Resolved by HR"
    history = page.get_by_role("region", name="History")
    assert "Pharmacy agreed its goals" in history.inner_text()
    assert_accessible(page)
    finding = Finding.objects.get(rule="unaligned_goals", subject_label="Pharmacy", status=FindingStatus.RESOLVED)
    assert finding.comment.startswith("Pharmacy agreed")
    page.goto(reverse("audits:dashboard"))
    assert page.locator(f"a[href='{reverse('audits:finding_detail', args=[finding.pk])}']").count() == 0
    assert page.csp_violations == []

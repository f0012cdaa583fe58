"""Review-cycle figures for ``python -m bench.run``, on the synthetic organisation with ~5 goals a person.

- ``launch_10k_s``: HR launches a cycle over the synthetic organisation (its top department and
  every department under it: 10,000 people, not the imported org chart beside it) in the Do
  phase, end to end with the task eager, until the cycle is running: the check that everyone has
  a form, every participant's appraisal, check-in and development plan, the phase's to-dos. The
  launch queues their emails as tasks of their own (a thousand to-dos each), which workers run
  side by side; here they run after it, timed as ``launch_10k_emails_s`` (rendered and built as
  MIME messages for an in-memory backend, as they would be for SMTP).
- ``appraisal_page_ms`` / ``appraisal_page_queries``: one person's appraisal page (five goals, four
  competencies, self and manager ratings shared) as that person, through the test client; through
  ``appraisals.selectors.appraisal_page`` instead if the page cannot be served, and the figure says so.

Import this module only after ``django.setup()``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appraisals import demo as appraisals_demo
from appraisals import selectors, tasks
from appraisals.models import Appraisal, CycleState, Participant, ReviewCycle
from appraisals.services import appraisals as workflow
from appraisals.services import cycles
from bench.cascade_bench import PAGE_RUNS, _median_ms, _page, _queries, figure
from cascade import demo as cascade_demo
from competencies import demo as competencies_demo
from competencies.models import DialogueQuestion, FormCompetency, ScaleLevel
from people.demo import synthetic_username
from people.models import Employee

Figures = dict[str, dict[str, Any]]
TARGETS = {"launch_10k_s": 20, "appraisal_page_queries": 25, "appraisal_page_ms": 150}
User = get_user_model()


def measure(top_username: str, size: int) -> Figures:
    # The test client's host, and emails kept in memory: the bench process is the only one using these settings.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    competencies_demo.seed_synthetic(size)  # the QI library and forms, with the default rule everyone falls under
    top = Employee.objects.select_related("user", "department").get(user__username=top_username)
    Employee.objects.filter(pk=top.pk).update(is_hr_admin=True)
    figures, cycle = _launch(top, size)
    figures |= _appraisal_page(cycle, size)
    return figures


def _launch(top: Employee, size: int) -> tuple[Figures, ReviewCycle]:
    today = timezone.localdate()
    period, _previous = cascade_demo.goal_periods(today)  # the period the synthetic goals are set in
    hr = User.objects.get(pk=top.user_id)
    data = {"name": "Bench cycle", "methodology": "pdsa", "include_everyone": False}
    data |= appraisals_demo.windows_in_do(period, today)
    cycle = cycles.cycle_create(user=hr, data={**data, "period": period}, departments=[top.department])
    mail.outbox = []
    queued: list[list[int]] = []
    started = time.perf_counter()
    # Outside any transaction the launch's on_commit fires at once, and the eager task runs to the end.
    # The email tasks it queues are held back and timed apart: on workers they run beside each other.
    with mock.patch.object(tasks.send_todo_emails, "delay", queued.append):
        cycles.cycle_launch(user=hr, cycle=cycle)
    elapsed = time.perf_counter() - started
    cycle.refresh_from_db()
    if cycle.state != CycleState.ACTIVE or cycle.launch_done != size:
        raise SystemExit(f"The 10k launch ended {cycle.state} with {cycle.launch_done} done: {cycle.launch_error}")
    started = time.perf_counter()
    for chunk in queued:
        tasks.send_todo_emails(chunk)
    emails_elapsed = time.perf_counter() - started
    figures = {
        "launch_10k_s": figure(
            round(elapsed, 3),
            "s",
            participants=cycle.launch_done,
            phase=cycle.phase,
            measured=f"eager, up to the cycle running; its {len(queued)} email tasks timed apart",
        ),
        "launch_10k_todos": figure(cycle.todos.count(), "to-dos"),
        "launch_10k_emails": figure(len(mail.outbox), "emails"),
        "launch_10k_emails_s": figure(round(emails_elapsed, 3), "s", tasks=len(queued)),
    }
    mail.outbox = []
    return figures, cycle


def _rating(scale_id: int | None, levels: dict[int, list[Decimal]], position: int) -> Decimal | None:
    values = levels.get(scale_id or 0, [])
    return values[min(position, len(values) - 1)] if values else None


def _appraisal_in_dialogue(cycle: ReviewCycle, size: int) -> Appraisal:
    """One person's appraisal taken through self-assessment and review, the ratings shared."""
    participant = Participant.objects.select_related("employee", "reviewer", "form_version").get(
        cycle=cycle, employee__user__username=synthetic_username(size // 2)
    )
    appraisal = Appraisal.objects.select_related("participant__cycle", "participant__employee").get(
        participant=participant
    )
    employee = User.objects.get(pk=participant.employee.user_id)
    reviewer = User.objects.get(pk=participant.reviewer.user_id)
    version = participant.form_version
    rows = list(FormCompetency.objects.filter(version=version))
    levels: dict[int, list[Decimal]] = {}
    for scale_id, value in ScaleLevel.objects.filter(
        scale_id__in={version.goals_scale_id, *(r.scale_id for r in rows)}
    ).values_list("scale_id", "value"):
        levels.setdefault(scale_id, []).append(value)
    goals = list(participant.employee.goals.filter(period=cycle.period))

    def side(text: str, position: int, comment: str) -> dict[str, Any]:
        return {
            "goal_ratings": {
                g.pk: {"rating": _rating(version.goals_scale_id, levels, position), comment: text} for g in goals
            },
            "competency_ratings": {
                r.pk: {"rating": _rating(r.scale_id, levels, position), "evidence": text} for r in rows
            },
        }

    answers = {q.pk: "A measurable change this cycle." for q in DialogueQuestion.objects.filter(version=version)}
    workflow.appraisal_start(appraisal=appraisal)
    mine = side("What I did and what the data showed.", 3, "comment")
    workflow.appraisal_save_draft(
        user=employee,
        appraisal=appraisal,
        expected_version=None,
        goal_ratings=mine["goal_ratings"],
        competency_ratings=mine["competency_ratings"],
        answers=answers,
    )
    workflow.appraisal_submit_self(user=employee, appraisal=appraisal, expected_version=None)
    theirs = side("Agreed, with one more test of change.", 2, "comment")
    workflow.appraisal_save_draft(
        user=reviewer,
        appraisal=appraisal,
        expected_version=None,
        goal_ratings=theirs["goal_ratings"],
        competency_ratings=theirs["competency_ratings"],
    )
    workflow.appraisal_submit_review(user=reviewer, appraisal=appraisal, expected_version=None)
    workflow.appraisal_share(user=reviewer, appraisal=appraisal, expected_version=None)
    return appraisal


def _appraisal_page(cycle: ReviewCycle, size: int) -> Figures:
    appraisal = _appraisal_in_dialogue(cycle, size)
    employee = Employee.objects.select_related("user").get(pk=appraisal.participant.employee_id)
    goals = employee.goals.filter(period=cycle.period).count()
    competencies = FormCompetency.objects.filter(version_id=appraisal.participant.form_version_id).count()
    page = _page(employee, reverse("appraisals:appraisal_detail", args=[appraisal.pk]))
    if isinstance(page, tuple):
        elapsed, queries = page
        how = "page"
    else:

        def selector() -> object:
            user = User.objects.get(pk=employee.user_id)
            found, access = selectors.get_appraisal(user=user, pk=appraisal.pk)
            return selectors.appraisal_page(appraisal=found, access=access)

        selector()  # warm-up
        elapsed, queries = _median_ms(selector, PAGE_RUNS), _queries(selector)
        how = f"selectors ({page})"
    extra = {"measured": how, "goals": goals, "competencies": competencies}
    return {
        "appraisal_page_ms": figure(elapsed, "ms", **extra),
        "appraisal_page_queries": figure(queries, "queries", **extra),
    }

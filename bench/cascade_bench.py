"""Cascade figures for ``python -m bench.run``, on the synthetic organisation with ~5 goals a person.

Pages are measured server side through Django's test client (middleware, view,
template), as the median of a few requests after a warm-up, with the queries of
one more request counted. A page that still answers 404 (a placeholder view) is
measured through the selectors behind it instead, and the figure says so.
Import this module only after ``django.setup()``.
"""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cascade import demo, progress, selectors
from cascade.models import Approval, Goal, GoalLevel, QualityPriority
from people.demo import SYNTHETIC_EMAIL_DOMAIN, synthetic_username
from people.models import Employee

Figures = dict[str, dict[str, Any]]
TARGETS = {
    "goals_seed_10k_s": 10,
    "matrix_10k_ms": 300,
    "matrix_10k_queries": 15,
    "tree_10k_queries": 15,
    "my_goals_ms": 100,
    "update_rollup_ms": 20,
}
PAGE_RUNS = 5
TREE_RUNS = 3
UPDATE_RUNS = 20
User = get_user_model()


def figure(value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, **extra}


def seed_goals(size: int) -> Figures:
    started = time.perf_counter()
    result = demo.seed_synthetic(size)
    elapsed = time.perf_counter() - started
    if not result.created:
        raise SystemExit(f"The synthetic goals were already there: {result.message}")
    goals = Goal.objects.filter(priority__title__startswith=demo.SYNTHETIC_PREFIX).count()
    return {"goals_seed_10k_s": figure(round(elapsed, 3), "s"), "goals_10k": figure(goals, "goals")}


def measure(top_username: str, size: int) -> Figures:
    # The test client's host; the bench process is the only one using these settings.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    lead = _make_lead(top_username)
    employee = Employee.objects.select_related("user").get(user__username=synthetic_username(size // 2))
    figures: Figures = {}
    figures |= _matrix(lead)
    figures |= _tree(lead)
    figures |= _my_goals(employee)
    figures |= _update_rollup()
    return figures


def _make_lead(top_username: str) -> Employee:
    """The top person's first report, made HR admin and quality lead: someone who sees every goal."""
    lead = Employee.objects.select_related("user").filter(manager__user__username=top_username).order_by("pk").first()
    Employee.objects.filter(pk=lead.pk).update(is_hr_admin=True, is_quality_lead=True)
    return lead


def _fresh_user(employee: Employee):
    # As in a request: nothing cached on the user object yet.
    return User.objects.get(pk=employee.user_id)


# ---------------------------------------------------------------- timing helpers


def _median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def _queries(run: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def _page(employee: Employee, url: str) -> tuple[float, int] | str:
    """Median ms and queries of GET url signed in as this person, or why the page could not be measured."""
    client = Client()
    client.force_login(employee.user)
    try:
        status = client.get(url).status_code  # warm-up: templates compiled, session loaded once
    except Exception as exc:  # the bench reports a broken page and measures the selectors instead
        traceback.print_exc()
        return f"the page raised {type(exc).__name__}"
    if status != 200:
        return f"the page answered {status}"
    return _median_ms(lambda: client.get(url), PAGE_RUNS), _queries(lambda: client.get(url))


def _page_or_selector(name: str, employee: Employee, url: str, selector: Callable[[], object]) -> Figures:
    page = _page(employee, url)
    if isinstance(page, tuple):
        elapsed, queries = page
        how = "page"
    else:
        selector()  # warm-up
        elapsed, queries = _median_ms(selector, PAGE_RUNS), _queries(selector)
        how = f"selectors ({page})"
    return {
        f"{name}_ms": figure(elapsed, "ms", measured=how),
        f"{name}_queries": figure(queries, "queries", measured=how),
    }


# ---------------------------------------------------------------- the figures


def _matrix(lead: Employee) -> Figures:
    def selector() -> object:
        user = _fresh_user(lead)
        return selectors.linkage_matrix(user=user, period=selectors.default_period_for(user)).rows()

    figures = _page_or_selector("matrix", lead, reverse("cascade:matrix"), selector)
    return {key.replace("matrix_", "matrix_10k_"): value for key, value in figures.items()}


def _tree(lead: Employee) -> Figures:
    """One synthetic priority's whole tree (about a third of the 50,000 goals) for an HR user."""
    priority = QualityPriority.objects.filter(title__startswith=demo.SYNTHETIC_PREFIX).order_by("pk").first()

    def tree() -> list[selectors.GoalNode]:
        return selectors.priority_tree(user=_fresh_user(lead), priority=priority)

    goals = Goal.objects.filter(priority=priority).count()
    return {
        "tree_10k_ms": figure(_median_ms(tree, TREE_RUNS), "ms", goals=goals),
        "tree_10k_queries": figure(_queries(tree), "queries"),
    }


def _my_goals(employee: Employee) -> Figures:
    def selector() -> object:
        period = selectors.default_period_for(employee.user)
        goals = selectors.goals_of(owner=employee, period=period)
        above = selectors.chain_goals_above(employee=employee, period=period)
        return [selectors.line_of_sight(goal) for goal in goals], above

    return _page_or_selector("my_goals", employee, reverse("cascade:my_goals"), selector)


def _update_rollup() -> Figures:
    """record_update by the owner on approved individual goals under department goals, one per run."""
    goals = list(
        Goal.objects.filter(
            level=GoalLevel.INDIVIDUAL,
            approval=Approval.APPROVED,
            parent_goal__isnull=False,
            owner__user__email__endswith=f"@{SYNTHETIC_EMAIL_DOMAIN}",
        )
        .select_related("owner")
        .order_by("pk")[: (UPDATE_RUNS + 1) * 97 : 97]
    )
    times, queries = [], 0
    for goal in goals:
        user = _fresh_user(goal.owner)
        percent = (goal.progress + Decimal("7.5")) % 100

        def update(goal: Goal = goal, user: Any = user, percent: Decimal = percent) -> object:
            return progress.record_update(user=user, goal=goal, percent=percent, confidence=2, comment="Bench")

        if not queries:
            queries = _queries(update)
            continue
        times.append(_median_ms(update, 1))
    return {
        "update_rollup_ms": figure(round(statistics.median(times), 2), "ms", runs=len(times)),
        "update_rollup_queries": figure(queries, "queries"),
    }

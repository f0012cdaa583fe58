"""Helpers for the audit rule tests: evaluate a rule on a given day with given limits, count its queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.rules.base import AuditContext, FindingDraft, Rule

# A day in the middle of the factories' 2026 period and review cycle (Study phase, after the Do window).
TODAY = datetime.date(2026, 8, 15)


def evaluate(rule: type[Rule], today: datetime.date = TODAY, **limits: object) -> list[FindingDraft]:
    """The rule's findings on ``today``, with its defaults overridden by ``limits``."""
    merged = rule.defaults() | {key: Decimal(str(value)) for key, value in limits.items()}
    return list(rule().evaluate(AuditContext(today=today), merged))


def by_key(drafts: list[FindingDraft]) -> dict[str, FindingDraft]:
    keys = [d.key for d in drafts]
    assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
    return {d.key: d for d in drafts}


def queries_of(run: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)

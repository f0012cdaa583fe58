"""Helpers for the audit engine's tests: throwaway rules, and a registry that holds only them.

The engine's behaviour (de-duplication, self-closing, reruns, progress, settings) does not
depend on what a rule checks, so these tests run rules whose findings the test dictates:
``Throwaway.problems`` maps a draft key to its message, and the test edits it between runs
as if the organisation had changed. ``only_rules`` swaps the registry's contents for the
test's rules and restores the real ones afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import pytest

from audits.models import Finding, Severity, SubjectType
from audits.rules.base import REGISTRY, AuditContext, FindingDraft, Rule, Threshold


class Throwaway(Rule):
    """A rule that finds what the test says: ``problems`` maps a draft key to a message (or to a
    (severity, message) pair). It records each call's limits and can fail on chosen calls."""

    key = "throwaway"
    title = "Throwaway check"
    pitfall = "Siloed goal setting"
    description = "Finds whatever the test says."
    mitigation = "Hold a cross-functional workshop to set the goals together."
    thresholds: tuple[Threshold, ...] = ()
    problems: dict[str, object] = {}
    department_id: int | None = None
    calls: list[dict[str, Decimal]] = []
    fail_on_calls: set[int] = set()  # 1-based call numbers that raise

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        cls = type(self)
        cls.calls.append(dict(limits))
        if len(cls.calls) in cls.fail_on_calls:
            raise RuntimeError(f"{cls.key} could not read its data")
        drafts = []
        for key, value in cls.problems.items():
            severity, message = value if isinstance(value, tuple) else (Severity.MEDIUM, value)
            drafts.append(
                FindingDraft(
                    key=key,
                    severity=severity,
                    subject_type=SubjectType.DEPARTMENT,
                    subject_id=None,
                    subject_label=f"Subject {key}",
                    department_id=cls.department_id,
                    message=str(message),
                    details={"figures": {"key": key}},
                )
            )
        return drafts


def make_rule(key: str, *, title: str | None = None, pitfall: str = "Siloed goal setting", **attrs: object):
    """A new Throwaway subclass with its own problems, calls and failures."""
    namespace = {
        "key": key,
        "title": title or f"Check {key}",
        "pitfall": pitfall,
        "mitigation": f"Mitigation for {key}.",
        "problems": {},
        "calls": [],
        "fail_on_calls": set(),
        **attrs,
    }
    return type(f"Rule_{key}", (Throwaway,), namespace)


@pytest.fixture
def only_rules():
    """``only_rules(A, B)`` makes A and B, in that order, the only registered rules for this test."""
    saved = dict(REGISTRY)

    def use(*rules: type[Rule]) -> None:
        REGISTRY.clear()
        for rule in rules:
            REGISTRY[rule.key] = rule

    yield use
    REGISTRY.clear()
    REGISTRY.update(saved)


def snapshot(run) -> dict[str, object]:
    """What a run leaves behind, without ids or times: to compare a rerun with a clean run."""
    run.refresh_from_db()
    findings = sorted(
        (
            f.fingerprint,
            f.status,
            f.severity,
            f.subject_label,
            f.message,
            f.first_seen_run_id == run.pk,
            f.last_seen_run_id == run.pk,
            f.closed_by_run_id == run.pk,
            tuple(f.events.values_list("action", flat=True)),
        )
        for f in Finding.objects.all()
    )
    return {
        "state": run.state,
        "done": (run.done_steps, run.total_steps),
        "score": run.alignment_score,
        "departments": run.department_scores,
        "counts": (run.findings_new, run.findings_seen, run.findings_closed),
        "findings": findings,
    }

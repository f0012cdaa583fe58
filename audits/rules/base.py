"""What an audit rule is, and the registry the audit run steps through.

A rule is a small class: it declares its pitfall, the mitigation the source article pairs
with that pitfall, and its thresholds (with defaults and bounds that HR's settings page
and the settings service validate against); ``evaluate`` reads the database and returns
``FindingDraft``s. Rules never write: the run (audits/services/runs.py) turns drafts into
findings, de-duplicated by fingerprint.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from audits.models import Severity, SubjectType

if TYPE_CHECKING:
    from audits.models import AuditRun, CorrelationResult


@dataclass(frozen=True)
class Threshold:
    key: str
    label: str
    default: Decimal
    minimum: Decimal
    maximum: Decimal
    unit: str = ""
    help: str = ""
    whole: bool = False  # a whole number (days, people), not a decimal


@dataclass(frozen=True)
class FindingDraft:
    # Stable within the rule across runs, e.g. "department:12"; the run prefixes the rule key.
    key: str
    severity: Severity
    subject_type: SubjectType
    subject_id: int | None
    subject_label: str
    department_id: int | None
    message: str
    # Drill-down ids and figures: {"goals": [...], "employees": [...], "forms": [...], "plans": [...],
    # "priorities": [...], "departments": [...], "figures": {...}}; JSON-serialisable only.
    details: dict = field(default_factory=dict)


@dataclass
class AuditContext:
    """What every rule of one run shares: the day it audits and, when there is one, the run."""

    today: datetime.date
    run: AuditRun | None = None
    # Rules may cache shared reads here (e.g. the current goal periods) under their own keys.
    cache: dict[str, object] = field(default_factory=dict)
    # The correlation rule's results, unsaved, for the run to store with its findings (a rule never
    # writes: audits/services/correlation.py does).
    correlation_results: list[CorrelationResult] | None = None


class Rule:
    key: ClassVar[str]
    title: ClassVar[str]  # what the rule checks, e.g. "Departments with few aligned people"
    pitfall: ClassVar[str]  # the pitfall it belongs to, for grouping on the dashboard
    description: ClassVar[str]  # how it decides, in plain words, with the threshold names
    mitigation: ClassVar[str]  # what to do about it (paired with the pitfall in the source article)
    thresholds: ClassVar[tuple[Threshold, ...]] = ()

    def evaluate(self, ctx: AuditContext, limits: Mapping[str, Decimal]) -> Iterable[FindingDraft]:
        raise NotImplementedError

    @classmethod
    def defaults(cls) -> dict[str, Decimal]:
        return {t.key: t.default for t in cls.thresholds}


REGISTRY: dict[str, type[Rule]] = {}


def register(rule: type[Rule]) -> type[Rule]:
    if rule.key in REGISTRY and REGISTRY[rule.key] is not rule:
        raise ValueError(f"Two audit rules share the key {rule.key!r}.")
    REGISTRY[rule.key] = rule
    return rule


@dataclass(frozen=True)
class DepartmentScore:
    department_id: int
    name: str
    people: int
    aligned: int
    score: Decimal | None  # None when the department has nobody in scope


@dataclass(frozen=True)
class AlignmentScores:
    organisation: Decimal | None
    departments: list[DepartmentScore]

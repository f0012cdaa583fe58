"""What "now" means for an audit, and the small helpers every rule shares.

An audit looks at one day (``AuditContext.today``; never the clock) and from it derives:

- **The current goal periods**: the open periods that contain the day — several when
  cycles overlap — else, as the cascade's "My goals" does, the latest open period
  (so between two cycles the audit reads the goals people still see as theirs).
- **The current review cycles**: launched cycles (running or closed) that own a current
  period. A review cycle decides who is expected to have goals: its participants (the
  departments it chose, minus exclusions and late hires).
- **The people in scope**: active employees who take part in a current cycle; when no
  current period has a launched cycle, every active employee. Departments are people's
  current departments.

Everything is computed once per run and kept in ``ctx.cache``; each read is one query.
Rules call these helpers rather than re-deriving "now", so every rule audits the same
population and the same goals.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from appraisals.models import Appraisal, CycleState, Participant, ReviewCycle
from audits.models import Severity
from cascade.models import Approval, Goal, GoalLevel, GoalPeriod, GoalStatus
from people.models import Department, Employee

if TYPE_CHECKING:
    # Only for annotations: importing audits.rules here would import every rule, which imports this module.
    from audits.rules.base import AuditContext

# Id lists in a finding's details stop here; the figures carry the full count.
MAX_IDS = 200
# Names listed inline in a message before "and N more".
MAX_NAMES = 5

LAUNCHED_STATES = (CycleState.ACTIVE, CycleState.CLOSED)


@dataclass(frozen=True)
class Period:
    id: int
    name: str
    start: datetime.date
    end: datetime.date


@dataclass(frozen=True)
class Scope:
    today: datetime.date
    periods: tuple[Period, ...]
    # Launched review cycles that own a current period; their participants are the population.
    cycle_ids: tuple[int, ...]

    @property
    def period_ids(self) -> list[int]:
        return [p.id for p in self.periods]

    @property
    def by_cycle(self) -> bool:
        return bool(self.cycle_ids)

    @property
    def period_label(self) -> str:
        return ", ".join(p.name for p in self.periods) or "no current period"

    def people(self) -> QuerySet[Employee]:
        """Active employees in scope (see the module docstring); a lazy queryset, usable as a subquery."""
        people = Employee.objects.filter(is_active=True)
        if self.cycle_ids:
            people = people.filter(pk__in=Participant.objects.filter(cycle_id__in=self.cycle_ids).values("employee_id"))
        return people.order_by()

    def goals(self) -> QuerySet[Goal]:
        """Goals of the current periods, cancelled ones left out."""
        return Goal.objects.filter(period_id__in=self.period_ids).exclude(status=GoalStatus.CANCELLED).order_by()

    def individual_goals(self) -> QuerySet[Goal]:
        """The current individual goals of people in scope."""
        return self.goals().filter(level=GoalLevel.INDIVIDUAL, owner__in=self.people())

    def counted_individual_goals(self) -> QuerySet[Goal]:
        """Individual goals that count towards a person's plan: not cancelled, not returned for changes
        (a returned goal is being rewritten; the cascade's matrix leaves it out too)."""
        return self.individual_goals().exclude(approval=Approval.RETURNED)


def scope_for(ctx: AuditContext) -> Scope:
    """The run's scope, computed once (two queries) and shared by every rule through ``ctx.cache``."""
    cached = ctx.cache.get("audits.scope")
    if isinstance(cached, Scope):
        return cached
    periods = tuple(current_periods(ctx.today))
    cycle_ids = tuple(
        ReviewCycle.objects.filter(period_id__in=[p.id for p in periods], state__in=LAUNCHED_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    scope = Scope(today=ctx.today, periods=periods, cycle_ids=cycle_ids)
    ctx.cache["audits.scope"] = scope
    return scope


def current_periods(today: datetime.date) -> list[Period]:
    """Open periods containing ``today``; else the latest open period; else none (one query)."""
    rows = [
        Period(id=p["pk"], name=p["name"], start=p["start"], end=p["end"])
        for p in GoalPeriod.objects.filter(is_open=True).order_by("-start", "pk").values("pk", "name", "start", "end")
    ]
    containing = [p for p in rows if p.start <= today <= p.end]
    if containing:
        return sorted(containing, key=lambda p: (p.start, p.id))
    return rows[:1]


def priority_overlaps_period() -> Q:
    """On Goal rows: the goal's priority's period overlaps the goal's own period."""
    return Q(priority__period_start__lte=F("period__end"), priority__period_end__gte=F("period__start"))


def latest_scored_cycle() -> ReviewCycle | None:
    """The latest review cycle (by start) in which at least one appraisal has a score (one query)."""
    scored = Appraisal.objects.filter(score__isnull=False).values("participant__cycle_id")
    return ReviewCycle.objects.filter(pk__in=scored).order_by("-start", "-pk").first()


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the site's time zone, for comparing with timestamps."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def supporting_departments(scope: Scope, priority_ids: list[int], *, approved_only: bool) -> dict[int, set[int]]:
    """Priority id → departments that own or contribute to one of its current department goals (two queries)."""
    goals = scope.goals().filter(level=GoalLevel.FUNCTIONAL, priority_id__in=priority_ids)
    # Approved only, or every goal still in play (drafts and submitted ones show intent; returned ones are being redone).
    goals = goals.filter(approval=Approval.APPROVED) if approved_only else goals.exclude(approval=Approval.RETURNED)
    supporting: dict[int, set[int]] = defaultdict(set)
    for priority_id, department_id in goals.values_list("priority_id", "department_id").distinct():
        supporting[priority_id].add(department_id)
    through = Goal.contributing_departments.through
    for priority_id, department_id in (
        through.objects.filter(goal__in=goals.values("pk"))
        .values_list("goal__priority_id", "department_id")
        .distinct()
        .order_by()
    ):
        supporting[priority_id].add(department_id)
    return supporting


# ---------------------------------------------------------------- names and lists


def capped(ids: Iterable[int | None]) -> list[int]:
    """Distinct ids, ascending, at most MAX_IDS of them (the figures say how many there are)."""
    return sorted({i for i in ids if i is not None})[:MAX_IDS]


def department_names(ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """Department id → name (one query); every department when ``ids`` is None."""
    departments = Department.objects.order_by()
    if ids is not None:
        departments = departments.filter(pk__in={i for i in ids if i is not None})
    return dict(departments.values_list("pk", "name"))


def employee_names(ids: Iterable[int | None]) -> dict[int, tuple[str, int]]:
    """Employee id → (full name, department id) (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = Employee.objects.filter(pk__in=wanted).order_by().values_list("pk", "full_name", "department_id")
    return {pk: (name, department) for pk, name, department in rows}


def listing(names: Iterable[str], limit: int = MAX_NAMES) -> str:
    """'A, B and C' — or 'A, B, C, D, E and 3 more' past ``limit`` names."""
    names = list(names)
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else ""


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 goal', '2 goals', '15,928 goals' (or the plural given)."""
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"


# ---------------------------------------------------------------- figures


def percent(part: float | int | Decimal, whole: float | int | Decimal) -> Decimal | None:
    """100 × part / whole to two places, half up; None when the whole is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def shown(value: Decimal | float | int) -> str:
    """A figure for a message: a whole number stays whole, anything else gets one decimal at most."""
    number = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{number:.0f}" if number == number.to_integral_value() else f"{number}"


def as_set(value: Decimal | float | int) -> str:
    """A threshold as HR set it: 0.75 stays 0.75, 70.00 reads 70."""
    number = Decimal(str(value))
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(value: Decimal | float | int) -> float | int:
    """A JSON-friendly figure for a finding's details."""
    if isinstance(value, int):
        return value
    number = float(value)
    return int(number) if number.is_integer() else round(number, 2)


# ---------------------------------------------------------------- severity


def shortfall_severity(value: Decimal | float, floor: Decimal | float) -> Severity:
    """For a figure below its floor: high under half the floor, medium under 85 % of it, low just below."""
    if not floor:
        return Severity.LOW
    ratio = Decimal(str(value)) / Decimal(str(floor))
    if ratio < Decimal("0.5"):
        return Severity.HIGH
    if ratio < Decimal("0.85"):
        return Severity.MEDIUM
    return Severity.LOW


def gap_severity(gap: Decimal | float, limit: Decimal | float) -> Severity:
    """For a gap past its limit: high at twice the limit or more, medium otherwise."""
    return Severity.HIGH if Decimal(str(gap)) >= 2 * Decimal(str(limit)) else Severity.MEDIUM


def share_severity(share: Decimal | float | None) -> Severity:
    """For the share of a team's records with a problem: high from half, medium from a fifth, low below."""
    share = Decimal(str(share or 0))
    if share >= 50:
        return Severity.HIGH
    if share >= 20:
        return Severity.MEDIUM
    return Severity.LOW


def count_severity(count: int, minimum: Decimal | int) -> Severity:
    """For a count at or above its minimum: high from ten times it, medium from three times, else low."""
    minimum = max(Decimal(str(minimum)), Decimal(1))
    if count >= 10 * minimum:
        return Severity.HIGH
    if count >= 3 * minimum:
        return Severity.MEDIUM
    return Severity.LOW

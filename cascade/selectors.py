"""Reads for the cascade: trees, line of sight, sets, feeds, the matrix.

Who may see what is decided in cascade.access; every read scoped by a user starts
from its ``<things>_visible_to`` querysets. Each function issues a fixed number of
queries whatever the size of the tree or organisation.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from cascade import access, charts
from cascade.models import (
    Approval,
    CascadeImport,
    Goal,
    GoalLevel,
    GoalPeriod,
    GoalStatus,
    GoalUpdate,
    Observation,
    QualityMeasure,
    QualityPriority,
)
from core.access import get_visible_or_404
from people import selectors as people
from people.models import Department, Employee

# Who sees what is cascade.access's; these names are kept for the apps above that read goals here.
GOAL_RELATED = access.GOAL_RELATED
priorities_visible_to = access.priorities_visible_to
measures_visible_to = access.measures_visible_to
goals_visible_to = access.goals_visible_to


def get_priority(*, user, pk: int) -> QualityPriority:
    return get_visible_or_404(access.priorities_visible_to(user), pk=pk)


def get_measure(*, user, pk: int) -> QualityMeasure:
    return get_visible_or_404(access.measures_visible_to(user), pk=pk)


def get_visible_goal(*, user, pk: int) -> Goal:
    return get_visible_or_404(access.goals_visible_to(user), pk=pk)


def get_import(*, user, pk: int) -> CascadeImport:
    return get_visible_or_404(access.imports_visible_to(user), pk=pk)


def observations_for(measure: QualityMeasure) -> list[Observation]:
    return list(measure.observations.order_by("date"))


def measure_chart(
    measure: QualityMeasure,
    *,
    target: Decimal | None = None,
    observations: Sequence[tuple[datetime.date, Decimal]] | None = None,
) -> charts.Chart:
    """The measure's run and XmR charts, in phases split at its change points, by its run-chart rules.

    The one way every page and the API chart a measure. Observations and change points are read
    through ``measure.observations.all()`` and ``measure.change_points.all()``, so a caller
    charting many measures prefetches both and this issues no query; a caller that already holds
    the series (as dated values) passes it. ``target`` stands in for the measure's own (a goal's).
    """
    if observations is None:
        observations = sorted(((o.date, o.value) for o in measure.observations.all()), key=lambda row: row[0])
    change_points = sorted((c.date, c.reason) for c in measure.change_points.all())
    return charts.chart_for(
        observations,
        direction=measure.direction,
        target=measure.target if target is None else target,
        rules=measure.run_rules,
        change_points=change_points,
    )


def goal_sets_to_approve(*, user, period: GoalPeriod | None) -> int:
    """How many goal sets of ``period`` wait for this user's approval (one query); the approver is
    cascade.access's (goals_approvable_by), so HR counts the sets without a manager or head."""
    if period is None:
        return 0
    waiting = (
        access.goals_awaiting_approval_by(user)
        .filter(period=period)
        .values_list("level", "owner_id", "department_id")
        .distinct()
    )
    return len(
        {(level, owner if level == GoalLevel.INDIVIDUAL else department) for level, owner, department in waiting}
    )


# ---------------------------------------------------------------- which period a person sees

# Where a higher app says which period someone is working in now: appraisals registers "the
# period of the running review cycle this person takes part in" when it is ready. Cascade sits
# below appraisals and may not import it, so the higher app plugs its answer in here instead;
# every page that asks default_period_for() then follows a person's cycle without knowing of it.
PersonPeriod = Callable[[Employee], GoalPeriod | None]
_person_periods: list[PersonPeriod] = []


def register_person_period(source: PersonPeriod) -> None:
    """Add a source of "the period this person works in now" (called from an AppConfig.ready)."""
    if source not in _person_periods:
        _person_periods.append(source)


def organisation_default_period() -> GoalPeriod | None:
    """The period HR marked as the default; unmarked, the open period that contains today,
    else the latest open one, else the latest of all."""
    marked = GoalPeriod.objects.filter(is_default=True).first()
    if marked is not None:
        return marked
    today = timezone.localdate()
    periods = GoalPeriod.objects.order_by("-is_open", "-start", "-pk")
    containing = periods.filter(is_open=True, start__lte=today, end__gte=today).first()
    return containing or periods.first()


def open_period_containing(*, start, end) -> GoalPeriod | None:
    """The open period that holds the whole of start..end (the default one first, then the latest
    starting): what a review cycle reviews unless HR chooses another (its Plan window's period)."""
    if start is None or end is None:
        return None
    return (
        GoalPeriod.objects.filter(is_open=True, start__lte=start, end__gte=end)
        .order_by("-is_default", "-start", "-pk")
        .first()
    )


def default_period_for(user) -> GoalPeriod | None:
    """The period a page shows this person unless they choose another: that of a review cycle
    they take part in now (as the registered sources say), else the organisation's default.
    A cycle for one department therefore changes nothing for anyone outside it."""
    employee = people.employee_for_user(user)
    if employee is not None:
        for source in _person_periods:
            period = source(employee)
            if period is not None:
                return period
    return organisation_default_period()


# ---------------------------------------------------------------- trees and line of sight


@dataclass
class GoalNode:
    goal: Goal
    children: list[GoalNode] = field(default_factory=list)
    child_count: int = 0  # in a tree read a level at a time: the goals below, not read yet


TREE_ORDER = ("level", "department__name", "title", "pk")
TREE_WHOLE = 150  # a tree up to this many goals comes whole; a larger one a level at a time
TREE_LEVEL = 50  # goals per level read at once; "more" reads the next ones


def _tree_goals(*, user, priority: QualityPriority, period: GoalPeriod | None) -> QuerySet[Goal]:
    goals = goals_visible_to(user=user).filter(priority=priority).exclude(status=GoalStatus.CANCELLED)
    return goals.filter(period=period) if period is not None else goals


def priority_tree(*, user, priority: QualityPriority, period: GoalPeriod | None = None) -> list[GoalNode]:
    """The goals cascaded from one priority that this user may see, as a forest (one query)."""
    goals = _tree_goals(user=user, priority=priority, period=period)
    return _forest(list(goals.order_by(*TREE_ORDER)))


def _forest(goals: list[Goal]) -> list[GoalNode]:
    nodes = {g.pk: GoalNode(goal=g) for g in goals}
    roots: list[GoalNode] = []
    for node in nodes.values():
        parent = node.goal.parent_goal_id
        (nodes[parent].children if parent in nodes else roots).append(node)
    return roots


@dataclass
class TreeLevel:
    """One level of a priority's tree, or a slice of it: the goals under ``parent`` (None: the top)."""

    parent: Goal | None
    nodes: list[GoalNode]
    total: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.nodes)
        return end if end < self.total else None

    @property
    def remaining(self) -> int:
        return max(self.total - self.offset - len(self.nodes), 0)


def priority_tree_start(*, user, priority: QualityPriority, period: GoalPeriod | None) -> TreeLevel:
    """What a priority's tree shows first, a bounded number of goals whatever the organisation's
    size: a small tree whole (as priority_tree), a large one its top level's first goals, each
    with how many goals hang below it (two or three queries)."""
    goals = _tree_goals(user=user, priority=priority, period=period)
    if len(goals.order_by().values_list("pk", flat=True)[: TREE_WHOLE + 1]) <= TREE_WHOLE:
        roots = _forest(list(goals.order_by(*TREE_ORDER)))
        return TreeLevel(parent=None, nodes=roots, total=len(roots), offset=0)
    return priority_tree_level(user=user, priority=priority, period=period, parent=None)


def priority_tree_level(
    *, user, priority: QualityPriority, period: GoalPeriod | None, parent: Goal | None, offset: int = 0
) -> TreeLevel:
    """``TREE_LEVEL`` goals of one level of the tree from ``offset``, each with the number of goals
    below it (three queries). The top level holds the goals hung on the priority itself and
    those whose parent goal is not in this tree (cancelled, or of another period or priority),
    as priority_tree places them."""
    goals = _tree_goals(user=user, priority=priority, period=period)
    if parent is None:
        # The tree's own ids, read once into a hash (not a join to every goal's parent row).
        in_tree = goals.order_by().values("pk")
        level = goals.filter(Q(parent_goal__isnull=True) | ~Q(parent_goal_id__in=in_tree))
    else:
        level = goals.filter(parent_goal=parent)
    total = level.count()
    # The page's ids first (a narrow sort), then their rows with what they show.
    ids = list(level.order_by(*TREE_ORDER).values_list("pk", flat=True)[offset : offset + TREE_LEVEL])
    rows = {g.pk: g for g in Goal.objects.select_related(*GOAL_RELATED).filter(pk__in=ids)}
    page = [rows[pk] for pk in ids]
    below = dict(
        goals.filter(parent_goal__in=[g.pk for g in page]).order_by().values_list("parent_goal").annotate(n=Count("pk"))
    )
    nodes = [GoalNode(goal=g, child_count=below.get(g.pk, 0)) for g in page]
    return TreeLevel(parent=parent, nodes=nodes, total=total, offset=offset)


@dataclass(frozen=True)
class LineOfSight:
    """A goal and what it serves, from the goal up to the organisation's priority."""

    goal: Goal
    department_goal: Goal | None
    priority: QualityPriority


def line_of_sight(goal: Goal) -> LineOfSight:
    parent = goal.parent_goal if goal.parent_goal_id else None
    return LineOfSight(goal=goal, department_goal=parent, priority=goal.priority)


def goals_of(*, owner: Employee, period: GoalPeriod | None) -> list[Goal]:
    """Someone's goals with their chain above, in one query (the related rows come joined)."""
    goals = Goal.objects.select_related(*GOAL_RELATED, "parent_goal__department").filter(owner=owner)
    if period is not None:
        goals = goals.filter(period=period)
    return list(goals.order_by("status", "-weight", "title"))


def chain_goals_above(*, employee: Employee, period: GoalPeriod | None) -> list[Goal]:
    """The individual goals of this person's managers: what their own work feeds into."""
    goals = Goal.objects.select_related(*GOAL_RELATED).filter(owner_id__in=employee.chain_ids())
    goals = goals.filter(approval=Approval.APPROVED).exclude(status=GoalStatus.CANCELLED)  # not their drafts
    if period is not None:
        goals = goals.filter(period=period)
    return list(goals.order_by("owner__path", "title"))


@dataclass
class TeamMemberGoals:
    person: Employee
    goals: list[Goal]

    @property
    def weight_total(self) -> int:
        return sum(g.weight for g in self.goals if g.status != GoalStatus.CANCELLED)

    @property
    def state(self) -> str:
        from cascade.workflow import set_state

        return set_state(self.goals)


def team_goals(*, manager: Employee, period: GoalPeriod | None) -> list[TeamMemberGoals]:
    """Each direct report with their goals for the period (two queries)."""
    reports = list(people.reports_of(employee=manager, direct_only=True).order_by("full_name"))
    goals = Goal.objects.select_related(*GOAL_RELATED).filter(owner__in=reports)
    if period is not None:
        goals = goals.filter(period=period)
    by_owner: dict[int, list[Goal]] = defaultdict(list)
    for goal in goals.order_by("-weight", "title"):
        by_owner[goal.owner_id].append(goal)
    return [TeamMemberGoals(person=r, goals=by_owner[r.pk]) for r in reports]


def department_goals(*, user, department: Department, period: GoalPeriod | None) -> dict[str, list[Goal]]:
    """The department's own goals, and individual goals of its people this user may see."""
    goals = goals_visible_to(user=user).filter(department=department).exclude(status=GoalStatus.CANCELLED)
    if period is not None:
        goals = goals.filter(period=period)
    result: dict[str, list[Goal]] = {"functional": [], "individual": []}
    for goal in goals.order_by("priority__title", "title"):
        result[goal.level].append(goal)
    return result


# ---------------------------------------------------------------- feeds


def goal_feed(goal: Goal, limit: int = 50) -> list[GoalUpdate]:
    return list(goal.updates.select_related("author")[:limit])


def team_feed(*, manager: Employee, limit: int = 50) -> list[GoalUpdate]:
    """Recent updates on the goals of everyone under this manager (one query)."""
    return list(
        GoalUpdate.objects.select_related("goal", "author")
        .filter(goal__owner__path__startswith=manager.path)
        .exclude(goal__owner=manager)[:limit]
    )


# ---------------------------------------------------------------- the linkage matrix


@dataclass(frozen=True)
class MatrixCell:
    count: int
    mean_progress: Decimal | None

    @property
    def mean_percent(self) -> int | None:
        """The mean progress to a whole percent, half up (as floatformat:0, at a fraction of its cost per cell)."""
        if self.mean_progress is None:
            return None
        return int(self.mean_progress.quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    @property
    def heat(self) -> int:
        """0–5 heat band for colouring: 0 = no linked goals."""
        if not self.count or self.mean_progress is None:
            return 0
        return 1 + min(int(self.mean_progress) // 20, 4)


@dataclass
class Matrix:
    priorities: list[QualityPriority]
    departments: list[Department]
    cells: dict[tuple[int, int], MatrixCell]

    def cell(self, priority_id: int, department_id: int) -> MatrixCell:
        return self.cells.get((priority_id, department_id), MatrixCell(0, None))

    def rows(self) -> list[tuple[QualityPriority, list[tuple[Department, MatrixCell]]]]:
        return [(p, [(d, self.cell(p.pk, d.pk)) for d in self.departments]) for p in self.priorities]


def linkage_matrix(*, user, period: GoalPeriod | None = None, include_retired: bool = False) -> Matrix:
    """Priorities × departments: how many goals link each pair, and their mean progress (3 queries).

    Counted: goals not cancelled and not returned drafts, functional and individual, by
    the department that owns them; a contributing department also counts a shared goal.
    """
    priorities = priorities_visible_to(user=user)
    if not include_retired:
        priorities = priorities.filter(status="active")
    goals = _matrix_goals(user=user, period=period)
    grouped = goals.values("priority_id", "department_id").annotate(count=Count("pk"), total=Sum("progress"))
    cells: dict[tuple[int, int], list] = {}
    for row in grouped:
        cells[(row["priority_id"], row["department_id"])] = [row["count"], Decimal(row["total"] or 0)]
    shared = goals.filter(level=GoalLevel.FUNCTIONAL, contributing_departments__isnull=False).values(
        "priority_id", "contributing_departments", "progress"
    )
    for row in shared:
        key = (row["priority_id"], row["contributing_departments"])
        count, total = cells.get(key, [0, Decimal("0")])
        cells[key] = [count + 1, total + row["progress"]]
    return Matrix(
        priorities=list(priorities.order_by("title")),
        departments=list(Department.objects.order_by("name")),
        cells={
            key: MatrixCell(count, (total / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if count else None)
            for key, (count, total) in cells.items()
        },
    )


def _matrix_goals(*, user, period: GoalPeriod | None) -> QuerySet[Goal]:
    goals = goals_visible_to(user=user).exclude(status=GoalStatus.CANCELLED).exclude(approval=Approval.RETURNED)
    if period is not None:
        goals = goals.filter(period=period)
    return goals.order_by()


def matrix_cell_goals(*, user, priority: QualityPriority, department: Department, period: GoalPeriod | None):
    """The goals and people behind one matrix cell (one query)."""
    goals = _matrix_goals(user=user, period=period).select_related(*GOAL_RELATED).filter(priority=priority)
    goals = goals.filter(Q(department=department) | Q(level=GoalLevel.FUNCTIONAL, contributing_departments=department))
    return list(goals.distinct().order_by("level", "owner__full_name", "title"))

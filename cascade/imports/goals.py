"""Goal import: a file of department and individual goals, checked row by row and created
as drafts in the chosen period, all or nothing.

It is the ``HANDLER`` listed in cascade.imports.runner (reading, progress, the
all-or-nothing transaction). ``check`` resolves every reference in bulk (a fixed
number of queries whatever the file's length), builds each goal unsaved and runs
it through ``services.validate_goal`` so that a row is refused for exactly the
reasons the goal form would refuse it; ``apply`` creates the goals through
``services.goal_create``, department goals first so that individual goals in the
same file can name them as their parent.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from cascade import access, services
from cascade.imports.rows import ImportHandler, Problem, Row, cell_date, cell_number, cell_text, report_progress
from cascade.models import (
    CascadeImport,
    Goal,
    GoalKind,
    GoalLevel,
    GoalStatus,
    PriorityStatus,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from people.models import Department, Employee

COLUMNS = (
    "level",
    "title",
    "priority",
    "parent_goal",
    "owner_employee_id",
    "department",
    "weight",
    "kind",
    "measure",
    "baseline",
    "target",
    "progress_mode",
    "due_date",
    "improvement_hours_per_month",
)
REQUIRED = ("level", "title", "weight")
ALIASES = {
    "goal": "title",
    "goal title": "title",
    "quality priority": "priority",
    "parent": "parent_goal",
    "department goal": "parent_goal",
    "owner": "owner_employee_id",
    "employee id": "owner_employee_id",
    "owner employee id": "owner_employee_id",
    "weight %": "weight",
    "improvement hours": "improvement_hours_per_month",
    "improvement hours per month": "improvement_hours_per_month",
}
# Shown on the upload page and in the downloadable template.
TEMPLATE_ROWS = [
    [
        "functional",
        "Barcode scanning on every ward",
        "Improve medication safety",
        "",
        "",
        "Nursing",
        "60",
        "process",
        "",
        "",
        "",
        "manual",
        "2026-06-30",
        "4",
    ],
    [
        "individual",
        "Scan every high-risk dose",
        "",
        "Barcode scanning on every ward",
        "H0002",
        "",
        "50",
        "result",
        "Administration errors",
        "",
        "",
        "measure",
        "2026-09-30",
        "2",
    ],
]

LEVELS = {
    "individual": GoalLevel.INDIVIDUAL,
    "personal": GoalLevel.INDIVIDUAL,
    "person": GoalLevel.INDIVIDUAL,
    "functional": GoalLevel.FUNCTIONAL,
    "department": GoalLevel.FUNCTIONAL,
}
KINDS = {"result": GoalKind.RESULT, "process": GoalKind.PROCESS, "improvement": GoalKind.PROCESS}
MODES = {"manual": ProgressMode.MANUAL, "measure": ProgressMode.MEASURE}
# Service field names that are columns under another name.
SERVICE_FIELD_TO_COLUMN = {"owner": "owner_employee_id"}


def _key(value: object) -> str:
    return " ".join(cell_text(value).lower().split())


def _choice(value: object, choices: dict[str, str], labels: list[tuple[str, str]]) -> str | None:
    """A choice by its value, a known synonym, or its label, in any case; None when unknown."""
    key = _key(value)
    if key in choices:
        return choices[key]
    for choice, label in labels:
        if key == label.lower():
            return choice
    return None


def authorize(user, *, measure=None, period=None) -> None:
    """HR and the quality lead may import goals, and managers for their reports (checked per row)."""
    if not access.can_import_goals(user):
        raise PermissionDenied("You cannot import goals.")
    if period is None:
        raise ValidationError({"period": "Choose the goal period the new goals belong to."})


class _Lookups:
    """Everything the rows may refer to, loaded once."""

    def __init__(self, record: CascadeImport, rows: list[Row]) -> None:
        self.priorities_by_id = {p.pk: p for p in QualityPriority.objects.all()}
        self.priorities_by_title: dict[str, list[QualityPriority]] = defaultdict(list)
        for priority in self.priorities_by_id.values():
            self.priorities_by_title[_key(priority.title)].append(priority)

        period_goals = Goal.objects.select_related("priority", "department").filter(
            period=record.period, level=GoalLevel.FUNCTIONAL
        )
        self.parents_by_title: dict[str, list[Goal]] = defaultdict(list)
        for goal in period_goals.exclude(status=GoalStatus.CANCELLED):
            self.parents_by_title[_key(goal.title)].append(goal)
        ids = {int(cell_text(r.values["parent_goal"])) for r in rows if cell_text(r.values["parent_goal"]).isdigit()}
        self.goals_by_id = {g.pk: g for g in Goal.objects.select_related("priority", "department").filter(pk__in=ids)}

        employee_ids = {cell_text(r.values["owner_employee_id"]) for r in rows} - {""}
        self.employees = {
            e.employee_id: e for e in Employee.objects.select_related("department").filter(employee_id__in=employee_ids)
        }
        self.departments = {_key(d.name): d for d in Department.objects.all()}
        self.measures_by_name: dict[str, list[QualityMeasure]] = defaultdict(list)
        for measure in QualityMeasure.objects.select_related("priority"):
            self.measures_by_name[_key(measure.name)].append(measure)
        # Department goals created by this same file, by title: individual rows may name them.
        self.file_parents: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            if LEVELS.get(_key(row.values["level"])) == GoalLevel.FUNCTIONAL and cell_text(row.values["title"]):
                self.file_parents[_key(row.values["title"])].append(row)
        self._may_draft_department: dict[int, bool] = {}

    def may_draft_department(self, user, department: Department) -> bool:
        if department.pk not in self._may_draft_department:
            self._may_draft_department[department.pk] = access.can_draft_functional_goals(user, department)
        return self._may_draft_department[department.pk]


def check(record: CascadeImport, rows: list[Row]) -> list[Problem]:
    """Every problem in the file, each tied to a row and a column; no writes."""
    lookups = _Lookups(record, rows)
    problems: list[Problem] = []
    # Department goals first, so that an individual row naming one of them finds it checked.
    ordered = sorted(rows, key=lambda r: LEVELS.get(_key(r.values["level"])) != GoalLevel.FUNCTIONAL)
    for index, row in enumerate(ordered, start=1):
        problems.extend(_check_row(record, row, lookups))
        report_progress(record, index)
    return problems


def _check_row(record: CascadeImport, row: Row, lookups: _Lookups) -> list[Problem]:
    user = record.created_by
    v = row.values
    found: list[Problem] = []

    def problem(column: str, message: str) -> None:
        found.append(Problem(row.number, column, message))

    level = LEVELS.get(_key(v["level"]))
    if level is None:
        problem("level", f"{cell_text(v['level'])!r} is not a level; write individual or functional.")
    title = cell_text(v["title"])
    if not title:
        problem("title", "Title is required.")

    priority = _priority(v["priority"], lookups, problem)
    parent, file_parent = _parent(v["parent_goal"], level, record, lookups, problem)
    if parent is not None:
        if priority is not None and priority.pk != parent.priority_id:
            problem("priority", f"The parent goal serves “{parent.priority.title}”, not “{priority.title}”.")
        priority = parent.priority
    elif file_parent is not None:
        parent_priority = file_parent.parsed.get("priority")
        if not file_parent.parsed:
            problem("parent_goal", f"The department goal on row {file_parent.number} has problems of its own.")
        if priority is not None and parent_priority is not None and parent_priority.pk != priority.pk:
            problem("priority", f"The parent goal serves “{parent_priority.title}”, not “{priority.title}”.")
        priority = priority or parent_priority
    if priority is None and not cell_text(v["priority"]) and not cell_text(v["parent_goal"]):
        problem("priority", "Name the quality priority (title or id) or a parent department goal.")
    elif priority is not None and priority.status == PriorityStatus.RETIRED:
        problem("priority", f"“{priority.title}” is retired; choose an active priority.")

    owner = department = None
    owner_id = cell_text(v["owner_employee_id"])
    department_name = cell_text(v["department"])
    if level == GoalLevel.INDIVIDUAL:
        if not owner_id:
            problem("owner_employee_id", "An individual goal needs the owner's employee ID.")
        else:
            owner = lookups.employees.get(owner_id)
            if owner is None or not owner.is_active:
                problem("owner_employee_id", f"Unknown owner: no active person has employee ID {owner_id}.")
                owner = None
            elif not access.can_draft_individual_goals(user, owner):
                problem("owner_employee_id", f"You cannot set goals for {owner.full_name} ({owner_id}).")
                owner = None
    elif level == GoalLevel.FUNCTIONAL:
        if owner_id:
            problem("owner_employee_id", "A department goal has no owner; leave this empty.")
        if not department_name:
            problem("department", "A department goal needs a department.")
        else:
            department = lookups.departments.get(_key(department_name))
            if department is None:
                problem("department", f"Unknown department: {department_name!r}.")
            elif not lookups.may_draft_department(user, department):
                problem("department", f"You cannot set goals for the {department.name} department.")
                department = None

    weight = None
    raw_weight = cell_text(v["weight"])
    try:
        number = cell_number(raw_weight, "weight", required=True)
        if number != number.to_integral_value() or not 1 <= number <= 100:
            raise ValidationError({"weight": "A weight is a whole number from 1 to 100."})
        weight = int(number)
    except ValidationError as exc:
        found.extend(Problem(row.number, "weight", m) for m in exc.messages)

    kind = GoalKind.RESULT
    if cell_text(v["kind"]):
        kind = _choice(v["kind"], KINDS, GoalKind.choices)
        if kind is None:
            problem("kind", f"{cell_text(v['kind'])!r} is not a kind; write result or process.")
    mode = ProgressMode.MANUAL
    if cell_text(v["progress_mode"]):
        mode = _choice(v["progress_mode"], MODES, ProgressMode.choices)
        if mode is None:
            problem(
                "progress_mode", f"{cell_text(v['progress_mode'])!r} is not a progress mode; write manual or measure."
            )

    measure = _measure(v["measure"], priority, lookups, problem)
    numbers: dict[str, Decimal | None] = {}
    for name in ("baseline", "target", "improvement_hours_per_month"):
        try:
            numbers[name] = cell_number(v[name], name, required=False)
        except ValidationError as exc:
            found.extend(Problem(row.number, name, m) for m in exc.messages)
    if numbers.get("baseline") is not None and numbers.get("baseline") == numbers.get("target"):
        problem("target", "The target must differ from the baseline.")
    hours = numbers.get("improvement_hours_per_month")
    if hours is not None and hours < 0:
        problem("improvement_hours_per_month", "Planned improvement time cannot be negative.")
    due_date = None
    if cell_text(v["due_date"]):
        try:
            due_date = cell_date(v["due_date"])
        except ValueError:
            problem("due_date", f"{cell_text(v['due_date'])!r} is not a date; write it as YYYY-MM-DD.")

    if found:
        return found
    data = {
        "title": title,
        "priority": priority,
        "parent_goal": parent,
        "weight": weight,
        "kind": kind,
        "measure": measure,
        "baseline": numbers["baseline"],
        "target": numbers["target"],
        "progress_mode": mode,
        "due_date": due_date,
        "improvement_hours_per_month": hours if hours is not None else Decimal("0"),
    }
    # The remaining rules exactly as the goal form meets them: direction, target ≠ baseline, lengths.
    goal = Goal(level=level, period=record.period, owner=owner, department=department or owner.department, **data)
    try:
        services.validate_goal(goal)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            column = SERVICE_FIELD_TO_COLUMN.get(name, name)
            found.extend(Problem(row.number, column if column in COLUMNS else "file", m) for m in messages)
        return found
    row.parsed = {
        "level": level,
        "data": {**data, "owner": owner} if level == GoalLevel.INDIVIDUAL else {**data, "department": department},
        "file_parent": file_parent,
        "priority": priority,
    }
    return found


def _priority(raw: object, lookups: _Lookups, problem) -> QualityPriority | None:
    text = cell_text(raw)
    if not text:
        return None
    if text.isdigit() and int(text) in lookups.priorities_by_id:
        return lookups.priorities_by_id[int(text)]
    matches = lookups.priorities_by_title.get(_key(text), [])
    if len(matches) == 1:
        return matches[0]
    if matches:
        problem("priority", f"Several priorities are called {text!r}; give its id instead.")
    else:
        problem("priority", f"Unknown priority: no quality priority has the title or id {text!r}.")
    return None


def _parent(raw: object, level: str | None, record: CascadeImport, lookups: _Lookups, problem):
    """The parent department goal: an existing goal (by id, or by title in this period) or a
    department goal row of this file (by title). Returns (goal, row)."""
    text = cell_text(raw)
    if not text:
        return None, None
    if level == GoalLevel.FUNCTIONAL:
        problem("parent_goal", "A department goal sits directly under a quality priority; leave parent_goal empty.")
        return None, None
    if text.isdigit() and int(text) in lookups.goals_by_id:
        goal = lookups.goals_by_id[int(text)]
        if goal.level != GoalLevel.FUNCTIONAL:
            problem(
                "parent_goal",
                f"Goal {text} is an individual goal; a goal sits under a department goal or a priority.",
            )
            return None, None
        if goal.status == GoalStatus.CANCELLED:
            problem("parent_goal", f"Department goal {text} is cancelled.")
            return None, None
        if goal.period_id != record.period_id:
            problem("parent_goal", f"Department goal {text} belongs to {goal.period}, not {record.period}.")
            return None, None
        return goal, None
    existing = lookups.parents_by_title.get(_key(text), [])
    in_file = lookups.file_parents.get(_key(text), [])
    if len(existing) + len(in_file) == 1:
        return (existing[0], None) if existing else (None, in_file[0])
    if existing or in_file:
        problem("parent_goal", f"Several department goals are called {text!r}; give the id of the one you mean.")
    else:
        problem(
            "parent_goal",
            f"Unknown parent goal: no department goal in {record.period} has the title or id {text!r}.",
        )
    return None, None


def _measure(raw: object, priority: QualityPriority | None, lookups: _Lookups, problem) -> QualityMeasure | None:
    text = cell_text(raw)
    if not text:
        return None
    matches = lookups.measures_by_name.get(_key(text), [])
    if len(matches) > 1 and priority is not None:
        matches = [m for m in matches if m.priority_id == priority.pk] or matches
    if len(matches) == 1:
        return matches[0]
    if matches:
        problem("measure", f"Several measures are called {text!r}; name the priority to tell them apart.")
    else:
        problem("measure", f"Unknown measure: {text!r}.")
    return None


def apply(record: CascadeImport, rows: list[Row]) -> dict:
    """Create every goal as a draft, department goals first so that individual rows can hang under them."""
    user = record.created_by
    created_for_row: dict[int, Goal] = {}
    ordered = sorted(rows, key=lambda r: r.parsed["level"] != GoalLevel.FUNCTIONAL)
    for row in ordered:
        data = dict(row.parsed["data"])
        file_parent = row.parsed["file_parent"]
        if file_parent is not None:
            data["parent_goal"] = created_for_row[file_parent.number]
        created_for_row[row.number] = services.goal_create(
            user=user, level=row.parsed["level"], period=record.period, data=data
        )
    goals = list(created_for_row.values())
    return {
        "goals_created": len(goals),
        "department_goals": sum(g.level == GoalLevel.FUNCTIONAL for g in goals),
        "individual_goals": sum(g.level == GoalLevel.INDIVIDUAL for g in goals),
        "period": str(record.period),
        "approval": "Draft: submit each set for approval once its weights total 100",
    }


HANDLER = ImportHandler(
    columns=COLUMNS,
    required=REQUIRED,
    aliases=ALIASES,
    check=check,
    apply=apply,
    authorize=authorize,
)

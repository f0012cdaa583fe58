"""Who may see and do what in the cascade: the one place that decides.

``<things>_visible_to(user)`` querysets say what a user may see (a record outside them
answers 404); ``can_<verb>(user[, obj])`` checks say what they may do (403 for a role-reserved
page or endpoint, or an action on a visible record). Pages, the API, selectors, templates and
services ask here and never re-derive a rule.

Visibility (PRODUCT.md): priorities, measures and department goals are the organisation's and
visible to everyone signed in. An individual goal is visible to its owner, everyone above the
owner, HR and the quality lead, and — line of sight — everyone below the owner; colleagues who
share a manager see each other's only when the organisation turns team visibility on.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from cascade.models import (
    Approval,
    CascadeImport,
    CascadeSettings,
    ChangePoint,
    Goal,
    GoalLevel,
    GoalStatus,
    QualityMeasure,
    QualityPriority,
)
from core.access import among
from people import access as people
from people.models import Department, Employee

User = AbstractBaseUser | AnonymousUser

# What a goal page shows beside the goal; every goal queryset here selects them.
GOAL_RELATED = ("priority", "parent_goal", "department", "owner", "measure", "period")


# ---------------------------------------------------------------- what a user sees


def priorities_visible_to(user: User) -> QuerySet[QualityPriority]:
    if not user.is_authenticated:
        return QualityPriority.objects.none()
    return QualityPriority.objects.select_related("owner")


def measures_visible_to(user: User) -> QuerySet[QualityMeasure]:
    if not user.is_authenticated:
        return QualityMeasure.objects.none()
    return QualityMeasure.objects.select_related("priority", "department")


def change_points_visible_to(user: User) -> QuerySet[ChangePoint]:
    """Change points are drawn on the measure's charts, so whoever sees the measure sees them."""
    return ChangePoint.objects.filter(measure__in=measures_visible_to(user).values("pk")).select_related(
        "measure", "created_by"
    )


def _visible_goal_ids(user: User) -> QuerySet[Goal] | None:
    """The ids of the goals this user may see, as one subquery; None means all of them.

    HR and the quality lead (who owns the priorities and reads the matrix down to
    the people behind each cell) see every goal: goals, unlike appraisals, are
    not private. Anyone else sees the department goals and the individual goals
    of the people below them (their stored path's prefix), above them (their chain),
    themselves, and — with team visibility on — their manager's other reports.

    A UNION of those branches rather than one OR: each branch is answered by an index
    (the partial index of department goals, the owner index, employee.path's pattern index),
    where an OR across goal and employee columns made PostgreSQL read every goal.
    """
    if people.is_hr_admin(user) or people.is_quality_lead(user):
        return None
    functional = Goal.objects.filter(level=GoalLevel.FUNCTIONAL).values("pk").order_by()
    employee = people.employee_for_user(user)
    if employee is None:
        return functional
    # Their own goals and everyone's below them: the owner's path starts with theirs.
    branches = [
        Goal.objects.filter(level=GoalLevel.INDIVIDUAL, owner__path__startswith=employee.path).values("pk").order_by()
    ]
    if chain := employee.chain_ids():
        branches.append(Goal.objects.filter(level=GoalLevel.INDIVIDUAL, owner_id__in=chain).values("pk").order_by())
    if employee.manager_id and CascadeSettings.team_visibility():
        branches.append(
            Goal.objects.filter(level=GoalLevel.INDIVIDUAL, owner__manager_id=employee.manager_id)
            .values("pk")
            .order_by()
        )
    return functional.union(*branches, all=True)


def goals_visible_to(user: User) -> QuerySet[Goal]:
    queryset = Goal.objects.select_related(*GOAL_RELATED)
    if not user.is_authenticated:
        return queryset.none()
    visible = _visible_goal_ids(user)
    if visible is None:
        return queryset
    return among(queryset, visible)


def goals_approvable_by(user: User) -> QuerySet[Goal]:
    """The goals whose set this user approves (can_approve_set_of, as one query): their direct
    reports' and their departments'; HR also approves people without a manager and departments
    without a head."""
    scope = Q(pk__in=[])
    employee = people.employee_for_user(user)
    if employee is not None:
        scope |= Q(level=GoalLevel.INDIVIDUAL, owner__manager=employee)
        scope |= Q(level=GoalLevel.FUNCTIONAL, department__head=employee)
    if people.is_hr_admin(user):
        scope |= Q(level=GoalLevel.INDIVIDUAL, owner__manager__isnull=True)
        scope |= Q(level=GoalLevel.FUNCTIONAL, department__head__isnull=True)
    return Goal.objects.filter(scope)


def goals_awaiting_approval_by(user: User) -> QuerySet[Goal]:
    """Submitted (live) goals of the sets this user approves."""
    return goals_approvable_by(user).filter(approval=Approval.SUBMITTED).exclude(status=GoalStatus.CANCELLED)


def imports_visible_to(user: User) -> QuerySet[CascadeImport]:
    """An import's page and file: its uploader's and HR's; anyone else's answers 404."""
    queryset = CascadeImport.objects.select_related("created_by", "measure", "period")
    if not user.is_authenticated:
        return queryset.none()
    if people.is_hr_admin(user):
        return queryset
    return queryset.filter(created_by=user)


# ---------------------------------------------------------------- what a user does


def can_manage_priorities(user: User) -> bool:
    """Quality priorities and their measures belong to the quality lead (and HR)."""
    return people.is_hr_admin(user) or people.is_quality_lead(user)


def can_manage_periods(user: User) -> bool:
    """Goal periods (adding one, choosing the default) are HR's."""
    return people.is_hr_admin(user)


def can_see_team_goals(user: User) -> bool:
    """The team pages: managers, department heads and HR (for the sets HR approves)."""
    if people.is_hr_admin(user):
        return True
    employee = people.employee_for_user(user)
    return bool(employee) and (people.is_manager(employee) or Department.objects.filter(head=employee).exists())


def can_see_team_feed(user: User) -> bool:
    """The team's progress feed: managers (it lists their reports' updates)."""
    employee = people.employee_for_user(user)
    return bool(employee) and people.is_manager(employee)


def can_import_goals(user: User) -> bool:
    """HR and the quality lead import anyone's goals; a manager imports their reports' (checked per row)."""
    if people.is_hr_admin(user) or people.is_quality_lead(user):
        return True
    employee = people.employee_for_user(user)
    return bool(employee and people.is_manager(employee))


def can_record_observations(user: User, measure: QualityMeasure) -> bool:
    if can_manage_priorities(user):
        return True
    employee = people.employee_for_user(user)
    return bool(employee and measure.department.head_id == employee.pk)


def is_measure_owner(user: User, measure: QualityMeasure) -> bool:
    """A measure has no owner field of its own: it is owned by its priority's owner (who owns the
    priority and its measures) and by the head of its owning department (who records its data)."""
    employee = people.employee_for_user(user)
    if employee is None:
        return False
    return employee.pk in (measure.priority.owner_id, measure.department.head_id)


def can_mark_change_points(user: User, measure: QualityMeasure) -> bool:
    """Mark or remove a change point (PRODUCT.md "Change points"): the measure's owner or a quality
    lead. HR is not named there: HR sets measures up, but when a process changed is a judgement for
    the people who own it."""
    return people.is_quality_lead(user) or is_measure_owner(user, measure)


def can_draft_functional_goals(user: User, department: Department) -> bool:
    """Department goals are drafted by the department's head or its managers, the quality lead, or HR."""
    if can_manage_priorities(user):
        return True
    employee = people.employee_for_user(user)
    if employee is None:
        return False
    if department.head_id == employee.pk:
        return True
    return employee.department_id == department.pk and people.is_manager(employee)


def departments_draftable_by(user: User) -> QuerySet[Department]:
    """The departments whose goals this user drafts (can_draft_functional_goals, as one query)."""
    if can_manage_priorities(user):
        return Department.objects.all()
    employee = people.employee_for_user(user)
    if employee is None:
        return Department.objects.none()
    scope = Q(head=employee)
    if people.is_manager(employee):
        scope |= Q(pk=employee.department_id)
    return Department.objects.filter(scope)


def can_draft_any_functional_goals(user: User) -> bool:
    """Someone who drafts department goals for at least one department (can_draft_functional_goals):
    the pages offer "Add a department goal" to them only."""
    if can_manage_priorities(user):
        return True
    employee = people.employee_for_user(user)
    if employee is None:
        return False
    return Department.objects.filter(head=employee).exists() or people.is_manager(employee)


def can_draft_individual_goals(user: User, owner: Employee) -> bool:
    """A person drafts their own goals; their managers (anyone above them) may draft for them."""
    employee = people.employee_for_user(user)
    if employee is None:
        return people.is_hr_admin(user)
    return owner.pk == employee.pk or owner.path.startswith(employee.path) or people.is_hr_admin(user)


def can_edit_goal(user: User, goal: Goal) -> bool:
    if goal.level == GoalLevel.FUNCTIONAL:
        return can_draft_functional_goals(user, goal.department)
    return can_draft_individual_goals(user, goal.owner)


def approver_for_individual(owner: Employee) -> Employee | None:
    """The direct manager approves; someone with no manager is approved by HR (None here)."""
    return owner.manager


def can_approve_individual_set(user: User, owner: Employee) -> bool:
    employee = people.employee_for_user(user)
    approver = approver_for_individual(owner)
    if approver is None:
        return people.is_hr_admin(user)
    return bool(employee and employee.pk == approver.pk)


def can_approve_functional_set(user: User, department: Department) -> bool:
    """The department head approves their department's goals; without a head, HR does."""
    if department.head_id is None:
        return people.is_hr_admin(user)
    employee = people.employee_for_user(user)
    return bool(employee and employee.pk == department.head_id)


def approver_of(goal: Goal) -> Employee | None:
    """Who answers for the goal's set now (a request to cancel it, "ask …" on its page): the owner's
    manager or the department head; None when there is none or they have left, and HR answers."""
    individual = goal.level == GoalLevel.INDIVIDUAL
    approver = approver_for_individual(goal.owner) if individual else goal.department.head
    return approver if approver is not None and approver.is_active else None


def can_approve_set_of(user: User, goal: Goal) -> bool:
    """The approver of the goal's set: the owner's manager, or the department head (else HR)."""
    if goal.level == GoalLevel.FUNCTIONAL:
        return can_approve_functional_set(user, goal.department)
    return can_approve_individual_set(user, goal.owner)


def can_cancel_goal(user: User, goal: Goal) -> bool:
    """Cancel outright. A goal never approved: whoever drafts it (or its approver). A goal once
    approved (``approved_at``, kept when reopened), even reopened: only its approver or HR, since
    its weight was agreed with them; the owner asks instead (``can_request_cancel``)."""
    if goal.status == GoalStatus.CANCELLED:
        return False
    if people.is_hr_admin(user) or can_approve_set_of(user, goal):
        return True
    return goal.approved_at is None and can_edit_goal(user, goal)


def can_request_cancel(user: User, goal: Goal) -> bool:
    """Ask the approver to cancel a goal once approved: those who draft it but may not cancel it."""
    return (
        goal.status != GoalStatus.CANCELLED
        and goal.approved_at is not None
        and can_edit_goal(user, goal)
        and not can_cancel_goal(user, goal)
    )


def can_update_progress(user: User, goal: Goal) -> bool:
    employee = people.employee_for_user(user)
    if goal.level == GoalLevel.INDIVIDUAL:
        return bool(employee) and (goal.owner_id == employee.pk or goal.owner.path.startswith(employee.path))
    if can_manage_priorities(user):
        return True
    if employee is None:
        return False
    contributing = {d.pk for d in goal.contributing_departments.all()}
    return employee.department_id == goal.department_id or employee.department_id in contributing


def can_sign_off_result(user: User, goal: Goal) -> bool:
    """Close a goal as achieved / not achieved, i.e. sign its result off (directly or answering a
    request), decline a request to close it, or reopen a signed-off result: the approver of its
    set or HR, as for cancelling an approved goal (PRODUCT.md: closing needs the manager's sign-off)."""
    if goal.status == GoalStatus.CANCELLED:
        return False
    return people.is_hr_admin(user) or can_approve_set_of(user, goal)


def can_request_close(user: User, goal: Goal) -> bool:
    """Ask the approver to close a goal with a proposed result: those who may edit the goal but
    not sign its result off (the owner, a skip-level manager, a department's managers)."""
    return goal.status == GoalStatus.OPEN and can_edit_goal(user, goal) and not can_sign_off_result(user, goal)


def can_close_by_measure(user: User, goal: Goal) -> bool:
    """Close a measure-driven goal by its measure's result (the system signs it off): whoever may
    edit the goal or sign its result off. Whether the goal is measure-driven is the workflow's check."""
    return goal.status == GoalStatus.OPEN and (can_edit_goal(user, goal) or can_sign_off_result(user, goal))

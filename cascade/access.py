"""Who may change what in the cascade. Views, the API and services all ask here,
so the rules live in one place. Reading is decided by cascade.selectors."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from cascade.models import Goal, GoalLevel, GoalStatus, QualityMeasure
from people import selectors as people
from people.models import Department, Employee

User = AbstractBaseUser | AnonymousUser


def can_manage_priorities(user: User) -> bool:
    """Quality priorities and their measures belong to the quality lead (and HR)."""
    return people.is_hr_admin(user) or people.is_quality_lead(user)


def can_manage_periods(user: User) -> bool:
    """Goal periods (adding one, choosing the default) are HR's."""
    return people.is_hr_admin(user)


def can_record_observations(user: User, measure: QualityMeasure) -> bool:
    if can_manage_priorities(user):
        return True
    employee = people.employee_for_user(user)
    return bool(employee and measure.department.head_id == employee.pk)


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

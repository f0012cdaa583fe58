"""Who sees which goals, the line of sight, the tree and the matrix, in bounded queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from cascade import selectors, services
from cascade.models import Approval, CascadeSettings, Goal, GoalLevel
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def fresh(employee):
    return get_user_model().objects.get(pk=employee.user.pk)


def goal_for(owner, period, priority, *, parent=None, title=None, weight=100):
    return services.goal_create(
        user=owner.user,
        level=GoalLevel.INDIVIDUAL,
        period=period,
        data={
            "title": title or f"{owner.full_name}'s goal",
            "priority": None if parent else priority,
            "parent_goal": parent,
            "weight": weight,
            "owner": owner,
        },
    )


@pytest.fixture
def goals(cast, period, priority):
    ward = services.goal_create(
        user=cast.hr.user,
        level=GoalLevel.FUNCTIONAL,
        period=period,
        data={"title": "Ward scanning", "priority": priority, "weight": 100, "department": cast.employee.department},
    )
    return {
        "ward": ward,
        "chief": goal_for(cast.chief, period, priority, parent=ward),
        "manager": goal_for(cast.manager, period, priority, parent=ward),
        "employee": goal_for(cast.employee, period, priority, parent=ward),
        "stranger": goal_for(cast.stranger, period, priority),
    }


def visible_titles(employee, goals) -> set[str]:
    names = {g.pk: key for key, g in goals.items()}
    return {names[g.pk] for g in selectors.goals_visible_to(user=fresh(employee))}


def test_an_employee_sees_their_goals_the_chain_above_and_department_goals(cast, goals):
    assert visible_titles(cast.employee, goals) == {"ward", "chief", "manager", "employee"}


def test_a_manager_sees_their_reports_goals_and_their_own_chain(cast, goals):
    assert visible_titles(cast.manager, goals) == {"ward", "chief", "manager", "employee"}


def test_an_unrelated_employee_sees_only_their_own_and_department_goals(cast, goals):
    assert visible_titles(cast.stranger, goals) == {"ward", "stranger"}


def test_hr_sees_every_goal(cast, goals):
    assert visible_titles(cast.hr, goals) == set(goals)


def test_colleagues_with_one_manager_see_each_other_only_when_the_organisation_allows(cast, goals, period, priority):
    colleague = EmployeeFactory(manager=cast.manager, department=cast.employee.department)
    goals["colleague"] = goal_for(colleague, period, priority)
    assert "colleague" not in visible_titles(cast.employee, goals)
    with pytest.raises(Http404):
        selectors.get_visible_goal(user=fresh(cast.employee), pk=goals["colleague"].pk)
    CascadeSettings.objects.update_or_create(pk=1, defaults={"team_goal_visibility": True})
    assert "colleague" in visible_titles(cast.employee, goals)
    assert "colleague" not in visible_titles(cast.stranger, goals)


def test_line_of_sight_runs_from_the_goal_to_the_priority(goals, priority):
    sight = selectors.line_of_sight(goals["employee"])
    assert (sight.goal, sight.department_goal, sight.priority) == (goals["employee"], goals["ward"], priority)
    direct = selectors.line_of_sight(goals["stranger"])
    assert direct.department_goal is None and direct.priority == priority


def test_the_tree_nests_individual_goals_under_department_goals(cast, goals, priority):
    roots = selectors.priority_tree(user=fresh(cast.hr), priority=priority)
    by_title = {node.goal.title: node for node in roots}
    assert {n.goal.pk for n in by_title["Ward scanning"].children} == {
        goals["chief"].pk,
        goals["manager"].pk,
        goals["employee"].pk,
    }
    # The stranger's goal hangs straight under the priority.
    assert goals["stranger"].pk in {n.goal.pk for n in roots}


@pytest.mark.parametrize("people", [3, 15])
def test_the_tree_takes_a_fixed_number_of_queries(cast, period, priority, goals, people):
    for _ in range(people):
        goal_for(
            EmployeeFactory(manager=cast.manager, department=cast.employee.department),
            period,
            priority,
            parent=goals["ward"],
        )
    user = fresh(cast.hr)
    with CaptureQueriesContext(connection) as queries:
        roots = selectors.priority_tree(user=user, priority=priority)
        [(n.goal.owner, n.goal.department, [c.goal.owner for c in n.children]) for n in roots]
    assert len(queries) <= 3


def test_the_matrix_counts_goals_and_their_mean_progress(cast, goals, priority):
    Goal.objects.filter(pk=goals["employee"].pk).update(progress=Decimal("30"))
    Goal.objects.filter(pk=goals["manager"].pk).update(progress=Decimal("60"))
    Goal.objects.filter(pk=goals["stranger"].pk).update(progress=Decimal("45"))
    matrix = selectors.linkage_matrix(user=fresh(cast.hr))
    nursing, pharmacy = cast.employee.department, cast.stranger.department
    # Nursing: ward (0 %), chief (0 %), manager (60 %), employee (30 %) → 4 goals, mean 22.5 %.
    assert matrix.cell(priority.pk, nursing.pk).count == 4
    assert matrix.cell(priority.pk, nursing.pk).mean_progress == Decimal("22.5")
    assert matrix.cell(priority.pk, pharmacy.pk).count == 1
    assert matrix.cell(priority.pk, pharmacy.pk).mean_progress == Decimal("45.0")
    assert matrix.cell(priority.pk, cast.hr.department.pk).count == 0


def test_a_shared_department_goal_counts_for_contributing_departments(cast, goals, priority):
    radiology = DepartmentFactory(name="Radiology")
    goals["ward"].contributing_departments.add(radiology)
    matrix = selectors.linkage_matrix(user=fresh(cast.hr))
    assert matrix.cell(priority.pk, radiology.pk).count == 1
    behind = selectors.matrix_cell_goals(user=fresh(cast.hr), priority=priority, department=radiology, period=None)
    assert behind == [goals["ward"]]


def test_returned_goals_are_left_out_of_the_matrix(cast, goals, priority):
    Goal.objects.filter(pk=goals["stranger"].pk).update(approval=Approval.RETURNED)
    matrix = selectors.linkage_matrix(user=fresh(cast.hr))
    assert matrix.cell(priority.pk, cast.stranger.department.pk).count == 0


@pytest.mark.parametrize("extra", [2, 20])
def test_the_matrix_takes_a_fixed_number_of_queries(cast, period, priority, goals, extra):
    for index in range(extra):
        department = DepartmentFactory(name=f"Extra {index}")
        goal_for(EmployeeFactory(department=department), period, priority)
    user = fresh(cast.hr)
    with CaptureQueriesContext(connection) as queries:
        matrix = selectors.linkage_matrix(user=user)
        matrix.rows()
    assert len(queries) <= 5


def test_the_sets_waiting_for_approval_follow_cascade_access(cast, period, priority):
    """The home page's count: a manager's reports' sets, and for HR the sets of people without a
    manager (the chief), as cascade.access.can_approve_set_of decides."""
    from cascade import access, workflow

    for owner in (cast.employee, cast.chief):
        goal_for(owner, period, priority)
        workflow.submit(user=fresh(owner), goal_set=workflow.GoalSet(period=period, owner=owner))

    assert selectors.goal_sets_to_approve(user=fresh(cast.manager), period=period) == 1
    assert selectors.goal_sets_to_approve(user=fresh(cast.hr), period=period) == 1
    assert selectors.goal_sets_to_approve(user=fresh(cast.employee), period=period) == 0
    for goal in access.goals_awaiting_approval_by(fresh(cast.hr)):
        assert access.can_approve_set_of(fresh(cast.hr), goal)
    chief_goal = Goal.objects.get(owner=cast.chief)
    assert access.approver_of(chief_goal) is None and workflow.approver_label(chief_goal) == "HR"

"""Who may see whom, and reporting chains, in a constant number of queries."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from people import selectors
from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


def names(queryset) -> set[str]:
    return {e.user.username for e in queryset}


def fresh(user):
    # A new User object, as a new request would have: nothing cached on it.
    return get_user_model().objects.get(pk=user.pk)


def test_an_employee_sees_only_themselves(cast):
    assert names(selectors.employees_visible_to(user=fresh(cast.employee.user))) == {"employee"}


def test_a_manager_sees_themselves_and_their_reports(cast):
    assert names(selectors.employees_visible_to(user=fresh(cast.manager.user))) == {"manager", "employee"}


def test_a_skip_level_manager_sees_indirect_reports(cast):
    assert names(selectors.employees_visible_to(user=fresh(cast.chief.user))) == {"chief", "manager", "employee"}


def test_an_unrelated_employee_sees_no_one_else(cast):
    assert names(selectors.employees_visible_to(user=fresh(cast.stranger.user))) == {"stranger"}


def test_hr_sees_everyone(cast):
    assert names(selectors.employees_visible_to(user=fresh(cast.hr.user))) == {
        "chief",
        "manager",
        "employee",
        "stranger",
        "hradmin",
    }


def test_a_user_without_an_employee_record_sees_no_one(cast):
    assert not selectors.employees_visible_to(user=UserFactory()).exists()


def test_it_hides_people_who_left_from_managers(cast):
    cast.employee.is_active = False
    cast.employee.save()
    assert names(selectors.employees_visible_to(user=fresh(cast.manager.user))) == {"manager"}


def test_it_answers_404_for_someone_outside_scope(cast):
    with pytest.raises(Http404):
        selectors.get_visible_employee(user=fresh(cast.stranger.user), pk=cast.employee.pk)
    with pytest.raises(Http404):
        selectors.get_visible_employee(user=fresh(cast.employee.user), pk=cast.manager.pk)
    assert selectors.get_visible_employee(user=fresh(cast.chief.user), pk=cast.employee.pk) == cast.employee


def test_reporting_chain_runs_from_the_top_down(cast):
    assert selectors.reporting_chain(employee=cast.employee) == [cast.chief, cast.manager]
    assert selectors.reporting_chain(employee=cast.chief) == []


def build_chain(depth: int):
    top = EmployeeFactory()
    person = top
    for _ in range(depth):
        person = EmployeeFactory(manager=person, department=top.department)
    return top, person


@pytest.mark.parametrize("depth", [3, 30])
def test_reporting_chain_takes_one_query_whatever_the_depth(depth):
    _, bottom = build_chain(depth)
    with CaptureQueriesContext(connection) as queries:
        chain = selectors.reporting_chain(employee=bottom)
    assert len(chain) == depth
    assert len(queries) == 1


@pytest.mark.parametrize("depth", [3, 30])
def test_listing_everyone_visible_takes_two_queries_whatever_the_size(depth):
    top, _ = build_chain(depth)
    for _ in range(depth):
        EmployeeFactory(manager=top, department=top.department)
    user = fresh(top.user)
    with CaptureQueriesContext(connection) as queries:
        visible = list(selectors.employees_visible_to(user=user))
        [(e.department.name, e.manager) for e in visible]  # the page shows both
    assert len(visible) == 2 * depth + 1
    assert len(queries) == 2  # the viewer's own record, then everyone under them


def test_department_tree_nests_children_and_counts_active_people(cast):
    from people.models import Department

    nursing = Department.objects.get(name="Nursing")
    ward = Department.objects.create(name="Ward 7", parent=nursing)
    EmployeeFactory(department=ward, manager=cast.manager)
    with CaptureQueriesContext(connection) as queries:
        roots = selectors.department_tree()
    assert len(queries) == 1
    nursing_node = next(n for n in roots if n.department.name == "Nursing")
    assert nursing_node.headcount == 3
    assert [c.department.name for c in nursing_node.children] == ["Ward 7"]
    assert nursing_node.children[0].headcount == 1

"""The cascade API: who may see and change what, goal scoping and line of sight,
optimistic locking, the cascade's refusals, the goal-setting workflow, the
roll-up of progress updates, measure charts, the linkage matrix and query counts."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cascade.models import (
    Approval,
    Direction,
    Goal,
    GoalPeriod,
    GoalStatus,
    GoalUpdate,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from people.models import Department, Employee
from tests.cascade.factories import (
    FunctionalGoalFactory,
    GoalPeriodFactory,
    IndividualGoalFactory,
    ObservationFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)
from tests.conftest import Cast
from tests.factories import DepartmentFactory, EmployeeFactory

API = "/api/v1"
PEOPLE = ("chief", "manager", "employee", "stranger", "hr", "lead")


@dataclass
class World:
    """The cast, a quality lead, one priority with a Nursing measure, and goals:
    Nursing's department goal with the chief's, the manager's and the employee's
    goals under it; Pharmacy's department goal and the stranger's goal."""

    cast: Cast
    lead: Employee
    nursing: Department
    pharmacy: Department
    period: GoalPeriod
    priority: QualityPriority
    measure: QualityMeasure
    dept_goal: Goal
    chief_goal: Goal
    manager_goal: Goal
    employee_goal: Goal
    pharmacy_goal: Goal
    stranger_goal: Goal

    def person(self, role: str) -> Employee:
        return self.lead if role == "lead" else getattr(self.cast, role)

    def ids(self) -> dict[str, int]:
        ids = {role: self.person(role).pk for role in PEOPLE}
        for name in ("nursing", "pharmacy", "period", "priority", "measure"):
            ids[name] = getattr(self, name).pk
        for name in ("dept", "chief", "manager", "employee", "pharmacy", "stranger"):
            ids[f"{name}_goal"] = getattr(self, f"{name}_goal").pk
        return ids


@pytest.fixture
def world(cast) -> World:
    nursing = Department.objects.get(name="Nursing")
    pharmacy = Department.objects.get(name="Pharmacy")
    # The chief heads Nursing: they approve its department goals and record its measures.
    nursing.head = cast.chief
    nursing.save(update_fields=["head"])
    lead = EmployeeFactory(
        user__username="lead",
        full_name="Quality Lead",
        is_quality_lead=True,
        department=DepartmentFactory(name="Quality"),
    )
    period = GoalPeriodFactory()
    priority = QualityPriorityFactory(title="Medication safety", owner=lead)
    measure = QualityMeasureFactory(priority=priority, name="Doses scanned", department=nursing)
    dept_goal = FunctionalGoalFactory(title="Ward scanning", priority=priority, department=nursing, period=period)
    return World(
        cast=cast,
        lead=lead,
        nursing=nursing,
        pharmacy=pharmacy,
        period=period,
        priority=priority,
        measure=measure,
        dept_goal=dept_goal,
        chief_goal=IndividualGoalFactory(title="Chief's goal", owner=cast.chief, parent_goal=dept_goal),
        manager_goal=IndividualGoalFactory(title="Manager's goal", owner=cast.manager, parent_goal=dept_goal),
        employee_goal=IndividualGoalFactory(title="Employee's goal", owner=cast.employee, parent_goal=dept_goal),
        pharmacy_goal=FunctionalGoalFactory(title="Pharmacy checks", priority=priority, department=pharmacy),
        stranger_goal=IndividualGoalFactory(title="Stranger's goal", owner=cast.stranger, priority=priority),
    )


def fill(template: object, ids: dict[str, int]) -> object:
    """Put ids into a url or body: "{period}" alone becomes the number, inside a string the text."""
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in ids:
            return ids[template[1:-1]]
        return template.format(**ids)
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, ids) for value in template]
    return template


def ids_of(response) -> set[int]:
    body = response.json()
    return {row["id"] for row in (body["results"] if isinstance(body, dict) else body)}


def approve(*goals: Goal) -> None:
    Goal.objects.filter(pk__in=[g.pk for g in goals]).update(approval=Approval.APPROVED)


# ---------------------------------------------------------------- permissions

PRIORITY = {
    "title": "Patient flow",
    "aim": "Discharge before noon.",
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
}
MEASURE = {
    "priority": "{priority}",
    "name": "Discharges before noon",
    "unit": "%",
    "measure_type": "outcome",
    "direction": "up",
    "baseline": "20",
    "target": "40",
    "department": "{nursing}",
}
OBSERVATION = {"date": "2026-02-01", "value": "61.5"}
EDIT = {"version": 1, "title": "Renamed"}
INDIVIDUAL = {
    "level": "individual",
    "title": "Scan every dose",
    "period": "{period}",
    "parent_goal": "{dept_goal}",
    "owner": "{employee}",
    "weight": 50,
}
FUNCTIONAL = {
    "level": "functional",
    "title": "Barcode every ward",
    "period": "{period}",
    "priority": "{priority}",
    "department": "{nursing}",
    "weight": 50,
}
EMPLOYEE_SET = {"period": "{period}", "owner": "{employee}"}

PERMISSION_TABLE = [
    # Priorities and measures are the organisation's: all read them; the quality lead and HR write them.
    ("employee", "get", "/priorities/", None, 200),
    ("stranger", "get", "/priorities/{priority}/", None, 200),
    ("employee", "post", "/priorities/", PRIORITY, 403),
    ("manager", "post", "/priorities/", PRIORITY, 403),
    ("chief", "post", "/priorities/", PRIORITY, 403),
    ("lead", "post", "/priorities/", PRIORITY, 201),
    ("hr", "post", "/priorities/", PRIORITY, 201),
    ("chief", "patch", "/priorities/{priority}/", EDIT, 403),
    ("lead", "patch", "/priorities/{priority}/", EDIT, 200),
    ("stranger", "get", "/measures/{measure}/", None, 200),
    ("employee", "post", "/measures/", MEASURE, 403),
    ("chief", "post", "/measures/", MEASURE, 403),
    ("lead", "post", "/measures/", MEASURE, 201),
    ("manager", "patch", "/measures/{measure}/", {"version": 1, "name": "Scans"}, 403),
    ("hr", "patch", "/measures/{measure}/", {"version": 1, "name": "Scans"}, 200),
    # Observations: the quality lead, HR, and the head of the measure's department (the chief).
    ("stranger", "get", "/measures/{measure}/observations/", None, 200),
    ("employee", "post", "/measures/{measure}/observations/", OBSERVATION, 403),
    ("manager", "post", "/measures/{measure}/observations/", OBSERVATION, 403),
    ("stranger", "post", "/measures/{measure}/observations/", OBSERVATION, 403),
    ("chief", "post", "/measures/{measure}/observations/", OBSERVATION, 201),
    ("lead", "post", "/measures/{measure}/observations/", OBSERVATION, 201),
    ("hr", "post", "/measures/{measure}/observations/", OBSERVATION, 201),
    # Someone's goal: themselves, everyone above them, HR; others get 404.
    ("employee", "get", "/goals/{employee_goal}/", None, 200),
    ("manager", "get", "/goals/{employee_goal}/", None, 200),
    ("chief", "get", "/goals/{employee_goal}/", None, 200),
    ("stranger", "get", "/goals/{employee_goal}/", None, 404),
    ("hr", "get", "/goals/{employee_goal}/", None, 200),
    ("lead", "get", "/goals/{employee_goal}/", None, 200),
    # Line of sight: the goals above you are visible, not editable.
    ("employee", "get", "/goals/{manager_goal}/", None, 200),
    ("employee", "get", "/goals/{chief_goal}/", None, 200),
    ("employee", "patch", "/goals/{manager_goal}/", EDIT, 403),
    ("manager", "patch", "/goals/{chief_goal}/", EDIT, 403),
    ("employee", "patch", "/goals/{employee_goal}/", EDIT, 200),
    ("manager", "patch", "/goals/{employee_goal}/", EDIT, 200),
    ("chief", "patch", "/goals/{employee_goal}/", EDIT, 200),
    ("stranger", "patch", "/goals/{employee_goal}/", EDIT, 404),
    ("hr", "patch", "/goals/{employee_goal}/", EDIT, 200),
    ("lead", "patch", "/goals/{employee_goal}/", EDIT, 403),
    # Department goals: everyone reads them; the head, the department's managers, the lead and HR edit them.
    ("stranger", "get", "/goals/{dept_goal}/", None, 200),
    ("employee", "patch", "/goals/{dept_goal}/", EDIT, 403),
    ("manager", "patch", "/goals/{dept_goal}/", EDIT, 200),
    ("chief", "patch", "/goals/{dept_goal}/", EDIT, 200),
    ("stranger", "patch", "/goals/{dept_goal}/", EDIT, 403),
    ("lead", "patch", "/goals/{dept_goal}/", EDIT, 200),
    # Drafting someone's goal: themselves and those above; someone out of sight is no valid owner.
    ("employee", "post", "/goals/", INDIVIDUAL, 201),
    ("manager", "post", "/goals/", INDIVIDUAL, 201),
    ("chief", "post", "/goals/", INDIVIDUAL, 201),
    ("stranger", "post", "/goals/", INDIVIDUAL, 400),
    ("hr", "post", "/goals/", INDIVIDUAL, 201),
    ("lead", "post", "/goals/", INDIVIDUAL, 400),
    ("employee", "post", "/goals/", FUNCTIONAL, 403),
    ("manager", "post", "/goals/", FUNCTIONAL, 201),
    ("stranger", "post", "/goals/", FUNCTIONAL, 403),
    ("lead", "post", "/goals/", FUNCTIONAL, 201),
    # Submitting a person's set: whoever may draft it; out of sight, the person does not exist.
    ("employee", "post", "/goals/submit-set/", EMPLOYEE_SET, 200),
    ("manager", "post", "/goals/submit-set/", EMPLOYEE_SET, 200),
    ("chief", "post", "/goals/submit-set/", EMPLOYEE_SET, 200),
    ("stranger", "post", "/goals/submit-set/", EMPLOYEE_SET, 404),
    ("hr", "post", "/goals/submit-set/", EMPLOYEE_SET, 200),
    ("lead", "post", "/goals/submit-set/", EMPLOYEE_SET, 404),
    # Reads for everyone, scoped.
    ("stranger", "get", "/goal-updates/", None, 200),
    ("employee", "get", "/matrix/", None, 200),
    ("lead", "get", "/matrix/?period={period}", None, 200),
    ("stranger", "get", "/matrix/cell/?priority={priority}&department={nursing}", None, 200),
]


@pytest.mark.parametrize("role, method, template, body, expected", PERMISSION_TABLE)
def test_it_validates_ownership(world, api_client_for, role, method, template, body, expected):
    ids = world.ids()
    client = api_client_for(world.person(role))
    response = getattr(client, method)(API + fill(template, ids), fill(body, ids), format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    "role, expected",
    [("employee", 403), ("manager", 200), ("chief", 403), ("stranger", 404), ("hr", 403), ("lead", 404)],
)
def test_only_the_direct_manager_approves_a_submitted_set(world, api_client_for, role, expected):
    body = fill(EMPLOYEE_SET, world.ids())
    assert api_client_for(world.cast.employee).post(f"{API}/goals/submit-set/", body, format="json").status_code == 200
    response = api_client_for(world.person(role)).post(f"{API}/goals/approve-set/", body, format="json")
    assert response.status_code == expected, response.content
    world.employee_goal.refresh_from_db()
    assert world.employee_goal.approval == (Approval.APPROVED if expected == 200 else Approval.SUBMITTED)


@pytest.mark.parametrize(
    "role, expected",
    [("employee", 201), ("manager", 201), ("chief", 201), ("stranger", 404), ("hr", 403), ("lead", 403)],
)
def test_progress_is_updated_by_the_owner_and_those_above(world, api_client_for, role, expected):
    approve(world.employee_goal)
    body = {"goal": world.employee_goal.pk, "percent": "30", "comment": "Two wards live."}
    response = api_client_for(world.person(role)).post(f"{API}/goal-updates/", body, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/priorities/"),
        ("get", "/measures/"),
        ("get", "/goals/"),
        ("post", "/goals/"),
        ("get", "/goal-updates/"),
        ("get", "/matrix/"),
    ],
)
def test_it_refuses_anonymous_requests(world, api_client_for, method, path):
    response = getattr(api_client_for(None), method)(API + path, {}, format="json")
    assert response.status_code == 401


def test_a_goal_out_of_scope_and_a_missing_one_look_the_same(world, api_client_for):
    client = api_client_for(world.cast.stranger)
    hidden = client.get(f"{API}/goals/{world.employee_goal.pk}/")
    missing = client.get(f"{API}/goals/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_a_form_encoded_write_is_refused(world, api_client_for):
    response = api_client_for(world.lead).post(f"{API}/priorities/", PRIORITY)  # multipart, not JSON
    assert response.status_code == 415


# ---------------------------------------------------------------- goal scoping and line of sight


@pytest.mark.parametrize(
    "role, expected",
    [
        ("employee", {"dept", "pharmacy", "chief", "manager", "employee"}),
        ("manager", {"dept", "pharmacy", "chief", "manager", "employee"}),
        ("chief", {"dept", "pharmacy", "chief", "manager", "employee"}),
        ("stranger", {"dept", "pharmacy", "stranger"}),
        ("hr", {"dept", "pharmacy", "chief", "manager", "employee", "stranger"}),
        # The quality lead reads every goal, as HR does: they own the priorities the goals serve.
        ("lead", {"dept", "pharmacy", "chief", "manager", "employee", "stranger"}),
    ],
)
def test_each_user_lists_exactly_the_goals_they_may_see(world, api_client_for, role, expected):
    response = api_client_for(world.person(role)).get(f"{API}/goals/")
    assert response.status_code == 200
    names = {
        getattr(world, f"{name}_goal").pk: name
        for name in ("dept", "pharmacy", "chief", "manager", "employee", "stranger")
    }
    assert {names[pk] for pk in ids_of(response)} == expected


def test_a_goal_shows_its_line_of_sight_to_the_priority(world, api_client_for):
    Goal.objects.filter(pk=world.dept_goal.pk).update(progress=Decimal("40"))
    QualityPriority.objects.filter(pk=world.priority.pk).update(progress=Decimal("25"))
    body = api_client_for(world.cast.employee).get(f"{API}/goals/{world.employee_goal.pk}/").json()
    assert body["line_of_sight"] == {
        "department_goal": {"id": world.dept_goal.pk, "title": "Ward scanning", "progress": "40.00"},
        "priority": {"id": world.priority.pk, "title": "Medication safety", "progress": "25.00"},
    }
    assert body["parent_goal"] == {"id": world.dept_goal.pk, "title": "Ward scanning"}
    assert body["owner"] == {"id": world.cast.employee.pk, "name": "Staff Nurse"}
    assert (body["level"], body["approval"], body["version"]) == ("individual", "draft", 1)
    department_goal = api_client_for(world.cast.employee).get(f"{API}/goals/{world.dept_goal.pk}/").json()
    assert department_goal["line_of_sight"]["department_goal"] is None


def test_it_filters_goals(world, api_client_for):
    client = api_client_for(world.cast.hr)
    assert ids_of(client.get(f"{API}/goals/", {"level": "functional"})) == {world.dept_goal.pk, world.pharmacy_goal.pk}
    assert ids_of(client.get(f"{API}/goals/", {"owner": world.cast.manager.pk})) == {world.manager_goal.pk}
    assert ids_of(client.get(f"{API}/goals/", {"department": world.pharmacy.pk})) == {
        world.pharmacy_goal.pk,
        world.stranger_goal.pk,
    }
    approve(world.chief_goal)
    assert ids_of(client.get(f"{API}/goals/", {"approval": "approved"})) == {world.chief_goal.pk}
    other = QualityPriorityFactory(owner=world.lead)
    later = GoalPeriodFactory(name="2027", start=datetime.date(2027, 1, 1), end=datetime.date(2027, 12, 31))
    elsewhere = FunctionalGoalFactory(priority=other, department=world.nursing, period=later)
    assert ids_of(client.get(f"{API}/goals/", {"priority": other.pk})) == {elsewhere.pk}
    assert ids_of(client.get(f"{API}/goals/", {"period": later.pk})) == {elsewhere.pk}


def test_it_refuses_a_malformed_goal_filter_with_400(world, api_client_for):
    response = api_client_for(world.cast.hr).get(f"{API}/goals/", {"owner": "me", "level": "team"})
    assert response.status_code == 400
    assert set(response.json()) == {"owner", "level"}


# ---------------------------------------------------------------- creating and editing goals


def test_an_employee_drafts_a_goal_under_their_department_goal(world, api_client_for):
    body = fill({**INDIVIDUAL, "improvement_hours_per_month": "4.0", "kind": "process"}, world.ids())
    response = api_client_for(world.cast.employee).post(f"{API}/goals/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    # The priority comes from the parent; the department from the owner.
    assert created["priority"] == {"id": world.priority.pk, "title": "Medication safety"}
    assert created["department"] == {"id": world.nursing.pk, "name": "Nursing"}
    assert (created["approval"], created["kind"], created["version"]) == ("draft", "process", 1)
    goal = Goal.objects.get(pk=created["id"])
    assert (goal.owner, goal.created_by, goal.improvement_hours_per_month) == (
        world.cast.employee,
        world.cast.employee,
        Decimal("4.0"),
    )


def test_a_department_goal_can_be_shared_with_contributing_departments(world, api_client_for):
    body = fill({**FUNCTIONAL, "contributing_departments": ["{pharmacy}"]}, world.ids())
    response = api_client_for(world.cast.chief).post(f"{API}/goals/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["contributing_departments"] == [{"id": world.pharmacy.pk, "name": "Pharmacy"}]
    assert response.json()["owner"] is None


def test_editing_a_goal_raises_its_version_and_a_stale_version_gets_409(world, api_client_for):
    client = api_client_for(world.cast.employee)
    path = f"{API}/goals/{world.employee_goal.pk}/"
    response = client.patch(path, {"version": 1, "title": "Scan all doses", "weight": 80}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["title"], response.json()["weight"], response.json()["version"]) == (
        "Scan all doses",
        80,
        2,
    )
    stale = client.patch(path, {"version": 1, "title": "Something else"}, format="json")
    assert stale.status_code == 409
    assert "detail" in stale.json()
    world.employee_goal.refresh_from_db()
    assert (world.employee_goal.title, world.employee_goal.version) == ("Scan all doses", 2)


def test_a_stale_priority_or_measure_edit_gets_409(world, api_client_for):
    client = api_client_for(world.lead)
    for path in (f"/priorities/{world.priority.pk}/", f"/measures/{world.measure.pk}/"):
        key = "title" if "priorities" in path else "name"
        assert client.patch(API + path, {"version": 1, key: "First"}, format="json").status_code == 200
        response = client.patch(API + path, {"version": 1, key: "Second"}, format="json")
        assert response.status_code == 409, path
    world.priority.refresh_from_db()
    assert (world.priority.title, world.priority.version) == ("First", 2)


@pytest.mark.parametrize(
    "body, field",
    [
        # An individual goal hangs under a department goal or a priority, not under someone's goal.
        ({**INDIVIDUAL, "parent_goal": "{manager_goal}"}, "parent_goal"),
        # A department goal hangs directly under a priority.
        ({**FUNCTIONAL, "parent_goal": "{dept_goal}"}, "parent_goal"),
        ({**INDIVIDUAL, "baseline": "5", "target": "5"}, "target"),
        ({**INDIVIDUAL, "baseline": "5"}, "target"),
        ({**INDIVIDUAL, "weight": 0}, "weight"),
        ({**INDIVIDUAL, "weight": "heavy"}, "weight"),
        ({**INDIVIDUAL, "parent_goal": None}, "priority"),
        ({**INDIVIDUAL, "parent_goal": "{stranger_goal}"}, "parent_goal"),  # out of sight: no such goal
        ({**INDIVIDUAL, "department": "{nursing}"}, "department"),
        ({**FUNCTIONAL, "owner": "{employee}"}, "owner"),
        ({**INDIVIDUAL, "approval": "approved"}, "approval"),
        ({**INDIVIDUAL, "progress_mode": "measure"}, "measure"),
    ],
)
def test_it_refuses_a_goal_that_breaks_the_cascade_with_400_naming_the_field(world, api_client_for, body, field):
    before = Goal.objects.count()
    response = api_client_for(world.cast.manager).post(f"{API}/goals/", fill(body, world.ids()), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Goal.objects.count() == before


def test_a_target_on_the_wrong_side_of_a_measure_baseline_is_refused(world, api_client_for):
    body = fill({**INDIVIDUAL, "measure": "{measure}", "baseline": "50", "target": "40"}, world.ids())
    response = api_client_for(world.cast.employee).post(f"{API}/goals/", body, format="json")
    assert response.status_code == 400
    assert "above the baseline" in response.json()["target"][0]


def test_an_approved_goal_is_refused_with_the_reason_until_reopened(world, api_client_for):
    approve(world.employee_goal)
    client = api_client_for(world.cast.employee)
    path = f"{API}/goals/{world.employee_goal.pk}/"
    response = client.patch(path, {"version": 1, "title": "Quietly changed"}, format="json")
    assert response.status_code == 400
    [message] = response.json()["non_field_errors"]
    assert "reopen it before changing it" in message
    # Its outcome may still be recorded without reopening: by its approver, whose close is the sign-off
    # (the owner asks: cascade/test_goal_signoff.py).
    owners = client.patch(path, {"version": 1, "status": "achieved"}, format="json")
    assert owners.status_code == 400 and "close-request/" in owners.json()["status"][0]
    approvers = api_client_for(world.cast.manager).patch(path, {"version": 1, "status": "achieved"}, format="json")
    assert approvers.status_code == 200, approvers.content
    assert approvers.json()["result_signed_off_by"]["id"] == world.cast.manager.pk
    reopened = api_client_for(world.cast.manager).post(f"{path}reopen/", {"comment": "Scope changed"}, format="json")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["approval"] == "draft"
    version = reopened.json()["version"]
    response = client.patch(path, {"version": version, "title": "Openly changed"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Openly changed"


def test_reopening_a_draft_is_refused_with_400(world, api_client_for):
    response = api_client_for(world.cast.employee).post(
        f"{API}/goals/{world.employee_goal.pk}/reopen/", {}, format="json"
    )
    assert response.status_code == 400


def test_owner_department_and_period_cannot_change(world, api_client_for):
    response = api_client_for(world.cast.hr).patch(
        f"{API}/goals/{world.employee_goal.pk}/", {"version": 1, "owner": world.cast.manager.pk}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"owner"}


# ---------------------------------------------------------------- the goal-setting workflow


def test_a_set_goes_from_draft_through_submission_to_approval(world, api_client_for):
    employee, manager = api_client_for(world.cast.employee), api_client_for(world.cast.manager)
    Goal.objects.filter(pk=world.employee_goal.pk).update(weight=40)
    body = fill({**INDIVIDUAL, "weight": 60, "title": "Teach scanning"}, world.ids())
    second = employee.post(f"{API}/goals/", body, format="json").json()["id"]
    set_body = fill(EMPLOYEE_SET, world.ids())

    submitted = employee.post(f"{API}/goals/submit-set/", set_body, format="json")
    assert submitted.status_code == 200, submitted.content
    assert {(g["id"], g["approval"]) for g in submitted.json()} == {
        (world.employee_goal.pk, "submitted"),
        (second, "submitted"),
    }
    # While it waits, it cannot be submitted again, and the skip-level chief cannot approve it.
    assert employee.post(f"{API}/goals/submit-set/", set_body, format="json").status_code == 400
    assert (
        api_client_for(world.cast.chief).post(f"{API}/goals/approve-set/", set_body, format="json").status_code == 403
    )
    assert (
        api_client_for(world.cast.stranger).post(f"{API}/goals/approve-set/", set_body, format="json").status_code
        == 404
    )

    approved = manager.post(f"{API}/goals/approve-set/", {**set_body, "comment": "Good set."}, format="json")
    assert approved.status_code == 200, approved.content
    assert {g["approval"] for g in approved.json()} == {"approved"}
    listed = employee.get(f"{API}/goals/", {"owner": world.cast.employee.pk, "approval": "approved"})
    assert ids_of(listed) == {world.employee_goal.pk, second}


def test_weights_not_totalling_100_are_refused_on_submit_with_the_numbers(world, api_client_for):
    Goal.objects.filter(pk=world.employee_goal.pk).update(weight=60)
    IndividualGoalFactory(title="Second goal", owner=world.cast.employee, parent_goal=world.dept_goal, weight=30)
    response = api_client_for(world.cast.employee).post(
        f"{API}/goals/submit-set/", fill(EMPLOYEE_SET, world.ids()), format="json"
    )
    assert response.status_code == 400
    [message] = response.json()["weight"]
    assert "total 90 (" in message and "they must total 100" in message
    assert "Employee's goal 60" in message and "Second goal 30" in message
    world.employee_goal.refresh_from_db()
    assert world.employee_goal.approval == Approval.DRAFT


def test_a_returned_set_needs_a_comment_and_goes_back_to_the_owner(world, api_client_for):
    set_body = fill(EMPLOYEE_SET, world.ids())
    api_client_for(world.cast.employee).post(f"{API}/goals/submit-set/", set_body, format="json")
    manager = api_client_for(world.cast.manager)
    refused = manager.post(f"{API}/goals/return-set/", set_body, format="json")
    assert refused.status_code == 400
    assert "comment" in refused.json()
    returned = manager.post(f"{API}/goals/return-set/", {**set_body, "comment": "Add a measure."}, format="json")
    assert returned.status_code == 200
    assert [g["approval"] for g in returned.json()] == ["returned"]


def test_a_department_set_is_approved_by_the_head(world, api_client_for):
    set_body = {"period": world.period.pk, "department": world.nursing.pk}
    assert (
        api_client_for(world.cast.manager).post(f"{API}/goals/submit-set/", set_body, format="json").status_code == 200
    )
    assert (
        api_client_for(world.cast.manager).post(f"{API}/goals/approve-set/", set_body, format="json").status_code == 403
    )
    response = api_client_for(world.cast.chief).post(f"{API}/goals/approve-set/", set_body, format="json")
    assert response.status_code == 200
    assert [g["id"] for g in response.json()] == [world.dept_goal.pk]


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"period": "{period}"}, {"owner", "department"}),
        ({"period": "{period}", "owner": "{employee}", "department": "{nursing}"}, {"owner", "department"}),
        ({"owner": "{employee}"}, {"period"}),
        ({"period": "{period}", "owner": "{employee}", "comment": "hi"}, {"comment"}),
    ],
)
def test_a_goal_set_is_named_by_period_and_one_owner(world, api_client_for, body, fields):
    response = api_client_for(world.cast.employee).post(
        f"{API}/goals/submit-set/", fill(body, world.ids()), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == fields


# ---------------------------------------------------------------- progress and the roll-up


def test_a_progress_update_rolls_up_to_the_department_goal_and_the_priority(world, api_client_for):
    priority = QualityPriorityFactory(title="Patient flow", owner=world.lead)
    ward = FunctionalGoalFactory(title="Ward flow", priority=priority, department=world.nursing, period=world.period)
    mine = IndividualGoalFactory(owner=world.cast.employee, parent_goal=ward, weight=60)
    theirs = IndividualGoalFactory(owner=world.cast.manager, parent_goal=ward, weight=40)
    approve(ward, mine, theirs)

    response = api_client_for(world.cast.employee).post(
        f"{API}/goal-updates/",
        {"goal": mine.pk, "percent": "50", "confidence": 3, "comment": "Half way."},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["progress_after"], response.json()["confidence"]) == ("50.00", 3)
    # Ward flow = (50 × 60 + 0 × 40) / 100; the priority has Ward flow alone (weight 100) under it.
    client = api_client_for(world.cast.employee)
    assert client.get(f"{API}/goals/{ward.pk}/").json()["progress"] == "30.00"
    assert client.get(f"{API}/priorities/{priority.pk}/").json()["progress"] == "30.00"

    api_client_for(world.cast.manager).post(f"{API}/goal-updates/", {"goal": theirs.pk, "percent": "25"}, format="json")
    # (50 × 60 + 25 × 40) / 100 = 40
    body = client.get(f"{API}/goals/{mine.pk}/").json()
    assert body["line_of_sight"]["department_goal"]["progress"] == "40.00"
    assert body["line_of_sight"]["priority"]["progress"] == "40.00"
    assert client.get(f"{API}/priorities/{priority.pk}/").json()["progress"] == "40.00"


def test_a_value_update_moves_a_goal_from_its_baseline_towards_its_target(world, api_client_for):
    goal = IndividualGoalFactory(owner=world.cast.employee, priority=world.priority, baseline=10, target=30)
    approve(goal)
    response = api_client_for(world.cast.employee).post(
        f"{API}/goal-updates/", {"goal": goal.pk, "value": "15"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["progress_after"] == "25.00"  # (15 − 10) / (30 − 10)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"percent": "120"}, "percent"),
        ({"percent": "lots"}, "percent"),
        ({"confidence": 7, "comment": "Sure"}, "confidence"),
        ({}, "comment"),
        ({"value": "15"}, "value"),  # no baseline and target on this goal
        ({"goal": None}, "goal"),
    ],
)
def test_it_refuses_a_bad_progress_update_with_400_naming_the_field(world, api_client_for, body, field):
    approve(world.employee_goal)
    response = api_client_for(world.cast.employee).post(
        f"{API}/goal-updates/", {"goal": world.employee_goal.pk, **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_progress_on_a_draft_goal_is_refused(world, api_client_for):
    body = {"goal": world.employee_goal.pk, "percent": "10"}
    response = api_client_for(world.cast.employee).post(f"{API}/goal-updates/", body, format="json")
    assert response.status_code == 400
    assert "approved" in response.json()["non_field_errors"][0]


def test_progress_updates_are_listed_only_for_goals_one_may_see(world, api_client_for):
    approve(world.employee_goal, world.stranger_goal)
    api_client_for(world.cast.employee).post(
        f"{API}/goal-updates/", {"goal": world.employee_goal.pk, "percent": "10"}, format="json"
    )
    api_client_for(world.cast.stranger).post(
        f"{API}/goal-updates/", {"goal": world.stranger_goal.pk, "percent": "20"}, format="json"
    )
    mine = api_client_for(world.cast.manager).get(f"{API}/goal-updates/").json()["results"]
    assert [(u["goal"]["id"], u["author"]["name"], u["percent"]) for u in mine] == [
        (world.employee_goal.pk, "Staff Nurse", "10.00")
    ]
    hr = api_client_for(world.cast.hr)
    assert len(hr.get(f"{API}/goal-updates/").json()["results"]) == 2
    assert len(hr.get(f"{API}/goal-updates/", {"goal": world.stranger_goal.pk}).json()["results"]) == 1


# ---------------------------------------------------------------- measures, observations and charts


def test_a_measure_carries_its_observations_and_chart(world, api_client_for):
    values = [62, 64, 61, 66, 65, 67, 70, 69, 72, 74, 73, 76, 78]
    for month, value in enumerate(values, start=1):
        year, month = 2025 + (month - 1) // 12, (month - 1) % 12 + 1
        ObservationFactory(measure=world.measure, date=datetime.date(year, month, 1), value=value)
    response = api_client_for(world.cast.stranger).get(f"{API}/measures/{world.measure.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert [o["value"] for o in body["observations"]] == [f"{v}.0000" for v in values]
    chart = body["chart"]
    assert set(chart) == {
        "direction", "target", "rules", "rules_label", "n", "points", "run", "xmr", "mr", "phases", "annotations",
        "summary",
    }  # fmt: skip
    assert (chart["direction"], chart["n"], len(chart["points"])) == ("up", 13, 13)
    assert isinstance(chart["run"], dict) and isinstance(chart["xmr"], dict)
    listed = api_client_for(world.cast.employee).get(f"{API}/measures/").json()["results"]
    assert listed[0]["chart"]["n"] == 13


def test_the_priority_lists_its_measures_with_the_latest_value(world, api_client_for):
    ObservationFactory(measure=world.measure, date=datetime.date(2026, 1, 1), value=55)
    ObservationFactory(measure=world.measure, date=datetime.date(2026, 2, 1), value=58)
    body = api_client_for(world.cast.employee).get(f"{API}/priorities/{world.priority.pk}/").json()
    assert body["owner"] == {"id": world.lead.pk, "name": "Quality Lead"}
    [measure] = body["measures"]
    assert (measure["id"], measure["latest_date"], measure["latest_value"]) == (
        world.measure.pk,
        "2026-02-01",
        "58.0000",
    )


def test_it_filters_measures_by_priority_and_department(world, api_client_for):
    other = QualityMeasureFactory(department=world.pharmacy)
    client = api_client_for(world.cast.employee)
    assert ids_of(client.get(f"{API}/measures/", {"department": world.pharmacy.pk})) == {other.pk}
    assert ids_of(client.get(f"{API}/measures/", {"priority": world.priority.pk})) == {world.measure.pk}


def test_an_observation_moves_the_goals_the_measure_drives(world, api_client_for):
    goal = IndividualGoalFactory(
        owner=world.cast.employee, priority=world.priority, measure=world.measure, progress_mode=ProgressMode.MEASURE
    )
    client = api_client_for(world.lead)
    response = client.post(
        f"{API}/measures/{world.measure.pk}/observations/",
        {"date": "2026-03-01", "value": 65, "numerator": "130", "denominator": "200"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["value"], response.json()["numerator"]) == ("65.0000", "130.0000")
    goal.refresh_from_db()
    assert goal.progress == Decimal("50.00")  # (65 − 50) / (80 − 50)
    listed = client.get(f"{API}/measures/{world.measure.pk}/observations/").json()
    assert [o["date"] for o in listed] == ["2026-03-01"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"date": "2026-01-01", "value": "61"}, "date"),  # that date already has a value
        ({"date": "2026-02-01", "value": "sixty"}, "value"),
        ({"date": "2026-02-01", "value": None}, "value"),
        ({"date": "2026-02-01"}, "value"),
        ({"date": "1 Feb", "value": "61"}, "date"),
        ({"date": "2026-02-01", "value": "61", "denominator": "0"}, "denominator"),
        ({"date": "2026-02-01", "value": "61", "numerator": "many"}, "numerator"),
        ({"date": "2026-02-01", "value": "61", "note": "late"}, "note"),
    ],
)
def test_it_refuses_a_bad_observation_with_400_naming_the_field(world, api_client_for, body, field):
    ObservationFactory(measure=world.measure, date=datetime.date(2026, 1, 1), value=60)
    response = api_client_for(world.lead).post(f"{API}/measures/{world.measure.pk}/observations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert world.measure.observations.count() == 1


def test_a_measure_whose_target_equals_its_baseline_is_refused(world, api_client_for):
    body = fill({**MEASURE, "target": "20"}, world.ids())
    response = api_client_for(world.lead).post(f"{API}/measures/", body, format="json")
    assert response.status_code == 400
    assert "differ from the baseline" in response.json()["target"][0]
    assert not QualityMeasure.objects.filter(name=MEASURE["name"]).exists()


def test_a_measure_target_must_lie_on_the_improving_side(world, api_client_for):
    body = fill({**MEASURE, "direction": Direction.DOWN}, world.ids())
    response = api_client_for(world.lead).post(f"{API}/measures/", body, format="json")
    assert response.status_code == 400
    assert "below the baseline" in response.json()["target"][0]


def test_the_quality_lead_creates_a_priority_owned_by_themselves(world, api_client_for):
    response = api_client_for(world.lead).post(f"{API}/priorities/", {**PRIORITY, "methodology": "lean"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["owner"]["id"], body["methodology"], body["status"], body["progress"], body["measures"]) == (
        world.lead.pk,
        "lean",
        "active",
        "0.00",
        [],
    )


def test_a_priority_that_ends_before_it_starts_is_refused(world, api_client_for):
    body = {**PRIORITY, "period_start": "2026-12-31", "period_end": "2026-01-01"}
    response = api_client_for(world.lead).post(f"{API}/priorities/", body, format="json")
    assert response.status_code == 400
    assert not QualityPriority.objects.filter(title=PRIORITY["title"]).exists()


# ---------------------------------------------------------------- the linkage matrix


@pytest.fixture
def matrix_world(world) -> dict[str, QualityPriority]:
    """Goals with known progress across two priorities and two departments."""
    flow = QualityPriorityFactory(title="Patient flow", owner=world.lead)
    progress = {
        world.dept_goal: 20,
        world.employee_goal: 50,
        world.manager_goal: 35,
        world.chief_goal: 0,
        world.pharmacy_goal: 10,
        world.stranger_goal: 80,
    }
    for goal, value in progress.items():
        Goal.objects.filter(pk=goal.pk).update(progress=value)
    # Pharmacy's goal is shared with Nursing; the stranger's goal serves the other priority.
    world.pharmacy_goal.contributing_departments.set([world.nursing])
    Goal.objects.filter(pk=world.stranger_goal.pk).update(priority=flow)
    # Neither a cancelled goal nor a returned draft counts.
    IndividualGoalFactory(owner=world.cast.employee, parent_goal=world.dept_goal, status=GoalStatus.CANCELLED)
    IndividualGoalFactory(owner=world.cast.manager, parent_goal=world.dept_goal, approval=Approval.RETURNED)
    retired = QualityPriorityFactory(title="Retired aim", owner=world.lead, status="retired")
    FunctionalGoalFactory(priority=retired, department=world.nursing)
    return {"safety": world.priority, "flow": flow}


def test_the_matrix_counts_goals_and_their_mean_progress_per_cell(world, matrix_world, api_client_for):
    safety, flow = matrix_world["safety"], matrix_world["flow"]
    nursing, pharmacy = world.nursing.pk, world.pharmacy.pk
    response = api_client_for(world.cast.hr).get(f"{API}/matrix/")
    assert response.status_code == 200
    body = response.json()
    assert body["priorities"] == [
        {"id": safety.pk, "title": "Medication safety"},
        {"id": flow.pk, "title": "Patient flow"},
    ]
    assert [d["name"] for d in body["departments"]] == ["HR", "Nursing", "Pharmacy", "Quality"]
    # Safety × Nursing: the ward goal (20), the three people's goals (50, 35, 0) and Pharmacy's
    # shared goal (10): 5 goals, mean 115 / 5 = 23.0.
    assert body["cells"] == [
        {"priority": safety.pk, "department": nursing, "count": 5, "mean_progress": "23.0"},
        {"priority": safety.pk, "department": pharmacy, "count": 1, "mean_progress": "10.0"},
        {"priority": flow.pk, "department": pharmacy, "count": 1, "mean_progress": "80.0"},
    ]


def test_the_matrix_counts_only_the_goals_the_user_may_see(world, matrix_world, api_client_for):
    body = api_client_for(world.cast.stranger).get(f"{API}/matrix/").json()
    # The stranger sees department goals and their own: not the three Nursing people's goals.
    assert {(c["priority"], c["department"]): (c["count"], c["mean_progress"]) for c in body["cells"]} == {
        (world.priority.pk, world.nursing.pk): (2, "15.0"),  # (20 + 10) / 2
        (world.priority.pk, world.pharmacy.pk): (1, "10.0"),
        (matrix_world["flow"].pk, world.pharmacy.pk): (1, "80.0"),
    }


def test_the_matrix_filters_by_period(world, matrix_world, api_client_for):
    later = GoalPeriodFactory(name="2027", start=datetime.date(2027, 1, 1), end=datetime.date(2027, 12, 31))
    FunctionalGoalFactory(priority=matrix_world["flow"], department=world.nursing, period=later, progress=60)
    body = api_client_for(world.cast.hr).get(f"{API}/matrix/", {"period": later.pk}).json()
    assert body["cells"] == [
        {"priority": matrix_world["flow"].pk, "department": world.nursing.pk, "count": 1, "mean_progress": "60.0"}
    ]
    assert api_client_for(world.cast.hr).get(f"{API}/matrix/", {"period": 999999}).status_code == 400


def test_a_matrix_cell_lists_the_goals_behind_it(world, matrix_world, api_client_for):
    params = {"priority": world.priority.pk, "department": world.nursing.pk}
    response = api_client_for(world.cast.employee).get(f"{API}/matrix/cell/", params)
    assert response.status_code == 200
    assert ids_of(response) == {
        world.dept_goal.pk,
        world.pharmacy_goal.pk,
        world.chief_goal.pk,
        world.manager_goal.pk,
        world.employee_goal.pk,
    }
    shared = next(g for g in response.json() if g["id"] == world.pharmacy_goal.pk)
    assert shared["contributing_departments"] == [{"id": world.nursing.pk, "name": "Nursing"}]
    missing = api_client_for(world.cast.employee).get(f"{API}/matrix/cell/", {"priority": world.priority.pk})
    assert missing.status_code == 400
    assert set(missing.json()) == {"department"}


# ---------------------------------------------------------------- query counts


def count_queries(client: APIClient, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(API + path, params or {})
    assert response.status_code == 200, response.content
    return len(context)


def grow(world: World, n: int) -> None:
    """n more people in Nursing under the manager, each with a goal, and n more shared department goals."""
    for index in range(n):
        person = EmployeeFactory(department=world.nursing, manager=world.cast.manager)
        goal = IndividualGoalFactory(owner=person, parent_goal=world.dept_goal, approval=Approval.APPROVED)
        GoalUpdate.objects.create(goal=goal, author=person, percent=10, comment="Started.", progress_after=10)
        department = DepartmentFactory(name=f"Ward {world.period.pk}-{index}-{n}")
        goal = FunctionalGoalFactory(priority=QualityPriorityFactory(owner=world.lead), department=department)
        goal.contributing_departments.set([world.nursing, world.pharmacy])
        measure = QualityMeasureFactory(priority=goal.priority, department=department)
        ObservationFactory.create_batch(3, measure=measure)


@pytest.mark.parametrize(
    "path",
    ["/goals/", "/matrix/", "/priorities/", "/measures/", "/goal-updates/", "/matrix/cell/"],
)
def test_lists_cost_the_same_queries_for_small_and_larger_organisations(world, api_client_for, path):
    params = {"priority": world.priority.pk, "department": world.nursing.pk} if path == "/matrix/cell/" else {}

    def queries() -> dict[str, int]:
        counts = {}
        for role in ("hr", "manager", "lead"):
            client = api_client_for(world.person(role))
            client.get(API + path, params)  # warm up: the cascade settings row is created once
            counts[role] = count_queries(client, path, params)
        return counts

    grow(world, 2)
    few = queries()
    grow(world, 15)
    assert queries() == few

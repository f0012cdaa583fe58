"""Goal setting (submit, approve, return) and the progress roll-up, with the numbers worked out."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cascade import progress, services, workflow
from cascade.models import (
    Approval,
    Direction,
    Goal,
    GoalLevel,
    GoalSetEvent,
    GoalStatus,
    MeasureType,
    QualityPriority,
    ReviewAction,
)

pytestmark = pytest.mark.django_db


def make(user, level, period, **data):
    return services.goal_create(user=user, level=level, period=period, data=data)


@pytest.fixture
def ward_goal(cast, period, priority):
    goal = make(
        cast.hr.user,
        GoalLevel.FUNCTIONAL,
        period,
        title="Ward scanning",
        priority=priority,
        weight=100,
        department=cast.employee.department,
    )
    Goal.objects.filter(pk=goal.pk).update(approval=Approval.APPROVED)
    goal.refresh_from_db()
    return goal


def test_submitting_a_set_whose_weights_do_not_total_100_names_the_numbers(cast, period, priority):
    make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Audit",
        priority=priority,
        weight=60,
        owner=cast.employee,
    )
    make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Teach",
        priority=priority,
        weight=30,
        owner=cast.employee,
    )
    goal_set = workflow.GoalSet(period=period, owner=cast.employee)
    with pytest.raises(ValidationError) as excinfo:
        workflow.submit(user=cast.employee.user, goal_set=goal_set)
    message = excinfo.value.message_dict["weight"][0]
    assert "total 90 (" in message and "they must total 100" in message and "Audit 60" in message and "+10" in message
    assert not Goal.objects.exclude(approval=Approval.DRAFT).exists()


def test_the_manager_approves_a_submitted_set(cast, period, priority):
    make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Audit",
        priority=priority,
        weight=60,
        owner=cast.employee,
    )
    make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Teach",
        priority=priority,
        weight=40,
        owner=cast.employee,
    )
    goal_set = workflow.GoalSet(period=period, owner=cast.employee)
    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    assert set(Goal.objects.values_list("approval", flat=True)) == {Approval.SUBMITTED}
    for outsider in (cast.stranger, cast.chief, cast.employee):
        with pytest.raises(PermissionDenied):
            workflow.approve(user=outsider.user, goal_set=goal_set)
    workflow.approve(user=cast.manager.user, goal_set=goal_set, comment="Good set")
    assert set(Goal.objects.values_list("approval", flat=True)) == {Approval.APPROVED}
    assert [e.action for e in GoalSetEvent.objects.order_by("pk")] == [ReviewAction.SUBMITTED, ReviewAction.APPROVED]


def test_returning_a_set_needs_a_comment_and_lets_the_owner_edit_again(cast, period, priority):
    goal = make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Audit",
        priority=priority,
        weight=100,
        owner=cast.employee,
    )
    goal_set = workflow.set_of(goal)
    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    with pytest.raises(ValidationError):
        workflow.return_for_changes(user=cast.manager.user, goal_set=goal_set, comment="  ")
    workflow.return_for_changes(user=cast.manager.user, goal_set=goal_set, comment="Add a measure")
    goal.refresh_from_db()
    assert goal.approval == Approval.RETURNED and goal.is_editable
    assert GoalSetEvent.objects.get(action=ReviewAction.RETURNED).comment == "Add a measure"


def test_department_goals_are_approved_by_the_department_head(cast, period, priority):
    department = cast.employee.department
    department.head = cast.chief
    department.save()
    make(
        cast.manager.user,
        GoalLevel.FUNCTIONAL,
        period,
        title="Scan",
        priority=priority,
        weight=100,
        department=department,
    )
    goal_set = workflow.GoalSet(period=period, department=department)
    workflow.submit(user=cast.manager.user, goal_set=goal_set)
    with pytest.raises(PermissionDenied):
        workflow.approve(user=cast.manager.user, goal_set=goal_set)
    workflow.approve(user=cast.chief.user, goal_set=goal_set)
    assert Goal.objects.get().approval == Approval.APPROVED


def approved_children(cast, period, ward_goal, weights_and_progress):
    """Individual goals under the ward goal, approved, with the given (weight, progress)."""
    owners = [cast.employee, cast.manager, cast.chief]
    goals = []
    for owner, (weight, value) in zip(owners, weights_and_progress, strict=False):
        goal = make(
            owner.user,
            GoalLevel.INDIVIDUAL,
            period,
            title=f"{owner} goal",
            parent_goal=ward_goal,
            weight=weight,
            owner=owner,
        )
        Goal.objects.filter(pk=goal.pk).update(approval=Approval.APPROVED, progress=Decimal(value))
        goal.refresh_from_db()
        goals.append(goal)
    return goals


def test_an_update_rolls_up_to_the_parent_and_the_priority(cast, period, priority, ward_goal):
    # Children: (weight 60, 50 %) and (weight 40, 0 %). After the update the second is 25 %:
    # parent = (60×50 + 40×25) / 100 = 40 %; the priority has one top-level goal, so 40 % too.
    _first, second = approved_children(cast, period, ward_goal, [(60, "50"), (40, "0")])
    progress.record_update(user=cast.manager.user, goal=second, percent=Decimal("25"), comment="Half-way to halfway")
    ward_goal.refresh_from_db()
    assert ward_goal.progress == Decimal("40.00")
    assert QualityPriority.objects.get(pk=priority.pk).progress == Decimal("40.00")


def test_a_value_update_uses_baseline_and_target_in_either_direction(cast, period, priority, ward_goal):
    goal = make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Fewer missed doses",
        parent_goal=ward_goal,
        weight=100,
        owner=cast.employee,
        baseline=Decimal("12"),
        target=Decimal("4"),
    )
    Goal.objects.filter(pk=goal.pk).update(approval=Approval.APPROVED)
    goal.refresh_from_db()
    # Down from 12 towards 4: at 10 we are (10 − 12) / (4 − 12) = 25 % of the way; past 4 is clamped to 100 %.
    assert progress.record_update(user=cast.employee.user, goal=goal, value=Decimal("10")).progress_after == Decimal(
        "25.00"
    )
    goal.refresh_from_db()
    assert progress.record_update(user=cast.employee.user, goal=goal, value=Decimal("2")).progress_after == Decimal(
        "100.00"
    )
    goal.refresh_from_db()
    assert progress.record_update(user=cast.employee.user, goal=goal, value=Decimal("15")).progress_after == Decimal(
        "0.00"
    )


def test_a_measure_driven_goal_follows_the_latest_observation(cast, period, priority, quality_lead):
    measure = services.measure_create(
        user=quality_lead.user,
        data={
            "priority": priority,
            "name": "Reconciliation within 24h",
            "unit": "%",
            "measure_type": MeasureType.PROCESS,
            "direction": Direction.UP,
            "baseline": Decimal("60"),
            "target": Decimal("90"),
            "department": cast.employee.department,
        },
    )
    goal = make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Reconcile on admission",
        priority=priority,
        weight=100,
        owner=cast.employee,
        measure=measure,
        progress_mode="measure",
    )
    Goal.objects.filter(pk=goal.pk).update(approval=Approval.APPROVED)
    services.observation_add(user=quality_lead.user, measure=measure, date=datetime.date(2026, 1, 1), value="66")
    services.observation_add(user=quality_lead.user, measure=measure, date=datetime.date(2026, 2, 1), value="75")
    # (75 − 60) / (90 − 60) = 50 %; the priority's only top-level goal, so it is 50 % too.
    assert Goal.objects.get(pk=goal.pk).progress == Decimal("50.00")
    assert QualityPriority.objects.get(pk=priority.pk).progress == Decimal("50.00")
    with pytest.raises(ValidationError):
        progress.record_update(user=cast.employee.user, goal=Goal.objects.get(pk=goal.pk), percent=Decimal("80"))


def test_draft_and_cancelled_goals_do_not_count_in_the_roll_up(cast, period, priority, ward_goal):
    first, second = approved_children(cast, period, ward_goal, [(50, "80"), (50, "20")])
    Goal.objects.filter(pk=second.pk).update(
        status=GoalStatus.CANCELLED, approval=Approval.DRAFT
    )  # as cancelling leaves it
    progress.record_update(user=cast.employee.user, goal=first, percent=Decimal("90"))
    ward_goal.refresh_from_db()
    assert ward_goal.progress == Decimal("90.00")


def test_only_allowed_people_update_progress(cast, period, priority, ward_goal):
    (goal,) = approved_children(cast, period, ward_goal, [(100, "0")])
    with pytest.raises(PermissionDenied):
        progress.record_update(user=cast.stranger.user, goal=goal, percent=Decimal("10"))


@pytest.mark.parametrize("siblings", [2, 12])
def test_an_update_takes_the_same_queries_whatever_the_size_of_the_tree(cast, period, priority, ward_goal, siblings):
    from tests.factories import EmployeeFactory

    owners = [EmployeeFactory(manager=cast.manager, department=cast.employee.department) for _ in range(siblings)]
    goals = []
    for owner in owners:
        goal = make(
            cast.manager.user, GoalLevel.INDIVIDUAL, period, title="G", parent_goal=ward_goal, weight=100, owner=owner
        )
        goals.append(goal)
    Goal.objects.filter(pk__in=[g.pk for g in goals]).update(approval=Approval.APPROVED)
    target = Goal.objects.get(pk=goals[0].pk)
    user = type(cast.manager.user).objects.get(pk=cast.manager.user.pk)
    with CaptureQueriesContext(connection) as queries:
        progress.record_update(user=user, goal=target, percent=Decimal("50"))
    # 16 including the row locks on the goal and the priority that keep concurrent roll-ups exact,
    # and the update's action-log entry.
    assert len(queries) <= 16
    ward_goal.refresh_from_db()
    assert ward_goal.progress == (Decimal("50") / siblings).quantize(Decimal("0.01"))


def test_a_measure_driven_parent_keeps_its_measures_progress(cast, period, priority, quality_lead):
    measure = services.measure_create(
        user=quality_lead.user,
        data={
            "priority": priority,
            "name": "Scanned doses",
            "unit": "%",
            "measure_type": MeasureType.PROCESS,
            "direction": Direction.UP,
            "baseline": Decimal("50"),
            "target": Decimal("100"),
            "department": cast.employee.department,
        },
    )
    ward = make(
        cast.hr.user,
        GoalLevel.FUNCTIONAL,
        period,
        title="Scan",
        priority=priority,
        weight=100,
        department=cast.employee.department,
        measure=measure,
        progress_mode="measure",
    )
    Goal.objects.filter(pk=ward.pk).update(approval=Approval.APPROVED)
    services.observation_add(user=quality_lead.user, measure=measure, date=datetime.date(2026, 1, 1), value="75")
    child = make(
        cast.employee.user,
        GoalLevel.INDIVIDUAL,
        period,
        title="Scan mine",
        parent_goal=ward,
        weight=100,
        owner=cast.employee,
    )
    Goal.objects.filter(pk=child.pk).update(approval=Approval.APPROVED)
    child.refresh_from_db()
    progress.record_update(user=cast.employee.user, goal=child, percent=Decimal("10"))
    assert Goal.objects.get(pk=ward.pk).progress == Decimal("50.00")  # (75 − 50) / (100 − 50)


def test_a_parent_whose_last_counted_child_goes_falls_back_to_its_own_progress(cast, period, priority, ward_goal):
    (child,) = approved_children(cast, period, ward_goal, [(100, "80")])
    progress.rollup_from([child])
    assert Goal.objects.get(pk=ward_goal.pk).progress == Decimal("80.00")
    workflow.reopen(user=cast.employee.user, goal=child)
    assert Goal.objects.get(pk=ward_goal.pk).progress == Decimal("0.00")


def test_an_individual_goal_cannot_hang_under_another_periods_department_goal(cast, period, priority, ward_goal):
    from cascade.models import GoalPeriod

    next_year = GoalPeriod.objects.create(name="2027", start=datetime.date(2027, 1, 1), end=datetime.date(2027, 12, 31))
    with pytest.raises(ValidationError) as excinfo:
        make(
            cast.employee.user,
            GoalLevel.INDIVIDUAL,
            next_year,
            title="Later",
            parent_goal=ward_goal,
            weight=100,
            owner=cast.employee,
        )
    assert "belongs to 2026" in excinfo.value.message_dict["parent_goal"][0]


def test_a_priority_rolls_up_only_goals_of_periods_that_overlap_its_own(cast, period, priority, ward_goal):
    from cascade.models import GoalPeriod

    Goal.objects.filter(pk=ward_goal.pk).update(progress=Decimal("40"))
    long_ago = GoalPeriod.objects.create(name="2019", start=datetime.date(2019, 1, 1), end=datetime.date(2019, 12, 31))
    old = make(
        cast.hr.user,
        GoalLevel.FUNCTIONAL,
        long_ago,
        title="Old aim",
        priority=priority,
        weight=100,
        department=cast.stranger.department,
    )
    Goal.objects.filter(pk=old.pk).update(approval=Approval.APPROVED, progress=Decimal("100"))
    progress.rollup_from([ward_goal])
    assert QualityPriority.objects.get(pk=priority.pk).progress == Decimal("40.00")

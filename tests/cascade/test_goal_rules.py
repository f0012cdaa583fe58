"""The structural rules of the cascade, each refused with a message a person can act on."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cascade import services, workflow
from cascade.models import Approval, Direction, GoalLevel, MeasureType, PriorityStatus, QualityPriority
from core.errors import ConflictError

pytestmark = pytest.mark.django_db


def individual(cast, period, priority, *, owner=None, by=None, **data):
    owner = owner or cast.employee
    fields = {"title": "Double-check high-risk doses", "priority": priority, "weight": 100, "owner": owner, **data}
    return services.goal_create(user=(by or owner).user, level=GoalLevel.INDIVIDUAL, period=period, data=fields)


def functional(cast, period, priority, *, by=None, **data):
    fields = {
        "title": "Barcode scanning on every ward",
        "priority": priority,
        "weight": 100,
        "department": cast.employee.department,
        **data,
    }
    return services.goal_create(user=(by or cast.hr).user, level=GoalLevel.FUNCTIONAL, period=period, data=fields)


def test_an_individual_goal_under_a_department_goal_inherits_its_priority(cast, period, priority):
    ward = functional(cast, period, priority)
    goal = individual(cast, period, None, parent_goal=ward)
    assert goal.priority == priority
    assert goal.department == cast.employee.department
    assert goal.approval == Approval.DRAFT


def test_it_refuses_an_individual_goal_under_another_persons_goal(cast, period, priority):
    bosses = individual(cast, period, priority, owner=cast.manager)
    with pytest.raises(ValidationError) as excinfo:
        individual(cast, period, priority, parent_goal=bosses)
    assert "department goal or a priority" in excinfo.value.message_dict["parent_goal"][0]


def test_it_refuses_a_department_goal_under_another_goal(cast, period, priority):
    ward = functional(cast, period, priority)
    with pytest.raises(ValidationError) as excinfo:
        functional(cast, period, priority, parent_goal=ward)
    assert "directly under a quality priority" in excinfo.value.message_dict["parent_goal"][0]


def test_it_refuses_a_goal_as_its_own_parent(cast, period, priority):
    ward = functional(cast, period, priority)
    with pytest.raises(ValidationError):
        services.goal_update(user=cast.hr.user, goal=ward, expected_version=None, data={"parent_goal": ward})


def test_it_refuses_a_target_equal_to_the_baseline(cast, period, priority):
    with pytest.raises(ValidationError) as excinfo:
        individual(cast, period, priority, baseline=Decimal("5"), target=Decimal("5"))
    assert "differ from the baseline" in excinfo.value.message_dict["target"][0]


def test_it_refuses_a_target_on_the_wrong_side_for_the_measure(cast, period, priority, quality_lead):
    measure = services.measure_create(
        user=quality_lead.user,
        data={
            "priority": priority,
            "name": "Administration errors",
            "unit": "per 1,000 doses",
            "measure_type": MeasureType.OUTCOME,
            "direction": Direction.DOWN,
            "baseline": Decimal("4.0"),
            "target": Decimal("2.0"),
            "department": cast.employee.department,
        },
    )
    with pytest.raises(ValidationError) as excinfo:
        individual(cast, period, priority, measure=measure, baseline=Decimal("4"), target=Decimal("6"))
    assert "Lower is better" in excinfo.value.message_dict["target"][0]


def test_a_measure_driven_goal_needs_a_measure(cast, period, priority):
    with pytest.raises(ValidationError) as excinfo:
        individual(cast, period, priority, progress_mode="measure")
    assert "measure" in excinfo.value.message_dict


def test_it_refuses_goals_under_a_retired_priority(cast, period, priority):
    QualityPriority.objects.filter(pk=priority.pk).update(status=PriorityStatus.RETIRED)
    priority.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        individual(cast, period, priority)
    assert "retired" in excinfo.value.message_dict["priority"][0]


def test_only_people_above_the_owner_may_draft_their_goals(cast, period, priority):
    assert individual(cast, period, priority, by=cast.chief).owner == cast.employee
    with pytest.raises(PermissionDenied):
        individual(cast, period, priority, by=cast.stranger)


def test_an_approved_goal_cannot_change_without_reopening(cast, period, priority):
    goal = individual(cast, period, priority)
    goal_set = workflow.set_of(goal)
    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    workflow.approve(user=cast.manager.user, goal_set=goal_set)
    goal.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.goal_update(user=cast.employee.user, goal=goal, expected_version=goal.version, data={"title": "New"})
    assert "reopen it" in excinfo.value.messages[0]
    reopened = workflow.reopen(user=cast.employee.user, goal=goal, comment="Scope changed")
    assert reopened.approval == Approval.DRAFT
    changed = services.goal_update(
        user=cast.employee.user, goal=reopened, expected_version=reopened.version, data={"title": "New"}
    )
    assert changed.title == "New"


def test_a_stale_edit_is_a_conflict_and_changes_nothing(cast, period, priority):
    goal = individual(cast, period, priority)
    services.goal_update(user=cast.employee.user, goal=goal, expected_version=1, data={"title": "First"})
    stale = type(goal).objects.get(pk=goal.pk)
    stale.version = 1
    with pytest.raises(ConflictError):
        services.goal_update(user=cast.manager.user, goal=stale, expected_version=1, data={"title": "Second"})
    assert type(goal).objects.get(pk=goal.pk).title == "First"


def test_observations_refuse_non_numbers_and_repeated_dates(cast, priority, quality_lead):
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
    day = datetime.date(2026, 3, 1)
    services.observation_add(user=quality_lead.user, measure=measure, date=day, value="71.5")
    with pytest.raises(ValidationError) as excinfo:
        services.observation_add(user=quality_lead.user, measure=measure, date=day, value="72")
    assert "already has a value" in excinfo.value.message_dict["date"][0]
    with pytest.raises(ValidationError) as excinfo:
        services.observation_add(user=quality_lead.user, measure=measure, date=datetime.date(2026, 4, 1), value="lots")
    assert "not a number" in excinfo.value.message_dict["value"][0]
    with pytest.raises(PermissionDenied):
        services.observation_add(user=cast.employee.user, measure=measure, date=datetime.date(2026, 5, 1), value="1")
    assert measure.observations.count() == 1


def test_measures_refuse_a_target_equal_to_the_baseline(cast, priority, quality_lead):
    with pytest.raises(ValidationError):
        services.measure_create(
            user=quality_lead.user,
            data={
                "priority": priority,
                "name": "X",
                "unit": "%",
                "measure_type": MeasureType.PROCESS,
                "direction": Direction.UP,
                "baseline": Decimal("60"),
                "target": Decimal("60"),
                "department": cast.employee.department,
            },
        )
    with pytest.raises(PermissionDenied):
        services.measure_create(user=cast.manager.user, data={})


def test_an_edit_never_writes_back_progress_that_the_roll_up_moved(cast, period, priority):
    from cascade.models import Goal

    ward = functional(cast, period, priority)
    stale = Goal.objects.get(pk=ward.pk)  # read before the roll-up moves its progress
    Goal.objects.filter(pk=ward.pk).update(progress=Decimal("80"))
    services.goal_update(user=cast.hr.user, goal=stale, expected_version=stale.version, data={"title": "Renamed"})
    assert Goal.objects.get(pk=ward.pk).progress == Decimal("80.00")


def test_a_goal_cannot_move_to_a_retired_priority_but_may_stay_under_one(cast, period, priority, quality_lead):
    goal = individual(cast, period, priority)
    retired = QualityPriority.objects.create(
        title="Old aim",
        aim="-",
        owner=quality_lead,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 12, 31),
        status=PriorityStatus.RETIRED,
    )
    with pytest.raises(ValidationError) as excinfo:
        services.goal_update(user=cast.employee.user, goal=goal, expected_version=None, data={"priority": retired})
    assert "retired" in excinfo.value.message_dict["priority"][0]
    QualityPriority.objects.filter(pk=priority.pk).update(status=PriorityStatus.RETIRED)
    goal = type(goal).objects.get(pk=goal.pk)
    assert services.goal_update(user=cast.employee.user, goal=goal, expected_version=None, data={"title": "Kept"})


def test_contributing_departments_of_an_approved_goal_need_reopening(cast, period, priority):
    from cascade.models import Goal

    ward = functional(cast, period, priority)
    Goal.objects.filter(pk=ward.pk).update(approval=Approval.APPROVED)
    ward.refresh_from_db()
    with pytest.raises(ValidationError):
        services.goal_update(
            user=cast.hr.user,
            goal=ward,
            expected_version=None,
            data={},
            contributing_departments=[cast.stranger.department],
        )
    assert not ward.contributing_departments.exists()


def test_a_priority_period_that_ends_before_it_starts_names_the_field(cast, priority, quality_lead):
    with pytest.raises(ValidationError) as excinfo:
        services.priority_update(
            user=quality_lead.user,
            priority=priority,
            expected_version=None,
            data={"period_end": datetime.date(2025, 1, 1)},
        )
    assert "period_end" in excinfo.value.message_dict

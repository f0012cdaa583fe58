"""Every state change in the cascade writes an action-log entry in its own transaction:
who did it, what, and the old → new values a reader needs."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse

from cascade import progress, services, workflow
from cascade.models import Approval, Goal, GoalLevel, GoalPeriod, GoalStatus, PriorityStatus
from core.models import ActionLogEntry
from tests.cascade.factories import QualityMeasureFactory

pytestmark = pytest.mark.django_db


def entries(obj, action: str | None = None) -> list[ActionLogEntry]:
    found = ActionLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
    if action is not None:
        found = found.filter(action=action)
    return list(found)


def only(obj, action: str) -> ActionLogEntry:
    found = entries(obj, action)
    assert len(found) == 1, [e.action for e in entries(obj)]
    return found[0]


def individual_set(cast, period, priority, weights=(60, 40)) -> list[Goal]:
    return [
        services.goal_create(
            user=cast.employee.user,
            level=GoalLevel.INDIVIDUAL,
            period=period,
            data={"title": f"Goal {weight}", "priority": priority, "weight": weight, "owner": cast.employee},
        )
        for weight in weights
    ]


def test_a_priority_created_changed_and_retired_is_logged_with_old_and_new(cast, priority):
    created = services.priority_create(
        user=cast.hr.user,
        data={
            "title": "Fewer falls",
            "aim": "Halve them.",
            "period_start": datetime.date(2026, 1, 1),
            "period_end": datetime.date(2026, 12, 31),
        },
    )
    entry = only(created, "priority.created")
    assert entry.actor == cast.hr.user and entry.data["title"] == "Fewer falls"

    services.priority_update(
        user=cast.hr.user, priority=priority, expected_version=priority.version, data={"title": "Safer medicines"}
    )
    entry = only(priority, "priority.updated")
    assert entry.changes == {"title": ["Improve medication safety", "Safer medicines"]}

    services.priority_update(
        user=cast.hr.user, priority=priority, expected_version=None, data={"status": PriorityStatus.RETIRED}
    )
    assert only(priority, "priority.retired").changes == {"status": ["active", "retired"]}


def test_a_refused_change_leaves_no_entry(cast, priority):
    with pytest.raises(ValidationError):
        services.priority_update(
            user=cast.hr.user,
            priority=priority,
            expected_version=None,
            data={"period_start": datetime.date(2026, 6, 1), "period_end": datetime.date(2026, 1, 1)},
        )
    assert entries(priority) == []


def test_a_measure_change_and_its_observations_are_logged(cast, priority):
    measure = QualityMeasureFactory(priority=priority, department=cast.employee.department)
    services.measure_update(user=cast.hr.user, measure=measure, expected_version=None, data={"target": Decimal("90")})
    assert only(measure, "measure.updated").changes == {"target": ["80", "90"]}

    observation = services.observation_add(
        user=cast.hr.user, measure=measure, date=datetime.date(2026, 3, 1), value=Decimal("55")
    )
    entry = only(observation, "observation.recorded")
    assert entry.actor == cast.hr.user and entry.data["value"] == "55"

    added = services.observations_add_many(
        user=cast.hr.user,
        measure=measure,
        rows=[{"date": datetime.date(2026, 4, 1), "value": "60"}, {"date": datetime.date(2026, 5, 1), "value": "62"}],
    )
    assert added == 2
    assert only(measure, "observations.imported").data == {"count": 2}
    assert ActionLogEntry.objects.filter(action="observation.recorded", data__imported=True).count() == 2


def test_a_goal_created_and_edited_is_logged(cast, period, priority):
    goal, _ = individual_set(cast, period, priority)
    entry = only(goal, "goal.created")
    assert entry.actor == cast.employee.user and entry.data["weight"] == 60

    services.goal_update(user=cast.employee.user, goal=goal, expected_version=goal.version, data={"weight": 70})
    assert only(goal, "goal.updated").changes == {"weight": [60, 70]}


def test_the_goal_set_workflow_logs_each_step_per_goal(cast, period, priority):
    goals = individual_set(cast, period, priority)
    goal_set = workflow.GoalSet(period=period, owner=cast.employee)

    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    for goal in goals:
        entry = only(goal, "goal.submitted")
        assert entry.actor == cast.employee.user and entry.changes == {"approval": ["draft", "submitted"]}

    workflow.return_for_changes(user=cast.manager.user, goal_set=goal_set, comment="Sharper targets")
    entry = only(goals[0], "goal.returned")
    assert entry.actor == cast.manager.user
    assert entry.changes == {"approval": ["submitted", "returned"]} and entry.data == {"comment": "Sharper targets"}

    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    workflow.approve(user=cast.manager.user, goal_set=goal_set, comment="")
    assert only(goals[1], "goal.approved").changes == {"approval": ["submitted", "approved"]}

    workflow.reopen(user=cast.manager.user, goal=Goal.objects.get(pk=goals[0].pk), comment="One more change")
    assert only(goals[0], "goal.reopened").changes == {"approval": ["approved", "draft"]}


def test_asking_keeping_and_cancelling_an_approved_goal_is_logged(cast, period, priority):
    goals = individual_set(cast, period, priority)
    goal_set = workflow.GoalSet(period=period, owner=cast.employee)
    workflow.submit(user=cast.employee.user, goal_set=goal_set)
    workflow.approve(user=cast.manager.user, goal_set=goal_set)
    first = Goal.objects.get(pk=goals[0].pk)

    workflow.request_cancel(user=cast.employee.user, goal=first, reason="The ward closed")
    entry = only(first, "goal.cancel_requested")
    assert entry.actor == cast.employee.user and entry.data == {"reason": "The ward closed"}

    workflow.keep(user=cast.manager.user, goal=Goal.objects.get(pk=first.pk), comment="It moves with the team")
    assert only(first, "goal.kept").changes == {"cancel_requested": [True, False]}

    workflow.cancel(user=cast.manager.user, goal=Goal.objects.get(pk=first.pk), reason="Closed for good")
    entry = only(first, "goal.cancelled")
    assert entry.actor == cast.manager.user
    assert entry.changes == {"status": ["open", "cancelled"], "approval": ["approved", "draft"]}
    # The rest of the set no longer totals 100, so it went back to draft: logged too.
    assert only(goals[1], "goal.returned_to_draft").changes == {"approval": ["approved", "draft"]}
    assert Goal.objects.get(pk=first.pk).status == GoalStatus.CANCELLED


def test_a_progress_update_logs_the_progress_before_and_after(cast, period, priority):
    (goal,) = individual_set(cast, period, priority, weights=(100,))
    Goal.objects.filter(pk=goal.pk).update(approval=Approval.APPROVED)
    goal.refresh_from_db()
    progress.record_update(user=cast.employee.user, goal=goal, percent=Decimal("40"), comment="Half the wards")
    entry = only(goal, "goal.progress_updated")
    assert entry.actor == cast.employee.user
    assert entry.changes == {"progress": ["0", "40"]} and entry.data["comment"] == "Half the wards"


def test_goal_periods_added_and_made_default_are_logged(cast, client_for):
    client = client_for(cast.hr)
    response = client.post(reverse("cascade:period_list"), {"name": "2027", "start": "2027-01-01", "end": "2027-12-31"})
    assert response.status_code == 302
    period = GoalPeriod.objects.get(name="2027")
    entry = only(period, "period.created")
    assert entry.actor == cast.hr.user and entry.source.startswith("POST ")

    client.post(reverse("cascade:period_make_default", args=[period.pk]))
    assert only(period, "period.made_default").changes == {"is_default": [False, True]}


def test_an_import_logs_its_run_and_every_record_it_created(cast, priority):
    from cascade.imports import runner
    from cascade.models import CascadeImport, ImportKind

    measure = QualityMeasureFactory(priority=priority, department=cast.employee.department)
    record = CascadeImport.objects.create(
        kind=ImportKind.OBSERVATIONS,
        measure=measure,
        created_by=cast.hr.user,
        file_name="a.csv",
        content=b"date,value\n2026-01-01,70\n2026-02-01,72\n",
    )
    assert runner.run_import(record.pk).status == "succeeded"
    entry = only(record, "import.succeeded")
    assert entry.actor == cast.hr.user and entry.changes == {"status": ["queued", "succeeded"]}
    assert entry.data["observations_added"] == 2
    assert ActionLogEntry.objects.filter(action="observation.recorded", actor=cast.hr.user).count() == 2


def test_a_rejected_import_logs_the_rejection_and_nothing_else(cast, priority):
    from cascade.imports import runner
    from cascade.models import CascadeImport, ImportKind

    measure = QualityMeasureFactory(priority=priority, department=cast.employee.department)
    record = CascadeImport.objects.create(
        kind=ImportKind.OBSERVATIONS,
        measure=measure,
        created_by=cast.hr.user,
        file_name="a.csv",
        content=b"date,value\nsoon,70\n",
    )
    assert runner.run_import(record.pk).status == "rejected"
    assert only(record, "import.rejected").data == {"problems": 1}
    assert not ActionLogEntry.objects.filter(action="observation.recorded").exists()

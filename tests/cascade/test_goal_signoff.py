"""Closing a goal needs its approver's sign-off (PRODUCT.md): the owner asks, with the result and a
comment; the approver or HR signs it off (or declines); a measure-driven goal may be closed by its
measure, signed off by the system; the action log shows who closed it; reopening clears the sign-off.

The cast (tests/conftest.py): chief → manager → employee in Nursing, a stranger in Pharmacy, an HR
admin; here also a peer (another report of the manager).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from cascade import access, progress, services, workflow
from cascade.models import Approval, Goal, GoalLevel, GoalSetEvent, GoalStatus, ProgressMode, ReviewAction
from core.models import ActionLogEntry
from incentives.models.recognition import Notification
from people.models import Employee
from tests.cascade.factories import ObservationFactory, QualityMeasureFactory
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer(cast) -> Employee:
    return EmployeeFactory(
        user__username="peer", full_name="Night Nurse", department=cast.employee.department, manager=cast.manager
    )


def user(employee: Employee):  # type: ignore[no-untyped-def]
    """A fresh user: cascade.access caches the employee record on the user object."""
    return type(employee.user).objects.get(pk=employee.user_id)


def fresh(goal: Goal) -> Goal:
    return Goal.objects.select_related("owner", "department", "period", "result_signed_off_by").get(pk=goal.pk)


def logged(goal: Goal, action: str) -> list[ActionLogEntry]:
    return list(
        ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Goal), object_id=goal.pk, action=action
        )
    )


def approved_goals(cast, period, priority, *, owner=None, data=None) -> list[Goal]:  # type: ignore[no-untyped-def]
    """The owner's set of two goals (80 + 20), drafted, submitted and approved through the workflow."""
    owner = owner or cast.employee
    goals = [
        services.goal_create(
            user=user(owner),
            level=GoalLevel.INDIVIDUAL,
            period=period,
            data={"title": f"Goal weighing {w}", "owner": owner, "priority": priority, "weight": w, **(data or {})},
        )
        for w in (80, 20)
    ]
    goal_set = workflow.GoalSet(period=period, owner=owner)
    workflow.submit(user=user(owner), goal_set=goal_set)
    approver = owner.manager or cast.hr
    workflow.approve(user=user(approver), goal_set=goal_set)
    return [fresh(g) for g in goals]


@pytest.fixture
def goal(cast, period, priority) -> Goal:
    return approved_goals(cast, period, priority)[0]


# ---------------------------------------------------------------- who may (cascade.access)


@pytest.mark.parametrize(
    ("who", "sign", "ask"),
    [
        ("employee", False, True),  # the owner asks
        ("manager", True, False),  # the approver signs off
        ("hr", True, False),
        ("chief", False, True),  # above the approver: may edit the goal, so asks too
        ("peer", False, False),
        ("stranger", False, False),
    ],
)
def test_it_decides_who_signs_off_a_result_and_who_asks(cast, peer, goal, who, sign, ask):
    someone = peer if who == "peer" else getattr(cast, who)
    assert access.can_sign_off_result(user(someone), goal) is sign
    assert access.can_request_close(user(someone), goal) is ask


# ---------------------------------------------------------------- the owner cannot close alone


def test_the_owners_patch_to_achieved_is_a_400_naming_the_request_and_changes_nothing(cast, goal, api_client_for):
    before = fresh(goal)
    response = api_client_for(cast.employee).patch(
        f"/api/v1/goals/{goal.pk}/", {"version": goal.version, "status": "achieved"}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["status"][0]
    assert "needs Ward Manager’s sign-off" in message and f"/api/v1/goals/{goal.pk}/close-request/" in message
    after = fresh(goal)
    assert (after.status, after.approval, after.version) == (GoalStatus.OPEN, Approval.APPROVED, before.version)
    assert after.result_signed_off_at is None and not logged(goal, "goal.updated")
    # Not achieved, too: the result is the approver's to sign off either way.
    response = api_client_for(cast.employee).patch(
        f"/api/v1/goals/{goal.pk}/", {"version": goal.version, "status": "not_achieved"}, format="json"
    )
    assert response.status_code == 400 and fresh(goal).status == GoalStatus.OPEN


def test_the_owners_goal_page_offers_asking_not_signing_off(client_for, cast, goal):
    html = client_for(cast.employee).get(reverse("cascade:goal_detail", args=[goal.pk])).content.decode()
    assert "Ask Ward Manager to sign it off" in html and "Sign off</button>" not in html


def test_a_100_percent_update_by_the_owner_does_not_close_the_goal(cast, goal):
    progress.record_update(user=user(cast.employee), goal=goal, percent=Decimal("100"), comment="All done")
    after = fresh(goal)
    assert after.progress == Decimal("100.00")
    assert after.status == GoalStatus.OPEN and after.result_signed_off_at is None


# ---------------------------------------------------------------- ask, sign off, decline


def test_the_owner_asks_and_the_approver_signs_off_logged_and_notified(cast, goal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asked = workflow.request_close(
            user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment="Every dose scanned since May."
        )
    assert asked.status == GoalStatus.OPEN  # open until signed off
    assert (asked.close_requested_by, asked.close_proposed_status) == (cast.employee, GoalStatus.ACHIEVED)
    (note,) = Notification.objects.all()
    assert note.recipient == cast.manager
    assert note.text.startswith("Staff Nurse asks you to close the goal “Goal weighing 80”")
    (email,) = mail.outbox
    assert email.to == [cast.manager.user.email] and "sign off a goal's result" in email.subject
    (ask_entry,) = logged(goal, "goal.close_requested")
    assert ask_entry.actor == cast.employee.user and ask_entry.data["proposed_status"] == "achieved"

    with django_capture_on_commit_callbacks(execute=True):
        closed = workflow.sign_off(user=user(cast.manager), goal=goal, comment="Confirmed with the audit.")
    assert closed.status == GoalStatus.ACHIEVED
    assert closed.result_signed_off_by == cast.manager and closed.result_signed_off_at is not None
    assert not closed.result_by_measure and closed.close_requested_at is None
    (entry,) = logged(goal, "goal.result_signed_off")
    assert entry.actor == cast.manager.user
    assert entry.changes["status"] == ["open", "achieved"]
    assert entry.data["requested_by"] == cast.employee.pk
    assert GoalSetEvent.objects.filter(action=ReviewAction.SIGNED_OFF, actor=cast.manager).exists()
    told = Notification.objects.get(recipient=cast.employee)
    assert "Ward Manager signed off the goal “Goal weighing 80”" in told.text and "as achieved" in told.text


def test_the_approver_may_change_the_proposed_result(cast, goal):
    workflow.request_close(user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment="Done.")
    closed = workflow.sign_off(user=user(cast.manager), goal=goal, result=GoalStatus.NOT_ACHIEVED, comment="Two slips.")
    assert closed.status == GoalStatus.NOT_ACHIEVED and closed.result_signed_off_by == cast.manager
    (entry,) = logged(goal, "goal.result_signed_off")
    assert entry.data["proposed_status"] == "achieved" and entry.changes["status"] == ["open", "not_achieved"]


def test_a_request_needs_a_result_and_a_comment_and_is_made_once(cast, goal):
    with pytest.raises(ValidationError) as refused:
        workflow.request_close(user=user(cast.employee), goal=goal, result="", comment="Done.")
    assert "result" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        workflow.request_close(user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment=" ")
    assert "so that Ward Manager can sign it off" in refused.value.message_dict["comment"][0]
    workflow.request_close(user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment="Done.")
    with pytest.raises(ValidationError) as refused:
        workflow.request_close(user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment="Again.")
    assert "has not answered yet" in refused.value.messages[0]


def test_the_approver_declines_saying_why_and_the_goal_stays_open(cast, goal, django_capture_on_commit_callbacks):
    workflow.request_close(user=user(cast.employee), goal=goal, result=GoalStatus.ACHIEVED, comment="Done.")
    with pytest.raises(ValidationError):
        workflow.decline_close(user=user(cast.manager), goal=goal, comment="")
    with pytest.raises(PermissionDenied):
        workflow.decline_close(user=user(cast.employee), goal=goal, comment="I decline my own.")
    with django_capture_on_commit_callbacks(execute=True):
        kept = workflow.decline_close(user=user(cast.manager), goal=goal, comment="March is not in yet.")
    assert kept.status == GoalStatus.OPEN and kept.close_requested_at is None and kept.result_signed_off_at is None
    (entry,) = logged(goal, "goal.close_declined")
    assert entry.actor == cast.manager.user and entry.data["comment"] == "March is not in yet."
    told = Notification.objects.get(recipient=cast.employee)
    assert "did not sign off" in told.text and "March is not in yet." in told.text


def test_hr_signs_off_directly(cast, goal):
    closed = workflow.sign_off(user=user(cast.hr), goal=goal, result=GoalStatus.ACHIEVED)
    assert closed.status == GoalStatus.ACHIEVED and closed.result_signed_off_by == cast.hr


def test_without_a_manager_hr_hears_of_the_request_and_signs_off(cast, period, priority):
    goal = approved_goals(cast, period, priority, owner=cast.chief)[0]
    assert access.can_request_close(user(cast.chief), goal)
    workflow.request_close(user=user(cast.chief), goal=goal, result=GoalStatus.ACHIEVED, comment="Done.")
    assert list(Notification.objects.values_list("recipient", flat=True)) == [cast.hr.pk]
    assert workflow.sign_off(user=user(cast.hr), goal=goal).result_signed_off_by == cast.hr


def test_the_managers_patch_to_achieved_is_the_sign_off(cast, goal, api_client_for):
    response = api_client_for(cast.manager).patch(
        f"/api/v1/goals/{goal.pk}/", {"version": goal.version, "status": "achieved"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "achieved" and body["result_signed_off_by"]["id"] == cast.manager.pk
    assert body["result_signed_off_at"] is not None and body["result_by_measure"] is False
    assert logged(goal, "goal.result_signed_off")[0].actor == cast.manager.user


# ---------------------------------------------------------------- the API endpoints


def test_the_api_request_then_sign_off(cast, goal, api_client_for):
    path = f"/api/v1/goals/{goal.pk}/"
    owner, manager = api_client_for(cast.employee), api_client_for(cast.manager)
    refused = owner.post(f"{path}close-request/", {"result": "achieved"}, format="json")
    assert refused.status_code == 400 and "comment" in refused.json()
    asked = owner.post(f"{path}close-request/", {"result": "achieved", "comment": "Done."}, format="json")
    assert asked.status_code == 200, asked.content
    assert asked.json()["close_proposed_status"] == "achieved"
    assert asked.json()["close_requested_by"]["id"] == cast.employee.pk
    assert owner.post(f"{path}sign-off/", {"result": "achieved"}, format="json").status_code == 403
    assert owner.post(f"{path}close-decline/", {"comment": "No"}, format="json").status_code == 403
    stale = manager.post(f"{path}sign-off/", {"version": 1}, format="json")
    assert stale.status_code == 409
    signed = manager.post(f"{path}sign-off/", {"comment": "Agreed."}, format="json")
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "achieved" and signed.json()["result_signed_off_by"]["id"] == cast.manager.pk
    again = manager.post(f"{path}sign-off/", {}, format="json")
    assert again.status_code == 400 and "already signed off" in str(again.json())


def test_the_api_decline(cast, goal, api_client_for):
    path = f"/api/v1/goals/{goal.pk}/"
    api_client_for(cast.employee).post(f"{path}close-request/", {"result": "achieved", "comment": "x"}, format="json")
    response = api_client_for(cast.hr).post(f"{path}close-decline/", {"comment": "Not yet."}, format="json")
    assert response.status_code == 200 and response.json()["close_requested_at"] is None


def test_signed_off_fields_cannot_be_written_through_the_api(cast, goal, api_client_for):
    response = api_client_for(cast.employee).patch(
        f"/api/v1/goals/{goal.pk}/",
        {"version": goal.version, "result_signed_off_at": "2026-01-01T00:00:00Z", "result_by_measure": True},
        format="json",
    )
    assert response.status_code == 400
    assert fresh(goal).result_signed_off_at is None


@pytest.mark.parametrize("who", ["peer", "stranger"])
def test_a_peer_or_a_stranger_gets_404_from_every_closing_action(cast, peer, goal, who, api_client_for, client_for):
    someone = peer if who == "peer" else cast.stranger
    client = api_client_for(someone)
    for action in ("close-request", "sign-off", "close-decline", "close-by-measure"):
        assert client.post(f"/api/v1/goals/{goal.pk}/{action}/", {}, format="json").status_code == 404
    pages = client_for(someone)
    for name in ("goal_close_request", "goal_sign_off", "goal_close_decline", "goal_close_by_measure"):
        assert pages.post(reverse(f"cascade:{name}", args=[goal.pk]), {}).status_code == 404
    assert fresh(goal).status == GoalStatus.OPEN


# ---------------------------------------------------------------- closing by the measure


def measured_goal(cast, period, priority, values) -> Goal:  # type: ignore[no-untyped-def]
    measure = QualityMeasureFactory(priority=priority, name="Scanned doses", department=cast.employee.department)
    for day, value in values:
        ObservationFactory(measure=measure, date=day, value=Decimal(value))
    goal = approved_goals(cast, period, priority, data={"measure": measure, "progress_mode": ProgressMode.MEASURE})[0]
    return goal


def test_a_measure_driven_goal_is_closed_by_its_measure_signed_off_by_the_system(cast, period, priority):
    goal = measured_goal(cast, period, priority, [(datetime.date(2026, 3, 1), "85")])  # 50 → 80: reached
    closed = workflow.close_by_measure(user=user(cast.employee), goal=goal)
    assert (closed.status, closed.result_by_measure, closed.result_signed_off_by) == (
        GoalStatus.ACHIEVED,
        True,
        None,
    )
    assert closed.result_signed_off_at is not None
    (entry,) = logged(goal, "goal.closed_by_measure")
    assert entry.actor == cast.employee.user and entry.data["measure_name"] == "Scanned doses"
    assert entry.data["signed_off_by"] == "system"


def test_a_measure_short_of_its_target_closes_as_not_achieved(cast, period, priority, client_for):
    goal = measured_goal(cast, period, priority, [(datetime.date(2026, 3, 1), "65")])
    response = client_for(cast.employee).post(reverse("cascade:goal_close_by_measure", args=[goal.pk]))
    assert response.status_code == 302
    closed = fresh(goal)
    assert closed.status == GoalStatus.NOT_ACHIEVED and closed.result_by_measure
    html = client_for(cast.employee).get(reverse("cascade:goal_detail", args=[goal.pk])).content.decode()
    assert "Closed as not achieved by its measure" in html and "Scanned doses" in html


def test_a_goal_not_driven_by_a_measure_cannot_close_by_one(cast, goal):
    with pytest.raises(ValidationError) as refused:
        workflow.close_by_measure(user=user(cast.employee), goal=goal)
    assert "not driven by a measure" in refused.value.messages[0]


# ---------------------------------------------------------------- reopening, and the database


def test_reopening_the_result_clears_the_sign_off_and_is_the_approvers(cast, goal, api_client_for):
    workflow.sign_off(user=user(cast.manager), goal=goal, result=GoalStatus.ACHIEVED)
    closed = fresh(goal)
    refused = api_client_for(cast.employee).patch(
        f"/api/v1/goals/{goal.pk}/", {"version": closed.version, "status": "open"}, format="json"
    )
    assert refused.status_code == 400 and "only Ward Manager or HR can reopen it" in refused.json()["status"][0]
    with pytest.raises(ValidationError):
        workflow.reopen(user=user(cast.employee), goal=closed)  # nor by reopening the goal itself
    opened = api_client_for(cast.manager).patch(
        f"/api/v1/goals/{goal.pk}/", {"version": closed.version, "status": "open"}, format="json"
    )
    assert opened.status_code == 200, opened.content
    after = fresh(goal)
    assert after.status == GoalStatus.OPEN and after.result_signed_off_at is None and after.result_signed_off_by is None
    (entry,) = logged(goal, "goal.result_reopened")
    assert entry.changes == {"status": ["achieved", "open"], "result_signed_off": [True, False]}


def test_reopening_the_goal_for_changes_clears_its_result(cast, goal):
    workflow.sign_off(user=user(cast.manager), goal=goal, result=GoalStatus.ACHIEVED)
    reopened = workflow.reopen(user=user(cast.manager), goal=fresh(goal), comment="Target changes")
    assert (reopened.approval, reopened.status, reopened.result_signed_off_at) == (
        Approval.DRAFT,
        GoalStatus.OPEN,
        None,
    )


def test_a_signed_off_result_keeps_its_progress(cast, goal):
    workflow.sign_off(user=user(cast.manager), goal=goal, result=GoalStatus.NOT_ACHIEVED)
    with pytest.raises(ValidationError) as refused:
        progress.record_update(user=user(cast.employee), goal=fresh(goal), percent=Decimal("100"))
    assert "signed off" in refused.value.messages[0]


def test_cancelling_a_closed_goal_drops_its_sign_off(cast, goal):
    workflow.sign_off(user=user(cast.manager), goal=goal, result=GoalStatus.ACHIEVED)
    cancelled = workflow.cancel(user=user(cast.manager), goal=fresh(goal), reason="Ward closed")
    assert cancelled.status == GoalStatus.CANCELLED and cancelled.result_signed_off_at is None


def test_the_database_holds_a_sign_off_only_on_a_closed_result(goal):
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Goal.objects.filter(pk=goal.pk).update(result_signed_off_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Goal.objects.filter(pk=goal.pk).update(
            status=GoalStatus.ACHIEVED,
            result_signed_off_at=timezone.now(),
            result_by_measure=True,
            result_signed_off_by=goal.owner,
        )


# ---------------------------------------------------------------- the pages


def test_the_request_and_the_sign_off_through_the_pages(client_for, cast, period, goal):
    url = reverse("cascade:goal_detail", args=[goal.pk])
    employee, manager = client_for(cast.employee), client_for(cast.manager)
    ask = reverse("cascade:goal_close_request", args=[goal.pk])
    refused = employee.post(ask, {"close-result": "achieved", "close-comment": ""})
    assert refused.status_code == 400 and "Say what was achieved" in refused.content.decode()
    assert employee.post(ask, {"close-result": "achieved", "close-comment": "All scanned."}).status_code == 302
    html = employee.get(url).content.decode()
    assert "Staff Nurse asked to close this goal as achieved" in html and "It stays open until Ward Manager" in html
    team = manager.get(reverse("cascade:team_goals") + f"?period={period.pk}").content.decode()
    assert "1 request to sign off a goal’s result" in team and "Close asked" in team
    html = manager.get(url).content.decode()
    assert "Sign off</button>" in html and "Decline</button>" in html
    # The owner cannot reach the approver's forms.
    sign = reverse("cascade:goal_sign_off", args=[goal.pk])
    assert employee.post(sign, {"signoff-result": "achieved"}).status_code == 403
    done = manager.post(sign, {"signoff-result": "achieved", "signoff-version": fresh(goal).version})
    assert done.status_code == 302
    html = employee.get(url).content.decode()
    assert "Achieved: signed off by Ward Manager" in html
    # The bar keeps the last progress recorded; the page says what a payout counts instead.
    assert "Payouts count it as 100 %, whatever the bar shows" in html


def test_a_result_closed_before_sign_offs_shows_awaiting_and_the_approver_confirms_it(client_for, cast, goal):
    Goal.objects.filter(pk=goal.pk).update(status=GoalStatus.ACHIEVED)  # as the migration leaves old results
    url = reverse("cascade:goal_detail", args=[goal.pk])
    html = client_for(cast.employee).get(url).content.decode()
    assert "awaiting manager sign-off" in html and "Payouts count it once it is signed off" in html
    confirmed = workflow.sign_off(user=user(cast.manager), goal=fresh(goal))
    assert confirmed.status == GoalStatus.ACHIEVED and confirmed.result_signed_off_by == cast.manager

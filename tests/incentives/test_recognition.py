"""Recognition: posting and linking rules, the feed and its filters, notifications, hiding."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from cascade.models import GoalLevel
from incentives.models import Notification, Recognition
from incentives.selectors import recognition as selectors
from incentives.services import recognition as service
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityMeasureFactory
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def thank(author, **kwargs):
    kwargs.setdefault("message", "Thanks for the new handover checklist.")
    return service.post_recognition(user=author.user, **kwargs)


# ---------------------------------------------------------------- posting and linking


def test_anyone_signed_in_can_thank_a_colleague_and_link_a_goal_they_see(cast):
    goal = IndividualGoalFactory(owner=cast.employee)
    post = thank(cast.manager, recipients=[cast.employee], goal=goal.pk)
    assert list(post.recipients.all()) == [cast.employee]
    assert post.author == cast.manager
    assert post.goal == goal
    assert post.priority == goal.priority


def test_a_linked_measure_gives_the_post_its_priority(cast):
    measure = QualityMeasureFactory()
    post = thank(cast.stranger, recipients=[cast.employee], measure=measure.pk)
    assert post.measure == measure
    assert post.priority == measure.priority


def test_a_goal_the_author_cannot_see_is_refused(cast):
    private = IndividualGoalFactory(owner=cast.employee)
    assert private.level == GoalLevel.INDIVIDUAL
    with pytest.raises(ValidationError) as error:
        thank(cast.stranger, recipients=[cast.employee], goal=private.pk)
    assert "goal" in error.value.message_dict
    assert not Recognition.objects.exists()


def test_functional_goals_are_visible_to_everyone_and_can_be_linked(cast):
    goal = FunctionalGoalFactory()
    post = thank(cast.stranger, recipients=[cast.employee], goal=goal.pk)
    assert post.goal == goal


def test_a_post_needs_someone_to_thank_and_a_message(cast):
    with pytest.raises(ValidationError) as error:
        thank(cast.employee, message="  ")
    assert set(error.value.message_dict) == {"message", "recipients"}


def test_nobody_can_thank_only_themselves(cast):
    with pytest.raises(ValidationError):
        thank(cast.employee, recipients=[cast.employee])


def test_linking_both_a_goal_and_a_measure_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        thank(
            cast.manager,
            recipients=[cast.employee],
            goal=FunctionalGoalFactory().pk,
            measure=QualityMeasureFactory().pk,
        )
    assert "goal" in error.value.message_dict


def test_thanking_a_department_thanks_its_active_members_but_not_the_author(cast):
    gone = EmployeeFactory(department=cast.employee.department, is_active=False)
    post = thank(cast.employee, department=cast.employee.department)
    thanked = set(post.recipients.all())
    assert thanked == {cast.chief, cast.manager}
    assert gone not in thanked
    assert post.department == cast.employee.department


def test_a_user_without_an_employee_record_cannot_post(cast, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="x")
    with pytest.raises(PermissionDenied):
        service.post_recognition(user=user, recipients=[cast.employee], message="Thanks")


# ---------------------------------------------------------------- notifications


def test_the_recipient_and_their_manager_are_emailed_and_notified(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post = thank(cast.stranger, recipients=[cast.employee], message="Great audit work")
    addresses = sorted(m.to[0] for m in mail.outbox)
    assert addresses == sorted([cast.employee.user.email, cast.manager.user.email])
    to_employee = next(m for m in mail.outbox if m.to == [cast.employee.user.email])
    assert "thanked you" in to_employee.subject
    assert "Great audit work" in to_employee.body
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {cast.employee.pk, cast.manager.pk}
    assert all(n.recognition_id == post.pk for n in Notification.objects.all())


def test_a_manager_who_thanks_their_report_is_not_notified_of_their_own_post(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        thank(cast.manager, recipients=[cast.employee])
    assert [m.to for m in mail.outbox] == [[cast.employee.user.email]]


def test_a_manager_thanked_alongside_a_report_hears_once_as_a_recipient(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        thank(cast.stranger, recipients=[cast.employee, cast.manager])
    # the employee, the manager (a recipient, not told twice) and the manager's manager
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.employee.user.email, cast.manager.user.email, cast.chief.user.email]
    )
    assert Notification.objects.filter(recipient=cast.manager).count() == 1


def test_no_email_when_the_post_is_rolled_back(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        thank(cast.stranger, recipients=[cast.employee])
    assert callbacks  # queued for the commit, not sent inside the transaction
    assert mail.outbox == []


# ---------------------------------------------------------------- the feed


def test_everyone_signed_in_sees_the_feed_newest_first(cast):
    first = thank(cast.manager, recipients=[cast.employee])
    second = thank(cast.employee, recipients=[cast.stranger])
    for person in (cast.employee, cast.stranger, cast.hr, cast.chief):
        assert list(selectors.feed(user=person.user)) == [second, first]


def test_the_feed_filters_by_department_priority_and_person(cast):
    goal = FunctionalGoalFactory()
    to_nursing = thank(cast.stranger, recipients=[cast.employee], goal=goal.pk)
    to_pharmacy = thank(cast.employee, recipients=[cast.stranger], measure=QualityMeasureFactory().pk)
    team = thank(cast.hr, department=cast.stranger.department)
    user = cast.chief.user
    assert list(selectors.feed(user=user, department=cast.employee.department_id)) == [to_nursing]
    assert set(selectors.feed(user=user, department=cast.stranger.department_id)) == {to_pharmacy, team}
    assert list(selectors.feed(user=user, priority=goal.priority_id)) == [to_nursing]
    assert set(selectors.feed(user=user, person=cast.stranger.pk)) == {to_pharmacy, team}
    assert list(selectors.feed(user=user, person=cast.manager.pk)) == []


# ---------------------------------------------------------------- hiding


def test_hr_hides_a_post_with_a_reason_and_only_hr_and_the_author_still_see_it(cast):
    post = thank(cast.employee, recipients=[cast.stranger])
    service.hide_recognition(user=cast.hr.user, post=post, reason="Names a patient.")
    post.refresh_from_db()
    assert post.is_hidden and post.hidden_reason == "Names a patient." and post.hidden_by == cast.hr
    assert post in selectors.feed(user=cast.hr.user)
    assert post in selectors.feed(user=cast.employee.user)
    for person in (cast.stranger, cast.manager, cast.chief):
        assert post not in selectors.feed(user=person.user)


def test_hiding_needs_hr_and_a_reason(cast):
    post = thank(cast.employee, recipients=[cast.stranger])
    with pytest.raises(PermissionDenied):
        service.hide_recognition(user=cast.manager.user, post=post, reason="I do not like it")
    with pytest.raises(ValidationError):
        service.hide_recognition(user=cast.hr.user, post=post, reason=" ")
    post.refresh_from_db()
    assert not post.is_hidden


# ---------------------------------------------------------------- the demo


def test_the_demo_has_posts_a_champion_awarded_and_one_pending_and_is_idempotent(db):
    from io import StringIO

    from django.core.management import call_command

    from incentives.demo import recognition as recognition_demo
    from incentives.models import CandidateStatus, PathwayCandidate

    call_command("seed_demo", stdout=StringIO())
    recognition_demo.seed_hospital()  # a no-op when seed_demo already called it
    assert recognition_demo.seed_hospital().created is False
    thanks = Recognition.objects.filter(kind="thanks")
    assert thanks.count() == 3
    assert thanks.filter(goal__isnull=False).exists() and thanks.filter(measure__isnull=False).exists()
    assert all(post.priority_id for post in thanks)
    champion = PathwayCandidate.objects.filter(pathway__name="Quality Champion")
    assert champion.get(status=CandidateStatus.AWARDED).employee.user.username == "employee"
    assert champion.filter(status=CandidateStatus.PENDING).count() == 1
    assert Recognition.objects.filter(kind="award").count() == 1
    assert mail.outbox == []

"""Recognition pages: the feed and its filters, one post, hiding (HR only, with a reason),
"Thank a colleague" with its errors and notifications, the notifications page and the
unread count for the navigation. Every page with the four kinds of user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from incentives.models import Notification, Recognition
from incentives.services import pathways as pathway_service
from incentives.services import recognition as service
from people.models import Employee
from tests.cascade.factories import IndividualGoalFactory, QualityMeasureFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

ROLES = ("employee", "manager", "stranger", "hr")
FEED = reverse("incentives:feed")
THANK = reverse("incentives:thank")
NOTIFICATIONS = reverse("incentives:notifications")


def page_of(response) -> str:
    return response.content.decode()


def thank(author: Employee, **kwargs) -> Recognition:
    kwargs.setdefault("message", "Thanks for the new handover checklist.")
    kwargs.setdefault("send_email", False)
    return service.post_recognition(user=author.user, **kwargs)


def hide_url(post: Recognition) -> str:
    return reverse("incentives:post_hide", args=[post.pk])


def detail_url(post: Recognition) -> str:
    return reverse("incentives:post_detail", args=[post.pk])


# ---------------------------------------------------------------- who may open what


@pytest.mark.parametrize("role", ROLES)
def test_everyone_signed_in_reads_the_feed_and_a_post(cast, role, client_for):
    post = thank(cast.manager, recipients=[cast.employee], message="Cut the handover to ten minutes")
    client = client_for(getattr(cast, role))
    feed = client.get(FEED)
    assert feed.status_code == 200
    assert "Cut the handover to ten minutes" in page_of(feed)
    detail = client.get(detail_url(post))
    assert detail.status_code == 200
    assert "Ward Manager" in page_of(detail) and "Staff Nurse" in page_of(detail)


def test_the_pages_ask_anonymous_visitors_to_sign_in(cast):
    post = thank(cast.manager, recipients=[cast.employee])
    for url in (FEED, THANK, NOTIFICATIONS, detail_url(post), hide_url(post)):
        response = Client().get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_an_unknown_post_is_404(cast, client_for):
    assert client_for(cast.employee).get(reverse("incentives:post_detail", args=[999999])).status_code == 404
    assert client_for(cast.hr).get(reverse("incentives:post_hide", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", ("employee", "manager", "stranger"))
def test_only_hr_may_hide_a_post(cast, role, client_for):
    post = thank(cast.manager, recipients=[cast.employee])
    client = client_for(getattr(cast, role))
    assert client.get(hide_url(post)).status_code == 403
    assert client.post(hide_url(post), {"reason": "Spam"}).status_code == 403
    post.refresh_from_db()
    assert not post.is_hidden
    assert "Hide this post" not in page_of(client.get(FEED))


# ---------------------------------------------------------------- the feed


def test_the_feed_says_who_thanked_whom_newest_first(cast, client_for):
    thank(cast.manager, recipients=[cast.employee], message="First post")
    thank(cast.stranger, department=cast.employee.department, message="Second post")
    html = page_of(client_for(cast.employee).get(FEED))
    assert html.index("Second post") < html.index("First post")
    assert "Pharmacist thanked" in html
    assert ">Nursing</a> team" in html  # a department thanked as a team
    assert "Ward Manager thanked" in html
    assert "2 posts" in html


def test_the_feed_is_paginated(cast, client_for):
    for n in range(25):
        thank(cast.manager, recipients=[cast.employee], message=f"Post number {n:02d}")
    client = client_for(cast.stranger)
    first = page_of(client.get(FEED))
    assert "Post number 24" in first and "Post number 04" not in first
    assert "Page 1 of 2" in first
    second = page_of(client.get(FEED, {"page": 2}))
    assert "Post number 04" in second and "Post number 24" not in second


def test_the_feed_filters_by_department_priority_and_person_and_keeps_the_values(cast, client_for):
    priority = QualityPriorityFactory(title="Medication safety")
    measure = QualityMeasureFactory(priority=priority)
    thank(cast.manager, recipients=[cast.employee], message="Nursing thanks", measure=measure.pk)
    thank(cast.employee, recipients=[cast.stranger], message="Pharmacy thanks")
    client = client_for(cast.hr)

    by_department = page_of(client.get(FEED, {"department": cast.stranger.department.pk}))
    assert "Pharmacy thanks" in by_department and "Nursing thanks" not in by_department
    assert f'<option value="{cast.stranger.department.pk}" selected>' in by_department

    by_priority = page_of(client.get(FEED, {"priority": priority.pk}))
    assert "Nursing thanks" in by_priority and "Pharmacy thanks" not in by_priority
    assert f'<option value="{priority.pk}" selected>' in by_priority

    by_name = page_of(client.get(FEED, {"person": "staff nurse"}))
    assert "Nursing thanks" in by_name and "Pharmacy thanks" not in by_name
    assert 'value="staff nurse"' in by_name
    assert "thanking Staff Nurse" in by_name

    by_id = page_of(client.get(FEED, {"person": cast.stranger.employee_id}))
    assert "Pharmacy thanks" in by_id and "Nursing thanks" not in by_id


def test_a_person_filter_that_matches_no_one_says_so_and_filters_nothing(cast, client_for):
    thank(cast.manager, recipients=[cast.employee], message="Still listed")
    response = client_for(cast.employee).get(FEED, {"person": "Nobody Atall", "department": "999999"})
    assert response.status_code == 200
    html = page_of(response)
    assert "No one has the name or employee ID “Nobody Atall”." in html
    assert "not one of the choices" in html
    assert "Still listed" in html


def test_a_linked_goal_is_a_link_only_for_those_who_may_open_it(cast, client_for):
    goal = IndividualGoalFactory(owner=cast.employee, title="Safer insulin handover")
    measure = QualityMeasureFactory(name="Insulin errors per 1,000 doses")
    thank(cast.manager, recipients=[cast.employee], goal=goal.pk)
    thank(cast.manager, recipients=[cast.employee], measure=measure.pk)
    goal_link = reverse("cascade:goal_detail", args=[goal.pk])
    measure_link = reverse("cascade:measure_detail", args=[measure.pk])
    for role, may_open in (("employee", True), ("manager", True), ("hr", True), ("stranger", False)):
        html = page_of(client_for(getattr(cast, role)).get(FEED))
        assert "Safer insulin handover" in html
        assert (goal_link in html) is may_open, role
        assert measure_link in html  # measures are the organisation's: everyone may open them


def test_titles_awarded_stand_out_in_the_feed(cast, client_for):
    pathway = pathway_service.save_pathway(
        user=cast.hr.user, data={"name": "Quality Champion", "min_recognitions": 1}, levels=[]
    )
    thank(cast.manager, recipients=[cast.employee])
    [candidate] = pathway_service.find_candidates()
    pathway_service.confirm(user=cast.hr.user, candidate=candidate, send_email=False)
    html = page_of(client_for(cast.stranger).get(FEED))
    assert 'class="post post--award"' in html
    assert "Title awarded" in html
    assert "awarded the title" in html and "Quality Champion" in html
    assert reverse("incentives:pathway_detail", args=[pathway.pk]) in html


def test_the_feed_costs_the_same_queries_however_many_posts(cast, django_assert_max_num_queries, client_for):
    measure = QualityMeasureFactory()
    goal = IndividualGoalFactory(owner=cast.employee)
    client = client_for(cast.hr)

    def add_posts(count: int) -> None:
        for n in range(count):
            extra = EmployeeFactory(department=DepartmentFactory(name=f"Ward {n % 4}"))
            thank(cast.manager, recipients=[cast.employee, extra], goal=goal.pk)
            thank(cast.stranger, department=cast.employee.department, measure=measure.pk)

    filters = {"department": cast.employee.department.pk, "person": cast.employee.employee_id}
    add_posts(2)
    with django_assert_max_num_queries(15) as small:
        assert client.get(FEED, filters).status_code == 200
    add_posts(15)
    service.hide_recognition(user=cast.hr.user, post=Recognition.objects.first(), reason="Duplicate")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(FEED, filters).status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(FEED, {"page": 2}).status_code == 200


# ---------------------------------------------------------------- hidden posts and hiding


def test_a_hidden_post_is_gone_for_everyone_but_hr_and_its_author_who_see_it_marked_with_the_reason(cast, client_for):
    post = thank(cast.manager, recipients=[cast.employee], message="An unkind joke")
    thank(cast.manager, recipients=[cast.employee], message="A fine post")
    service.hide_recognition(user=cast.hr.user, post=post, reason="Not in the spirit of the feed")
    for role in ("employee", "stranger"):  # even the recipient no longer sees it
        client = client_for(getattr(cast, role))
        html = page_of(client.get(FEED))
        assert "An unkind joke" not in html and "A fine post" in html
        assert client.get(detail_url(post)).status_code == 404
    for role in ("hr", "manager"):  # the manager is the author, and is told why
        client = client_for(getattr(cast, role))
        html = page_of(client.get(FEED))
        assert "An unkind joke" in html
        assert "post--hidden" in html
        assert "Not in the spirit of the feed" in html
        assert "Not in the spirit of the feed" in page_of(client.get(detail_url(post)))


def test_hr_hides_a_post_after_confirming_with_a_reason(cast, client_for):
    post = thank(cast.manager, recipients=[cast.employee], message="Oops, wrong person")
    client = client_for(cast.hr)
    confirm = client.get(hide_url(post))
    assert confirm.status_code == 200
    assert "Hide this post?" in page_of(confirm)
    assert "Why is this post hidden?" in page_of(confirm)
    response = client.post(hide_url(post), {"reason": "Posted to the wrong person"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(post)
    post.refresh_from_db()
    assert post.is_hidden
    assert post.hidden_reason == "Posted to the wrong person"
    assert post.hidden_by == cast.hr


def test_hiding_needs_a_reason(cast, client_for):
    post = thank(cast.manager, recipients=[cast.employee])
    response = client_for(cast.hr).post(hide_url(post), {"reason": "   "})
    assert response.status_code == 400
    assert "Say why the post is hidden" in page_of(response)
    post.refresh_from_db()
    assert not post.is_hidden


def test_a_hidden_posts_notifications_lose_their_words(cast, client_for):
    post = thank(cast.stranger, recipients=[cast.employee], message="Words to withdraw")
    service.hide_recognition(user=cast.hr.user, post=post, reason="Withdrawn")
    html = page_of(client_for(cast.employee).get(NOTIFICATIONS))
    assert "Words to withdraw" not in html
    assert "HR has hidden the post" in html


# ---------------------------------------------------------------- thank a colleague


@pytest.mark.parametrize("role", ROLES)
def test_everyone_with_an_employee_record_gets_the_form_with_their_team_offered(cast, role, client_for):
    response = client_for(getattr(cast, role)).get(THANK)
    assert response.status_code == 200
    html = page_of(response)
    for label in ("Who are you thanking?", "Find a colleague", "Or thank a whole department (team)", "Message"):
        assert label in html
    assert "Linked goal or measure" in html
    if role == "employee":
        # Named by the field, so a department option that happens to share the id cannot match.
        assert f'name="recipients" value="{cast.manager.pk}"' in html  # their manager, offered as a tick
        assert f'name="recipients" value="{cast.employee.pk}"' not in html  # never themselves


def test_a_user_without_an_employee_record_cannot_thank(db, django_user_model):
    user = django_user_model.objects.create_user("visitor", password="x")
    client = Client()
    client.force_login(user)
    assert client.get(THANK).status_code == 403


def test_the_form_can_be_prefilled_with_a_person(cast, client_for):
    html = page_of(client_for(cast.stranger).get(THANK, {"to": cast.employee.pk}))
    assert f'name="recipients" value="{cast.employee.pk}" checked' in html


def test_the_colleague_search_offers_matching_people_as_ticks(cast, client_for):
    client = client_for(cast.employee)
    partial = client.get(THANK, {"find": "pharm"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert f'name="recipients" value="{cast.stranger.pk}"' in page_of(partial)
    assert "<html" not in page_of(partial)
    # Without JavaScript the "Find" button posts the form, which comes back as typed.
    response = client.post(THANK, {"action": "find", "find": "pharm", "message": "Kept as typed"})
    assert response.status_code == 200
    assert f'name="recipients" value="{cast.stranger.pk}"' in page_of(response)
    assert "Kept as typed" in page_of(response)
    assert not Recognition.objects.exists()


def test_an_empty_form_says_what_is_missing_beside_each_field(cast, client_for):
    response = client_for(cast.employee).post(THANK, {"message": "  "})
    assert response.status_code == 400
    html = page_of(response)
    assert "Thank at least one person, or a department." in html
    assert "Say what the improvement was and why it mattered." in html
    assert not Recognition.objects.exists()


def test_thanking_only_yourself_is_refused(cast, client_for):
    response = client_for(cast.employee).post(THANK, {"recipients": [cast.employee.pk], "message": "Me!"})
    assert response.status_code == 400
    assert "You cannot thank yourself." in page_of(response)


def test_a_goal_the_author_cannot_see_is_refused_on_the_link_field(cast, client_for):
    private = IndividualGoalFactory(owner=cast.employee)
    response = client_for(cast.stranger).post(
        THANK, {"recipients": [cast.employee.pk], "message": "Thanks", "link": f"goal:{private.pk}"}
    )
    assert response.status_code == 400
    assert 'id="id_link_error"' in page_of(response)
    assert "No such goal, or not one you can see." in page_of(response)
    # what was typed and ticked stays
    assert "Thanks</textarea>" in page_of(response)
    assert f'name="recipients" value="{cast.employee.pk}" checked' in page_of(response)


def test_a_garbled_link_is_a_field_error_not_a_crash(cast, client_for):
    response = client_for(cast.stranger).post(
        THANK, {"recipients": [cast.employee.pk], "message": "Thanks", "link": "banana"}
    )
    assert response.status_code == 400
    assert "Choose a goal or a measure from the list." in page_of(response)


def test_the_authors_goals_and_the_measures_are_offered_to_link(cast, client_for):
    mine = IndividualGoalFactory(owner=cast.manager, title="Manager's own goal")
    report = IndividualGoalFactory(owner=cast.employee, title="Report's goal")
    other = IndividualGoalFactory(owner=cast.stranger, title="Someone else's goal")
    measure = QualityMeasureFactory(name="Falls per 1,000 bed days")
    html = page_of(client_for(cast.manager).get(THANK))
    assert f'value="goal:{mine.pk}"' in html and f'value="goal:{report.pk}"' in html
    assert f'value="goal:{other.pk}"' not in html
    assert f'value="measure:{measure.pk}"' in html
    assert "Falls per 1,000 bed days" in html


def test_thanking_a_colleague_posts_to_the_feed_and_tells_them_and_their_manager(
    cast, django_capture_on_commit_callbacks, client_for
):
    measure = QualityMeasureFactory()
    client = client_for(cast.stranger)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            THANK,
            {
                "recipients": [cast.employee.pk],
                "message": "The new insulin checklist halved the errors.",
                "link": f"measure:{measure.pk}",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == FEED
    post = Recognition.objects.get()
    assert post.author == cast.stranger and list(post.recipients.all()) == [cast.employee]
    assert post.measure == measure and post.priority == measure.priority
    told = set(Notification.objects.filter(recognition=post).values_list("recipient_id", flat=True))
    assert told == {cast.employee.pk, cast.manager.pk}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([cast.employee.user.email, cast.manager.user.email])
    feed = page_of(client.get(FEED))
    assert "Your thanks to Staff Nurse is in the feed." in feed
    assert "The new insulin checklist halved the errors." in feed


def test_thanking_a_department_thanks_the_team(cast, client_for):
    response = client_for(cast.employee).post(
        THANK, {"department": cast.stranger.department.pk, "message": "Thanks, pharmacy!"}
    )
    assert response.status_code == 302
    post = Recognition.objects.get()
    assert post.department == cast.stranger.department
    assert list(post.recipients.all()) == [cast.stranger]
    assert Notification.objects.filter(recipient=cast.stranger).exists()


# ---------------------------------------------------------------- notifications


@pytest.mark.parametrize("role", ROLES)
def test_each_person_sees_only_their_own_notifications(cast, role, client_for):
    thank(cast.stranger, recipients=[cast.employee], message="For the employee")
    html = page_of(client_for(getattr(cast, role)).get(NOTIFICATIONS))
    told = role in ("employee", "manager")  # the person thanked and their manager
    assert ("For the employee" in html) is told
    assert ("Mark all as read" in html) is told


def test_unread_notifications_come_first_and_mark_all_read_clears_them(cast, client_for):
    old = thank(cast.stranger, recipients=[cast.employee], message="Old and read")
    Notification.objects.filter(recognition=old).update(read_at="2026-01-01T00:00:00Z")
    thank(cast.chief, recipients=[cast.employee], message="New and unread")  # told: employee and manager
    client = client_for(cast.employee)
    html = page_of(client.get(NOTIFICATIONS))
    assert html.index("New and unread") < html.index("Old and read")
    assert "1 unread." in html
    assert reverse("incentives:post_detail", args=[old.pk]) in html
    assert client.get(reverse("incentives:notifications_read")).status_code == 405
    response = client.post(reverse("incentives:notifications_read"))
    assert response.status_code == 302 and response["Location"] == NOTIFICATIONS
    assert not Notification.objects.filter(recipient=cast.employee, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=cast.manager, read_at__isnull=True).exists()  # not theirs
    assert "Nothing unread." in page_of(client.get(NOTIFICATIONS))


def test_the_navigation_tag_shows_the_unread_count(cast):
    thank(cast.stranger, recipients=[cast.employee])
    thank(cast.manager, recipients=[cast.employee])
    template = Template(
        "{% load recognition_tags %}{% notifications_link %}|{% unread_notification_count as n %}{{ n }}"
    )

    def render(user) -> str:
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"request": request}))

    html = render(cast.employee.user)
    assert reverse("incentives:notifications") in html
    assert '2<span class="visually-hidden"> unread</span>' in html
    assert html.endswith("|2")
    assert render(cast.stranger.user).endswith("|0")
    assert render(AnonymousUser()).endswith("|0")

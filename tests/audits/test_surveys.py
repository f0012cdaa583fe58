"""Feedback surveys: definitions, the survey's life by date (opening, reminders, closing), anonymous
answers, the group-size floor with the subtraction leak closed, and the demo hospital's surveys."""

from __future__ import annotations

import datetime
import logging
import random
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from audits import tasks
from audits.demo import surveys as demo_surveys
from audits.models import (
    ItemTopic,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyItem,
    SurveyResponse,
    SurveyState,
)
from audits.selectors import surveys as read
from audits.services import surveys as services
from core.errors import ConflictError
from people.models import Department, Employee
from tests.audits.helpers import answer, close, make_survey, open_survey, people_in
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)
DAY = datetime.timedelta(days=1)


# ---------------------------------------------------------------- definitions


def test_a_new_survey_comes_with_the_three_seeded_items(cast):
    survey = make_survey(cast.hr)
    items = list(survey.items.order_by("position"))
    assert [i.topic for i in items] == [ItemTopic.RELEVANCE, ItemTopic.MESSAGING, ItemTopic.TIME]
    assert [i.position for i in items] == [1, 2, 3]
    assert survey.state == SurveyState.DRAFT
    assert survey.created_by == cast.hr


def test_only_hr_defines_surveys(cast):
    for person in (cast.employee, cast.manager, cast.stranger):
        with pytest.raises(PermissionDenied):
            make_survey(person)
    assert not Survey.objects.exists()


def test_it_refuses_a_survey_without_items_or_closing_before_it_opens(cast):
    with pytest.raises(ValidationError) as refused:
        make_survey(cast.hr, items=[])
    assert "at least one statement" in str(refused.value.message_dict["items"])
    with pytest.raises(ValidationError) as refused:
        make_survey(cast.hr, closes_on=TODAY - DAY)
    assert "closes_on" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        make_survey(cast.hr, items=[{"text": "  ", "topic": "time"}, {"text": "Fine", "topic": "nonsense"}])
    assert refused.value.message_dict["items"] == [
        "Statement 1: write the statement people rate.",
        "Statement 2: choose one of the topics.",
    ]
    with pytest.raises(ValidationError) as refused:
        make_survey(cast.hr, every=0)
    assert "reminder_every_days" in refused.value.message_dict


def test_hr_edits_reorders_adds_and_removes_items_before_it_opens(cast):
    survey = make_survey(cast.hr)
    relevance, messaging, time = survey.items.order_by("position")
    updated = services.survey_update(
        user=cast.hr.user,
        survey=survey,
        expected_version=survey.version,
        items=[
            {"id": time.pk, "text": time.text, "topic": "time"},
            {"id": messaging.pk, "text": "My manager explains our QI goals.", "topic": "messaging"},
            {"text": "I know our priorities.", "topic": "other"},
        ],
    )
    items = list(updated.items.order_by("position"))
    assert [(i.pk, i.text, i.position) for i in items[:2]] == [
        (time.pk, time.text, 1),
        (messaging.pk, "My manager explains our QI goals.", 2),
    ]
    assert items[2].text == "I know our priorities." and items[2].topic == ItemTopic.OTHER
    assert not SurveyItem.objects.filter(pk=relevance.pk).exists()
    assert updated.version == survey.version + 1


def test_items_and_population_cannot_change_once_open(cast):
    survey = open_survey(cast.hr)
    rows = [{"id": i.pk, "text": i.text, "topic": i.topic} for i in survey.items.order_by("position")]
    with pytest.raises(ValidationError) as refused:
        services.survey_update(
            user=cast.hr.user, survey=survey, expected_version=survey.version, items=list(reversed(rows))
        )
    assert "items" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.survey_update(
            user=cast.hr.user,
            survey=survey,
            expected_version=survey.version,
            departments=[cast.stranger.department],
        )
    assert "departments" in refused.value.message_dict
    # The title and reminders still may change, and sending the same items again is no change.
    updated = services.survey_update(
        user=cast.hr.user,
        survey=survey,
        expected_version=survey.version,
        data={"title": "Renamed", "reminder_every_days": 3},
        items=rows,
    )
    assert (updated.title, updated.reminder_every_days) == ("Renamed", 3)


def test_a_save_based_on_a_stale_version_is_refused(cast):
    survey = make_survey(cast.hr)
    services.survey_update(user=cast.hr.user, survey=survey, expected_version=survey.version, data={"title": "A"})
    with pytest.raises(ConflictError):
        services.survey_update(user=cast.hr.user, survey=survey, expected_version=survey.version, data={"title": "B"})
    assert Survey.objects.get().title == "A"


def test_a_closed_survey_no_longer_changes(cast):
    survey = close(open_survey(cast.hr))
    with pytest.raises(ValidationError):
        services.survey_update(user=cast.hr.user, survey=survey, expected_version=None, data={"title": "Later"})


# ---------------------------------------------------------------- opening and the population


def test_opening_invites_the_active_people_of_the_departments_and_their_sub_departments(cast):
    wards = DepartmentFactory(name="Wards")
    ward7 = Department.objects.create(name="Ward 7", parent=wards)
    in_wards = EmployeeFactory(department=wards)
    in_ward7 = EmployeeFactory(department=ward7)
    EmployeeFactory(department=ward7, is_active=False)
    survey = open_survey(cast.hr, departments=[wards])
    invited = set(SurveyInvitation.objects.filter(survey=survey).values_list("employee_id", flat=True))
    assert invited == {in_wards.pk, in_ward7.pk}
    assert survey.state == SurveyState.OPEN and survey.opened_at is not None
    assert survey.last_reminded_on == survey.opens_on


def test_everyone_is_asked_when_no_department_is_chosen(cast):
    survey = open_survey(cast.hr)
    assert SurveyInvitation.objects.filter(survey=survey).count() == Employee.objects.filter(is_active=True).count()


def test_opening_emails_each_person_a_link_to_the_answer_page(cast, django_capture_on_commit_callbacks):
    survey = make_survey(cast.hr, departments=[cast.employee.department], opens_on=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        services.open_survey(survey=survey, user=cast.hr.user)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        p.user.email for p in (cast.chief, cast.manager, cast.employee)
    )
    message = next(m for m in mail.outbox if m.to == [cast.employee.user.email])
    assert survey.title in message.subject
    assert f"/alignment/surveys/{survey.pk}/answer/" in message.body
    assert "anonymous" in message.body


def test_hr_opening_early_moves_the_opening_date_to_today(cast):
    survey = make_survey(cast.hr, opens_on=TODAY + 5 * DAY)
    opened = services.open_survey(survey=survey, user=cast.hr.user, today=TODAY, notify=False)
    assert opened.opens_on == TODAY


def test_a_survey_opens_only_once_and_not_after_its_window(cast):
    survey = open_survey(cast.hr)
    with pytest.raises(ValidationError):
        services.open_survey(survey=survey, today=TODAY, notify=False)
    late = make_survey(cast.hr, opens_on=TODAY - 30 * DAY, closes_on=TODAY - DAY)
    with pytest.raises(ValidationError) as refused:
        services.open_survey(survey=late, today=TODAY, notify=False)
    assert "window ended" in str(refused.value)
    nobody = make_survey(cast.hr, departments=[DepartmentFactory(name="Empty")])
    with pytest.raises(ValidationError) as refused:
        services.survey_schedule(user=cast.hr.user, survey=nobody, today=TODAY)
    assert "no one to ask" in str(refused.value)


# ---------------------------------------------------------------- anonymity


def _columns(model) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}


def test_the_database_rows_of_a_response_carry_no_user_and_no_time(cast):
    assert _columns(SurveyResponse) == {"id", "survey_id", "department_id"}
    assert _columns(SurveyAnswer) == {"id", "response_id", "item_id", "value"}
    # The invitation knows who was asked, and only whether they answered: no time, no link to a response.
    assert _columns(SurveyInvitation) == {"id", "survey_id", "employee_id", "answered", "reminders_sent"}


def test_answering_stores_the_department_and_only_flips_the_invitation(cast):
    survey = open_survey(cast.hr)
    invitation = SurveyInvitation.objects.get(survey=survey, employee=cast.employee)
    before = {f.attname: getattr(invitation, f.attname) for f in SurveyInvitation._meta.fields}
    answer(cast.employee, survey, [5, 2, 1])
    invitation.refresh_from_db()
    after = {f.attname: getattr(invitation, f.attname) for f in SurveyInvitation._meta.fields}
    assert {k for k in before if before[k] != after[k]} == {"answered"}
    response = SurveyResponse.objects.get(survey=survey)
    assert response.department_id == cast.employee.department_id
    assert sorted(SurveyAnswer.objects.filter(response=response).values_list("value", flat=True)) == [1, 2, 5]
    # Other invitations are untouched.
    assert not SurveyInvitation.objects.filter(survey=survey, answered=True).exclude(employee=cast.employee).exists()


def test_answering_twice_is_refused(cast):
    survey = open_survey(cast.hr)
    answer(cast.employee, survey, 4)
    with pytest.raises(ValidationError) as refused:
        answer(cast.employee, survey, 1)
    assert refused.value.code == "answered"
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert set(SurveyAnswer.objects.values_list("value", flat=True)) == {4}


def test_only_a_person_asked_may_answer(cast):
    survey = open_survey(cast.hr, departments=[cast.employee.department])
    with pytest.raises(PermissionDenied):
        answer(cast.stranger, survey, 3)
    assert not SurveyResponse.objects.exists()


def test_every_item_must_be_answered_from_1_to_5(cast):
    survey = open_survey(cast.hr)
    items = list(survey.items.order_by("position"))
    with pytest.raises(ValidationError) as refused:
        services.submit_answers(
            user=cast.employee.user, survey=survey, values={items[0].pk: 0, items[1].pk: 6}, today=TODAY
        )
    assert set(refused.value.message_dict) == {f"item_{i.pk}" for i in items}
    with pytest.raises(ValidationError):
        services.submit_answers(user=cast.employee.user, survey=survey, values={i.pk: True for i in items}, today=TODAY)
    assert not SurveyResponse.objects.exists()
    assert not SurveyInvitation.objects.filter(answered=True).exists()


def test_answers_are_taken_only_while_the_survey_is_open(cast):
    survey = open_survey(cast.hr)
    with pytest.raises(ValidationError):
        answer(cast.employee, survey, 3, today=survey.closes_on + DAY)  # closing date passed, job not yet run
    close(survey)
    with pytest.raises(ValidationError) as refused:
        answer(cast.employee, survey, 3)
    assert refused.value.code == "not_open"
    assert not SurveyResponse.objects.exists()


def test_nothing_about_who_answered_is_logged(cast, caplog):
    survey = open_survey(cast.hr)
    with caplog.at_level(logging.DEBUG):
        answer(cast.employee, survey, 2)
    names = (cast.employee.user.username, cast.employee.full_name, f"employee_id={cast.employee.pk}")
    assert not [r for r in caplog.records if any(n in r.getMessage() for n in names)]


# ---------------------------------------------------------------- the floor


def test_held_back_hides_groups_under_the_floor():
    assert read.held_back({"a": 4}, {}, 4) == {"a": read.FLOOR_MESSAGE}
    assert read.held_back({"a": 5, "b": 6}, {}, 11) == {}
    assert read.held_back({"a": 0, "b": 5, "c": 6}, {}, 11) == {"a": read.FLOOR_MESSAGE}  # nobody to give away


def test_held_back_also_hides_the_next_smallest_group_when_one_would_be_exposed():
    # a (3) is under the floor; the organisation (14) minus b and c would be a's 3 answers: b goes too.
    assert read.held_back({"a": 3, "b": 5, "c": 6}, {}, 14) == {"a": read.FLOOR_MESSAGE, "b": read.PROTECT_MESSAGE}
    # Two small groups (2 + 2) are still a group of 4 people together.
    assert read.held_back({"a": 2, "b": 2, "c": 10, "d": 7}, {}, 21) == {
        "a": read.FLOOR_MESSAGE,
        "b": read.FLOOR_MESSAGE,
        "d": read.PROTECT_MESSAGE,
    }
    # One answer from a department since deleted counts in the organisation only; ties go by name.
    assert read.held_back({1: 5, 2: 5}, {1: "Zeta", 2: "Alpha"}, 11) == {2: read.PROTECT_MESSAGE}


def test_held_back_never_leaves_a_remainder_of_1_to_4_answers():
    rng = random.Random(7)
    for _ in range(500):
        sizes = {key: rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12]) for key in range(rng.randrange(1, 7))}
        total = sum(sizes.values()) + rng.choice([0, 0, 1, 2])
        hidden = read.held_back(sizes, {}, total)
        shown = [n for key, n in sizes.items() if key not in hidden]
        assert all(n >= read.MIN_GROUP for n in shown)
        if total >= read.MIN_GROUP:  # below that the organisation is not shown either
            assert total - sum(shown) == 0 or total - sum(shown) >= read.MIN_GROUP, (sizes, total, hidden)


def test_four_answers_are_hidden_and_five_shown(cast):
    four, five = DepartmentFactory(name="Four"), DepartmentFactory(name="Five")
    small, large = people_in(four, 4), people_in(five, 5)
    hidden = open_survey(cast.hr, departments=[four], title="Four")
    for person in small:
        answer(person, hidden, 1)
    results = read.department_results(close(hidden))
    (group,) = results.departments
    assert (group.label, group.shown, group.items, group.note) == ("Four", False, [], read.FLOOR_MESSAGE)
    assert group.responses == 0  # not even its size is told
    assert not results.organisation.shown and results.organisation.items == []

    shown = open_survey(cast.hr, departments=[five], title="Five")
    for person, value in zip(large, [1, 2, 4, 5, 5], strict=True):
        answer(person, shown, value)
    results = read.department_results(close(shown))
    (group,) = results.departments
    assert group.shown and group.responses == 5 and group.note == ""
    first = group.items[0]
    assert first.n == 5 and first.counts == {1: 1, 2: 1, 4: 1, 5: 2} and first.mean == Decimal("3.40")
    assert [row["count"] for row in first.distribution] == [1, 1, 0, 1, 2]
    assert [(s["value"], s["x"], s["width"]) for s in first.segments] == [
        (1, "0.00", "20.00"),
        (2, "20.00", "20.00"),
        (4, "40.00", "20.00"),
        (5, "60.00", "40.00"),
    ]
    assert results.organisation.shown and results.organisation.responses == 5
    assert read.MIN_GROUP == 5


def test_the_organisation_total_cannot_give_a_hidden_department_away(cast):
    nursing, pharmacy, hr = cast.employee.department, cast.stranger.department, cast.hr.department
    people = {"nursing": people_in(nursing, 3), "pharmacy": people_in(pharmacy, 5), "hr": people_in(hr, 2)}
    survey = open_survey(cast.hr)
    # Nursing: the cast's three plus three more = 6 answers; Pharmacy 6; HR 3 (the floor).
    for person in (cast.chief, cast.manager, cast.employee, *people["nursing"]):
        answer(person, survey, 4)
    for person in (cast.stranger, *people["pharmacy"]):
        answer(person, survey, 2)
    for person in (cast.hr, *people["hr"]):
        answer(person, survey, 1)
    results = read.department_results(close(survey))
    groups = {g.label: g for g in results.departments}
    assert groups["HR"].note == read.FLOOR_MESSAGE
    # Nursing and Pharmacy have 6 each: the tie goes by name, so Nursing is held back with HR.
    assert groups["Nursing"].note == read.PROTECT_MESSAGE and not groups["Nursing"].items
    assert groups["Pharmacy"].shown
    assert results.organisation.shown and results.organisation.responses == 15
    remainder = results.organisation.responses - sum(g.responses for g in results.shown_departments)
    assert remainder == 9  # Nursing and HR together: no one group's answers can be derived


def test_nothing_is_shown_when_the_whole_survey_has_fewer_than_five_answers(cast):
    survey = open_survey(cast.hr)
    for person in (cast.chief, cast.manager, cast.employee, cast.stranger):
        answer(person, survey, 5)
    results = read.department_results(close(survey))
    assert not results.organisation.shown and results.organisation.items == []
    assert not results.shown_departments


def test_results_by_topic_give_each_group_its_mean_over_those_items(cast):
    more = people_in(cast.employee.department, 2)
    survey = open_survey(
        cast.hr,
        items=[
            {"text": "Leaders explain QI.", "topic": "messaging"},
            {"text": "Time for QI.", "topic": "time"},
            {"text": "Managers agree on QI.", "topic": "messaging"},
        ],
    )
    people = [cast.chief, cast.manager, cast.employee, *more]
    for person, values in zip(people, [[1, 5, 2], [2, 5, 2], [3, 5, 2], [4, 5, 2], [5, 5, 2]], strict=True):
        answer(person, survey, values)
    results = read.department_results(close(survey), topic="messaging")
    assert [i.text for i in results.items] == ["Leaders explain QI.", "Managers agree on QI."]
    nursing = results.departments[[g.label for g in results.departments].index("Nursing")]
    assert nursing.mean == Decimal("2.50")  # (1+2+3+4+5 + 5×2) / 10
    assert results.organisation.mean == Decimal("2.50")


def test_results_read_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    departments = [DepartmentFactory(name=f"Dept {n}") for n in range(6)]
    people = [people_in(department, 6) for department in departments]
    survey = open_survey(cast.hr, departments=departments)
    for members in people:
        for person in members:
            answer(person, survey, 3)
    close(survey)
    with django_assert_max_num_queries(4):
        results = read.department_results(survey)
    assert len(results.shown_departments) == 6


# ---------------------------------------------------------------- the daily job


def test_the_daily_job_opens_a_scheduled_survey_on_its_opening_date(cast):
    survey = make_survey(cast.hr, opens_on=TODAY + 2 * DAY)
    services.survey_schedule(user=cast.hr.user, survey=survey, today=TODAY)
    assert services.run_daily(today=TODAY + DAY, notify=False).opened == []
    assert not SurveyInvitation.objects.exists()
    assert services.run_daily(today=TODAY + 2 * DAY, notify=False).opened == [survey.pk]
    survey.refresh_from_db()
    assert survey.state == SurveyState.OPEN
    assert SurveyInvitation.objects.filter(survey=survey).count() == 5
    # A draft is not opened by date: only what HR scheduled.
    draft = make_survey(cast.hr, opens_on=TODAY)
    services.run_daily(today=TODAY + 3 * DAY, notify=False)
    draft.refresh_from_db()
    assert draft.state == SurveyState.DRAFT


def test_the_daily_job_closes_a_survey_after_its_closing_date(cast):
    survey = open_survey(cast.hr, closes_on=TODAY + 10 * DAY)
    assert services.run_daily(today=TODAY + 10 * DAY, notify=False).closed == []
    assert services.run_daily(today=TODAY + 11 * DAY, notify=False).closed == [survey.pk]
    survey.refresh_from_db()
    assert survey.state == SurveyState.CLOSED and survey.closed_at is not None


def test_reminders_go_only_to_those_who_have_not_answered_and_not_more_often_than_set(
    cast, django_capture_on_commit_callbacks
):
    survey = open_survey(cast.hr, every=3, closes_on=TODAY + 20 * DAY)
    answer(cast.employee, survey, 3)
    answer(cast.manager, survey, 3)

    def reminded_on(day: datetime.date) -> list[str]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.run_daily(today=day)
        return sorted(m.to[0] for m in mail.outbox)

    assert reminded_on(TODAY + DAY) == []
    assert reminded_on(TODAY + 2 * DAY) == []
    waiting = sorted(p.user.email for p in (cast.chief, cast.stranger, cast.hr))
    assert reminded_on(TODAY + 3 * DAY) == waiting
    assert all("Reminder" in m.subject for m in mail.outbox)
    assert reminded_on(TODAY + 3 * DAY) == []  # the job running twice in a day sends nothing twice
    assert reminded_on(TODAY + 4 * DAY) == []
    answer(cast.chief, survey, 3, today=TODAY + 5 * DAY)
    assert reminded_on(TODAY + 6 * DAY) == sorted(p.user.email for p in (cast.stranger, cast.hr))
    assert dict(SurveyInvitation.objects.filter(survey=survey).values_list("employee_id", "reminders_sent")) == {
        cast.employee.pk: 0,
        cast.manager.pk: 0,
        cast.chief.pk: 1,
        cast.stranger.pk: 2,
        cast.hr.pk: 2,
    }


def test_a_reminder_queued_before_someone_answered_is_not_sent_to_them(cast):
    survey = open_survey(cast.hr)
    ids = list(SurveyInvitation.objects.filter(survey=survey).values_list("pk", flat=True))
    answer(cast.employee, survey, 3)
    mail.outbox.clear()
    sent = services.send_emails(services.REMINDER, ids)
    assert sent == 4 and cast.employee.user.email not in [m.to[0] for m in mail.outbox]


def test_the_daily_task_runs_the_job_and_is_registered_once(cast):
    from django_celery_beat.models import PeriodicTask

    survey = make_survey(cast.hr, opens_on=timezone.localdate())
    services.survey_schedule(user=cast.hr.user, survey=survey)
    outcome = tasks.surveys_daily.delay().get()
    assert outcome["opened"] == [survey.pk]
    PeriodicTask.objects.filter(task="audits.surveys_daily").delete()
    tasks.register_periodic_tasks()
    tasks.register_periodic_tasks()
    task = PeriodicTask.objects.get(task="audits.surveys_daily")
    assert (task.crontab.hour, task.crontab.minute) == ("8", "0")


# ---------------------------------------------------------------- the demo


def test_the_demo_has_a_closed_survey_with_results_the_floor_and_a_messaging_outlier():
    from audits.rules.messaging import InconsistentMessaging
    from people import demo as people_demo
    from tests.audits.rules.helpers import evaluate

    people_demo.seed_hospital()
    first = demo_surveys.seed_hospital()
    assert first.created
    assert not demo_surveys.seed_hospital().created  # safe to run again

    closed = Survey.objects.get(title=demo_surveys.CLOSED_TITLE)
    assert closed.state == SurveyState.CLOSED and closed.closed_at.date() < timezone.localdate()
    assert not SurveyInvitation.objects.filter(survey=closed, answered=False, reminders_sent=0).exists()
    results = read.department_results(closed)
    groups = {g.label: g for g in results.departments}
    assert groups["Claims processing"].note == read.FLOOR_MESSAGE
    assert groups["Finance"].note == read.PROTECT_MESSAGE
    assert {g.label for g in results.shown_departments} == {
        "Emergency", "Pharmacy", "Nursing", "Radiology", "Quality office", "HR",
    }  # fmt: skip
    messaging = read.department_results(closed, topic="messaging")
    means = {g.label: g.mean for g in messaging.shown_departments}
    assert min(means, key=means.get) == "Pharmacy"
    assert messaging.organisation.mean - means["Pharmacy"] > Decimal("1.5")

    drafts = [d for d in evaluate(InconsistentMessaging, today=timezone.localdate()) if d.key.startswith("survey:")]
    assert [d.subject_label for d in drafts] == ["Pharmacy"]

    pulse = Survey.objects.get(title=demo_surveys.PULSE_TITLE)
    assert pulse.state == SurveyState.OPEN
    employee = Employee.objects.get(user__username="employee")
    assert SurveyInvitation.objects.filter(survey=pulse, employee=employee, answered=False).exists()

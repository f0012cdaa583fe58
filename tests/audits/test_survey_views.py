"""The survey pages: who may open which (the person, their manager, an unrelated employee, HR, and a
quality lead), everyone's list and the answer form with its errors and thank-you, HR's definition
with its rows of statements, the state changes, the results with the floor, and bounded queries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audits.models import Survey, SurveyAnswer, SurveyInvitation, SurveyItem, SurveyResponse, SurveyState
from audits.selectors import surveys as read
from audits.services import surveys as services
from people.models import Employee
from tests.audits.helpers import answer, close, make_survey, people_in
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
NOT_HR = ("employee", "manager", "stranger", "quality")


def text(response) -> str:
    return response.content.decode()


def open_now(hr: Employee, **kwargs: object) -> Survey:
    survey = make_survey(hr, opens_on=timezone.localdate(), **kwargs)  # type: ignore[arg-type]
    return services.open_survey(survey=survey, notify=False)


def no_inline_style(html: str) -> None:
    assert not re.search(r"\sstyle=", html), "inline styles break the content security policy"
    assert "<script>" not in html and "<script " not in html.replace("<script src=", "")


def answers_of(survey: Survey) -> dict[str, str]:
    return {f"item_{item.pk}": "4" for item in SurveyItem.objects.filter(survey=survey)}


# ---------------------------------------------------------------- who may open what


def test_setting_up_a_survey_answers_403_to_everyone_but_hr(users, client_for):
    url = reverse("audits:survey_create")
    for who in NOT_HR:
        assert client_for(users[who]).get(url).status_code == 403, who
        assert client_for(users[who]).post(url, {"title": "Mine"}).status_code == 403, who
    assert client_for(users["hr"]).get(url).status_code == 200
    assert client_for(None).get(url).status_code == 302  # anonymous: sent to sign in


@pytest.mark.parametrize("name", ["survey_detail", "survey_edit", "survey_results"])
def test_a_survey_is_not_found_by_anyone_but_hr(users, name, client_for):
    """A survey is HR's record: outside anyone else's scope, so 404 (as in the API), not 403."""
    survey = make_survey(users["hr"])
    url = reverse(f"audits:{name}", args=[survey.pk])
    for who in NOT_HR:
        assert client_for(users[who]).get(url).status_code == 404, who
    assert client_for(users["hr"]).get(url).status_code == 200


def test_state_changes_are_not_found_by_anyone_but_hr(users, client_for):
    survey = make_survey(users["hr"])
    url = reverse("audits:survey_state", args=[survey.pk])
    for who in NOT_HR:
        assert client_for(users[who]).post(url, {"action": "schedule"}).status_code == 404, who
    survey.refresh_from_db()
    assert survey.state == SurveyState.DRAFT


def test_a_survey_hr_has_not_made_answers_404_to_hr(users, client_for):
    assert client_for(users["hr"]).get(reverse("audits:survey_detail", args=[999])).status_code == 404


def test_the_answer_page_is_404_to_anyone_not_asked(users, client_for):
    survey = open_now(users["hr"], departments=[users["employee"].department])
    url = reverse("audits:survey_answer", args=[survey.pk])
    for who in ("employee", "manager"):
        assert client_for(users[who]).get(url).status_code == 200, who
    for who in ("stranger", "hr", "quality"):
        assert client_for(users[who]).get(url).status_code == 404, who
        assert client_for(users[who]).post(url, answers_of(survey)).status_code == 404, who
    assert not SurveyResponse.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(users):
    survey = open_now(users["hr"])
    for url in (reverse("audits:survey_list"), reverse("audits:survey_answer", args=[survey.pk])):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"]


# ---------------------------------------------------------------- everyone's list


def test_everyone_sees_the_open_surveys_they_are_asked_to_answer(users, client_for):
    survey = open_now(users["hr"], departments=[users["employee"].department], title="Ward pulse")
    make_survey(users["hr"], title="A draft nobody sees")
    page = text(client_for(users["employee"]).get(reverse("audits:survey_list")))
    assert "Ward pulse" in page and reverse("audits:survey_answer", args=[survey.pk]) in page
    assert "A draft nobody sees" not in page and "All surveys" not in page
    stranger = text(client_for(users["stranger"]).get(reverse("audits:survey_list")))
    assert "Ward pulse" not in stranger and "No survey is waiting for you" in stranger
    answer(users["employee"], survey, 3, today=timezone.localdate())
    assert "You have answered" in text(client_for(users["employee"]).get(reverse("audits:survey_list")))


def test_hr_sees_every_survey_with_its_response_rate_never_who(users, client_for):
    survey = open_now(users["hr"], title="Everyone pulse")
    answer(users["employee"], survey, 3, today=timezone.localdate())
    make_survey(users["hr"], title="Next one")
    page = text(client_for(users["hr"]).get(reverse("audits:survey_list")))
    assert "Everyone pulse" in page and "Next one" in page and "Not sent yet" in page
    assert "17%" in page  # 1 of the 6 asked
    assert users["employee"].full_name not in page
    no_inline_style(page)


def test_the_hr_list_reads_a_fixed_number_of_queries(users, django_assert_max_num_queries, client_for):
    for n in range(3):
        open_now(users["hr"], title=f"Survey {n}")
    client = client_for(users["hr"])
    client.get(reverse("audits:survey_list"))
    with django_assert_max_num_queries(12):
        client.get(reverse("audits:survey_list"))
    for n in range(3, 9):
        open_now(users["hr"], title=f"Survey {n}")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("audits:survey_list")).status_code == 200


# ---------------------------------------------------------------- answering


def test_the_answer_form_has_five_labelled_answers_per_statement(users, client_for):
    survey = open_now(users["hr"])
    page = text(client_for(users["employee"]).get(reverse("audits:survey_answer", args=[survey.pk])))
    for label in ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"):
        assert label in page
    assert page.count('type="radio"') == 15 and page.count("required") >= 15
    assert page.count("<fieldset") == 3 and page.count("<legend>") == 3
    assert "anonymous" in page
    no_inline_style(page)


def test_a_missing_answer_is_named_and_nothing_is_stored(users, client_for):
    survey = open_now(users["hr"])
    data = answers_of(survey)
    missing = next(iter(data))
    data.pop(missing)
    response = client_for(users["employee"]).post(reverse("audits:survey_answer", args=[survey.pk]), data)
    assert response.status_code == 400
    page = text(response)
    assert "Choose an answer for this statement." in page and "Statement 1" in page
    assert 'value="4" id="id_item_' in page and "checked" in page  # what was chosen stays chosen
    assert not SurveyResponse.objects.exists()


def test_answering_thanks_the_person_and_shows_nothing_of_their_answers(users, client_for):
    survey = open_now(users["hr"])
    client = client_for(users["employee"])
    url = reverse("audits:survey_answer", args=[survey.pk])
    items = list(SurveyItem.objects.filter(survey=survey).order_by("position"))
    response = client.post(url, {f"item_{items[0].pk}": "1", f"item_{items[1].pk}": "2", f"item_{items[2].pk}": "5"})
    assert response.status_code == 302 and response["Location"] == url
    assert sorted(SurveyAnswer.objects.values_list("value", flat=True)) == [1, 2, 5]
    page = text(client.get(url))
    assert "Thank you" in page and 'type="radio"' not in page and "Strongly disagree" not in page
    # Answering again is refused and changes nothing.
    again = client.post(url, {f"item_{item.pk}": "3" for item in items})
    assert again.status_code == 409 and "Thank you" in text(again)
    assert sorted(SurveyAnswer.objects.values_list("value", flat=True)) == [1, 2, 5]


def test_a_closed_survey_takes_no_answers(users, client_for):
    survey = close(open_now(users["hr"]))
    url = reverse("audits:survey_answer", args=[survey.pk])
    assert "not open for answers" in text(client_for(users["employee"]).get(url))
    response = client_for(users["employee"]).post(url, answers_of(survey))
    assert response.status_code == 400 and not SurveyResponse.objects.exists()


# ---------------------------------------------------------------- definition


def _form_data(**overrides: object) -> dict[str, object]:
    today = timezone.localdate()
    data: dict[str, object] = {
        "title": "Spring survey",
        "introduction": "",
        "opens_on": (today + datetime.timedelta(days=3)).isoformat(),
        "closes_on": (today + datetime.timedelta(days=17)).isoformat(),
        "reminder_every_days": "5",
        "everyone": "1",
        "items-count": "3",
        "items-0-text": "QI is relevant to me.",
        "items-0-topic": "relevance",
        "items-1-text": "Leaders explain QI clearly.",
        "items-1-topic": "messaging",
        "items-2-text": "I have time for QI.",
        "items-2-topic": "time",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_the_new_survey_page_starts_with_the_three_seeded_statements(users, client_for):
    page = text(client_for(users["hr"]).get(reverse("audits:survey_create")))
    for statement, _ in services.SEEDED_ITEMS:
        assert statement in page
    assert 'name="items-count" value="3"' in page
    no_inline_style(page)


def test_row_buttons_add_move_and_remove_statements_without_saving(users, client_for):
    client = client_for(users["hr"])
    url = reverse("audits:survey_create")
    added = client.post(url, _form_data(action="add"))
    assert added.status_code == 200 and 'name="items-count" value="4"' in text(added)
    assert "Statement 4 was added" in text(added) and "field__error" not in text(added)
    moved = text(client.post(url, _form_data(action="down-0")))
    assert moved.index("Leaders explain QI clearly.") < moved.index("QI is relevant to me.")
    removed = text(client.post(url, _form_data(action="remove-1")))
    assert "Leaders explain QI clearly." not in removed and 'name="items-count" value="2"' in removed
    assert not Survey.objects.exists()


def test_hr_saves_a_new_survey_as_a_draft(users, cast, client_for):
    response = client_for(users["hr"]).post(
        reverse("audits:survey_create"),
        _form_data(**{"everyone": "0", "departments": [cast.employee.department.pk], "items-1-topic": "other"}),
    )
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("audits:survey_detail", args=[survey.pk])
    assert (survey.title, survey.state, survey.reminder_every_days) == ("Spring survey", SurveyState.DRAFT, 5)
    assert list(survey.departments.all()) == [cast.employee.department]
    assert list(survey.items.order_by("position").values_list("topic", flat=True)) == ["relevance", "other", "time"]


def test_the_definition_shows_its_errors_beside_the_fields(users, client_for):
    client = client_for(users["hr"])
    response = client.post(
        reverse("audits:survey_create"),
        _form_data(closes_on="2000-01-01", everyone="0", **{"items-1-text": ""}),
    )
    assert response.status_code == 400
    page = text(response)
    assert "The survey must close on or after the day it opens" in page
    assert "Choose at least one department, or ask everyone." in page
    assert "Write the statement people rate, or remove the row." in page
    assert not Survey.objects.exists()
    empty = client.post(reverse("audits:survey_create"), _form_data(**{"items-count": "0"}))
    assert empty.status_code == 400 and "Add at least one statement" in text(empty)


def test_an_open_survey_keeps_its_statements_but_may_be_renamed(users, client_for):
    survey = open_now(users["hr"])
    client = client_for(users["hr"])
    url = reverse("audits:survey_edit", args=[survey.pk])
    page = text(client.get(url))
    assert "items-count" not in page and "statements, who is asked and its opening date are fixed" in page
    data = _form_data(
        title="Renamed",
        version=str(survey.version),
        closes_on=survey.closes_on.isoformat(),
        **{"items-0-text": "Sneaked in"},
    )
    response = client.post(url, data)
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.title == "Renamed"
    assert not SurveyItem.objects.filter(text="Sneaked in").exists()


def test_a_stale_edit_answers_409_and_keeps_what_hr_typed(users, client_for):
    survey = make_survey(users["hr"])
    client = client_for(users["hr"])
    services.survey_update(user=users["hr"].user, survey=survey, expected_version=survey.version, data={"title": "X"})
    response = client.post(
        reverse("audits:survey_edit", args=[survey.pk]), _form_data(title="Mine", version=str(survey.version))
    )
    assert response.status_code == 409
    page = text(response)
    assert 'value="Mine"' in page and "someone else saved this survey" in page
    survey.refresh_from_db()
    assert survey.title == "X"


def test_a_closed_survey_cannot_be_edited(users, client_for):
    survey = close(open_now(users["hr"]))
    response = client_for(users["hr"]).get(reverse("audits:survey_edit", args=[survey.pk]))
    assert response.status_code == 302


# ---------------------------------------------------------------- the survey's page and its state


def test_the_survey_page_shows_counts_and_never_who(users, client_for):
    survey = open_now(users["hr"])
    answer(users["employee"], survey, 3, today=timezone.localdate())
    page = text(client_for(users["hr"]).get(reverse("audits:survey_detail", args=[survey.pk])))
    assert "People asked" in page and "<dd>6</dd>" in page and "<dd>1</dd>" in page and "17%" in page
    assert users["employee"].full_name not in page
    no_inline_style(page)


def test_hr_schedules_opens_after_confirming_and_closes(users, django_capture_on_commit_callbacks, client_for):
    from django.core import mail

    survey = make_survey(users["hr"], opens_on=timezone.localdate() + datetime.timedelta(days=2))
    client = client_for(users["hr"])
    url = reverse("audits:survey_state", args=[survey.pk])
    assert client.post(url, {"action": "schedule", "version": survey.version}).status_code == 302
    survey.refresh_from_db()
    assert survey.state == SurveyState.SCHEDULED
    confirm = client.post(url, {"action": "open", "version": survey.version})
    assert confirm.status_code == 200 and "6 people will be invited" in text(confirm)
    survey.refresh_from_db()
    assert survey.state == SurveyState.SCHEDULED
    with django_capture_on_commit_callbacks(execute=True):
        opened = client.post(url, {"action": "open", "confirmed": "1", "version": survey.version})
    assert opened.status_code == 302 and len(mail.outbox) == 6
    survey.refresh_from_db()
    assert survey.state == SurveyState.OPEN and SurveyInvitation.objects.filter(survey=survey).count() == 6
    stale = client.post(url, {"action": "close", "confirmed": "1", "version": survey.version - 1})
    assert stale.status_code == 409
    assert client.post(url, {"action": "close", "confirmed": "1", "version": survey.version}).status_code == 302
    survey.refresh_from_db()
    assert survey.state == SurveyState.CLOSED


def test_a_refused_state_change_says_why(users, client_for):
    survey = make_survey(users["hr"], departments=[DepartmentFactory(name="Nobody here")])
    response = client_for(users["hr"]).post(reverse("audits:survey_state", args=[survey.pk]), {"action": "schedule"})
    assert response.status_code == 400 and "no one to ask" in text(response)
    assert (
        client_for(users["hr"])
        .post(reverse("audits:survey_state", args=[survey.pk]), {"action": "explode"})
        .status_code
        == 400
    )


# ---------------------------------------------------------------- results


def test_results_wait_until_the_survey_has_closed(users, client_for):
    survey = open_now(users["hr"])
    page = text(client_for(users["hr"]).get(reverse("audits:survey_results", args=[survey.pk])))
    assert "Results are shown once the survey has closed" in page and "survey-bar" not in page


def test_results_show_bars_for_groups_of_five_and_hold_back_the_rest(users, cast, client_for):
    pharmacy = people_in(cast.stranger.department, 5)
    radiology = people_in(DepartmentFactory(name="Radiology"), 5)
    survey = open_now(users["hr"])
    today = timezone.localdate()
    for person in (cast.stranger, *pharmacy):
        answer(person, survey, [1, 2, 3], today=today)
    for person in radiology:
        answer(person, survey, 4, today=today)
    for person in (cast.chief, cast.manager, cast.employee):
        answer(person, survey, 5, today=today)
    close(survey)
    client = client_for(users["hr"])
    page = text(client.get(reverse("audits:survey_results", args=[survey.pk])))
    # Nursing's 3 answers (and HR's none) are under the floor; Radiology (5) is held back with them,
    # so that the organisation (14) minus Pharmacy (6) is 8 people, not Nursing's 3.
    assert page.count(read.FLOOR_MESSAGE) == 4  # Nursing and HR, in the table and in their sections
    assert page.count(escape(read.PROTECT_MESSAGE)) == 2
    assert "Whole organisation" in page and "(14)" in page and "Pharmacy" in page and "(6)" in page
    assert 'class="survey-seg survey-seg--1" x="0.00" y="0" width="100.00"' in page  # Pharmacy: all 1s
    assert "survey-seg--5" in page  # in the organisation's bars only
    no_inline_style(page)
    topic = text(client.get(reverse("audits:survey_results", args=[survey.pk]), {"topic": "messaging"}))
    assert services.SEEDED_ITEMS[1][0] in topic and services.SEEDED_ITEMS[0][0] not in topic

"""HR's review-cycle pages: who may open them, set-up and its refusals, the launch and its
progress, phase moves, closing, nudges, the exports, the history and the dashboard's figures."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from appraisals.models import (
    Appraisal,
    AppraisalState,
    CheckIn,
    CycleState,
    DevelopmentPlan,
    HistoryEntry,
    Participant,
    ParticipantOverride,
    Phase,
    ReviewCycle,
    ToDo,
    ToDoKind,
)
from appraisals.services import tallies
from competencies.models import AssignmentRule
from tests.appraisals.factories import (
    ParticipantWithRecordsFactory,
    PublishedFormVersionFactory,
    ReviewCycleFactory,
)
from tests.factories import DepartmentFactory, EmployeeFactory

# Cycles set up here review the organisation's open period (tests/appraisals/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("goal_period")]

ROLES = ("employee", "manager", "chief", "stranger", "hr")
D = datetime.date


def page_of(response) -> str:
    return response.content.decode()


def today() -> datetime.date:
    return timezone.localdate()


def form_data(**changes: object) -> dict[str, object]:
    """A valid set-up posted by the form: a year from 60 days ago, so that today falls in Do."""
    start = today() - datetime.timedelta(days=60)

    def day(offset: int) -> str:
        return (start + datetime.timedelta(days=offset)).isoformat()

    data: dict[str, object] = {
        "name": "Next review cycle",
        "methodology": "pdsa",
        "start": day(0),
        "end": day(364),
        "plan_start": day(0),
        "plan_end": day(40),
        "do_start": day(41),
        "do_end": day(150),
        "study_start": day(151),
        "study_end": day(250),
        "act_start": day(251),
        "act_end": day(364),
        "include_everyone": "1",
        "hired_on_or_before": "",
        "action": "save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(cycle: ReviewCycle, **changes: object) -> dict[str, object]:
    fields = ("name", "methodology", "start", "end")
    windows = tuple(f"{p}_{e}" for p in ("plan", "do", "study", "act") for e in ("start", "end"))
    data: dict[str, object] = {name: getattr(cycle, name) for name in (*fields, *windows)}
    data = {k: v.isoformat() if isinstance(v, datetime.date) else v for k, v in data.items()}
    data.update(include_everyone="1" if cycle.include_everyone else "0", version=cycle.version, action="save")
    data.update(changes)
    return data


@pytest.fixture
def form_version(db):
    """A published form every person gets by the default assignment rule."""
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    return version


@pytest.fixture
def team(cast):
    by_role = {role: getattr(cast, role) for role in ROLES}
    return by_role


@pytest.fixture
def setup_cycle(cast, form_version) -> ReviewCycle:
    return ReviewCycleFactory(name="Cycle being set up", state=CycleState.SETUP, phase=None, launched_at=None)


@pytest.fixture
def running(cast, form_version) -> ReviewCycle:
    """A 2026 cycle in Study: the employee's appraisal is with the manager, the others' not started."""
    cycle = ReviewCycleFactory(name="2026 performance cycle", phase=Phase.STUDY)
    for role in ("chief", "manager", "employee", "stranger"):
        state = AppraisalState.MANAGER_REVIEW if role == "employee" else AppraisalState.SELF_ASSESSMENT
        ParticipantWithRecordsFactory(
            cycle=cycle, employee=getattr(cast, role), form_version=form_version, records__appraisal_state=state
        )
    return cycle


def url_for(name: str, cycle: ReviewCycle) -> str:
    if name in ("cycle_list", "cycle_create"):
        return reverse(f"appraisals:{name}")
    return reverse(f"appraisals:{name}", args=[cycle.pk])


# ---------------------------------------------------------------- who may open what

HR_PAGES = [
    "cycle_list",
    "cycle_create",
    "cycle_detail",
    "cycle_edit",
    "launch_progress",
    "participants_add",
    "history",
    "export_csv",
    "export_xlsx",
]


@pytest.mark.parametrize("name", HR_PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_each_hr_page_answers_403_to_everyone_but_hr(client_for, team, running, name, role):
    response = client_for(team[role]).get(url_for(name, running))
    assert response.status_code == (200 if role == "hr" else 403)
    if role != "hr":
        assert "Only HR admins may set up and run review cycles." in response.content.decode()


@pytest.mark.parametrize("name", ["cycle_launch", "phase_move", "cycle_close", "nudge", "participants_add"])
@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_hr_actions_answer_403_to_others_and_change_nothing(client_for, team, running, name, role):
    data = {"phase": "act", "confirmed": "1", "everyone": "1", "employees": [team["employee"].pk]}
    response = client_for(team[role]).post(url_for(name, running), data)
    assert response.status_code == 403
    running.refresh_from_db()
    assert (running.state, running.phase) == (CycleState.ACTIVE, Phase.STUDY)


@pytest.mark.parametrize("name", ["cycle_list", "cycle_detail", "history"])
def test_anonymous_visitors_are_sent_to_sign_in(client, running, name):
    response = client.get(url_for(name, running))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_missing_cycle_is_404_for_hr_too(client_for, team):
    assert client_for(team["hr"]).get(reverse("appraisals:cycle_detail", args=[999_999])).status_code == 404


def test_the_cycle_list_shows_state_methodology_phase_dates_participants_and_completion(
    client_for, team, running, setup_cycle
):
    Appraisal.objects.filter(participant__cycle=running, participant__employee=team["stranger"]).update(
        state=AppraisalState.ACKNOWLEDGED, acknowledged_at=timezone.now()
    )
    tallies.rebuild(running.pk)  # changed behind the services' back, as rebuild_cycle_tallies would fix
    page = page_of(client_for(team["hr"]).get(reverse("appraisals:cycle_list")))
    assert "2026 performance cycle" in page and "Cycle being set up" in page
    assert "Running" in page and "Being set up" in page
    assert "PDSA (plan, do, study, act)" in page
    assert "Study: performance review" in page
    assert "1 Jan 2026 – 31 Dec 2026" in page
    assert '<td class="num">4</td>' in page
    assert "25%" in page and "1 of 4 appraisals acknowledged" in page
    assert "Not launched" in page


# ---------------------------------------------------------------- set-up


def test_hr_creates_a_cycle_for_chosen_departments_with_exclusions(client_for, team):
    nursing = team["employee"].department
    data = form_data(include_everyone="0", departments=[nursing.pk], excluded=[team["chief"].pk])
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_create"), data)
    cycle = ReviewCycle.objects.get(name="Next review cycle")
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisals:cycle_detail", args=[cycle.pk])
    assert cycle.state == CycleState.SETUP and not cycle.include_everyone
    assert list(cycle.departments.all()) == [nursing]
    assert list(cycle.excluded.all()) == [team["chief"]]


def test_the_form_labels_the_phases_by_methodology(client_for, team, setup_cycle):
    ReviewCycle.objects.filter(pk=setup_cycle.pk).update(methodology="dmaic")
    page = page_of(client_for(team["hr"]).get(reverse("appraisals:cycle_edit", args=[setup_cycle.pk])))
    assert "Define &amp; Measure (Plan)" in page and "Control (Act)" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        # overlapping: Do starts on the day Plan ends
        ({"do_start": "plan_end"}, "do_start", "overlaps the Plan window"),
        # out of order: the Do and Study windows swapped
        (
            {"do_start": "study_start", "do_end": "study_end", "study_start": "do_start", "study_end": "do_end"},
            "study_start",
            "starts before the Do window",
        ),
        # outside the cycle: Act ends after the cycle
        ({"act_end": "after_end"}, "act_end", "ends after the cycle does"),
        # a window ending before it starts
        ({"plan_end": "before_plan_start"}, "plan_end", "must end on or after the day it starts"),
    ],
)
def test_phase_windows_out_of_order_overlapping_or_outside_are_refused_beside_the_field(
    client_for, team, changes, field, message
):
    data = form_data()
    end = datetime.date.fromisoformat(data["end"])
    plan_start = datetime.date.fromisoformat(data["plan_start"])
    special = {
        "after_end": (end + datetime.timedelta(days=5)).isoformat(),
        "before_plan_start": (plan_start - datetime.timedelta(days=1)).isoformat(),
    }
    original = dict(data)
    for name, source in changes.items():
        data[name] = special.get(source) or original[source]
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_create"), data)
    page = page_of(response)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in page
    assert message in page
    assert 'value="Next review cycle"' in page  # the input is kept
    assert not ReviewCycle.objects.filter(name="Next review cycle").exists()


def test_choosing_departments_without_naming_one_is_refused(client_for, team):
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_create"), form_data(include_everyone="0"))
    assert response.status_code == 400
    assert 'id="id_departments_error"' in page_of(response)


def test_the_people_search_offers_matches_to_exclude(client_for, team):
    response = client_for(team["hr"]).get(
        reverse("appraisals:cycle_create"), {"find": "ward"}, headers={"HX-Request": "true"}
    )
    page = page_of(response)
    assert response.status_code == 200
    assert f'name="excluded" value="{team["manager"].pk}"' in page
    assert "Pharmacist" not in page
    assert "<html" not in page  # a partial


def test_the_people_search_works_without_javascript_and_keeps_the_form(client_for, team):
    data = form_data(name="Typed so far", action="find", find="Pharm", excluded=[team["chief"].pk])
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_create"), data)
    page = page_of(response)
    assert response.status_code == 200
    assert 'value="Typed so far"' in page
    assert f'name="excluded" value="{team["stranger"].pk}">' in page  # offered, not ticked
    assert f'name="excluded" value="{team["chief"].pk}" checked>' in page  # still ticked
    assert not ReviewCycle.objects.exists()


def test_editing_a_cycle_saves_and_bumps_its_version(client_for, team, setup_cycle):
    response = client_for(team["hr"]).post(
        reverse("appraisals:cycle_edit", args=[setup_cycle.pk]), edit_data(setup_cycle, name="Renamed cycle")
    )
    assert response.status_code == 302
    setup_cycle.refresh_from_db()
    assert setup_cycle.name == "Renamed cycle" and setup_cycle.version == 2


def test_a_stale_edit_answers_409_and_keeps_what_was_typed(client_for, team, setup_cycle):
    stale = edit_data(setup_cycle, name="My new name", act_end="2026-12-30")
    ReviewCycle.objects.filter(pk=setup_cycle.pk).update(name="Their new name", version=7)
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_edit", args=[setup_cycle.pk]), stale)
    page = page_of(response)
    assert response.status_code == 409
    assert "someone else saved this cycle" in page
    assert 'value="My new name"' in page and 'value="2026-12-30"' in page  # what HR typed
    assert "Their new name" in page  # what is saved now, beside it
    assert 'name="version" value="7"' in page
    assert ReviewCycle.objects.get(pk=setup_cycle.pk).name == "Their new name"


def test_once_launched_only_the_name_changes(client_for, team, running):
    data = edit_data(running, name="Renamed while running", act_end="2026-12-01")
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_edit", args=[running.pk]), data)
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.name == "Renamed while running" and running.act_end == D(2026, 12, 31)


def test_hr_adds_and_removes_a_per_person_override(client_for, team, setup_cycle):
    other_form = PublishedFormVersionFactory()
    client = client_for(team["hr"])
    url = reverse("appraisals:cycle_edit", args=[setup_cycle.pk])
    response = client.post(
        url,
        {
            "action": "override_add",
            "override-employee": team["employee"].employee_id,
            "override-form_version": other_form.pk,
            "override-reviewer": "Chief Nurse",
        },
    )
    assert response.status_code == 302
    override = ParticipantOverride.objects.get(cycle=setup_cycle)
    assert (override.employee, override.form_version, override.reviewer) == (
        team["employee"],
        other_form,
        team["chief"],
    )
    page = page_of(client.get(url))
    assert "Staff Nurse" in page and other_form.form.name in page and "Chief Nurse" in page
    response = client.post(url, {"action": "override_remove", "employee": team["employee"].pk})
    assert response.status_code == 302
    assert not ParticipantOverride.objects.exists()


def test_an_override_for_an_unknown_person_or_naming_nothing_is_refused(client_for, team, setup_cycle):
    client = client_for(team["hr"])
    url = reverse("appraisals:cycle_edit", args=[setup_cycle.pk])
    response = client.post(url, {"action": "override_add", "override-employee": "Nobody Atall"})
    assert response.status_code == 400
    assert "No active person has the employee ID or name" in page_of(response)
    response = client.post(url, {"action": "override_add", "override-employee": "Staff Nurse"})
    assert response.status_code == 400
    assert "Choose a form, a reviewer or both" in page_of(response)
    response = client.post(
        url, {"action": "override_add", "override-employee": "Staff Nurse", "override-reviewer": "Staff Nurse"}
    )
    assert response.status_code == 400
    assert "cannot review their own appraisal" in page_of(response)


def test_the_launch_preview_counts_people_and_names_those_without_a_form_or_reviewer(client_for, team, setup_cycle):
    AssignmentRule.objects.all().delete()
    page = page_of(client_for(team["hr"]).get(reverse("appraisals:cycle_detail", args=[setup_cycle.pk])))
    assert "Launch preview" in page
    assert '<span class="preview-figure__n">5</span> people take part' in page
    assert '<span class="preview-figure__n">5</span> without a form' in page
    assert "The launch is blocked" in page and "Pharmacist" in page
    response = client_for(team["hr"]).post(reverse("appraisals:cycle_launch", args=[setup_cycle.pk]))
    assert response.status_code == 400
    assert "have no appraisal form" in page_of(response)
    assert ReviewCycle.objects.get(pk=setup_cycle.pk).state == CycleState.SETUP


# ---------------------------------------------------------------- launch


def test_launch_runs_to_the_end_and_the_progress_page_shows_it(
    client_for, team, form_version, django_capture_on_commit_callbacks
):
    client = client_for(team["hr"])
    client.post(reverse("appraisals:cycle_create"), form_data())
    cycle = ReviewCycle.objects.get(name="Next review cycle")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("appraisals:cycle_launch", args=[cycle.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("appraisals:launch_progress", args=[cycle.pk])
    cycle.refresh_from_db()
    assert cycle.state == CycleState.ACTIVE and cycle.phase == Phase.DO
    assert Participant.objects.filter(cycle=cycle).count() == 5
    assert Appraisal.objects.filter(participant__cycle=cycle).count() == 5
    assert CheckIn.objects.filter(participant__cycle=cycle).count() == 5
    assert DevelopmentPlan.objects.filter(participant__cycle=cycle).count() == 5
    page = page_of(client.get(response["Location"]))
    assert "<progress" in page and 'value="100"' in page and "5 of 5 people" in page
    partial = page_of(client.get(response["Location"], headers={"HX-Request": "true"}))
    assert "<html" not in partial and "hx-trigger" not in partial  # done: the page stops polling
    # Launching again creates nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("appraisals:cycle_launch", args=[cycle.pk]))
    assert again.status_code == 400 and "launched already" in page_of(again)
    assert Participant.objects.filter(cycle=cycle).count() == 5


def test_the_progress_partial_keeps_polling_while_launching_and_shows_errors(client_for, team, setup_cycle):
    client = client_for(team["hr"])
    url = reverse("appraisals:launch_progress", args=[setup_cycle.pk])
    ReviewCycle.objects.filter(pk=setup_cycle.pk).update(state=CycleState.LAUNCHING, launch_total=8, launch_done=2)
    partial = page_of(client.get(url, headers={"HX-Request": "true"}))
    assert 'hx-trigger="every 1s"' in partial
    assert 'value="25"' in partial and "2 of 8 people" in partial
    detail = page_of(client.get(reverse("appraisals:cycle_detail", args=[setup_cycle.pk])))
    assert 'hx-trigger="every 1s"' in detail  # the cycle's page follows the launch too
    ReviewCycle.objects.filter(pk=setup_cycle.pk).update(launch_error="The launch stopped (OperationalError).")
    partial = page_of(client.get(url, headers={"HX-Request": "true"}))
    assert "hx-trigger" not in partial
    assert "The launch stopped (OperationalError)." in partial and 'role="alert"' in partial


def test_hr_adds_a_new_starter_to_a_running_cycle(client_for, team, running, django_capture_on_commit_callbacks):
    starter = EmployeeFactory(full_name="New Starter", department=team["employee"].department, manager=team["manager"])
    client = client_for(team["hr"])
    url = reverse("appraisals:participants_add", args=[running.pk])
    page = page_of(client.get(url))
    assert "New Starter" in page and "HR Admin" in page  # HR Admin is not in the cycle either
    assert "Staff Nurse" not in page  # already in it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"employees": [starter.pk]})
    assert response.status_code == 302
    participant = Participant.objects.get(cycle=running, employee=starter)
    assert participant.reviewer == team["manager"]
    assert Appraisal.objects.filter(participant=participant).exists()
    assert client.post(url, {}).status_code == 400  # nobody ticked


# ---------------------------------------------------------------- phases and closing


def test_moving_the_phase_asks_first_then_moves(client_for, team, running, django_capture_on_commit_callbacks):
    client = client_for(team["hr"])
    url = reverse("appraisals:phase_move", args=[running.pk])
    confirm = client.post(url, {"phase": "do"})
    assert confirm.status_code == 200
    assert "back" in page_of(confirm) and 'name="confirmed"' in page_of(confirm)
    assert ReviewCycle.objects.get(pk=running.pk).phase == Phase.STUDY
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"phase": "act", "confirmed": "True"})
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.phase == Phase.ACT
    assert HistoryEntry.objects.filter(cycle=running, field="phase", old="study", new="act").exists()
    assert ToDo.objects.filter(cycle=running, kind=ToDoKind.DEVELOPMENT_PLAN).exists()


def test_moving_to_the_current_phase_is_refused(client_for, team, running):
    response = client_for(team["hr"]).post(
        reverse("appraisals:phase_move", args=[running.pk]), {"phase": "study", "confirmed": "True"}
    )
    assert response.status_code == 400
    assert "already" in page_of(response)


def test_closing_asks_first_then_locks_every_appraisal(client_for, team, running):
    client = client_for(team["hr"])
    url = reverse("appraisals:cycle_close", args=[running.pk])
    confirm = page_of(client.post(url))
    assert "Close 2026 performance cycle?" in confirm and "4 appraisals are not yet acknowledged" in confirm
    assert ReviewCycle.objects.get(pk=running.pk).state == CycleState.ACTIVE
    response = client.post(url, {"confirmed": "1"})
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.state == CycleState.CLOSED and running.closed_at is not None
    assert set(Appraisal.objects.filter(participant__cycle=running).values_list("state", flat=True)) == {
        AppraisalState.LOCKED
    }
    page = page_of(client.get(reverse("appraisals:cycle_detail", args=[running.pk])))
    assert (
        "Close cycle" not in page
        and '<span class="state-count__n">4</span> <span class="state-count__label">Locked' in page
    )
    assert client.post(url, {"confirmed": "1"}).status_code == 400  # closed already


# ---------------------------------------------------------------- the dashboard


@pytest.fixture
def late(team, running) -> ToDo:
    """The manager's overdue review of the employee."""
    participant = Participant.objects.get(cycle=running, employee=team["employee"])
    return ToDo.objects.create(
        employee=team["manager"],
        cycle=running,
        participant=participant,
        kind=ToDoKind.MANAGER_REVIEW,
        due=today() - datetime.timedelta(days=5),
    )


def test_the_dashboard_counts_people_per_state_and_department(client_for, team, running, late):
    pharmacy = team["stranger"].department
    Appraisal.objects.filter(participant__employee=team["stranger"]).update(
        state=AppraisalState.ACKNOWLEDGED, acknowledged_at=timezone.now()
    )
    CheckIn.objects.filter(participant__employee=team["employee"]).update(completed_at=timezone.now())
    DevelopmentPlan.objects.filter(participant__employee=team["chief"]).update(agreed_at=timezone.now())
    tallies.rebuild(running.pk)  # changed behind the services' back, as rebuild_cycle_tallies would fix
    page = page_of(client_for(team["hr"]).get(reverse("appraisals:cycle_detail", args=[running.pk])))
    assert '<span class="state-count__n">2</span> <span class="state-count__label">Self-assessment' in page
    assert '<span class="state-count__n">1</span> <span class="state-count__label">Manager review' in page
    assert '<span class="state-count__n">1</span> <span class="state-count__label">Acknowledged' in page
    assert "<dt>Check-ins held</dt><dd>1</dd>" in page
    assert "<dt>Development plans agreed</dt><dd>1</dd>" in page
    assert "1 of 4 appraisals acknowledged" in page and "25%" in page
    nursing = page.split("<td>Nursing</td>")[1].split("</tr>")[0]
    assert '<td class="num">3</td><td class="num">0</td>' in nursing
    pharmacy_row = page.split(f"<td>{pharmacy.name}</td>")[1].split("</tr>")[0]
    assert '<td class="num">1</td><td class="num">1</td>' in pharmacy_row and "100%" in pharmacy_row


def test_the_dashboard_lists_the_late(client_for, team, running, late):
    # The Do phase gave the staff nurse a check-in (ticked by hand, never held); the others were
    # given none, as if the cycle had been launched after Do: they are not late for it.
    nurse = Participant.objects.get(cycle=running, employee=team["employee"])
    ToDo.objects.create(
        employee=team["employee"],
        cycle=running,
        participant=nurse,
        kind=ToDoKind.CHECK_IN,
        due=today() - datetime.timedelta(days=60),
        done_at=timezone.now(),
    )
    page = page_of(client_for(team["hr"]).get(reverse("appraisals:cycle_detail", args=[running.pk])))
    late_part = page.split('id="late"')[1]
    assert "1 overdue to-do" in late_part
    assert "Ward Manager" in late_part and "Review your team member" in late_part and "for Staff Nurse" in late_part
    # In Study, whoever was given the check-in (the Do phase's task) and did not hold it is behind.
    assert "1 person behind the phase" in late_part
    assert "Check-in not held" in late_part


def test_nudging_the_ticked_emails_them_and_records_the_reminder(client_for, team, running, late):
    client = client_for(team["hr"])
    response = client.post(reverse("appraisals:nudge", args=[running.pk]), {"todo": [late.pk]})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [team["manager"].user.email]
    late.refresh_from_db()
    assert late.last_reminded_at is not None
    response = client.post(reverse("appraisals:nudge", args=[running.pk]), {})
    assert response.status_code == 302 and len(mail.outbox) == 1  # nobody ticked: nothing sent


def test_nudging_ids_past_64_bits_or_not_digits_nudges_nobody_and_does_not_fail(client_for, team, running, late):
    ticked = {"todo": [str(2**64), "²", "-1"], "participant": [str(10**30)]}
    response = client_for(team["hr"]).post(reverse("appraisals:nudge", args=[running.pk]), ticked)
    assert response.status_code == 302 and mail.outbox == []


def test_nudging_everyone_late(client_for, team, running, late):
    client_for(team["hr"]).post(reverse("appraisals:nudge", args=[running.pk]), {"everyone": "1"})
    assert [m.to for m in mail.outbox] == [[team["manager"].user.email]]


def test_the_dashboard_issues_the_same_number_of_queries_for_three_times_the_people(
    client_for, team, running, form_version
):
    client = client_for(team["hr"])
    url = reverse("appraisals:cycle_detail", args=[running.pk])

    def grow(times: int) -> None:
        for index in range(times):
            department = DepartmentFactory(name=f"Ward {Participant.objects.count()}-{index}")
            person = EmployeeFactory(department=department, manager=team["manager"])
            participant = ParticipantWithRecordsFactory(cycle=running, employee=person, form_version=form_version)
            ToDo.objects.create(
                employee=person,
                cycle=running,
                participant=participant,
                kind=ToDoKind.SELF_ASSESSMENT,
                due=today() - datetime.timedelta(days=1),
            )

    grow(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(12)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


# ---------------------------------------------------------------- exports and history


@pytest.fixture
def scored(team, running):
    breakdown = {"sections": {"goals": {"score": "75.00"}, "competencies": {"score": "50.00"}}}
    Appraisal.objects.filter(participant__employee=team["employee"]).update(
        state=AppraisalState.ACKNOWLEDGED,
        acknowledged_at=timezone.make_aware(datetime.datetime(2026, 9, 20, 10, 0)),
        score=Decimal("65.00"),
        score_breakdown=breakdown,
        employee_comment="Fair, thank you.",
    )
    return running


def test_the_csv_export_has_a_row_per_person_with_scores(client_for, team, scored):
    response = client_for(team["hr"]).get(reverse("appraisals:export_csv", args=[scored.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="2026-performance-cycle-results.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:10] == [
        "Employee ID",
        "Person",
        "Department",
        "Reviewer",
        "Form",
        "State",
        "Score",
        "Goals score",
        "Competencies score",
        "Acknowledged",
    ]
    assert len(rows) == 5
    mine = next(r for r in rows if r[1] == "Staff Nurse")
    assert mine[2:] == [
        "Nursing",
        "Ward Manager",
        mine[4],
        "Acknowledged",
        "65.00",
        "75.00",
        "50.00",
        "2026-09-20",
        "Fair, thank you.",
    ]
    assert mine[4].endswith(" v1")


def test_the_xlsx_export_has_the_same_rows_with_numbers_as_numbers(client_for, team, scored):
    response = client_for(team["hr"]).get(reverse("appraisals:export_xlsx", args=[scored.pk]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Person" and len(rows) == 5
    mine = next(r for r in rows if r[1] == "Staff Nurse")
    assert mine[6] == 65 and mine[7] == 75 and mine[8] == 50
    assert mine[9].date() == D(2026, 9, 20)


def test_the_history_lists_every_change_with_who_and_old_and_new_and_filters_by_person(client_for, team, running):
    mine = Participant.objects.get(cycle=running, employee=team["employee"])
    theirs = Participant.objects.get(cycle=running, employee=team["stranger"])
    HistoryEntry.objects.create(
        cycle=running,
        participant=mine,
        record="goal rating 12",
        action="saved",
        field="manager_rating",
        old="3",
        new="4",
        actor=team["manager"].user,
    )
    HistoryEntry.objects.create(
        cycle=running,
        participant=theirs,
        record="appraisal",
        action="submitted",
        field="self_submitted_at",
        old=None,
        new="2026-09-20T10:00:00+00:00",
        actor=None,
    )
    client = client_for(team["hr"])
    page = page_of(client.get(reverse("appraisals:history", args=[running.pk])))
    assert "Ward Manager" in page and "manager_rating" in page and "goal rating 12" in page
    assert "Throughline (scheduled)" in page
    assert ">3</td>" in page and ">4</td>" in page
    assert "20 Sep 2026, " in page and "2026-09-20T10" not in page  # a timestamp reads as a date
    only_mine = page_of(client.get(reverse("appraisals:history", args=[running.pk]), {"participant": mine.pk}))
    assert "manager_rating" in only_mine and "Pharmacist" not in only_mine
    by_name = page_of(client.get(reverse("appraisals:history", args=[running.pk]), {"q": "pharm"}))
    assert "submitted" in by_name and "manager_rating" not in by_name


# ---------------------------------------------------------------- the home page


def test_the_home_page_shows_the_persons_open_todos_and_hr_the_current_cycle(client_for, team, running, late):
    page = page_of(client_for(team["manager"]).get(reverse("home")))
    todos = page.split('id="todos-title"')[1].split("</section>")[0]
    assert "Review your team member: Staff Nurse" in todos and "overdue since" in todos
    hr_page = page_of(client_for(team["hr"]).get(reverse("home")))
    card = hr_page.split('id="hr-cycles"')[1].split("</section>")[0]
    assert "2026 performance cycle" in card and "Study: performance review" in card
    assert "0 of 4 appraisals acknowledged" in card
    assert 'id="hr-cycles"' not in page_of(client_for(team["employee"]).get(reverse("home")))


def test_pages_carry_no_inline_script_or_style(client_for, team, running, setup_cycle, late):
    client = client_for(team["hr"])
    for url in (
        reverse("appraisals:cycle_list"),
        reverse("appraisals:cycle_create"),
        reverse("appraisals:cycle_detail", args=[running.pk]),
        reverse("appraisals:cycle_detail", args=[setup_cycle.pk]),
        reverse("appraisals:cycle_edit", args=[setup_cycle.pk]),
        reverse("appraisals:history", args=[running.pk]),
        reverse("appraisals:launch_progress", args=[running.pk]),
        reverse("appraisals:participants_add", args=[running.pk]),
    ):
        page = page_of(client.get(url))
        assert " style=" not in page
        assert "<script>" not in page

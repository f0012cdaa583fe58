"""The cycle's summary rows: what HR's dashboard, the cycle list and the home page count from.
A change made through a service shows at once; changes at the same moment lose no count; the
rebuild command recounts what was changed behind the services' back; the dashboard reads a
fixed number of queries however many take part."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appraisals.models import CheckIn, CycleTally, Participant, Phase, ReviewCycle
from appraisals.selectors import cycles as cycle_selectors
from appraisals.services import checkins, cycles, tallies
from cascade.models import GoalPeriod
from competencies.models import AssignmentRule
from tests.appraisals.factories import PublishedFormVersionFactory, data_around_today
from tests.factories import EmployeeFactory

TODAY = datetime.date.today()


@pytest.fixture
def form(db):
    version = PublishedFormVersionFactory()
    AssignmentRule.objects.create(form=version.form, is_default=True)
    day = datetime.timedelta(days=1)
    GoalPeriod.objects.create(name="This year", start=TODAY - 200 * day, end=TODAY + 200 * day, is_default=True)
    return version


def launch(cast, phase: str = Phase.DO) -> ReviewCycle:
    cycle = cycles.cycle_create(user=cast.hr.user, data={**data_around_today(phase), "name": "Tallied"})
    cycles.cycle_launch(user=cast.hr.user, cycle=cycle)
    return cycles.run_launch(cycle.pk, notify=False)


def held(cycle: ReviewCycle) -> int:
    return cycle_selectors.dashboard(cycle).counts["do"]


def test_a_launch_counts_everyone_per_department(cast, form):
    cycle = launch(cast)
    rows = {t.department.name: t.participants for t in CycleTally.objects.filter(cycle=cycle)}
    assert rows == {"Nursing": 3, "Pharmacy": 1, "HR": 1}
    board = cycle_selectors.dashboard(cycle)
    assert board.total == 5
    assert {s.state: s.count for s in board.states}["draft"] == 5


def test_a_check_in_completed_shows_on_the_dashboard_at_once(cast, form, client_for):
    cycle = launch(cast)
    check_in = CheckIn.objects.get(participant__cycle=cycle, participant__employee=cast.employee)
    checkins.checkin_complete(user=cast.manager.user, check_in=check_in, expected_version=check_in.version)
    assert held(cycle) == 1
    page = client_for(cast.hr).get(reverse("appraisals:cycle_detail", args=[cycle.pk])).content.decode()
    assert "<dt>Check-ins held</dt><dd>1</dd>" in page
    assert "1 of 5 check-ins held" in page


def test_the_home_page_and_the_cycle_list_read_the_same_counts(cast, form, client_for):
    cycle = launch(cast)
    check_in = CheckIn.objects.get(participant__cycle=cycle, participant__employee=cast.employee)
    checkins.checkin_complete(user=cast.manager.user, check_in=check_in, expected_version=check_in.version)
    card = cycle_selectors.cycle_card(cycle)
    assert (card.participants, card.completion.done, card.completion.percent) == (5, 1, 20)
    [row] = [r for r in cycle_selectors.cycle_rows() if r.cycle.pk == cycle.pk]
    assert (row.participants, row.completion.done) == (5, 1)


def test_the_rebuild_command_recounts_records_changed_behind_the_services_back(cast, form):
    cycle = launch(cast)
    CheckIn.objects.filter(participant__cycle=cycle).update(completed_at=timezone.now())
    assert held(cycle) == 0  # the summary rows do not know yet
    call_command("rebuild_cycle_tallies", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert held(cycle) == 5


def test_a_person_added_to_a_running_cycle_is_counted(cast, form):
    cycle = launch(cast)
    newcomer = EmployeeFactory(full_name="New Starter", department=cast.stranger.department)
    cycles.participants_add(user=cast.hr.user, cycle=cycle, employees=[newcomer])
    assert cycle_selectors.dashboard(cycle).total == 6
    assert CycleTally.objects.get(cycle=cycle, department=cast.stranger.department).participants == 2


def test_the_dashboard_reads_a_fixed_number_of_queries_however_many_take_part(
    cast, form, django_assert_max_num_queries
):
    small = launch(cast)
    with CaptureQueriesContext(connection) as few:
        cycle_selectors.dashboard(small)
    for n in range(12):
        EmployeeFactory(full_name=f"Extra {n}", department=cast.stranger.department, manager=cast.stranger)
    ReviewCycle.objects.filter(pk=small.pk).update(name="Old")
    big = launch(cast)
    assert Participant.objects.filter(cycle=big).count() == 17
    with django_assert_max_num_queries(len(few)):
        cycle_selectors.dashboard(big)


@pytest.mark.django_db(transaction=True)
def test_check_ins_completed_at_the_same_moment_lose_no_count(cast, form):
    """Each thread completes a different person's check-in in the same department and, with its
    change not yet committed, recounts: without the row lock each recount would see only its own
    change and the last to write would win."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    for n in range(6):
        EmployeeFactory(full_name=f"Nurse {n}", department=cast.employee.department, manager=cast.manager)
    cycle = launch(cast)
    ids = list(
        CheckIn.objects.filter(participant__cycle=cycle, participant__reviewer=cast.manager).values_list(
            "pk", "participant_id"
        )
    )
    assert len(ids) == 7
    changed = threading.Barrier(len(ids))
    failures: list[BaseException] = []

    def complete(check_in_id: int, participant_id: int) -> None:
        try:
            with transaction.atomic():
                CheckIn.objects.filter(pk=check_in_id).update(completed_at=timezone.now())
                changed.wait(timeout=30)  # every change made, none committed
                tallies.refresh_for(participant_id)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=pair) for pair in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert held(cycle) == 7


def test_a_check_in_completed_through_the_service_is_counted_once(cast, form):
    cycle = launch(cast)
    for person in (cast.employee, cast.manager):
        check_in = CheckIn.objects.get(participant__cycle=cycle, participant__employee=person)
        reviewer = person.manager
        checkins.checkin_complete(user=reviewer.user, check_in=check_in, expected_version=check_in.version)
    assert CycleTally.objects.get(cycle=cycle, department=cast.employee.department).check_ins_held == 2
    assert held(cycle) == 2


def test_a_recount_of_one_department_leaves_the_others_alone(cast, form):
    cycle = launch(cast)
    CheckIn.objects.filter(participant__employee=cast.stranger).update(completed_at=timezone.now())
    tallies.refresh_for(Participant.objects.get(cycle=cycle, employee=cast.employee))
    assert held(cycle) == 0  # pharmacy was not recounted
    tallies.refresh_departments(cycle.pk, [cast.stranger.department_id])
    assert held(cycle) == 1

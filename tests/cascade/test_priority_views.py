"""Pages for priorities and measures: who sees and changes what, the forms' refusals,
observation entry, the charts and the goal tree."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cascade.models import (
    Approval,
    Direction,
    Observation,
    ProgressMode,
    QualityMeasure,
    QualityPriority,
)
from tests.cascade.factories import (
    FunctionalGoalFactory,
    IndividualGoalFactory,
    ObservationFactory,
    QualityMeasureFactory,
    QualityPriorityFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("employee", "manager", "chief", "stranger", "hr", "lead")


@pytest.fixture
def people(cast, quality_lead):
    """The cast plus the quality lead, by role name; the chief heads Nursing."""
    nursing = cast.chief.department
    nursing.head = cast.chief
    nursing.save(update_fields=["head"])
    return {**{role: getattr(cast, role) for role in ROLES[:5]}, "lead": quality_lead}


@pytest.fixture
def measure(people, priority) -> QualityMeasure:
    """Lower is better: administration errors per 1,000 doses, from 8 towards 4, owned by Nursing."""
    return QualityMeasureFactory(
        priority=priority,
        name="Administration errors",
        unit="per 1,000 doses",
        direction=Direction.DOWN,
        baseline=Decimal("8"),
        target=Decimal("4"),
        department=people["chief"].department,
    )


def page_of(response) -> str:
    return response.content.decode()


def priority_form(priority: QualityPriority | None = None, **changes) -> dict[str, object]:
    data = {
        "title": "Reduce patient falls",
        "aim": "Halve inpatient falls with harm by December 2026.",
        "methodology": "pdsa",
        "owner": priority.owner_id if priority else "",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "status": "active",
    }
    if priority is not None:
        data.update(title=priority.title, aim=priority.aim, version=priority.version)
    data.update(changes)
    return data


def measure_form(measure: QualityMeasure | None = None, **changes) -> dict[str, object]:
    data = {
        "name": "Falls with harm",
        "description": "",
        "measure_type": "outcome",
        "direction": "down",
        "unit": "per 1,000 bed days",
        "baseline": "3.2",
        "target": "1.6",
        "frequency": "monthly",
    }
    if measure is not None:
        data.update(
            priority=measure.priority_id,
            department=measure.department_id,
            name=measure.name,
            direction=measure.direction,
            unit=measure.unit,
            baseline=str(measure.baseline),
            target=str(measure.target),
            version=measure.version,
        )
    data.update(changes)
    return data


# ---------------------------------------------------------------- who may see and change what

EVERYONE = dict.fromkeys(ROLES, 200)
MANAGERS_OF_PRIORITIES = {**dict.fromkeys(ROLES, 403), "hr": 200, "lead": 200}
RECORDERS = {**MANAGERS_OF_PRIORITIES, "chief": 200}  # the chief heads the measure's department


def url_for(name: str, priority: QualityPriority, measure: QualityMeasure) -> str:
    args = {
        "priority_detail": [priority.pk],
        "priority_edit": [priority.pk],
        "priority_tree": [priority.pk],
        "measure_detail": [measure.pk],
        "measure_edit": [measure.pk],
        "observation_import": [measure.pk],
    }.get(name, [])
    return reverse(f"cascade:{name}", args=args)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("priority_list", EVERYONE),
        ("priority_detail", EVERYONE),
        ("priority_tree", EVERYONE),
        ("measure_detail", EVERYONE),
        ("priority_create", MANAGERS_OF_PRIORITIES),
        ("priority_edit", MANAGERS_OF_PRIORITIES),
        ("measure_create", MANAGERS_OF_PRIORITIES),
        ("measure_edit", MANAGERS_OF_PRIORITIES),
        ("observation_import", RECORDERS),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_each_page_answers_each_role_as_the_permission_table_says(
    client_for, people, priority, measure, name, expected, role
):
    response = client_for(people[role]).get(url_for(name, priority, measure))
    assert response.status_code == expected[role]


@pytest.mark.parametrize(
    "name", ["priority_list", "priority_detail", "priority_create", "measure_detail", "observation_import"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, priority, measure, name):
    response = client.get(url_for(name, priority, measure))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "name",
    ["priority_detail", "priority_edit", "priority_tree", "measure_detail", "measure_edit", "observation_import"],
)
def test_a_missing_priority_or_measure_is_404_even_for_those_who_may_not_edit(client_for, people, name):
    response = client_for(people["employee"]).get(reverse(f"cascade:{name}", args=[999_999]))
    assert response.status_code == 404
    assert client_for(people["employee"]).post(reverse("cascade:observation_add", args=[999_999])).status_code == 404


@pytest.mark.parametrize(("role", "shown"), [("lead", True), ("hr", True), ("manager", False), ("employee", False)])
def test_only_the_quality_lead_and_hr_are_offered_new_priority(client_for, people, priority, role, shown):
    page = page_of(client_for(people[role]).get(reverse("cascade:priority_list")))
    assert ("New priority" in page) is shown
    assert priority.title in page


def test_the_list_shows_progress_and_the_counts_of_measures_and_linked_goals(
    client_for, people, priority, measure, period
):
    QualityMeasureFactory(priority=priority, department=measure.department)
    FunctionalGoalFactory(priority=priority, period=period, department=measure.department, progress=Decimal("42"))
    QualityPriority.objects.filter(pk=priority.pk).update(progress=Decimal("42"))
    page = page_of(client_for(people["employee"]).get(reverse("cascade:priority_list")))
    assert '<td class="num">2</td>' in page  # measures
    assert '<td class="num">1</td>' in page  # linked goals
    assert "42%" in page and "<progress" in page


def test_retired_priorities_are_listed_under_their_own_filter(client_for, people, priority):
    QualityPriorityFactory(title="Old falls programme", status="retired", owner=people["lead"])
    client = client_for(people["employee"])
    assert "Old falls programme" not in page_of(client.get(reverse("cascade:priority_list")))
    assert "Old falls programme" in page_of(client.get(reverse("cascade:priority_list"), {"status": "retired"}))


# ---------------------------------------------------------------- creating and editing priorities


def test_the_quality_lead_creates_a_priority_and_owns_it_by_default(client_for, people):
    client = client_for(people["lead"])
    form_page = page_of(client.get(reverse("cascade:priority_create")))
    assert f'<option value="{people["lead"].pk}" selected>' in form_page
    response = client.post(reverse("cascade:priority_create"), priority_form(owner=people["lead"].pk))
    priority = QualityPriority.objects.get(title="Reduce patient falls")
    assert response.status_code == 302
    assert response["Location"] == reverse("cascade:priority_detail", args=[priority.pk])
    assert priority.owner == people["lead"]


def test_a_priority_ending_before_it_starts_is_refused_with_a_400(client_for, people):
    response = client_for(people["hr"]).post(
        reverse("cascade:priority_create"), priority_form(owner=people["lead"].pk, period_end="2025-06-30")
    )
    assert response.status_code == 400
    assert "The period must end on or after its start." in page_of(response)
    assert not QualityPriority.objects.filter(title="Reduce patient falls").exists()


def test_a_priority_form_with_missing_fields_keeps_the_input_and_answers_400(client_for, people):
    response = client_for(people["lead"]).post(
        reverse("cascade:priority_create"), priority_form(owner=people["lead"].pk, aim="")
    )
    assert response.status_code == 400
    assert "This field is required." in page_of(response)
    assert 'value="Reduce patient falls"' in page_of(response)


@pytest.mark.parametrize("role", ["employee", "manager", "stranger"])
def test_others_cannot_create_or_edit_priorities(client_for, people, priority, role):
    client = client_for(people[role])
    assert client.post(reverse("cascade:priority_create"), priority_form(owner=priority.owner_id)).status_code == 403
    response = client.post(reverse("cascade:priority_edit", args=[priority.pk]), priority_form(priority, title="X"))
    assert response.status_code == 403
    assert QualityPriority.objects.get(pk=priority.pk).title == "Improve medication safety"


def test_editing_a_priority_saves_and_bumps_its_version(client_for, people, priority):
    client = client_for(people["lead"])
    page = page_of(client.get(reverse("cascade:priority_edit", args=[priority.pk])))
    assert f'name="version" value="{priority.version}"' in page
    response = client.post(
        reverse("cascade:priority_edit", args=[priority.pk]), priority_form(priority, title="Safer medicines")
    )
    assert response.status_code == 302
    priority.refresh_from_db()
    assert priority.title == "Safer medicines" and priority.version == 2


def test_a_stale_priority_edit_answers_409_and_keeps_what_was_typed(client_for, people, priority):
    stale = priority_form(priority, title="My new title")
    QualityPriority.objects.filter(pk=priority.pk).update(title="Their new title", version=5)
    response = client_for(people["lead"]).post(reverse("cascade:priority_edit", args=[priority.pk]), stale)
    page = page_of(response)
    assert response.status_code == 409
    assert "someone else saved this" in page
    assert 'value="My new title"' in page  # the person's input
    assert "Their new title" in page  # what is saved now, beside it
    assert 'name="version" value="5"' in page  # saving again is a deliberate overwrite
    assert QualityPriority.objects.get(pk=priority.pk).title == "Their new title"


# ---------------------------------------------------------------- measures


def test_measure_create_preselects_the_priority_from_the_query(client_for, people, priority):
    page = page_of(client_for(people["lead"]).get(reverse("cascade:measure_create"), {"priority": priority.pk}))
    assert f'<option value="{priority.pk}" selected>' in page


def test_a_priority_renewed_each_year_is_told_apart_from_its_retired_namesake(client_for, people, priority):
    QualityPriorityFactory(
        title=priority.title,
        status="retired",
        owner=people["lead"],
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 12, 31),
    )
    page = page_of(client_for(people["lead"]).get(reverse("cascade:measure_create")))
    current, retired = f">{priority.title} (2026)</option>", f">{priority.title} (2025, retired)</option>"
    assert current in page and retired in page
    assert page.index(current) < page.index(retired)  # the current one first


def test_the_quality_lead_creates_a_measure(client_for, people, priority):
    data = measure_form(priority=priority.pk, department=people["chief"].department_id)
    response = client_for(people["lead"]).post(reverse("cascade:measure_create"), data)
    measure = QualityMeasure.objects.get(name="Falls with harm")
    assert response.status_code == 302
    assert response["Location"] == reverse("cascade:measure_detail", args=[measure.pk])
    assert measure.target == Decimal("1.6")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target": "3.2"}, "The target must differ from the baseline."),
        ({"target": "4.0"}, "Lower is better for this measure, so the target must be below the baseline."),
        (
            {"direction": "up", "target": "2"},
            "Higher is better for this measure, so the target must be above the baseline.",
        ),
    ],
)
def test_a_measure_with_a_target_that_is_no_improvement_is_refused_with_a_400(
    client_for, people, priority, changes, message
):
    data = measure_form(priority=priority.pk, department=people["chief"].department_id, **changes)
    response = client_for(people["hr"]).post(reverse("cascade:measure_create"), data)
    assert response.status_code == 400
    assert message in page_of(response)
    assert 'value="Falls with harm"' in page_of(response)
    assert not QualityMeasure.objects.filter(name="Falls with harm").exists()


def test_editing_a_measure_to_a_target_on_the_wrong_side_is_refused(client_for, people, measure):
    response = client_for(people["lead"]).post(
        reverse("cascade:measure_edit", args=[measure.pk]), measure_form(measure, target="9")
    )
    assert response.status_code == 400
    assert "Lower is better for this measure" in page_of(response)
    assert QualityMeasure.objects.get(pk=measure.pk).target == Decimal("4")


def test_editing_a_measure_moves_the_goals_it_drives(client_for, people, measure, period):
    goal = FunctionalGoalFactory(
        priority=measure.priority,
        period=period,
        department=measure.department,
        measure=measure,
        baseline=None,
        target=None,
        progress_mode=ProgressMode.MEASURE,
    )
    ObservationFactory(measure=measure, value=Decimal("6"))
    response = client_for(people["lead"]).post(
        reverse("cascade:measure_edit", args=[measure.pk]), measure_form(measure, name="Errors per 1,000 doses")
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.progress == Decimal("50.00")  # (6 − 8) / (4 − 8)


def test_a_stale_measure_edit_answers_409(client_for, people, measure):
    stale = measure_form(measure, name="Mine")
    QualityMeasure.objects.filter(pk=measure.pk).update(name="Theirs", version=3)
    response = client_for(people["hr"]).post(reverse("cascade:measure_edit", args=[measure.pk]), stale)
    assert response.status_code == 409
    assert 'value="Mine"' in page_of(response) and "Theirs" in page_of(response)


# ---------------------------------------------------------------- the measure page and observations


def test_the_measure_page_has_both_charts_their_data_and_the_observations(client_for, people, measure):
    for index in range(15):
        ObservationFactory(measure=measure, date=datetime.date(2025, 1, 1) + datetime.timedelta(days=31 * index))
    page = page_of(client_for(people["employee"]).get(reverse("cascade:measure_detail", args=[measure.pk])))
    chart_id = f"measure-{measure.pk}-chart"
    assert f'<script id="{chart_id}" type="application/json">' in page
    assert f'data-chart="run" data-chart-source="{chart_id}"' in page
    assert f'data-chart="xmr" data-chart-source="{chart_id}"' in page
    assert "Limits are provisional" in page  # 15 points
    assert "15 observations, latest first" in page
    assert "Add an observation" not in page  # the employee may not record data


def test_the_measure_page_names_signals_in_words(client_for, people, measure):
    values = [8] * 12 + [5, 5, 4, 5, 4, 5, 5, 4]  # lower is better: a shift down is an improvement
    for index, value in enumerate(values):
        Observation.objects.create(
            measure=measure, date=datetime.date(2024, 1, 1) + datetime.timedelta(days=31 * index), value=Decimal(value)
        )
    page = page_of(client_for(people["employee"]).get(reverse("cascade:measure_detail", args=[measure.pk])))
    assert "Special cause: improvement" in page
    assert "Limits are based on 20 or more points." in page
    assert "Shift" in page
    # Limits over a process that has moved say nothing about its target: not judged, and the page
    # says what to do; the runs count, within chance, does not contradict the shift.
    assert "Not judged: the current phase shows special causes" in page
    assert "mark a change point where it did" in page
    assert "both process limits are" not in page and "lies between the process limits" not in page


def test_runs_within_chance_beside_a_shift_say_the_shift_still_counts():
    from cascade.views.priorities import runs_text

    runs = {"verdict": "ok", "lower": 4, "upper": 10, "useful": 12, "count": 6}
    shift = {"rule": "shift", "start": 3, "end": 9, "kind": "improvement", "description": "7 below the median"}
    quiet = runs_text({"rules": "ihi", "run": {"rules_apply": True, "signals": [], "runs": runs}})
    shifted = runs_text({"rules": "ihi", "run": {"rules_apply": True, "signals": [shift], "runs": runs}})
    assert "non-random pattern all the same" not in quiet and "4 to 10 runs for 12 points" in quiet
    assert "The shift or trend listed under Signals is a non-random pattern all the same." in shifted


def test_a_stable_measure_is_judged_on_its_target_with_the_runs_limits_named(client_for, people, measure):
    values = [7, 8, 9, 8, 7, 9, 8, 7, 9, 8, 7, 8, 9, 8, 7, 9, 8, 7, 8, 9]  # lower is better, target 4
    for index, value in enumerate(values):
        Observation.objects.create(
            measure=measure, date=datetime.date(2024, 1, 1) + datetime.timedelta(days=31 * index), value=Decimal(value)
        )
    page = page_of(client_for(people["employee"]).get(reverse("cascade:measure_detail", args=[measure.pk])))
    assert "Not judged" not in page
    assert "will not meet the target of 4 per 1,000 doses" in page
    assert "Expected by chance:" in page and "exact limits, 2.5 % each side" in page


def test_observations_are_paginated_latest_first(client_for, people, measure):
    for index in range(30):
        Observation.objects.create(
            measure=measure, date=datetime.date(2023, 1, 1) + datetime.timedelta(days=index), value=Decimal("5")
        )
    client = client_for(people["employee"])
    first = page_of(client.get(reverse("cascade:measure_detail", args=[measure.pk])))
    assert "Page 1 of 2" in first
    assert first.index(">30 Jan 2023<") < first.index(">29 Jan 2023<") and ">1 Jan 2023<" not in first
    second = page_of(client.get(reverse("cascade:measure_detail", args=[measure.pk]), {"page": 2}))
    assert ">1 Jan 2023<" in second


@pytest.mark.parametrize("role", ["chief", "lead", "hr"])
def test_those_allowed_add_an_observation(client_for, people, measure, role):
    client = client_for(people[role])
    assert "Add an observation" in page_of(client.get(reverse("cascade:measure_detail", args=[measure.pk])))
    response = client.post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": "2026-02-01", "value": "6.5"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#observations")
    observation = Observation.objects.get(measure=measure)
    assert observation.value == Decimal("6.5") and observation.entered_by == people[role]


def test_adding_an_observation_moves_measure_driven_goals(client_for, people, measure, period):
    goal = FunctionalGoalFactory(
        priority=measure.priority,
        period=period,
        department=measure.department,
        measure=measure,
        progress_mode=ProgressMode.MEASURE,
        approval=Approval.APPROVED,
    )
    client_for(people["chief"]).post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": "2026-02-01", "value": "5"}
    )
    goal.refresh_from_db()
    assert goal.progress == Decimal("75.00")  # (5 − 8) / (4 − 8)


@pytest.mark.parametrize("role", ["employee", "manager", "stranger"])
def test_others_cannot_add_observations(client_for, people, measure, role):
    response = client_for(people[role]).post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": "2026-02-01", "value": "6"}
    )
    assert response.status_code == 403
    assert not Observation.objects.exists()


def test_a_value_that_is_not_a_number_is_a_400_that_keeps_the_input(client_for, people, measure):
    response = client_for(people["chief"]).post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": "2026-02-01", "value": "six"}
    )
    page = page_of(response)
    assert response.status_code == 400
    assert "is not a number." in page
    assert 'value="six"' in page and 'value="2026-02-01"' in page
    assert not Observation.objects.exists()


def test_a_date_that_is_not_a_date_is_a_400(client_for, people, measure):
    response = client_for(people["chief"]).post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": "31/02/2026", "value": "6"}
    )
    assert response.status_code == 400
    assert "Enter a valid date." in page_of(response)


def test_a_second_value_for_the_same_date_is_a_400(client_for, people, measure):
    Observation.objects.create(measure=measure, date=datetime.date(2026, 2, 1), value=Decimal("7"))
    response = client_for(people["chief"]).post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": "2026-02-01", "value": "6"}
    )
    assert response.status_code == 400
    assert "Administration errors already has a value for 1 Feb 2026." in page_of(response)
    assert Observation.objects.get().value == Decimal("7")


def test_a_zero_denominator_is_refused_beside_its_field(client_for, people, measure):
    response = client_for(people["chief"]).post(
        reverse("cascade:observation_add", args=[measure.pk]),
        {"date": "2026-02-01", "value": "6", "numerator": "3", "denominator": "0"},
    )
    assert response.status_code == 400
    assert 'id="id_denominator_error"' in page_of(response)


def test_following_a_link_to_observation_add_lands_on_the_measure_page(client_for, people, measure):
    # The table's page links on a refused entry's page point here.
    response = client_for(people["chief"]).get(reverse("cascade:observation_add", args=[measure.pk]), {"page": 2})
    assert response.status_code == 302
    assert response["Location"] == reverse("cascade:measure_detail", args=[measure.pk]) + "?page=2"


# ---------------------------------------------------------------- the priority page and the goal tree


@pytest.fixture
def tree(people, priority, period):
    ward = FunctionalGoalFactory(
        title="Barcode scanning on every ward",
        priority=priority,
        period=period,
        department=people["chief"].department,
        approval=Approval.APPROVED,
        progress=Decimal("40"),
    )
    mine = IndividualGoalFactory(
        title="Scan every high-risk dose", owner=people["employee"], parent_goal=ward, priority=priority, period=period
    )
    theirs = IndividualGoalFactory(
        title="Pharmacist double-checks", owner=people["stranger"], priority=priority, period=period
    )
    return {"ward": ward, "mine": mine, "theirs": theirs}


def test_the_priority_page_shows_measures_with_charts_and_the_goal_tree(client_for, people, priority, measure, tree):
    page = page_of(client_for(people["manager"]).get(reverse("cascade:priority_detail", args=[priority.pk])))
    assert priority.aim in page
    assert f'data-chart="xmr" data-chart-source="measure-{measure.pk}-chart"' in page
    assert "No data yet" in page  # the measure's badge
    assert '<details class="goal-tree__branch">' in page and "<summary>" in page
    assert reverse("cascade:goal_detail", args=[tree["ward"].pk]) in page
    assert reverse("cascade:goal_detail", args=[tree["mine"].pk]) in page  # the manager's report
    assert "Pharmacist double-checks" not in page  # another team's personal goal
    assert "Approved" in page and "40%" in page


def test_the_tree_page_opens_every_branch_and_offers_the_periods(client_for, people, priority, tree, period):
    page = page_of(client_for(people["hr"]).get(reverse("cascade:priority_tree", args=[priority.pk])))
    assert '<details class="goal-tree__branch" open>' in page
    assert "Pharmacist double-checks" in page  # HR sees every goal
    assert f'<option value="{period.pk}" selected>' in page


def test_the_priority_page_issues_the_same_number_of_queries_however_many_measures_and_goals(
    client_for, people, priority, period
):
    client = client_for(people["hr"])
    url = reverse("cascade:priority_detail", args=[priority.pk])

    def grow(times: int) -> None:
        for _ in range(times):
            measure = QualityMeasureFactory(priority=priority, department=people["chief"].department)
            for month in range(1, 4):
                ObservationFactory(measure=measure, date=datetime.date(2025, month, 1))
            ward = FunctionalGoalFactory(priority=priority, period=period, department=measure.department)
            IndividualGoalFactory(owner=people["employee"], parent_goal=ward)

    grow(1)
    client.get(url)  # warm-up: settings rows and the like are created once
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(3)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


def test_pages_carry_no_inline_script_or_style(client_for, people, priority, measure, tree):
    client = client_for(people["lead"])
    for url in (
        reverse("cascade:priority_list"),
        reverse("cascade:priority_detail", args=[priority.pk]),
        reverse("cascade:measure_detail", args=[measure.pk]),
        reverse("cascade:priority_edit", args=[priority.pk]),
    ):
        page = page_of(client.get(url))
        assert " style=" not in page
        assert "<script>" not in page


def test_the_list_and_the_measure_page_issue_the_same_number_of_queries_for_more_data(
    client_for, people, priority, measure, period
):
    client = client_for(people["chief"])
    urls = [reverse("cascade:priority_list"), reverse("cascade:measure_detail", args=[measure.pk])]

    def grow(times: int) -> None:
        for _ in range(times):
            QualityPriorityFactory(owner=people["lead"])
            ObservationFactory(measure=measure)
            FunctionalGoalFactory(priority=priority, period=period, department=measure.department, measure=measure)

    grow(2)
    for url in urls:
        client.get(url)
    counts = []
    for _ in range(2):
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.append(len(queries))
        grow(6)
    assert counts[:2] == counts[2:]

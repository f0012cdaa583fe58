"""Bad input to the cascade gets a clear message on the form, in the import and from the API,
and nothing is stored: a decimal comma, observation dates outside a plausible range, a
goal due date outside its period, and titles longer than the column."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cascade.imports.goals import COLUMNS
from cascade.models import Approval, CascadeImport, Direction, Goal, Observation, ProgressMode, QualityPriority
from people.models import ImportStatus
from tests.cascade.factories import FunctionalGoalFactory, IndividualGoalFactory, QualityMeasureFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
LONG_TITLE = "Scan every high-risk dose " * 8  # 208 characters, over the 200 a title holds


@pytest.fixture
def measure(cast, priority):
    """Higher is better, from 60 towards 90, weekly, recorded by Nursing (whose head is the chief)."""
    nursing = cast.chief.department
    nursing.head = cast.chief
    nursing.save(update_fields=["head"])
    return QualityMeasureFactory(
        priority=priority,
        name="Doses scanned",
        direction=Direction.UP,
        baseline=Decimal("60"),
        target=Decimal("90"),
        department=nursing,
        frequency="weekly",
    )


@pytest.fixture
def driven_goal(cast, measure, period):
    """A goal driven by the measure, at 50 % from one value of 75 recorded last month."""
    Observation.objects.create(measure=measure, date=timezone.localdate() - datetime.timedelta(days=30), value=75)
    return FunctionalGoalFactory(
        priority=measure.priority,
        period=period,
        department=measure.department,
        measure=measure,
        progress_mode=ProgressMode.MEASURE,
        approval=Approval.APPROVED,
        progress=Decimal("50.00"),
    )


FAR_FUTURE = "9999-12-31"
LONG_AGO = "1900-01-01"
BAD_OBSERVATIONS = [
    ({"value": "12,5"}, "value", "use a point for decimals"),
    ({"value": "1,5"}, "value", "use a point for decimals"),
    ({"numerator": "3,25"}, "numerator", "use a point for decimals"),
    ({"date": FAR_FUTURE}, "date", "is in the future"),
    ({"date": LONG_AGO}, "date", "check the year"),
]
BAD_OBSERVATION_IDS = ["decimal-comma", "short-decimal-comma", "numerator-comma", "far-future", "long-ago"]


def a_good_observation() -> dict[str, str]:
    return {"date": str(timezone.localdate() - datetime.timedelta(days=1)), "value": "80"}


# ---------------------------------------------------------------- observations: the form


@pytest.mark.parametrize(("change", "field", "message"), BAD_OBSERVATIONS, ids=BAD_OBSERVATION_IDS)
def test_the_observation_form_refuses_it_beside_the_field(
    client_for, cast, measure, driven_goal, change, field, message
):
    response = client_for(cast.chief).post(
        reverse("cascade:observation_add", args=[measure.pk]), {**a_good_observation(), **change}
    )
    assert response.status_code == 400
    errors = response.context["observation_form"].errors if "observation_form" in response.context else None
    page = response.content.decode()
    assert message in page, errors
    assert measure.observations.count() == 1
    assert Goal.objects.get(pk=driven_goal.pk).progress == Decimal("50.00")


def test_the_observation_form_reads_thousands_separators_and_a_point(client_for, cast, measure, driven_goal):
    response = client_for(cast.chief).post(
        reverse("cascade:observation_add", args=[measure.pk]), {**a_good_observation(), "value": "1,084.5"}
    )
    assert response.status_code == 302
    assert measure.observations.order_by("-date").first().value == Decimal("1084.5")


def test_a_date_a_few_days_ahead_is_accepted_for_a_value_dated_at_the_end_of_its_week(client_for, cast, measure):
    ahead = timezone.localdate() + datetime.timedelta(days=5)
    response = client_for(cast.chief).post(
        reverse("cascade:observation_add", args=[measure.pk]), {"date": str(ahead), "value": "70"}
    )
    assert response.status_code == 302
    assert measure.observations.get().date == ahead


# ---------------------------------------------------------------- observations: the import


@pytest.mark.parametrize(("change", "field", "message"), BAD_OBSERVATIONS, ids=BAD_OBSERVATION_IDS)
def test_the_observation_import_refuses_the_row_and_imports_nothing(
    client_for, cast, measure, driven_goal, django_capture_on_commit_callbacks, change, field, message
):
    good = a_good_observation()
    bad = {**a_good_observation(), "date": str(timezone.localdate() - datetime.timedelta(days=8)), **change}

    def line(values: dict[str, str]) -> str:
        return ",".join(f'"{values.get(c, "")}"' for c in ("date", "value", "numerator", "denominator"))

    content = "\n".join(["date,value,numerator,denominator", line(good), line(bad)]).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.chief).post(
            reverse("cascade:observation_import", args=[measure.pk]), {"file": SimpleUploadedFile("obs.csv", content)}
        )
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.REJECTED
    assert [(e["row"], e["field"]) for e in record.errors] == [(3, field)]
    assert message in record.errors[0]["message"]
    assert measure.observations.count() == 1
    assert Goal.objects.get(pk=driven_goal.pk).progress == Decimal("50.00")


# ---------------------------------------------------------------- observations: the API


@pytest.mark.parametrize(("change", "field", "message"), BAD_OBSERVATIONS, ids=BAD_OBSERVATION_IDS)
def test_the_observation_api_answers_400_naming_the_field(
    api_client_for, cast, measure, driven_goal, change, field, message
):
    response = api_client_for(cast.chief).post(
        f"{API}/measures/{measure.pk}/observations/", {**a_good_observation(), **change}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert measure.observations.count() == 1
    assert Goal.objects.get(pk=driven_goal.pk).progress == Decimal("50.00")


# ---------------------------------------------------------------- goals: due date and title


def edit_data(goal: Goal, priority: QualityPriority, **changes: str) -> dict[str, object]:
    return {
        "version": goal.version,
        "title": goal.title,
        "description": "",
        "parent": f"priority:{priority.pk}",
        "weight": goal.weight,
        "kind": "result",
        "measure": "",
        "progress_mode": "manual",
        "baseline": "",
        "target": "",
        "due_date": "",
        "improvement_hours_per_month": "0",
        "status": "open",
        **changes,
    }


@pytest.fixture
def draft(cast, period, priority):
    return IndividualGoalFactory(owner=cast.employee, priority=priority, period=period, weight=50, title="Teach")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"due_date": "2027-03-31"}, "due_date", "The due date must fall within 2026"),
        ({"due_date": "2025-12-31"}, "due_date", "The due date must fall within 2026"),
        ({"title": LONG_TITLE}, "title", "at most 200 characters"),
    ],
    ids=["due-after-period", "due-before-period", "long-title"],
)
def test_the_goal_form_refuses_it_beside_the_field(client_for, cast, period, priority, draft, changes, field, message):
    response = client_for(cast.employee).post(
        reverse("cascade:goal_edit", args=[draft.pk]), edit_data(draft, priority, **changes)
    )
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field]), response.context["form"].errors
    stored = Goal.objects.get(pk=draft.pk)
    assert (stored.title, stored.due_date) == ("Teach", None)


def test_a_due_date_inside_the_period_is_saved(client_for, cast, period, priority, draft):
    response = client_for(cast.employee).post(
        reverse("cascade:goal_edit", args=[draft.pk]), edit_data(draft, priority, due_date="2026-12-31")
    )
    assert response.status_code == 302
    assert Goal.objects.get(pk=draft.pk).due_date == datetime.date(2026, 12, 31)


def test_the_goal_form_lets_the_server_say_a_title_is_too_long(client_for, cast, draft):
    """No maxlength attribute: a browser would cut a pasted title short without a word."""
    page = client_for(cast.employee).get(reverse("cascade:goal_edit", args=[draft.pk])).content.decode()
    assert 'name="title"' in page and "maxlength" not in page


def test_the_goal_forms_date_picker_offers_only_the_periods_days(client_for, cast, draft):
    page = client_for(cast.employee).get(reverse("cascade:goal_edit", args=[draft.pk])).content.decode()
    assert 'min="2026-01-01"' in page and 'max="2026-12-31"' in page
    assert "Within 2026: 1 Jan 2026 to 31 Dec 2026." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"due_date": "2027-03-31"}, "due_date", "The due date must fall within 2026"),
        ({"title": LONG_TITLE}, "title", "200"),
    ],
    ids=["due-after-period", "long-title"],
)
def test_the_goal_api_answers_400_naming_the_field(api_client_for, cast, period, priority, changes, field, message):
    body = {
        "level": "individual",
        "title": "Scan every dose",
        "period": period.pk,
        "priority": priority.pk,
        "owner": cast.employee.pk,
        "weight": 50,
        **changes,
    }
    response = api_client_for(cast.employee).post(f"{API}/goals/", body, format="json")
    assert response.status_code == 400
    assert any(message in m for m in response.json()[field]), response.json()
    assert not Goal.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"due_date": "2027-03-31"}, "due_date", "The due date must fall within 2026"),
        ({"title": LONG_TITLE.strip()}, "title", "at most 200 characters"),
    ],
    ids=["due-after-period", "long-title"],
)
def test_the_goal_import_refuses_the_row_and_imports_nothing(
    client_for, cast, period, priority, django_capture_on_commit_callbacks, changes, field, message
):
    values = {
        "level": "individual",
        "title": "Scan every dose",
        "priority": priority.title,
        "owner_employee_id": cast.employee.employee_id,
        "weight": "50",
        **changes,
    }
    content = "\n".join([",".join(COLUMNS), ",".join(values.get(c, "") for c in COLUMNS)]).encode()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.manager).post(
            reverse("cascade:goal_import"), {"file": SimpleUploadedFile("goals.csv", content), "period": period.pk}
        )
    record = CascadeImport.objects.get()
    assert record.status == ImportStatus.REJECTED
    assert [(e["row"], e["field"]) for e in record.errors] == [(2, field)]
    assert message in record.errors[0]["message"]
    assert not Goal.objects.exists()


# ---------------------------------------------------------------- priorities and measures: names


def test_the_priority_form_says_a_title_is_too_long_and_keeps_the_old_one(client_for, cast, quality_lead, priority):
    url = reverse("cascade:priority_edit", args=[priority.pk])
    assert "maxlength" not in client_for(quality_lead).get(url).content.decode()
    response = client_for(quality_lead).post(
        url,
        {
            "version": priority.version,
            "title": LONG_TITLE,
            "aim": priority.aim,
            "methodology": priority.methodology,
            "owner": priority.owner_id,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "status": priority.status,
        },
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    assert QualityPriority.objects.get(pk=priority.pk).title == "Improve medication safety"


def test_the_measure_api_refuses_a_long_name_and_a_baseline_beyond_its_column(
    api_client_for, cast, quality_lead, priority, measure
):
    client = api_client_for(quality_lead)
    too_long = client.patch(f"{API}/measures/{measure.pk}/", {"name": "M" * 201, "version": 1}, format="json")
    too_big = client.patch(f"{API}/measures/{measure.pk}/", {"baseline": "1" * 11, "version": 1}, format="json")
    assert too_long.status_code == 400 and "name" in too_long.json()
    assert too_big.status_code == 400 and "baseline" in too_big.json()
    measure.refresh_from_db()
    assert (measure.name, measure.baseline) == ("Doses scanned", Decimal("60"))

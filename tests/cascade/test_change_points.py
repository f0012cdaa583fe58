"""Change points on a measure (PRODUCT.md "Change points"): who may mark and remove them, the
service's checks and action log, the measure page's form, the API, and the phases they make
in the chart."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cascade import access, selectors, services
from cascade.models import ChangePoint, QualityMeasure
from core.errors import ConflictError
from core.models import ActionLogEntry
from tests.cascade.factories import ObservationFactory, QualityMeasureFactory, QualityPriorityFactory
from tests.factories import DepartmentFactory, EmployeeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/change-points/"
# 24 months from January 2024: a stable process around 10, then a clear step to around 20.
MONTHS = [datetime.date(2024 + i // 12, i % 12 + 1, 1) for i in range(24)]
WOBBLE = [Decimal(x) for x in ("0.4", "-0.3", "0.1", "-0.5", "0.2", "0", "0.3", "-0.2", "0.5", "-0.1", "0.2", "-0.4")]
STEP = MONTHS[12]  # the first month of the new level


@pytest.fixture
def ward(cast):
    """The measure's owning department, headed by its own head (not the cast's manager)."""
    department = DepartmentFactory(name="Theatres")
    department.head = EmployeeFactory(
        user__username="theatres_head", full_name="Head of Theatres", department=department
    )
    department.save(update_fields=["head"])
    return department


@pytest.fixture
def measure(cast, ward, quality_lead) -> QualityMeasure:
    """Owned by the chief (the priority's owner) and the ward's head; the quality lead owns neither."""
    measure = QualityMeasureFactory(priority=QualityPriorityFactory(owner=cast.chief), department=ward)
    for index, month in enumerate(MONTHS):
        level = Decimal("10") if index < 12 else Decimal("20")
        ObservationFactory(measure=measure, date=month, value=level + WOBBLE[index % 12])
    return measure


def mark(user, measure, date=STEP, reason="Standard work adopted after three PDSA cycles.") -> ChangePoint:
    return services.change_point_mark(user=user, measure=measure, date=date, reason=reason)


def log_of(change_point: ChangePoint) -> list[str]:
    return list(
        ActionLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ChangePoint), object_id=change_point.pk
        ).values_list("action", flat=True)
    )


# ---------------------------------------------------------------- who may mark


def test_the_measures_owners_and_a_quality_lead_may_mark_change_points(cast, ward, quality_lead, measure):
    def allowed(person) -> bool:
        return access.can_mark_change_points(person.user, selectors.get_measure(user=person.user, pk=measure.pk))

    assert allowed(cast.chief)  # owns the priority and so its measures
    assert allowed(ward.head)  # heads the department that owns and records the measure
    assert allowed(quality_lead)
    # PRODUCT.md names the owner and the quality lead only: HR sets measures up, but does not judge
    # when a process changed; a colleague of the owner and someone unrelated may not either.
    assert not allowed(cast.hr)
    assert not allowed(cast.manager)  # reports to the owner
    assert not allowed(cast.stranger)


def test_a_peer_unrelated_employee_or_hr_is_refused_by_the_service(cast, measure):
    for person in (cast.employee, cast.stranger, cast.hr):
        with pytest.raises(PermissionDenied):
            mark(person.user, measure)
    assert not ChangePoint.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("chief", 201), ("head", 201), ("quality_lead", 201), ("hr", 403), ("employee", 403), ("stranger", 403)],
)
def test_the_api_answers_each_role_as_the_policy_says(api_client_for, cast, ward, quality_lead, measure, who, status):
    person = {"head": ward.head, "quality_lead": quality_lead}.get(who) or getattr(cast, who)
    response = api_client_for(person).post(
        API, {"measure": measure.pk, "date": STEP.isoformat(), "reason": "Standard work adopted."}, format="json"
    )
    assert response.status_code == status, response.content
    assert ChangePoint.objects.filter(measure=measure).count() == (1 if status == 201 else 0)


def test_anonymous_callers_are_refused(api_client_for, measure):
    assert api_client_for(None).get(API).status_code in (401, 403)
    assert api_client_for(None).post(API, {"measure": measure.pk}, format="json").status_code in (401, 403)


# ---------------------------------------------------------------- the service


def test_marking_and_removing_are_logged_with_the_date_and_reason(quality_lead, measure):
    change_point = mark(quality_lead.user, measure, reason="  Barcode scanning adopted on every ward.  ")
    assert change_point.reason == "Barcode scanning adopted on every ward."
    assert change_point.created_by == quality_lead
    entry = ActionLogEntry.objects.get(action="change_point.marked", object_id=change_point.pk)
    assert entry.actor == quality_lead.user
    assert entry.data == {
        "measure": measure.pk,
        "date": "2025-01-01",
        "reason": "Barcode scanning adopted on every ward.",
    }

    services.change_point_remove(user=quality_lead.user, change_point=change_point)
    assert not ChangePoint.objects.exists()
    assert sorted(log_of(change_point)) == ["change_point.marked", "change_point.removed"]


@pytest.mark.parametrize(
    ("date", "reason", "field"),
    [
        (STEP, "", "reason"),
        (STEP, "   ", "reason"),
        (STEP, "x" * 501, "reason"),
        (None, "Adopted.", "date"),
        (MONTHS[0], "Adopted.", "date"),  # on the first value: nothing comes before it
        (datetime.date(2023, 6, 1), "Adopted.", "date"),
        (MONTHS[-1] + datetime.timedelta(days=1), "Adopted.", "date"),  # no data in the new phase yet
        (datetime.date(2999, 1, 1), "Adopted.", "date"),  # in the future
    ],
)
def test_bad_input_is_refused_with_a_message_on_its_field(quality_lead, measure, date, reason, field):
    with pytest.raises(ValidationError) as refused:
        mark(quality_lead.user, measure, date=date, reason=reason)
    assert field in refused.value.message_dict
    assert not ChangePoint.objects.exists()


def test_a_future_date_is_refused_even_when_data_are_dated_ahead(quality_lead, measure):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    ObservationFactory(measure=measure, date=tomorrow, value=Decimal("20"))
    with pytest.raises(ValidationError, match="in the future"):
        mark(quality_lead.user, measure, date=tomorrow)


def test_one_change_point_per_date(quality_lead, measure):
    mark(quality_lead.user, measure)
    with pytest.raises(ValidationError) as refused:
        mark(quality_lead.user, measure, reason="Again.")
    assert "already has a change point" in refused.value.message_dict["date"][0]
    assert ChangePoint.objects.count() == 1


def test_removing_a_change_point_someone_removed_meanwhile_is_a_conflict(quality_lead, cast, measure):
    change_point = mark(quality_lead.user, measure)
    stale = ChangePoint.objects.get(pk=change_point.pk)
    services.change_point_remove(user=cast.chief.user, change_point=change_point)
    with pytest.raises(ConflictError):
        services.change_point_remove(user=quality_lead.user, change_point=stale)


# ---------------------------------------------------------------- the chart


def test_the_chart_splits_into_phases_at_the_change_point(quality_lead, measure):
    whole = selectors.measure_chart(measure).as_dict()
    assert len(whole["phases"]) == 1
    # One process over the step: every point after it is a special cause, and the limits mix both levels.
    assert any(s["kind"] == "improvement" for s in whole["xmr"]["signals"])

    mark(quality_lead.user, measure)
    chart = selectors.measure_chart(selectors.get_measure(user=quality_lead.user, pk=measure.pk)).as_dict()
    before, after = chart["phases"]
    assert (before["first"], before["last"], after["first"], after["last"]) == (0, 11, 12, 23)
    assert after["reason"] == "Standard work adopted after three PDSA cycles."
    assert before["xmr"]["mean"] == pytest.approx(10.0167, abs=1e-3)
    assert after["xmr"]["mean"] == pytest.approx(20.0167, abs=1e-3)
    # The current phase is judged on its own: its own points, no special cause left.
    assert chart["xmr"] == after["xmr"] and chart["xmr"]["signals"] == []
    assert [p["phase"] for p in chart["points"]] == [0] * 12 + [1] * 12
    assert chart["points"][12]["mr"] is None  # no moving range across the change point
    assert chart["annotations"] == [
        {"date": "2025-01-01", "kind": "change_point", "label": "Standard work adopted after three PDSA cycles."}
    ]


def test_the_measure_chooses_its_run_chart_rules(quality_lead, measure):
    assert selectors.measure_chart(measure).as_dict()["rules"] == "ihi"
    measure.run_rules = "anhoej"
    measure.save(update_fields=["run_rules"])
    chart = selectors.measure_chart(measure).as_dict()
    assert (chart["rules"], chart["rules_label"]) == ("anhoej", "Anhøj rules")


# ---------------------------------------------------------------- the measure page


def test_the_measure_form_offers_the_rules_and_the_page_says_which_apply(client_for, quality_lead, measure):
    client = client_for(quality_lead)
    edit = reverse("cascade:measure_edit", args=[measure.pk])
    form = client.get(edit).content.decode()
    assert 'name="run_rules"' in form and "Anhøj rules" in form
    data = {
        "priority": measure.priority_id,
        "department": measure.department_id,
        "name": measure.name,
        "measure_type": measure.measure_type,
        "direction": measure.direction,
        "unit": measure.unit,
        "baseline": str(measure.baseline),
        "target": str(measure.target),
        "frequency": measure.frequency,
        "run_rules": "anhoej",
        "version": measure.version,
    }
    assert client.post(edit, data).status_code == 302
    measure.refresh_from_db()
    assert measure.run_rules == "anhoej"
    page = client.get(reverse("cascade:measure_detail", args=[measure.pk]))
    assert page.context["chart"]["rules_label"] == "Anhøj rules"
    assert "(Anhøj rules)" in page.content.decode()
    # Not sent at all (an older client): the measure keeps its rules.
    data.pop("run_rules")
    data["version"] = measure.version
    assert client.post(edit, data).status_code == 302
    measure.refresh_from_db()
    assert measure.run_rules == "anhoej"
    assert client.post(edit, {**data, "run_rules": "westgard", "version": measure.version}).status_code == 400


def test_the_page_offers_the_form_only_to_those_who_may_mark(client_for, cast, quality_lead, measure):
    url = reverse("cascade:measure_detail", args=[measure.pk])
    action = reverse("cascade:change_point_add", args=[measure.pk])
    assert action in client_for(quality_lead).get(url).content.decode()
    for person in (cast.hr, cast.employee, cast.stranger):
        page = client_for(person).get(url)
        assert page.status_code == 200 and action not in page.content.decode()


def test_marking_on_the_page_draws_two_phases_and_lists_the_change_point(client_for, quality_lead, measure):
    client = client_for(quality_lead)
    url = reverse("cascade:change_point_add", args=[measure.pk])
    response = client.post(url, {"change_point-date": "2025-01-01", "change_point-reason": "Checklist adopted."})
    assert response.status_code == 302
    page = client.get(reverse("cascade:measure_detail", args=[measure.pk]))
    text = page.content.decode()
    assert "Checklist adopted." in text
    chart = page.context["chart"]
    assert len(chart["phases"]) == 2 and chart["rules_label"] == "IHI run chart rules"
    assert 'data-chart="mr"' in text  # the moving-range chart under the X chart
    assert page.context["phase_start"] == STEP


def test_bad_input_on_the_page_answers_400_with_the_message_beside_the_field(client_for, quality_lead, measure):
    url = reverse("cascade:change_point_add", args=[measure.pk])
    response = client_for(quality_lead).post(url, {"change_point-date": "2999-01-01", "change_point-reason": ""})
    assert response.status_code == 400
    form = response.context["change_point_form"]
    assert "reason" in form.errors
    assert not ChangePoint.objects.exists()


def test_removing_on_the_page_and_refusals(client_for, cast, quality_lead, measure):
    change_point = mark(quality_lead.user, measure)
    url = reverse("cascade:change_point_remove", args=[measure.pk, change_point.pk])
    assert client_for(cast.stranger).post(url).status_code == 403
    assert (
        client_for(quality_lead).post(reverse("cascade:change_point_remove", args=[measure.pk, 10**9])).status_code
        == 404
    )
    other = QualityMeasureFactory()
    assert (
        client_for(quality_lead)
        .post(reverse("cascade:change_point_remove", args=[other.pk, change_point.pk]))
        .status_code
        == 404
    )
    assert client_for(quality_lead).post(url).status_code == 302
    assert not ChangePoint.objects.exists()


# ---------------------------------------------------------------- the API


def test_the_api_marks_lists_and_removes_a_change_point(api_client_for, cast, quality_lead, measure):
    client = api_client_for(quality_lead)
    created = client.post(
        API, {"measure": measure.pk, "date": "2025-01-01", "reason": "Standard work adopted."}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert body["measure"] == {"id": measure.pk, "name": measure.name}
    assert (body["date"], body["reason"]) == ("2025-01-01", "Standard work adopted.")
    assert body["created_by"]["name"] == quality_lead.full_name

    listed = api_client_for(cast.stranger).get(API, {"measure": measure.pk}).json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert api_client_for(cast.stranger).get(API, {"measure": measure.pk + 1000}).json()["results"] == []

    # The measure's chart shows the phases and the annotation.
    chart = api_client_for(cast.stranger).get(f"/api/v1/measures/{measure.pk}/").json()["chart"]
    assert [(p["first"], p["last"], p["reason"]) for p in chart["phases"]] == [
        (0, 11, None),
        (12, 23, "Standard work adopted."),
    ]
    assert chart["annotations"][0]["kind"] == "change_point"

    assert api_client_for(cast.stranger).delete(f"{API}{body['id']}/").status_code == 403
    assert client.delete(f"{API}{body['id']}/").status_code == 204
    assert client.delete(f"{API}{body['id']}/").status_code == 404
    assert len(client.get(f"/api/v1/measures/{measure.pk}/").json()["chart"]["phases"]) == 1


def test_the_api_answers_400_with_field_messages(api_client_for, quality_lead, measure):
    client = api_client_for(quality_lead)
    future = client.post(API, {"measure": measure.pk, "date": "2999-01-01", "reason": "Adopted."}, format="json")
    assert future.status_code == 400 and "date" in json.dumps(future.json())
    empty = client.post(API, {"measure": measure.pk, "date": "2025-01-01", "reason": ""}, format="json")
    assert empty.status_code == 400 and "reason" in json.dumps(empty.json())
    missing = client.post(API, {"measure": 10**9, "date": "2025-01-01", "reason": "Adopted."}, format="json")
    assert missing.status_code == 400 and "measure" in json.dumps(missing.json())
    unknown = client.post(
        API, {"measure": measure.pk, "date": "2025-01-01", "reason": "Adopted.", "by": 1}, format="json"
    )
    assert unknown.status_code == 400
    assert client.get(f"{API}{10**9}/").status_code == 404
    assert not ChangePoint.objects.exists()


def test_the_measure_api_takes_the_run_chart_rules(api_client_for, quality_lead, measure):
    client = api_client_for(quality_lead)
    response = client.patch(
        f"/api/v1/measures/{measure.pk}/", {"version": measure.version, "run_rules": "anhoej"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["run_rules"] == "anhoej" and response.json()["chart"]["rules"] == "anhoej"
    bad = client.patch(f"/api/v1/measures/{measure.pk}/", {"version": 2, "run_rules": "westgard"}, format="json")
    assert bad.status_code == 400 and "run_rules" in bad.json()


def test_lists_read_a_fixed_number_of_queries(api_client_for, quality_lead, measure):
    client = api_client_for(quality_lead)
    mark(quality_lead.user, measure)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = (count(API), count("/api/v1/measures/"))
    for index in range(4):
        other = QualityMeasureFactory(priority=measure.priority)
        for month in MONTHS[:3]:
            ObservationFactory(measure=other, date=month, value=Decimal(index))
        mark(quality_lead.user, other, date=MONTHS[1 + index % 2], reason=f"Change {index}.")
    assert (count(API), count("/api/v1/measures/")) == few

"""The `incentive-plans` and `payouts` API: HR writes, scoped reads (404 outside), 409 on stale writes."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import TestCase
from openpyxl import load_workbook

from incentives.models.plans import IncentivePlan, Payout, PlanState

pytestmark = pytest.mark.django_db


def computed(api_client_for, plan, hr) -> dict[int, Payout]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api_client_for(hr).post(f"/api/v1/incentive-plans/{plan.pk}/compute/")
    assert response.status_code == 202, response.content
    return {p.employee_id: p for p in Payout.objects.filter(plan=plan)}


def test_hr_creates_a_plan_and_sets_components_and_sees_the_warning(setup, api_client_for):
    cast, cycle, _ = setup
    hr = api_client_for(cast.hr)
    response = hr.post(
        "/api/v1/incentive-plans/",
        {"cycle": cycle.pk, "name": "Pharmacy bonus", "departments": [cast.stranger.department_id]},
        format="json",
    )
    assert response.status_code == 201, response.content
    plan = response.json()
    response = hr.put(
        f"/api/v1/incentive-plans/{plan['id']}/components/",
        {
            "version": plan["version"],
            "components": [{"kind": "qi_goals", "weight": 20}, {"kind": "appraisal_score", "weight": 70}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "total 90" in str(response.json())
    response = hr.put(
        f"/api/v1/incentive-plans/{plan['id']}/components/",
        {
            "version": plan["version"],
            "components": [{"kind": "qi_goals", "weight": 20}, {"kind": "appraisal_score", "weight": 80}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["qi_weight"] == 20 and "Reward misalignment" in body["misalignment_warning"]
    stale = hr.put(
        f"/api/v1/incentive-plans/{plan['id']}/components/",
        {"version": plan["version"], "components": [{"kind": "qi_goals", "weight": 100}]},
        format="json",
    )
    assert stale.status_code == 409


def test_plans_are_hrs_only(setup, api_client_for):
    cast, cycle, plan = setup
    for person in (cast.manager, cast.employee, cast.stranger):
        client = api_client_for(person)
        # A plan is outside their scope (404, as its page); the list and "new plan" are HR's (403, as the pages).
        assert client.get(f"/api/v1/incentive-plans/{plan.pk}/").status_code == 404
        assert client.get("/api/v1/incentive-plans/").status_code == 403
        assert (
            client.post("/api/v1/incentive-plans/", {"cycle": cycle.pk, "name": "x"}, format="json").status_code == 403
        )


def test_payouts_api_privacy_with_the_four_kinds_of_user(setup, api_client_for):
    cast, _, plan = setup
    payout = computed(api_client_for, plan, cast.hr)[cast.employee.pk]
    url = f"/api/v1/payouts/{payout.pk}/"
    assert api_client_for(cast.hr).get(url).status_code == 200
    assert api_client_for(cast.manager).get(url).status_code == 404  # before publication only HR sees it
    assert api_client_for(cast.stranger).get(url).status_code == 404
    assert api_client_for(cast.employee).get(url).status_code == 404  # before publication
    hr = api_client_for(cast.hr)
    assert hr.post(f"/api/v1/incentive-plans/{plan.pk}/approve/", {}, format="json").status_code == 200
    assert hr.post(f"/api/v1/incentive-plans/{plan.pk}/publish/", {}, format="json").status_code == 200
    mine = api_client_for(cast.employee).get("/api/v1/payouts/").json()
    assert [p["employee"] for p in mine["results"]] == [cast.employee.pk]
    assert api_client_for(cast.manager).get(url).status_code == 200
    body = api_client_for(cast.employee).get(url).json()
    assert body["amount"] == "1565.00" and body["breakdown"][0].startswith("QI goals")
    theirs = api_client_for(cast.stranger).get("/api/v1/payouts/").json()["results"]
    assert [p["employee"] for p in theirs] == [cast.stranger.pk]  # their own, published; nobody else's


def test_patch_adjusts_with_a_reason_and_version_and_an_approved_plan_refuses(setup, api_client_for):
    cast, _, plan = setup
    payout = computed(api_client_for, plan, cast.hr)[cast.employee.pk]
    url = f"/api/v1/payouts/{payout.pk}/"
    hr = api_client_for(cast.hr)
    no_reason = hr.patch(url, {"version": payout.version, "amount": "1600", "adjustment_reason": ""}, format="json")
    assert no_reason.status_code == 400 and "adjustment_reason" in no_reason.json()
    # Out of the manager's sight before publication: 404, as on the page.
    assert (
        api_client_for(cast.manager)
        .patch(url, {"version": payout.version, "amount": "1", "adjustment_reason": "x"}, format="json")
        .status_code
        == 404
    )
    ok = hr.patch(
        url, {"version": payout.version, "amount": "1600", "adjustment_reason": "Covered nights"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["adjustments"][0]["reason"] == "Covered nights"
    stale = hr.patch(url, {"version": payout.version, "amount": "1700", "adjustment_reason": "again"}, format="json")
    assert stale.status_code == 409
    plan.refresh_from_db()
    assert (
        hr.post(f"/api/v1/incentive-plans/{plan.pk}/approve/", {"version": plan.version}, format="json").status_code
        == 200
    )
    locked = hr.patch(url, {"version": ok.json()["version"], "amount": "1", "adjustment_reason": "late"}, format="json")
    assert locked.status_code == 400
    assert hr.post(f"/api/v1/incentive-plans/{plan.pk}/compute/").status_code == 400
    assert Payout.objects.get(pk=payout.pk).amount == Decimal("1600.00")
    assert IncentivePlan.objects.get(pk=plan.pk).state == PlanState.APPROVED


def test_payroll_export_as_csv_and_xlsx_for_hr_only(setup, api_client_for):
    cast, _, plan = setup
    computed(api_client_for, plan, cast.hr)
    hr = api_client_for(cast.hr)
    response = hr.get(f"/api/v1/incentive-plans/{plan.pk}/export-csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.splitlines()[0].startswith("employee_id,name,department,target_bonus")
    assert f"{cast.employee.employee_id},Staff Nurse,Nursing,2000.00,1565.00,1565.00,no," in text
    response = hr.get(f"/api/v1/incentive-plans/{plan.pk}/export-xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:2] == ["employee_id", "name"]
    assert api_client_for(cast.manager).get(f"/api/v1/incentive-plans/{plan.pk}/export-csv/").status_code == 404


def test_target_bonuses_set_and_imported_through_the_api(setup, api_client_for, django_capture_on_commit_callbacks):
    cast, _, plan = setup
    hr = api_client_for(cast.hr)
    url = f"/api/v1/incentive-plans/{plan.pk}/target-bonuses/"
    response = hr.put(url, {"target_bonuses": [{"employee": cast.chief.pk, "amount": "4000.00"}]}, format="json")
    assert response.status_code == 200, response.content
    assert {r["employee"]: r["amount"] for r in response.json()}[cast.chief.pk] == "4000.00"
    upload = io.BytesIO(f"employee_id,amount\n{cast.chief.employee_id},abc\n".encode())
    upload.name = "targets.csv"
    with django_capture_on_commit_callbacks(execute=True):  # the import is a job (eager in tests)
        response = hr.post(url + "import/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    job = hr.get(response["Location"]).json()
    assert job["status"] == "rejected" and [(e["row"], e["field"]) for e in job["errors"]] == [(2, "amount")]

"""Amounts beyond their column, a decimal comma and over-long names are refused with a message
on the page, in the import and from the API; nothing is saved that a page could not show, and
the target-bonus page and its CSV template keep answering."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incentives.models.plans import IncentivePlan, Payout, PlanComponent, TargetBonus
from incentives.services import plans as services

pytestmark = pytest.mark.django_db

TOO_LARGE = "10000000000"  # 11 digits before the point; a target bonus holds 10


def the_pages_still_answer(client_for, cast, plan: IncentivePlan) -> None:
    hr = client_for(cast.hr)
    assert hr.get(reverse("incentives:targets_edit", args=[plan.pk])).status_code == 200
    template = hr.get(reverse("incentives:targets_import", args=[plan.pk]), {"template": "csv"})
    assert template.status_code == 200 and cast.employee.employee_id in template.content.decode("utf-8-sig")


# ---------------------------------------------------------------- target bonuses


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (TOO_LARGE, "the largest accepted is 9,999,999,999.99"),
        ("1500,50", "use a point for decimals"),
    ],
    ids=["beyond-the-column", "decimal-comma"],
)
def test_the_targets_page_refuses_it_on_its_row_and_keeps_answering(world, amount, message, client_for):
    cast, _, plan = world
    response = client_for(cast.hr).post(
        reverse("incentives:targets_edit", args=[plan.pk]), {"version": plan.version, f"amount-{cast.chief.pk}": amount}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TargetBonus.objects.filter(plan=plan, employee=cast.chief).exists()
    the_pages_still_answer(client_for, cast, plan)


def test_the_targets_page_reads_a_thousands_separator_and_a_pound_sign(world, client_for):
    cast, _, plan = world
    response = client_for(cast.hr).post(
        reverse("incentives:targets_edit", args=[plan.pk]),
        {"version": plan.version, f"amount-{cast.chief.pk}": "£9,999,999,999.99"},
    )
    assert response.status_code == 302
    assert TargetBonus.objects.get(plan=plan, employee=cast.chief).amount == Decimal("9999999999.99")
    the_pages_still_answer(client_for, cast, plan)


@pytest.mark.parametrize(
    ("amount", "message"),
    [(TOO_LARGE, "the largest accepted is 9,999,999,999.99"), ('"1500,50"', "use a point for decimals")],
    ids=["beyond-the-column", "decimal-comma"],
)
def test_the_targets_import_refuses_the_row_and_imports_nothing(
    world, amount, message, client_for, django_capture_on_commit_callbacks
):
    cast, _, plan = world
    upload = io.BytesIO(
        f"employee_id,amount\n{cast.manager.employee_id},3500\n{cast.chief.employee_id},{amount}\n".encode()
    )
    upload.name = "targets.csv"
    with django_capture_on_commit_callbacks(execute=True):  # the import runs as a job (eager in tests)
        response = client_for(cast.hr).post(reverse("incentives:targets_import", args=[plan.pk]), {"file": upload})
    assert response.status_code == 302
    page = client_for(cast.hr).get(response["Location"]).content.decode()
    assert "<td>3</td><td>amount</td>" in page and message in page and "nothing was imported" in page
    assert TargetBonus.objects.get(plan=plan, employee=cast.manager).amount == Decimal("3000")
    the_pages_still_answer(client_for, cast, plan)


def test_the_targets_api_answers_400_and_saves_nothing(
    world, client_for, api_client_for, django_capture_on_commit_callbacks
):
    cast, _, plan = world
    url = f"/api/v1/incentive-plans/{plan.pk}/target-bonuses/"
    response = api_client_for(cast.hr).put(
        url, {"target_bonuses": [{"employee": cast.chief.pk, "amount": TOO_LARGE}]}, format="json"
    )
    assert response.status_code == 400
    upload = io.BytesIO(f"employee_id,amount\n{cast.chief.employee_id},{TOO_LARGE}\n".encode())
    upload.name = "targets.csv"
    with django_capture_on_commit_callbacks(execute=True):  # the import runs as a job (eager in tests)
        imported = api_client_for(cast.hr).post(url + "import/", {"file": upload}, format="multipart")
    assert imported.status_code == 202
    job = api_client_for(cast.hr).get(imported["Location"]).json()
    assert job["status"] == "rejected" and "9,999,999,999.99" in str(job["errors"])
    assert not TargetBonus.objects.filter(plan=plan, employee=cast.chief).exists()
    the_pages_still_answer(client_for, cast, plan)


# ---------------------------------------------------------------- payout adjustments


def test_an_adjustment_beyond_the_column_is_refused_on_the_page_and_by_the_api(
    world,
    django_capture_on_commit_callbacks,
    client_for,
    api_client_for,
    compute_payouts,
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    page = client_for(cast.hr).post(
        reverse("incentives:payout_adjust", args=[payout.pk]),
        {"amount": TOO_LARGE, "adjustment_reason": "Typo", "version": payout.version},
    )
    assert page.status_code == 400 and "the largest accepted is 9,999,999,999.99" in page.content.decode()
    api = api_client_for(cast.hr).patch(
        f"/api/v1/payouts/{payout.pk}/",
        {"amount": TOO_LARGE, "adjustment_reason": "Typo", "version": payout.version},
        format="json",
    )
    assert api.status_code == 400 and "amount" in api.json()
    assert Payout.objects.get(pk=payout.pk).amount == Decimal("1565.00")


# ---------------------------------------------------------------- components and names


def test_a_component_cap_beyond_its_column_and_a_long_name_are_refused(world, plan_components):
    cast, _, plan = world
    rows = plan_components
    rows[0]["cap"] = "100000"
    rows[0]["name"] = "QI goals " * 19  # 170 characters once trimmed; a name holds 160
    with pytest.raises(ValidationError) as refused:
        services.components_set(user=cast.hr.user, plan=plan, expected_version=plan.version, components=rows)
    errors = refused.value.message_dict
    assert "the largest accepted is 9,999.99" in errors["components[0].cap"][0]
    assert "Keep it to 160 characters; this has 170." in errors["components[0].name"][0]
    assert PlanComponent.objects.get(plan=plan, position=0).cap == Decimal("150")


def test_a_plan_name_too_long_is_refused_not_cut(world):
    cast, _, plan = world
    with pytest.raises(ValidationError) as refused:
        services.plan_update(user=cast.hr.user, plan=plan, expected_version=plan.version, data={"name": "B" * 161})
    assert "Keep it to 160 characters; this has 161." in refused.value.message_dict["name"][0]
    assert IncentivePlan.objects.get(pk=plan.pk).name == "Clinical bonus"


def test_the_plan_and_pathway_forms_let_the_server_say_a_name_is_too_long(world, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    for url in (reverse("incentives:plan_edit", args=[plan.pk]), reverse("incentives:pathway_create")):
        page = hr.get(url).content.decode()
        assert 'name="name"' in page and "maxlength" not in page
    response = hr.post(
        reverse("incentives:pathway_create"),
        {"name": "Quality Champion " * 8, "goal_cycles": 1, "min_achieved_goals": 1},
    )
    assert response.status_code == 400
    assert "at most 120 characters" in response.content.decode()


def test_a_computation_whose_payouts_could_not_be_stored_is_not_started(world, client_for):
    """9,999,999,999.99 fits a target bonus, but under a 150 % cap its payout would not fit."""
    cast, _, plan = world
    services.target_bonuses_set(user=cast.hr.user, plan=plan, amounts={cast.chief.pk: "9999999999.99"})
    plan.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.compute_start(user=cast.hr.user, plan=plan)
    assert "Chief Nurse's target bonus of £9,999,999,999.99 could pay £12,499,999,999.99" in str(refused.value)
    assert "Lower the target bonus or the caps." in str(refused.value)
    assert not Payout.objects.filter(plan=plan).exists()
    page = client_for(cast.hr).get(reverse("incentives:plan_detail", args=[plan.pk]))
    assert page.status_code == 200 and "more than the largest payout (£9,999,999,999.99)" in page.content.decode()

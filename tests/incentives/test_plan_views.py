"""HR's incentive-plan pages and everyone's "My payouts": who may open what (403 for a wrong
role, 404 outside a payout's privacy), set-up with its refusals (weights, a reason for each
adjustment, stale saves, a locked plan), computing through the page, the payouts with their
breakdown, approval and publication, the payroll exports and bounded queries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from incentives.models.plans import IncentivePlan, Payout, PayoutAdjustment, PlanComponent, PlanState, TargetBonus
from incentives.services import plans as services
from tests.appraisals.factories import ParticipantFactory, PublishedFormVersionFactory
from tests.factories import DepartmentFactory, EmployeeFactory

D = Decimal
pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def approve_and_publish(plan: IncentivePlan, cast) -> IncentivePlan:
    plan = services.plan_approve(user=cast.hr.user, plan=IncentivePlan.objects.get(pk=plan.pk))
    return services.plan_publish(user=cast.hr.user, plan=plan)


def plan_urls(plan: IncentivePlan) -> list[str]:
    names = [
        "plan_detail",
        "plan_edit",
        "components_edit",
        "targets_edit",
        "targets_import",
        "compute_progress",
        "payout_list",
        "export_csv",
        "export_xlsx",
    ]
    return [reverse("incentives:plan_list"), reverse("incentives:plan_create")] + [
        reverse(f"incentives:{name}", args=[plan.pk]) for name in names
    ]


# ---------------------------------------------------------------- who may open what


def test_every_plan_page_is_hrs_the_set_up_pages_403_a_plan_404_for_anyone_else(world, client_for):
    """The plan list and "new plan" are HR's set-up pages (403); a plan is outside anyone else's
    scope (404), as in the API."""
    cast, _, plan = world
    urls = plan_urls(plan)
    set_up = {reverse("incentives:plan_list"), reverse("incentives:plan_create")}
    for person in (cast.employee, cast.manager, cast.chief, cast.stranger):
        client = client_for(person)
        for url in urls:
            assert client.get(url).status_code == (403 if url in set_up else 404), (person, url)
    hr = client_for(cast.hr)
    for url in urls:
        assert hr.get(url).status_code == 200, url


@pytest.mark.parametrize("name", ["compute", "plan_approve", "plan_publish"])
def test_plan_actions_are_hrs(world, name, client_for):
    cast, _, plan = world
    for person in (cast.employee, cast.manager, cast.stranger):
        assert client_for(person).post(reverse(f"incentives:{name}", args=[plan.pk])).status_code == 404
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFT


def test_a_plan_is_404_for_others_whether_or_not_it_exists(world, client_for):
    cast, _, plan = world
    missing = reverse("incentives:plan_detail", args=[plan.pk + 999])
    there = reverse("incentives:plan_detail", args=[plan.pk])
    assert client_for(cast.hr).get(missing).status_code == 404
    # The same answer whether the plan exists or not: nothing leaks.
    assert client_for(cast.stranger).get(missing).status_code == 404
    assert client_for(cast.stranger).get(there).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(world):
    _, _, plan = world
    response = Client().get(reverse("incentives:plan_detail", args=[plan.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_payout_is_private_to_the_person_after_publication_their_managers_and_hr(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    url = reverse("incentives:payout_detail", args=[payout.pk])
    # Before publication only HR sees a payout (PRODUCT.md), managers included.
    expected = {"employee": 404, "manager": 404, "chief": 404, "stranger": 404, "hr": 200}
    for role, status in expected.items():
        assert client_for(getattr(cast, role)).get(url).status_code == status, role
    approve_and_publish(plan, cast)
    response = client_for(cast.employee).get(url)
    assert response.status_code == 200 and "Your payout" in text(response)
    assert client_for(cast.manager).get(url).status_code == 200
    assert client_for(cast.chief).get(url).status_code == 200
    assert client_for(cast.stranger).get(url).status_code == 404


def test_only_hr_adjusts_and_others_outside_the_payout_get_404(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    url = reverse("incentives:payout_adjust", args=[payout.pk])
    assert client_for(cast.employee).get(url).status_code == 404  # not published: not theirs to see yet
    assert client_for(cast.stranger).get(url).status_code == 404
    assert client_for(cast.manager).get(url).status_code == 404  # not published: HR's alone
    assert client_for(cast.hr).get(url).status_code == 200
    approve_and_publish(plan, cast)
    assert client_for(cast.manager).get(url).status_code == 403  # sees it now, may not change it
    response = client_for(cast.manager).post(url, {"amount": "1", "adjustment_reason": "x", "version": "1"})
    assert response.status_code == 403
    assert Payout.objects.get(pk=payout.pk).amount == D("1565.00")


# ---------------------------------------------------------------- the list and the plan's page


@override_settings(THROUGHLINE_MIN_QI_WEIGHT=60)
def test_the_list_and_the_plan_show_the_qi_share_and_the_misalignment_warning(world, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    listing = text(hr.get(reverse("incentives:plan_list")))
    assert "Clinical bonus" in listing and "2026 cycle" in listing
    assert "50 %" in listing and "Misaligned" in listing
    page = text(hr.get(reverse("incentives:plan_detail", args=[plan.pk])))
    assert "Reward misalignment" in page and "below the floor of 60 %" in page
    assert "QI-linked share: <strong>50 %</strong>" in page


def test_an_aligned_plan_shows_no_warning(world, client_for):
    cast, _, plan = world
    page = text(client_for(cast.hr).get(reverse("incentives:plan_detail", args=[plan.pk])))
    assert "Reward misalignment" not in page
    assert "Misaligned" not in text(client_for(cast.hr).get(reverse("incentives:plan_list")))


def test_the_plan_page_counts_the_eligible_and_the_missing_target_bonuses(world, client_for):
    cast, _, plan = world
    page = text(client_for(cast.hr).get(reverse("incentives:plan_detail", args=[plan.pk])))
    assert '<p class="big-figure" data-eligible-count>4</p>' in page
    assert "1 person has none yet" in page  # the chief
    assert "Patient flow: discharges before noon" in page and "Every department" in page
    assert "Compute payouts" in page


def test_the_plan_page_lists_what_blocks_computing(world, client_for):
    cast, _, plan = world
    services.components_set(
        user=cast.hr.user,
        plan=plan,
        expected_version=None,
        components=[{"kind": "qi_goals", "weight": 60}, {"kind": "org_measure", "name": "Flow", "weight": 40}],
    )
    page = text(client_for(cast.hr).get(reverse("incentives:plan_detail", args=[plan.pk])))
    assert "Enter the achievement % of “Flow” before computing." in page
    assert "Compute payouts</button>" not in page


# ---------------------------------------------------------------- creating and editing a plan


def test_hr_creates_a_plan_through_the_page(world, client_for):
    cast, cycle, _ = world
    nursing = cast.employee.department
    ward = DepartmentFactory(name="Ward 7", parent=nursing)
    hr = client_for(cast.hr)
    form = text(hr.get(reverse("incentives:plan_create")))
    assert "Nursing › Ward 7" in form  # sub-departments named under their parents
    response = hr.post(
        reverse("incentives:plan_create"),
        {
            "cycle": cycle.pk,
            "name": "Nursing bonus",
            "departments": [nursing.pk],
            "job_titles": ["Staff nurse"],
            "minimum_tenure_months": "6",
        },
    )
    plan = IncentivePlan.objects.get(name="Nursing bonus")
    assert response.status_code == 302 and response["Location"] == reverse("incentives:components_edit", args=[plan.pk])
    assert list(plan.departments.all()) == [nursing] and plan.job_titles == ["Staff nurse"]
    assert plan.minimum_tenure_months == 6 and ward not in plan.departments.all()


def test_a_duplicate_name_or_bad_tenure_is_refused_beside_the_field(world, client_for):
    cast, cycle, _ = world
    hr = client_for(cast.hr)
    response = hr.post(reverse("incentives:plan_create"), {"cycle": cycle.pk, "name": "Clinical bonus"})
    assert response.status_code == 400
    assert "already has a plan called “Clinical bonus”" in text(response)
    response = hr.post(
        reverse("incentives:plan_create"), {"cycle": cycle.pk, "name": "Other", "minimum_tenure_months": "-1"}
    )
    assert response.status_code == 400 and "field__error" in text(response)
    assert IncentivePlan.objects.count() == 1


def test_editing_the_eligibility_and_a_stale_edit_answers_409_keeping_the_input(world, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    url = reverse("incentives:plan_edit", args=[plan.pk])
    data = {"name": "Clinical bonus 2026", "minimum_tenure_months": "3", "version": plan.version}
    response = hr.post(url, data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.minimum_tenure_months) == ("Clinical bonus 2026", 3)
    stale = hr.post(url, {**data, "name": "My stale name", "version": plan.version - 1})
    assert stale.status_code == 409
    page = text(stale)
    assert "someone else saved this plan" in page and 'value="My stale name"' in page
    assert f'name="version" value="{plan.version}"' in page  # saving again overrides knowingly
    plan.refresh_from_db()
    assert plan.name == "Clinical bonus 2026"


# ---------------------------------------------------------------- components


def component_post(rows: list[dict[str, object]], *, version: int, action: str = "save", deleted=()) -> dict:
    data: dict[str, object] = {
        "components-TOTAL_FORMS": str(len(rows)),
        "components-INITIAL_FORMS": "0",
        "components-MIN_NUM_FORMS": "0",
        "components-MAX_NUM_FORMS": "1000",
        "version": str(version),
        "action": action,
    }
    for i, row in enumerate(rows):
        for key in ("kind", "name", "weight", "threshold", "cap", "achievement"):
            data[f"components-{i}-{key}"] = row.get(key, {"threshold": "0", "cap": "100"}.get(key, ""))
        if i in deleted:
            data[f"components-{i}-DELETE"] = "on"
    return data


def test_the_components_page_shows_the_saved_rows_and_totals(world, client_for):
    cast, _, plan = world
    page = text(client_for(cast.hr).get(reverse("incentives:components_edit", args=[plan.pk])))
    assert 'value="Patient flow: discharges before noon"' in page
    assert "Weights total: <strong data-weights-total>100</strong>" in page
    assert "<strong data-qi-share>50 %</strong>" in page


def test_weights_not_totalling_100_are_refused_with_the_exact_numbers(world, client_for):
    cast, _, plan = world
    rows = [
        {"kind": "qi_goals", "name": "QI", "weight": "50"},
        {"kind": "appraisal_score", "name": "Score", "weight": "40"},
    ]
    response = client_for(cast.hr).post(
        reverse("incentives:components_edit", args=[plan.pk]), component_post(rows, version=plan.version)
    )
    assert response.status_code == 400
    page = text(response)
    assert "The component weights total 90 (QI 50 + Score 40); they must total 100." in page
    assert 'value="Score"' in page  # the rows as typed are kept
    assert PlanComponent.objects.filter(plan=plan).count() == 3


def test_a_row_error_is_shown_beside_its_field(world, client_for):
    cast, _, plan = world
    rows = [{"kind": "qi_goals", "name": "QI", "weight": "100", "threshold": "80", "cap": "50"}]
    response = client_for(cast.hr).post(
        reverse("incentives:components_edit", args=[plan.pk]), component_post(rows, version=plan.version)
    )
    assert response.status_code == 400
    assert "The cap (50 %) is below the threshold (80 %)." in text(response)


def test_saving_components_with_a_removed_row_and_a_low_qi_share_warns(world, client_for):
    cast, _, plan = world
    rows = [
        {"kind": "qi_goals", "name": "QI", "weight": "20"},
        {"kind": "appraisal_score", "name": "Score", "weight": "80"},
        {"kind": "org_measure", "name": "Dropped", "weight": "30"},
    ]
    hr = client_for(cast.hr)
    response = hr.post(
        reverse("incentives:components_edit", args=[plan.pk]), component_post(rows, version=plan.version, deleted={2})
    )
    assert response.status_code == 302
    assert list(PlanComponent.objects.filter(plan=plan).values_list("name", "weight")) == [("QI", 20), ("Score", 80)]
    page = text(hr.get(response["Location"]))
    assert "QI-linked goals carry 20 %" in page and "Reward misalignment" in page


def test_add_a_row_keeps_what_was_typed_and_saves_nothing(world, client_for):
    cast, _, plan = world
    rows = [{"kind": "qi_goals", "name": "Typed", "weight": "70"}]
    response = client_for(cast.hr).post(
        reverse("incentives:components_edit", args=[plan.pk]), component_post(rows, version=plan.version, action="add")
    )
    assert response.status_code == 200
    page = text(response)
    assert 'value="Typed"' in page and 'name="components-1-weight"' in page
    assert 'name="components-TOTAL_FORMS" value="2"' in page
    assert PlanComponent.objects.filter(plan=plan, name="Typed").count() == 0


def test_a_blank_added_row_is_left_out_when_saving(world, client_for):
    cast, _, plan = world
    rows = [{"kind": "qi_goals", "name": "All QI", "weight": "100"}, {}]
    response = client_for(cast.hr).post(
        reverse("incentives:components_edit", args=[plan.pk]), component_post(rows, version=plan.version)
    )
    assert response.status_code == 302
    assert list(PlanComponent.objects.filter(plan=plan).values_list("name", flat=True)) == ["All QI"]


def test_the_live_totals_follow_what_is_typed(world, client_for):
    cast, _, plan = world
    rows = [{"kind": "qi_goals", "weight": "25"}, {"kind": "appraisal_score", "weight": "70"}]
    response = client_for(cast.hr).post(
        reverse("incentives:components_edit", args=[plan.pk]),
        component_post(rows, version=plan.version, action="preview"),
        HTTP_HX_REQUEST="true",
    )
    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    assert "<strong data-weights-total>95</strong>" in page and "they must total 100" in page
    assert "<strong data-qi-share>25 %</strong>" in page and "Below the floor of 40 %" in page
    assert PlanComponent.objects.filter(plan=plan).count() == 3


def test_a_stale_components_save_answers_409_and_keeps_the_rows(world, client_for):
    cast, _, plan = world
    rows = [{"kind": "qi_goals", "name": "Mine", "weight": "100"}]
    response = client_for(cast.hr).post(
        reverse("incentives:components_edit", args=[plan.pk]), component_post(rows, version=plan.version - 1)
    )
    assert response.status_code == 409
    page = text(response)
    assert 'value="Mine"' in page and "Saved now" in page and "someone else saved this plan" in page
    assert not PlanComponent.objects.filter(plan=plan, name="Mine").exists()


# ---------------------------------------------------------------- target bonuses


def test_the_targets_page_lists_the_eligible_with_their_amounts_and_saves_changes(world, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    url = reverse("incentives:targets_edit", args=[plan.pk])
    page = text(hr.get(url))
    assert "Chief Nurse" in page and f'name="amount-{cast.employee.pk}" value="2000.00"' in page
    missing = text(hr.get(url, {"missing": "1"}))
    assert "Chief Nurse" in missing and "Staff Nurse" not in missing
    response = hr.post(
        url, {"version": plan.version, f"amount-{cast.chief.pk}": "4000", f"amount-{cast.employee.pk}": "2000.00"}
    )
    assert response.status_code == 302
    assert TargetBonus.objects.get(plan=plan, employee=cast.chief).amount == D("4000")
    assert "1 target bonus was saved." in text(hr.get(response["Location"]))


def test_a_bad_amount_is_shown_on_its_row_and_nothing_is_saved(world, client_for):
    cast, _, plan = world
    url = reverse("incentives:targets_edit", args=[plan.pk])
    response = client_for(cast.hr).post(
        url, {"version": plan.version, f"amount-{cast.chief.pk}": "12.345", f"amount-{cast.manager.pk}": "10"}
    )
    assert response.status_code == 400
    page = text(response)
    assert "The amount has more than two decimal places." in page and 'value="12.345"' in page
    assert not TargetBonus.objects.filter(plan=plan, employee=cast.chief).exists()
    assert TargetBonus.objects.get(plan=plan, employee=cast.manager).amount == D("3000")


def test_a_stale_targets_save_answers_409_keeping_the_input(world, client_for):
    cast, _, plan = world
    url = reverse("incentives:targets_edit", args=[plan.pk])
    response = client_for(cast.hr).post(url, {"version": plan.version - 1, f"amount-{cast.chief.pk}": "777"})
    assert response.status_code == 409
    assert 'value="777"' in text(response)
    assert not TargetBonus.objects.filter(plan=plan, employee=cast.chief).exists()


def test_targets_import_from_csv_and_xlsx_and_row_errors(world, client_for, django_capture_on_commit_callbacks):
    cast, _, plan = world
    hr = client_for(cast.hr)
    url = reverse("incentives:targets_import", args=[plan.pk])
    bad = io.BytesIO(f"employee_id,amount\n{cast.chief.employee_id},1500\nNOPE,10\n".encode())
    bad.name = "targets.csv"
    with django_capture_on_commit_callbacks(execute=True):  # the import runs as a job (eager in tests)
        response = hr.post(url, {"file": bad})
    assert response.status_code == 302
    page = text(hr.get(response["Location"]))
    assert "<td>3</td><td>employee_id</td><td>No employee has ID NOPE.</td>" in page
    assert "nothing was imported" in page
    assert not TargetBonus.objects.filter(plan=plan, employee=cast.chief).exists()
    book = Workbook()
    book.active.append(["employee_id", "amount"])
    book.active.append([cast.chief.employee_id, 2500])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "targets.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(url, {"file": buffer})
    assert response.status_code == 302
    assert "1 target bonus imported." in text(hr.get(response["Location"]))
    assert TargetBonus.objects.get(plan=plan, employee=cast.chief).amount == D("2500")


def test_the_import_template_lists_the_eligible_people(world, client_for):
    cast, _, plan = world
    response = client_for(cast.hr).get(reverse("incentives:targets_import", args=[plan.pk]), {"template": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["employee_id", "amount", "name", "department"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[cast.employee.employee_id][1] == "2000.00" and by_id[cast.chief.employee_id][1] == ""
    assert len(rows) == 5


# ---------------------------------------------------------------- computing


def test_computing_through_the_page_runs_to_the_end(world, django_capture_on_commit_callbacks, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(reverse("incentives:compute", args=[plan.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("incentives:compute_progress", args=[plan.pk])
    plan.refresh_from_db()
    assert plan.state == PlanState.COMPUTED and Payout.objects.filter(plan=plan).count() == 4
    page = text(hr.get(response["Location"]))
    assert "Payouts computed" in page and 'value="100"' in page and "4 of 4 people" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling
    assert reverse("incentives:payout_list", args=[plan.pk]) in page
    detail = text(hr.get(reverse("incentives:plan_detail", args=[plan.pk])))
    assert "£3,245.00" in detail  # 1565 + 1260 + 420 + 0
    assert "Approve…" in detail


def test_computing_is_refused_with_the_reason(world, client_for):
    cast, _, plan = world
    services.components_set(
        user=cast.hr.user,
        plan=plan,
        expected_version=None,
        components=[{"kind": "qi_goals", "weight": 60}, {"kind": "org_measure", "name": "Flow", "weight": 40}],
    )
    response = client_for(cast.hr).post(reverse("incentives:compute", args=[plan.pk]))
    assert response.status_code == 400
    assert "Enter the achievement % of “Flow” before computing." in text(response)
    assert IncentivePlan.objects.get(pk=plan.pk).state == PlanState.DRAFT


def test_the_progress_partial_polls_while_computing_and_shows_an_error(world, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    url = reverse("incentives:compute_progress", args=[plan.pk])
    IncentivePlan.objects.filter(pk=plan.pk).update(state=PlanState.COMPUTING, compute_total=8, compute_done=2)
    partial = text(hr.get(url, HTTP_HX_REQUEST="true"))
    assert 'hx-trigger="every 1s"' in partial and 'value="25"' in partial and "2 of 8 people" in partial
    assert "<html" not in partial and 'aria-live="polite"' in partial
    assert 'hx-trigger="every 1s"' in text(hr.get(reverse("incentives:plan_detail", args=[plan.pk])))
    IncentivePlan.objects.filter(pk=plan.pk).update(
        state=PlanState.DRAFT, compute_error="Computing the payouts failed: boom"
    )
    partial = text(hr.get(url, HTTP_HX_REQUEST="true"))
    assert "Computing stopped" in partial and "boom" in partial and 'role="alert"' in partial
    assert 'hx-trigger="every 1s"' not in partial


# ---------------------------------------------------------------- payouts


def test_the_payout_list_filters_sorts_and_marks_adjustments(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payouts = compute_payouts(plan)
    services.payout_adjust(
        user=cast.hr.user,
        payout=payouts[cast.chief.pk],
        amount="50",
        reason="Covered the night shifts",
        expected_version=payouts[cast.chief.pk].version,
    )
    hr = client_for(cast.hr)
    url = reverse("incentives:payout_list", args=[plan.pk])
    page = text(hr.get(url))
    assert "4 people" in page and "1 adjusted by HR" in page and "Adjusted</span>" in page
    assert "£3,295.00 to pay" in page
    by_amount = text(hr.get(url, {"sort": "-amount"}))
    assert by_amount.index("Staff Nurse") < by_amount.index("Ward Manager") < by_amount.index("Chief Nurse")
    pharmacy = text(hr.get(url, {"department": cast.stranger.department_id}))
    assert "Pharmacist" in pharmacy and "Staff Nurse" not in pharmacy and "1 of 4 payouts match" in pharmacy
    named = text(hr.get(url, {"q": "ward"}))
    assert "Ward Manager" in named and "Pharmacist" not in named


def test_the_payout_list_costs_the_same_queries_whatever_its_length(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries, client_for, compute_payouts
):
    cast, cycle, plan = world
    compute_payouts(plan)
    hr = client_for(cast.hr)
    url = reverse("incentives:payout_list", args=[plan.pk])
    with django_assert_max_num_queries(12) as few:
        hr.get(url)
    form = PublishedFormVersionFactory()
    extra = []
    for i in range(60):
        person = EmployeeFactory(department=DepartmentFactory(name=f"Ward {i % 7}"), manager=cast.manager)
        ParticipantFactory(cycle=cycle, employee=person, form_version=form)
        extra.append(person.pk)
    plan = IncentivePlan.objects.get(pk=plan.pk)
    services.target_bonuses_set(user=cast.hr.user, plan=plan, amounts=dict.fromkeys(extra, "100"))
    compute_payouts(IncentivePlan.objects.get(pk=plan.pk))
    assert Payout.objects.filter(plan=plan).count() == 64
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = hr.get(url, {"sort": "-amount"})
    assert response.status_code == 200


def test_the_payout_page_explains_the_amount_in_plain_words(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    page = text(client_for(cast.hr).get(reverse("incentives:payout_detail", args=[payout.pk])))
    assert "£1,565.00" in page
    assert "72.5 % achieved (2 approved QI-linked goals)" in page
    # A component whose name holds a colon is still read as one component.
    assert '<th scope="row">Patient flow: discharges before noon</th>' in page
    assert '<td class="num nowrap">150 %</td>' in page  # the QI component's cap
    assert "components added unrounded, rounded once to the penny" in page and ">£1,565.00</td>" in page
    assert "£725.00" in page and "£480.00" in page and "£360.00" in page
    assert "rounded once to the penny" in page
    chief = compute_payouts(IncentivePlan.objects.get(pk=plan.pk))[cast.chief.pk]
    page = text(client_for(cast.hr).get(reverse("incentives:payout_detail", args=[chief.pk])))
    assert "No target bonus was entered for this person" in page
    approve_and_publish(plan, cast)
    manager = text(client_for(cast.manager).get(reverse("incentives:payout_detail", args=[payout.pk])))
    assert "Staff Nurse's payout" in manager and "Adjust…" not in manager


def test_an_adjustment_needs_a_reason_and_lands_in_the_history(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    hr = client_for(cast.hr)
    url = reverse("incentives:payout_adjust", args=[payout.pk])
    response = hr.post(url, {"amount": "1700", "adjustment_reason": "  ", "version": payout.version})
    assert response.status_code == 400
    page = text(response)
    assert "Say why the payout is adjusted: the reason is kept in its history." in page
    assert 'value="1700"' in page
    assert not PayoutAdjustment.objects.exists()
    response = hr.post(url, {"amount": "abc", "adjustment_reason": "Led huddles", "version": payout.version})
    assert response.status_code == 400 and "Enter an amount such as 2000 or 2000.00." in text(response)
    response = hr.post(url, {"amount": "1700", "adjustment_reason": "Led huddles", "version": payout.version})
    assert response.status_code == 302 and response["Location"] == reverse("incentives:payout_detail", args=[payout.pk])
    payout.refresh_from_db()
    assert payout.amount == D("1700.00") and payout.adjusted
    detail = text(hr.get(response["Location"]))
    assert "Led huddles" in detail and "£1,565.00" in detail and "£1,700.00" in detail and "HR Admin" in detail
    # The person sees the history too, once published.
    approve_and_publish(plan, cast)
    own = text(client_for(cast.employee).get(response["Location"]))
    assert "Led huddles" in own and "£1,700.00" in own


def test_a_stale_adjustment_answers_409_keeping_the_input(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    services.payout_adjust(
        user=cast.hr.user, payout=payout, amount="1600", reason="First", expected_version=payout.version
    )
    response = client_for(cast.hr).post(
        reverse("incentives:payout_adjust", args=[payout.pk]),
        {"amount": "1999", "adjustment_reason": "My late reason", "version": payout.version},
    )
    assert response.status_code == 409
    page = text(response)
    assert 'value="1999"' in page and "My late reason" in page and "It is now £1,600.00" in page
    assert Payout.objects.get(pk=payout.pk).amount == D("1600.00")


# ---------------------------------------------------------------- approval, locking, publication


def test_approval_asks_first_then_locks_the_plan_and_every_edit_page_refuses(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payout = compute_payouts(plan)[cast.employee.pk]
    hr = client_for(cast.hr)
    url = reverse("incentives:plan_approve", args=[plan.pk])
    confirm = hr.post(url)
    assert confirm.status_code == 200 and "Approve and lock the plan" in text(confirm)
    assert IncentivePlan.objects.get(pk=plan.pk).state == PlanState.COMPUTED
    response = hr.post(url, {"confirmed": "1", "version": plan.version})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == PlanState.APPROVED and plan.approved_by == cast.hr
    detail = text(hr.get(reverse("incentives:plan_detail", args=[plan.pk])))
    assert "Locked." in detail and "Edit components" not in detail and "Publish…" in detail
    locked = "This incentive plan is approved and locked: nothing in it can change."
    for name in ("plan_edit", "components_edit", "targets_edit", "targets_import"):
        edit_url = reverse(f"incentives:{name}", args=[plan.pk])
        response = hr.get(edit_url)
        assert response.status_code == 302, name
        assert locked in text(hr.get(response["Location"]))
    posted = hr.post(
        reverse("incentives:components_edit", args=[plan.pk]),
        component_post([{"kind": "qi_goals", "name": "X", "weight": "100"}], version=plan.version),
    )
    assert posted.status_code == 302 and PlanComponent.objects.filter(plan=plan).count() == 3
    hr.post(reverse("incentives:plan_edit", args=[plan.pk]), {"name": "Renamed", "version": plan.version})
    assert IncentivePlan.objects.get(pk=plan.pk).name == "Clinical bonus"
    adjust = hr.post(
        reverse("incentives:payout_adjust", args=[payout.pk]),
        {"amount": "1", "adjustment_reason": "late", "version": payout.version},
    )
    assert adjust.status_code == 400 and "approved and locked" in text(adjust)
    assert "approved and locked" in text(hr.get(reverse("incentives:payout_adjust", args=[payout.pk])))
    again = hr.post(reverse("incentives:compute", args=[plan.pk]))
    assert again.status_code == 400 and "cannot be recomputed" in text(again)


def test_approval_needs_computed_payouts(world, client_for):
    cast, _, plan = world
    response = client_for(cast.hr).post(reverse("incentives:plan_approve", args=[plan.pk]), {"confirmed": "1"})
    assert response.status_code == 400 and "Compute the payouts" in text(response)


def test_a_stale_approval_answers_409(world, django_capture_on_commit_callbacks, client_for, compute_payouts):
    cast, _, plan = world
    compute_payouts(plan)
    response = client_for(cast.hr).post(
        reverse("incentives:plan_approve", args=[plan.pk]), {"confirmed": "1", "version": plan.version - 1}
    )
    assert response.status_code == 409 and "changed after you opened it" in text(response)
    assert IncentivePlan.objects.get(pk=plan.pk).state == PlanState.COMPUTED


def test_publishing_lets_people_see_their_own_payout(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payouts = compute_payouts(plan)
    services.plan_approve(user=cast.hr.user, plan=plan)
    hr = client_for(cast.hr)
    url = reverse("incentives:plan_publish", args=[plan.pk])
    assert "Publish the payouts" in text(hr.post(url))
    mine = text(client_for(cast.employee).get(reverse("incentives:my_payouts")))
    assert "Nothing published for you yet" in mine
    assert hr.post(url, {"confirmed": "1"}).status_code == 302
    assert IncentivePlan.objects.get(pk=plan.pk).state == PlanState.PUBLISHED
    mine = text(client_for(cast.employee).get(reverse("incentives:my_payouts")))
    assert "£1,565.00" in mine and reverse("incentives:payout_detail", args=[payouts[cast.employee.pk].pk]) in mine
    assert "Your team's" not in mine  # not a manager


# ---------------------------------------------------------------- my payouts


def test_my_payouts_for_each_kind_of_person(world, django_capture_on_commit_callbacks, client_for, compute_payouts):
    cast, _, plan = world
    payouts = compute_payouts(plan)
    url = reverse("incentives:my_payouts")
    employee = text(client_for(cast.employee).get(url))
    assert "Nothing published for you yet" in employee and "£1,565.00" not in employee
    manager = text(client_for(cast.manager).get(url))
    # Before publication only HR sees payouts (PRODUCT.md): a manager sees neither theirs nor their report's.
    assert "£1,565.00" not in manager and "Nothing published for you yet" in manager
    hr = text(client_for(cast.hr).get(url))
    assert "Staff Nurse" not in hr  # HR's own page holds HR's own payouts, not everyone's
    approve_and_publish(plan, cast)
    manager = text(client_for(cast.manager).get(url))
    assert "Staff Nurse" in manager and "£1,565.00" in manager
    assert reverse("incentives:payout_detail", args=[payouts[cast.manager.pk].pk]) in manager
    assert "£1,260.00" in manager
    chief = text(client_for(cast.chief).get(url))
    assert "Staff Nurse" in chief and "Ward Manager" in chief  # anyone below, at any depth
    stranger = text(client_for(cast.stranger).get(url))
    assert "Staff Nurse" not in stranger and "Your team's" not in stranger


# ---------------------------------------------------------------- exports


def test_the_exports_hold_every_payout_for_payroll(
    world, django_capture_on_commit_callbacks, client_for, compute_payouts
):
    cast, _, plan = world
    payouts = compute_payouts(plan)
    services.payout_adjust(
        user=cast.hr.user,
        payout=payouts[cast.employee.pk],
        amount="1600",
        reason="Covered two wards",
        expected_version=payouts[cast.employee.pk].version,
    )
    hr = client_for(cast.hr)
    response = hr.get(reverse("incentives:export_csv", args=[plan.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="payouts-clinical-bonus-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["employee_id", "name", "department", "target_bonus", "computed_amount", "amount"]
    by_id = {r[0]: r for r in rows[1:]}
    assert len(by_id) == 4
    assert by_id[cast.employee.employee_id][3:] == ["2000.00", "1565.00", "1600.00", "yes", "Covered two wards"]
    response = hr.get(reverse("incentives:export_xlsx", args=[plan.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "employee_id" and len(values) == 5
    row = next(v for v in values if v[0] == cast.manager.employee_id)
    assert row[5] == 1260 and row[6] == "no"


def test_an_import_too_large_or_without_a_file_is_refused(world, settings, client_for):
    cast, _, plan = world
    hr = client_for(cast.hr)
    url = reverse("incentives:targets_import", args=[plan.pk])
    assert hr.post(url).status_code == 400
    settings.THROUGHLINE_IMPORT_MAX_BYTES = 1024
    big = io.BytesIO(b"employee_id,amount\n" + b"E1,1\n" * 400)
    big.name = "big.csv"
    response = hr.post(url, {"file": big})
    assert response.status_code == 400 and "The file is larger than 1 KB." in text(response)

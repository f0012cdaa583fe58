"""Incentive plan services: eligibility, computation, adjustments, locking and privacy."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.test import TestCase, override_settings

from core.errors import ConflictError
from incentives import access
from incentives.models.plans import IncentivePlan, Payout, PayoutAdjustment, PlanComponent, PlanState, TargetBonus
from incentives.selectors import plans as selectors
from incentives.services import plans as services
from tests.factories import DepartmentFactory, EmployeeFactory

D = Decimal
pytestmark = pytest.mark.django_db


def compute(plan, user):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the task is eager in tests and runs on commit
        services.compute_start(user=user, plan=plan)
    plan.refresh_from_db()
    return {p.employee_id: p for p in Payout.objects.filter(plan=plan)}


def test_weights_must_total_100_and_the_refusal_gives_the_numbers(setup):
    cast, _, plan = setup
    with pytest.raises(ValidationError) as error:
        services.components_set(
            user=cast.hr.user,
            plan=plan,
            expected_version=None,
            components=[
                {"kind": "qi_goals", "name": "QI", "weight": 50},
                {"kind": "appraisal_score", "name": "Score", "weight": 40},
            ],
        )
    assert "total 90 (QI 50 + Score 40); they must total 100" in str(error.value)
    assert plan.components.count() == 3


@override_settings(THROUGHLINE_MIN_QI_WEIGHT=60)
def test_the_plan_warns_when_its_qi_share_is_below_the_floor(setup):
    _, _, plan = setup
    assert plan.qi_weight() == 50
    assert "below the floor of 60 %" in plan.misalignment_warning()


def test_only_hr_sets_up_plans(setup):
    cast, cycle, plan = setup
    with pytest.raises(PermissionDenied):
        services.plan_create(user=cast.manager.user, cycle=cycle, data={"name": "Mine"})
    with pytest.raises(PermissionDenied):
        services.compute_start(user=cast.manager.user, plan=plan)


def test_computing_pays_each_eligible_person_with_a_breakdown(setup):
    cast, _, plan = setup
    payouts = compute(plan, cast.hr.user)
    assert plan.state == PlanState.COMPUTED and plan.compute_done == plan.compute_total == 4
    # QI: 72.5 % × 50 % × 2000 = 725; appraisal 80 % × 30 % × 2000 = 480; measure 90 % × 20 % × 2000 = 360.
    assert payouts[cast.employee.pk].amount == D("1565.00")
    assert payouts[cast.employee.pk].breakdown[0].startswith("QI goals: 72.5 % achieved")
    # The manager has no QI goals: 0 % is below the 50 % threshold, so that part pays nothing.
    assert payouts[cast.manager.pk].amount == D("1260.00")
    assert payouts[cast.chief.pk].amount == D("0.00")  # no target bonus entered
    assert "No target bonus" in payouts[cast.chief.pk].breakdown[0]


def test_recomputing_an_unchanged_plan_gives_identical_payouts(setup):
    cast, _, plan = setup
    first = {pk: (p.amount, p.computed_amount, p.breakdown, p.version) for pk, p in compute(plan, cast.hr.user).items()}
    second = {
        pk: (p.amount, p.computed_amount, p.breakdown, p.version) for pk, p in compute(plan, cast.hr.user).items()
    }
    assert first == second
    assert services.run_compute(plan.pk).state == PlanState.COMPUTED  # not computing: does nothing


def test_tenure_is_counted_to_the_cycle_end_from_the_hire_date(setup):
    cast, _, plan = setup
    cast.employee.hire_date = datetime.date(2026, 7, 1)  # exactly 6 months before 31 Dec 2026 → 30 Jun cut-off
    cast.employee.save()
    cast.manager.hire_date = datetime.date(2026, 6, 30)
    cast.manager.save()
    cast.stranger.hire_date = None
    cast.stranger.save()
    services.plan_update(user=cast.hr.user, plan=plan, expected_version=plan.version, data={"minimum_tenure_months": 6})
    eligible = set(services.eligible_employees(IncentivePlan.objects.get(pk=plan.pk)).values_list("pk", flat=True))
    assert cast.manager.pk in eligible
    assert cast.employee.pk not in eligible
    assert cast.stranger.pk not in eligible  # no hire date: tenure unknown


def test_someone_who_changed_department_mid_cycle_is_judged_by_their_department_at_computation(setup):
    cast, _, plan = setup
    wards = DepartmentFactory(name="Wards", parent=cast.employee.department)
    services.plan_update(
        user=cast.hr.user, plan=plan, expected_version=plan.version, data={}, departments=[cast.employee.department]
    )
    plan.refresh_from_db()
    # The pharmacist moved into a ward (a sub-department of nursing) during the cycle.
    cast.stranger.department = wards
    cast.stranger.save()
    payouts = compute(plan, cast.hr.user)
    assert cast.stranger.pk in payouts
    # And the staff nurse moved out to pharmacy: no longer in the plan.
    services.plan_update(user=cast.hr.user, plan=plan, expected_version=plan.version, data={})
    cast.employee.department = DepartmentFactory(name="Pharmacy 2")
    cast.employee.save()
    payouts = compute(IncentivePlan.objects.get(pk=plan.pk), cast.hr.user)
    assert cast.employee.pk not in payouts


def test_job_titles_and_inactive_people_and_non_participants(setup):
    cast, _, plan = setup
    outsider = EmployeeFactory(department=cast.employee.department)  # not a participant
    cast.chief.is_active = False
    cast.chief.save()
    cast.manager.job_title = "Ward manager"
    cast.manager.save()
    services.plan_update(
        user=cast.hr.user, plan=plan, expected_version=plan.version, data={"job_titles": ["Ward manager"]}
    )
    eligible = set(services.eligible_employees(IncentivePlan.objects.get(pk=plan.pk)).values_list("pk", flat=True))
    assert eligible == {cast.manager.pk}
    assert outsider.pk not in eligible


def test_an_adjustment_needs_a_reason_and_is_kept_in_history(setup):
    cast, _, plan = setup
    payout = compute(plan, cast.hr.user)[cast.employee.pk]
    with pytest.raises(ValidationError, match="reason"):
        services.payout_adjust(
            user=cast.hr.user, payout=payout, amount="1600", reason="  ", expected_version=payout.version
        )
    adjusted = services.payout_adjust(
        user=cast.hr.user, payout=payout, amount="1600.00", reason="Covered two wards", expected_version=payout.version
    )
    assert adjusted.amount == D("1600.00") and adjusted.computed_amount == D("1565.00") and adjusted.adjusted
    history = PayoutAdjustment.objects.get(payout=payout)
    assert (history.old_amount, history.new_amount, history.reason, history.by) == (
        D("1565.00"),
        D("1600.00"),
        "Covered two wards",
        cast.hr.user,
    )
    with pytest.raises(ConflictError):
        services.payout_adjust(
            user=cast.hr.user, payout=payout, amount="1", reason="x", expected_version=payout.version
        )
    # A recomputation keeps HR's adjustment.
    assert compute(IncentivePlan.objects.get(pk=plan.pk), cast.hr.user)[cast.employee.pk].amount == D("1600.00")


def test_an_approved_plan_is_locked_by_every_path(setup):
    cast, _, plan = setup
    payout = compute(plan, cast.hr.user)[cast.employee.pk]
    plan = services.plan_approve(user=cast.hr.user, plan=plan)
    assert plan.state == PlanState.APPROVED and plan.approved_by == cast.hr
    hr = cast.hr.user
    with pytest.raises(ValidationError):
        services.payout_adjust(user=hr, payout=payout, amount="1", reason="late", expected_version=None)
    with pytest.raises(ValidationError):
        services.compute_start(user=hr, plan=plan)
    with pytest.raises(ValidationError):
        services.plan_update(user=hr, plan=plan, expected_version=None, data={"name": "Renamed"})
    with pytest.raises(ValidationError):
        services.target_bonuses_set(user=hr, plan=plan, amounts={cast.employee.pk: "9"})
    with pytest.raises(ValidationError):
        payout.amount = D("1")
        payout.save()
    with pytest.raises(ValidationError):
        Payout.objects.filter(plan=plan).update(amount=D("1"))
    with pytest.raises(ValidationError):
        PlanComponent.objects.filter(plan=plan).delete()
    with pytest.raises(ValidationError):
        TargetBonus.objects.create(plan=plan, employee=cast.chief, amount=D("1"))
    with pytest.raises(ValidationError):
        plan.name = "Renamed"
        plan.save()
    with pytest.raises(ValidationError):
        IncentivePlan.objects.filter(pk=plan.pk).update(name="Renamed")
    with pytest.raises(ValidationError), transaction.atomic():  # add() uses no savepoint of its own
        IncentivePlan.objects.get(pk=plan.pk).departments.add(cast.stranger.department)
    assert Payout.objects.get(pk=payout.pk).amount == D("1565.00")
    published = services.plan_publish(user=hr, plan=IncentivePlan.objects.get(pk=plan.pk))
    assert published.state == PlanState.PUBLISHED and published.published_at is not None


def test_approval_needs_computed_payouts(setup):
    cast, _, plan = setup
    with pytest.raises(ValidationError, match="Compute"):
        services.plan_approve(user=cast.hr.user, plan=plan)
    with pytest.raises(ValidationError, match="Approve"):
        services.plan_publish(user=cast.hr.user, plan=plan)


def test_a_stale_plan_edit_is_refused(setup):
    cast, _, plan = setup
    with pytest.raises(ConflictError):
        services.plan_update(user=cast.hr.user, plan=plan, expected_version=plan.version - 1, data={"name": "x"})


def test_target_bonus_import_checks_every_row_and_writes_all_or_nothing(setup):
    cast, _, plan = setup
    bad = f"employee_id,amount\n{cast.chief.employee_id},1500\nNOPE,10\n{cast.manager.employee_id},-5\n".encode()
    with pytest.raises(ValidationError) as error:
        services.target_bonuses_import(user=cast.hr.user, plan=plan, file_name="t.csv", content=bad)
    messages = error.value.message_dict["file"]
    assert "Row 3, employee_id: No employee has ID NOPE." in messages
    assert "Row 4, amount: The amount must be 0 or more." in messages
    assert not TargetBonus.objects.filter(plan=plan, employee=cast.chief).exists()
    good = f"Employee ID,Amount\n{cast.chief.employee_id},1500.50\n".encode()
    assert services.target_bonuses_import(user=cast.hr.user, plan=plan, file_name="t.csv", content=good) == 1
    assert TargetBonus.objects.get(plan=plan, employee=cast.chief).amount == D("1500.50")


def test_target_bonus_import_reads_xlsx(setup):
    import io

    from openpyxl import Workbook

    cast, _, plan = setup
    book = Workbook()
    book.active.append(["employee_id", "amount"])
    book.active.append([cast.chief.employee_id, 2500])
    buffer = io.BytesIO()
    book.save(buffer)
    services.target_bonuses_import(user=cast.hr.user, plan=plan, file_name="t.xlsx", content=buffer.getvalue())
    assert TargetBonus.objects.get(plan=plan, employee=cast.chief).amount == D("2500")


def test_a_payout_is_seen_by_the_person_after_publication_their_managers_and_hr_only(setup):
    cast, _, plan = setup
    payout = compute(plan, cast.hr.user)[cast.employee.pk]

    def sees(person) -> bool:
        try:
            selectors.get_payout(user=person.user, pk=payout.pk)
        except Http404:
            return False
        return True

    assert sees(cast.hr)
    # Before publication only HR sees a payout (PRODUCT.md): not the person, nor their managers.
    assert not sees(cast.employee) and not sees(cast.manager) and not sees(cast.chief)
    assert not sees(cast.stranger)
    plan = services.plan_approve(user=cast.hr.user, plan=plan)
    services.plan_publish(user=cast.hr.user, plan=plan)
    assert sees(cast.employee) and sees(cast.manager) and sees(cast.chief)
    assert not sees(cast.stranger)
    mine = access.payouts_visible_to(cast.employee.user)
    assert list(mine.values_list("employee_id", flat=True)) == [cast.employee.pk]


@pytest.mark.django_db(transaction=False)
def test_the_demo_hospital_has_an_approved_plan_for_the_closed_cycle_and_a_draft_for_the_current_one():
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from appraisals.demo import cycle_names

    call_command("seed_demo", stdout=StringIO())
    previous, current = cycle_names(timezone.localdate().year)
    closed = IncentivePlan.objects.get(cycle__name=previous)
    draft = IncentivePlan.objects.get(cycle__name=current)
    assert closed.state == PlanState.PUBLISHED and closed.approved_at is not None
    assert closed.payouts.count() > 0 and closed.payouts.filter(adjusted=True).count() == 1
    assert draft.state == PlanState.DRAFT and draft.misalignment_warning()
    out = StringIO()
    call_command("seed_demo", stdout=out)  # again: nothing changes
    assert IncentivePlan.objects.count() == 2

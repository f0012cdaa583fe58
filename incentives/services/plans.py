"""Writes for incentive plans and payouts. HR only (incentives/access.py); every function validates and
writes in one transaction, with its entry in the action log (core.log).

- Set-up (``plan_create``/``plan_update``, ``components_set``, ``target_bonuses_set``/``_import``)
  is allowed while the plan is a draft or computed; a change sends a computed plan back to draft
  (its payouts no longer follow from its set-up, so it must be computed again before approval).
- ``compute_start`` marks the plan ``computing`` and queues ``incentives.compute_plan`` on commit;
  its body ``run_compute`` writes payouts in batches with progress on the plan, and running it again
  gives the same payouts (an HR adjustment is kept over a recomputation, with the new computed amount).
- ``payout_adjust`` needs a reason, kept in the history. ``plan_approve`` locks the plan (the models
  refuse any later write, by any path). ``plan_publish`` lets people see their own payouts.

Eligibility (``eligible_employees``): active; a participant of the plan's cycle; in the plan's
departments or below them, judged by the department the person is in **at computation time**
(someone who moved mid-cycle counts where they are now); with one of the plan's job titles if any
are given; hired at least ``minimum_tenure_months`` before the cycle's end (a person with no hire
date on record has no known tenure and is left out when a minimum applies).
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from appraisals.models import Appraisal, Participant, ReviewCycle
from appraisals.services.cycles import department_ids_under
from cascade.models import Approval, Goal, GoalLevel, GoalStatus, ProgressMode
from core import inputs, jobs
from core.access import deny_unless
from core.errors import ConflictError
from core.inputs import check_fits, check_length, limits, parse_decimal
from core.log import diff, log_action, log_actions, snapshot
from core.tabular import ImportFileError, Problem, Upload, header_key, rows_of
from core.weights import weights_total_problem
from incentives import access
from incentives import payout_formula as rules
from incentives.models.plans import (
    ComponentKind,
    IncentivePlan,
    Payout,
    PayoutAdjustment,
    PlanComponent,
    PlanState,
    TargetBonus,
)
from people.access import employee_for_user
from people.models import Department, Employee

BATCH_SIZE = 2000
PLAN_FIELDS = frozenset({"name", "job_titles", "minimum_tenure_months"})
SETUP_STATES = frozenset({PlanState.DRAFT, PlanState.COMPUTED})


def _may_manage_plans(user, action: str) -> None:
    deny_unless(access.can_manage_plans(user), f"Only HR can {action}.")


def _locked_plan(plan: IncentivePlan, expected_version: int | None = None) -> IncentivePlan:
    current = IncentivePlan.objects.select_for_update().get(pk=plan.pk)
    if expected_version is not None and current.version != expected_version:
        raise ConflictError()
    return current


def _require_setup(plan: IncentivePlan) -> None:
    if plan.is_locked:
        raise ValidationError("This incentive plan is approved and locked: nothing in it can change.")
    if plan.state not in SETUP_STATES:
        raise ValidationError("The payouts are being computed; wait until it finishes.")


def _bump(plan: IncentivePlan, fields: set[str]) -> IncentivePlan:
    plan.version = F("version") + 1
    plan.save(update_fields=sorted(fields | {"version"}))
    plan.refresh_from_db()
    return plan


def _back_to_draft(plan: IncentivePlan, fields: set[str]) -> set[str]:
    if plan.state == PlanState.COMPUTED:
        plan.state = PlanState.DRAFT
        return fields | {"state"}
    return fields


def _clean_titles(value: object) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValidationError({"job_titles": "Give a list of job titles."})
    return sorted({str(v).strip() for v in value if str(v).strip()})


def _apply(plan: IncentivePlan, data: Mapping[str, object]) -> None:
    unknown = set(data) - PLAN_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    for name, value in data.items():
        setattr(plan, name, _clean_titles(value) if name == "job_titles" else value)
    if not (plan.name or "").strip():
        raise ValidationError({"name": "Give the plan a name."})
    try:
        check_length(plan.name, model=IncentivePlan, field="name")
    except ValidationError as error:
        raise ValidationError({"name": error.messages}) from None
    if plan.minimum_tenure_months is None or int(plan.minimum_tenure_months) < 0:
        raise ValidationError({"minimum_tenure_months": "The minimum tenure is a number of months, 0 or more."})


def plan_create(
    *, user, cycle: ReviewCycle, data: Mapping[str, object], departments: Iterable[Department] = ()
) -> IncentivePlan:
    _may_manage_plans(user, "create incentive plans")
    plan = IncentivePlan(cycle=cycle)
    _apply(plan, data)
    with transaction.atomic():
        if IncentivePlan.objects.filter(cycle=cycle, name=plan.name).exists():
            raise ValidationError({"name": f"“{cycle}” already has a plan called “{plan.name}”."})
        plan.save()
        plan.departments.set(list(departments))
        log_action(
            plan,
            "incentive_plan.created",
            user=user,
            data={**_setup(plan), "cycle": plan.cycle_id, "departments": sorted(d.pk for d in departments)},
        )
    return plan


def _setup(plan: IncentivePlan) -> dict[str, object]:
    return {"name": plan.name, "job_titles": plan.job_titles, "minimum_tenure_months": plan.minimum_tenure_months}


def plan_update(
    *,
    user,
    plan: IncentivePlan,
    expected_version: int | None,
    data: Mapping[str, object],
    departments: Iterable[Department] | None = None,
) -> IncentivePlan:
    _may_manage_plans(user, "change incentive plans")
    with transaction.atomic():
        current = _locked_plan(plan, expected_version)
        _require_setup(current)
        before = snapshot(current, ["name", "job_titles", "minimum_tenure_months", "state"])
        before_departments = sorted(current.departments.values_list("pk", flat=True))
        _apply(current, data)
        if IncentivePlan.objects.filter(cycle_id=current.cycle_id, name=current.name).exclude(pk=current.pk).exists():
            raise ValidationError({"name": f"This cycle already has a plan called “{current.name}”."})
        if departments is not None:
            current.departments.set(list(departments))
        current = _bump(current, _back_to_draft(current, set(data)))
        changes = diff(before, current)
        changes["departments"] = (before_departments, sorted(current.departments.values_list("pk", flat=True)))
        log_action(current, "incentive_plan.eligibility_changed", user=user, changes=changes)
        return current


# ---------------------------------------------------------------- components and target bonuses


def _component(plan: IncentivePlan, index: int, data: Mapping[str, object]) -> PlanComponent:
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in ComponentKind.values:
        errors["kind"] = "Choose QI-linked goals, appraisal score or an organisation measure."
    try:
        weight = int(data.get("weight"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        weight = 0
    if not 1 <= weight <= 100:
        errors["weight"] = "A weight is a whole number from 1 to 100."

    def number(name: str, default: str | None) -> Decimal | None:
        value = data.get(name, default)
        if value in (None, ""):
            return None
        try:
            number = parse_decimal(value)
        except ValidationError:
            errors[name] = "Enter a number."
            return None
        if number < 0:
            errors[name] = "Enter a percentage of 0 or more."
            return number
        try:
            check_fits(number, **limits(PlanComponent, name))
        except ValidationError as error:
            errors[name] = error.messages[0]
        return number

    threshold = number("threshold", "0")
    cap = number("cap", "100")
    achievement = number("achievement", None)
    if threshold is not None and cap is not None and cap < threshold:
        errors["cap"] = f"The cap ({cap} %) is below the threshold ({threshold} %)."
    if cap is not None and cap <= 0:
        errors["cap"] = "The cap must be above 0 %."
    default_name = ComponentKind(kind).label if kind in ComponentKind.values else ""
    name = str(data.get("name") or default_name).strip()
    try:
        check_length(name, model=PlanComponent, field="name")
    except ValidationError as error:
        errors["name"] = error.messages[0]
    if errors:
        raise ValidationError({f"components[{index}].{k}": v for k, v in errors.items()})
    return PlanComponent(
        plan=plan,
        kind=kind,
        name=name,
        weight=weight,
        threshold=threshold if threshold is not None else Decimal("0"),
        cap=cap if cap is not None else Decimal("100"),
        achievement=achievement if kind == ComponentKind.ORG_MEASURE else None,
        position=index,
    )


def weights_problem(components: Sequence[PlanComponent]) -> str:
    weights = [(c.name, c.weight) for c in components]
    return weights_total_problem(weights, what="component weights", joiner=" + ", none="no components") or ""


def components_set(
    *, user, plan: IncentivePlan, expected_version: int | None, components: Sequence[Mapping[str, object]]
) -> IncentivePlan:
    """Replace the plan's components; their weights must total 100."""
    _may_manage_plans(user, "change incentive plans")
    with transaction.atomic():
        current = _locked_plan(plan, expected_version)
        _require_setup(current)
        rows = [_component(current, i, c) for i, c in enumerate(components)]
        problem = weights_problem(rows)
        if problem:
            raise ValidationError({"components": problem})
        old = _component_lines(current.components.order_by("position", "pk"))
        old_state = current.state
        current.components.all().delete()
        PlanComponent.objects.bulk_create(rows)
        current = _bump(current, _back_to_draft(current, set()))
        log_action(
            current,
            "incentive_plan.components_set",
            user=user,
            changes={"components": (old, _component_lines(rows)), "state": (old_state, current.state)},
        )
        return current


def _component_lines(components: Iterable[PlanComponent]) -> list[str]:
    """Each component as one readable line for the log: "QI-linked goals (qi_goals) 50 %"."""
    return [f"{c.name} ({c.kind}) {c.weight} %" for c in components]


def _amount(value: object) -> Decimal:
    text = str(value).replace("£", "").strip()
    try:
        amount = parse_decimal(text)
    except ValidationError as error:
        if error.code == "decimal_comma":  # "1500,50": pounds and pence take a point
            raise
        raise ValidationError("Enter an amount such as 2000 or 2000.00.") from None
    if amount < 0:
        raise ValidationError("The amount must be 0 or more.")
    if amount != amount.quantize(rules.PENNY):
        raise ValidationError("The amount has more than two decimal places.")
    # Target bonuses, payouts and adjustments share one column size: an amount beyond it
    # could not be shown by the pages and exports that read it back.
    check_fits(amount, **limits(TargetBonus, "amount"))
    return amount


def target_bonuses_set(
    *, user, plan: IncentivePlan, amounts: Mapping[int, object], expected_version: int | None = None
) -> int:
    """Set (create or replace) target bonuses by employee id; all or nothing."""
    _may_manage_plans(user, "set target bonuses")
    errors: dict[str, str] = {}
    clean: dict[int, Decimal] = {}
    known = set(Employee.objects.filter(pk__in=list(amounts)).values_list("pk", flat=True))
    for employee_id, value in amounts.items():
        if employee_id not in known:
            errors[str(employee_id)] = "No such employee."
            continue
        try:
            clean[employee_id] = _amount(value)
        except ValidationError as error:
            errors[str(employee_id)] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    return _write_targets(plan, clean, expected_version, user=user, action="incentive_plan.target_bonuses_set")


def _write_targets(
    plan: IncentivePlan,
    clean: Mapping[int, Decimal],
    expected_version: int | None,
    *,
    user,
    action: str,
    data: Mapping[str, object] | None = None,
) -> int:
    with transaction.atomic():
        current = _locked_plan(plan, expected_version)
        _require_setup(current)
        old = dict(
            TargetBonus.objects.filter(plan=current, employee_id__in=list(clean)).values_list("employee_id", "amount")
        )
        TargetBonus.objects.bulk_create(
            [TargetBonus(plan=current, employee_id=pk, amount=amount) for pk, amount in clean.items()],
            update_conflicts=True,
            unique_fields=["plan", "employee"],
            update_fields=["amount"],
            batch_size=BATCH_SIZE,
        )
        old_state = current.state
        current = _bump(current, _back_to_draft(current, set()))
        # One entry for the plan, naming each amount that changed by employee id (old → new).
        changes: dict[str, tuple[object, object]] = {
            f"target_bonus[{pk}]": (old.get(pk), amount) for pk, amount in clean.items()
        }
        changes["state"] = (old_state, current.state)
        log_action(current, action, user=user, changes=changes, data={"count": len(clean), **(data or {})})
    return len(clean)


def read_target_file(file_name: str, content: Upload) -> list[tuple[int, str, str]]:
    """(row number, employee_id, amount) from a CSV or XLSX with those two headers, streamed
    (core.tabular: the row limit, cells that cannot be stored)."""
    try:
        raw = rows_of(file_name, content)
        first = next(raw, None)
        if first is None:
            raise ValidationError({"file": "The file is empty."})
        header = [header_key(h) for h in first]
        if "employee id" not in header or "amount" not in header:
            raise ValidationError({"file": "The file needs the columns employee_id and amount."})
        id_at, amount_at = header.index("employee id"), header.index("amount")
        rows = []
        for number, cells in enumerate(raw, start=2):
            cells = [*cells, None, None]
            employee_id = str(cells[id_at] if cells[id_at] is not None else "").strip()
            amount = str(cells[amount_at] if cells[amount_at] is not None else "").strip()
            if employee_id or amount:
                rows.append((number, employee_id, amount))
    except ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    return rows


def check_target_rows(
    rows: Sequence[tuple[int, str, str]], *, on_progress: Callable[[int], None] | None = None
) -> tuple[dict[int, Decimal], list[Problem]]:
    """Every row's problems, and the amounts by employee pk when there are none; no writes."""
    ids = dict(Employee.objects.filter(employee_id__in=[r[1] for r in rows]).values_list("employee_id", "pk"))
    problems: list[Problem] = []
    clean: dict[int, Decimal] = {}
    seen: dict[str, int] = {}
    for index, (number, employee_id, amount) in enumerate(rows, start=1):
        if on_progress is not None:
            on_progress(index)
        if not employee_id:
            problems.append(Problem(number, "employee_id", "The employee ID is missing."))
        elif employee_id not in ids:
            problems.append(Problem(number, "employee_id", f"No employee has ID {employee_id}."))
        elif employee_id in seen:
            problems.append(Problem(number, "employee_id", f"{employee_id} is already on row {seen[employee_id]}."))
        try:
            value = _amount(amount)
        except ValidationError as error:
            problems.append(Problem(number, "amount", error.messages[0]))
            continue
        if employee_id in ids and employee_id not in seen:
            clean[ids[employee_id]] = value
        seen.setdefault(employee_id, number)
    return clean, problems


def target_bonuses_import(*, user, plan: IncentivePlan, file_name: str, content: Upload) -> int:
    """Import target bonuses from a file at once: every row checked first, then all written or none.
    Pages and the API run it in the background instead (incentives.services.target_imports)."""
    _may_manage_plans(user, "import target bonuses")
    clean, problems = check_target_rows(read_target_file(file_name, content))
    if problems:
        raise ValidationError(
            {"file": [f"Row {p.row}, {p.field}: {p.message}" for p in problems] + ["Nothing was imported."]}
        )
    if not clean:
        raise ValidationError({"file": "The file has no rows."})
    return write_imported_targets(plan, clean, user=user, file_name=file_name)


def write_imported_targets(plan: IncentivePlan, clean: Mapping[int, Decimal], *, user, file_name: str) -> int:
    """Write checked amounts from a file (one action-log entry naming the file); all or none."""
    return _write_targets(
        plan, clean, None, user=user, action="incentive_plan.target_bonuses_imported", data={"file": file_name}
    )


# ---------------------------------------------------------------- eligibility and computation


def months_before(day: datetime.date, months: int) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def eligible_employees(plan: IncentivePlan) -> QuerySet[Employee]:
    """Who the plan pays (see the module docstring): department judged at computation time."""
    cycle = plan.cycle
    participants = Participant.objects.filter(cycle_id=plan.cycle_id).values("employee_id")
    employees = Employee.objects.filter(is_active=True, pk__in=participants)
    chosen = list(plan.departments.values_list("pk", flat=True))
    if chosen:
        employees = employees.filter(department_id__in=department_ids_under(chosen))
    if plan.job_titles:
        employees = employees.filter(job_title__in=plan.job_titles)
    if plan.minimum_tenure_months:
        employees = employees.filter(hire_date__lte=months_before(cycle.end, plan.minimum_tenure_months))
    return employees.order_by("pk")


def paid_goals(plan: IncentivePlan) -> QuerySet[Goal]:
    """The goals a plan's QI-goal component counts: approved individual goals of the cycle's period."""
    return Goal.objects.filter(
        period_id=plan.cycle.period_id, level=GoalLevel.INDIVIDUAL, approval=Approval.APPROVED
    ).exclude(status=GoalStatus.CANCELLED)


def goals_awaiting_sign_off(plan: IncentivePlan) -> int:
    """How many of the goals the plan would pay on count 0 % for want of a sign-off (shown before
    computing, so that HR can ask the managers first): closed without one, or open with progress
    typed in by hand (incentives.payout_formula.goal_figure)."""
    if not plan.components.filter(kind=ComponentKind.QI_GOALS).exists():
        return 0
    eligible = eligible_employees(plan).values("pk")
    unsigned = paid_goals(plan).filter(owner_id__in=eligible, result_signed_off_at__isnull=True)
    return unsigned.exclude(status=GoalStatus.OPEN, progress_mode=ProgressMode.MEASURE).count()


def compute_problems(plan: IncentivePlan) -> list[str]:
    components = list(plan.components.all())
    problems = []
    if not components:
        problems.append("Add the plan's components before computing.")
    elif weights_problem(components):
        problems.append(weights_problem(components))
    for c in components:
        if c.kind == ComponentKind.ORG_MEASURE and c.achievement is None:
            problems.append(f"Enter the achievement % of “{c.name}” before computing.")
    if problem := _payout_overflow(plan, components):
        problems.append(problem)
    return problems


def _payout_overflow(plan: IncentivePlan, components: Sequence[PlanComponent]) -> str:
    """The largest payout the caps allow must fit the payout column: otherwise the computation
    would stop part-way, or store an amount the pages and exports could not show."""
    most = sum((Decimal(c.weight) * c.cap for c in components), Decimal("0")) / Decimal("10000")
    largest = TargetBonus.objects.filter(plan=plan).select_related("employee").order_by("-amount").first()
    if largest is None or not most:
        return ""
    top = rules.round_money(largest.amount * most)
    ceiling = inputs.largest(**limits(Payout, "amount"))
    if top <= ceiling:
        return ""
    return (
        f"{largest.employee.full_name}'s target bonus of {rules.money(largest.amount)} could pay "
        f"{rules.money(top)} under these caps, more than the largest payout ({rules.money(ceiling)}). "
        "Lower the target bonus or the caps."
    )


def compute_start(*, user, plan: IncentivePlan, queue: bool = True) -> IncentivePlan:
    """Mark the plan computing and queue the task once this commits (``queue=False``: the caller
    runs ``run_compute`` itself, as the demo data and the benchmark do)."""
    _may_manage_plans(user, "compute payouts")
    from incentives.tasks import compute_plan  # the task module imports this one

    with transaction.atomic():
        current = _locked_plan(plan)
        if current.is_locked:
            raise ValidationError("This incentive plan is approved and locked: its payouts cannot be recomputed.")
        problems = compute_problems(current)
        if problems:
            raise ValidationError(problems)
        if current.state != PlanState.COMPUTING:
            old_state = current.state
            current.state = PlanState.COMPUTING
            current.compute_total = eligible_employees(current).count()
            current.compute_done = 0
            current.compute_error = ""
            current.progress_at = jobs.beat()["progress_at"]
            current = _bump(current, {"state", "compute_total", "compute_done", "compute_error", "progress_at"})
            log_action(
                current,
                "incentive_plan.compute_started",
                user=user,
                changes={"state": (old_state, current.state)},
                data={"eligible": current.compute_total},
            )
        if queue:
            transaction.on_commit(lambda: compute_plan.delay(current.pk))
    return current


def compute_resume(*, user, plan: IncentivePlan) -> IncentivePlan:
    """HR resumes a computation that stalled (core.jobs): the task is queued again and gives the
    same payouts, none twice. One that is moving, or was resumed a moment ago, is left alone."""
    _may_manage_plans(user, "compute payouts")
    from incentives.tasks import compute_plan  # the task module imports this one

    with transaction.atomic():
        current = _locked_plan(plan)
        if current.state != PlanState.COMPUTING:
            raise ValidationError("Only a computation under way can be resumed; this plan is not computing.")
        if not current.is_stalled:
            return current
        IncentivePlan.objects.filter(pk=current.pk).update(**jobs.beat())
        log_action(current, "incentive_plan.compute_resumed", user=user)
        transaction.on_commit(lambda: compute_plan.delay(current.pk))
    current.refresh_from_db()
    return current


def _rules(plan: IncentivePlan) -> list[rules.ComponentRule]:
    return [
        rules.ComponentRule(
            kind=c.kind, name=c.name, weight=c.weight, threshold=c.threshold, cap=c.cap, achievement=c.achievement
        )
        for c in plan.components.all()
    ]


def _compute_batch(plan: IncentivePlan, components, employee_ids: list[int], targets, existing) -> None:
    goals: dict[int, list[rules.GoalFigure]] = {}
    for owner_id, weight, progress, status, signed_off_at, mode in (
        paid_goals(plan)
        .filter(owner_id__in=employee_ids)
        .order_by("pk")
        .values_list("owner_id", "weight", "progress", "status", "result_signed_off_at", "progress_mode")
    ):
        # Only a signed-off result counts in full (incentives.payout_formula.goal_figure).
        figure = rules.goal_figure(
            weight=weight,
            progress=progress,
            status=status,
            signed_off=signed_off_at is not None,
            measure_driven=mode == ProgressMode.MEASURE,
        )
        goals.setdefault(owner_id, []).append(figure)
    scores = dict(
        Appraisal.objects.filter(
            participant__cycle_id=plan.cycle_id, participant__employee_id__in=employee_ids
        ).values_list("participant__employee_id", "score")
    )
    new, changed = [], []
    for pk in employee_ids:
        target = targets.get(pk, Decimal("0.00"))
        result = rules.compute_payout(
            target=target, components=components, goals=goals.get(pk, ()), appraisal_score=scores.get(pk)
        )
        breakdown = (
            result.breakdown
            if pk in targets
            else ["No target bonus was entered for this person: £0.00.", *result.breakdown]
        )
        payout = existing.get(pk)
        if payout is None:
            new.append(
                Payout(
                    plan=plan,
                    employee_id=pk,
                    target_bonus=target,
                    computed_amount=result.amount,
                    amount=result.amount,
                    breakdown=breakdown,
                )
            )
            continue
        amount = payout.amount if payout.adjusted else result.amount
        if (payout.target_bonus, payout.computed_amount, payout.amount, payout.breakdown) != (
            target,
            result.amount,
            amount,
            breakdown,
        ):
            payout.target_bonus, payout.computed_amount, payout.amount, payout.breakdown = (
                target,
                result.amount,
                amount,
                breakdown,
            )
            payout.version += 1
            changed.append(payout)
    # A resumed computation may race the one it replaced: the unique (plan, person) keeps one payout.
    Payout.objects.bulk_create(new, batch_size=BATCH_SIZE, ignore_conflicts=True)
    # ignore_conflicts leaves the new rows without ids: read the batch's written payouts back to log them.
    written = [p.employee_id for p in new] + [p.employee_id for p in changed]
    if written:
        log_actions(
            # Each entry names the payout by its person: joined here, not fetched once a payout.
            Payout.objects.filter(plan=plan, employee_id__in=written).select_related("employee").order_by("pk"),
            "payout.computed",
            data={"plan": plan.pk},
        )
    if changed:
        Payout.objects.bulk_update(
            changed, ["target_bonus", "computed_amount", "amount", "breakdown", "version"], batch_size=500
        )


def run_compute(plan_id: int) -> IncentivePlan:
    """The compute task's body: nothing unless the plan is ``computing``; then every eligible person's
    payout, a batch per transaction with progress on the plan; payouts of people no longer eligible are
    removed. Running it again (or after it died half-way) gives the same payouts."""
    plan = IncentivePlan.objects.select_related("cycle").get(pk=plan_id)
    if plan.state != PlanState.COMPUTING:
        return plan

    def mark(**fields: object) -> None:
        IncentivePlan.objects.filter(pk=plan_id).update(**fields, **jobs.beat())

    try:
        components = _rules(plan)
        employee_ids = list(eligible_employees(plan).values_list("pk", flat=True))
        targets = dict(TargetBonus.objects.filter(plan=plan).values_list("employee_id", "amount"))
        mark(compute_total=len(employee_ids), compute_done=0, compute_error="")
        with transaction.atomic():
            gone = list(
                Payout.objects.filter(plan=plan).exclude(employee_id__in=employee_ids).select_related("employee")
            )
            log_actions(gone, "payout.removed", data={"plan": plan.pk, "reason": "no longer eligible"})
            Payout.objects.filter(pk__in=[p.pk for p in gone]).delete()
        existing = {p.employee_id: p for p in Payout.objects.filter(plan=plan)}
        for start, batch in jobs.batches(employee_ids, BATCH_SIZE):
            with transaction.atomic():
                _compute_batch(plan, components, list(batch), targets, existing)
            mark(compute_done=start + len(batch))
        with transaction.atomic():
            mark(state=PlanState.COMPUTED, computed_at=timezone.now(), version=F("version") + 1)
            log_action(
                plan,
                "incentive_plan.computed",
                changes={"state": (PlanState.COMPUTING, PlanState.COMPUTED)},
                data={"payouts": len(employee_ids)},
            )
    except Exception as error:  # the page shows what went wrong; the plan goes back to draft
        mark(state=PlanState.DRAFT, compute_error=f"Computing the payouts failed: {error}")
        raise
    return IncentivePlan.objects.get(pk=plan_id)


# ---------------------------------------------------------------- review, approval, publication


def payout_adjust(*, user, payout: Payout, amount: object, reason: str, expected_version: int | None) -> Payout:
    deny_unless(access.can_adjust_payout(user, payout), access.ADJUST_MESSAGE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"adjustment_reason": "Say why the payout is adjusted: the reason is kept in its history."}
        )
    try:
        new_amount = _amount(amount)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None
    with transaction.atomic():
        plan = _locked_plan(payout.plan)
        if plan.is_locked:
            raise ValidationError("This incentive plan is approved and locked: its payouts cannot change.")
        if plan.state != PlanState.COMPUTED:
            raise ValidationError("Payouts can be adjusted once computed, and not while being recomputed.")
        current = Payout.objects.select_for_update().get(pk=payout.pk)
        if expected_version is not None and current.version != expected_version:
            raise ConflictError()
        PayoutAdjustment.objects.create(
            payout=current, old_amount=current.amount, new_amount=new_amount, reason=reason, by=user
        )
        old_amount = current.amount
        current.amount = new_amount
        current.adjusted = new_amount != current.computed_amount or current.adjusted
        current.adjustment_reason = reason
        current.version = F("version") + 1
        current.save(update_fields=["amount", "adjusted", "adjustment_reason", "version"])
        current.refresh_from_db()
        log_action(
            current,
            "payout.adjusted",
            user=user,
            changes={"amount": (old_amount, current.amount)},
            data={"reason": reason, "plan": plan.pk},
        )
        return current


def plan_approve(*, user, plan: IncentivePlan, expected_version: int | None = None) -> IncentivePlan:
    _may_manage_plans(user, "approve incentive plans")
    with transaction.atomic():
        current = _locked_plan(plan, expected_version)
        if current.is_locked:
            raise ValidationError("This incentive plan is already approved.")
        if current.state != PlanState.COMPUTED:
            raise ValidationError("Compute the payouts (again, after any change to the plan) before approving.")
        current.state = PlanState.APPROVED
        current.approved_by = employee_for_user(user)
        current.approved_at = timezone.now()
        current = _bump(current, {"state", "approved_by", "approved_at"})
        log_action(
            current, "incentive_plan.approved", user=user, changes={"state": (PlanState.COMPUTED, current.state)}
        )
        return current


def plan_publish(*, user, plan: IncentivePlan, expected_version: int | None = None) -> IncentivePlan:
    _may_manage_plans(user, "publish incentive plans")
    with transaction.atomic():
        current = _locked_plan(plan, expected_version)
        if current.state == PlanState.PUBLISHED:
            raise ValidationError("This incentive plan is already published.")
        if current.state != PlanState.APPROVED:
            raise ValidationError("Approve the plan before publishing its payouts.")
        current.state = PlanState.PUBLISHED
        current.published_at = timezone.now()
        current = _bump(current, {"state", "published_at"})
        log_action(
            current, "incentive_plan.published", user=user, changes={"state": (PlanState.APPROVED, current.state)}
        )
        return current


def export_rows(plan: IncentivePlan) -> list[list[object]]:
    """Rows for payroll: a header, then one row per payout (amounts as exact decimals)."""
    rows: list[list[object]] = [
        [
            "employee_id",
            "name",
            "department",
            "target_bonus",
            "computed_amount",
            "amount",
            "adjusted",
            "adjustment_reason",
        ]
    ]
    for p in Payout.objects.filter(plan=plan).select_related("employee__department").order_by("employee__employee_id"):
        rows.append(
            [
                p.employee.employee_id,
                p.employee.full_name,
                p.employee.department.name,
                p.target_bonus,
                p.computed_amount,
                p.amount,
                "yes" if p.adjusted else "no",
                p.adjustment_reason,
            ]
        )
    return rows

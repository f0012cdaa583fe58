"""Incentive-plan pages: HR's plans (set-up, components, target bonuses, computing, review,
adjustment, approval, publication, payroll exports) and everyone's "My payouts".

Plans are HR's: anyone else gets 403 on every plan page, asked before the plan is looked
up, so the answer says nothing about which plans exist. A payout follows
incentives.selectors: its person sees it once the plan is published, their managers (anyone
above them) and HR always; anyone else gets 404. Adjusting is HR's (403 for a manager who
may read the payout). Writing goes through incentives.services.plans: a ValidationError
answers 400 with the messages on the page, a stale save (ConflictError) 409 with what HR
typed kept, and a locked (approved) plan refuses every change with the model's message.
"""

from __future__ import annotations

import copy
import csv
import io
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ConflictError
from core.inputs import parse_decimal
from incentives import selectors
from incentives.forms import (
    AdjustForm,
    PlanForm,
    TargetImportForm,
    add_component_errors,
    add_service_errors,
    component_formset,
)
from incentives.models.plans import (
    PLAN_LOCKED_MESSAGE,
    ComponentKind,
    IncentivePlan,
    Payout,
    PlanComponent,
    PlanState,
    TargetBonus,
    min_qi_weight,
)
from incentives.services import plans as services
from people import selectors as people
from people.models import Department, Employee

PAYOUTS_PER_PAGE = 50
TARGETS_PER_PAGE = 50
MY_REPORTS_PER_PAGE = 50
SORTS = {
    "name": ("employee__full_name", "pk"),
    "amount": ("amount", "employee__full_name", "pk"),
    "-amount": ("-amount", "employee__full_name", "pk"),
}


# ---------------------------------------------------------------- access


def _require_hr(request: HttpRequest) -> None:
    if not people.is_hr_admin(request.user):
        raise PermissionDenied("Only HR can set up, compute and approve incentive plans.")


def _plan(request: HttpRequest, pk: int) -> IncentivePlan:
    """The plan for HR (404 if there is none); 403 for anyone else, whatever the id."""
    _require_hr(request)
    return selectors.get_plan(user=request.user, pk=pk)


def _refuse_locked(request: HttpRequest, plan: IncentivePlan) -> HttpResponse | None:
    """Set-up pages of an approved plan send HR back to the plan with the reason."""
    if plan.is_locked:
        messages.error(request, PLAN_LOCKED_MESSAGE)
        return redirect("incentives:plan_detail", pk=plan.pk)
    return None


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


# ---------------------------------------------------------------- the list


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_hr(request)
    plans = (
        selectors.plans_visible_to(user=request.user)
        .prefetch_related(Prefetch("components", queryset=PlanComponent.objects.order_by("position", "pk")))
        .annotate(payout_count=Count("payouts"), payout_total=Sum("payouts__amount"))
        .order_by("-cycle__start", "cycle_id", "name", "pk")
    )
    groups: list[dict[str, object]] = []
    for plan in plans:
        plan.qi_share = plan.qi_weight()
        plan.warning = plan.misalignment_warning()
        if not groups or groups[-1]["cycle"] != plan.cycle:
            groups.append({"cycle": plan.cycle, "plans": []})
        groups[-1]["plans"].append(plan)  # type: ignore[union-attr]
    return render(request, "incentives/plans/list.html", {"groups": groups, "floor": min_qi_weight()})


# ---------------------------------------------------------------- set-up: the plan itself


def _form_page(
    request: HttpRequest, form: PlanForm, *, plan: IncentivePlan | None = None, status: int = 200, **extra: object
) -> HttpResponse:
    return render(request, "incentives/plans/form.html", {"form": form, "plan": plan, **extra}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    _require_hr(request)
    if request.method != "POST":
        return _form_page(request, PlanForm())
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            plan = services.plan_create(
                user=request.user,
                cycle=form.cleaned_data["cycle"],
                data=form.service_data(),
                departments=form.cleaned_data["departments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{plan.name}” was created. Next: its components and their weights.")
            return redirect("incentives:components_edit", pk=plan.pk)
    return _form_page(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if refused := _refuse_locked(request, plan):
        return refused
    if request.method != "POST":
        return _form_page(request, PlanForm(initial=PlanForm.initial_for(plan), plan=plan), plan=plan)
    form = PlanForm(request.POST, initial=PlanForm.initial_for(plan), plan=plan)
    if form.is_valid():
        try:
            services.plan_update(
                user=request.user,
                plan=copy.copy(plan),  # the service changes it; the page keeps the one read
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                departments=form.cleaned_data["departments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ConflictError as exc:
            current = selectors.get_plan(user=request.user, pk=pk)
            data = request.POST.copy()
            data["version"] = str(current.version)
            form = PlanForm(data, initial=PlanForm.initial_for(current), plan=current)
            form.is_valid()
            return _form_page(
                request,
                form,
                plan=current,
                status=409,
                conflict=exc.message,
                current=current,
                current_departments=list(current.departments.all()),
            )
        else:
            messages.success(request, "The plan's eligibility was saved.")
            return redirect("incentives:plan_detail", pk=plan.pk)
    return _form_page(request, form, plan=plan, status=400)


# ---------------------------------------------------------------- the plan at a glance


def _totals(plan: IncentivePlan) -> dict[str, object]:
    return Payout.objects.filter(plan=plan).aggregate(
        count=Count("pk"),
        total=Sum("amount"),
        computed=Sum("computed_amount"),
        target=Sum("target_bonus"),
        adjusted=Count("pk", filter=Q(adjusted=True)),
    )


def _compute_status(plan: IncentivePlan) -> dict[str, object]:
    """How far computing has got; "finished" stops the page polling (done, or stopped with an error)."""
    total = plan.compute_total
    done = min(plan.compute_done, total) if total else plan.compute_done
    return {
        "total": total,
        "done": done,
        "percent": plan.percent,
        "finished": plan.state != PlanState.COMPUTING or bool(plan.compute_error),
        "error": plan.compute_error,
        "stalled": plan.is_stalled,
        "computed": plan.state in {PlanState.COMPUTED, PlanState.APPROVED, PlanState.PUBLISHED},
    }


def _detail_page(request: HttpRequest, plan: IncentivePlan, *, status: int = 200, **extra: object) -> HttpResponse:
    components = list(plan.components.order_by("position", "pk"))
    eligible = services.eligible_employees(plan)
    eligible_count = eligible.count()
    with_target = TargetBonus.objects.filter(plan=plan, employee__in=eligible).count()
    context: dict[str, object] = {
        "plan": plan,
        "components": components,
        "weights_total": sum(c.weight for c in components),
        "qi_share": sum(c.weight for c in components if c.kind == ComponentKind.QI_GOALS),
        "floor": min_qi_weight(),
        "warning": plan.misalignment_warning(),
        "departments": list(plan.departments.order_by("name")),
        "eligible_count": eligible_count,
        "with_target": with_target,
        "missing_targets": eligible_count - with_target,
        "problems": services.compute_problems(plan) if not plan.is_locked else [],
        "totals": _totals(plan),
        "compute": _compute_status(plan),
        "can_set_up": plan.state in {PlanState.DRAFT, PlanState.COMPUTED},
    }
    context.update(extra)
    return render(request, "incentives/plans/detail.html", context, status=status)


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _plan(request, pk))


# ---------------------------------------------------------------- components


def _posted_rows(formset) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The rows as typed (also when some do not parse), for the running total and QI share."""
    rows = []
    for form in formset.forms:
        if form["DELETE"].value():
            continue
        kind, weight = form["kind"].value() or "", str(form["weight"].value() or "").strip()
        if not kind and not weight:
            continue
        try:
            number = int(weight)
        except ValueError:
            number = 0
        rows.append({"kind": kind, "name": form["name"].value() or "", "weight": number})
    return rows


def _totals_context(rows: list[dict[str, object]]) -> dict[str, object]:
    components = [
        PlanComponent(
            kind=str(r["kind"]),
            name=str(r["name"]) or (ComponentKind(r["kind"]).label if r["kind"] in ComponentKind.values else "?"),
            weight=int(r["weight"]),  # type: ignore[call-overload]
        )
        for r in rows
    ]
    share = sum(c.weight for c in components if c.kind == ComponentKind.QI_GOALS)
    floor = min_qi_weight()
    return {
        "weights_total": sum(c.weight for c in components),
        "weights_problem": services.weights_problem(components),
        "qi_share": share,
        "floor": floor,
        "below_floor": share < floor,
    }


def _components_page(
    request: HttpRequest, plan: IncentivePlan, formset, *, status: int = 200, **extra: object
) -> HttpResponse:  # type: ignore[no-untyped-def]
    context: dict[str, object] = {
        "plan": plan,
        "formset": formset,
        "version": extra.pop("version", plan.version),
        **_totals_context(_posted_rows(formset)),
        **extra,
    }
    # The service's refusal of the weights is the alert at the top; the running total need not repeat it.
    context["problem_above"] = context["weights_problem"] in (context.get("errors") or [])
    return render(request, "incentives/plans/components.html", context, status=status)


def _plain(value: Decimal | None) -> str:
    """A percentage as people write it: 40.00 → "40", 12.50 → "12.5"."""
    return "" if value is None else format(value.normalize(), "f")


def _initial_components(plan: IncentivePlan) -> list[dict[str, object]]:
    return [
        {
            "kind": c.kind,
            "name": c.name,
            "weight": c.weight,
            "threshold": _plain(c.threshold),
            "cap": _plain(c.cap),
            "achievement": _plain(c.achievement),
        }
        for c in plan.components.order_by("position", "pk")
    ]


@login_required
@require_http_methods(["GET", "POST"])
def components_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if refused := _refuse_locked(request, plan):
        return refused
    if request.method != "POST":
        # A plan without components starts with one row of each kind, weights to fill in.
        initial = _initial_components(plan) or [{"kind": kind} for kind in ComponentKind.values]
        formset = component_formset(initial=initial)
        return _components_page(request, plan, formset)
    action = request.POST.get("action", "save")
    formset = component_formset(request.POST, add_row=action == "add")
    if action == "preview":  # htmx, as HR types: the running total and QI share, nothing saved
        return render(request, "incentives/plans/_component_totals.html", _totals_context(_posted_rows(formset)))
    if action == "add":
        return _components_page(request, plan, formset, version=_version(request))
    if not formset.is_valid():
        return _components_page(request, plan, formset, status=400, version=_version(request))
    given = [i for i, form in enumerate(formset.forms) if form.cleaned_data and form not in formset.deleted_forms]
    try:
        services.components_set(
            user=request.user,
            plan=copy.copy(plan),
            expected_version=_version(request),
            components=[formset.forms[i].service_row() for i in given],
        )
    except ValidationError as exc:
        errors = add_component_errors(formset, given, exc)
        return _components_page(request, plan, formset, status=400, version=_version(request), errors=errors)
    except ConflictError as exc:
        current = selectors.get_plan(user=request.user, pk=pk)
        return _components_page(
            request,
            current,
            formset,
            status=409,
            conflict=exc.message,
            saved=list(current.components.order_by("position", "pk")),
        )
    plan = selectors.get_plan(user=request.user, pk=pk)
    note = f" {plan.misalignment_warning()}" if plan.misalignment_warning() else ""
    messages.success(request, f"The components were saved: QI-linked goals carry {plan.qi_weight()} %.{note}")
    return redirect("incentives:plan_detail", pk=plan.pk)


# ---------------------------------------------------------------- target bonuses


def _target_rows(plan: IncentivePlan, request: HttpRequest) -> tuple[object, str, bool]:
    """One page of eligible people with their stored target bonus (two queries a page)."""
    query = request.GET.get("q", "").strip()
    missing = request.GET.get("missing") == "1"
    people_qs = services.eligible_employees(plan).select_related("department")
    if query:
        people_qs = people_qs.filter(
            Q(full_name__icontains=query) | Q(employee_id__iexact=query) | Q(department__name__icontains=query)
        )
    if missing:
        people_qs = people_qs.exclude(pk__in=TargetBonus.objects.filter(plan=plan).values("employee_id"))
    page = Paginator(people_qs.order_by("full_name", "pk"), TARGETS_PER_PAGE).get_page(request.GET.get("page"))
    stored = dict(
        TargetBonus.objects.filter(plan=plan, employee__in=[p.pk for p in page.object_list]).values_list(
            "employee_id", "amount"
        )
    )
    for person in page.object_list:
        person.stored = stored.get(person.pk)
    return page, query, missing


def _targets_page(request: HttpRequest, plan: IncentivePlan, *, status: int = 200, **extra: object) -> HttpResponse:
    page, query, missing = _target_rows(plan, request)
    posted = extra.pop("posted", {})
    errors = extra.pop("row_errors", {})
    for person in page.object_list:
        person.value = posted.get(person.pk, "" if person.stored is None else person.stored)
        person.error = errors.get(str(person.pk), "")
    eligible = services.eligible_employees(plan)
    total = eligible.count()
    with_target = TargetBonus.objects.filter(plan=plan, employee__in=eligible).count()
    context = {
        "plan": plan,
        "page": page,
        "query": query,
        "missing": missing,
        "eligible_count": total,
        "missing_count": total - with_target,
        "version": extra.pop("version", plan.version),
        **extra,
    }
    return render(request, "incentives/plans/targets.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def targets_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if refused := _refuse_locked(request, plan):
        return refused
    if request.method != "POST":
        return _targets_page(request, plan)
    eligible = set(
        services.eligible_employees(plan)
        .filter(pk__in=[int(k[7:]) for k in request.POST if k.startswith("amount-") and k[7:].isdigit()])
        .values_list("pk", flat=True)
    )
    # Only the boxes filled in are saved: an empty box keeps what is stored (a target bonus
    # is never removed, only set, e.g. to 0).
    posted = {pk: request.POST[f"amount-{pk}"].strip() for pk in eligible}
    stored = dict(TargetBonus.objects.filter(plan=plan, employee__in=eligible).values_list("employee_id", "amount"))
    # Only what changed is written: saving an untouched page must not send a computed plan back to draft.
    amounts = {pk: value for pk, value in posted.items() if value and not _same_amount(value, stored.get(pk))}
    if not amounts:
        messages.info(request, "Nothing was changed.")
        return redirect(request.get_full_path())
    try:
        count = services.target_bonuses_set(
            user=request.user, plan=copy.copy(plan), amounts=amounts, expected_version=_version(request)
        )
    except ValidationError as exc:
        row_errors = exc.message_dict if hasattr(exc, "error_dict") else {}
        general = [] if row_errors else list(exc.messages)
        return _targets_page(
            request,
            plan,
            status=400,
            posted=posted,
            row_errors={k: v[0] for k, v in row_errors.items()},
            errors=general,
            version=_version(request),
        )
    except ConflictError as exc:
        current = selectors.get_plan(user=request.user, pk=pk)
        return _targets_page(request, current, status=409, posted=posted, conflict=exc.message)
    messages.success(request, f"{count} target bonus{'es were' if count != 1 else ' was'} saved.")
    return redirect(request.get_full_path())


def _same_amount(value: str, stored: Decimal | None) -> bool:
    try:
        return stored is not None and parse_decimal(value.replace("£", "").strip()) == stored
    except ValidationError:  # not a number: the service says what is wrong with it
        return False


def _template_response(plan: IncentivePlan) -> HttpResponse:
    """A CSV to fill in: every eligible person's employee ID and name, with any amount stored."""
    stored = dict(TargetBonus.objects.filter(plan=plan).values_list("employee_id", "amount"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["employee_id", "amount", "name", "department"])
    for person in services.eligible_employees(plan).select_related("department").order_by("employee_id"):
        amount = stored.get(person.pk)
        writer.writerow([person.employee_id, "" if amount is None else amount, person.full_name, person.department])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="target-bonuses-{slugify(plan.name) or plan.pk}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def targets_import(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    if request.method == "GET" and request.GET.get("template") == "csv":
        return _template_response(plan)
    if refused := _refuse_locked(request, plan):
        return refused
    form = TargetImportForm(request.POST, request.FILES) if request.method == "POST" else TargetImportForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        limit = settings.THROUGHLINE_IMPORT_MAX_BYTES
        content = upload.read(limit + 1)
        try:
            if len(content) > limit:
                raise ValidationError({"file": f"The file is larger than {filesizeformat(limit)}."})
            count = services.target_bonuses_import(
                user=request.user, plan=copy.copy(plan), file_name=upload.name, content=content
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{count} target bonus{'es were' if count != 1 else ' was'} imported.")
            return redirect("incentives:targets_edit", pk=plan.pk)
    status = 400 if form.errors else 200
    return render(request, "incentives/plans/targets_import.html", {"plan": plan, "form": form}, status=status)


# ---------------------------------------------------------------- computing


@login_required
@require_POST
def compute(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    try:
        services.compute_start(user=request.user, plan=plan)
    except ValidationError as exc:
        return _detail_page(
            request, selectors.get_plan(user=request.user, pk=pk), status=400, action_errors=exc.messages
        )
    return redirect("incentives:compute_progress", pk=plan.pk)


@login_required
@require_GET
def compute_progress(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    template = (
        "incentives/plans/_compute_status.html"
        if request.headers.get("HX-Request")
        else "incentives/plans/compute_progress.html"
    )
    return render(request, template, {"plan": plan, "compute": _compute_status(plan)})


@login_required
@require_POST
def compute_resume(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    try:
        services.compute_resume(user=request.user, plan=plan)
    except ValidationError as exc:
        return _detail_page(
            request, selectors.get_plan(user=request.user, pk=pk), status=400, action_errors=exc.messages
        )
    return redirect("incentives:compute_progress", pk=plan.pk)


# ---------------------------------------------------------------- payouts


@login_required
@require_GET
def payout_list(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    payouts = Payout.objects.filter(plan=plan).select_related("employee__department")
    query = request.GET.get("q", "").strip()
    department = request.GET.get("department", "")
    sort = request.GET.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    if query:
        payouts = payouts.filter(Q(employee__full_name__icontains=query) | Q(employee__employee_id__iexact=query))
    if department.isdigit():
        payouts = payouts.filter(employee__department_id=int(department))
    page = Paginator(payouts.order_by(*SORTS[sort]), PAYOUTS_PER_PAGE).get_page(request.GET.get("page"))
    filtered = bool(query or department.isdigit())
    departments = Department.objects.filter(employees__payouts__plan=plan).distinct().order_by("name")
    return render(
        request,
        "incentives/plans/payouts.html",
        {
            "plan": plan,
            "page": page,
            "query": query,
            "department": department,
            "departments": list(departments),
            "sort": sort,
            "amount_next": "amount" if sort == "-amount" else "-amount",
            "totals": _totals(plan),
            "filtered": filtered,
            "found": page.paginator.count,
        },
    )


def _breakdown_rows(payout: Payout, components: list[PlanComponent]) -> tuple[list[dict[str, object]], str, list[str]]:
    """The stored breakdown as a table: one row per component line (name, how it was reached,
    contribution), the total line, and any other note ("no target bonus was entered…").

    The lines are the service's own words; a line whose component no longer exists under that
    name (the plan changed after computing) stays whole, as a note."""
    names = sorted({c.name for c in components}, key=len, reverse=True)  # "Flow: x" before "Flow"
    rules = {c.name: c for c in components}
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    total = ""
    for line in payout.breakdown or []:
        text = str(line)
        if text.startswith("Total: "):
            total = text.removeprefix("Total: ")
            continue
        name = next((n for n in names if text.startswith(f"{n}: ")), None)
        how, sep, amount = text.rpartition(" = ")
        if name is None or not sep:
            notes.append(text)
            continue
        rows.append({"name": name, "how": how.removeprefix(f"{name}: "), "amount": amount, "rule": rules.get(name)})
    return rows, total, notes


def _payout(request: HttpRequest, pk: int) -> Payout:
    return selectors.get_payout(user=request.user, pk=pk)


@login_required
@require_GET
def payout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payout = _payout(request, pk)
    plan = IncentivePlan.objects.select_related("cycle").get(pk=payout.plan_id)
    components = list(plan.components.order_by("position", "pk"))
    rows, total, notes = _breakdown_rows(payout, components)
    total_amount, _, total_note = total.partition(" (")
    is_hr = people.is_hr_admin(request.user)
    me = people.employee_for_user(request.user)
    return render(
        request,
        "incentives/plans/payout_detail.html",
        {
            "payout": payout,
            "plan": plan,
            "components": components,
            "rows": rows,
            "total_amount": total_amount,
            "total_note": total_note.removesuffix(")"),
            "notes": notes,
            "adjustments": list(payout.adjustments.select_related("by__employee").order_by("-at", "-pk")),
            "is_hr": is_hr,
            "is_own": me is not None and me.pk == payout.employee_id,
            "can_adjust": is_hr and plan.state == PlanState.COMPUTED,
        },
    )


def _adjust_page(
    request: HttpRequest, payout: Payout, form: AdjustForm, *, status: int = 200, **extra: object
) -> HttpResponse:
    plan = payout.plan
    context = {"payout": payout, "plan": plan, "form": form, "locked": plan.is_locked, **extra}
    return render(request, "incentives/plans/payout_adjust.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def payout_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    payout = _payout(request, pk)  # out of sight: 404
    if not people.is_hr_admin(request.user):
        raise PermissionDenied("Only HR can adjust payouts.")
    if request.method != "POST":
        form = AdjustForm(initial={"amount": payout.amount, "version": payout.version})
        return _adjust_page(request, payout, form)
    form = AdjustForm(request.POST)
    if form.is_valid():
        try:
            services.payout_adjust(
                user=request.user,
                payout=payout,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["adjustment_reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ConflictError as exc:
            current = _payout(request, pk)
            data = request.POST.copy()
            data["version"] = str(current.version)
            form = AdjustForm(data)
            form.is_valid()
            return _adjust_page(request, current, form, status=409, conflict=exc.message, current=current)
        else:
            messages.success(
                request, f"{payout.employee.full_name}'s payout was adjusted; the reason is in its history."
            )
            return redirect("incentives:payout_detail", pk=payout.pk)
    return _adjust_page(request, _payout(request, pk), form, status=400)


# ---------------------------------------------------------------- approval and publication


def _confirm_page(request: HttpRequest, plan: IncentivePlan, what: str) -> HttpResponse:
    return render(request, "incentives/plans/confirm.html", {"plan": plan, "what": what, "totals": _totals(plan)})


def _decide(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    plan = _plan(request, pk)
    if request.POST.get("confirmed") != "1":
        return _confirm_page(request, plan, what)
    service = services.plan_approve if what == "approve" else services.plan_publish
    try:
        plan = service(user=request.user, plan=copy.copy(plan), expected_version=_version(request))
    except ValidationError as exc:
        return _detail_page(
            request, selectors.get_plan(user=request.user, pk=pk), status=400, action_errors=exc.messages
        )
    except ConflictError:
        return _detail_page(
            request,
            selectors.get_plan(user=request.user, pk=pk),
            status=409,
            action_errors=["The plan changed after you opened it. Check it below, then try again."],
        )
    if what == "approve":
        messages.success(
            request, f"“{plan.name}” is approved and locked. Publish it when people may see their payouts."
        )
    else:
        messages.success(request, f"“{plan.name}” is published: each person can now see their own payout.")
    return redirect("incentives:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "approve")


@login_required
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, "publish")


# ---------------------------------------------------------------- exports for payroll


def _export_name(plan: IncentivePlan, extension: str) -> str:
    return f"payouts-{slugify(plan.name) or 'plan'}-{plan.pk}.{extension}"


@login_required
@require_GET
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if c is None else c for c in row] for row in services.export_rows(plan)])
    # The byte-order mark lets spreadsheet programs read names as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(plan, "csv")}"'
    return response


@login_required
@require_GET
def export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    plan = _plan(request, pk)
    rows = services.export_rows(plan)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Payouts")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in rows[0]:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows[1:]:
        sheet.append(row)  # Decimals are written as exact numbers
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name(plan, "xlsx")}"'
    return response


# ---------------------------------------------------------------- my payouts


def _reports_payouts(request: HttpRequest, me: Employee) -> QuerySet[Payout]:
    """The payouts of the people under me (anyone below in the chain), whatever HR may see besides."""
    return (
        selectors.payouts_visible_to(user=request.user)
        .filter(employee__path__startswith=me.path)
        .exclude(employee=me)
        .select_related("plan__cycle", "employee__department")
        .order_by("-plan__created_at", "plan_id", "employee__full_name", "pk")
    )


@login_required
@require_GET
def my_payouts(request: HttpRequest) -> HttpResponse:
    me = people.employee_for_user(request.user)
    own: list[Payout] = []
    reports = None
    if me is not None:
        own = list(
            Payout.objects.filter(employee=me, plan__state=PlanState.PUBLISHED)
            .select_related("plan__cycle")
            .order_by("-plan__published_at", "-pk")
        )
        if people.is_manager(me):
            reports = Paginator(_reports_payouts(request, me), MY_REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "incentives/plans/my_payouts.html",
        {"own": own, "reports": reports, "me": me},
    )

"""Payouts: a plan's list for HR, one payout's breakdown, HR's adjustment, and everyone's "My payouts"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.access import deny_unless
from core.api import INT64_MAX
from core.errors import ConflictError
from core.forms import apply_service_errors
from incentives import access
from incentives.forms.plans import AdjustForm
from incentives.models.plans import IncentivePlan, Payout, PlanComponent, PlanState
from incentives.selectors import plans as selectors
from incentives.services import plans as services
from incentives.views.plans.common import MY_REPORTS_PER_PAGE, PAYOUTS_PER_PAGE, SORTS, plan_for
from people.access import employee_for_user, is_manager
from people.models import Department

# ---------------------------------------------------------------- payouts


@login_required
@require_GET
def payout_list(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_for(request, pk)
    payouts = Payout.objects.filter(plan=plan).select_related("employee__department")
    query = request.GET.get("q", "").strip()
    department = request.GET.get("department", "")
    if department.isdigit() and int(department) > INT64_MAX:
        department = ""  # no department has that id, and SQLite cannot compare with it (OverflowError)
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
            "totals": selectors.plan_totals(plan),
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
    is_hr = access.can_see_payout_history(request.user, payout)
    me = employee_for_user(request.user)
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
            "can_adjust": access.can_adjust_payout(request.user, payout) and plan.state == PlanState.COMPUTED,
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
    deny_unless(access.can_adjust_payout(request.user, payout), access.ADJUST_MESSAGE)
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
            apply_service_errors(form, exc)
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


# ---------------------------------------------------------------- my payouts


@login_required
@require_GET
def my_payouts(request: HttpRequest) -> HttpResponse:
    me = employee_for_user(request.user)
    own: list[Payout] = []
    reports = None
    if me is not None:
        own = list(selectors.own_payouts(me))
        if is_manager(me):
            reports = Paginator(
                selectors.reports_payouts(user=request.user, employee=me), MY_REPORTS_PER_PAGE
            ).get_page(request.GET.get("page"))
    return render(
        request,
        "incentives/plans/my_payouts.html",
        {"own": own, "reports": reports, "me": me},
    )

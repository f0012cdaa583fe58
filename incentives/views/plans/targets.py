"""A plan's target bonuses: typed in a paged table, or imported from CSV/XLSX in the background."""

from __future__ import annotations

import contextlib
import copy
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from core import exports
from core.access import get_visible_or_404
from core.errors import ConflictError
from core.forms import apply_service_errors
from core.inputs import id_list, parse_decimal
from core.tabular import max_bytes, max_rows
from incentives import access
from incentives.forms.plans import TargetImportForm
from incentives.models import TargetBonusImport
from incentives.models.plans import IncentivePlan, TargetBonus
from incentives.selectors import plans as selectors
from incentives.services import plans as services
from incentives.services import target_imports
from incentives.views.plans.common import TARGETS_PER_PAGE, plan_for, posted_version, refuse_locked

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
    plan = plan_for(request, pk)
    if refused := refuse_locked(request, plan):
        return refused
    if request.method != "POST":
        return _targets_page(request, plan)
    eligible = set(
        services.eligible_employees(plan)
        .filter(pk__in=id_list(k[7:] for k in request.POST if k.startswith("amount-")))
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
            user=request.user, plan=copy.copy(plan), amounts=amounts, expected_version=posted_version(request)
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
            version=posted_version(request),
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
    people = services.eligible_employees(plan).select_related("department").order_by("employee_id")
    rows = [
        ["employee_id", "amount", "name", "department"],
        *([p.employee_id, stored.get(p.pk), p.full_name, p.department.name] for p in people),
    ]
    return exports.csv_response(rows, f"target-bonuses-{slugify(plan.name) or plan.pk}.csv")


@login_required
@require_http_methods(["GET", "POST"])
def targets_import(request: HttpRequest, pk: int) -> HttpResponse:
    """The upload: refused at once for what the file or the plan is; otherwise checked and applied
    in the background while the import's page shows progress (incentives.services.target_imports)."""
    plan = plan_for(request, pk)
    if request.method == "GET" and request.GET.get("template") == "csv":
        return _template_response(plan)
    if refused := refuse_locked(request, plan):
        return refused
    form = TargetImportForm(request.POST, request.FILES) if request.method == "POST" else TargetImportForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = target_imports.target_import_start(
                user=request.user, plan=plan, file_name=upload.name, content=upload
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("incentives:target_import_detail", pk=plan.pk, import_pk=record.pk)
    status = 400 if form.errors else 200
    recent = access.target_imports_visible_to(request.user).filter(plan=plan).defer("content")[:10]
    return render(
        request,
        "incentives/plans/targets_import.html",
        {"plan": plan, "form": form, "imports": recent, "max_rows": f"{max_rows():,}", "max_size": max_bytes()},
        status=status,
    )


def _import_for(request: HttpRequest, pk: int, import_pk: int) -> TargetBonusImport:
    """The plan's import for HR; 404 for anyone else (incentives.access.target_imports_visible_to)."""
    visible = access.target_imports_visible_to(request.user).filter(plan_id=pk).defer("content")
    return get_visible_or_404(visible, pk=import_pk)


@login_required
def target_import_detail(request: HttpRequest, pk: int, import_pk: int) -> HttpResponse:
    record = _import_for(request, pk, import_pk)
    template = (
        "incentives/plans/_target_import_status.html"
        if request.headers.get("HX-Request")
        else "incentives/plans/target_import_detail.html"
    )
    return render(request, template, {"plan": record.plan, "record": record, "errors": record.errors[:500]})


@login_required
@require_POST
def target_import_resume(request: HttpRequest, pk: int, import_pk: int) -> HttpResponse:
    """Resume a stalled import; one that finished meanwhile simply shows how it ended."""
    record = _import_for(request, pk, import_pk)
    with contextlib.suppress(ValidationError):
        target_imports.target_import_resume(user=request.user, record=record)
    return redirect("incentives:target_import_detail", pk=pk, import_pk=import_pk)

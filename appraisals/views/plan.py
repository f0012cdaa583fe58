"""One development plan (the Act phase): its summary, its actions, agreeing it.

Reads go through appraisals.selectors (404 outside scope), writes through
appraisals.services.development (403, 400 or 409 with the input kept).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from appraisals import selectors
from appraisals.access import AppraisalAccess
from appraisals.forms.records import (
    ActionForm,
    PlanForm,
    top_level,
)
from appraisals.models import (
    DevelopmentPlan,
)
from appraisals.services import development as plan_services
from appraisals.views.common import record_of
from core.access import deny_unless, get_visible_or_404
from core.errors import ConflictError
from core.forms import apply_service_errors


def _render_plan(
    request: HttpRequest,
    plan: DevelopmentPlan,
    access: AppraisalAccess,
    *,
    plan_form: PlanForm | None = None,
    add_form: ActionForm | None = None,
    bound_action: ActionForm | None = None,
    conflict: bool = False,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    participant = plan.participant
    writer = access.can_write
    agreed = plan.agreed_at is not None
    levels = top_level(participant)
    actions = list(plan.actions.select_related("competency"))
    rows = []
    for action in actions:
        form = None
        if writer:
            if bound_action is not None and bound_action.action.pk == action.pk:
                form = bound_action
            else:
                form = ActionForm(participant=participant, levels=levels, action=action, status_only=agreed)
        rows.append({"action": action, "form": form})
    if plan_form is None:
        plan_form = PlanForm(initial={"version": plan.version, "summary": plan.summary})
    if add_form is None and writer and not agreed:
        add_form = ActionForm(participant=participant, levels=levels, initial={"version": plan.version})
    context = {
        "plan": plan,
        "participant": participant,
        "access": access,
        "writer": writer,
        "agreed": agreed,
        "plan_form": plan_form,
        "add_form": add_form if writer and not agreed else None,
        "rows": rows,
        "conflict": conflict,
        "errors": errors or [],
        "appraisal": record_of(participant, "appraisal"),
        "today": timezone.localdate(),
    }
    return render(request, "appraisals/records/plan.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan, access = selectors.get_plan(user=request.user, pk=pk)
    if request.method == "GET":
        return _render_plan(request, plan, access)
    action = request.POST.get("action", "save")
    if action in ("add", "update"):
        return _plan_action(request, plan, access, action)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, plan, access, plan_form=form, status=400)
    version = form.cleaned_data["version"]
    try:
        if "summary" in request.POST:
            plan = plan_services.plan_save(
                user=request.user, plan=plan, expected_version=version, summary=form.cleaned_data["summary"]
            )
            version = plan.version
        if action == "agree":
            plan_services.plan_agree(user=request.user, plan=plan, expected_version=version)
    except ConflictError as exc:
        plan, access = selectors.get_plan(user=request.user, pk=pk)
        posted = request.POST.copy()
        posted["version"] = str(plan.version)
        form = PlanForm(posted)
        form.is_valid()
        return _render_plan(request, plan, access, plan_form=form, conflict=True, errors=[exc.message], status=409)
    except ValidationError as exc:
        plan, access = selectors.get_plan(user=request.user, pk=pk)
        apply_service_errors(form, exc)
        return _render_plan(request, plan, access, plan_form=form, status=400)
    messages.success(request, "Development plan agreed." if action == "agree" else "Saved.")
    return redirect("appraisals:plan_detail", pk=plan.pk)


def _plan_action(request: HttpRequest, plan: DevelopmentPlan, access: AppraisalAccess, kind: str) -> HttpResponse:
    """Add an action to the plan, or change one of its actions."""
    deny_unless(access.can_write, "Only the person and their reviewer change this plan.")
    participant = plan.participant
    levels = top_level(participant)
    if kind == "add":
        form = ActionForm(request.POST, participant=participant, levels=levels)
        if form.is_valid():
            try:
                plan_services.action_add(
                    user=request.user,
                    plan=plan,
                    description=form.cleaned_data["description"],
                    competency=form.cleaned_data["competency"],
                    target_level=form.cleaned_data["target_level"],
                    due_date=form.cleaned_data["due_date"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Action added.")
                return redirect("appraisals:plan_detail", pk=plan.pk)
        plan, access = selectors.get_plan(user=request.user, pk=plan.pk)
        return _render_plan(request, plan, access, add_form=form, status=400)
    action = get_visible_or_404(plan.actions.all(), pk=request.POST.get("item", ""))
    form = ActionForm(
        request.POST, participant=participant, levels=levels, action=action, status_only=plan.agreed_at is not None
    )
    if form.is_valid():
        try:
            changes = form.service_data()
            if changes:
                plan_services.action_update(user=request.user, action=action, data=changes)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Action updated." if changes else "Nothing changed.")
            return redirect("appraisals:plan_detail", pk=plan.pk)
    plan, access = selectors.get_plan(user=request.user, pk=plan.pk)
    return _render_plan(request, plan, access, bound_action=form, status=400)

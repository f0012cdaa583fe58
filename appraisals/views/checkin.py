"""One check-in (the Do phase's conversation): read it, write it, complete it.

Reads go through appraisals.selectors (404 outside scope), writes through
appraisals.services.checkins (403, 400 or 409 with the input kept).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from appraisals import selectors
from appraisals.access import AppraisalAccess
from appraisals.forms.records import (
    CheckInForm,
)
from appraisals.models import (
    CheckIn,
    CycleState,
)
from appraisals.services import checkins as checkin_services
from appraisals.views.common import record_of
from core.errors import ConflictError
from core.forms import apply_service_errors


def _checkin_editable(check_in: CheckIn, access: AppraisalAccess) -> set[str]:
    if check_in.completed_at is not None or check_in.participant.cycle.state == CycleState.CLOSED:
        return set()
    if access.is_employee:
        return set(checkin_services.EMPLOYEE_FIELDS)
    if access.is_reviewer:
        return set(checkin_services.REVIEWER_FIELDS)
    return set()


def _render_checkin(
    request: HttpRequest,
    check_in: CheckIn,
    access: AppraisalAccess,
    *,
    form: CheckInForm | None = None,
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    editable = _checkin_editable(check_in, access)
    if form is None:
        form = CheckInForm(initial={"version": check_in.version, **{n: getattr(check_in, n) for n in editable}})
    completed = check_in.completed_at is not None
    snapshot = check_in.goal_snapshot if completed else checkin_services.goal_snapshot(check_in)
    fields = [
        {
            "field": form[name],
            "editable": name in editable or (form.is_bound and name in form.data and (access.can_write)),
            "stored": getattr(check_in, name),
        }
        for name in ("employee_notes", "obstacles", "manager_notes", "coaching_notes")
    ]
    context = {
        "check_in": check_in,
        "participant": check_in.participant,
        "access": access,
        "form": form,
        "fields": fields,
        "editable": bool(editable),
        "completed": completed,
        "snapshot": snapshot,
        "conflict": conflict,
        "can_complete": access.is_reviewer and bool(editable),
        "appraisal": record_of(check_in.participant, "appraisal"),
    }
    return render(request, "appraisals/records/checkin.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def checkin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check_in, access = selectors.get_check_in(user=request.user, pk=pk)
    if request.method == "GET":
        return _render_checkin(request, check_in, access)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _render_checkin(request, check_in, access, form=form, status=400)
    complete = request.POST.get("action") == "complete"
    version = form.cleaned_data["version"]
    data = form.service_data()
    try:
        if data:
            check_in = checkin_services.checkin_save(
                user=request.user, check_in=check_in, expected_version=version, data=data
            )
            version = check_in.version
        if complete:
            checkin_services.checkin_complete(user=request.user, check_in=check_in, expected_version=version)
    except ConflictError as exc:
        check_in, access = selectors.get_check_in(user=request.user, pk=pk)
        posted = request.POST.copy()
        posted["version"] = str(check_in.version)
        form = CheckInForm(posted)
        form.is_valid()
        form.add_error(None, exc.message)
        return _render_checkin(request, check_in, access, form=form, conflict=True, status=409)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        check_in, access = selectors.get_check_in(user=request.user, pk=pk)
        return _render_checkin(request, check_in, access, form=form, status=400)
    messages.success(request, "Check-in completed: the goals’ progress is kept as it stands." if complete else "Saved.")
    return redirect("appraisals:checkin_detail", pk=check_in.pk)

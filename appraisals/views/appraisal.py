"""One appraisal: its page (with automatic draft saving), its workflow steps and its
printable page.

Reads go through appraisals.selectors (404 outside the viewer's scope) and
appraisals.access (what the viewer may do); writes go through appraisals.services,
whose refusals come back as 403 (PermissionDenied), 400 with the input kept
(ValidationError) or 409 with the input kept (ConflictError). Every POST carries the
record's ``version``. The automatic save answers htmx with the small status region
and the new version (an out-of-band swap of the hidden field); without JavaScript the
Save button posts the same form and the page comes back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from appraisals import selectors
from appraisals.access import AppraisalAccess
from appraisals.forms.records import (
    AppraisalDraftForm,
    plain,
)
from appraisals.models import (
    Appraisal,
    AppraisalState,
)
from appraisals.services import appraisals as appraisal_services
from cascade import charts
from cascade.views.priorities import signal_badge
from core.errors import ConflictError
from core.forms import VERSION_MISSING

# The appraisal's steps as the page shows them (the draft is before the first).
STEPS = [
    (AppraisalState.SELF_ASSESSMENT, "Self-assessment", "self_submitted_at"),
    (AppraisalState.MANAGER_REVIEW, "Manager review", "manager_submitted_at"),
    (AppraisalState.DIALOGUE, "Dialogue", "shared_at"),
    (AppraisalState.ACKNOWLEDGED, "Acknowledged", "acknowledged_at"),
    (AppraisalState.LOCKED, "Locked", "locked_at"),
]


STEP_ORDER = [state for state, _, _ in STEPS]


ACTIONS = {
    "submit_self": (appraisal_services.appraisal_submit_self, "Your self-assessment is with {reviewer} now."),
    "submit_review": (
        appraisal_services.appraisal_submit_review,
        "Review submitted: the dialogue with {employee} is next.",
    ),
    "share": (appraisal_services.appraisal_share, "Your ratings and the score are shared with {employee}."),
    "acknowledge": (appraisal_services.appraisal_acknowledge, "Appraisal acknowledged. Thank you."),
}


# Submitting cannot be undone, so these go through a confirm page that lists what is still blank;
# the value is the access flag that says the reader may take the step now.
CONFIRMED_ACTIONS = {"submit_self": "can_submit_self", "submit_review": "can_submit_review"}


CONFLICT_MESSAGE = (
    "Not saved: someone else changed this appraisal — reload to see their changes; your text is kept below."
)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@dataclass
class Step:
    label: str
    status: str  # "done", "current" or "todo"
    when: datetime.datetime | None


def _steps(appraisal: Appraisal) -> list[Step]:
    current = STEP_ORDER.index(appraisal.state) if appraisal.state in STEP_ORDER else -1
    steps = []
    for position, (_state, label, stamp) in enumerate(STEPS):
        if appraisal.state == AppraisalState.LOCKED or position < current:
            status = "done"
        elif position == current:
            status = "current"
        else:
            status = "todo"
        steps.append(Step(label=label, status=status, when=getattr(appraisal, stamp)))
    return steps


def _read_only_reason(page, form: AppraisalDraftForm) -> str:  # type: ignore[no-untyped-def]
    """Why the reader cannot change anything now, in words; "" when they can."""
    access: AppraisalAccess = page.access
    if form.writes_anything:
        return ""
    name = page.employee.full_name
    reviewer = page.reviewer.full_name if page.reviewer else "the reviewer"
    state = page.state
    if state == AppraisalState.LOCKED:
        return "This appraisal is locked: its cycle was closed, so the record is final."
    if access.is_hr and not (access.is_employee or access.is_reviewer):
        return (
            "You are reading this appraisal as HR. The person and their reviewer write it; HR acts through the cycle."
        )
    if access.is_skip_level:
        return f"You are reading {name}’s appraisal as a manager further up the line: {reviewer} reviews it."
    if state == AppraisalState.DRAFT:
        return "The appraisal opens when the cycle’s Study phase begins."
    if state == AppraisalState.ACKNOWLEDGED:
        return "The appraisal has been acknowledged; it becomes final when HR closes the cycle."
    if access.is_employee:
        if state == AppraisalState.MANAGER_REVIEW:
            return f"Your self-assessment is with {reviewer} for review."
        return f"{reviewer} has not shared the review yet."
    return f"{name} is writing their self-assessment; the review opens once they submit it."


def _goal_extra(row) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A goal's chart as the page embeds it (named and with its unit), its signal badge and caution."""
    if row.chart is None:
        return {}
    chart = {**row.chart, "title": row.measure_name, "unit": row.measure_unit}
    enough = chart["n"] >= charts.RUN_RULES_MIN_POINTS
    return {
        "chart": chart,
        "chart_id": f"goal-{row.id}-chart",
        "badge": signal_badge(chart),
        "caution_title": "No special cause: this change is within the process’s normal variation."
        if enough
        else "No special cause can be shown yet.",
        "points": chart["points"][-12:],
    }


def _score_view(page) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    """The score and its breakdown as the page explains them; None while hidden from the reader."""
    if page.score is None:
        return None
    breakdown = page.score.breakdown or {}
    sections = []
    for key, label in (("goals", "Goals"), ("competencies", "Competencies")):
        part = breakdown.get("sections", {}).get(key)
        if not part:
            continue
        effective = Decimal(part.get("effective_weight") or "0")
        score = part.get("score")
        sections.append(
            {
                "label": label,
                "weight": part["weight"],
                "weight_text": plain(Decimal(part["weight"])),
                "effective_weight": plain(effective),
                "score": score,
                "contribution": f"{Decimal(score) * effective / 100:.2f}" if score is not None and effective else "",
                "items": part.get("items", []),
            }
        )
    version = page.participant.form_version
    return {
        "total": page.score.total,
        "final": page.score_is_final,
        "complete": bool(breakdown.get("complete")),
        "goals_weight": page.goals_weight,
        "competencies_weight": page.competencies_weight,
        "form_name": f"“{version.form.name}” version {version.number}",
        "formula_version": breakdown.get("formula_version", ""),
        "sections": sections,
        "notes": breakdown.get("notes", []),
    }


def _appraisal_context(page, form: AppraisalDraftForm) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    goals = form.goal_items()
    for item in goals:
        item.extra = _goal_extra(item.row)
    competencies = form.competency_items()
    questions = form.question_items()
    has_inputs = (
        any(side.editable for item in goals + competencies for side in item.sides)
        or any(q.editable for q in questions)
        or form.comment_editable
    )
    return {
        "page": page,
        "appraisal": page.appraisal,
        "access": page.access,
        "form": form,
        "goals": goals,
        "competencies": competencies,
        "questions": questions,
        "steps": _steps(page.appraisal),
        "score": _score_view(page),
        "score_hidden_text": (
            f"The score appears once {page.reviewer.full_name if page.reviewer else 'your reviewer'} "
            "shares their ratings with you."
        ),
        "has_inputs": has_inputs,
        "autosave": form.writes_anything,
        "read_only_reason": _read_only_reason(page, form),
        "comment_value": form.comment_value(),
        "comment_errors": form.comment_errors(),
        "comment_editable": form.comment_editable,
        "has_actions": any(
            (
                page.access.can_submit_self,
                page.access.can_submit_review,
                page.access.can_share,
                page.access.can_acknowledge,
            )
        ),
    }


def _render_appraisal(
    request: HttpRequest,
    appraisal: Appraisal,
    access: AppraisalAccess,
    *,
    data: QueryDict | None = None,
    error: Exception | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page, with the posted input of a refused save or action and why it was refused."""
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    conflict = isinstance(error, ConflictError)
    if data is not None and conflict:
        data = data.copy()
        data["version"] = str(appraisal.version)  # saving again is a deliberate overwrite
    form = AppraisalDraftForm(data, page=page)
    if data is not None:
        form.is_valid()
        if isinstance(error, ValidationError):
            form.apply_service_errors(error)
    context = _appraisal_context(page, form)
    context["conflict"] = conflict
    return render(request, "appraisals/records/appraisal.html", context, status=status)


def _refreshed(request: HttpRequest, pk: int) -> tuple[Appraisal, AppraisalAccess]:
    """The appraisal as stored now (after a refusal, someone may have moved it on)."""
    return selectors.get_appraisal(user=request.user, pk=pk)


@login_required
def appraisal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    return _render_appraisal(request, appraisal, access)


@login_required
def appraisal_print(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    context = _appraisal_context(page, AppraisalDraftForm(page=page))
    context["printed_at"] = timezone.localtime()
    return render(request, "appraisals/records/print.html", context)


def _status(
    request: HttpRequest,
    appraisal: Appraisal,
    *,
    state: str,
    status: int = 200,
    errors: list[str] | None = None,
    page=None,  # type: ignore[no-untyped-def]
) -> HttpResponse:
    """The status region of the automatic save, with the version to carry on from."""
    context = {
        "state": state,
        "appraisal": appraisal,
        "version": appraisal.version,
        "saved_at": timezone.localtime(),
        "errors": errors or [],
        "conflict_message": CONFLICT_MESSAGE,
        "score": _score_view(page) if page is not None else None,
    }
    return render(request, "appraisals/records/_save_status.html", context, status=status)


def _messages(form: AppraisalDraftForm, error: ValidationError | None = None) -> list[str]:
    if error is not None:
        return list(error.messages)
    return [message for messages_ in form.errors.values() for message in messages_]


@login_required
@require_POST
def appraisal_save(request: HttpRequest, pk: int) -> HttpResponse:
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    htmx = _is_htmx(request)
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    form = AppraisalDraftForm(request.POST, page=page)
    if not form.is_valid():
        if htmx:
            return _status(request, appraisal, state="error", status=400, errors=_messages(form))
        return _render_appraisal(request, appraisal, access, data=request.POST, status=400)
    try:
        appraisal = appraisal_services.appraisal_save_draft(
            user=request.user,
            appraisal=appraisal,
            expected_version=form.cleaned_data["version"],
            **form.service_kwargs(),
        )
    except ConflictError as exc:
        if htmx:  # the input stays in the browser's form; the version stays the one it was based on
            appraisal, access = _refreshed(request, pk)
            return _status(request, appraisal, state="conflict", status=409)
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=409)
    except ValidationError as exc:
        if htmx:
            return _status(request, appraisal, state="error", status=400, errors=_messages(form, exc))
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=400)
    except PermissionDenied as exc:
        if htmx:
            return _status(request, appraisal, state="error", status=403, errors=[str(exc)])
        raise
    if htmx:
        # The reviewer's ratings move the score: the page's score section follows (out of band).
        fresh = selectors.appraisal_page(appraisal=appraisal, access=access) if access.can_edit_manager else None
        return _status(request, appraisal, state="saved", page=fresh)
    messages.success(request, "Saved.")
    return redirect("appraisals:appraisal_detail", pk=appraisal.pk)


def _confirm_submit(request: HttpRequest, appraisal: Appraisal, access: AppraisalAccess, action: str) -> HttpResponse:
    """Before a submission that cannot be undone: what is still blank (then no submit button), or the question."""
    participant = appraisal.participant
    side = "self" if action == "submit_self" else "manager"
    blanks = appraisal_services.blank_ratings(appraisal, side=side)
    sections: dict[str, list[appraisal_services.Blank]] = {}
    for blank in blanks:
        sections.setdefault(blank.section, []).append(blank)
    context = {
        "appraisal": appraisal,
        "access": access,
        "action": action,
        "employee": participant.employee,
        "reviewer": participant.reviewer,
        "cycle": participant.cycle,
        "blanks": blanks,
        "sections": sections,
    }
    return render(request, "appraisals/records/confirm_submit.html", context)


@login_required
@require_POST
def appraisal_action(request: HttpRequest, pk: int) -> HttpResponse:
    """A workflow step. What was typed since the last automatic save is saved first, so nothing is lost.

    Submitting the self-assessment or the review first shows a confirm page (unless ``confirmed`` is
    posted); the service refuses a submission with blank ratings either way."""
    appraisal, access = selectors.get_appraisal(user=request.user, pk=pk)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _render_appraisal(
            request, appraisal, access, data=request.POST, error=ValidationError("Choose what to do."), status=400
        )
    page = selectors.appraisal_page(appraisal=appraisal, access=access)
    form = AppraisalDraftForm(request.POST, page=page)
    if not form.is_valid():
        return _render_appraisal(
            request, appraisal, access, data=request.POST, error=ValidationError(VERSION_MISSING), status=400
        )
    version = form.cleaned_data["version"]
    step, done = ACTIONS[action]
    kwargs = form.service_kwargs()
    try:
        if kwargs:
            appraisal = appraisal_services.appraisal_save_draft(
                user=request.user, appraisal=appraisal, expected_version=version, **kwargs
            )
            version = appraisal.version
        if action in CONFIRMED_ACTIONS and request.POST.get("confirmed") != "1":
            appraisal, access = _refreshed(request, pk)
            if appraisal.version != version:
                raise ConflictError()  # the page is out of date: what it asked for may not be what is stored
            if getattr(access, CONFIRMED_ACTIONS[action]):
                return _confirm_submit(request, appraisal, access, action)
        extra = {"comment": kwargs.get("employee_comment", "")} if action == "acknowledge" else {}
        step(user=request.user, appraisal=appraisal, expected_version=version, **extra)
    except ConflictError as exc:
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=409)
    except ValidationError as exc:
        appraisal, access = _refreshed(request, pk)
        return _render_appraisal(request, appraisal, access, data=request.POST, error=exc, status=400)
    participant = appraisal.participant
    messages.success(
        request,
        done.format(
            reviewer=participant.reviewer.full_name if participant.reviewer else "your reviewer",
            employee=participant.employee.full_name,
        ),
    )
    return redirect("appraisals:appraisal_detail", pk=appraisal.pk)

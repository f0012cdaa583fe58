"""Career-pathway pages: the titles and who holds them (everyone), HR's definitions with their
criteria, the candidates the nightly job proposed with HR's confirm / decline, "Run now",
and the "Titles" panel on a person's profile (registered in incentives/apps.py).

Everyone signed in reads the pathways and their holders; defining them and deciding on
candidates is HR's (incentives/access.py): "new pathway" and "Run now" answer 403 to anyone
else; a pathway's edit page and its candidates are outside their scope (404), as in the API. Writing goes through
incentives.services.pathways: a ValidationError answers 400 with its messages on the
page, a stale edit 409 with what HR typed kept. The candidate search runs as the Celery
task incentives.find_pathway_candidates, the same one the nightly schedule runs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from celery.result import EagerResult
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import get_visible_or_404, requires
from core.errors import ConflictError
from core.formatting import plain
from core.forms import apply_service_errors
from incentives import access
from incentives.forms.recognition import PathwayForm, level_formset
from incentives.models.recognition import CandidateStatus, Pathway, PathwayCandidate, RecognitionKind
from incentives.selectors import recognition as selectors
from incentives.services import pathways as services
from incentives.tasks import find_pathway_candidates
from people.access import employee_for_user
from people.models import Employee
from people.profile import Panel

HOLDERS_ON_LIST = 12  # holders named per title on the list; the pathway's page names them all
DECIDED_SHOWN = 200  # awarded / declined rows on a pathway's page, latest first
CANDIDATES_PER_PAGE = 50
RECOGNITIONS_ON_PROFILE = 5


def criteria_lines(pathway: Pathway) -> list[str]:
    """The pathway's criteria in words (its competency levels must be prefetched)."""
    lines: list[str] = []
    if pathway.min_achieved_goals:
        cycles = (
            "the last closed review cycle"
            if pathway.goal_cycles == 1
            else (f"the last {pathway.goal_cycles} closed review cycles")
        )
        n = pathway.min_achieved_goals
        lines.append(f"{n} achieved QI goal{'s' if n != 1 else ''} over {cycles}")
    for level in pathway.competency_levels.all():
        lines.append(f"{level.competency.name} rated at least {plain(level.min_rating)} in a locked appraisal")
    if pathway.min_recognitions:
        n = pathway.min_recognitions
        lines.append(f"{n} recognition{'s' if n != 1 else ''} received")
    if pathway.min_development_actions:
        n = pathway.min_development_actions
        lines.append(f"{n} development action{'s' if n != 1 else ''} completed")
    return lines


def evidence_lines(evidence: dict[str, Any]) -> list[str]:
    """What the nightly job found for a candidate, in words."""
    lines: list[str] = []
    if "achieved_goals" in evidence:
        n = evidence["achieved_goals"]
        lines.append(f"{n} achieved QI goal{'s' if n != 1 else ''}")
    for name, rating in (evidence.get("competencies") or {}).items():
        lines.append(f"{name} rated {plain(rating)}")
    if "recognitions" in evidence:
        n = evidence["recognitions"]
        lines.append(f"{n} recognition{'s' if n != 1 else ''} received")
    if "development_actions" in evidence:
        n = evidence["development_actions"]
        lines.append(f"{n} development action{'s' if n != 1 else ''} completed")
    return lines


# ---------------------------------------------------------------- the list


def _holders_by_pathway(pathway_ids: list[int]) -> dict[int, list[PathwayCandidate]]:
    """The first few holders of each title, in one query whatever the number of holders."""
    rows = (
        PathwayCandidate.objects.filter(pathway_id__in=pathway_ids, status=CandidateStatus.AWARDED)
        .select_related("employee")
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("pathway_id")], order_by=[F("decided_at").asc(), F("pk").asc()])
        )
        .filter(rank__lte=HOLDERS_ON_LIST)
        .order_by("pathway_id", "rank")
    )
    holders: dict[int, list[PathwayCandidate]] = defaultdict(list)
    for row in rows:
        holders[row.pathway_id].append(row)
    return holders


@login_required
@require_GET
def pathway_list(request: HttpRequest) -> HttpResponse:
    is_hr = access.can_manage_pathways(request.user)
    pathways = access.pathways_visible_to(request.user).annotate(
        pending=Count("candidates", filter=Q(candidates__status=CandidateStatus.PENDING)),
        awarded=Count("candidates", filter=Q(candidates__status=CandidateStatus.AWARDED)),
    )
    if not is_hr:
        # Everyone else sees the titles one can work towards and those people still hold.
        pathways = pathways.filter(Q(is_active=True) | Q(awarded__gt=0))
    pathways = list(pathways.order_by("-is_active", "name"))
    holders = _holders_by_pathway([p.pk for p in pathways])
    for pathway in pathways:
        pathway.criteria = criteria_lines(pathway)
        pathway.holders = holders.get(pathway.pk, [])
        pathway.more_holders = pathway.awarded - len(pathway.holders)
    return render(
        request,
        "incentives/pathways/list.html",
        {"pathways": pathways, "is_hr": is_hr, "pending_total": sum(p.pending for p in pathways)},
    )


@requires(access.can_manage_pathways, access.RUN_MESSAGE)
@require_POST
def run_now(request: HttpRequest) -> HttpResponse:
    result = find_pathway_candidates.delay()
    if isinstance(result, EagerResult):  # development and tests: the task ran in this request
        found = result.get()
        if found:
            messages.success(
                request,
                f"The search found {found} new candidate{'s' if found != 1 else ''}. Confirm or decline each below.",
            )
        else:
            messages.info(request, "The search found no new candidates: no one newly meets an active pathway.")
    else:
        messages.success(
            request,
            "The search for new candidates is queued. It takes a minute or so; reload this page to see them.",
        )
    return redirect("incentives:pathway_list")


# ---------------------------------------------------------------- one pathway and its candidates


def _detail_page(request: HttpRequest, pathway: Pathway, *, status: int = 200, **extra: Any) -> HttpResponse:
    is_hr = access.can_manage_pathways(request.user)
    # A refused decline comes back open on its candidate, with the message and what was typed.
    decline_errors: dict[int, list[str]] = extra.pop("decline_errors", {})
    decline_reasons: dict[int, str] = extra.pop("decline_reasons", {})
    context: dict[str, Any] = {
        "pathway": pathway,
        "criteria": criteria_lines(pathway),
        "is_hr": is_hr,
        "action_errors": [],
    }
    awarded = selectors.candidates_for(pathway, status=CandidateStatus.AWARDED).order_by("-decided_at", "-pk")
    context["awarded_count"] = awarded.count()
    context["awarded"] = list(awarded[:DECIDED_SHOWN])
    if is_hr:
        pending = selectors.candidates_for(pathway, status=CandidateStatus.PENDING).order_by("employee__full_name")
        page = Paginator(pending, CANDIDATES_PER_PAGE).get_page(request.GET.get("page"))
        for candidate in page.object_list:
            candidate.evidence_lines = evidence_lines(candidate.evidence)
            candidate.decline_error = decline_errors.get(candidate.pk, [])
            candidate.decline_reason_typed = decline_reasons.get(candidate.pk, "")
        shown = {candidate.pk for candidate in page.object_list}
        for pk, errors in decline_errors.items():
            if pk not in shown:  # the candidate is on another page of the list: say it at the top
                context["action_errors"] = [*context["action_errors"], *errors]
        declined = selectors.candidates_for(pathway, status=CandidateStatus.DECLINED).order_by("-decided_at", "-pk")
        context.update(
            page=page,
            pending=page.object_list,
            declined_count=declined.count(),
            declined=list(declined[:DECIDED_SHOWN]),
            query="",
        )
        for candidate in context["awarded"]:
            candidate.evidence_lines = evidence_lines(candidate.evidence)
    context.update(extra)
    return render(request, "incentives/pathways/detail.html", context, status=status)


@login_required
@require_GET
def pathway_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, selectors.get_pathway(user=request.user, pk=pk))


def _candidate(request: HttpRequest, pk: int) -> PathwayCandidate:
    """A candidate HR may decide on; for anyone else candidates are outside their scope (404)."""
    return get_visible_or_404(access.candidates_visible_to(request.user), pk=pk)


@login_required
@require_POST
def candidate_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk)
    try:
        services.confirm(user=request.user, candidate=candidate)
    except ValidationError as exc:
        pathway = selectors.get_pathway(user=request.user, pk=candidate.pathway_id)
        return _detail_page(request, pathway, status=400, action_errors=list(exc.messages))
    messages.success(
        request,
        f"{candidate.employee.full_name} now holds the title “{candidate.pathway.name}”. "
        "It is announced in the recognition feed and shows on their profile.",
    )
    return redirect("incentives:pathway_detail", pk=candidate.pathway_id)


@login_required
@require_POST
def candidate_decline(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk)
    reason = request.POST.get("reason", "")
    try:
        services.decline(user=request.user, candidate=candidate, reason=reason)
    except ValidationError as exc:
        pathway = selectors.get_pathway(user=request.user, pk=candidate.pathway_id)
        if hasattr(exc, "error_dict") and "reason" in exc.message_dict:
            return _detail_page(
                request,
                pathway,
                status=400,
                decline_errors={candidate.pk: exc.message_dict["reason"]},
                decline_reasons={candidate.pk: reason},
            )
        return _detail_page(request, pathway, status=400, action_errors=list(exc.messages))
    messages.success(
        request,
        f"{candidate.employee.full_name} was declined for “{candidate.pathway.name}”. "
        "The reason is kept, and they will not be proposed for this title again.",
    )
    return redirect("incentives:pathway_detail", pk=candidate.pathway_id)


# ---------------------------------------------------------------- defining a pathway


def _form_page(
    request: HttpRequest,
    form: PathwayForm,
    formset,  # type: ignore[no-untyped-def]
    *,
    pathway: Pathway | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "formset": formset,
        "pathway": pathway,
        "criteria_errors": [],
        "levels_errors": [],
    }
    context.update(extra)
    return render(request, "incentives/pathways/form.html", context, status=status)


def _save(request: HttpRequest, pathway: Pathway | None) -> HttpResponse:
    """Validate the posted definition and save it through the service; the page again on any refusal."""
    form = PathwayForm(request.POST)
    formset = level_formset(request.POST, pathway=pathway)
    if not (form.is_valid() and formset.is_valid()):
        return _form_page(request, form, formset, pathway=pathway, status=400)
    levels = [level for row in formset.forms if (level := row.level()) is not None]
    try:
        with transaction.atomic():
            current = None
            if pathway is not None:
                # The service keeps no version check of its own: lock the row and compare here,
                # so two HR admins editing one pathway cannot overwrite each other unawares.
                current = Pathway.objects.select_for_update().get(pk=pathway.pk)
                if form.cleaned_data["version"] != current.version:
                    raise ConflictError()
            saved = services.save_pathway(user=request.user, pathway=current, data=form.service_data(), levels=levels)
    except ValidationError as exc:
        # "criteria" is about the whole set (above the criteria), "competency_levels" about the rows.
        by_key = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        levels_errors = by_key.pop("competency_levels", [])
        criteria_errors = by_key.pop("criteria", [])
        if by_key:
            apply_service_errors(form, ValidationError(by_key))
        return _form_page(
            request,
            form,
            formset,
            pathway=pathway,
            status=400,
            levels_errors=levels_errors,
            criteria_errors=criteria_errors,
        )
    except ConflictError as exc:
        assert pathway is not None
        current = selectors.get_pathway(user=request.user, pk=pathway.pk)
        data = request.POST.copy()
        data["version"] = str(current.version)
        return _form_page(
            request,
            PathwayForm(data),
            level_formset(data, pathway=current),
            pathway=current,
            status=409,
            conflict=exc.message,
            current_criteria=criteria_lines(current),
        )
    messages.success(
        request,
        f"“{saved.name}” was saved."
        + (" The nightly job looks for people who meet it; “Run now” looks straight away." if saved.is_active else ""),
    )
    return redirect("incentives:pathway_detail", pk=saved.pk)


@requires(access.can_manage_pathways, access.PATHWAYS_MESSAGE)
@require_http_methods(["GET", "POST"])
def pathway_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, PathwayForm(), level_formset())


@login_required
@require_http_methods(["GET", "POST"])
def pathway_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # Editing is HR's set-up of one pathway: for anyone else it is out of scope (404), as in the API.
    if not access.can_manage_pathways(request.user):
        raise Http404("No such pathway.")
    pathway = selectors.get_pathway(user=request.user, pk=pk)
    if request.method == "POST":
        return _save(request, pathway)
    form = PathwayForm(initial=PathwayForm.initial_for(pathway))
    return _form_page(request, form, level_formset(pathway=pathway), pathway=pathway)


# ---------------------------------------------------------------- the profile's "Titles" panel


def titles_panel(viewer_user, person: Employee) -> Panel:  # type: ignore[no-untyped-def]
    """The titles a person holds and the latest thanks they received (three queries)."""
    received = (
        access.recognitions_visible_to(viewer_user)
        .filter(recipients=person, kind=RecognitionKind.THANKS, is_hidden=False)
        .order_by("-created_at", "-pk")[:RECOGNITIONS_ON_PROFILE]
    )
    viewer = employee_for_user(viewer_user)
    return Panel(
        template="incentives/pathways/_profile_panel.html",
        context={
            "titles": selectors.titles_for(person),
            "received": list(received),
            "can_thank": viewer is not None and viewer.pk != person.pk and person.is_active,
        },
    )

"""Pages for the competency library and the rating scales.

Everyone signed in reads them (through competencies.selectors); only HR admins change
them (competencies.access: the edit pages answer 403 to anyone else, whichever record
they name) through competencies.services, whose ValidationError answers a 400 with the messages beside the field or level row they concern,
and ConflictError a 409 that keeps what the person typed beside what is saved now.
Retired competencies are listed for HR only; their pages stay readable, since forms
that used them still show them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.forms import BaseFormSet, Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from competencies import access, selectors, services
from competencies.forms.library import (
    BaseLevelFormSet,
    CompetencyForm,
    CompetencyStatusForm,
    ScaleForm,
    apply_competency_errors,
    level_formset,
    level_initial,
)
from competencies.models import Competency, CompetencyStatus, RatingScale
from competencies.services.validation import MAX_LEVELS
from core.access import requires
from core.errors import ConflictError
from core.formatting import plain

NEW_SCALE_ROWS = 5  # empty level rows offered for a new scale; those left blank are not saved


def _status_for(*parts: Form | BaseFormSet) -> int:
    """400 when a posted form (or formset) holds errors, its own or the service's."""
    return 400 if any(part.is_bound and not part.is_valid() for part in parts) else 200


# ---------------------------------------------------------------- the competency library

LIBRARY_FILTERS = [("active", "Active"), ("retired", "Retired"), ("all", "All")]


@login_required
def competency_list(request: HttpRequest) -> HttpResponse:
    # Retired competencies are listed (the status filters) for those who manage the library only.
    can_manage = access.can_manage_library(request.user)
    shown = request.GET.get("status", CompetencyStatus.ACTIVE) if can_manage else CompetencyStatus.ACTIVE
    if shown not in CompetencyStatus.values:
        shown = "all"
    groups = selectors.library_by_category(user=request.user, status=shown)
    return render(
        request,
        "competencies/library/list.html",
        {
            "groups": groups,
            "count": sum(len(g["competencies"]) for g in groups),  # type: ignore[arg-type]
            "shown": shown,
            "filters": LIBRARY_FILTERS if can_manage else [],
            "can_manage": can_manage,
        },
    )


@login_required
def competency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    competency = selectors.get_competency(user=request.user, pk=pk)
    return _competency_page(request, competency)


def _competency_page(
    request: HttpRequest,
    competency: Competency,
    *,
    status: int = 200,
    error: str = "",
    conflict: str = "",
) -> HttpResponse:
    indicators = list(competency.indicators.all())
    top = max((i.level for i in indicators), default=0)
    ladder = [{"indicator": i, "pips": [n <= i.level for n in range(1, top + 1)]} for i in indicators]
    return render(
        request,
        "competencies/library/detail.html",
        {
            "competency": competency,
            "ladder": ladder,
            "top_level": top,
            "forms": selectors.versions_using(user=request.user, condition=Q(competencies__competency=competency)),
            "can_manage": access.can_manage_library(request.user),
            "error": error,
            "conflict": conflict,
        },
        status=status,
    )


def _competency_form_page(
    request: HttpRequest,
    form: CompetencyForm,
    *,
    competency: Competency | None = None,
    status: int | None = None,
    **extra: object,
) -> HttpResponse:
    context = {
        "form": form,
        "competency": competency,
        "categories": selectors.categories(),
        "max_levels": MAX_LEVELS,
        **extra,
    }
    return render(
        request, "competencies/library/form.html", context, status=status if status is not None else _status_for(form)
    )


def _with_one_more_level(form: CompetencyForm) -> CompetencyForm:
    """The same form, as typed, with an empty level added (the "Add a level" button without JavaScript)."""
    return CompetencyForm(initial=form.raw_values(), levels=form.level_count + 1)


@requires(access.can_manage_library, access.LIBRARY_ONLY_HR)
@require_http_methods(["GET", "POST"])
def competency_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _competency_form_page(request, CompetencyForm())
    form = CompetencyForm(request.POST, levels=CompetencyForm.levels_posted(request.POST))
    if "add_level" in request.POST:
        return _competency_form_page(request, _with_one_more_level(form))
    if form.is_valid():
        try:
            competency = services.competency_create(
                user=request.user, **form.service_data(), indicators=form.indicators()
            )
        except ValidationError as exc:
            apply_competency_errors(form, exc)
        else:
            messages.success(request, f"“{competency.name}” was added to the library.")
            return redirect("competencies:competency_detail", pk=competency.pk)
    return _competency_form_page(request, form)


@requires(access.can_manage_library, access.LIBRARY_ONLY_HR)
@require_http_methods(["GET", "POST"])
def competency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    competency = selectors.get_competency(user=request.user, pk=pk)
    if request.method != "POST":
        form = CompetencyForm(
            initial=CompetencyForm.initial_for(competency), levels=CompetencyForm.levels_for(competency)
        )
        return _competency_form_page(request, form, competency=competency)
    form = CompetencyForm(request.POST, levels=CompetencyForm.levels_posted(request.POST))
    if "add_level" in request.POST:
        return _competency_form_page(request, _with_one_more_level(form), competency=competency)
    if form.is_valid():
        try:
            services.competency_update(
                user=request.user,
                competency=copy.copy(competency),  # the service changes it; the page keeps the saved name
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                indicators=form.indicators(),
            )
        except ValidationError as exc:
            apply_competency_errors(form, exc)
        except ConflictError as exc:
            current = selectors.get_competency(user=request.user, pk=pk)
            data = request.POST.copy()
            data["version"] = str(current.version)
            kept = CompetencyForm(data, levels=form.level_count)
            return _competency_form_page(
                request, kept, competency=competency, status=409, conflict=exc.message, current=current
            )
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("competencies:competency_detail", pk=pk)
    return _competency_form_page(request, form, competency=competency)


@requires(access.can_manage_library, access.LIBRARY_ONLY_HR)
@require_POST
def competency_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Retire or reinstate (the posted ``action`` says which)."""
    competency = selectors.get_competency(user=request.user, pk=pk)
    form = CompetencyStatusForm(request.POST)
    if not form.is_valid():
        return _competency_page(request, competency, status=400, error="Choose to retire or reinstate.")
    action = form.cleaned_data["action"]
    change: Callable[..., Competency] = (
        services.competency_retire if action == "retire" else services.competency_reinstate
    )
    try:
        change(user=request.user, competency=copy.copy(competency), expected_version=form.cleaned_data["version"])
    except ValidationError as exc:
        return _competency_page(request, competency, status=400, error=" ".join(exc.messages))
    except ConflictError as exc:
        current = selectors.get_competency(user=request.user, pk=pk)
        return _competency_page(request, current, status=409, conflict=exc.message)
    if action == "retire":
        messages.success(
            request,
            f"“{competency.name}” was retired. It stays on the forms that use it; it cannot be added to others.",
        )
    else:
        messages.success(request, f"“{competency.name}” is active again and can be added to forms.")
    return redirect("competencies:competency_detail", pk=pk)


# ---------------------------------------------------------------- rating scales


@login_required
def scale_list(request: HttpRequest) -> HttpResponse:
    scales = selectors.rating_scales(user=request.user).order_by(Lower("name"), "pk")
    rows = [{"scale": scale, "levels": _levels(scale)} for scale in scales]
    return render(
        request,
        "competencies/scales/list.html",
        {"rows": rows, "can_manage": access.can_manage_scales(request.user)},
    )


def _levels(scale: RatingScale) -> list[dict[str, object]]:
    """The scale's levels lowest first, values written as a person writes them (2.50 → 2.5)."""
    return [
        {"value": plain(level.value), "label": level.label, "descriptor": level.descriptor}
        for level in sorted(scale.levels.all(), key=lambda level: level.order)
    ]


@login_required
def scale_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scale = selectors.get_scale(user=request.user, pk=pk)
    return render(
        request,
        "competencies/scales/detail.html",
        {
            "scale": scale,
            "levels": _levels(scale),
            "locked": scale.locked,
            "forms": selectors.versions_using(
                user=request.user, condition=Q(goals_scale=scale) | Q(competencies__scale=scale)
            ),
            "can_manage": access.can_manage_scales(request.user),
        },
    )


def _scale_form_page(
    request: HttpRequest,
    form: ScaleForm,
    formset: BaseLevelFormSet,
    *,
    scale: RatingScale | None = None,
    status: int | None = None,
    **extra: object,
) -> HttpResponse:
    context = {
        "form": form,
        "formset": formset,
        "scale": scale,
        "locked": scale.is_locked() if scale else False,
        "can_add_level": formset.total_form_count() < MAX_LEVELS,
        "max_levels": MAX_LEVELS,
        **extra,
    }
    if status is None:
        status = _status_for(form, formset)
    return render(request, "competencies/scales/form.html", context, status=status)


def _posted_scale(request: HttpRequest) -> tuple[ScaleForm, BaseLevelFormSet]:
    return ScaleForm(request.POST), level_formset(request.POST)


def _with_one_more_row(form: ScaleForm, formset: BaseLevelFormSet) -> tuple[ScaleForm, BaseLevelFormSet]:
    """The same scale, as typed (removed and blank rows left out), with an empty level row added."""
    return ScaleForm(initial=form.raw_values()), level_formset(initial=formset.raw_rows(), extra=1)


def _save_scale(form: ScaleForm, formset: BaseLevelFormSet, save: Callable[..., RatingScale]) -> RatingScale | None:
    """Call the service when both parts are valid; its refusals go beside the fields and rows."""
    if not (form.is_valid() and formset.is_valid()):
        return None
    data = {name: form.cleaned_data[name] for name in ("name", "methodology", "description")}
    try:
        return save(data=data, levels=formset.level_specs())
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            found = exc.message_dict
            formset.add_service_errors(found.pop("levels", []))
            if found:
                apply_competency_errors(form, ValidationError(found))
        else:
            apply_competency_errors(form, exc)
    return None


@requires(access.can_manage_scales, access.SCALES_ONLY_HR)
@require_http_methods(["GET", "POST"])
def scale_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _scale_form_page(request, ScaleForm(), level_formset(extra=NEW_SCALE_ROWS))
    form, formset = _posted_scale(request)
    if "add_level" in request.POST:
        return _scale_form_page(request, *_with_one_more_row(form, formset))
    scale = _save_scale(
        form,
        formset,
        lambda data, levels: services.scale_create(user=request.user, levels=levels, **data),
    )
    if scale is not None:
        messages.success(request, f"The rating scale “{scale.name}” was created.")
        return redirect("competencies:scale_detail", pk=scale.pk)
    return _scale_form_page(request, form, formset)


@requires(access.can_manage_scales, access.SCALES_ONLY_HR)
@require_http_methods(["GET", "POST"])
def scale_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scale = selectors.get_scale(user=request.user, pk=pk)
    if request.method != "POST":
        form = ScaleForm(initial=ScaleForm.initial_for(scale))
        formset = level_formset(initial=level_initial(scale))
        return _scale_form_page(request, form, formset, scale=scale)
    form, formset = _posted_scale(request)
    if "add_level" in request.POST:
        return _scale_form_page(request, *_with_one_more_row(form, formset), scale=scale)
    try:
        saved = _save_scale(
            form,
            formset,
            lambda data, levels: services.scale_update(
                user=request.user,
                scale=copy.copy(scale),
                expected_version=form.cleaned_data["version"],
                data=data,
                levels=levels,
            ),
        )
    except ConflictError as exc:
        current = selectors.get_scale(user=request.user, pk=pk)
        data = request.POST.copy()
        data["version"] = str(current.version)
        return _scale_form_page(
            request,
            ScaleForm(data),
            level_formset(data),
            scale=scale,
            status=409,
            conflict=exc.message,
            current=current,
            current_levels=_levels(current),
        )
    if saved is not None:
        messages.success(request, "Your changes were saved.")
        return redirect("competencies:scale_detail", pk=pk)
    return _scale_form_page(request, form, formset, scale=scale)

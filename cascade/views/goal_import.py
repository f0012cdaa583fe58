"""The goal import page: the template, the upload and the uploader's recent imports."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cascade import access, selectors
from cascade.forms.goals import (
    SERVICE_FIELD_TO_FORM,
    GoalImportForm,
)
from cascade.imports import runner as import_runner
from cascade.imports.goals import COLUMNS as IMPORT_COLUMNS
from cascade.imports.goals import TEMPLATE_ROWS as IMPORT_TEMPLATE_ROWS
from cascade.models import (
    ImportKind,
)
from core import exports
from core.access import requires
from core.forms import apply_service_errors

# Reserved to those who import goals (cascade.access.can_import_goals): anyone else gets 403.
IMPORTERS_ONLY = "Goal imports are for HR, the quality lead and managers."


@requires(access.can_import_goals, IMPORTERS_ONLY)
@require_http_methods(["GET", "POST"])
def goal_import(request: HttpRequest) -> HttpResponse:
    if request.GET.get("template") == "csv":
        return exports.csv_response([IMPORT_COLUMNS, *IMPORT_TEMPLATE_ROWS], "goals-template.csv", bom=False)
    current = selectors.default_period_for(request.user)
    if request.method == "POST":
        form = GoalImportForm(request.POST, request.FILES)
    else:
        form = GoalImportForm(initial={"period": current.pk if current else None})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = import_runner.start_import(
                user=request.user,
                kind=ImportKind.GOALS,
                file_name=upload.name,
                content=upload,  # checked before it is read (core.tabular.check_upload)
                period=form.cleaned_data["period"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, SERVICE_FIELD_TO_FORM)
        else:
            return redirect("cascade:import_detail", pk=record.pk)
    imports = access.imports_visible_to(request.user).filter(kind=ImportKind.GOALS)
    return render(
        request,
        "cascade/goals/goal_import.html",
        {
            "form": form,
            "columns": IMPORT_COLUMNS,
            "imports": imports.defer("content")[:20],
            "no_periods": not form.fields["period"].queryset.exists(),
        },
        status=400 if form.errors else 200,
    )

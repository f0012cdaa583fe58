"""Pages about people: the directory, a person's profile, the department tree and the
org-chart import. (The home page is home.views.home.)"""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core import exports
from core.access import get_visible_or_404, requires
from people import access, org_import, selectors
from people.forms import OrgChartUploadForm
from people.models import OrgChartImport
from people.org_import import COLUMNS, start_import
from people.profile import render_panels

# The upload page and the template are reserved to HR (403 with this message to anyone else);
# a particular import is HR's record, so to anyone else it does not exist (404).
import_page = requires(access.can_import_org_chart, access.HR_ONLY_IMPORT)


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    people = access.employees_visible_to(request.user).order_by("full_name")
    query = request.GET.get("q", "").strip()
    if query:
        people = people.filter(
            Q(full_name__icontains=query) | Q(employee_id__iexact=query) | Q(job_title__icontains=query)
        )
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    return render(request, "people/directory.html", {"page": page, "query": query})


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.get_visible_employee(user=request.user, pk=pk)
    visible = access.employees_visible_to(request.user)
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "chain": selectors.reporting_chain(employee=person),
            # Only the reports this viewer may open are links; the chain above is shown as names.
            "reports": list(visible.filter(manager=person)),
            # What higher apps add to the profile (people.profile), e.g. titles awarded.
            "panels": render_panels(request, person),
        },
    )


@login_required
def departments(request: HttpRequest) -> HttpResponse:
    return render(request, "people/departments.html", {"tree": selectors.department_tree()})


@import_page
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    form = OrgChartUploadForm(request.POST, request.FILES) if request.method == "POST" else OrgChartUploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = start_import(
                user=request.user,
                file_name=upload.name,
                content=upload,  # checked before it is read (core.tabular.check_upload)
                deactivate_missing=form.cleaned_data["deactivate_missing"],
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("people:import_detail", pk=record.pk)
    imports = access.imports_visible_to(request.user).select_related("created_by").defer("content")[:20]
    return render(
        request,
        "people/import_upload.html",
        {"form": form, "imports": imports, "columns": COLUMNS},
        status=400 if form.errors else 200,
    )


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = _get_import(request, pk)
    template = "people/_import_status.html" if request.headers.get("HX-Request") else "people/import_detail.html"
    return render(request, template, {"record": record, "errors": record.errors[:500]})


@login_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Resume a stalled import; one that finished meanwhile simply shows how it ended."""
    record = _get_import(request, pk)
    with contextlib.suppress(ValidationError):
        org_import.import_resume(user=request.user, record=record)
    return redirect("people:import_detail", pk=pk)


@login_required
def import_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    record = _get_import(request, pk)
    # A message may quote the uploaded cell, so it is escaped like every export.
    rows = [["row", "field", "message"], *([e["row"], e["field"], e["message"]] for e in record.errors)]
    return exports.csv_response(rows, f"import-{record.pk}-errors.csv", bom=False)


@import_page
def import_template_csv(request: HttpRequest) -> HttpResponse:
    rows = [
        COLUMNS,
        ["H0001", "Ada Example", "ada@example.org", "Nursing", "", "Chief Nurse", "2019-04-01"],
        ["H0002", "Ben Example", "ben@example.org", "Nursing", "H0001", "Ward Manager", "2021-09-13"],
    ]
    return exports.csv_response(rows, "org-chart-template.csv", bom=False)


def _get_import(request: HttpRequest, pk: int) -> OrgChartImport:
    visible = access.imports_visible_to(request.user).select_related("created_by").defer("content")
    return get_visible_or_404(visible, pk=pk)

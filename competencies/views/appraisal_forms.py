"""Pages for appraisal forms: the list, a new form, a form's page with its versions,
"Edit" (a new draft of a published form) and the preview of a version as an employee
and a manager will see it. The builder of a draft is in competencies/views/builder.py.

Reading goes through competencies.selectors (a draft, or a form never published,
answers 404 to anyone but HR); who may build forms is competencies.access's to say
(403 to anyone else); writing goes through competencies.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from competencies import access, selectors, services
from competencies.forms.builder import FormCreateForm
from competencies.models import AppraisalForm, VersionStatus
from competencies.selectors import preview
from core.access import requires
from core.formatting import plain
from core.forms import apply_service_errors


def _shares(content: preview.FormPreview | None) -> list[tuple[preview.CompetencyView, str]]:
    return [(item, plain(item.share_of_score)) for item in content.competencies.items] if content else []


# ---------------------------------------------------------------- the list


@login_required
def form_list(request: HttpRequest) -> HttpResponse:
    can_build = access.can_build_forms(request.user)
    rows = []
    for form in selectors.forms_with_versions(user=request.user).order_by("name"):
        versions = form.visible_versions
        published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        draft = next((v for v in versions if v.is_draft), None)  # only HR sees drafts
        shown = published or draft
        rows.append(
            {
                "form": form,
                "published": published,
                "draft": draft,
                "rules": form.visible_rules,
                "balance": selectors.version_balance(shown) if shown else None,
                "balance_is_draft": shown is not None and shown is draft,
            }
        )
    return render(
        request,
        "competencies/appraisal_forms/list.html",
        {"rows": rows, "can_build": can_build, "can_manage_rules": access.can_manage_assignment_rules(request.user)},
    )


@requires(access.can_build_forms, access.FORMS_ONLY_HR)
@require_http_methods(["GET", "POST"])
def form_create(request: HttpRequest) -> HttpResponse:
    form = FormCreateForm(request.POST if request.method == "POST" else None, scales=selectors.scales_for_choice())
    if request.method == "POST" and form.is_valid():
        try:
            created = services.form_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"“{created.name}” was created as a draft. Add its competencies next.")
            return redirect("competencies:version_builder", pk=created.pk, number=1)
    status = 400 if form.errors else 200
    return render(request, "competencies/appraisal_forms/create.html", {"form": form}, status=status)


# ---------------------------------------------------------------- a form's page


@login_required
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    form = selectors.get_form(user=request.user, pk=pk)
    return _detail_page(request, form)


def _detail_page(request: HttpRequest, form: AppraisalForm, *, refusal: str = "", status: int = 200) -> HttpResponse:
    versions = list(
        selectors.versions_visible_to(user=request.user, form=form).select_related("published_by").order_by("-number")
    )
    published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
    draft = next((v for v in versions if v.is_draft), None)
    can_build = access.can_build_forms(request.user)
    can_manage_rules = access.can_manage_assignment_rules(request.user)
    content = preview.preview(published) if published else None
    return render(
        request,
        "competencies/appraisal_forms/detail.html",
        {
            "form": form,
            "history": [(v, v.is_in_use()) for v in versions],
            "published": published,
            "draft": draft,
            "content": content,
            "shares": _shares(content),
            # Shown beside the link to manage them, to those who may.
            "can_manage_rules": can_manage_rules,
            "rules": selectors.rules_of(form) if can_manage_rules else [],
            "can_build": can_build,
            "refusal": refusal,
        },
        status=status,
    )


@requires(access.can_build_forms, access.FORMS_ONLY_HR)
@require_POST
def form_new_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Edit" button of a published form: a new draft copying the published version."""
    form = selectors.get_form(user=request.user, pk=pk)
    try:
        draft = services.form_start_new_draft(user=request.user, form=form)
    except ValidationError as exc:
        return _detail_page(request, form, refusal=" ".join(exc.messages), status=400)
    messages.success(
        request,
        f"Version {draft.number} is a new draft copied from the published form. The published version stays "
        "in use until you publish this one.",
    )
    return redirect("competencies:version_builder", pk=form.pk, number=draft.number)


# ---------------------------------------------------------------- preview


@login_required
def version_preview(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    form = selectors.get_form(user=request.user, pk=pk)
    version = selectors.get_version(user=request.user, form=form, number=number)
    audience = request.GET.get("audience", "employee")
    if audience not in preview.AUDIENCES:
        audience = "employee"
    content = preview.preview(version, audience=audience)
    return render(
        request,
        "competencies/appraisal_forms/preview.html",
        {
            "form": form,
            "version": version,
            "p": content,
            "shares": _shares(content),
            "audiences": [(a, preview.PROMPTS[a]["label"]) for a in preview.AUDIENCES],
            "can_build": access.can_build_forms(request.user),
        },
    )

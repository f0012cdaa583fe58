"""The assignment rules page: which appraisal form applies to a department, a job title or
everyone else, a form to add or edit a rule, and a lookup of who gets which form.

HR set-up (competencies.access.can_manage_assignment_rules): 403 to anyone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from competencies import access, selectors, services
from competencies.forms.assignment import RuleForm
from competencies.models import AssignmentRule
from core.access import requires
from core.errors import ConflictError
from core.forms import apply_service_errors

CONFLICT = (
    "Someone else changed this rule while you were editing it; your change was not saved. "
    "What you typed is kept below: save again to replace their version."
)


@requires(access.can_manage_assignment_rules, access.RULES_ONLY_HR)
@require_http_methods(["GET", "POST"])
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules, a form to add one (or edit the one named by ``?edit=``), and the lookup ``?person=``."""
    if request.method == "POST":
        return _rule_post(request)
    editing = selectors.get_rule(user=request.user, raw=request.GET.get("edit", ""))
    form = RuleForm(initial=RuleForm.initial_for(editing)) if editing else RuleForm()
    return _rules_page(request, form, editing)


def _rule_post(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "create")
    rule = selectors.get_rule(user=request.user, raw=request.POST.get("rule", ""))
    if action in ("update", "delete") and rule is None:
        messages.error(request, "That rule no longer exists; someone may have deleted it.")
        return redirect("competencies:rule_list")
    if action == "delete":
        described = f"{rule.describe()} → {rule.form.name}"
        services.rule_delete(user=request.user, rule=rule)
        messages.success(request, f"The rule “{described}” was deleted.")
        return redirect("competencies:rule_list")
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            if rule is None:
                saved = services.rule_create(user=request.user, **form.service_data())
            else:
                saved = services.rule_update(
                    user=request.user,
                    rule=rule,
                    expected_version=form.cleaned_data["version"],
                    data=form.service_data(),
                )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ConflictError:
            current = selectors.get_rule(user=request.user, raw=str(rule.pk))
            if current is None:  # deleted meanwhile
                messages.error(request, "That rule no longer exists; someone may have deleted it.")
                return redirect("competencies:rule_list")
            data = request.POST.copy()
            data["version"] = str(current.version)
            return _rules_page(request, RuleForm(data), current, conflict=CONFLICT, status=409)
        else:
            messages.success(request, f"Saved: {saved.describe()} → {saved.form.name}.")
            return redirect("competencies:rule_list")
    current = selectors.get_rule(user=request.user, raw=str(rule.pk)) if rule else None
    return _rules_page(request, form, current, status=400)


def _rules_page(
    request: HttpRequest, form: RuleForm, editing: AssignmentRule | None, *, conflict: str = "", status: int = 200
) -> HttpResponse:
    query = request.GET.get("person", "").strip()
    return render(
        request,
        "competencies/assignment/list.html",
        {
            "rules": selectors.rules_with_published(user=request.user),
            "form": form,
            "editing": editing,
            "conflict": conflict,
            "query": query,
            "lookup": selectors.who_gets_what(user=request.user, query=query),
            "lookup_limit": selectors.LOOKUP_LIMIT,
        },
        status=status,
    )

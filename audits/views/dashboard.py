"""The alignment pages: the dashboard, the findings and HR's action on one, audit runs with
"Run now" and its progress, and the settings (each rule's thresholds, the schedule).

HR admins and quality leads read every page (audits.access decides); everyone
else gets 403 on the pages and 404 on a finding's or a run's URL, so that the existence of
a finding does not leak. Only HR acts: a quality lead who posts gets 403. Writing goes
through audits.services (runs, findings, settings) and audits.schedule, whose
ValidationError answers 400 with the form's messages beside the fields, ConflictError a
409 that keeps what HR typed, and PermissionDenied a 403. The pages read through
audits.selectors.dashboard, a fixed number of queries however many findings there are.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audits import access
from audits import schedule as audit_schedule
from audits.forms.dashboard import FindingActionForm, FindingFilterForm, RuleForm, ScheduleForm
from audits.models import AuditRun, Finding
from audits.rules import get_rule
from audits.selectors import dashboard as read
from audits.services import findings as finding_services
from audits.services import runs as run_services
from audits.services import settings as setting_services
from core.access import deny_unless, get_visible_or_404, requires
from core.errors import ConflictError
from core.forms import apply_service_errors

FINDINGS_PER_PAGE = 50
RUNS_PER_PAGE = 30


def _finding(request: HttpRequest, pk: int) -> Finding:
    return get_visible_or_404(access.findings_visible_to(request.user).select_related("department"), pk=pk)


def _run(request: HttpRequest, pk: int) -> AuditRun:
    return get_visible_or_404(access.runs_visible_to(request.user), pk=pk)


# ---------------------------------------------------------------- the dashboard


@requires(access.can_read_audits, access.READ_MESSAGE)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    overview = read.overview(user=request.user)
    return render(
        request,
        "audits/dashboard.html",
        {
            "overview": overview,
            "can_run": access.can_run_audits(request.user),
            "chart_id": "alignment-score-chart",
        },
    )


# ---------------------------------------------------------------- findings


@requires(access.can_read_audits, access.READ_MESSAGE)
@require_GET
def finding_list(request: HttpRequest) -> HttpResponse:
    visible = access.findings_visible_to(request.user)
    form = FindingFilterForm(
        request.GET,
        statuses=read.STATUS_FILTERS,
        pitfalls=read.pitfall_choices(),
        rules=read.rule_choices(),
        severities=[(str(s), s.label) for s in read.SEVERITY_ORDER],
        departments=[(d.pk, d.name) for d in read.departments_with_findings(visible)],
    )
    wanted = form.wanted()
    chosen = read.FindingFilter(
        status=str(wanted.get("status") or "active"),
        pitfall=str(wanted.get("pitfall") or ""),
        rule=str(wanted.get("rule") or ""),
        severity=str(wanted.get("severity") or ""),
        department=wanted.get("department"),  # type: ignore[arg-type]
        run=wanted.get("run"),  # type: ignore[arg-type]
        change=str(wanted.get("change") or ""),
    )
    rows = read.finding_rows(read.filter_findings(visible, chosen))
    page = Paginator(rows, FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = read.decorate(page.object_list)
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "audits/findings.html",
        {
            "form": form,
            "chosen": chosen,
            "page": page,
            "querystring": kept.urlencode(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


def _detail_page(
    request: HttpRequest,
    finding: Finding,
    *,
    form: FindingActionForm | None = None,
    status: int = 200,
    conflict: str = "",
) -> HttpResponse:
    finding = (
        Finding.objects.select_related(
            "department", "first_seen_run", "last_seen_run", "closed_by_run", "acted_by"
        ).get(pk=finding.pk)
        if not conflict
        else finding
    )
    can_act = access.can_act_on_findings(request.user, finding)
    return render(
        request,
        "audits/finding_detail.html",
        {
            "finding": finding,
            "info": read.rule_info(finding.rule),
            "subject_url": read.subject_url(finding),
            "figures": read.figures(finding),
            "drill": read.drill_down(finding),
            "events": list(finding.events.select_related("by", "run").order_by("at", "pk")),
            "can_act": can_act and finding.is_active,
            "form": form or FindingActionForm(initial={"version": finding.version}),
            "conflict": conflict,
        },
        status=status,
    )


@login_required
@require_GET
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _finding(request, pk))


@login_required
@require_POST
def finding_act(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    deny_unless(access.can_act_on_findings(request.user, finding), access.ACT_MESSAGE)
    form = FindingActionForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, finding, form=form, status=400)
    action = form.cleaned_data["action"]
    act = finding_services.resolve if action == "resolve" else finding_services.acknowledge
    try:
        act(
            user=request.user,
            finding=finding,
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _detail_page(request, finding, form=form, status=400)
    except ConflictError as exc:
        # What HR typed stays; the form now carries the saved version, so a second
        # press (after reading what changed) goes through.
        current = (
            Finding.objects.select_related("department", "first_seen_run", "last_seen_run", "closed_by_run", "acted_by")
            .filter(pk=finding.pk)
            .first()
        )
        if current is None:
            raise Http404("No such finding.") from exc
        data = request.POST.copy()
        data["version"] = str(current.version)
        again = FindingActionForm(data)
        again.is_valid()
        return _detail_page(request, current, form=again, status=409, conflict=exc.message)
    messages.success(
        request,
        "The finding is resolved." if action == "resolve" else "The finding is acknowledged: it stays on the list.",
    )
    return redirect("audits:finding_detail", pk=finding.pk)


# ---------------------------------------------------------------- runs


@requires(access.can_read_audits, access.READ_MESSAGE)
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    runs = access.runs_visible_to(request.user).select_related("requested_by").order_by("-created_at", "-pk")
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "audits/runs.html",
        {"page": page, "can_run": access.can_run_audits(request.user), "schedule": audit_schedule.get_schedule()},
    )


@requires(access.can_run_audits, access.RUN_MESSAGE)
@require_POST
def run_now(request: HttpRequest) -> HttpResponse:
    already = run_services.run_in_progress()
    run = run_services.start_run(user=request.user)
    if already is not None and already.pk == run.pk:
        messages.info(request, "An audit was already under way: this is its progress. Only one runs at a time.")
    else:
        messages.success(
            request, "The audit has been queued. You can leave this page: it shows how far the audit has got."
        )
    return redirect("audits:run_detail", pk=run.pk)


def _run_context(run: AuditRun) -> dict[str, object]:
    return {"run": run, "changes": read.run_changes(run) if run.is_finished else []}


def _run_page(request: HttpRequest, run: AuditRun, *, status: int = 200, **extra: object) -> HttpResponse:
    context = _run_context(run)
    context.update(can_run=access.can_run_audits(request.user), **extra)
    return render(request, "audits/run_detail.html", context, status=status)


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _run_page(request, _run(request, pk))


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress block alone, which the run's page polls (htmx) until the run has finished."""
    run = _run(request, pk)
    if not request.headers.get("HX-Request"):
        return redirect("audits:run_detail", pk=run.pk)
    context = _run_context(run)
    context["can_run"] = access.can_run_audits(request.user)
    return render(request, "audits/_run_progress.html", context)


@login_required
@require_POST
def run_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    deny_unless(access.can_run_audits(request.user), access.RUN_MESSAGE)
    try:
        again = run_services.rerun(user=request.user, run=run)
    except ValidationError as exc:
        return _run_page(request, _run(request, pk), status=400, action_errors=exc.messages)
    messages.success(request, "The audit is running again. Findings it already recorded are not duplicated.")
    return redirect("audits:run_detail", pk=again.pk)


@login_required
@require_POST
def run_resume(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    deny_unless(access.can_run_audits(request.user), access.RUN_MESSAGE)
    try:
        run_services.run_resume(user=request.user, run=run)
    except ValidationError as exc:
        return _run_page(request, _run(request, pk), status=400, action_errors=exc.messages)
    messages.success(request, "The audit has been queued again. Findings it already recorded are not duplicated.")
    return redirect("audits:run_detail", pk=run.pk)


# ---------------------------------------------------------------- settings


def _settings_page(
    request: HttpRequest,
    *,
    bound_rule: RuleForm | None = None,
    schedule_form: ScheduleForm | None = None,
    status: int = 200,
    conflict: str = "",
) -> HttpResponse:
    can_edit = access.can_edit_audit_settings(request.user)
    rows = []
    for setting in setting_services.rule_settings():
        if bound_rule is not None and bound_rule.rule.key == setting.rule.key:
            form = bound_rule
        else:
            form = RuleForm(
                setting.rule,
                initial=RuleForm.initial_for(
                    enabled=setting.enabled,
                    limits=setting.limits,
                    version=setting.config.version if setting.config else None,
                ),
                read_only=not can_edit,
            )
        rows.append(
            {
                "setting": setting,
                "info": read.rule_info(setting.rule.key),
                "form": form,
                "conflict": conflict if form is bound_rule else "",
            }
        )
    schedule = audit_schedule.get_schedule()
    if schedule_form is None:
        schedule_form = ScheduleForm(
            initial={
                "enabled": schedule.enabled,
                "days_of_week": list(schedule.days_of_week),
                "hour": schedule.hour,
                "minute": schedule.minute,
            },
            read_only=not can_edit,
        )
    return render(
        request,
        "audits/settings.html",
        {"rows": rows, "schedule": schedule, "schedule_form": schedule_form, "can_edit": can_edit},
        status=status,
    )


@requires(access.can_read_audits, access.READ_MESSAGE)
@require_GET
def audit_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@requires(access.can_edit_audit_settings, access.SETTINGS_MESSAGE)
@require_POST
def rule_edit(request: HttpRequest, key: str) -> HttpResponse:
    try:
        rule = get_rule(key)
    except KeyError as exc:
        raise Http404("No such audit check.") from exc
    form = RuleForm(rule, request.POST)
    if not form.is_valid():
        return _settings_page(request, bound_rule=form, status=400)
    try:
        setting_services.update_rule(
            user=request.user,
            key=key,
            enabled=form.cleaned_data["enabled"],
            thresholds=form.thresholds(),
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _settings_page(request, bound_rule=form, status=400)
    except ConflictError as exc:
        current = next((s for s in setting_services.rule_settings() if s.rule.key == key), None)
        data: QueryDict = request.POST.copy()
        data[f"{key}-version"] = str(current.config.version) if current and current.config else ""
        again = RuleForm(rule, data)
        again.is_valid()
        return _settings_page(request, bound_rule=again, status=409, conflict=exc.message)
    messages.success(request, f"“{rule.title}” was saved. The next audit uses these settings.")
    return redirect(reverse("audits:settings") + f"#rule-{key}")


@requires(access.can_edit_audit_settings, access.SCHEDULE_MESSAGE)
@require_POST
def schedule_edit(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, schedule_form=form, status=400)
    try:
        schedule = audit_schedule.update_schedule(
            user=request.user,
            enabled=form.cleaned_data["enabled"],
            hour=form.cleaned_data["hour"],
            minute=form.cleaned_data["minute"],
            days_of_week=sorted(form.cleaned_data["days_of_week"]),  # none when paused: the days are kept
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _settings_page(request, schedule_form=form, status=400)
    messages.success(request, f"The schedule was saved. {schedule.description}.")
    return redirect(reverse("audits:settings") + "#schedule")

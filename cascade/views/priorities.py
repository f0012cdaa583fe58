"""Pages for quality priorities and their measures: lists, details with run and XmR
charts and the cascaded goal tree, the forms that change them, and observation entry
and import.

Reading goes through cascade.selectors (404 outside a person's scope); writing through
cascade.services, whose PermissionDenied answers 403, ValidationError a 400 with the
form's messages, and ConflictError a 409 that keeps what the person typed.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat
from django.views.decorators.http import require_http_methods, require_POST

from cascade import access, selectors, services
from cascade.forms.priorities import (
    ChangePointForm,
    ImportUploadForm,
    MeasureForm,
    ObservationForm,
    PriorityForm,
)
from cascade.imports import runner as import_runner
from cascade.imports.observations import COLUMNS as OBSERVATION_COLUMNS
from cascade.models import (
    CascadeImport,
    GoalPeriod,
    GoalStatus,
    ImportKind,
    Observation,
    PriorityStatus,
    QualityMeasure,
    QualityPriority,
)
from core.access import deny_unless, get_visible_or_404, requires
from core.errors import ConflictError
from core.formatting import plain
from core.forms import apply_service_errors
from core.inputs import id_or_none
from people import access as people

OBSERVATIONS_PER_PAGE = 25


def _status_for(form) -> int:
    return 400 if form.errors else 200


# ---------------------------------------------------------------- charts


def chart_data(measure: QualityMeasure, observations: list[Observation] | None = None) -> dict:
    """The chart contract of cascade.charts for one measure (in phases, by its rules), with its
    name and unit for the drawing."""
    series = None if observations is None else [(o.date, o.value) for o in observations]
    chart = selectors.measure_chart(measure, observations=series).as_dict()
    chart.update(title=measure.name, unit=measure.unit)
    return chart


def signal_badge(chart: dict) -> dict[str, str]:
    """A measure's state in a few words: the latest special cause (and its kind), or common cause."""
    xmr, run = chart["xmr"], chart["run"]
    if xmr["signals"]:
        return _latest_kind(xmr["signals"], "Special cause")
    if run["signals"]:
        return _latest_kind(run["signals"], "Run chart signal")
    if run["runs"]["verdict"] in ("too_few", "too_many"):
        return {"kind": "neutral", "label": "Run chart signal"}
    if not chart["n"]:
        return {"kind": "none", "label": "No data yet"}
    if xmr["status"] == "insufficient":
        return {"kind": "none", "label": "Too few points to judge"}
    return {"kind": "common", "label": "Common cause variation"}


def _latest_kind(signals: list[dict], label: str) -> dict[str, str]:
    latest = max(s["end"] for s in signals)
    kinds = {s["kind"] for s in signals if s["end"] == latest}
    if not kinds & {"concern", "improvement"}:  # too few crossings (Anhøj) has no direction
        return {"kind": "neutral", "label": label}
    kind = "concern" if "concern" in kinds else "improvement"  # when both end together, the concern leads
    return {"kind": kind, "label": f"{label}: {kind}"}


RUNS_VERDICTS = {
    "ok": "The number of runs is what chance alone would give.",
    "too_few": "Too few runs: the values stay on one side of the median for longer than chance would allow, "
    "a sign of a non-random pattern.",
    "too_many": "Too many runs: the values flip across the median more often than chance would allow, "
    "which often means the data mix two processes (e.g. alternating shifts).",
    "not_applicable": "The runs test is not applied here: too few points lie off the median.",
}


def _anhoej_text(run: dict) -> str:
    """Anhøj's two rules in words: an unusually long run, and too few crossings of the median."""
    parts = []
    longest, longest_limit = run.get("longest_run"), run.get("longest_run_limit")
    if longest is not None and longest_limit is not None:
        unusual = "unusually long: a shift" if longest > longest_limit else "within what chance gives"
        parts.append(f"The longest run is {longest} points (more than {longest_limit} would be a signal), {unusual}.")
    crossings, crossings_limit = run.get("crossings"), run.get("crossings_limit")
    if crossings is not None and crossings_limit is not None:
        few = "too few: a sign of a non-random pattern" if crossings < crossings_limit else "as chance would give"
        parts.append(
            f"The values cross the median {crossings} times (fewer than {crossings_limit} would be a signal), {few}."
        )
    return " ".join(parts)


def _number(value: Decimal | float | None, unit: str) -> str:
    text = plain(value)
    return f"{text}{unit}" if unit.startswith("%") else f"{text} {unit}".strip()


def assurance_text(chart: dict, measure: QualityMeasure) -> str:
    """Whether the process as it runs now will meet the target, in words. Only a stable phase is
    judged: with special causes in it, its limits describe a process that has since moved."""
    target = _number(measure.target, measure.unit)
    if chart["xmr"]["assurance"] and chart["xmr"]["signals"]:
        return (
            f"Not judged: the current phase shows special causes, so its limits do not describe a stable "
            f"process and cannot say whether it will meet the target of {target}. If the process changed, "
            "mark a change point where it did: the target is then judged on the new phase's own limits."
        )
    return {
        "always": f"If nothing changes, the process will meet the target of {target} every time: "
        "both process limits are on the good side of it.",
        "never": f"If nothing changes, the process will not meet the target of {target}: "
        "both process limits are on the wrong side of it. Only a change to the process will reach it.",
        "inconsistent": f"The target of {target} lies between the process limits, so the process will meet it "
        "some of the time and miss it at other times, by chance alone.",
    }.get(
        chart["xmr"]["assurance"] or "",
        "Not known yet: judging whether the target will be met needs process limits, which need 12 or more points.",
    )


def current_phase_points(chart: dict) -> int:
    """How many points the current phase (the one after the latest change point) has."""
    phases = chart.get("phases") or []
    if not phases:
        return chart["n"]
    current = phases[-1]["index"]
    return sum(1 for point in chart["points"] if point.get("phase") == current)


def xmr_status_text(chart: dict) -> str:
    since = " since the latest change point" if len(chart.get("phases") or []) > 1 else ""
    return {
        "final": f"Limits are based on 20 or more points{since}.",
        "provisional": f"Limits are provisional: they rest on fewer than 20 points{since} and will move as data arrive.",
    }.get(
        chart["xmr"]["status"],
        f"No limits yet: process limits need 12 or more points{since} ({current_phase_points(chart)} so far).",
    )


def runs_text(chart: dict) -> str:
    """The current phase's run chart in words, by the rules the measure uses."""
    run = chart["run"]
    if not run["rules_apply"]:
        return f"The run chart rules apply from 10 points on ({current_phase_points(chart)} so far)."
    if chart.get("rules") == "anhoej" and "longest_run" in run:
        return _anhoej_text(run)
    text = RUNS_VERDICTS[run["runs"]["verdict"]]
    if run["runs"]["verdict"] == "ok" and run["signals"]:
        # "ok" speaks of the count of runs only; a shift or trend is a non-random pattern all the same.
        text += " The shift or trend listed under Signals is a non-random pattern all the same."
    # The limits are the exact Swed-Eisenhart ones (cascade.charts): an analyst checking the printed
    # table finds some rows one run apart, and should know why.
    runs = run["runs"]
    if runs["verdict"] != "not_applicable" and runs["lower"] is not None:
        text += (
            f" Expected by chance: {runs['lower']} to {runs['upper']} runs for {runs['useful']} points off the "
            "median (exact limits, 2.5 % each side; some rows of the printed IHI table differ by one run)."
        )
    return text


# ---------------------------------------------------------------- priorities


@login_required
def priority_list(request: HttpRequest) -> HttpResponse:
    shown = request.GET.get("status", PriorityStatus.ACTIVE)
    priorities = access.priorities_visible_to(request.user).annotate(measure_count=Count("measures"))
    if shown in PriorityStatus.values:
        priorities = priorities.filter(status=shown)
    else:
        shown = "all"
    goal_counts = dict(
        access.goals_visible_to(request.user)
        .exclude(status=GoalStatus.CANCELLED)
        .order_by()
        .values_list("priority_id")
        .annotate(count=Count("pk"))
    )
    rows = [(p, goal_counts.get(p.pk, 0)) for p in priorities.order_by("title")]
    return render(
        request,
        "cascade/priorities/list.html",
        {
            "rows": rows,
            "shown": shown,
            "filters": [("active", "Active"), ("retired", "Retired"), ("all", "All")],
            "can_manage": access.can_manage_priorities(request.user),
        },
    )


@requires(access.can_manage_priorities, "Only the quality lead or HR can create quality priorities.")
@require_http_methods(["GET", "POST"])
def priority_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PriorityForm(request.POST)
        if form.is_valid():
            try:
                priority = services.priority_create(user=request.user, data=form.service_data())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"“{priority.title}” was created. Add its measures next.")
                return redirect("cascade:priority_detail", pk=priority.pk)
    else:
        form = PriorityForm(initial={"owner": getattr(people.employee_for_user(request.user), "pk", None)})
    return render(request, "cascade/priorities/form.html", {"form": form}, status=_status_for(form))


@login_required
@require_http_methods(["GET", "POST"])
def priority_edit(request: HttpRequest, pk: int) -> HttpResponse:
    priority = selectors.get_priority(user=request.user, pk=pk)
    deny_unless(
        access.can_manage_priorities(request.user), "Only the quality lead or HR can change quality priorities."
    )
    context: dict[str, object] = {"priority": priority}
    if request.method != "POST":
        form = PriorityForm(initial=PriorityForm.initial_for(priority))
        return render(request, "cascade/priorities/form.html", {**context, "form": form})
    form = PriorityForm(request.POST)
    if form.is_valid():
        try:
            services.priority_update(
                user=request.user,
                priority=copy.copy(priority),  # the service changes it; the page keeps the saved title
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ConflictError as exc:
            current = selectors.get_priority(user=request.user, pk=pk)
            return render(
                request,
                "cascade/priorities/form.html",
                {**context, **_conflict(PriorityForm, request, current, exc)},
                status=409,
            )
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("cascade:priority_detail", pk=pk)
    return render(request, "cascade/priorities/form.html", {**context, "form": form}, status=_status_for(form))


def _conflict(form_class, request: HttpRequest, current, exc: ConflictError) -> dict[str, object]:
    """The form as the person filled it in, now based on the saved version, beside what is saved."""
    data = request.POST.copy()
    data["version"] = str(current.version)
    numbers = {name: plain(getattr(current, name, None)) for name in ("baseline", "target")}
    return {"form": form_class(data), "conflict": exc.message, "current": current, "current_numbers": numbers}


@login_required
def priority_detail(request: HttpRequest, pk: int) -> HttpResponse:
    priority = selectors.get_priority(user=request.user, pk=pk)
    measures = (
        access.measures_visible_to(request.user)
        .filter(priority=priority)
        .prefetch_related(Prefetch("observations", queryset=Observation.objects.order_by("date")))
    )
    cards = []
    for measure in measures.prefetch_related("change_points"):
        chart = chart_data(measure)
        cards.append(
            {
                "measure": measure,
                "target": plain(measure.target),
                "chart": chart,
                "badge": signal_badge(chart),
                "json_id": f"measure-{measure.pk}-chart",
            }
        )
    period = selectors.default_period_for(request.user)
    return render(
        request,
        "cascade/priorities/detail.html",
        {
            "priority": priority,
            "cards": cards,
            "period": period,
            **_tree_context(request, priority, period),
            "can_manage": access.can_manage_priorities(request.user),
            "can_add_department_goal": priority.status == PriorityStatus.ACTIVE
            and access.can_draft_any_functional_goals(request.user),
        },
    )


@login_required
def priority_tree(request: HttpRequest, pk: int) -> HttpResponse:
    priority = selectors.get_priority(user=request.user, pk=pk)
    periods = list(GoalPeriod.objects.all())
    period = _chosen_period(request, periods)
    return render(
        request,
        "cascade/priorities/tree.html",
        {
            "priority": priority,
            "period": period,
            "periods": periods,
            **_tree_context(request, priority, period),
        },
    )


def _tree_context(request: HttpRequest, priority: QualityPriority, period: GoalPeriod | None) -> dict[str, object]:
    """The tree's first view: a small tree whole, a large one its top level, a branch loading on opening."""
    start = selectors.priority_tree_start(user=request.user, priority=priority, period=period)
    return {"tree": start.nodes, "tree_level": start}


@login_required
def priority_tree_level(request: HttpRequest, pk: int) -> HttpResponse:
    """One level of the tree (?goal=<id>: the goals under it; none: the top), ``TREE_LEVEL`` at a
    time from ?offset: the list items a branch loads when opened (htmx), or, without script, a page."""
    priority = selectors.get_priority(user=request.user, pk=pk)
    periods = list(GoalPeriod.objects.all())
    period = _chosen_period(request, periods)
    parent = None
    wanted = id_or_none(request.GET.get("goal"))
    if "goal" in request.GET:
        if wanted is None:
            raise Http404("No such goal.")
        parent = get_visible_or_404(access.goals_visible_to(request.user).filter(priority=priority), pk=wanted)
    offset = id_or_none(request.GET.get("offset")) or 0
    level = selectors.priority_tree_level(
        user=request.user, priority=priority, period=period, parent=parent, offset=offset
    )
    context = {"priority": priority, "period": period, "level": level, "tree": level.nodes}
    if request.headers.get("HX-Request"):
        return render(request, "cascade/priorities/_goal_level.html", context)
    return render(request, "cascade/priorities/tree_level.html", context)


def _chosen_period(request: HttpRequest, periods: list[GoalPeriod]) -> GoalPeriod | None:
    """The period asked for (?period=<id>), else the reader's default."""
    wanted = request.GET.get("period", "")
    if wanted.isdigit():
        for period in periods:
            if period.pk == int(wanted):
                return period
    return selectors.default_period_for(request.user)


# ---------------------------------------------------------------- measures


@requires(access.can_manage_priorities, "Only the quality lead or HR can define measures.")
@require_http_methods(["GET", "POST"])
def measure_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = MeasureForm(request.POST)
        if form.is_valid():
            try:
                measure = services.measure_create(user=request.user, data=form.service_data())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"“{measure.name}” was created. Record its first values below.")
                return redirect("cascade:measure_detail", pk=measure.pk)
    else:
        wanted = request.GET.get("priority", "")
        priority = QualityPriority.objects.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        form = MeasureForm(initial={"priority": priority.pk if priority else None})
    return render(request, "cascade/measures/form.html", {"form": form}, status=_status_for(form))


@login_required
@require_http_methods(["GET", "POST"])
def measure_edit(request: HttpRequest, pk: int) -> HttpResponse:
    measure = selectors.get_measure(user=request.user, pk=pk)
    deny_unless(access.can_manage_priorities(request.user), "Only the quality lead or HR can change measures.")
    context: dict[str, object] = {"measure": measure}
    if request.method != "POST":
        form = MeasureForm(initial=MeasureForm.initial_for(measure))
        return render(request, "cascade/measures/form.html", {**context, "form": form})
    form = MeasureForm(request.POST)
    if form.is_valid():
        try:
            services.measure_update(
                user=request.user,
                measure=copy.copy(measure),
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ConflictError as exc:
            current = selectors.get_measure(user=request.user, pk=pk)
            return render(
                request,
                "cascade/measures/form.html",
                {**context, **_conflict(MeasureForm, request, current, exc)},
                status=409,
            )
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("cascade:measure_detail", pk=pk)
    return render(request, "cascade/measures/form.html", {**context, "form": form}, status=_status_for(form))


@login_required
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    measure = selectors.get_measure(user=request.user, pk=pk)
    return _measure_page(request, measure, ObservationForm())


def _measure_page(
    request: HttpRequest,
    measure: QualityMeasure,
    form: ObservationForm,
    status: int = 200,
    change_point_form: ChangePointForm | None = None,
):
    observations = selectors.observations_for(measure)
    chart = chart_data(measure, observations)
    page = Paginator(observations[::-1], OBSERVATIONS_PER_PAGE).get_page(request.GET.get("page"))
    goals = (
        access.goals_visible_to(request.user)
        .filter(measure=measure)
        .exclude(status=GoalStatus.CANCELLED)
        .order_by("level", "title")[:50]
    )
    return render(
        request,
        "cascade/measures/detail.html",
        {
            "measure": measure,
            "chart": chart,
            "chart_id": f"measure-{measure.pk}-chart",
            "badge": signal_badge(chart),
            "runs_text": runs_text(chart),
            "xmr_text": xmr_status_text(chart),
            "assurance": assurance_text(chart, measure),
            "signals": _signals(chart),
            "phase_start": _current_phase_start(chart),
            "page": page,
            "rows": [
                {"date": o.date, **{k: plain(getattr(o, k)) for k in ("value", "numerator", "denominator")}}
                for o in page.object_list
            ],
            "baseline": plain(measure.baseline),
            "target": plain(measure.target),
            "form": form,
            "goals": list(goals),
            "can_record": access.can_record_observations(request.user, measure),
            "can_manage": access.can_manage_priorities(request.user),
            "change_points": list(measure.change_points.select_related("created_by")),
            "can_mark": access.can_mark_change_points(request.user, measure),
            "change_point_form": change_point_form or ChangePointForm(),
        },
        status=status,
    )


def _current_phase_start(chart: dict) -> datetime.date | None:
    """The first date of the current phase when the charts have more than one; else None."""
    phases = chart.get("phases") or []
    if len(phases) < 2:
        return None
    current = phases[-1]["index"]
    first = next((point["date"] for point in chart["points"] if point.get("phase") == current), None)
    return datetime.date.fromisoformat(first) if first else None


def _signals(chart: dict) -> list[dict]:
    """Every signal of both charts in every phase, with the dates it spans rather than point numbers."""
    dates = [datetime.date.fromisoformat(point["date"]) for point in chart["points"]]
    phases = chart.get("phases") or [chart]
    found = []
    for number, phase in enumerate(phases, start=1):
        for chart_name, key in (("Run chart", "run"), ("XmR chart", "xmr")):
            for signal in phase[key]["signals"]:
                found.append(
                    {
                        **signal,
                        "chart": chart_name,
                        "phase": number if len(phases) > 1 else None,
                        "start_date": dates[signal["start"]],
                        "end_date": dates[signal["end"]],
                    }
                )
    return found


@login_required
@require_POST
def change_point_add(request: HttpRequest, pk: int) -> HttpResponse:
    measure = selectors.get_measure(user=request.user, pk=pk)
    deny_unless(
        access.can_mark_change_points(request.user, measure),
        "Only the measure's owner or a quality lead can mark a change point.",
    )
    form = ChangePointForm(request.POST)  # prefixed: change_point-date, change_point-reason
    if form.is_valid():
        try:
            change_point = services.change_point_mark(user=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            when = dateformat.format(change_point.date, "j F Y")
            messages.success(request, f"Marked a change point on {when}: the charts start a new phase there.")
            return redirect(reverse("cascade:measure_detail", args=[pk]) + "#change-points")
    return _measure_page(request, measure, ObservationForm(), status=400, change_point_form=form)


@login_required
@require_POST
def change_point_remove(request: HttpRequest, pk: int, change_point_pk: int) -> HttpResponse:
    measure = selectors.get_measure(user=request.user, pk=pk)
    change_point = get_visible_or_404(
        access.change_points_visible_to(request.user).filter(measure=measure), pk=change_point_pk
    )
    try:
        services.change_point_remove(user=request.user, change_point=change_point)
    except ConflictError as exc:
        messages.error(request, exc.message)
    else:
        when = dateformat.format(change_point.date, "j F Y")
        messages.success(request, f"Removed the change point of {when}: the phases either side are one again.")
    return redirect(reverse("cascade:measure_detail", args=[pk]) + "#change-points")


@login_required
@require_http_methods(["GET", "POST"])
def observation_add(request: HttpRequest, pk: int) -> HttpResponse:
    measure = selectors.get_measure(user=request.user, pk=pk)
    if request.method == "GET":
        # A page of the table after a refused entry, or a reload: both belong on the measure's page.
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse("cascade:measure_detail", args=[pk]) + query)
    deny_unless(access.can_record_observations(request.user, measure), "You cannot record data for this measure.")
    form = ObservationForm(request.POST)
    if form.is_valid():
        try:
            observation = services.observation_add(user=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            when = dateformat.format(observation.date, "j F Y")
            messages.success(request, f"Recorded {_number(observation.value, measure.unit)} for {when}.")
            return redirect(reverse("cascade:measure_detail", args=[pk]) + "#observations")
    return _measure_page(request, measure, form, status=400)


# ---------------------------------------------------------------- observation imports


@login_required
@require_http_methods(["GET", "POST"])
def observation_import(request: HttpRequest, pk: int) -> HttpResponse:
    measure = selectors.get_measure(user=request.user, pk=pk)
    deny_unless(access.can_record_observations(request.user, measure), "You cannot record data for this measure.")
    columns = OBSERVATION_COLUMNS
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, columns=columns)
    else:
        form = ImportUploadForm(columns=columns)
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = import_runner.start_import(
                user=request.user,
                kind=ImportKind.OBSERVATIONS,
                file_name=upload.name,
                content=upload,  # checked before it is read (core.tabular.check_upload)
                measure=measure,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("cascade:import_detail", pk=record.pk)
    history = access.imports_visible_to(request.user).filter(kind=ImportKind.OBSERVATIONS, measure=measure)
    return render(
        request,
        "cascade/measures/import.html",
        {
            "measure": measure,
            "form": form,
            "columns": columns,
            "imports": history.select_related("created_by__employee").defer("content")[:20],
        },
        status=_status_for(form),
    )


# Shared by every kind of cascade import (goals too): the uploader and HR see it, no one else.
STATUS_LABELS = {"applying": "Saving"}


def _import_for(request: HttpRequest, pk: int) -> CascadeImport:
    """The import for its uploader or HR; 404 for anyone else (cascade.access.imports_visible_to)."""
    visible = access.imports_visible_to(request.user).select_related("created_by__employee").defer("content")
    return get_visible_or_404(visible, pk=pk)


@login_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Resume a stalled import; one that finished meanwhile simply shows how it ended."""
    with contextlib.suppress(ValidationError):
        import_runner.import_resume(user=request.user, record=_import_for(request, pk))
    return redirect("cascade:import_detail", pk=pk)


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = _import_for(request, pk)
    template = "cascade/_import_status.html" if request.headers.get("HX-Request") else "cascade/import_detail.html"
    return render(
        request,
        template,
        {
            "record": record,
            "status_label": STATUS_LABELS.get(record.status, record.get_status_display()),
            "errors": record.errors[:500],
            "summary": _summary_items(record.summary),
        },
    )


def _summary_items(summary: dict) -> list[tuple[str, object]]:
    items = []
    for key, value in (summary or {}).items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value) or "none"
        items.append((str(key).replace("_", " ").capitalize(), value))
    return items

"""The survey pages: everyone's list of surveys to answer and the answer form; HR's list,
definition (with its rows of statements), the survey's page with its state changes, and the
results by department.

HR admins only on the HR pages (audits.access decides): setting up a survey answers 403 to
anyone else, and a survey's own pages 404 (it is outside their scope). The answer page answers
404 to anyone not asked, so that a survey does not advertise itself. Writing goes through
audits.services.surveys, whose ValidationError answers 400 with the form's messages,
ConflictError a 409 that keeps what HR typed, and PermissionDenied a 403. Results are read
through audits.selectors.surveys.department_results, with the group-size floor, and only once
the survey has closed: while answers still arrive, watching the figures move from one day to
the next could tell one person's answers from the rest.
"""

from __future__ import annotations

import copy
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import access
from audits.forms.surveys import (
    AnswerForm,
    ItemRow,
    SurveyForm,
    apply_row_action,
    check_rows,
    rows_as_items,
    rows_for,
    rows_from_post,
)
from audits.models import ItemTopic, Survey, SurveyItem, SurveyState
from audits.selectors import surveys as read
from audits.services import surveys as services
from core.access import deny_unless, get_visible_or_404, requires
from core.errors import ConflictError
from core.forms import apply_service_errors

# A new survey's window by default: opening in a week, for two weeks.
DEFAULT_LEAD_DAYS, DEFAULT_OPEN_DAYS = 7, 14
STATE_ACTIONS = ("schedule", "unschedule", "open", "close")
CONFIRMED_ACTIONS = ("open", "close")  # these send emails or end the survey: HR confirms first


def _hr_survey(request: HttpRequest, pk: int) -> Survey:
    """A survey HR manages; for anyone else it does not exist (404)."""
    return get_visible_or_404(access.surveys_visible_to(request.user).select_related("created_by"), pk=pk)


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


# ---------------------------------------------------------------- the lists


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    """Everyone: the open surveys they are asked to answer. HR also sees every survey."""
    can_manage = access.can_manage_surveys(request.user)
    context: dict[str, object] = {"invitations": read.invitations_of(user=request.user), "can_manage": can_manage}
    if can_manage:
        surveys = list(read.surveys_for_hr(user=request.user))
        for survey in surveys:
            survey.turnout = read.Turnout(invited=survey.invited, answered=survey.answered)  # type: ignore[attr-defined]
        context["surveys"] = surveys
    return render(request, "audits/surveys/list.html", context)


# ---------------------------------------------------------------- definition


def _form_page(
    request: HttpRequest,
    form: SurveyForm,
    rows: list[ItemRow],
    *,
    survey: Survey | None = None,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    context: dict[str, object] = {
        "form": form,
        "rows": rows,
        "survey": survey,
        "items_editable": survey is None or survey.state in (SurveyState.DRAFT, SurveyState.SCHEDULED),
        "topics": ItemTopic.choices,
        "row_count": len(rows),
        **extra,
    }
    return render(request, "audits/surveys/form.html", context, status=status)


def _row_action(request: HttpRequest) -> tuple[list[ItemRow], str] | None:
    """A row button (add, remove, move) was pressed: the rows changed, nothing saved. None for Save."""
    action = request.POST.get("action", "save")
    if action == "save":
        return None
    return apply_row_action(rows_from_post(request.POST), action)


@requires(access.can_manage_surveys, access.SURVEYS_MESSAGE)
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        opens = timezone.localdate() + datetime.timedelta(days=DEFAULT_LEAD_DAYS)
        form = SurveyForm(initial={"opens_on": opens, "closes_on": opens + datetime.timedelta(days=DEFAULT_OPEN_DAYS)})
        rows = [ItemRow(id=None, text=str(i["text"]), topic=str(i["topic"])) for i in services.seeded_items()]
        return _form_page(request, form, rows)
    form = SurveyForm(request.POST)
    if (changed := _row_action(request)) is not None:
        rows, said = changed
        return _form_page(request, form.quiet(), rows, said=said)
    rows = rows_from_post(request.POST)
    rows_ok = check_rows(rows)
    item_errors: list[str] = []
    if form.is_valid() and rows_ok:
        try:
            survey = services.survey_create(
                user=request.user,
                data=form.service_data(),
                departments=form.chosen_departments(),
                items=rows_as_items(rows),
            )
        except ValidationError as exc:
            item_errors = _service_errors(form, exc)
        else:
            messages.success(request, f"“{survey.title}” was saved as a draft. Schedule it when it is ready.")
            return redirect("audits:survey_detail", pk=survey.pk)
    return _form_page(request, form, rows, status=400, items_error=_items_error(rows, item_errors))


def _service_errors(form: SurveyForm, exc: ValidationError) -> list[str]:
    """Put a service's refusal on the form; its messages about the statements are returned, to be
    shown above the rows rather than at the top of the form."""
    if not hasattr(exc, "error_dict"):
        apply_service_errors(form, exc)
        return []
    errors = dict(exc.message_dict)
    items = errors.pop("items", [])
    if errors:
        apply_service_errors(form, ValidationError(errors))
    return items


def _items_error(rows: list[ItemRow], errors: list[str]) -> list[str]:
    """Problems with the statements as a whole (none left, too many), shown above the rows."""
    if not rows and not errors:
        return ["Add at least one statement for people to rate."]
    return errors


@login_required
@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _hr_survey(request, pk)
    if survey.state == SurveyState.CLOSED:
        messages.info(request, "This survey is closed; it can no longer change.")
        return redirect("audits:survey_detail", pk=survey.pk)
    is_open = survey.state == SurveyState.OPEN
    if request.method != "POST":
        form = SurveyForm(initial=SurveyForm.initial_for(survey), is_open=is_open)
        return _form_page(request, form, rows_for(survey), survey=survey)
    form = SurveyForm(request.POST, initial=SurveyForm.initial_for(survey), is_open=is_open)
    if not is_open and (changed := _row_action(request)) is not None:
        rows, said = changed
        return _form_page(request, form.quiet(), rows, survey=survey, said=said)
    rows = rows_for(survey) if is_open else rows_from_post(request.POST)
    rows_ok = check_rows(rows)
    item_errors: list[str] = []
    if form.is_valid() and rows_ok:
        try:
            services.survey_update(
                user=request.user,
                survey=copy.copy(survey),
                expected_version=form.cleaned_data["version"],
                data=form.service_data(),
                departments=None if is_open else form.chosen_departments(),
                items=None if is_open else rows_as_items(rows),
            )
        except ValidationError as exc:
            item_errors = _service_errors(form, exc)
        except ConflictError as exc:
            return _conflict(request, survey, rows, exc)
        else:
            messages.success(request, "Your changes were saved.")
            return redirect("audits:survey_detail", pk=survey.pk)
    return _form_page(request, form, rows, survey=survey, status=400, items_error=_items_error(rows, item_errors))


def _conflict(request: HttpRequest, survey: Survey, rows: list[ItemRow], exc: ConflictError) -> HttpResponse:
    """The form as HR filled it in, now based on the saved version, beside what is saved now."""
    current = _hr_survey(request, survey.pk)
    data = request.POST.copy()
    data["version"] = str(current.version)
    is_open = current.state == SurveyState.OPEN
    form = SurveyForm(data, initial=SurveyForm.initial_for(current), is_open=is_open).quiet()
    return _form_page(
        request,
        form,
        rows_for(current) if is_open else rows,
        survey=current,
        status=409,
        conflict=exc.message,
        current=current,
        current_items=list(SurveyItem.objects.filter(survey=current).order_by("position", "pk")),
    )


# ---------------------------------------------------------------- the survey and its life


def _detail_page(request: HttpRequest, survey: Survey, *, status: int = 200, **extra: object) -> HttpResponse:
    today = timezone.localdate()
    survey = Survey.objects.select_related("created_by").get(pk=survey.pk)
    before_open = survey.state in (SurveyState.DRAFT, SurveyState.SCHEDULED)
    context: dict[str, object] = {
        "survey": survey,
        "items": list(SurveyItem.objects.filter(survey=survey).order_by("position", "pk")),
        "departments": list(survey.departments.order_by("name")),
        "turnout": read.turnout(survey),
        # Before it opens, how many it would ask today; afterwards, who was asked (turnout.invited).
        "population_size": read.survey_population(survey).count() if before_open else None,
        "window_passed": survey.state == SurveyState.SCHEDULED and survey.closes_on < today,
        "opens_later": survey.opens_on > today,
        "next_reminder": _next_reminder(survey),
        "min_group": read.MIN_GROUP,
        **extra,
    }
    return render(request, "audits/surveys/detail.html", context, status=status)


def _next_reminder(survey: Survey) -> datetime.date | None:
    """The day the daily job next reminds those who have not answered, if before the survey closes."""
    if survey.state != SurveyState.OPEN or survey.last_reminded_on is None:
        return None
    day = survey.last_reminded_on + datetime.timedelta(days=survey.reminder_every_days)
    return day if day <= survey.closes_on else None


@login_required
@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _hr_survey(request, pk))


@login_required
@require_POST
def survey_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Schedule, take back to draft, open now or close (``action``); opening and closing are confirmed first."""
    survey = _hr_survey(request, pk)
    action = request.POST.get("action", "")
    if action not in STATE_ACTIONS:
        return _detail_page(request, survey, status=400, action_errors=["Choose what to do with the survey."])
    if action in CONFIRMED_ACTIONS and request.POST.get("confirmed") != "1":
        context = {
            "survey": survey,
            "action": action,
            "population_size": read.survey_population(survey).count() if action == "open" else None,
            "turnout": read.turnout(survey) if action == "close" else None,
        }
        return render(request, "audits/surveys/confirm.html", context)
    version = _version(request)
    try:
        if action == "schedule":
            services.survey_schedule(user=request.user, survey=survey, expected_version=version)
            if survey.opens_on > timezone.localdate():
                done = f"“{survey.title}” is scheduled: it opens by itself on {_day(survey.opens_on)}."
            else:
                done = f"“{survey.title}” is scheduled: its opening date has come, so it opens with the next morning's run — or open it now."
        elif action == "unschedule":
            services.survey_unschedule(user=request.user, survey=survey, expected_version=version)
            done = f"“{survey.title}” is a draft again: it will not open by itself."
        elif action == "open":
            opened = services.open_survey(user=request.user, survey=survey, expected_version=version)
            invited = read.turnout(opened).invited
            done = f"“{survey.title}” is open: {invited} {'person was' if invited == 1 else 'people were'} invited by email."
        else:
            services.close_survey(user=request.user, survey=survey, expected_version=version)
            done = f"“{survey.title}” is closed. Its results are ready."
    except ValidationError as exc:
        return _detail_page(request, survey, status=400, action_errors=exc.messages)
    except ConflictError as exc:
        return _detail_page(request, survey, status=409, action_errors=[exc.message])
    messages.success(request, done)
    return redirect("audits:survey_detail", pk=survey.pk)


# ---------------------------------------------------------------- results


@login_required
@require_GET
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _hr_survey(request, pk)
    deny_unless(access.can_read_survey_results(request.user, survey), access.SURVEYS_MESSAGE)
    topic = request.GET.get("topic", "")
    if topic not in ItemTopic.values:
        topic = ""
    context: dict[str, object] = {
        "survey": survey,
        "topic": topic,
        "topics": ItemTopic.choices,
        "min_group": read.MIN_GROUP,
        "turnout": read.turnout(survey),
        "likert": [{"value": v, "label": read.LIKERT_LABELS[v]} for v in read.LIKERT_VALUES],
    }
    if survey.state == SurveyState.CLOSED:
        results = read.department_results(survey, topic or None)
        topic_mean = bool(topic) and len(results.items) > 1  # a column with each group's mean over the topic
        context.update(results=results, topic_mean=topic_mean, compare_span=len(results.items) + int(topic_mean))
    return render(request, "audits/surveys/results.html", context)


# ---------------------------------------------------------------- answering


@login_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = read.get_invitation(user=request.user, survey_pk=pk)
    survey = invitation.survey
    is_open = survey.state == SurveyState.OPEN and timezone.localdate() <= survey.closes_on
    context: dict[str, object] = {"survey": survey, "min_group": read.MIN_GROUP}
    if invitation.answered:
        # Nothing of what they answered is shown, nor can it be changed: it is no longer theirs.
        return render(request, "audits/surveys/answered.html", context, status=409 if request.method == "POST" else 200)
    if not is_open:
        context["not_open"] = True
        return render(request, "audits/surveys/answered.html", context, status=400 if request.method == "POST" else 200)
    items = list(SurveyItem.objects.filter(survey=survey).order_by("position", "pk"))
    form = AnswerForm(items, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_answers(user=request.user, survey=survey, values=form.values())
        except ValidationError as exc:
            code = getattr(exc, "code", None)
            if code in ("answered", "not_open"):
                context["not_open"] = code == "not_open"
                return render(request, "audits/surveys/answered.html", context, status=409)
            apply_service_errors(form, exc)
        else:
            return redirect("audits:survey_answer", pk=survey.pk)
    context.update(form=form, rows=form.rows())
    return render(request, "audits/surveys/answer.html", context, status=400 if form.errors else 200)

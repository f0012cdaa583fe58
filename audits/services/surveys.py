"""Feedback surveys: HR's definitions, the survey's life (draft → scheduled → open → closed),
anonymous answers, and the invitation and reminder emails.

Definitions: ``survey_create`` / ``survey_update`` (title, introduction, population — departments
with their sub-departments, or everyone —, window, reminder interval, the Likert items). A new
survey starts with the three SEEDED_ITEMS, which HR may edit, reorder, add to or remove. Items
and the population are fixed once the survey opens: every response answers the same items, so
the results compare like with like. Saves are versioned (ConflictError on a stale one).

Life: ``survey_schedule`` / ``survey_unschedule``; ``open_survey`` (HR's "open now", or the
daily job on the opening date) invites the active population in bulk and queues the emails on
commit; ``send_reminders`` emails those who have not answered, at most every
``reminder_every_days``; ``close_survey``. ``run_daily`` is the body of the daily job.

Anonymity, by construction: ``submit_answers`` stores a response with the respondent's
department and nothing else about them — no user, no time — and flips their invitation's
``answered`` flag, in one transaction. Nothing is logged about who answered what, and no
function returns the response it wrote.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from appraisals.notifications import site_url
from audits import access
from audits.models import ItemTopic, Survey, SurveyAnswer, SurveyInvitation, SurveyItem, SurveyResponse, SurveyState
from audits.selectors import surveys as read
from core.errors import ConflictError
from core.log import diff, log_action, snapshot
from people import access as people
from people.models import Department

logger = logging.getLogger(__name__)

# The items every new survey starts with: one per topic the alignment audit reads.
SEEDED_ITEMS: tuple[tuple[str, str], ...] = (
    ("The quality improvement expectations in my goals feel relevant to my everyday work.", ItemTopic.RELEVANCE),
    ("My leaders explain clearly what is expected of me in quality improvement, and why.", ItemTopic.MESSAGING),
    ("I have enough time in my working week for quality improvement work.", ItemTopic.TIME),
)
MAX_ITEMS = 40
SURVEY_FIELDS = frozenset({"title", "introduction", "opens_on", "closes_on", "reminder_every_days"})
# Once open, only these may change: the rest decided who was asked what.
OPEN_FIELDS = frozenset({"title", "introduction", "closes_on", "reminder_every_days"})
BATCH_SIZE = 1000
EMAIL_TASK_CHUNK = 500  # invitations one email task sends
INVITATION, REMINDER = "invitation", "reminder"


def _require_manager(user) -> None:
    if not access.can_manage_surveys(user):
        raise PermissionDenied(access.SURVEYS_MESSAGE)


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


def seeded_items() -> list[dict[str, object]]:
    return [{"id": None, "text": text, "topic": str(topic)} for text, topic in SEEDED_ITEMS]


# ---------------------------------------------------------------- definitions


def _apply(survey: Survey, data: Mapping[str, object], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - SURVEY_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    for name, value in data.items():
        try:
            value = Survey._meta.get_field(name).to_python(value)
        except ValidationError:
            errors[name] = "Enter a valid date." if name.endswith("_on") else "Enter a valid value."
            continue
        values[name] = value.strip() if isinstance(value, str) else value
    if errors:
        raise ValidationError(errors)
    frozen = sorted(n for n, v in values.items() if n not in allowed and v != getattr(survey, n))
    if frozen:
        raise ValidationError(dict.fromkeys(frozen, "This cannot change once the survey is open."))
    for name, value in values.items():
        setattr(survey, name, value)


def _clean_items(items: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """The items as HR gave them, in order, checked: at least one, each a statement with a topic."""
    if not items:
        raise ValidationError({"items": "Add at least one statement for people to rate."})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": f"Keep the survey to {MAX_ITEMS} statements or fewer."})
    topics = set(ItemTopic.values)
    max_length = SurveyItem._meta.get_field("text").max_length
    cleaned, problems = [], []
    for number, item in enumerate(items, start=1):
        text = str(item.get("text") or "").strip()
        topic = str(item.get("topic") or ItemTopic.OTHER)
        if not text:
            problems.append(f"Statement {number}: write the statement people rate.")
        elif len(text) > max_length:
            problems.append(f"Statement {number}: keep it to {max_length} characters.")
        if topic not in topics:
            problems.append(f"Statement {number}: choose one of the topics.")
        raw_id = item.get("id")
        item_id = None
        if raw_id not in (None, ""):
            try:
                item_id = int(str(raw_id))
            except ValueError:
                problems.append(f"Statement {number}: its id is not a number.")
        cleaned.append({"id": item_id, "text": text, "topic": topic})
    if problems:
        raise ValidationError({"items": problems})
    return cleaned


def _validate(survey: Survey) -> None:
    errors: dict[str, str] = {}
    if not survey.title:
        errors["title"] = "Give the survey a title."
    for name in ("opens_on", "closes_on"):
        if getattr(survey, name) is None:
            errors[name] = "Enter a date."
    if survey.opens_on and survey.closes_on and survey.closes_on < survey.opens_on:
        errors["closes_on"] = f"The survey must close on or after the day it opens ({_day(survey.opens_on)})."
    every = survey.reminder_every_days
    if not isinstance(every, int) or not 1 <= every <= 60:
        errors["reminder_every_days"] = "Remind every 1 to 60 days."
    if errors:
        raise ValidationError(errors)
    survey.full_clean(exclude=["created_by", "departments"], validate_constraints=False)


def _write_items(survey: Survey, items: list[dict[str, object]]) -> None:
    """Replace the survey's items with these, in order: items that keep their id are updated
    (so API clients keep their ids), the others created, the missing ones removed."""
    existing = {item.pk: item for item in SurveyItem.objects.filter(survey=survey)}
    unknown = [str(item["id"]) for item in items if item["id"] is not None and item["id"] not in existing]
    if unknown:
        raise ValidationError({"items": f"These items are not part of this survey: {', '.join(unknown)}."})
    kept, created = [], []
    for position, item in enumerate(items, start=1):
        row = existing.get(item["id"]) if item["id"] is not None else None
        if row is None:
            created.append(SurveyItem(survey=survey, position=position, text=item["text"], topic=item["topic"]))
        else:
            row.position, row.text, row.topic = position, item["text"], item["topic"]
            kept.append(row)
    SurveyItem.objects.filter(survey=survey).exclude(pk__in=[row.pk for row in kept]).delete()
    SurveyItem.objects.bulk_update(kept, ["position", "text", "topic"])
    SurveyItem.objects.bulk_create(created)


def survey_create(
    *,
    user,
    data: Mapping[str, object],
    departments: Iterable[Department] = (),
    items: Sequence[Mapping[str, object]] | None = None,
) -> Survey:
    """HR defines a survey (a draft). ``departments`` empty means everyone; ``items`` None means
    the seeded three. Each item: {"text", "topic"} (an "id" is ignored here)."""
    _require_manager(user)
    survey = Survey(created_by=people.employee_for_user(user))
    _apply(survey, data, SURVEY_FIELDS)
    _validate(survey)
    cleaned = _clean_items(seeded_items() if items is None else items)
    with transaction.atomic():
        survey.save()
        survey.departments.set(list(departments))
        _write_items(survey, [{**item, "id": None} for item in cleaned])
        log_action(
            survey,
            "survey.created",
            user=user,
            data={"departments": sorted(d.pk for d in departments), "items": len(cleaned)},
        )
    return survey


def _locked(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk)


def _check_version(current: Survey, expected_version: int | None) -> None:
    if expected_version is not None and current.version != expected_version:
        raise ConflictError()


def _bump(survey: Survey, **fields: object) -> Survey:
    Survey.objects.filter(pk=survey.pk).update(version=F("version") + 1, **fields)
    survey.refresh_from_db()
    return survey


def survey_update(
    *,
    user,
    survey: Survey,
    expected_version: int | None,
    data: Mapping[str, object] | None = None,
    departments: Iterable[Department] | None = None,
    items: Sequence[Mapping[str, object]] | None = None,
) -> Survey:
    """HR changes a survey. Before it opens, anything; once open, only the title, introduction,
    closing date and reminder interval (the items and who is asked are refused); once closed,
    nothing. ``None`` leaves the departments or items as they are."""
    _require_manager(user)
    with transaction.atomic():
        current = _locked(survey)
        _check_version(current, expected_version)
        if current.state == SurveyState.CLOSED:
            raise ValidationError("This survey is closed; it can no longer change.")
        editable = current.state in (SurveyState.DRAFT, SurveyState.SCHEDULED)
        cleaned = _clean_items(items) if items is not None else None
        if not editable:
            frozen = {}
            saved = list(
                SurveyItem.objects.filter(survey=current).order_by("position", "pk").values_list("text", "topic")
            )
            if cleaned is not None and [(i["text"], i["topic"]) for i in cleaned] != saved:
                frozen["items"] = "The statements cannot change once the survey is open: people are answering them."
            if departments is not None and {d.pk for d in departments} != set(
                current.departments.values_list("pk", flat=True)
            ):
                frozen["departments"] = "Who is asked cannot change once the survey is open."
            if frozen:
                raise ValidationError(frozen)
            cleaned, departments = None, None
        old_closes_on = current.closes_on
        before = snapshot(current, sorted(SURVEY_FIELDS))
        _apply(current, data or {}, SURVEY_FIELDS if editable else OPEN_FIELDS)
        _validate(current)
        if (
            current.state == SurveyState.OPEN
            and current.closes_on != old_closes_on
            and current.closes_on < timezone.localdate()
        ):
            raise ValidationError({"closes_on": "An open survey cannot close in the past; close it instead."})
        changes = diff(before, current)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        extra: dict[str, object] = {}
        if departments is not None:
            current.departments.set(list(departments))
            extra["departments"] = sorted(d.pk for d in departments)
        if cleaned is not None:
            _write_items(current, cleaned)
            extra["items"] = len(cleaned)
        log_action(current, "survey.updated", user=user, changes=changes, data=extra)
    return current


# ---------------------------------------------------------------- the survey's life


def _ready_to_open(survey: Survey, today: datetime.date) -> None:
    """What stops a survey going out: no statements, a window already over, no one to ask."""
    errors = []
    if not SurveyItem.objects.filter(survey=survey).exists():
        errors.append("Add at least one statement first.")
    if survey.closes_on < today:
        errors.append(f"Its window ended on {_day(survey.closes_on)}: move the closing date first.")
    if not read.survey_population(survey).exists():
        errors.append("No one active is in the chosen departments: there is no one to ask.")
    if errors:
        raise ValidationError(errors)


def survey_schedule(
    *, user, survey: Survey, expected_version: int | None = None, today: datetime.date | None = None
) -> Survey:
    """HR schedules a draft: the daily job opens it on its opening date and sends the invitations."""
    _require_manager(user)
    today = today or timezone.localdate()
    with transaction.atomic():
        current = _locked(survey)
        _check_version(current, expected_version)
        if current.state != SurveyState.DRAFT:
            raise ValidationError("Only a draft survey can be scheduled.")
        _ready_to_open(current, today)
        current = _bump(current, state=SurveyState.SCHEDULED)
        log_action(current, "survey.scheduled", user=user, changes={"state": (SurveyState.DRAFT, current.state)})
        return current


def survey_unschedule(*, user, survey: Survey, expected_version: int | None = None) -> Survey:
    """HR takes a scheduled survey back to draft: it will not open by itself."""
    _require_manager(user)
    with transaction.atomic():
        current = _locked(survey)
        _check_version(current, expected_version)
        if current.state != SurveyState.SCHEDULED:
            raise ValidationError("Only a scheduled survey can go back to draft.")
        current = _bump(current, state=SurveyState.DRAFT)
        log_action(current, "survey.unscheduled", user=user, changes={"state": (SurveyState.SCHEDULED, current.state)})
        return current


def open_survey(
    *,
    survey: Survey,
    user=None,
    expected_version: int | None = None,
    today: datetime.date | None = None,
    notify: bool = True,
) -> Survey:
    """Open a draft or scheduled survey: HR's "open now" (``user`` given) or the daily job.

    Invites every active person of the population in bulk (the unique constraint makes a
    second run create nothing twice), and queues the invitation emails once it commits. HR
    opening early moves the opening date to today, so the window shown stays true.
    """
    if user is not None:
        _require_manager(user)
    today = today or timezone.localdate()
    with transaction.atomic():
        current = _locked(survey)
        _check_version(current, expected_version)
        if current.state not in (SurveyState.DRAFT, SurveyState.SCHEDULED):
            raise ValidationError("Only a draft or scheduled survey can open.")
        _ready_to_open(current, today)
        was = current.state
        employee_ids = list(read.survey_population(current).values_list("pk", flat=True))
        SurveyInvitation.objects.bulk_create(
            [SurveyInvitation(survey=current, employee_id=pk) for pk in employee_ids],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )
        current = _bump(
            current,
            state=SurveyState.OPEN,
            opened_at=timezone.now(),
            opens_on=min(current.opens_on, today),
            # The invitation is the first message; the first reminder follows reminder_every_days later.
            last_reminded_on=today,
        )
        # One entry for the survey (who was invited is in the invitations, not the log).
        log_action(
            current,
            "survey.opened",
            user=user,
            changes={"state": (was, current.state)},
            data={"invited": len(employee_ids)},
        )
        if notify:
            invitation_ids = list(SurveyInvitation.objects.filter(survey=current).values_list("pk", flat=True))
            queue_emails(INVITATION, invitation_ids)
    return current


def close_survey(*, survey: Survey, user=None, expected_version: int | None = None) -> Survey:
    """Close an open survey: HR (``user`` given), or the daily job the day after its closing date.
    No answers are taken afterwards, and its results can be read."""
    if user is not None:
        _require_manager(user)
    with transaction.atomic():
        current = _locked(survey)
        _check_version(current, expected_version)
        if current.state != SurveyState.OPEN:
            raise ValidationError("Only an open survey can be closed.")
        current = _bump(current, state=SurveyState.CLOSED, closed_at=timezone.now())
        log_action(current, "survey.closed", user=user, changes={"state": (SurveyState.OPEN, current.state)})
        return current


def send_reminders(*, survey: Survey, today: datetime.date | None = None, notify: bool = True) -> int:
    """Remind everyone asked who has not answered, if ``reminder_every_days`` have passed since the
    invitation or the last reminder. Returns how many were reminded (0 when it is not yet time)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        current = _locked(survey)  # two jobs at once: the second waits, then sees it is not yet time
        if current.state != SurveyState.OPEN or today > current.closes_on:
            return 0
        last = current.last_reminded_on
        if last is not None and today < last + datetime.timedelta(days=current.reminder_every_days):
            return 0
        waiting = SurveyInvitation.objects.filter(survey=current, answered=False)
        invitation_ids = list(waiting.values_list("pk", flat=True))
        waiting.update(reminders_sent=F("reminders_sent") + 1)
        Survey.objects.filter(pk=current.pk).update(last_reminded_on=today)
        log_action(
            current,
            "survey.reminders_sent",
            changes={"last_reminded_on": (last, today)},
            data={"reminded": len(invitation_ids)},
        )
        if notify:
            queue_emails(REMINDER, invitation_ids)
    return len(invitation_ids)


@dataclass
class DailyOutcome:
    closed: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    reminded: dict[int, int] = field(default_factory=dict)  # survey → people reminded


def run_daily(*, today: datetime.date, notify: bool = True) -> DailyOutcome:
    """The daily job: close the open surveys whose closing date has passed, open the scheduled
    ones whose opening date has come, and send the reminders that are due. Each survey in its own
    transaction, so that one failure does not hold up the others."""
    outcome = DailyOutcome()
    for pk in Survey.objects.filter(state=SurveyState.OPEN, closes_on__lt=today).values_list("pk", flat=True):
        try:
            outcome.closed.append(close_survey(survey=Survey(pk=pk)).pk)
        except Exception:
            logger.exception("Could not close survey %s on %s", pk, today)
    due = Survey.objects.filter(state=SurveyState.SCHEDULED, opens_on__lte=today, closes_on__gte=today)
    for pk in due.values_list("pk", flat=True):
        try:
            outcome.opened.append(open_survey(survey=Survey(pk=pk), today=today, notify=notify).pk)
        except Exception:
            logger.exception("Could not open survey %s on %s", pk, today)
    for pk in Survey.objects.filter(state=SurveyState.OPEN).values_list("pk", flat=True):
        try:
            sent = send_reminders(survey=Survey(pk=pk), today=today, notify=notify)
        except Exception:
            logger.exception("Could not send the reminders of survey %s on %s", pk, today)
        else:
            if sent:
                outcome.reminded[pk] = sent
    return outcome


# ---------------------------------------------------------------- answering


def _share_lock(survey: Survey) -> None:
    """Hold the survey row against closing (FOR UPDATE) while an answer is written, without
    making answers wait for one another (FOR SHARE); SQLite has one writer anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {Survey._meta.db_table} WHERE id = %s FOR SHARE", [survey.pk])


def submit_answers(*, user, survey: Survey, values: Mapping[int, object], today: datetime.date | None = None) -> None:
    """Store one person's answers, anonymously.

    Only a person asked, once, while the survey is open and not past its closing date; every
    item answered 1–5 (errors by ``item_<id>``). The response keeps the person's department now
    and nothing else about them; their invitation only turns ``answered``. All in one
    transaction, so that no answer exists without the flag nor the flag without the answers.
    """
    me = people.employee_for_user(user)
    if me is None:
        raise PermissionDenied(access.ANSWER_MESSAGE)
    today = today or timezone.localdate()
    with transaction.atomic():
        _share_lock(survey)
        invitation = SurveyInvitation.objects.select_for_update().filter(survey_id=survey.pk, employee=me).first()
        if invitation is None:
            raise PermissionDenied(access.ANSWER_MESSAGE)
        state, closes_on = Survey.objects.filter(pk=survey.pk).values_list("state", "closes_on").get()
        if state != SurveyState.OPEN or today > closes_on:
            raise ValidationError("This survey is not open for answers.", code="not_open")
        if invitation.answered:
            raise ValidationError("You have already answered this survey; answers cannot be changed.", code="answered")
        item_ids = list(SurveyItem.objects.filter(survey_id=survey.pk).values_list("pk", flat=True))
        errors: dict[str, str] = {}
        answers = []
        for item_id in item_ids:
            value = values.get(item_id)
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                errors[f"item_{item_id}"] = "Choose an answer from 1 (strongly disagree) to 5 (strongly agree)."
            else:
                answers.append((item_id, value))
        unknown = sorted(str(k) for k in values if k not in set(item_ids))
        if unknown:
            errors["items"] = f"These are not statements of this survey: {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)
        response = SurveyResponse.objects.create(survey_id=survey.pk, department_id=me.department_id)
        SurveyAnswer.objects.bulk_create(
            [SurveyAnswer(response=response, item_id=item_id, value=value) for item_id, value in answers]
        )
        SurveyInvitation.objects.filter(pk=invitation.pk).update(answered=True)


# ---------------------------------------------------------------- emails


def queue_emails(kind: str, invitation_ids: Sequence[int]) -> None:
    """Once the transaction commits, queue ``audits.send_survey_emails`` in chunks, so that opening
    a survey for 10,000 people is not held up by its emails. A broker that cannot be reached is
    logged and never undoes the committed work (the invitations are on everyone's survey page)."""
    from audits.tasks import send_survey_emails  # the tasks import this module

    chunks = [list(invitation_ids[i : i + EMAIL_TASK_CHUNK]) for i in range(0, len(invitation_ids), EMAIL_TASK_CHUNK)]
    if not chunks:
        return

    def queue() -> None:
        for chunk in chunks:
            send_survey_emails.delay(kind, chunk)

    transaction.on_commit(queue, robust=True)


def send_emails(kind: str, invitation_ids: Iterable[int]) -> int:
    """Send the invitation or reminder emails of these invitations (reminders only to those who
    still have not answered; nothing for a survey no longer open). Returns emails sent."""
    if kind not in (INVITATION, REMINDER):
        raise ValueError(f"Unknown survey email: {kind}")
    ids = list(invitation_ids)
    base = site_url()
    connection_ = get_connection()
    sent = 0
    for start in range(0, len(ids), BATCH_SIZE):
        rows = SurveyInvitation.objects.filter(
            pk__in=ids[start : start + BATCH_SIZE], survey__state=SurveyState.OPEN, employee__is_active=True
        ).select_related("survey", "employee__user")
        if kind == REMINDER:
            rows = rows.filter(answered=False)
        messages = []
        for invitation in rows.order_by("pk"):
            address = invitation.employee.user.email
            if not address:
                continue
            context = {
                "person": invitation.employee,
                "survey": invitation.survey,
                "answer_url": base + reverse("audits:survey_answer", args=[invitation.survey_id]),
                "min_group": read.MIN_GROUP,
            }
            subject = " ".join(render_to_string(f"audits/email/survey_{kind}_subject.txt", context).split())
            body = render_to_string(f"audits/email/survey_{kind}.txt", context)
            messages.append(EmailMessage(subject=subject, body=body, to=[address]))
        if messages:
            sent += connection_.send_messages(messages) or 0
    return sent

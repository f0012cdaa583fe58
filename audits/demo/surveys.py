"""The feedback surveys of the demo hospital (the audits demo calls ``seed_hospital``).

Two surveys, each taken through the services day by day as the daily job would take it:
HR defines it (the three seeded statements, plus one of its own on the closed survey),
schedules it, it opens on its date, people answer on the days they would (most in the
first days, the rest after a reminder), reminders go every seven days to those who have
not answered, and it closes after its closing date. No emails are sent while seeding; the
opening and closing times are then dated to the days they stand for.

- **A closed survey over the whole hospital**, about seven weeks ago, with results: most
  departments show their figures; Claims processing (3 answers) is held back by the floor
  of 5 — and so, to keep the organisation's total from giving Claims away, is Finance,
  the smallest department shown otherwise —, and the chief executive's own department
  (nobody answered) shows nothing either. Pharmacy rates the leadership-messaging statement
  clearly lower than everyone else, which the inconsistent-messaging rule reports;
  Nursing says it has the least time for improvement work.
- **An open pulse survey** for Nursing and Emergency, closing in about a week and a half,
  which the ``employee`` and ``manager`` logins have not answered yet: log in as either to
  see the invitation and the answer form.

Safe to run again: a loaded demo is left alone.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audits.models import ItemTopic, Survey, SurveyItem, SurveyState
from audits.services import surveys as services
from people import demo as people_demo
from people.models import Department, Employee

RANDOM_SEED = people_demo.RANDOM_SEED + 6
HR_LOGIN = "hradmin"
CLOSED_TITLE = "Quality improvement in your work: spring survey"
PULSE_TITLE = "Time for improvement work: ward pulse"
OWN_ITEM = ("I can see how my own goals support one of the hospital's quality priorities.", ItemTopic.OTHER)
# The closed survey: its window, in days before today.
OPENED_DAYS_AGO, OPEN_FOR_DAYS = 70, 20
PULSE_OPENED_DAYS_AGO, PULSE_OPEN_FOR_DAYS = 3, 14
REMINDER_EVERY_DAYS = 7

# Per department: how many answer, and the mean each wants on (relevance, messaging, time, own item).
ANSWERS: dict[str, tuple[int, tuple[float, float, float, float]]] = {
    "Emergency": (6, (3.8, 3.7, 2.7, 3.5)),
    "Pharmacy": (6, (3.3, 1.8, 2.8, 3.0)),  # leaders' messages do not reach Pharmacy
    "Nursing": (11, (4.1, 3.8, 2.2, 3.9)),  # relevant and clear, but no time to do it
    "Radiology": (5, (3.8, 3.6, 3.2, 3.4)),
    "Claims processing": (3, (3.0, 3.3, 3.0, 2.7)),  # fewer than 5: not shown
    "Quality office": (5, (4.6, 4.0, 3.8, 4.6)),
    "HR": (5, (3.8, 3.6, 3.4, 3.6)),
    "Finance": (5, (3.2, 3.4, 3.4, 3.0)),  # held back: it would give Claims away
}
PULSE_ANSWERS = {"Nursing": 3, "Emergency": 2}
# These logins answer the closed survey first; ``employee`` and ``manager`` leave the pulse open.
KEEP_PULSE_OPEN_FOR = ("employee", "manager")


@dataclass(frozen=True)
class SeedResult:
    created: bool
    message: str


def hospital_loaded() -> bool:
    return Survey.objects.filter(title=CLOSED_TITLE).exists()


def seed_hospital() -> SeedResult:
    """A closed survey of the whole hospital with results, and an open pulse survey of two departments."""
    today = timezone.localdate()
    with transaction.atomic():
        if hospital_loaded():
            return SeedResult(False, "The demo surveys are already loaded; nothing was changed.")
        hr = Employee.objects.select_related("user").filter(user__username=HR_LOGIN).first()
        if hr is None:
            raise people_demo.SeedConflict("Load the demo hospital's people (people.demo) before its surveys.")
        rng = random.Random(RANDOM_SEED)
        closed, answered, asked = _closed_survey(hr, today, rng)
        pulse = _pulse_survey(hr, today, rng)
    return SeedResult(
        True,
        f"Loaded the surveys: “{closed.title}” (closed, {answered} of {asked} answered) and “{pulse.title}” (open).",
    )


# ---------------------------------------------------------------- answers


def likert_values(count: int, mean: float, rng: random.Random) -> list[int]:
    """``count`` answers 1–5 whose mean is ``mean`` to the nearest possible, spread a little."""
    total = min(max(round(mean * count), count), 5 * count)
    values = [total // count] * count
    for index in range(total - sum(values)):
        values[index] += 1
    for _ in range(count // 2 if count > 1 else 0):
        up, down = rng.sample(range(count), 2)
        if values[up] < 5 and values[down] > 1:
            values[up] += 1
            values[down] -= 1
    rng.shuffle(values)
    return values


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def _run(
    survey: Survey,
    *,
    hr: Employee,
    opens_on: datetime.date,
    last_day: datetime.date,
    answers_by_day: dict[int, list[tuple[Employee, dict[int, int]]]],
) -> Survey:
    """Take the survey from draft through each day up to ``last_day``, as the daily job and
    the people answering would: open on its date, answers, reminders, close after its date."""
    services.survey_schedule(user=hr.user, survey=survey, today=opens_on - datetime.timedelta(days=3))
    day = opens_on
    while day <= last_day:
        survey.refresh_from_db()
        if survey.state == SurveyState.OPEN and survey.closes_on < day:
            services.close_survey(survey=survey)
            Survey.objects.filter(pk=survey.pk).update(closed_at=_at(day, 8))
            break
        if day == opens_on:
            services.open_survey(survey=survey, today=day, notify=False)
            Survey.objects.filter(pk=survey.pk).update(opened_at=_at(day, 8))
        services.send_reminders(survey=survey, today=day, notify=False)
        for person, values in answers_by_day.get((day - opens_on).days, []):
            services.submit_answers(user=person.user, survey=survey, values=values, today=day)
        day += datetime.timedelta(days=1)
    survey.refresh_from_db()
    return survey


def _answer_day(rng: random.Random, open_for: int) -> int:
    """Most answer in the first days; the rest after the first or second reminder."""
    roll = rng.random()
    if roll < 0.6:
        return rng.randrange(0, 3)
    if roll < 0.9:
        return min(REMINDER_EVERY_DAYS + rng.randrange(0, 2), open_for)
    return min(2 * REMINDER_EVERY_DAYS + rng.randrange(0, 2), open_for)


# ---------------------------------------------------------------- the closed survey


def _closed_survey(hr: Employee, today: datetime.date, rng: random.Random) -> tuple[Survey, int, int]:
    opens_on = today - datetime.timedelta(days=OPENED_DAYS_AGO)
    closes_on = opens_on + datetime.timedelta(days=OPEN_FOR_DAYS)
    survey = services.survey_create(
        user=hr.user,
        data={
            "title": CLOSED_TITLE,
            "introduction": (
                "Twice a year we ask how quality improvement fits into your work: whether what is expected of you "
                "feels relevant, whether your leaders explain it clearly, and whether there is time to do it. "
                "Your answers are anonymous and shape what we change next."
            ),
            "opens_on": opens_on,
            "closes_on": closes_on,
            "reminder_every_days": REMINDER_EVERY_DAYS,
        },
        items=[*services.seeded_items(), {"text": OWN_ITEM[0], "topic": str(OWN_ITEM[1])}],
    )
    Survey.objects.filter(pk=survey.pk).update(created_at=_at(opens_on - datetime.timedelta(days=7), 10))
    items = list(SurveyItem.objects.filter(survey=survey).order_by("position", "pk"))
    people = _people_by_department()
    answers_by_day: dict[int, list[tuple[Employee, dict[int, int]]]] = defaultdict(list)
    for department, (count, means) in ANSWERS.items():
        members = people.get(department, [])
        # The demo logins answer when their department does, so that they see a thank-you, not an invitation.
        members.sort(key=lambda e: (e.user.username not in people_demo.LOGIN_ROLES, e.pk))
        respondents = members[: min(count, len(members))]
        columns = [likert_values(len(respondents), mean, rng) for mean in means]
        for index, person in enumerate(respondents):
            values = {item.pk: columns[position][index] for position, item in enumerate(items)}
            answers_by_day[_answer_day(rng, OPEN_FOR_DAYS)].append((person, values))
    survey = _run(
        survey,
        hr=hr,
        opens_on=opens_on,
        last_day=closes_on + datetime.timedelta(days=1),
        answers_by_day=answers_by_day,
    )
    turnout = survey.invitations.all()
    return survey, turnout.filter(answered=True).count(), turnout.count()


def _people_by_department() -> dict[str, list[Employee]]:
    found: dict[str, list[Employee]] = defaultdict(list)
    for person in Employee.objects.filter(is_active=True).select_related("user", "department").order_by("pk"):
        found[person.department.name].append(person)
    return found


# ---------------------------------------------------------------- the open pulse


def _pulse_survey(hr: Employee, today: datetime.date, rng: random.Random) -> Survey:
    opens_on = today - datetime.timedelta(days=PULSE_OPENED_DAYS_AGO)
    departments = list(Department.objects.filter(name__in=PULSE_ANSWERS))
    survey = services.survey_create(
        user=hr.user,
        data={
            "title": PULSE_TITLE,
            "introduction": "Three quick statements for the wards, ahead of planning next quarter's rotas.",
            "opens_on": opens_on,
            "closes_on": opens_on + datetime.timedelta(days=PULSE_OPEN_FOR_DAYS),
            "reminder_every_days": REMINDER_EVERY_DAYS,
        },
        departments=departments,
    )
    Survey.objects.filter(pk=survey.pk).update(created_at=_at(opens_on - datetime.timedelta(days=4), 10))
    items = list(SurveyItem.objects.filter(survey=survey).order_by("position", "pk"))
    people = _people_by_department()
    answers_by_day: dict[int, list[tuple[Employee, dict[int, int]]]] = defaultdict(list)
    for department, count in PULSE_ANSWERS.items():
        members = [p for p in people.get(department, []) if p.user.username not in KEEP_PULSE_OPEN_FOR]
        for person in rng.sample(members, min(count, len(members))):
            values = {item.pk: rng.choice((2, 3, 3, 4, 4)) for item in items}
            answers_by_day[rng.randrange(0, PULSE_OPENED_DAYS_AGO + 1)].append((person, values))
    return _run(survey, hr=hr, opens_on=opens_on, last_day=today, answers_by_day=answers_by_day)

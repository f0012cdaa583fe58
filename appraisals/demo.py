"""The review cycles of the demo hospital (``manage.py seed_demo`` calls ``seed_hospital``).

Two cycles over the hospital (everyone but the chief executive, who answers to
the board). Every step of a workflow goes through the services (launch, the
daily phase move, submitting, reviewing, sharing, acknowledging, completing a
check-in, agreeing a plan, closing); what people write at those steps (ratings,
evidence, answers, notes, plans and their actions) is stored in bulk with the
history entries the services would write, which keeps seeding quick. So every
record carries its history and every to-do its state:

- **last year's cycle, closed.** Launched as its Do window opened and moved on by
  the daily job's own function (``advance_by_date``) on each window's first day:
  everyone held a check-in, wrote a self-assessment, was rated by their reviewer
  (who shared the ratings) and, all but a few, acknowledged it; each agreed a
  development plan with actions linked to a competency and a target level; HR
  closed the cycle, which locked every appraisal with its score. The records are
  dated inside last year's windows. Last year's goal period holds last year's
  quality priorities (the same three, over last year, retired at its end: the
  cascade rolls a priority up from the goals of periods overlapping its own, so
  this year's priorities keep this year's progress) and everyone's one to three
  approved individual goals under them, weights totalling 100, achieved or left
  open with their progress, stored in bulk with the goal-setting events and two
  progress updates each (about halfway at the check-ins, which snapshot that,
  and the year-end figure as Do closed); both sides rated them. How far
  each person got follows a hidden "knack for improvement" plus noise (a seeded
  draw of its own), and their reviewer's goal ratings follow how far they got,
  again with noise; so the score (goals and competencies, by the form's weights)
  moves with QI goal achievement, moderately — what the correlation page and
  last year's incentive plan read. A few people wrote next-cycle QI goals in the
  dialogue.
- **this year's PDSA cycle, in the Do phase**, over the cascade's current goal
  period: launched, about half the check-ins completed and some under way, the
  rest on the to-do lists (the ``employee`` login's among them; the ``manager``
  login holds check-ins for Ward 7), and last year's next-cycle goals carried
  over as draft goals.

No emails are sent while seeding. Safe to run again: a loaded demo is left alone.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from appraisals import history
from appraisals.models import (
    ActionStatus,
    Appraisal,
    AppraisalState,
    CheckIn,
    CompetencyRating,
    DevelopmentAction,
    DevelopmentPlan,
    DialogueAnswer,
    GoalRating,
    HistoryEntry,
    Participant,
    Phase,
    ReviewCycle,
    ToDo,
)
from appraisals.services import appraisals as workflow
from appraisals.services import checkins, cycles, development, todos
from cascade import demo as cascade_demo
from cascade import services as cascade_services
from cascade.models import (
    Approval,
    Goal,
    GoalKind,
    GoalLevel,
    GoalPeriod,
    GoalSetEvent,
    GoalStatus,
    GoalUpdate,
    PriorityStatus,
    QualityPriority,
    ReviewAction,
)
from competencies.models import AssignmentRule, DialogueQuestion, FormCompetency, QuestionKey, ScaleLevel
from people import demo as people_demo
from people.models import Employee

RANDOM_SEED = people_demo.RANDOM_SEED
HR_LOGIN, EMPLOYEE_LOGIN, MANAGER_LOGIN = "hradmin", "employee", "manager"
# Last year: one never submitted a self-assessment, two never acknowledged (by position among the participants).
NOT_SUBMITTED, NOT_ACKNOWLEDGED = {7}, {11, 23}
NEXT_CYCLE_GOAL_PEOPLE = 3  # people without goals of their own who wrote next-cycle goals last year
# This year: the share of check-ins completed, and of those under way (the person's notes written).
CHECKINS_DONE, CHECKINS_STARTED = 0.45, 0.2


@dataclass(frozen=True)
class SeedResult:
    created: bool
    message: str


def cycle_names(year: int) -> tuple[str, str]:
    return f"{year - 1} performance and improvement cycle", f"{year} performance and improvement cycle (PDSA)"


def hospital_loaded(today: datetime.date) -> bool:
    return ReviewCycle.objects.filter(name__in=cycle_names(today.year)).exists()


def seed_hospital() -> SeedResult:
    """Last year's closed cycle and this year's cycle in the Do phase, over the demo hospital."""
    today = timezone.localdate()
    with transaction.atomic():
        if hospital_loaded(today):
            return SeedResult(False, "The demo review cycles are already loaded; nothing was changed.")
        hr = Employee.objects.select_related("user").filter(user__username=HR_LOGIN).first()
        if hr is None:
            raise people_demo.SeedConflict("Load the demo hospital's people (people.demo) before its review cycles.")
        if not cascade_demo.hospital_loaded():
            raise people_demo.SeedConflict("Load the demo hospital's goals (cascade.demo) before its review cycles.")
        if not AssignmentRule.objects.filter(is_default=True).exists():
            raise people_demo.SeedConflict("Load the appraisal forms (competencies.demo) before the review cycles.")
        current_period, previous_period = cascade_demo.goal_periods(today)
        taken = ReviewCycle.objects.filter(period__in=[current_period, previous_period]).first()
        if taken is not None:
            raise people_demo.SeedConflict(f"The goal periods of the demo cycles already belong to “{taken}”.")
        chief = Employee.objects.get(department__name=people_demo.HOSPITAL_TOP, manager__isnull=True)
        rng = random.Random(RANDOM_SEED)
        previous = _previous_cycle(hr, previous_period, chief, rng)
        current, done = _current_cycle(hr, current_period, chief, today, rng)
    locked = Appraisal.objects.filter(participant__cycle=previous, state=AppraisalState.LOCKED).count()
    return SeedResult(
        True,
        f"Loaded the review cycles: “{previous.name}” (closed, {locked} appraisals locked with their scores) and "
        f"“{current.name}” (in the Do phase, {done} of {current.launch_total} check-ins completed).",
    )


# ---------------------------------------------------------------- helpers


def _at(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _within(start: datetime.date, end: datetime.date, share: float, hour: int = 10) -> datetime.datetime:
    """A moment ``share`` of the way through the window."""
    days = max((end - start).days, 0)
    return _at(start + datetime.timedelta(days=round(days * share)), hour)


def _year_windows(year: int) -> dict[str, object]:
    """A calendar-year cycle: Plan January–February, Do March–September, Study October–November, Act December."""
    return {
        "start": datetime.date(year, 1, 1),
        "end": datetime.date(year, 12, 31),
        "plan_start": datetime.date(year, 1, 1),
        "plan_end": datetime.date(year, 2, 28),
        "do_start": datetime.date(year, 3, 1),
        "do_end": datetime.date(year, 9, 30),
        "study_start": datetime.date(year, 10, 1),
        "study_end": datetime.date(year, 11, 30),
        "act_start": datetime.date(year, 12, 1),
        "act_end": datetime.date(year, 12, 31),
    }


def windows_in_do(period: GoalPeriod, today: datetime.date) -> dict[str, object]:
    """The year's windows, stretched where needed so that ``today`` lies in the Do window (when the
    year leaves room: a day of Plan before it, a day each of Study and Act after it)."""
    dates = _year_windows(period.start.year)
    dates["start"], dates["end"], dates["plan_start"], dates["act_end"] = (
        period.start,
        period.end,
        period.start,
        period.end,
    )
    day = datetime.timedelta(days=1)
    if not (period.start + day <= today <= period.end - 2 * day):
        return dates  # no room: the demo moves the cycle to Do by hand
    if today < dates["do_start"]:
        dates["plan_end"], dates["do_start"] = today - day, today
    if today > dates["do_end"]:
        do_end = min(today + datetime.timedelta(days=14), period.end - 2 * day)
        study_end = do_end + max((period.end - do_end).days // 2, 1) * day
        dates["do_end"], dates["study_start"], dates["study_end"], dates["act_start"] = (
            do_end,
            do_end + day,
            study_end,
            study_end + day,
        )
    return dates


def _participants(cycle: ReviewCycle) -> list[Participant]:
    return list(
        Participant.objects.filter(cycle=cycle)
        .select_related(
            "cycle",
            "employee__user",
            "employee__department",
            "reviewer__user",
            "form_version",
            "appraisal",
            "check_in",
            "development_plan",
        )
        .order_by("employee__employee_id")
    )


def _launch(hr: Employee, data: dict[str, object], period: GoalPeriod, chief: Employee, *, today: datetime.date):
    hospital = chief.department
    cycle = cycles.cycle_create(
        user=hr.user,
        data={**data, "period": period, "include_everyone": False},
        departments=[hospital],
        excluded=[chief],
    )
    cycles.cycle_launch(user=hr.user, cycle=cycle)
    # The task is queued for the commit of the whole seeding; run its body now (the queued run then finds
    # the cycle active and does nothing), dated so that the launch lands in the intended phase.
    return cycles.run_launch(cycle.pk, notify=False, today=today)


# ---------------------------------------------------------------- what people write

EVIDENCE = {
    "Process thinking": (
        "Mapped the handover with the team and removed two duplicate checks.",
        "Spots where work waits between steps and raises it at the huddle.",
        "Redrew the discharge checklist after walking the process with a patient.",
    ),
    "Data-informed decision making": (
        "Keeps a run chart of interruptions and waited for six points before calling it a shift.",
        "Brought the week's error tally to the huddle instead of impressions.",
        "Checked the balancing measure before spreading the change.",
    ),
    "Collaborative problem solving": (
        "Ran a fishbone session with pharmacy on omitted doses.",
        "Worked with the porters to agree transport times for discharges.",
        "Joined the cross-department group on coding queries.",
    ),
    "Change management": (
        "Tested the new round on one bay before asking the ward to adopt it.",
        "Helped colleagues through the new checklist, one shift at a time.",
        "Kept the new handover going after the first month, when interest dropped.",
    ),
}
ANSWERS = {
    QuestionKey.SUCCESSES: (
        "The interruption log: rounds on our bay went from about six interruptions to three.",
        "First-pass yield on my claims rose after I started using the intake checklist.",
        "Our huddle board now shows the week's data, and people read it.",
    ),
    QuestionKey.LEARNING_MOMENTS: (
        "The first version of the checklist was too long; nobody used it until we cut it to five items.",
        "I changed two things at once and could not tell which one helped.",
        "We stopped measuring after a good month and the gain slipped back.",
    ),
    QuestionKey.PEER_SHARING: (
        "Showed Ward 4 how we log interruptions.",
        "Presented our run chart at the quality forum.",
        "Paired with a new starter on the intake checklist.",
    ),
}
NEXT_CYCLE_GOALS = (
    "Test a second bedside scanning prompt on night shifts\nShare the interruption log with Ward 4",
    "Run a PDSA cycle on the discharge-medicines queue",
    "Measure how long coding queries wait before anyone picks them up",
)
COMMENTS = (
    "A fair summary; I would like more time for improvement work next year.",
    "Agreed. Thank you for the coaching on run charts.",
    "",
)
COACHING_NOTE = "Bring the run chart to our next one-to-one."
PLAN_SUMMARY = "Build on this year's improvement work: one competency to grow, practised on a real change."
BATCH = 200  # rows per bulk update: CASE expressions grow with the batch
CHECK_IN_NOTES = (
    ("Goals on track; the night shift is the hard part.", "Agreed to try the tabard on nights for a month."),
    ("Waiting on pharmacy for the discharge medicines.", "Escalated the medicines delay to the pharmacy lead."),
    ("Most of my goals are moving; one needs rewording.", "Rewrite the second goal so we can measure it."),
)


def _levels(scale_ids: Iterable[int]) -> dict[int, list]:
    levels: dict[int, list] = {}
    for scale_id, value in (
        ScaleLevel.objects.filter(scale_id__in=set(scale_ids)).order_by("order").values_list("scale_id", "value")
    ):
        levels.setdefault(scale_id, []).append(value)
    return levels


def _rating(rng: random.Random, values: Sequence, shift: int = 0):
    # Most people sit in the middle of a five-level scale, a few above; the reviewer's view differs a little.
    index = min(max(rng.choice((1, 2, 2, 2, 3, 3)) + shift, 0), len(values) - 1)
    return values[index]


# ---------------------------------------------------------------- last year's cycle


def _previous_cycle(hr: Employee, period: GoalPeriod, chief: Employee, rng: random.Random) -> ReviewCycle:
    name, _ = cycle_names(period.start.year + 1)
    data = {"name": name, "methodology": "pdsa", **_year_windows(period.start.year)}
    # Launched as the Do window opened; the goals were set and approved in the Plan window.
    cycle = _launch(hr, data, period, chief, today=data["do_start"])
    people = _participants(cycle)
    writers = _next_cycle_goal_writers(people)  # before last year's goals: "no goals of their own" means this year
    goals, year_end = _last_years_goals(cycle, people)
    _write_check_in_notes(cycle, people, {p.pk for p in people})
    for participant in people:
        _complete_check_in(participant)
    _finish_last_years_goals(cycle, year_end)
    cycles.advance_by_date(today=cycle.study_start, notify=False)
    people = _participants(cycle)
    rows = _form_rows({p.form_version_id for p in people})
    ratings = _write_ratings(cycle, people, rows, rng, writers)
    _write_goal_ratings(cycle, people, goals)
    for index, participant in enumerate(people):
        _move_appraisal_on(participant, index)
    cycles.advance_by_date(today=cycle.act_start, notify=False)
    people = _participants(cycle)
    _write_plans(cycle, people, rows, ratings)
    for index, participant in enumerate(people):
        plan = participant.development_plan
        plan.participant = participant
        if index % 9 != 4 and participant.reviewer is not None:
            development.plan_agree(user=participant.reviewer.user, plan=plan, expected_version=None)
    todos.tick_finished(cycle=cycle)
    _date_previous(cycle, people)
    with _clock(_at(cycle.act_end, 17, 30)):  # closed on the last day: locked_at and closed_at say so
        cycles.cycle_close(user=hr.user, cycle=cycle)
    _date_history(cycle, people)
    return cycle


@contextmanager
def _clock(moment: datetime.datetime) -> Iterator[None]:
    """Run a service as of a past moment: Django's clock (``timezone.now``, which the services and
    ``auto_now`` fields read) says ``moment`` meanwhile. For replaying last year in this
    single-threaded command only: a locked appraisal's timestamps cannot be moved afterwards."""
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


# Last year's individual goals: titles under each of last year's priorities, which department works
# on which priority (others take them in turn), and weights totalling 100 for one, two or three goals.
LAST_YEAR_GOALS = {
    "claims": (
        "Use the intake checklist on every claim",
        "Cut rework on claims returned by the insurer",
        "Bring the claims queue's run chart to the weekly huddle",
    ),
    "medication": (
        "Scan the wristband before every medicine round",
        "Reconcile admitted patients' medicines within 24 hours",
        "Report every medication near miss within a shift",
    ),
    "flow": (
        "Plan one discharge a day before noon",
        "Cut the wait for imaging reports on my list",
        "Test a daily board round with the team",
    ),
}
PRIORITY_OF = {
    "Claims processing": "claims",
    "Pharmacy": "medication",
    "Nursing": "medication",
    "Emergency": "flow",
    "Radiology": "flow",
}
WEIGHTS = ((100,), (60, 40), (50, 50), (40, 30, 30), (50, 30, 20))
ACHIEVED_FROM = 90  # progress at or above this was marked achieved at the year's end
GOAL_COMMENTS = ("Year-end position, agreed with my manager.", "Where it stood when the Do window closed.")
MIDYEAR_COMMENT = "Midsummer position, ahead of the check-in."
# Each goal with the progress it reached by the end of last year's Do window.
YearEnd = list[tuple[Goal, Decimal]]


def _last_years_priorities(period: GoalPeriod) -> dict[str, QualityPriority]:
    """The demo's three priorities as they were set for last year, retired when it ended."""
    quality = Employee.objects.select_related("user").get(user__username=cascade_demo.QUALITY_LOGIN)
    priorities = {
        spec.key: cascade_services.priority_create(
            user=quality.user,
            data={
                "title": spec.title,
                "aim": spec.aim.format(year=period.start.year),
                "methodology": spec.methodology,
                "owner": quality,
                "period_start": period.start,
                "period_end": period.end,
                "status": PriorityStatus.RETIRED,
            },
        )
        for spec in cascade_demo.PRIORITIES
    }
    QualityPriority.objects.filter(pk__in=[p.pk for p in priorities.values()]).update(
        created_at=_at(period.start - datetime.timedelta(days=30))
    )
    return priorities


def _last_years_goals(cycle: ReviewCycle, people: Sequence[Participant]) -> tuple[dict[int, list[Goal]], YearEnd]:
    """Everyone's approved individual goals in last year's period, set in its Plan window and about
    halfway by midsummer (what the check-ins' snapshots keep); returns them by participant, and where
    each got to by the year's end (``_finish_last_years_goals``).

    How far a person got is a hidden knack plus noise per goal, from a random draw of its own (so
    the other records draw as before); the reviewer's goal ratings then follow it
    (``_write_goal_ratings``)."""
    period = cycle.period
    priorities = _last_years_priorities(period)
    keys = list(LAST_YEAR_GOALS)
    rng = random.Random(f"{RANDOM_SEED}:last-year-goals")
    goals, owners, reached = [], [], []
    for index, participant in enumerate(people):
        employee = participant.employee
        knack = rng.gauss(0, 1)
        first = PRIORITY_OF.get(employee.department.name, keys[index % len(keys)])
        order = [first] + [k for k in keys if k != first]
        for number, weight in enumerate(WEIGHTS[index % len(WEIGHTS)]):
            key = order[number % len(order)]
            final = min(max(55 + 22 * knack + rng.gauss(0, 18), 0), 100)
            reached.append(Decimal(100) if final >= ACHIEVED_FROM else Decimal(round(final)))
            goals.append(
                Goal(
                    level=GoalLevel.INDIVIDUAL,
                    title=LAST_YEAR_GOALS[key][(index + number) % len(LAST_YEAR_GOALS[key])],
                    description="Last year's individual QI goal, agreed with my manager in the Plan window.",
                    priority=priorities[key],
                    department=employee.department,
                    owner=employee,
                    period=period,
                    weight=weight,
                    kind=GoalKind.PROCESS if number else GoalKind.RESULT,
                    progress=Decimal(round(final * rng.uniform(0.4, 0.6))),
                    approval=Approval.APPROVED,
                    status=GoalStatus.OPEN,
                    due_date=period.end,
                    created_by=employee,
                )
            )
            owners.append(participant.pk)
    Goal.objects.bulk_create(goals)
    by_participant: dict[int, list[Goal]] = {}
    for participant_id, goal in zip(owners, goals, strict=True):
        by_participant.setdefault(participant_id, []).append(goal)
    _record_goal_setting(cycle, people)
    _write_goal_updates(cycle, goals, rng, at=_within(cycle.do_start, cycle.do_end, 0.5, 16))
    return by_participant, list(zip(goals, reached, strict=True))


def _finish_last_years_goals(cycle: ReviewCycle, year_end: YearEnd) -> None:
    """Where each goal stood at the end of Do (achieved from ACHIEVED_FROM %), with its update, and
    the roll-up of last year's priorities. The year is closed, so each result was signed off by the
    owner's manager (HR for anyone without one): achieved, or not achieved at its progress — the
    results last year's payouts count (incentives.payout_formula.goal_figure)."""
    goals = []
    signed_at = _at(cycle.do_end, 16)
    for goal, reached in year_end:
        goal.progress = reached
        goal.status = GoalStatus.ACHIEVED if reached == 100 else GoalStatus.NOT_ACHIEVED
        goal.result_signed_off_at = signed_at
        goal.result_signed_off_by_id = goal.owner.manager_id
        goal.version += 1
        goals.append(goal)
    Goal.objects.bulk_update(
        goals,
        ["progress", "status", "result_signed_off_at", "result_signed_off_by", "version"],
        batch_size=BATCH,
    )
    rng = random.Random(f"{RANDOM_SEED}:last-year-goal-updates")
    _write_goal_updates(cycle, goals, rng, at=_at(cycle.do_end, 16))
    Goal.objects.filter(pk__in=[g.pk for g in goals]).update(updated_at=_at(cycle.do_end, 16))
    cascade_demo.rollup_in_bulk(list({g.priority_id: g.priority for g in goals}.values()))


def _write_goal_updates(
    cycle: ReviewCycle, goals: Sequence[Goal], rng: random.Random, *, at: datetime.datetime
) -> None:
    """One progress update per goal, by its owner, at ``at`` (the bulk write stamps "now")."""
    updates = [
        GoalUpdate(
            goal=goal,
            author=goal.owner,
            percent=goal.progress,
            confidence=3 if goal.status == GoalStatus.ACHIEVED else rng.choice((1, 2, 2, 3)),
            comment=rng.choice(GOAL_COMMENTS) if at.date() >= cycle.do_end else MIDYEAR_COMMENT,
            progress_after=goal.progress,
        )
        for goal in goals
    ]
    GoalUpdate.objects.bulk_create(updates)
    GoalUpdate.objects.filter(pk__in=[u.pk for u in updates]).update(created_at=at)


def _record_goal_setting(cycle: ReviewCycle, people: Sequence[Participant]) -> None:
    """Each set submitted by its owner and approved by their reviewer (HR for anyone without one)
    over the Plan window, as the goal-setting workflow would log it; the goals dated with them."""
    period, count = cycle.period, max(len(people), 1)
    hr = Employee.objects.get(user__username=HR_LOGIN)
    events, moments = [], []
    for index, participant in enumerate(people):
        owner = participant.employee
        submitted = _within(cycle.plan_start, cycle.plan_end, 0.8 * index / count)
        events.append(GoalSetEvent(period=period, owner=owner, action=ReviewAction.SUBMITTED, actor=owner))
        events.append(
            GoalSetEvent(period=period, owner=owner, action=ReviewAction.APPROVED, actor=participant.reviewer or hr)
        )
        moments += [submitted, submitted + datetime.timedelta(days=2)]
        Goal.objects.filter(period=period, owner=owner).update(created_at=submitted - datetime.timedelta(hours=1))
    GoalSetEvent.objects.bulk_create(events)
    # The create stamps "now" (auto_now_add): put back the Plan window's moments.
    for event, moment in zip(events, moments, strict=True):
        event.created_at = moment
    GoalSetEvent.objects.bulk_update(events, ["created_at"], batch_size=BATCH)


def _write_goal_ratings(cycle: ReviewCycle, people: Sequence[Participant], goals: dict[int, list[Goal]]) -> None:
    """Each person rates their goals, and their reviewer (for those who submitted) rates them by how
    far each got, give or take a level: the goals section of the score follows goal achievement."""
    rng = random.Random(f"{RANDOM_SEED}:last-year-goal-ratings")
    levels = _levels({p.form_version.goals_scale_id for p in people if p.form_version.goals_scale_id})
    ratings, entries = [], []
    for index, participant in enumerate(people):
        values = levels.get(participant.form_version.goals_scale_id, [])
        if not values:
            continue
        reviewed = index not in NOT_SUBMITTED and participant.reviewer is not None
        top = len(values) - 1
        for goal in goals.get(participant.pk, []):
            reached = float(goal.progress) / 100 * top
            rating = GoalRating(
                appraisal_id=participant.appraisal.pk,
                goal=goal,
                self_rating=values[min(max(round(reached + rng.choice((0, 0, 0.5, 1))), 0), top)],
                self_comment="Where this goal stood at the end of the year.",
            )
            common = {"cycle": cycle, "participant": participant.pk, "record": f"goal: {goal.title}", "action": "saved"}
            entries += history.entries(
                **common,
                user=participant.employee.user,
                changes={"self_rating": (None, rating.self_rating), "self_comment": ("", rating.self_comment)},
            )
            if reviewed:
                rating.manager_rating = values[min(max(round(reached + rng.gauss(0, 1.6)), 0), top)]
                rating.manager_comment = "Rated on the progress reached and how the work was done."
                entries += history.entries(
                    **common,
                    user=participant.reviewer.user,
                    changes={
                        "manager_rating": (None, rating.manager_rating),
                        "manager_comment": ("", rating.manager_comment),
                    },
                )
            ratings.append(rating)
    GoalRating.objects.bulk_create(ratings)
    history.record_many(entries)


def _next_cycle_goal_writers(people: list[Participant]) -> dict[int, str]:
    """A few people with no goals of their own yet: their next-cycle goals become their first drafts."""
    with_goals = set(Goal.objects.filter(owner__isnull=False).values_list("owner_id", flat=True))
    chosen = [
        p.employee_id
        for p in people
        if p.employee_id not in with_goals
        and p.employee.department.name in {"Nursing", "Pharmacy", "Claims processing"}
        and p.employee.user.username not in {EMPLOYEE_LOGIN, MANAGER_LOGIN}
    ][:NEXT_CYCLE_GOAL_PEOPLE]
    return dict(zip(chosen, NEXT_CYCLE_GOALS, strict=False))


def _form_rows(version_ids: set[int]) -> dict[int, list[tuple[FormCompetency, list]]]:
    """Each form version's competency rows with their scale's level values."""
    rows = list(FormCompetency.objects.filter(version_id__in=version_ids).select_related("competency"))
    levels = _levels(row.scale_id for row in rows)
    by_version: dict[int, list[tuple[FormCompetency, list]]] = {}
    for row in sorted(rows, key=lambda r: (r.order, r.pk)):
        by_version.setdefault(row.version_id, []).append((row, levels.get(row.scale_id, [])))
    return by_version


# What people write (notes, ratings, answers, plans) is stored in bulk with its history, as the
# services' drafts would store it; every step of a workflow goes through the services.


def _write_check_in_notes(cycle: ReviewCycle, people: Sequence[Participant], both: set[int], only_own=()) -> None:
    """The person's notes for ``both`` and ``only_own``; the reviewer's too for ``both``."""
    changed, entries = [], []
    for index, participant in enumerate(people):
        if participant.pk not in both and participant.pk not in only_own:
            continue
        check_in = participant.check_in
        employee_notes, manager_notes = CHECK_IN_NOTES[index % len(CHECK_IN_NOTES)]
        check_in.employee_notes = employee_notes
        entries += history.entries(
            cycle=cycle,
            participant=participant.pk,
            record="check-in",
            action="saved",
            user=participant.employee.user,
            changes={"employee_notes": ("", employee_notes)},
        )
        if participant.pk in both and participant.reviewer is not None:
            check_in.manager_notes, check_in.coaching_notes = manager_notes, COACHING_NOTE
            entries += history.entries(
                cycle=cycle,
                participant=participant.pk,
                record="check-in",
                action="saved",
                user=participant.reviewer.user,
                changes={"manager_notes": ("", manager_notes), "coaching_notes": ("", COACHING_NOTE)},
            )
        check_in.version += 1
        changed.append(check_in)
    CheckIn.objects.bulk_update(changed, ["employee_notes", "manager_notes", "coaching_notes", "version"])
    history.record_many(entries)


def _complete_check_in(participant: Participant) -> bool:
    if participant.reviewer is None:
        return False
    check_in = participant.check_in
    check_in.participant = participant
    checkins.checkin_complete(user=participant.reviewer.user, check_in=check_in, expected_version=None)
    return True


def _write_ratings(
    cycle: ReviewCycle,
    people: Sequence[Participant],
    rows: dict[int, list[tuple[FormCompetency, list]]],
    rng: random.Random,
    writers: dict[int, str],
) -> dict[int, dict[int, object]]:
    """Everyone's self-assessment (ratings, evidence, dialogue answers) and, for those who submitted it,
    their reviewer's ratings. Returns the reviewer's ratings by participant and form row."""
    questions: dict[int, dict[str, DialogueQuestion]] = {}
    for question in DialogueQuestion.objects.filter(version_id__in={p.form_version_id for p in people}):
        questions.setdefault(question.version_id, {})[question.key] = question
    ratings, answers, entries = [], [], []
    manager_ratings: dict[int, dict[int, object]] = {}
    for index, participant in enumerate(people):
        employee, reviewer = participant.employee.user, participant.reviewer
        reviewed = index not in NOT_SUBMITTED and reviewer is not None
        common = {"cycle": cycle, "participant": participant.pk}
        for row, values in rows.get(participant.form_version_id, []):
            if not values:
                continue
            label = (row.frozen or {}).get("name") or row.competency.name
            rating = CompetencyRating(
                appraisal_id=participant.appraisal.pk,
                form_competency=row,
                self_rating=_rating(rng, values),
                self_evidence=rng.choice(EVIDENCE.get(row.competency.name, ("",))),
            )
            entries += history.entries(
                **common,
                record=f"competency: {label}",
                action="saved",
                user=employee,
                changes={"self_rating": (None, rating.self_rating), "self_evidence": ("", rating.self_evidence)},
            )
            if reviewed:
                rating.manager_rating = _rating(rng, values, shift=rng.choice((-1, 0, 0, 1)))
                rating.manager_evidence = rng.choice(EVIDENCE.get(row.competency.name, ("",)))
                manager_ratings.setdefault(participant.pk, {})[row.pk] = rating.manager_rating
                entries += history.entries(
                    **common,
                    record=f"competency: {label}",
                    action="saved",
                    user=reviewer.user,
                    changes={
                        "manager_rating": (None, rating.manager_rating),
                        "manager_evidence": ("", rating.manager_evidence),
                    },
                )
            ratings.append(rating)
        for key, question in questions.get(participant.form_version_id, {}).items():
            text = writers.get(participant.employee_id, "") if key == QuestionKey.NEXT_CYCLE_GOALS else ""
            text = text or (rng.choice(ANSWERS[key]) if key in ANSWERS else "")
            if text:
                answers.append(DialogueAnswer(appraisal_id=participant.appraisal.pk, question=question, text=text))
                entries += history.entries(
                    **common, record=f"dialogue: {key}", action="saved", user=employee, changes={"text": ("", text)}
                )
    CompetencyRating.objects.bulk_create(ratings)
    DialogueAnswer.objects.bulk_create(answers)
    history.record_many(entries)
    return manager_ratings


def _move_appraisal_on(participant: Participant, index: int) -> None:
    """Self-assessment submitted, review submitted and shared, acknowledged: as far as this person got."""
    if index in NOT_SUBMITTED or participant.reviewer is None:
        return
    appraisal = participant.appraisal
    appraisal.participant = participant
    employee, reviewer = participant.employee.user, participant.reviewer.user
    workflow.appraisal_submit_self(user=employee, appraisal=appraisal, expected_version=None)
    workflow.appraisal_submit_review(user=reviewer, appraisal=appraisal, expected_version=None)
    workflow.appraisal_share(user=reviewer, appraisal=appraisal, expected_version=None)
    if index not in NOT_ACKNOWLEDGED:
        comment = COMMENTS[index % len(COMMENTS)]
        workflow.appraisal_acknowledge(user=employee, appraisal=appraisal, expected_version=None, comment=comment)


def _write_plans(
    cycle: ReviewCycle,
    people: Sequence[Participant],
    rows: dict[int, list[tuple[FormCompetency, list]]],
    ratings: dict[int, dict[int, object]],
) -> None:
    """The reviewer writes each plan: one or two actions on the competencies rated lowest, due this
    year, some already under way or done."""
    plans, actions, entries = [], [], []
    year = cycle.end.year + 1
    for index, participant in enumerate(people):
        if participant.reviewer is None:
            continue
        user, plan = participant.reviewer.user, participant.development_plan
        plan.summary, plan.version = PLAN_SUMMARY, plan.version + 1
        plans.append(plan)
        common = {"cycle": cycle, "participant": participant.pk, "user": user}
        entries += history.entries(
            **common, record="development plan", action="saved", changes={"summary": ("", PLAN_SUMMARY)}
        )
        rated = ratings.get(participant.pk, {})
        weakest = sorted(
            rows.get(participant.form_version_id, []), key=lambda item: (rated.get(item[0].pk, 0), item[0].order)
        )
        for number, (row, _values) in enumerate(weakest[: 1 + index % 2]):
            status = (ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.PLANNED)[(index + number) % 3]
            action = DevelopmentAction(
                plan=plan,
                description=f"{row.competency.name}: lead one small test of change and present what the data showed.",
                competency=row.competency,
                target_level=min(3 + number, 5),
                due_date=datetime.date(year, 3 + 3 * number + index % 3, 28),
                status=status,
                completed_at=timezone.now() if status == ActionStatus.DONE else None,
            )
            actions.append(action)
            values = {
                "description": action.description,
                "competency": row.competency_id,
                "target_level": action.target_level,
                "due_date": action.due_date,
                "status": ActionStatus.PLANNED,
            }
            entries += history.entries(
                **common,
                record=f"action: {action.description}",
                action="added",
                changes={name: (None, value) for name, value in values.items()},
            )
            if status != ActionStatus.PLANNED:
                entries += history.entries(
                    **common,
                    record=f"action: {action.description}",
                    action="changed",
                    changes={"status": (ActionStatus.PLANNED, status)},
                )
    DevelopmentPlan.objects.bulk_update(plans, ["summary", "version"])
    DevelopmentAction.objects.bulk_create(actions)
    history.record_many(entries)


def _date_previous(cycle: ReviewCycle, people: list[Participant]) -> None:
    """Move last year's records into last year's windows (before the close locks the appraisals)."""
    count = max(len(people), 1)
    ReviewCycle.objects.filter(pk=cycle.pk).update(launched_at=_at(cycle.do_start, 8))
    appraisals = Appraisal.objects.in_bulk([p.appraisal.pk for p in people])
    for index, participant in enumerate(people):
        base = _within(cycle.study_start, cycle.study_end, 0.8 * index / count)
        appraisal = appraisals[participant.appraisal.pk]
        stamps = {
            "self_submitted_at": base + datetime.timedelta(hours=1),
            "manager_submitted_at": base + datetime.timedelta(days=2, hours=1),
            "shared_at": base + datetime.timedelta(days=2, hours=1, minutes=5),
            "acknowledged_at": base + datetime.timedelta(days=4, hours=2),
        }
        stamps = {name: stamp for name, stamp in stamps.items() if getattr(appraisal, name) is not None}
        if stamps:
            Appraisal.objects.filter(pk=appraisal.pk).update(**stamps)
    for model, window, field in (
        (CheckIn, Phase.DO, "completed_at"),
        (DevelopmentPlan, Phase.ACT, "agreed_at"),
    ):
        records = list(model.objects.filter(participant__cycle=cycle, **{f"{field}__isnull": False}))
        position = {p.pk: index / count for index, p in enumerate(people)}
        for record in records:
            start, end = cycle.window(window)
            setattr(record, field, _within(start, end, 0.8 * position.get(record.participant_id, 0), 15))
        model.objects.bulk_update(records, [field], batch_size=BATCH)
    done = DevelopmentAction.objects.filter(plan__participant__cycle=cycle, status=ActionStatus.DONE)
    done.update(completed_at=min(timezone.now(), _at(cycle.end + datetime.timedelta(days=60), 12)))
    ToDo.objects.filter(cycle=cycle).update(created_at=_at(cycle.do_start, 6))
    ToDo.objects.filter(cycle=cycle, done_at__isnull=False).update(done_at=_at(cycle.act_end, 17))


# Which window each kind of participant entry falls in, by the start of its record's name (else Study).
HISTORY_WINDOWS = (("check-in", Phase.DO), ("development plan", Phase.ACT), ("action:", Phase.ACT))
# When each kind of participant entry happened, in days after the person's day in the window.
STEP_DAYS = {
    "submitted the self-assessment": 0,
    "submitted the review": 2,
    "shared the ratings": 2,
    "score recomputed": 2,
    "acknowledged the appraisal": 4,
    "completed": 1,
    "agreed": 1,
}


def _date_history(cycle: ReviewCycle, people: list[Participant]) -> None:
    """Date last year's history in its windows: each person on a day of their own, their steps in order."""
    position = {p.pk: index / max(len(people), 1) for index, p in enumerate(people)}
    employee_user = {p.pk: p.employee.user_id for p in people}
    entries = list(HistoryEntry.objects.filter(cycle=cycle).order_by("pk"))
    for entry in entries:
        if entry.participant_id is None:
            entry.at = _cycle_entry_time(cycle, entry)
        elif entry.action == "locked":
            entry.at = _at(cycle.act_end, 17, 30)
        elif entry.action == "opened the self-assessment":
            entry.at = _at(cycle.study_start, 6)
        else:
            phase = next((p for prefix, p in HISTORY_WINDOWS if entry.record.startswith(prefix)), Phase.STUDY)
            start, end = cycle.window(phase)
            days = STEP_DAYS.get(entry.action, 0)
            if entry.action == "saved" and entry.actor_id != employee_user.get(entry.participant_id):
                days = 1 if phase == Phase.DO else 2  # the reviewer writes after the person
            base = _within(start, end, 0.8 * position.get(entry.participant_id, 0.0), 9)
            entry.at = base + datetime.timedelta(days=days)
    _store_times(entries)


def _store_times(entries: Sequence[HistoryEntry]) -> None:
    """One UPDATE per distinct time (entries at the same moment keep their order by id), which is far
    quicker than a bulk update's CASE over thousands of rows."""
    by_time: dict[datetime.datetime, list[int]] = {}
    for entry in entries:
        by_time.setdefault(entry.at, []).append(entry.pk)
    for at, pks in by_time.items():
        HistoryEntry.objects.filter(pk__in=pks).update(at=at)


def _cycle_entry_time(cycle: ReviewCycle, entry: HistoryEntry) -> datetime.datetime:
    if entry.action == "closed":
        return _at(cycle.act_end, 17, 30)
    if entry.action == cycles.MOVED_BY_DATE and entry.new in Phase.values:
        return _at(cycle.window(entry.new)[0], 6)
    if entry.action == "set up":
        return _at(cycle.do_start - datetime.timedelta(days=14), 10)
    return _at(cycle.do_start, 8)


# ---------------------------------------------------------------- this year's cycle


def _current_cycle(
    hr: Employee, period: GoalPeriod, chief: Employee, today: datetime.date, rng: random.Random
) -> tuple[ReviewCycle, int]:
    _, name = cycle_names(today.year)
    data = {"name": name, "methodology": "pdsa", **windows_in_do(period, today)}
    cycle = _launch(hr, data, period, chief, today=today)
    if cycle.phase != Phase.DO:  # the first or last days of the year: no room for the windows around today
        cycle = cycles.phase_move(user=hr.user, cycle=cycle, phase=Phase.DO)
    people = _participants(cycle)
    held, started = set(), set()
    for participant in people:
        username, draw = participant.employee.user.username, rng.random()
        if username == EMPLOYEE_LOGIN:
            started.add(participant.pk)  # notes written; the check-in itself is still to hold
        elif username == MANAGER_LOGIN or draw < CHECKINS_DONE:
            held.add(participant.pk)
        elif draw < CHECKINS_DONE + CHECKINS_STARTED:
            started.add(participant.pk)
    _write_check_in_notes(cycle, people, held, only_own=started)
    done = sum(_complete_check_in(p) for p in people if p.pk in held)
    todos.tick_finished(cycle=cycle)
    _date_current(cycle, today)
    return cycle, done


def _date_current(cycle: ReviewCycle, today: datetime.date) -> None:
    """This year's launch as the Do window opened (or today), the check-ins over the Do window so far."""
    launched = _at(min(cycle.do_start, today), 8)
    ReviewCycle.objects.filter(pk=cycle.pk).update(launched_at=launched)
    HistoryEntry.objects.filter(cycle=cycle, participant__isnull=True).update(at=launched)
    start = _at(min(cycle.do_start, today), 9)
    span = max(timezone.now() - datetime.timedelta(hours=2) - start, datetime.timedelta(0))
    # Each person's check-in on a day of its own so far, their entries in the order they were made.
    entries = list(HistoryEntry.objects.filter(cycle=cycle, record="check-in").order_by("pk"))
    moments: dict[int, datetime.datetime] = {}
    made: dict[int, int] = {}
    for entry in entries:
        base = moments.setdefault(entry.participant_id, start + span * ((len(moments) * 37) % 100) / 100)
        made[entry.participant_id] = made.get(entry.participant_id, -1) + 1
        entry.at = base + datetime.timedelta(minutes=10 * made[entry.participant_id])
        if entry.action == "completed":
            CheckIn.objects.filter(participant_id=entry.participant_id).update(completed_at=entry.at)
    _store_times(entries)
    ToDo.objects.filter(cycle=cycle).update(created_at=launched)

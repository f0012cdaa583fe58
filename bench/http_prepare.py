"""The HTTP bench's database work, run as a child process by ``python -m bench.http``.

It runs inside the checkout under test (``cwd`` and ``sys.path`` of that checkout, its own
DATABASE_URL), so an older checkout (``--app-dir``) migrates, seeds and signs in with its own
models. It is started as a file path (``python /…/bench/http_prepare.py``): an older checkout
need not have it.

- ``prepare SIZE MIXED``: migrate; collect the static files (staticfiles/, as production does); seed the synthetic organisation, its goals, the competency library
  and a launched review cycle over it, unless already there (the people are counted, so a rerun
  takes seconds); create sessions for the HR admin, an employee and their manager, and for the
  mixed sessions; print, as JSON, the cookies and the ids the requests need.
- ``count MARKER``: print how many progress updates carry MARKER in their comment.
"""

from __future__ import annotations

import os
import sys

# Run as a file, Python puts bench/ first on the path, where bench/http.py would hide the standard
# library's http package; the checkout under test goes there instead.
sys.path[0] = os.getcwd()

import json  # noqa: E402
from unittest import mock  # noqa: E402


def _setup() -> None:
    import django

    django.setup()


def _session_for(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(60 * 60 * 4)
    session.create()
    return session.session_key


def _seed(size: int) -> str:
    from django.utils import timezone

    from appraisals import demo as appraisals_demo
    from appraisals import tasks
    from appraisals.models import CycleState, ReviewCycle
    from appraisals.services import cycles
    from cascade import demo as cascade_demo
    from competencies import demo as competencies_demo
    from people import demo as people_demo
    from people.models import Employee

    top_name = people_demo.seed_synthetic(size).top_username
    cascade_demo.seed_synthetic(size)
    competencies_demo.seed_synthetic(size)
    top = Employee.objects.select_related("user", "department").get(user__username=top_name)
    Employee.objects.filter(pk=top.pk).update(is_hr_admin=True)
    if not ReviewCycle.objects.filter(state=CycleState.ACTIVE).exists():
        today = timezone.localdate()
        period, _previous = cascade_demo.goal_periods(today)
        data = {"name": "Bench cycle", "methodology": "pdsa", "include_everyone": False}
        data |= appraisals_demo.windows_in_do(period, today)
        cycle = cycles.cycle_create(user=top.user, data={**data, "period": period}, departments=[top.department])
        # The to-do emails are not part of what is measured here.
        with mock.patch.object(tasks.send_todo_emails, "delay", lambda *a, **k: None):
            cycles.cycle_launch(user=top.user, cycle=cycle)
    return top_name


def prepare(size: int, mixed: int) -> dict:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    # Production serves hashed static files (WhiteNoise's manifest), as its Dockerfile collects them.
    call_command("collectstatic", interactive=False, verbosity=0)
    from appraisals.models import Appraisal, CycleState, ReviewCycle
    from cascade.models import Approval, Goal, GoalLevel, GoalStatus, ProgressMode, QualityMeasure
    from people import demo as people_demo
    from people.models import Department, Employee

    seeded = Employee.objects.filter(user__email__endswith=f"@{people_demo.SYNTHETIC_EMAIL_DOMAIN}").count()
    top_name = people_demo.synthetic_username(1)
    if seeded != size or not ReviewCycle.objects.filter(state=CycleState.ACTIVE).exists():
        top_name = _seed(size)
    # Fresh planner statistics, as autovacuum would keep them on a live server: right after a bulk
    # seed they still describe empty tables, and the plans (and figures) would be a newborn's.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    hr = Employee.objects.select_related("user").get(user__username=top_name)
    employee = Employee.objects.select_related("user", "manager__user").get(
        user__username=people_demo.synthetic_username(size // 2)
    )
    manager = employee.manager
    cycle = ReviewCycle.objects.filter(state=CycleState.ACTIVE).order_by("-pk").first()
    appraisal = Appraisal.objects.filter(participant__cycle=cycle, participant__employee=employee).first()
    measure = QualityMeasure.objects.order_by("pk").first()
    # Mixed sessions: people spread over the organisation, each with goals of their own.
    step = max(1, size // (mixed + 1))
    mixed_people = []
    for number in range(step, step * (mixed + 1), step):
        person = Employee.objects.select_related("user").get(user__username=people_demo.synthetic_username(number))
        # Goals whose progress the owner gives by hand (approved, open, no measure, no goals under them).
        goals = list(
            Goal.objects.filter(
                owner=person, level=GoalLevel.INDIVIDUAL, approval=Approval.APPROVED, children__isnull=True
            )
            .exclude(status=GoalStatus.CANCELLED)
            .exclude(progress_mode=ProgressMode.MEASURE)
            .order_by("pk")
            .values_list("pk", flat=True)[:5]
        )
        own = Appraisal.objects.filter(participant__cycle=cycle, participant__employee=person).first()
        mixed_people.append({"cookie": _session_for(person.user), "goals": goals, "appraisal": own.pk if own else None})
    return {
        "employees": Employee.objects.count(),
        "goals": Goal.objects.count(),
        "departments": Department.objects.count(),
        "sessions": {
            "hr": _session_for(hr.user),
            "employee": _session_for(employee.user),
            "manager": _session_for(manager.user),
        },
        "cycle": cycle.pk,
        "appraisal": appraisal.pk if appraisal else None,
        "measure": measure.pk if measure else None,
        "mixed": mixed_people,
    }


def count(marker: str) -> dict:
    from cascade.models import GoalUpdate

    return {"count": GoalUpdate.objects.filter(comment__contains=marker).count()}


if __name__ == "__main__":
    _setup()
    command, argument = sys.argv[1], sys.argv[2]
    result = prepare(int(argument), int(sys.argv[3])) if command == "prepare" else count(argument)
    print("HTTP-PREPARE " + json.dumps(result))

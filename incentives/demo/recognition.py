"""Recognition and career pathways in the demo hospital (``incentives.demo`` calls ``seed_hospital``).

- Three thank-you posts: the Ward 7 manager thanks the ``employee`` login for one
  of their goals; the ``employee`` login thanks a colleague on the ward, linked to
  a measure; the quality lead thanks the measure's department as a team.
- The pathway "Quality Champion" (at least one recognition received) with the ``employee`` login's title awarded (announced in the feed) and
  the thanked colleague as a pending candidate; and "Process Excellence", defined
  but with nobody proposed yet.

No emails are sent while seeding. Safe to run again: a loaded demo is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from cascade.models import Goal, GoalLevel, QualityMeasure
from incentives.models.recognition import Pathway, PathwayCandidate
from incentives.services import pathways as pathway_service
from incentives.services import recognition as recognition_service
from people import demo as people_demo
from people.models import Employee

HR_LOGIN, EMPLOYEE_LOGIN, MANAGER_LOGIN, QUALITY_LOGIN = "hradmin", "employee", "manager", "quality"
CHAMPION, EXCELLENCE = "Quality Champion", "Process Excellence"


@dataclass(frozen=True)
class SeedResult:
    created: bool
    message: str


def hospital_loaded() -> bool:
    return Pathway.objects.filter(name=CHAMPION).exists()


def _login(username: str) -> Employee:
    person = Employee.objects.select_related("user", "manager", "department").filter(user__username=username).first()
    if person is None:
        raise people_demo.SeedConflict(f"Load the demo hospital's people (people.demo) first: no “{username}” login.")
    return person


def seed_hospital() -> SeedResult:
    """Recognition posts among the demo hospital's people and the two career pathways."""
    with transaction.atomic():
        if hospital_loaded():
            return SeedResult(False, "The demo recognition posts and pathways are already loaded; nothing was changed.")
        hr, employee, manager, quality = (_login(u) for u in (HR_LOGIN, EMPLOYEE_LOGIN, MANAGER_LOGIN, QUALITY_LOGIN))
        goal = Goal.objects.filter(owner=employee, level=GoalLevel.INDIVIDUAL).order_by("-period__start", "pk").first()
        measure = QualityMeasure.objects.select_related("department").order_by("pk").first()
        colleague = (
            Employee.objects.filter(manager=employee.manager, is_active=True)
            .exclude(pk=employee.pk)
            .order_by("full_name")
            .first()
        ) or Employee.objects.filter(is_active=True).exclude(pk__in=[employee.pk, manager.pk]).order_by("pk").first()
        posts = [
            recognition_service.post_recognition(
                user=manager.user,
                recipients=[employee],
                goal=goal.pk if goal else None,
                message="Thank you for logging every interruption on the medication rounds: the ward can finally "
                "see where the do-not-disturb tabard helps, and the team is copying your log.",
                send_email=False,
            ),
            recognition_service.post_recognition(
                user=employee.user,
                recipients=[colleague],
                measure=measure.pk if measure else None,
                message="Thanks for covering my PDSA observation slots this week and for plotting the run chart "
                "so neatly; the shift in the data was obvious to everyone at the huddle.",
                send_email=False,
            ),
        ]
        if measure is not None:
            posts.append(
                recognition_service.post_recognition(
                    user=quality.user,
                    department=measure.department,
                    measure=measure.pk,
                    message=f"To the whole of {measure.department.name}: the last three months on “{measure.name}” "
                    "are the best since we started measuring. Thank you for sticking with the changes.",
                    send_email=False,
                )
            )
        champion = pathway_service.save_pathway(
            user=hr.user,
            data={
                "name": CHAMPION,
                "description": "Recognised by colleagues for improvements to the way we work, and keeps developing.",
                "min_recognitions": 1,
            },
            levels=[],
        )
        pathway_service.save_pathway(
            user=hr.user,
            data={
                "name": EXCELLENCE,
                "description": "Achieved QI goals in the last two closed review cycles and completed the development "
                "actions agreed for them.",
                "min_achieved_goals": 3,
                "goal_cycles": 2,
                "min_development_actions": 2,
            },
            levels=[],
        )
        evidence = pathway_service.evaluate(champion, employee_ids=[employee.pk, colleague.pk])
        awarded = PathwayCandidate.objects.create(
            pathway=champion, employee=employee, evidence=evidence.get(employee.pk, {})
        )
        pathway_service.confirm(user=hr.user, candidate=awarded, send_email=False)
        PathwayCandidate.objects.create(pathway=champion, employee=colleague, evidence=evidence.get(colleague.pk, {}))
    return SeedResult(
        True,
        f"Loaded recognition: {len(posts)} thank-you posts, the pathways “{CHAMPION}” (awarded to "
        f"{employee.full_name}; {colleague.full_name} pending) and “{EXCELLENCE}”.",
    )

"""What the goal pages share: the period a request asks for, the crumbs above a goal, and the
card a goal set is shown on."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404, HttpRequest
from django.urls import reverse

from cascade import access, selectors, workflow
from cascade.models import (
    Approval,
    Goal,
    GoalLevel,
    GoalPeriod,
    GoalStatus,
)
from people import access as people
from people.models import Department, Employee

EDITABLE = {Approval.DRAFT, Approval.RETURNED}


# ---------------------------------------------------------------- helpers


def employee_of(request: HttpRequest) -> Employee | None:
    return people.employee_for_user(request.user)


def period_from(request: HttpRequest) -> GoalPeriod | None:
    """The period asked for (``?period=`` or a posted ``period``), else the one this person sees by
    default (their running cycle's, else the organisation's)."""
    raw = request.POST.get("period") or request.GET.get("period")
    if raw:
        try:
            return GoalPeriod.objects.get(pk=int(raw))
        except (ValueError, GoalPeriod.DoesNotExist):
            raise Http404("No such goal period.") from None
    return selectors.default_period_for(request.user)


def all_periods() -> list[GoalPeriod]:
    return list(GoalPeriod.objects.order_by("-start"))


def with_period(url: str, period: GoalPeriod | None) -> str:
    return f"{url}?period={period.pk}" if period else url


def live(goals: list[Goal]) -> list[Goal]:
    return [g for g in goals if g.status != GoalStatus.CANCELLED]


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str = ""


def department_crumb(department: Department, period_id: int | None) -> Crumb:
    url = reverse("cascade:department_goals", args=[department.pk])
    return Crumb(f"{department.name} goals", f"{url}?period={period_id}" if period_id else url)


def person_crumbs(request: HttpRequest, owner: Employee, period_id: int | None) -> list[Crumb]:
    """An individual goal's place for this reader: their own, a report's (their team), or a colleague's."""
    query = f"?period={period_id}" if period_id else ""
    employee = employee_of(request)
    if employee is not None and owner.pk == employee.pk:
        return [Crumb("My goals", reverse("cascade:my_goals") + query)]
    if employee is not None and owner.path.startswith(employee.path):
        team = reverse("cascade:team_goals") + query
        # Direct reports have a card on the team page; people further down have their profile.
        person = f"{team}#title-person-{owner.pk}" if owner.manager_id == employee.pk else ""
        return [Crumb("Team goals", team), Crumb(owner.full_name, person or reverse("people:detail", args=[owner.pk]))]
    return [
        department_crumb(owner.department, period_id),
        Crumb(owner.full_name, reverse("people:detail", args=[owner.pk])),
    ]


def goal_crumbs(request: HttpRequest, goal: Goal) -> list[Crumb]:
    if goal.level == GoalLevel.FUNCTIONAL:
        return [department_crumb(goal.department, goal.period_id)]
    return person_crumbs(request, goal.owner, goal.period_id)


def create_crumbs(request: HttpRequest, level: str, initial: dict[str, object], period: GoalPeriod | None):
    """Where a new goal will sit: the priority it was started from, the department's goals, a report's, or mine."""
    period_id = period.pk if period else None
    if level == GoalLevel.FUNCTIONAL:
        priority = request.GET.get("priority", "")
        if priority.isdigit() and "department" not in request.GET:
            found = access.priorities_visible_to(request.user).filter(pk=int(priority)).first()
            if found is not None:
                return [
                    Crumb("Quality priorities", reverse("cascade:priority_list")),
                    Crumb(found.title, reverse("cascade:priority_detail", args=[found.pk])),
                ]
        department = Department.objects.filter(pk=initial.get("department") or 0).first()
        if department is not None:
            return [department_crumb(department, period_id)]
        return [Crumb("Departments", reverse("people:departments"))]
    owner = people.employees_visible_to(user=request.user).filter(pk=initial.get("owner") or 0).first()
    if owner is not None:
        return person_crumbs(request, owner, period_id)
    return [Crumb("My goals", reverse("cascade:my_goals"))]


@dataclass
class SetCard:
    """One owner's goal set as a page shows it, with the errors of a refused action on it."""

    goal_set: workflow.GoalSet
    goals: list[Goal]
    errors: list[str] = field(default_factory=list)
    comment: str = ""

    @property
    def key(self) -> str:
        if self.goal_set.owner is not None:
            return f"person-{self.goal_set.owner.pk}"
        return f"department-{self.goal_set.department.pk}"

    @property
    def live_goals(self) -> list[Goal]:
        return live(self.goals)

    @property
    def weight_total(self) -> int:
        return sum(g.weight for g in self.live_goals)

    @property
    def weights_off(self) -> bool:
        return bool(self.live_goals) and self.weight_total != 100

    @property
    def state(self) -> str:
        return workflow.set_state(self.goals)

    @property
    def state_label(self) -> str:
        return Approval(self.state).label if self.live_goals else "No goals yet"

    @property
    def awaiting_review(self) -> bool:
        return any(g.approval == Approval.SUBMITTED for g in self.live_goals)

    @property
    def cancel_requests(self) -> int:
        """Goals of the set whose owner asked the approver to cancel them."""
        return sum(g.cancel_requested_at is not None for g in self.live_goals)

    @property
    def close_requests(self) -> int:
        """Goals of the set whose owner asked the approver to close them (sign off the result)."""
        return sum(g.close_requested_at is not None for g in self.live_goals)

    @property
    def can_submit(self) -> bool:
        return any(g.approval in EDITABLE for g in self.live_goals)


def attach_failure(cards: list[SetCard], failure: tuple[str, list[str], str] | None) -> None:
    """Attach a refused action's messages and the typed comment to the card it was about."""
    if failure is None:
        return
    key, errors, comment = failure
    for card in cards:
        if card.key == key:
            card.errors, card.comment = errors, comment

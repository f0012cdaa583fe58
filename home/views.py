"""The home page: each role's cards, a little of every app (the top floor reads from all of them)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from appraisals.selectors import cycles as cycle_dashboards
from appraisals.services import todos as cycle_todos
from audits import access as audit_access
from audits.models import ACTIVE_STATUSES, Finding
from audits.selectors import runs as audits
from audits.selectors import surveys
from cascade import selectors as cascade
from cascade.models import GoalStatus, PriorityStatus
from people import selectors as people
from people.models import OrgChartImport

HOME_GOALS = 6
HOME_TODOS = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's cards. Every card costs a fixed number of queries, however many goals there are."""
    user = request.user
    employee = people.employee_for_user(user)
    period = cascade.default_period_for(user)
    context: dict[str, object] = {"employee": employee, "period": period}
    if employee is not None:
        context["chain"] = people.reporting_chain(employee=employee)
        context["direct_reports"] = list(people.reports_of(employee=employee, direct_only=True))
        context["team_size"] = people.reports_of(employee=employee).count()
        if period is not None:
            goals = [g for g in cascade.goals_of(owner=employee, period=period) if g.status != GoalStatus.CANCELLED]
            context["my_goals"] = goals[:HOME_GOALS]
            context["my_goal_count"] = len(goals)
            if context["direct_reports"] or employee.headed_departments.exists():
                # Who approves what is cascade.access's rule; home only shows the count.
                context["sets_to_approve"] = cascade.goal_sets_to_approve(user=user, period=period)
        context.update(_todos_card(employee))
        context["surveys_to_answer"] = [i for i in surveys.invitations_of(user=user) if not i.answered]
    if people.is_hr_admin(user):
        context["headcount"] = people.employees_visible_to(user=user).count()
        context["recent_imports"] = OrgChartImport.objects.select_related("created_by").defer("content")[:3]
        cycle = cycle_dashboards.current_cycle()
        context["current_cycle"] = cycle_dashboards.cycle_card(cycle) if cycle is not None else None
    if people.is_quality_lead(user):
        context["priorities"] = list(
            cascade.priorities_visible_to(user=user).filter(status=PriorityStatus.ACTIVE).order_by("title")
        )
    if audit_access.can_read_audits(user):
        context["alignment"] = _alignment_card()
    return render(request, "home.html", context)


def _alignment_card() -> dict[str, object]:
    """The latest audit's score, its change, and the open findings by severity (three queries)."""
    latest = audits.latest_run()
    previous = audits.previous_run(latest) if latest is not None else None
    change = None
    if latest is not None and previous is not None and None not in (latest.alignment_score, previous.alignment_score):
        change = latest.alignment_score - previous.alignment_score
    open_by_severity = dict(
        Finding.objects.filter(status__in=ACTIVE_STATUSES)
        .values("severity")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("severity", "n")
    )
    return {"run": latest, "change": change, "open": open_by_severity, "open_total": sum(open_by_severity.values())}


def _todos_card(employee) -> dict[str, object]:
    """The person's open to-dos in running cycles, soonest due first (at most two queries)."""
    todos = list(cycle_todos.todos_for(employee)[: HOME_TODOS + 1])
    count = len(todos) if len(todos) <= HOME_TODOS else cycle_todos.todos_for(employee).count()
    today = timezone.localdate()
    items = [
        {
            "title": cycle_todos.todo_title(todo),
            "link": cycle_todos.todo_link(todo),
            "due": todo.due,
            "overdue": todo.due < today,
            "cycle": todo.cycle.name,
        }
        for todo in todos[:HOME_TODOS]
    ]
    return {"todos": items, "todo_count": count}

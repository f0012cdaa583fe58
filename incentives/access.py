"""Who may see and do what in incentives: plans and payouts, recognition, career pathways.

The one place these rules live (PRODUCT.md "Access"); views, the API, selectors,
templates and services ask here and never re-derive them. core.access applies them:
a record outside a ``*_visible_to`` queryset answers 404 (page and API alike), a
role-reserved page or endpoint 403 with the message below.

* Plans are HR's: anyone else is told a plan does not exist (404); the plan list and
  "new plan" answer 403.
* A payout is HR's until its plan is published; afterwards the person and the managers
  above them see it too (PRODUCT.md: before publication only HR sees payouts).
* The recognition feed is everyone's, except hidden posts: HR and the post's author.
* Pathways are everyone's to read; defining them and the candidates are HR's.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from incentives.models.imports import TargetBonusImport
from incentives.models.plans import IncentivePlan, Payout, PlanState
from incentives.models.recognition import Pathway, PathwayCandidate, Recognition
from people.access import employee_for_user, is_hr_admin
from people.models import Employee

User = AbstractBaseUser | AnonymousUser

PLANS_MESSAGE = "Only HR can set up, compute and approve incentive plans."
ADJUST_MESSAGE = "Only HR can adjust payouts."
POST_MESSAGE = "Only people with an employee record can post recognition."
HIDE_MESSAGE = "Only HR can hide a recognition post."
PATHWAYS_MESSAGE = "Only HR can manage career pathways."
CANDIDATES_MESSAGE = "Only HR can see and decide on pathway candidates."
RUN_MESSAGE = "Only HR can run the search for pathway candidates."

RECOGNITION_RELATED = ("author", "department", "goal", "measure", "priority", "pathway", "hidden_by")


# ---------------------------------------------------------------- plans and payouts


def can_manage_plans(user: User) -> bool:
    """Set up, compute, approve, publish and export incentive plans."""
    return is_hr_admin(user)


def plans_visible_to(user: User) -> QuerySet[IncentivePlan]:
    if can_manage_plans(user):
        return IncentivePlan.objects.select_related("cycle").all()
    return IncentivePlan.objects.none()


def target_imports_visible_to(user: User) -> QuerySet[TargetBonusImport]:
    """Target-bonus uploads: HR's set-up records, so to anyone else they do not exist (404)."""
    return TargetBonusImport.objects.filter(plan__in=plans_visible_to(user)).select_related("plan", "created_by")


def payouts_visible_to(user: User) -> QuerySet[Payout]:
    queryset = Payout.objects.select_related("plan", "employee__department")
    if is_hr_admin(user):
        return queryset
    me = employee_for_user(user)
    if me is None:
        return queryset.none()
    own = Q(employee=me)
    reports = Q(employee__path__startswith=me.path) & ~Q(employee=me)
    return queryset.filter(own | reports, plan__state=PlanState.PUBLISHED)


def can_adjust_payout(user: User, payout: Payout | None = None) -> bool:
    """HR changes a computed amount, with a reason (the plan's own lock is the service's to check)."""
    return is_hr_admin(user)


def can_see_payout_history(user: User, payout: Payout | None = None) -> bool:
    """The computed amount beside the adjusted one, and the adjustments' reasons, are HR's."""
    return is_hr_admin(user)


# ---------------------------------------------------------------- recognition


def recognitions_visible_to(user: User) -> QuerySet[Recognition]:
    queryset = Recognition.objects.select_related(*RECOGNITION_RELATED).prefetch_related(
        Prefetch("recipients", queryset=Employee.objects.select_related("department").order_by("full_name"))
    )
    if not user.is_authenticated:
        return queryset.none()
    if is_hr_admin(user):
        return queryset
    employee = employee_for_user(user)
    if employee is None:
        return queryset.filter(is_hidden=False)
    return queryset.filter(Q(is_hidden=False) | Q(author=employee))


def can_post_recognition(user: User) -> bool:
    return employee_for_user(user) is not None


def can_hide_recognition(user: User, post: Recognition | None = None) -> bool:
    return is_hr_admin(user)


# ---------------------------------------------------------------- career pathways


def can_manage_pathways(user: User) -> bool:
    """Define pathways, see and decide on their candidates, run the candidate search."""
    return is_hr_admin(user)


def pathways_visible_to(user: User) -> QuerySet[Pathway]:
    if not user.is_authenticated:
        return Pathway.objects.none()
    return Pathway.objects.prefetch_related("competency_levels__competency")


def candidates_visible_to(user: User) -> QuerySet[PathwayCandidate]:
    """Proposed, awarded and declined candidates with their evidence: HR's (awarded titles are
    public through the pathway page and the profile, not through this queryset)."""
    if can_manage_pathways(user):
        return PathwayCandidate.objects.select_related("pathway", "employee__department", "decided_by")
    return PathwayCandidate.objects.none()


def can_decide_candidate(user: User, candidate: PathwayCandidate | None = None) -> bool:
    """Award a title or decline a candidate."""
    return can_manage_pathways(user)

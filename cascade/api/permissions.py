"""Who may write what in the cascade API. Every rule is cascade.access's; these
classes only ask it early, so that a refused write answers 403 before its body is
checked, and only after the scoped lookup, so that what a user cannot see answers 404.
The services ask the same questions again: the API is not the only way in."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from cascade import access
from cascade.models import Goal, QualityMeasure


class ManagesPriorities(BasePermission):
    """Priorities and measures: everyone signed in reads them; the quality lead and HR write them.

    Observations are the exception: the owning department's head may record them too.
    """

    message = "Only the quality lead or HR can change quality priorities and measures."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "detail", False):
            return True
        return access.can_manage_priorities(request.user)

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if isinstance(obj, QualityMeasure) and getattr(view, "action", None) == "observations":
            self.message = "You cannot record data for this measure."
            return access.can_record_observations(request.user, obj)
        return access.can_manage_priorities(request.user)


class EditsGoal(BasePermission):
    """A goal the user can see is changed only by those who may draft it (cascade.access.can_edit_goal).

    Creating goals, the goal-set steps and reopening depend on the body or on the
    approver, so their services decide (a refusal still answers 403).
    """

    message = "You cannot change this goal."

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) != "partial_update":
            return True
        return isinstance(obj, Goal) and access.can_edit_goal(request.user, obj)

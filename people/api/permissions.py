"""Who may do what in the people API. Both classes ask people.selectors.is_hr_admin,
the one place that decides who is an HR admin."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from people.selectors import is_hr_admin


class HRAdminWrites(BasePermission):
    """Reads for anyone the view's queryset shows; writes for HR admins only.

    A write to one object is decided after the scoped lookup, so an object the
    user cannot see answers 404 (its existence does not leak) and one they can
    see but not change answers 403. A detail action that writes must therefore
    call ``get_object()``, which is where DRF runs the object check.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "detail", False):
            return True
        return is_hr_admin(request.user)

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        return request.method in SAFE_METHODS or is_hr_admin(request.user)


class HRAdminOnly(BasePermission):
    """For resources whose very existence is HR's business: everyone else gets 404, not 403."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not is_hr_admin(request.user):
            raise NotFound()
        return True

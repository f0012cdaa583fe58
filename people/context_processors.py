"""What every page needs to know about the signed-in person: their record and roles,
for the role-aware navigation."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from people import selectors


def viewer(request: HttpRequest) -> dict[str, object]:
    user = request.user

    def build() -> dict[str, object]:
        employee = selectors.employee_for_user(user)
        return {
            "employee": employee,
            "is_hr_admin": selectors.is_hr_admin(user),
            "is_quality_lead": selectors.is_quality_lead(user),
            "is_manager": bool(employee and selectors.is_manager(employee)),
        }

    # Lazy, so pages that never draw the navigation (API docs, errors) pay nothing.
    return {"viewer": SimpleLazyObject(build)}

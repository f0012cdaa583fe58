"""What every page needs to know about the signed-in person: their record and roles,
for the role-aware navigation."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from people import access


def viewer(request: HttpRequest) -> dict[str, object]:
    user = request.user

    def build() -> dict[str, object]:
        employee = access.employee_for_user(user)
        return {
            "employee": employee,
            "is_hr_admin": access.is_hr_admin(user),
            "is_quality_lead": access.is_quality_lead(user),
            "can_read_action_log": access.can_read_action_log(user),
            "is_manager": bool(employee and access.is_manager(employee)),
        }

    # Lazy, so pages that never draw the navigation (API docs, errors) pay nothing.
    return {"viewer": SimpleLazyObject(build)}

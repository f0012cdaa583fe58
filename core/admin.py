"""Admin glue: pages a role reads and nobody changes (the browser pages and services are the
way to change these records, with their checks and the action log)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

__all__ = ["read_only_admin"]


def read_only_admin(may_view: Callable[[Any], bool], name: str = "ReadOnlyAdmin") -> type:
    """A ModelAdmin/InlineModelAdmin mixin: users ``may_view(user)`` see the pages; nobody adds,
    changes or deletes through them. E.g. ``HRReadOnly = read_only_admin(people.is_hr_admin)``."""

    def allowed(self: Any, request: HttpRequest, obj: object = None) -> bool:
        return bool(may_view(request.user))

    def refused(self: Any, request: HttpRequest, *args: object) -> bool:
        return False

    return type(
        name,
        (),
        {
            "__doc__": "Viewers see these pages; nobody adds, changes or deletes through them.",
            "has_module_permission": lambda self, request: bool(may_view(request.user)),
            "has_view_permission": allowed,
            "has_add_permission": refused,
            "has_change_permission": refused,
            "has_delete_permission": refused,
        },
    )

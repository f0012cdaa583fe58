"""One access vocabulary for pages and the API.

The rules live in each app's ``access.py``, in one shape: ``<things>_visible_to(user)``
querysets (what a user may see) and ``can_<verb>(user[, obj])`` checks (what they may do).
This module only applies them, and applies them the same way everywhere:

* a record outside the user's scope answers **404**, so its existence does not leak —
  look it up in the app's visible queryset with ``get_visible_or_404``;
* a page or endpoint reserved to a role (HR set-up, quality-lead set-up) answers **403**
  with the rule's message, on the page as in the API — ``requires`` for pages,
  ``Requires`` for API views;
* an action on a record the user may see but not change answers **403** — ``deny_unless``.

``among(column, ids)`` is how a visible queryset applies "the ids this user may read" (a
subquery, often a UNION of indexed branches) so that the database reads those ids first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Lookup, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

Check = Callable[[Any], bool]
View = Callable[..., HttpResponse]


def requires(check: Check, message: str) -> Callable[[View], View]:
    """A page for those ``check(user)`` admits: others signed in get 403 with ``message``;
    anonymous visitors are sent to sign in."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        guarded.access_check = check  # type: ignore[attr-defined]
        return login_required(guarded)

    return decorate


def deny_unless(allowed: bool, message: str) -> None:
    """Refuse (403) an action on a record the user may see but not change."""
    if not allowed:
        raise PermissionDenied(message)


def get_visible_or_404[M: Model](queryset: QuerySet[M], **lookup: Any) -> M:
    """The record if it is in the user's visible queryset, else 404 (never 403: no leak)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404(f"No such {queryset.model._meta.verbose_name}.") from None


class Requires(BasePermission):
    """The API's one permission class: it asks the view's declared check.

    A view declares ``required`` (one check for every action), or ``required_for``
    (``{"create": check, "update": check, ...}``, by DRF action or HTTP method in lower
    case), and ``required_message``. Reading is scoped by the view's queryset, which comes
    from the app's ``<things>_visible_to``; this class only guards role-reserved actions.
    """

    message = "You may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        check = self.check_for(request, view)
        if check is None or check(request.user):
            return True
        self.message = getattr(view, "required_message", self.message)
        return False

    @staticmethod
    def check_for(request: Request, view: APIView) -> Check | None:
        by_action: Mapping[str, Check] = getattr(view, "required_for", {}) or {}
        action = getattr(view, "action", None)
        if action and action in by_action:
            return by_action[action]
        method = (request.method or "").lower()
        if method in by_action:
            return by_action[method]
        # Read from the class: a plain function set as a class attribute would come back
        # bound to the view instance and be called with the view as its "user".
        return getattr(type(view), "required", None) or getattr(view, "required", None)


class InIds(Lookup):
    """``lhs IN (subquery)``; on PostgreSQL ``lhs = ANY(ARRAY(subquery))``.

    PostgreSQL turns ``IN (subquery)`` into a semi-join, and with a list page's many
    select_related joins (more than join_collapse_limit) it placed that join last: every
    record was joined to its related rows before the few visible ones were kept (a sequential
    scan of 50,000 goals for an employee's 122 at 10,000 people). ARRAY() is computed once,
    before the scan (an InitPlan), so the table is then read by its primary key whatever else
    the query joins or orders by.
    """

    lookup_name = "in_ids"

    def as_sql(self, compiler, connection):  # type: ignore[no-untyped-def]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler, connection):  # type: ignore[no-untyped-def]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def among[M: Model](queryset: QuerySet[M], ids: QuerySet, column: str = "pk") -> QuerySet[M]:  # type: ignore[type-arg]
    """``queryset`` cut to the rows whose ``column`` is among ``ids`` (a values("pk") queryset)."""
    return queryset.filter(InIds(F(column), ids))

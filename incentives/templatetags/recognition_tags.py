"""The notifications count for the navigation: ``{% load recognition_tags %}`` then either
``{% notifications_link %}`` (the link with its unread count) or
``{% unread_notification_count as unread %}`` to draw it yourself."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse

from incentives.models.recognition import Notification
from people import selectors as people

register = template.Library()


def _unread(request: HttpRequest | None) -> int:
    """One COUNT per request, however often the page asks (an indexed lookup: recipient, read_at)."""
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return 0
    if not hasattr(request, "_throughline_unread"):
        employee = people.employee_for_user(request.user)
        request._throughline_unread = (  # type: ignore[attr-defined]
            Notification.objects.filter(recipient=employee, read_at__isnull=True).count() if employee else 0
        )
    return request._throughline_unread  # type: ignore[attr-defined]


@register.simple_tag(takes_context=True)
def unread_notification_count(context: template.Context) -> int:
    return _unread(context.get("request"))


@register.inclusion_tag("incentives/recognition/_notifications_link.html", takes_context=True)
def notifications_link(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    return {
        "unread": _unread(request),
        "current": request is not None and request.path == reverse("incentives:notifications"),
    }

"""Extra panels on a person's profile page, contributed by higher apps.

``people`` sits at the bottom of the app order and must not import the apps above
it, yet their records belong on the profile (titles awarded in ``incentives``, for
one). So a higher app registers a panel function here, usually from its
``AppConfig.ready()``::

    from people.profile import Panel, register_panel

    def titles_panel(viewer, person):
        return Panel(template="incentives/pathways/_profile_panel.html", context={...})

    register_panel(titles_panel)

``person_detail`` asks every registered function, in registration order (that is,
app order), for the person on the page. A function returns a ``Panel`` or None (nothing
to show this viewer). It is only called for a person the viewer may already see, and
it must keep to a fixed number of queries: it runs on every profile view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from people.models import Employee


@dataclass(frozen=True)
class Panel:
    """A template rendered on its own, with its own context (plus ``person`` and ``viewer_user``)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


PanelFunction = Callable[[AbstractBaseUser | AnonymousUser, Employee], Panel | None]

_panels: list[PanelFunction] = []


def register_panel(func: PanelFunction) -> PanelFunction:
    """Add a panel to every profile page. Registering the same function twice (``ready()`` may run
    more than once in tests) keeps one. Returns the function, so it can be used as a decorator."""
    if func not in _panels:
        _panels.append(func)
    return func


def unregister_panel(func: PanelFunction) -> None:
    if func in _panels:
        _panels.remove(func)


def registered_panels() -> list[PanelFunction]:
    return list(_panels)


def render_panels(request: HttpRequest, person: Employee) -> list[SafeString]:
    """Each registered panel for ``person`` as rendered HTML, in registration order."""
    rendered: list[SafeString] = []
    for func in _panels:
        panel = func(request.user, person)
        if panel is None:
            continue
        context = {"person": person, "viewer_user": request.user, **panel.context}
        rendered.append(render_to_string(panel.template, context, request=request))
    return rendered

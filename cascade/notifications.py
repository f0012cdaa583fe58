"""Telling people about a step in goal setting that waits on them or changed their goals.

The cascade sits below the app that keeps the in-app notifications and sends emails
(``incentives``: the bell in the navigation and its emails), and must not import it.
So that app registers a notifier here from its ``AppConfig.ready()``, as higher apps
hand their panels to ``people.profile``::

    from cascade.notifications import register_notifier
    register_notifier(goal_notice)  # writes the in-app rows, emails once the transaction commits

``notify`` is called inside the step's transaction: a notifier writes its rows there
(rolled back with the step) and queues its emails with ``transaction.on_commit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from people.models import Employee


@dataclass(frozen=True)
class GoalNotice:
    recipients: tuple[Employee, ...]
    subject: str  # the email's subject line
    text: str  # one or two sentences, as the notification list and the email show them
    path: str  # the page to act on, e.g. the goal's; the email makes it a full link


Notifier = Callable[[GoalNotice], None]

_notifiers: list[Notifier] = []


def register_notifier(func: Notifier) -> Notifier:
    """Add a channel. Registering the same function twice (``ready()`` may run more than once) keeps one."""
    if func not in _notifiers:
        _notifiers.append(func)
    return func


def notify(notice: GoalNotice) -> None:
    """Hand the notice to every channel; nobody to tell (say, HR has no employee record) is nothing to do."""
    people = tuple(dict.fromkeys(p for p in notice.recipients if p is not None and p.is_active))
    if not people:
        return
    for func in _notifiers:
        func(GoalNotice(recipients=people, subject=notice.subject, text=notice.text, path=notice.path))

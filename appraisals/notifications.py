"""Emails about review cycles: the to-dos a phase brings, and reminders of the overdue ones.

One email per person, listing everything new (or overdue) for them, so that a
manager with eight reports gets one message rather than sixteen. Plain text,
rendered from ``templates/appraisals/email/``. New to-dos are emailed by their
own tasks queued on commit (``queue_new_todos``), so nobody is told about a to-do
that was rolled back and a large launch is not held up by its emails; reminders
are sent by the daily reminder task itself. Messages go through one connection
in batches.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from appraisals.models import CycleState, ToDo

logger = logging.getLogger(__name__)
# How many ids one query loads, and how many messages one connection call sends.
CHUNK = 1000
# About how many to-dos one email task takes (whole people: each is emailed once).
EMAIL_TASK_CHUNK = 1000
# New to-dos are stamped as emailed after each batch this size: a task redelivered after its worker
# was killed sends again at most the batch that was going out.
SEND_BATCH = 100


def site_url() -> str:
    """Where the emails' links point: THROUGHLINE_SITE_URL if set, else the first allowed host."""
    configured = getattr(settings, "THROUGHLINE_SITE_URL", "")
    if configured:
        return configured.rstrip("/")
    host = next((h for h in settings.ALLOWED_HOSTS if h not in {"*", ""} and not h.startswith(".")), "localhost")
    return f"http://{host}"


def _load(todo_ids: Sequence[int], *, unsent: bool = False) -> dict[int, list[ToDo]]:
    """The to-dos by the person who holds them, with what the emails print (few queries per thousand);
    ``unsent``: only those not emailed yet."""
    by_employee: dict[int, list[ToDo]] = defaultdict(list)
    for start in range(0, len(todo_ids), CHUNK):
        chunk = todo_ids[start : start + CHUNK]
        rows = (
            ToDo.objects.filter(pk__in=chunk, done_at__isnull=True, cycle__state=CycleState.ACTIVE)
            .filter(**({"emailed_at__isnull": True} if unsent else {}))
            .select_related("employee__user", "cycle", "participant__employee")
            .order_by("employee_id", "due", "pk")
        )
        for todo in rows:
            by_employee[todo.employee_id].append(todo)
    return by_employee


def _message(template: str, todos: list[ToDo], base: str) -> EmailMessage | None:
    from appraisals.services.todos import todo_title  # the services import this module

    person = todos[0].employee
    address = person.user.email
    if not address:
        return None
    context = {
        "person": person,
        "items": [{"todo": t, "title": todo_title(t)} for t in todos],
        "cycles": sorted({t.cycle.name for t in todos}),
        "todo_url": base + reverse("appraisals:todo_list"),
    }
    subject = " ".join(render_to_string(f"appraisals/email/{template}_subject.txt", context).split())
    body = render_to_string(f"appraisals/email/{template}.txt", context)
    return EmailMessage(subject=subject, body=body, to=[address])


def _send(template: str, todo_ids: Iterable[int], *, once: bool = False) -> int:
    """``once``: skip to-dos already emailed and stamp them batch by batch as they go."""
    by_employee = _load(list(todo_ids), unsent=once)
    base = site_url()
    outgoing = [(m, [t.pk for t in todos]) for todos in by_employee.values() if (m := _message(template, todos, base))]
    connection = get_connection()
    for start in range(0, len(outgoing), SEND_BATCH):
        batch = outgoing[start : start + SEND_BATCH]
        connection.send_messages([message for message, _ in batch])
        if once:
            ToDo.objects.filter(pk__in=[pk for _, ids in batch for pk in ids]).update(emailed_at=timezone.now())
    return len(outgoing)


def send_new_todos(todo_ids: Iterable[int]) -> int:
    """Tell each person what a phase (or a step of someone else's) now asks of them, once: a task
    run again sends only what it had not sent. Returns emails sent."""
    return _send("todos", todo_ids, once=True)


def send_reminders(todo_ids: Iterable[int]) -> int:
    """Chase each person about their overdue to-dos. Returns emails sent."""
    return _send("reminder", todo_ids)


def queue_new_todos(todos: Iterable[ToDo]) -> None:
    """Once the transaction commits, queue ``appraisals.send_todo_emails`` for these new (saved)
    to-dos, whole people at a time, about EMAIL_TASK_CHUNK to-dos a task, so that each person gets
    one email: a launch for 10,000 people is not held up by 10,000 emails, and workers send them
    side by side. A broker that cannot be reached is logged, never undoes the committed work (the
    to-dos are in the app, and reminders follow)."""
    from appraisals.tasks import send_todo_emails  # the tasks import the services, which import this module

    by_person: dict[int, list[int]] = defaultdict(list)
    for todo in todos:
        by_person[todo.employee_id].append(todo.pk)
    chunks: list[list[int]] = [[]]
    for ids in by_person.values():
        if chunks[-1] and len(chunks[-1]) + len(ids) > EMAIL_TASK_CHUNK:
            chunks.append([])
        chunks[-1].extend(ids)
    if not chunks[0]:
        return

    def queue() -> None:
        for chunk in chunks:
            send_todo_emails.delay(chunk)

    transaction.on_commit(queue, robust=True)

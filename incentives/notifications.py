"""Telling people about recognition: an in-app ``Notification`` row and an email. The same
channel carries the cascade's goal-setting notices (``goal_notice``, registered with
cascade.notifications), such as a request to cancel a goal waiting for its approver.

Who hears about a post: the people thanked and their managers (each once; never
the author). The rows are written in the caller's transaction; the emails go out
once it commits (``queue_recognition_emails``), so nobody is emailed about a post
that was rolled back. Plain text, rendered from ``templates/incentives/email/``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from appraisals.notifications import site_url
from cascade.notifications import GoalNotice
from incentives.models.recognition import Notification, Recognition, RecognitionKind
from people.models import Employee

logger = logging.getLogger(__name__)


def audience(post: Recognition) -> tuple[list[Employee], list[Employee]]:
    """(the people thanked, their managers who are not themselves thanked), the author left out."""
    recipients = [e for e in post.recipients.select_related("user", "manager__user") if e.is_active]
    recipient_ids = {e.pk for e in recipients}
    managers: dict[int, Employee] = {}
    for person in recipients:
        manager = person.manager
        if manager is not None and manager.is_active and manager.pk not in recipient_ids:
            managers.setdefault(manager.pk, manager)
    author_id = post.author_id
    return (
        [e for e in recipients if e.pk != author_id],
        [m for m in managers.values() if m.pk != author_id],
    )


def _thanked(post: Recognition) -> str:
    names = [e.full_name for e in post.recipients.all()]
    if post.department is not None and len(names) != 1:
        return post.department.name
    if len(names) > 3:
        return f"{', '.join(names[:3])} and {len(names) - 3} others"
    return ", ".join(names)


def _in_app_text(post: Recognition, *, is_recipient: bool) -> str:
    author = post.author.full_name if post.author else "Throughline"
    if post.kind == RecognitionKind.AWARD:
        text = f"{_thanked(post)} was awarded the title “{post.pathway.name if post.pathway else ''}”."
    elif is_recipient:
        text = f"{author} thanked you: {post.message}"
    else:
        text = f"{author} thanked {_thanked(post)}: {post.message}"
    return text[:300]


def notify(post: Recognition, *, send_email: bool = True) -> int:
    """Write the in-app notifications for a new post and queue its emails. Returns how many people were told."""
    recipients, managers = audience(post)
    rows = [Notification(recipient=e, recognition=post, text=_in_app_text(post, is_recipient=True)) for e in recipients]
    rows += [Notification(recipient=m, recognition=post, text=_in_app_text(post, is_recipient=False)) for m in managers]
    Notification.objects.bulk_create(rows)
    if send_email and rows:
        pairs = [(e.pk, True) for e in recipients] + [(m.pk, False) for m in managers]
        post_id = post.pk

        def queue() -> None:
            from incentives.tasks import send_recognition_emails as task  # the tasks import this module

            task.delay(post_id, [list(pair) for pair in pairs])

        transaction.on_commit(queue, robust=True)
    return len(rows)


def send_recognition_emails(post_id: int, people: Iterable[tuple[int, bool]]) -> int:
    """Email each (employee id, is a recipient) about the post. Returns emails sent."""
    post = (
        Recognition.objects.select_related("author", "department", "goal", "measure", "priority", "pathway")
        .filter(pk=post_id)
        .first()
    )
    if post is None or post.is_hidden:
        return 0
    people = list(people)
    by_id = Employee.objects.select_related("user").in_bulk([pk for pk, _ in people])
    context = {
        "post": post,
        "author": post.author.full_name if post.author else "Throughline",
        "thanked": _thanked(post),
        "feed_url": site_url() + "/",
    }
    messages = []
    for pk, is_recipient in people:
        person = by_id.get(pk)
        if person is None or not person.user.email:
            continue
        ctx = {**context, "person": person, "is_recipient": is_recipient}
        subject = " ".join(render_to_string("incentives/email/recognition_subject.txt", ctx).split())
        body = render_to_string("incentives/email/recognition.txt", ctx)
        messages.append(EmailMessage(subject=subject, body=body, to=[person.user.email]))
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def goal_notice(notice: GoalNotice) -> None:
    """A goal-setting step that concerns these people (cascade.notifications registers this channel):
    an in-app notification each, written in the step's transaction, and an email once it commits."""
    Notification.objects.bulk_create(Notification(recipient=p, text=notice.text[:300]) for p in notice.recipients)
    ids, subject, text, path = [p.pk for p in notice.recipients], notice.subject, notice.text, notice.path

    def queue() -> None:
        from incentives.tasks import send_goal_notice_emails as task  # the tasks import this module

        task.delay(ids, subject, text, path)

    transaction.on_commit(queue, robust=True)


def send_goal_notice_emails(employee_ids: Iterable[int], subject: str, text: str, path: str) -> int:
    """Email each person a goal-setting notice with a link to the page to act on. Returns emails sent."""
    link = site_url() + path
    messages = []
    for person in Employee.objects.select_related("user").filter(pk__in=list(employee_ids), is_active=True):
        if not person.user.email:
            continue
        body = render_to_string("incentives/email/goal_notice.txt", {"person": person, "text": text, "link": link})
        messages.append(EmailMessage(subject=subject, body=body, to=[person.user.email]))
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def mark_all_read(employee: Employee) -> int:
    """Mark the person's unread notifications read (one UPDATE); how many were."""
    return Notification.objects.filter(recipient=employee, read_at__isnull=True).update(read_at=timezone.now())

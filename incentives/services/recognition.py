"""Writing recognition: posting thanks, hiding a post.

Anyone signed in with an employee record may thank one or more colleagues, or a
whole department (its active members are the people thanked), for an
improvement, optionally linked to a goal the author can see or to a measure. The
people thanked and their managers are notified. HR may hide a post, with a
reason, which is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from cascade import selectors as cascade_selectors
from cascade.models import Goal, QualityMeasure
from core.access import deny_unless
from core.log import log_action
from incentives import access, notifications
from incentives.models.recognition import Recognition, RecognitionKind
from people.access import employee_for_user
from people.models import Department, Employee

MAX_MESSAGE = 2000


def _author(user) -> Employee:
    deny_unless(access.can_post_recognition(user), access.POST_MESSAGE)
    return employee_for_user(user)


def post_recognition(
    *,
    user,
    message: str,
    recipients: Sequence[Employee] = (),
    department: Department | None = None,
    goal: Goal | int | None = None,
    measure: QualityMeasure | int | None = None,
    send_email: bool = True,
) -> Recognition:
    """Thank people (``recipients``) or a team (``department``) for an improvement."""
    author = _author(user)
    message = (message or "").strip()
    errors: dict[str, str] = {}
    if not message:
        errors["message"] = "Say what the improvement was and why it mattered."
    elif len(message) > MAX_MESSAGE:
        errors["message"] = f"Keep the message to {MAX_MESSAGE} characters."
    people_thanked = {e.pk: e for e in recipients}
    if department is None and not people_thanked:
        errors["recipients"] = "Thank at least one person, or a department."
    if any(not e.is_active for e in people_thanked.values()):
        errors["recipients"] = "Only active colleagues can be thanked."
    if author.pk in people_thanked and department is None and len(people_thanked) == 1:
        errors["recipients"] = "You cannot thank yourself."
    if goal is not None and measure is not None:
        errors["goal"] = "Link a goal or a measure, not both."
    linked_goal = None
    linked_measure = None
    if goal is not None and "goal" not in errors:
        try:
            linked_goal = cascade_selectors.get_visible_goal(user=user, pk=goal if isinstance(goal, int) else goal.pk)
        except Http404:
            errors["goal"] = "No such goal, or not one you can see."
    if measure is not None and "goal" not in errors:
        try:
            linked_measure = cascade_selectors.get_measure(
                user=user, pk=measure if isinstance(measure, int) else measure.pk
            )
        except Http404:
            errors["measure"] = "No such measure."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        thanked = dict(people_thanked)
        if department is not None:
            for member in Employee.objects.filter(department=department, is_active=True):
                thanked.setdefault(member.pk, member)
        thanked.pop(author.pk, None)
        if not thanked:
            raise ValidationError({"recipients": "There is no one to thank here but yourself."})
        priority = None
        if linked_goal is not None:
            priority = linked_goal.priority
        elif linked_measure is not None:
            priority = linked_measure.priority
        post = Recognition.objects.create(
            kind=RecognitionKind.THANKS,
            author=author,
            department=department,
            goal=linked_goal,
            measure=linked_measure,
            priority=priority,
            message=message,
        )
        post.recipients.set(thanked.values())
        log_action(
            post,
            "recognition.posted",
            user=user,
            data={
                "recipients": sorted(thanked),
                "department": department,
                "goal": linked_goal,
                "measure": linked_measure,
            },
        )
        notifications.notify(post, send_email=send_email)
    return post


def hide_recognition(*, user, post: Recognition, reason: str) -> Recognition:
    """HR hides a post from the feed (the author and HR still see it); the reason is kept."""
    deny_unless(access.can_hide_recognition(user, post), access.HIDE_MESSAGE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the post is hidden; the reason is kept."})
    was_hidden = post.is_hidden
    post.is_hidden = True
    post.hidden_reason = reason
    post.hidden_by = employee_for_user(user)
    post.hidden_at = timezone.now()
    with transaction.atomic():
        post.save(update_fields=["is_hidden", "hidden_reason", "hidden_by", "hidden_at"])
        log_action(
            post, "recognition.hidden", user=user, changes={"is_hidden": (was_hidden, True)}, data={"reason": reason}
        )
    return post


def announce_award(*, candidate, send_email: bool = True) -> Recognition:
    """The feed's system post for an awarded pathway title (no author)."""
    post = Recognition.objects.create(
        kind=RecognitionKind.AWARD,
        author=None,
        pathway=candidate.pathway,
        message=f"{candidate.employee.full_name} was awarded the title “{candidate.pathway.name}”.",
    )
    post.recipients.set([candidate.employee])
    log_action(post, "recognition.award_announced", data={"pathway": candidate.pathway_id})
    notifications.notify(post, send_email=send_email)
    return post

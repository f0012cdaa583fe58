"""Recognition pages: the public feed and one post, "Thank a colleague", HR hiding a post,
and the signed-in person's in-app notifications.

The feed is everyone's: anyone signed in reads it and may thank people or a team. A post
HR has hidden is gone for everyone but HR and its author, who see it marked with the reason
(incentives/access.py decides, for the pages and the API alike). Writing
goes through incentives.services.recognition: a ValidationError answers 400 with the
form's messages beside the fields, PermissionDenied a 403; a post out of sight is 404.
The feed costs a fixed number of queries whatever its length (tests/incentives/
test_recognition_views.py holds it to that).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cascade import selectors as cascade_selectors
from core.access import deny_unless
from core.forms import apply_service_errors
from incentives import access
from incentives import notifications as notifications_service
from incentives.forms.recognition import (
    FeedFilterForm,
    HideForm,
    ThankForm,
    colleagues_matching,
    suggested_colleagues,
)
from incentives.models.recognition import Notification, Recognition, RecognitionKind
from incentives.selectors import recognition as selectors
from incentives.services import recognition as services
from people.access import employee_for_user
from people.models import Department, Employee

FEED_PER_PAGE = 20
NOTIFICATIONS_PER_PAGE = 30
NAMES_SHOWN = 5  # a post to a whole department names the first few and counts the rest
LINK_ERRORS = {"goal": "link", "measure": "link"}  # the service's keys → the form's one "link" field


# ---------------------------------------------------------------- reading posts


def _get_post(request: HttpRequest, pk: int) -> Recognition:
    return selectors.get_recognition(user=request.user, pk=pk)


def _decorate(request: HttpRequest, posts: list[Recognition]) -> list[Recognition]:
    """What each post's card needs beyond the row: which linked goals the viewer may open (one
    query for the whole page; measures are everyone's) and the names to show."""
    goal_ids = {p.goal_id for p in posts if p.goal_id}
    openable: set[int] = set()
    if goal_ids:
        openable = set(
            cascade_selectors.goals_visible_to(user=request.user).filter(pk__in=goal_ids).values_list("pk", flat=True)
        )
    for post in posts:
        recipients = list(post.recipients.all())  # prefetched by the selector, sorted by name
        post.goal_openable = post.goal_id in openable
        post.shown_recipients = recipients[:NAMES_SHOWN] if post.department_id else recipients
        post.more_recipients = len(recipients) - len(post.shown_recipients)
        post.is_award = post.kind == RecognitionKind.AWARD
    return posts


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    filter_form = FeedFilterForm(request.GET, user=request.user)
    filters = filter_form.filters()
    # A hidden post stays in sight of HR and of its author, who is told why (recognitions_visible_to).
    posts = selectors.feed(user=request.user, **filters)
    page = Paginator(posts, FEED_PER_PAGE).get_page(request.GET.get("page"))
    _decorate(request, list(page.object_list))
    return render(
        request,
        "incentives/recognition/feed.html",
        {
            "page": page,
            "posts": page.object_list,
            "filter_form": filter_form,
            "filtered": bool(filters),
            "chosen_person": filter_form.person if "person" in filters else None,
            "query": _query_without_page(request),
            "is_hr": access.can_hide_recognition(request.user),
        },
    )


@login_required
@require_GET
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = _get_post(request, pk)
    _decorate(request, [post])
    post.shown_recipients = list(post.recipients.all())  # every name here, however large the team
    post.more_recipients = 0
    return render(
        request,
        "incentives/recognition/detail.html",
        {"post": post, "is_hr": access.can_hide_recognition(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_hide(request: HttpRequest, pk: int) -> HttpResponse:
    post = _get_post(request, pk)
    deny_unless(access.can_hide_recognition(request.user, post), access.HIDE_MESSAGE)
    form = HideForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.hide_recognition(user=request.user, post=post, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "The post is hidden. Only HR sees it now, with your reason.")
            return redirect("incentives:post_detail", pk=post.pk)
    _decorate(request, [post])
    return render(
        request,
        "incentives/recognition/hide.html",
        {"post": post, "form": form},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------- thanking


def _author(request: HttpRequest) -> Employee:
    deny_unless(access.can_post_recognition(request.user), access.POST_MESSAGE)
    return employee_for_user(request.user)


def _initial(request: HttpRequest, author: Employee) -> dict[str, object]:
    """Prefill from the address: ?to=<person id>, ?department=<id>, ?goal=<id> or ?measure=<id>."""
    initial: dict[str, object] = {}
    to = request.GET.get("to", "")
    if to.isdigit() and int(to) != author.pk:
        initial["recipients"] = [int(to)]
    department = request.GET.get("department", "")
    if department.isdigit() and Department.objects.filter(pk=int(department)).exists():
        initial["department"] = int(department)
    for kind in ("goal", "measure"):
        value = request.GET.get(kind, "")
        if value.isdigit():
            initial["link"] = f"{kind}:{value}"
    return initial


def _thank_page(
    request: HttpRequest,
    form: ThankForm,
    suggestions: list[Employee],
    *,
    find: str = "",
    status: int = 200,
) -> HttpResponse:
    offered = form.offered(suggestions)
    exclude = {form.author.pk, *(person.pk for person, _ in offered)}
    return render(
        request,
        "incentives/recognition/thank.html",
        {
            "form": form,
            "offered": offered,
            "find": find,
            "found": colleagues_matching(find, exclude=exclude) if find else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def thank(request: HttpRequest) -> HttpResponse:
    author = _author(request)
    suggestions = suggested_colleagues(author)
    if request.method == "GET" and request.headers.get("HX-Request") and "find" in request.GET:
        # The colleague search as you type: matching people as ticks (a partial).
        find = request.GET.get("find", "")
        chosen = {int(v) for v in request.GET.getlist("recipients") if v.isdigit()}
        exclude = {author.pk, *chosen, *(person.pk for person in suggestions)}
        return render(
            request,
            "incentives/recognition/_people_found.html",
            {"found": colleagues_matching(find, exclude=exclude), "find": find},
        )
    if request.method != "POST":
        form = ThankForm(user=request.user, author=author, initial=_initial(request, author))
        return _thank_page(request, form, suggestions)
    form = ThankForm(request.POST, user=request.user, author=author)
    if request.POST.get("action") == "find":  # the search without JavaScript: the form comes back as typed
        return _thank_page(request, form, suggestions, find=request.POST.get("find", ""))
    if form.is_valid():
        try:
            post = services.post_recognition(user=request.user, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc, LINK_ERRORS)
        else:
            messages.success(request, _thanks_posted(post))
            return redirect("incentives:feed")
    return _thank_page(request, form, suggestions, find=request.POST.get("find", ""), status=400)


def _thanks_posted(post: Recognition) -> str:
    if post.department_id:
        whom = f"the {post.department.name} team"
    else:
        names = [person.full_name for person in post.recipients.all()]
        whom = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Your thanks to {whom} is in the feed. They and their managers have been told."


# ---------------------------------------------------------------- notifications


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    employee = employee_for_user(request.user)
    rows = (
        Notification.objects.filter(recipient=employee).select_related("recognition")
        if employee is not None
        else Notification.objects.none()
    )
    # Unread first (no read_at), then the most recently read; newest first within each.
    rows = rows.order_by(F("read_at").desc(nulls_first=True), "-created_at", "-pk")
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    is_hr = access.can_hide_recognition(request.user)
    for note in page.object_list:
        post = note.recognition
        # A post HR has hidden takes its words out of the notifications too (HR still reads them).
        note.withdrawn = post is not None and post.is_hidden and not is_hr
        note.openable = post is not None and not note.withdrawn
    unread = rows.filter(read_at__isnull=True).count() if employee is not None else 0
    return render(
        request,
        "incentives/recognition/notifications.html",
        {"page": page, "notes": page.object_list, "unread": unread, "query": ""},
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    employee = employee_for_user(request.user)
    if employee is not None:
        marked = notifications_service.mark_all_read(employee)
        if marked:
            messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked as read.")
    return redirect("incentives:notifications")

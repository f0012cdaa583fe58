"""The access vocabulary: 404 outside scope, 403 for a role-reserved page or endpoint, alike on pages and API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory

from core.access import Requires, deny_unless, get_visible_or_404, requires
from people.models import Employee

pytestmark = pytest.mark.django_db


def is_hr(user) -> bool:
    return getattr(getattr(user, "employee", None), "is_hr_admin", False)


def test_a_reserved_page_answers_403_with_the_rule_message_and_sends_visitors_to_sign_in(cast):
    @requires(is_hr, "Only HR can set up review cycles.")
    def page(request):
        return HttpResponse("set-up")

    request = RequestFactory().get("/cycles/new/")
    request.user = cast.hr.user
    assert page(request).content == b"set-up"
    request.user = cast.employee.user
    with pytest.raises(PermissionDenied, match=r"Only HR can set up review cycles\."):
        page(request)
    request.user = AnonymousUser()
    assert page(request).status_code == 302


def test_a_record_outside_the_visible_queryset_is_404_whatever_the_id(cast):
    visible = Employee.objects.filter(pk=cast.employee.pk)
    assert get_visible_or_404(visible, pk=cast.employee.pk) == cast.employee
    for pk in (cast.stranger.pk, "abc", 2**70):
        with pytest.raises(Http404):
            get_visible_or_404(visible, pk=pk)


def test_an_action_on_a_visible_record_may_still_be_refused():
    deny_unless(True, "fine")
    with pytest.raises(PermissionDenied, match="Only the approver"):
        deny_unless(False, "Only the approver can cancel an approved goal.")


class FakeView:
    def __init__(self, **attrs):
        self.__dict__.update(attrs)


def test_the_api_class_asks_the_check_declared_for_the_action_or_method(cast):
    request = APIRequestFactory().post("/api/v1/cycles/")
    request.user = cast.employee.user
    view = FakeView(action="create", required_for={"create": is_hr}, required_message="Only HR can set up cycles.")
    permission = Requires()
    assert not permission.has_permission(request, view)
    assert permission.message == "Only HR can set up cycles."
    request.user = cast.hr.user
    assert Requires().has_permission(request, view)
    # Nothing declared for listing: reading is scoped by the queryset instead.
    assert Requires().has_permission(request, FakeView(action="list", required_for={"create": is_hr}))
    # One check for every action.
    request.user = cast.employee.user
    assert not Requires().has_permission(request, FakeView(action="list", required=is_hr))


def test_a_plain_function_declared_on_a_view_class_is_asked_with_the_user(cast):
    class CycleSetUp:
        action = "create"
        required = is_hr  # not wrapped in staticmethod

    request = APIRequestFactory().post("/api/v1/cycles/")
    request.user = cast.hr.user
    assert Requires().has_permission(request, CycleSetUp())
    request.user = cast.employee.user
    assert not Requires().has_permission(request, CycleSetUp())


def test_the_403_page_gives_the_rule_under_a_heading_that_claims_nothing_else(cast, client_for):
    """A role-reserved page the reader cannot even see must not tell them "you can see this"."""
    response = client_for(cast.employee).get("/people/sign-in-locks/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not yours to do" in body and "Only HR admins may see and lift sign-in locks." in body
    assert "You can see this" not in body

"""Name each request so the action log can say which one made a change, give every response
the Permissions-Policy header, and refuse a query string with a NUL character."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request

from core import log


class ActionSourceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex[:12]  # type: ignore[attr-defined]
        with log.source(f"{request.method} {request.path[:200]} · {request.request_id}"):  # type: ignore[attr-defined]
            return self.get_response(request)


# Browser features Throughline never uses, switched off for every page and API response (the
# API docs too), so that injected or third-party script could not use them either. `()` is the
# empty allow-list: not this origin, not any frame.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


NUL_MESSAGE = "Null characters are not allowed."


class RefuseNullCharactersMiddleware:
    """A query string with a NUL character answers 400 naming the parameter.

    PostgreSQL cannot hold NUL in text, so a page that searches with a query-string value as given
    (the directory's `q`, the assignment rules' filters) crashed with ValueError (a 500). No
    address needs one; the API's filter serializers already refuse it, in the same words.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("QUERY_STRING", "")
        if "%00" in raw or "\x00" in raw:
            named = [name for name, values in request.GET.lists() if "\x00" in name or any("\x00" in v for v in values)]
            if named:
                if request.path.startswith("/api/"):
                    return JsonResponse({name.replace("\x00", ""): [NUL_MESSAGE] for name in named}, status=400)
                return bad_request(request, SuspiciousOperation(NUL_MESSAGE))
        return self.get_response(request)

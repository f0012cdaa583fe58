"""Name each request so the action log can say which one made a change."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core import log


class ActionSourceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex[:12]  # type: ignore[attr-defined]
        with log.source(f"{request.method} {request.path[:200]} · {request.request_id}"):  # type: ignore[attr-defined]
            return self.get_response(request)

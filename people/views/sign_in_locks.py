"""HR's sign-in locks page: who is locked out of signing in, and Unlock for each."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.access import requires
from people import access, services
from people.selectors.sign_in_locks import ACCOUNT, current_locks

locks_page = requires(access.can_unlock_sign_ins, access.HR_ONLY_SIGN_IN_LOCKS)


@locks_page
def sign_in_locks(request: HttpRequest) -> HttpResponse:
    locks = current_locks()
    return render(
        request,
        "people/sign_in_locks.html",
        {
            "accounts": [lock for lock in locks if lock.kind == ACCOUNT],
            "addresses": [lock for lock in locks if lock.kind != ACCOUNT],
            "account_limit": settings.AXES_FAILURE_LIMIT,
            "address_limit": settings.THROUGHLINE_SIGN_IN_ADDRESS_LIMIT,
            "cool_off_minutes": int(get_cool_off().total_seconds() // 60),
        },
    )


@locks_page
@require_POST
def sign_in_unlock(request: HttpRequest) -> HttpResponse:
    kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
    what = f"the account “{value}”" if kind == ACCOUNT else f"the address {value}"
    try:
        unlocked = services.unlock_sign_in(kind=kind, value=value, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("people:sign_in_locks")
    if unlocked:
        messages.success(request, f"Unlocked {what}: it can sign in again.")
    else:
        messages.info(request, f"{what[0].upper()}{what[1:]} was no longer locked.")
    return redirect("people:sign_in_locks")

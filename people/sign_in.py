"""Sign-in locks: django-axes, set up to throttle by account and by address.

Every sign-in path (the sign-in page, the admin's, the API token endpoint) calls Django's
``authenticate()`` with the request, so axes (``AxesStandaloneBackend``, first in
AUTHENTICATION_BACKENDS) refuses a locked account or address before any password is checked,
and counts each failure. Two limits, within the cool-off (settings ``AXES_FAILURE_LIMIT`` and
``THROUGHLINE_SIGN_IN_ADDRESS_LIMIT``):

* an **account** is locked after ``AXES_FAILURE_LIMIT`` wrong passwords from anywhere (one
  attacker guessing one person's password, from however many addresses);
* an **address** is locked after ``THROUGHLINE_SIGN_IN_ADDRESS_LIMIT`` wrong passwords across
  accounts (one machine trying a common password on many accounts).

A lock lifts by itself once the failures that caused it are older than the cool-off
(``AXES_COOLOFF_TIME``), or sooner when HR unlocks it (people.services.unlock_sign_in).
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_STATUS = 429  # "Too Many Requests", as the API's rate limits answer; pages and API alike
LOCKOUT_TEMPLATE = "registration/locked_out.html"


# ---------------------------------------------------------------- who is asking


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in comes from (settings ``AXES_CLIENT_IP_CALLABLE``).

    Behind ``THROUGHLINE_TRUSTED_PROXIES`` reverse proxies, REMOTE_ADDR is the nearest proxy's,
    and locking it would lock everyone: the client is then the entry that many hops from the
    right of X-Forwarded-For (each proxy appends the address it saw; entries further left are
    whatever the client wrote, so they are never trusted). DRF's throttles read the same
    header the same way (REST_FRAMEWORK ``NUM_PROXIES``).
    """
    proxies = settings.THROUGHLINE_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded and _is_address(forwarded[-min(proxies, len(forwarded))]):
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or None


def _is_address(value: str) -> bool:
    # axes stores the address in an IP address column: anything else would fail to save (a 500).
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


USERNAME_LENGTH = AccessAttempt._meta.get_field("username").max_length


def client_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username a sign-in tries, as axes counts it (settings ``AXES_USERNAME_CALLABLE``):
    axes' own reading (the credentials, else the posted form or JSON), cut to the length of its
    column. Django's sign-in form does not limit the length it passes to authenticate(), and
    a longer name would fail to save its failure (a 500) instead of being counted."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return username[:USERNAME_LENGTH] if isinstance(username, str) else username


# ---------------------------------------------------------------- counting failures


def recent_attempts(now: datetime.datetime | None = None) -> QuerySet[AccessAttempt]:
    """Failed-attempt records still inside the cool-off (older ones no longer count)."""
    cool_off = get_cool_off()
    return AccessAttempt.objects.filter(attempt_time__gte=(now or timezone.now()) - cool_off)


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class SignInLockHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per account and another per address.

    axes compares one number, ``get_failures``, with one limit, ``AXES_FAILURE_LIMIT`` (the
    account limit here). So ``get_failures`` answers on the account limit's scale: the limit
    minus the headroom left before the nearer of the two limits. It reaches the limit exactly
    when the account has had ``AXES_FAILURE_LIMIT`` failures or the address
    ``THROUGHLINE_SIGN_IN_ADDRESS_LIMIT``.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        account_limit = settings.AXES_FAILURE_LIMIT
        address_limit = settings.THROUGHLINE_SIGN_IN_ADDRESS_LIMIT
        by_account, by_address = failure_counts(request, credentials)
        headroom = min(account_limit - by_account, address_limit - by_address)
        return account_limit - headroom

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful sign-in (AXES_RESET_ON_SUCCESS), forget that account's failures
        only. axes would also forget every failure from the address, so an attacker with an
        account of their own could sign in with it between guesses and never reach the
        address limit."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def failure_counts(request: HttpRequest, credentials: dict | None = None) -> tuple[int, int]:
    """(failures of this account, failures from this address) within the cool-off."""
    attempts = recent_attempts(getattr(request, "axes_attempt_time", None))
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    by_account = _failures(attempts.filter(username=username)) if username else 0
    by_address = _failures(attempts.filter(ip_address=address)) if address else 0
    return by_account, by_address


def attempts_left(request: HttpRequest, credentials: dict | None = None) -> int:
    """Wrong passwords left before this sign-in locks: the nearer of the two limits."""
    by_account, by_address = failure_counts(request, credentials)
    return min(settings.AXES_FAILURE_LIMIT - by_account, settings.THROUGHLINE_SIGN_IN_ADDRESS_LIMIT - by_address)


# How close to a lock the sign-in page starts warning: a person who mistypes twice learns that the
# next tries count before a third or fourth locks them out for the cool-off.
WARN_WITHIN = 2


def closing_in_warning(request: HttpRequest, credentials: dict | None = None) -> str:
    """A sentence for the sign-in form after a wrong password, when the lock is near; else ""."""
    left = attempts_left(request, credentials)
    if not 0 < left <= WARN_WITHIN:
        return ""
    minutes = int(get_cool_off().total_seconds() // 60)
    tries = "One more wrong password" if left == 1 else f"{left} more wrong passwords"
    return f"{tries} will lock sign-in for {minutes} minutes."


# ---------------------------------------------------------------- the answer to a locked sign-in


def locked_until(request: HttpRequest, credentials: dict | None = None) -> datetime.datetime:
    """When the lock on this sign-in lifts by itself, at the latest: the cool-off after the
    last failure of whichever lock applies (account or address), the later of the two."""
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    cool_off = get_cool_off()
    attempts = recent_attempts(now)
    username = get_client_username(request, credentials)
    address = getattr(request, "axes_ip_address", None)
    lasts = []
    for attempts_of, limit in (
        (attempts.filter(username=username) if username else None, settings.AXES_FAILURE_LIMIT),
        (attempts.filter(ip_address=address) if address else None, settings.THROUGHLINE_SIGN_IN_ADDRESS_LIMIT),
    ):
        if attempts_of is not None and _failures(attempts_of) >= limit:
            lasts.append(attempts_of.aggregate(last=Max("attempt_time"))["last"])
    return max(lasts) + cool_off if lasts else now + cool_off


def lockout_message(until: datetime.datetime) -> str:
    """One sentence for the page and the API alike: what happened, when to try again, whom to ask."""
    minutes = max(1, -(-int((until - timezone.now()).total_seconds()) // 60))  # rounded up
    at = timezone.localtime(until).strftime("%H:%M")
    return (
        "Sign-in is locked after too many wrong passwords. "
        f"Try again after {at} ({settings.TIME_ZONE}), in about {minutes} minute{'s' if minutes != 1 else ''}, "
        "or ask HR to unlock it sooner."
    )


@dataclass(frozen=True)
class Lockout:
    until: datetime.datetime
    message: str

    @property
    def retry_after(self) -> int:
        """Seconds until the lock lifts (the Retry-After header)."""
        return max(1, int((self.until - timezone.now()).total_seconds()))


def lockout_for(request: HttpRequest, credentials: dict | None = None) -> Lockout:
    until = locked_until(request, credentials)
    return Lockout(until=until, message=lockout_message(until))


def is_locked_out(request: HttpRequest) -> bool:
    """Whether axes refused (or has just locked) this sign-in request."""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What a locked sign-in gets (settings ``AXES_LOCKOUT_CALLABLE``): on the sign-in and
    admin pages, a page in the site's layout; from the API, JSON with a ``detail`` message.
    Both 429, with Retry-After."""
    lockout = lockout_for(request, credentials)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": lockout.message}, status=LOCKED_STATUS)
    else:
        response = render(
            request,
            LOCKOUT_TEMPLATE,
            {
                "until": lockout.until,
                "message": lockout.message,
                "cool_off_minutes": int(get_cool_off().total_seconds() // 60),
            },
            status=LOCKED_STATUS,
        )
    response["Retry-After"] = str(lockout.retry_after)
    return response

"""Reads for HR's sign-in locks page: which accounts and addresses are locked now (people.sign_in
decides the limits; axes keeps the failures)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from axes.helpers import get_cool_off
from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone

from people.models import Employee
from people.sign_in import recent_attempts

ACCOUNT = "account"
ADDRESS = "address"


@dataclass(frozen=True)
class SignInLock:
    kind: str  # ACCOUNT or ADDRESS
    value: str  # the username as typed, or the address
    failures: int  # wrong passwords within the cool-off
    spread: int  # an account's: from how many addresses; an address's: on how many accounts
    last_failure: datetime.datetime
    until: datetime.datetime  # when it opens by itself, at the latest
    person: Employee | None = None  # the account's owner, when the username is someone's


def current_locks(now: datetime.datetime | None = None) -> list[SignInLock]:
    """Every lock in force, accounts first, each kind newest first. A query per kind (and one
    for the accounts' owners), whatever the number of failures."""
    now = now or timezone.now()
    attempts = recent_attempts(now)
    cool_off = get_cool_off()
    accounts = (
        attempts.exclude(username__isnull=True)
        .exclude(username="")
        .values("username")
        .annotate(
            failures=Sum("failures_since_start"), last=Max("attempt_time"), spread=Count("ip_address", distinct=True)
        )
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last", "username")
    )
    addresses = (
        attempts.exclude(ip_address__isnull=True)
        .values("ip_address")
        .annotate(
            failures=Sum("failures_since_start"), last=Max("attempt_time"), spread=Count("username", distinct=True)
        )
        .filter(failures__gte=settings.THROUGHLINE_SIGN_IN_ADDRESS_LIMIT)
        .order_by("-last", "ip_address")
    )
    accounts = list(accounts)
    people = {
        person.user.username: person
        for person in Employee.objects.select_related("user").filter(
            user__username__in=[row["username"] for row in accounts]
        )
    }
    return [
        SignInLock(
            kind=ACCOUNT,
            value=row["username"],
            failures=row["failures"],
            spread=row["spread"],
            last_failure=row["last"],
            until=row["last"] + cool_off,
            person=people.get(row["username"]),
        )
        for row in accounts
    ] + [
        SignInLock(
            kind=ADDRESS,
            value=row["ip_address"],
            failures=row["failures"],
            spread=row["spread"],
            last_failure=row["last"],
            until=row["last"] + cool_off,
        )
        for row in addresses
    ]

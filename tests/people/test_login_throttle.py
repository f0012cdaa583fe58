"""Brute force (issue 13, point 3): wrong passwords lock the account and the address on every
sign-in path (the sign-in page, the admin's, the API token endpoint); a locked sign-in is
refused even with the right password, with a message that says when to try again and to ask
HR; the lock lifts by itself after the cool-off or when HR unlocks it (logged); the API has
rate limits of its own."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import ActionLogEntry
from people import services
from people.selectors.sign_in_locks import ACCOUNT
from people.sign_in import client_address

pytestmark = pytest.mark.django_db

PASSWORD = "throughline-test"  # every test user's (tests/factories.py)
ACCOUNT_LIMIT = settings.AXES_FAILURE_LIMIT
ADDRESS_LIMIT = settings.THROUGHLINE_SIGN_IN_ADDRESS_LIMIT
HERE, ELSEWHERE = "10.0.0.1", "10.0.0.2"


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    """The API's rate-limit counts live in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@dataclass(frozen=True)
class SignInPath:
    name: str
    url: str
    api: bool
    username: str  # whose right password works here (the admin's takes staff only)

    def attempt(self, username: str, password: str, address: str = HERE):
        client = APIClient() if self.api else Client()
        return client.post(self.url, {"username": username, "password": password}, REMOTE_ADDR=address)

    def signed_in(self, response) -> bool:
        return response.status_code == (200 if self.api else 302)

    def refused_as_usual(self, response) -> bool:
        """A wrong password before any lock: the form again (200) or the API's 400."""
        return response.status_code == (400 if self.api else 200)

    def message(self, response) -> str:
        return response.json()["detail"] if self.api else response.content.decode()


PATHS = [
    SignInPath("page", "/accounts/login/", api=False, username="employee"),
    SignInPath("admin", "/admin/login/", api=False, username="hradmin"),
    SignInPath("api", "/api/v1/auth/token/", api=True, username="employee"),
]


@pytest.fixture(params=PATHS, ids=[path.name for path in PATHS])
def path(request, cast) -> SignInPath:
    return request.param


def assert_locked(path: SignInPath, response) -> None:
    """429, and a message saying what happened, when to try again and that HR can help."""
    assert response.status_code == 429, response.status_code
    message = path.message(response)
    assert "Sign-in is locked after too many wrong passwords" in message
    assert re.search(r"Try again after \d\d:\d\d", message)
    assert "ask HR to unlock it" in message
    assert 0 < int(response["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    if path.api:
        assert response["Content-Type"] == "application/json"
    else:
        # A page in the site's own layout, not axes' bare line of text.
        assert "<title>Sign-in locked · Throughline</title>" in message
        assert 'class="site-header"' in message


def lock_account(path: SignInPath, username: str, address: str = HERE) -> list:
    return [path.attempt(username, "wrong-password", address) for _ in range(ACCOUNT_LIMIT)]


# ---------------------------------------------------------------- locking an account


def test_wrong_passwords_lock_the_account_then_even_the_right_one_is_refused(path):
    answers = lock_account(path, path.username)
    # Answered as usual until the limit; the wrong password that reaches it gets the lock message.
    assert all(path.refused_as_usual(answer) for answer in answers[:-1])
    assert_locked(path, answers[-1])

    assert_locked(path, path.attempt(path.username, PASSWORD))


def test_the_sign_in_page_warns_before_the_wrong_passwords_that_lock_it(cast):
    page = PATHS[0]
    texts = [page.attempt("employee", "wrong-password").content.decode() for _ in range(ACCOUNT_LIMIT - 1)]
    cool_off = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # Silent while the lock is far; then the count of tries left, down to the last one.
    assert all("will lock sign-in" not in text for text in texts[: ACCOUNT_LIMIT - 3])
    assert f"2 more wrong passwords will lock sign-in for {cool_off} minutes." in texts[ACCOUNT_LIMIT - 3]
    assert f"One more wrong password will lock sign-in for {cool_off} minutes." in texts[ACCOUNT_LIMIT - 2]
    assert "Please enter a correct username and password" in texts[-1]


def test_an_account_lock_holds_from_every_address_but_locks_no_one_else(path, cast):
    lock_account(path, path.username, HERE)
    assert_locked(path, path.attempt(path.username, PASSWORD, ELSEWHERE))
    # Others at the same address (below its limit) still sign in.
    other = "chief" if path.name != "admin" else _second_staff(cast)
    assert path.signed_in(path.attempt(other, PASSWORD, HERE))


def _second_staff(cast) -> str:
    cast.chief.user.is_staff = True
    cast.chief.user.save(update_fields=["is_staff"])
    return "chief"


def test_a_username_that_is_no_ones_locks_the_same_way(path):
    """The same answers whether the account exists or not: the lock tells a guesser nothing."""
    answers = lock_account(path, "no-such-person")
    assert all(path.refused_as_usual(answer) for answer in answers[:-1])
    assert_locked(path, answers[-1])


def test_an_overlong_username_is_counted_like_any_other(path):
    """Longer than axes' column (Django's sign-in form passes any length on): counted, not a 500."""
    answers = lock_account(path, "u" * 5000)
    assert all(path.refused_as_usual(answer) for answer in answers[:-1])
    assert_locked(path, answers[-1])


def test_the_twenty_five_wrong_passwords_of_the_report_are_stopped_at_the_limit(path):
    """Issue 13: 25 wrong passwords in 14 s were all answered as usual, then the right one worked."""
    answers = [path.attempt(path.username, f"guess-{n}") for n in range(25)]
    refused_as_usual = sum(path.refused_as_usual(answer) for answer in answers)
    assert refused_as_usual == ACCOUNT_LIMIT - 1
    assert all(answer.status_code == 429 for answer in answers[ACCOUNT_LIMIT - 1 :])
    assert_locked(path, path.attempt(path.username, PASSWORD))


def test_a_successful_sign_in_forgets_that_accounts_earlier_mistakes(path):
    for _ in range(ACCOUNT_LIMIT - 1):
        assert path.refused_as_usual(path.attempt(path.username, "typo"))
    assert path.signed_in(path.attempt(path.username, PASSWORD))
    # A fresh allowance: as many mistakes again before the lock.
    for _ in range(ACCOUNT_LIMIT - 1):
        assert path.refused_as_usual(path.attempt(path.username, "typo"))
    assert path.signed_in(path.attempt(path.username, PASSWORD))


# ---------------------------------------------------------------- locking an address


def spray(path: SignInPath, address: str = HERE) -> None:
    """One machine trying wrong passwords on many accounts, each below the account limit."""
    per_account = ACCOUNT_LIMIT - 1
    for n in range(ADDRESS_LIMIT):
        path.attempt(f"target-{n // per_account}", "Password1", address)


def test_wrong_passwords_across_accounts_lock_the_address(path):
    spray(path, HERE)
    # Another account, from the same address, with its right password: refused.
    assert_locked(path, path.attempt(path.username, PASSWORD, HERE))
    # The same account from elsewhere signs in: the account itself is not locked.
    assert path.signed_in(path.attempt(path.username, PASSWORD, ELSEWHERE))


def test_signing_in_with_an_account_of_ones_own_does_not_reset_the_address_count(cast):
    """An attacker with an account must not clear the address's failures by signing in between guesses."""
    page = PATHS[0]
    per_account = ACCOUNT_LIMIT - 1
    for n in range(ADDRESS_LIMIT - 1):
        page.attempt(f"target-{n // per_account}", "Password1")
        if n % per_account == 0:
            assert page.signed_in(page.attempt("stranger", PASSWORD))
    assert_locked(page, page.attempt("target-x", "Password1"))


# ---------------------------------------------------------------- the lock lifts


def test_a_lock_lifts_by_itself_after_the_cool_off(path):
    lock_account(path, path.username)
    assert_locked(path, path.attempt(path.username, PASSWORD))
    # The failures were made under a 15-minute cool-off; under a one-second one they have expired.
    with override_settings(AXES_COOLOFF_TIME=datetime.timedelta(seconds=1)):
        time.sleep(1.2)
        assert path.signed_in(path.attempt(path.username, PASSWORD))


def test_hr_sees_the_locked_account_and_unlocks_it_and_the_unlock_is_logged(path, cast, client_for):
    hr = client_for(cast.hr)  # signed in first: on the admin path, HR's own account is the one locked
    lock_account(path, path.username)

    page = hr.get(reverse("people:sign_in_locks")).content.decode()
    assert f"<td>{path.username}</td>" in page
    person = cast.employee if path.username == "employee" else cast.hr
    assert person.full_name in page
    assert f"<td>{ACCOUNT_LIMIT}</td>" in page  # the wrong passwords

    response = hr.post(reverse("people:sign_in_unlock"), {"kind": ACCOUNT, "value": path.username}, follow=True)
    assert f"Unlocked the account “{path.username}”" in response.content.decode()
    assert "No account is locked." in response.content.decode()
    assert path.signed_in(path.attempt(path.username, PASSWORD))

    entry = ActionLogEntry.objects.get(action="sign_in.unlocked")
    assert entry.actor == cast.hr.user
    assert entry.object_id == person.pk and entry.content_type.model == "employee"
    assert entry.data["account"] == path.username and entry.data["failures"] == ACCOUNT_LIMIT


def test_hr_unlocks_an_address(cast, client_for):
    page = PATHS[0]
    spray(page, HERE)
    hr = client_for(cast.hr)
    assert f"<td>{HERE}</td>" in hr.get(reverse("people:sign_in_locks")).content.decode()

    response = hr.post(reverse("people:sign_in_unlock"), {"kind": "address", "value": HERE}, follow=True)
    assert f"Unlocked the address {HERE}" in response.content.decode()
    assert page.signed_in(page.attempt("employee", PASSWORD, HERE))
    entry = ActionLogEntry.objects.get(action="sign_in.unlocked")
    assert entry.data["address"] == HERE and entry.data["failures"] == ADDRESS_LIMIT
    # HR reads it in the action log with the rest.
    log = hr.get(reverse("history:list"), {"action": "sign_in.unlocked"}).content.decode()
    assert f"address: {HERE}" in log and f"failures: {ADDRESS_LIMIT}" in log


def test_unlocking_what_has_already_lifted_says_so_and_logs_nothing(cast, client_for):
    response = client_for(cast.hr).post(
        reverse("people:sign_in_unlock"), {"kind": ACCOUNT, "value": "employee"}, follow=True
    )
    assert "The account “employee” was no longer locked." in response.content.decode()
    assert not ActionLogEntry.objects.filter(action="sign_in.unlocked").exists()


@pytest.mark.parametrize("role", ["employee", "manager", "chief", "stranger"])
def test_only_hr_sees_or_lifts_sign_in_locks(cast, client_for, role):
    page = PATHS[0]
    someone = client_for(getattr(cast, role))  # signed in first: a sign-in clears its own account's failures
    lock_account(page, "employee")
    assert someone.get(reverse("people:sign_in_locks")).status_code == 403
    assert someone.post(reverse("people:sign_in_unlock"), {"kind": ACCOUNT, "value": "employee"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.unlock_sign_in(kind=ACCOUNT, value="employee", user=getattr(cast, role).user)
    assert_locked(page, page.attempt("employee", PASSWORD))
    assert not ActionLogEntry.objects.filter(action="sign_in.unlocked").exists()
    # Nor does the navigation offer the page.
    assert reverse("people:sign_in_locks") not in someone.get("/").content.decode()


def test_hr_finds_the_page_in_the_navigation(cast, client_for):
    assert reverse("people:sign_in_locks") in client_for(cast.hr).get("/").content.decode()


# ---------------------------------------------------------------- the API's rate limits


def rates(**changed: str):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changed},
        }
    )


def test_the_token_endpoint_answers_429_json_past_its_rate(cast):
    api = PATHS[2]
    with rates(**{"sign-in": "3/min"}):
        answers = [api.attempt("employee", PASSWORD) for _ in range(4)]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        assert answers[-1]["Content-Type"] == "application/json"
        assert "throttled" in answers[-1].json()["detail"]
        assert 0 < int(answers[-1]["Retry-After"]) <= 60
        # The rate is per address: another one still gets its token.
        assert api.signed_in(api.attempt("employee", PASSWORD, ELSEWHERE))


def test_signed_in_api_users_have_a_rate_each(cast, api_client_for):
    with rates(user="5/min"):
        employee = api_client_for(cast.employee)
        assert [employee.get("/api/v1/employees/").status_code for _ in range(6)] == [200] * 5 + [429]
        assert "throttled" in employee.get("/api/v1/employees/").json()["detail"]
        assert api_client_for(cast.manager).get("/api/v1/employees/").status_code == 200


def test_an_unreachable_cache_lets_api_calls_through_and_sign_in_locks_still_hold(cast, api_client_for):
    """The rates live in the cache; with Redis down an API call is served (and the failure
    logged), not answered 500. The sign-in locks are in the database and keep working."""
    with (
        rates(user="5/min"),
        override_settings(
            CACHES={
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": "redis://127.0.0.1:1/0",
                }
            }
        ),
    ):
        employee = api_client_for(cast.employee)
        assert [employee.get("/api/v1/employees/").status_code for _ in range(6)] == [200] * 6
        api = PATHS[2]
        answers = [api.attempt("employee", "wrong-password") for _ in range(6)]
        assert answers[-1].status_code == 429


# ---------------------------------------------------------------- the client's address


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy: a forwarded header is the client's own invention
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote 6.6.6.6; the proxy appended the real one
        (2, "6.6.6.6, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (1, "", "192.0.2.1"),
        (1, "not-an-address", "192.0.2.1"),  # a misconfigured proxy: never a value axes cannot store
    ],
)
def test_the_address_counted_is_the_one_the_trusted_proxies_saw(proxies, forwarded, expected):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(THROUGHLINE_TRUSTED_PROXIES=proxies):
        assert client_address(request) == expected


# ---------------------------------------------------------------- the settings


def start(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", **env})
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("THROUGHLINE_API_SIGN_IN_RATE", "10/month"), ("THROUGHLINE_SIGN_IN_ACCOUNT_LIMIT", "0")],
)
def test_a_malformed_limit_stops_start_up_and_names_itself(name, value):
    """DRF would read "10/month" as ten a minute; a limit of 0 would lock everyone."""
    result = start(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]

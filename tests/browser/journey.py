"""Steps every browser journey shares (a helper module, not a test module)."""

from __future__ import annotations

from people.demo import DEMO_PASSWORD
from people.management.commands.seed_demo import Command as SeedDemo


def seed_demo() -> None:
    """The demo hospital, as `make run` loads it."""
    SeedDemo().handle(employees=None, verbosity=0)


def sign_in(page, username: str, password: str = DEMO_PASSWORD, *, start: str = "/accounts/login/") -> None:
    """Sign in through the form, as a person would (after signing out whoever was signed in)."""
    page.context.clear_cookies()
    page.goto(start)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

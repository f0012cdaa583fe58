"""manage.py seed_demo: the demo hospital, or with --employees N a synthetic organisation for benchmarks.

Each app that ships demo data registers its ``seed_hospital()`` and, if it
has one, ``seed_synthetic(size)`` from its AppConfig.ready() with
``people.demo.register_demo``. The command calls them in INSTALLED_APPS
order, so the people exist before the goals hung on them, and this lowest app
never imports a higher one. Each app's seeding checks its own marker: running
the command again is safe and quick, and an app added later fills in its part
of a demo loaded before it existed. To refuse, an app raises
``people.demo.SeedConflict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from people import demo


class Seeded(Protocol):
    """What an app's seeding returns; ``logins`` and ``top_username`` are optional extras."""

    created: bool
    message: str


def seeders(function: str) -> list[Callable[..., Seeded]]:
    """The registered ``seed_hospital`` or ``seed_synthetic`` callables, in INSTALLED_APPS order."""
    found = (getattr(seeder, function) for seeder in demo.registered_seeders())
    return [seed for seed in found if seed is not None]


class Command(BaseCommand):
    help = (
        "Load the demo hospital (about 60 people, four logins, the quality priorities and everyone's "
        "goals), or with --employees N a synthetic organisation of N people for benchmarks. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--employees",
            type=int,
            metavar="N",
            help="Build a synthetic organisation of N people instead of the demo hospital.",
        )

    def handle(self, *args: Any, employees: int | None = None, **options: Any) -> None:
        if employees is not None and employees < 1:
            raise CommandError("--employees must be at least 1.")
        calls = seeders("seed_hospital") if employees is None else seeders("seed_synthetic")
        arguments = () if employees is None else (employees,)
        try:
            # All apps or none: a failure half-way leaves nothing behind to trip the markers.
            with transaction.atomic():
                results = [seed(*arguments) for seed in calls]
        except demo.SeedConflict as exc:
            raise CommandError(str(exc)) from None
        for result in results:
            self.stdout.write(self.style.SUCCESS(result.message) if result.created else result.message)
        top = next((r.top_username for r in results if getattr(r, "top_username", "")), "")
        if top:
            self.stdout.write(f"Top manager: {top}")
        logins = next((r.logins for r in results if getattr(r, "logins", None)), [])
        if logins:
            self._write_logins(logins)

    def _write_logins(self, logins: list[demo.Login]) -> None:
        self.stdout.write(f"Demo logins (password for each: {demo.DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.role:<14} {demo.DEMO_PASSWORD}")

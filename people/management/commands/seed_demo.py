"""manage.py seed_demo: the demo hospital, or with --employees N a synthetic organisation for benchmarks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from people import demo


class Command(BaseCommand):
    help = (
        "Load the demo hospital (about 60 people and four logins), or with --employees N "
        "a synthetic organisation of N people for benchmarks. Safe to run again."
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
        try:
            result = demo.seed_hospital() if employees is None else demo.seed_synthetic(employees)
        except demo.SeedConflict as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(result.message) if result.created else result.message)
        if result.top_username:
            self.stdout.write(f"Top manager: {result.top_username}")
        if result.logins:
            self._write_logins(result.logins)

    def _write_logins(self, logins: list[demo.Login]) -> None:
        self.stdout.write(f"Demo logins (password for each: {demo.DEMO_PASSWORD}):")
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.role:<14} {demo.DEMO_PASSWORD}")

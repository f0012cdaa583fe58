"""manage.py rebuild_cycle_tallies: recount every review cycle's summary rows from its records.

The services keep the rows current; this is for records changed behind their back (a data
fix in the shell, an import) and for a person who moved department (their count stays with
the department of the last recount until then). Safe to run at any time: each cycle is
recounted under its rows' locks, as the services do.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from appraisals.models import ReviewCycle
from appraisals.services import tallies


class Command(BaseCommand):
    help = "Recount the review cycles' summary rows (the dashboard's counts) from their records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cycle", type=int, action="append", help="only this cycle's id (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        cycles = ReviewCycle.objects.order_by("pk")
        if options["cycle"]:
            cycles = cycles.filter(pk__in=options["cycle"])
        count = 0
        for pk in cycles.values_list("pk", flat=True):
            tallies.rebuild(pk)
            count += 1
        self.stdout.write(f"Recounted {count} cycle{'s' if count != 1 else ''}.")

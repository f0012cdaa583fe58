"""Measure observations from a file: one dated value a row, checked as a single entry would be."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from cascade import access, services
from cascade.imports.rows import ImportHandler, Problem, Row, cell_date, cell_number, cell_text, report_progress
from cascade.models import CascadeImport, Goal, ProgressMode, QualityMeasure
from core.formatting import day

COLUMNS = ("date", "value", "numerator", "denominator")


def authorize(user, *, measure: QualityMeasure | None, period=None) -> None:
    if measure is None:
        raise ValidationError({"measure": "Choose the measure these values belong to."})
    if not access.can_record_observations(user, measure):
        raise PermissionDenied("You cannot record data for this measure.")


def check(record: CascadeImport, rows: list[Row]) -> list[Problem]:
    """Bad dates, non-numbers, and a date given twice in the file or already recorded."""
    measure = record.measure
    recorded = set(measure.observations.values_list("date", flat=True))
    first_row_of: dict[datetime.date, int] = {}
    problems: list[Problem] = []
    for index, row in enumerate(rows, start=1):
        found: list[Problem] = []
        raw_date = row.values["date"]
        date = None
        if not cell_text(raw_date):
            found.append(Problem(row.number, "date", "A date is required (YYYY-MM-DD)."))
        else:
            try:
                date = cell_date(raw_date)
            except ValueError:
                found.append(
                    Problem(row.number, "date", f"{cell_text(raw_date)!r} is not a date; write it as YYYY-MM-DD.")
                )
        numbers: dict[str, Decimal | None] = {}
        for name in ("value", "numerator", "denominator"):
            try:
                numbers[name] = cell_number(row.values[name], name, required=name == "value")
            except ValidationError as exc:
                found.extend(Problem(row.number, name, m) for m in exc.messages)
        if date is not None:
            if date in first_row_of:
                found.append(Problem(row.number, "date", f"{day(date)} is also on row {first_row_of[date]}."))
            elif date in recorded:
                found.append(Problem(row.number, "date", f"{measure} already has a value for {day(date)}."))
            else:
                first_row_of[date] = row.number
        if not found:
            # The remaining rules (digits, a zero denominator) exactly as a single entry would meet them.
            try:
                services._new_observation(
                    measure, date, numbers["value"], numbers["numerator"], numbers["denominator"], record.created_by
                )
            except ValidationError as exc:
                found.extend(Problem(row.number, name, m) for name, ms in exc.message_dict.items() for m in ms)
        if not found:
            row.parsed = {"date": date, **numbers}
        problems.extend(found)
        report_progress(record, index)
    return problems


def apply(record: CascadeImport, rows: list[Row]) -> dict:
    measure = record.measure
    added = services.observations_add_many(user=record.created_by, measure=measure, rows=[r.parsed for r in rows])
    dates = [r.parsed["date"] for r in rows]
    return {
        "observations_added": added,
        "first_date": min(dates).isoformat(),
        "last_date": max(dates).isoformat(),
        "goals_recalculated": Goal.objects.filter(measure=measure, progress_mode=ProgressMode.MEASURE).count(),
    }


HANDLER = ImportHandler(
    columns=COLUMNS,
    required=("date", "value"),
    aliases={"observation date": "date", "period": "date", "result": "value"},
    check=check,
    apply=apply,
    authorize=authorize,
)

"""Numbers and dates as people write them."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

__all__ = ["day", "plain"]


def plain(value: Decimal | int | float | str | None) -> str:
    """A stored number as a person writes it: 3.00 → "3", 2.50 → "2.5", 100 → "100" (not "1E+2"),
    4.0500 → "4.05"; None or "" → ""; text that is not a number comes back as it is."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    return format(number.normalize(), "f")


def day(value: datetime.date) -> str:
    """A date as every page writes it ("j M Y": 1 Jun 2025), for messages built in Python."""
    return f"{value.day} {value:%b %Y}"

"""What people type, read the same way on every form, import and API call.

- The decimal mark is a point. A comma is read only as a thousands separator in
  well-formed groups of three ("1,234" and "1,234.5"); anything else with a comma
  ("12,5", "1,5", "1234,56") is refused with a message rather than read as 125, or
  guessed as 12.5: the same keystrokes mean different numbers in different countries.
- A number must fit the column that stores it (``max_digits``, ``decimal_places``).
  It is checked before saving, so that nothing is stored that a page or an export
  could not show afterwards (a value beyond the column made pages fail on reading it).
- Text longer than its column is refused with its length, never cut short: a title
  that loses its end silently is a different title.

Errors are ValidationErrors without a field: the caller names the field or the row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from core.formatting import plain

__all__ = [
    "check_fits",
    "check_length",
    "clean_decimal",
    "id_list",
    "id_or_none",
    "largest",
    "limits",
    "parse_decimal",
    "refuse_rather_than_cut",
]

# The range of a 64-bit primary key: a larger number would overflow the database's integer
# (OverflowError on SQLite) instead of simply matching nothing.
ID_MAX = 2**63 - 1

THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_decimal(value: object) -> Decimal:
    """A finite Decimal from text, an int, a float or a Decimal; ValidationError otherwise."""
    if isinstance(value, bool):
        raise ValidationError(f"{value!r} is not a number.", code="invalid")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # 0.1 stays 0.1, not 0.1000000000000000055…
    else:
        text = str(value).strip()
        if "," in text:
            if not THOUSANDS.match(text):
                raise ValidationError(
                    f"{text!r} has a comma: use a point for decimals (12.5), "
                    "and commas only between thousands (1,234.5).",
                    code="decimal_comma",
                )
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"{text!r} is not a number.", code="invalid") from None
    if not number.is_finite():
        raise ValidationError(f"{value!r} is not a number.", code="invalid")
    return number


def check_fits(number: Decimal, *, max_digits: int, decimal_places: int) -> None:
    """Refuse a number that its column (``max_digits``, ``decimal_places``) cannot hold.

    Trailing zeros do not count ("12.50" fits two decimal places, "1E+3" is 1000).
    """
    if number.is_zero():
        return
    _sign, digits, exponent = number.normalize().as_tuple()
    decimals = max(0, -int(exponent))
    whole = max(0, len(digits) + int(exponent))
    if decimals > decimal_places:
        places = "no decimals" if decimal_places == 0 else f"at most {decimal_places} decimal places"
        raise ValidationError(f"{plain(number)} has too many decimals: give {places}.", code="max_decimal_places")
    if whole > max_digits - decimal_places:
        most = largest(max_digits=max_digits, decimal_places=decimal_places)
        raise ValidationError(
            f"{plain(number)} is too large: the largest accepted is {most:,}.", code="max_whole_digits"
        )


def largest(*, max_digits: int, decimal_places: int) -> Decimal:
    """The largest number a column holds: 9,999,999,999.99 for 12 digits with 2 decimals."""
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(1).scaleb(-decimal_places)


def limits(model: type[models.Model], field: str) -> dict[str, int]:
    """``max_digits`` and ``decimal_places`` of a model's DecimalField, for ``check_fits``."""
    column = model._meta.get_field(field)
    return {"max_digits": column.max_digits, "decimal_places": column.decimal_places}


def clean_decimal(value: object, *, model: type[models.Model], field: str) -> Decimal:
    """``value`` read as a number and checked against ``model.field``'s digits."""
    number = parse_decimal(value)
    check_fits(number, **limits(model, field))
    return number


def check_length(text: str, *, model: type[models.Model], field: str) -> None:
    """Refuse text longer than ``model.field``'s ``max_length``, saying by how much."""
    limit = model._meta.get_field(field).max_length
    if limit is not None and len(text) > limit:
        raise ValidationError(
            f"Keep it to {limit} characters; this has {len(text)}.",
            code="max_length",
        )


def refuse_rather_than_cut(form: forms.Form) -> None:
    """Drop the ``maxlength`` attribute from a form's text boxes.

    A browser cuts pasted text to ``maxlength`` without a word, so the title saved is
    not the one typed. The field's ``max_length`` still holds on the server, whose
    message beside the field says how long the text is and how long it may be.
    """
    for field in form.fields.values():
        field.widget.attrs.pop("maxlength", None)


def id_or_none(value: object) -> int | None:
    """A posted record id (or version number) as an int, or None for anything that is not a whole
    number within a primary key's range, since it names no record."""
    text = str(value).strip()
    if text.isascii() and text.isdigit() and 0 < int(text) <= ID_MAX:
        return int(text)
    return None


def id_list(values: Iterable[object]) -> list[int]:
    """The record ids among ticked boxes or hidden inputs (a form's ``getlist``), as id_or_none
    reads each; the rest are dropped."""
    return [i for i in map(id_or_none, values) if i is not None]

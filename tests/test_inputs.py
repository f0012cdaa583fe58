"""core.inputs: how typed numbers and text are read, the same on every form, import and API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.inputs import check_fits, check_length, id_list, id_or_none, largest, parse_decimal


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("12.5", Decimal("12.5")),
        (" 80 ", Decimal("80")),
        ("1,234", Decimal("1234")),
        ("1,234.5", Decimal("1234.5")),
        ("-12,345,678.25", Decimal("-12345678.25")),
        ("1e3", Decimal("1000")),
        (12, Decimal("12")),
        (0.1, Decimal("0.1")),  # a spreadsheet's float, not 0.1000000000000000055…
        (Decimal("7.50"), Decimal("7.5")),
    ],
)
def test_it_reads_a_point_for_decimals_and_commas_between_thousands(typed, number):
    assert parse_decimal(typed) == number


@pytest.mark.parametrize("typed", ["12,5", "1,5", "1234,56", "1,2345", "12,50", ",5", "1,,234"])
def test_it_refuses_a_decimal_comma_rather_than_misreading_it(typed):
    with pytest.raises(ValidationError) as refused:
        parse_decimal(typed)
    assert refused.value.code == "decimal_comma"
    assert "use a point for decimals (12.5)" in refused.value.messages[0]


@pytest.mark.parametrize("typed", ["", "twelve", "NaN", "Infinity", "1.2.3", True])
def test_it_refuses_what_is_not_a_number(typed):
    with pytest.raises(ValidationError) as refused:
        parse_decimal(typed)
    assert "is not a number" in refused.value.messages[0]


@pytest.mark.parametrize("number", ["9999999999.99", "0", "-9999999999.99", "12.50", "1E+3", "0.01", "1234567890.10"])
def test_it_accepts_what_a_12_2_column_holds(number):
    check_fits(Decimal(number), max_digits=12, decimal_places=2)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("10000000000", "10000000000 is too large: the largest accepted is 9,999,999,999.99."),
        ("1E+11", "is too large"),
        ("-10000000000", "is too large"),
        ("12.345", "12.345 has too many decimals: give at most 2 decimal places."),
    ],
)
def test_it_refuses_what_a_12_2_column_cannot_hold(number, message):
    with pytest.raises(ValidationError) as refused:
        check_fits(Decimal(number), max_digits=12, decimal_places=2)
    assert message in refused.value.messages[0]


def test_the_largest_number_of_a_column():
    assert largest(max_digits=12, decimal_places=2) == Decimal("9999999999.99")
    assert largest(max_digits=6, decimal_places=0) == Decimal("999999")


def test_text_over_its_column_is_refused_saying_by_how_much():
    from cascade.models import Goal

    check_length("A" * 200, model=Goal, field="title")
    with pytest.raises(ValidationError) as refused:
        check_length("A" * 201, model=Goal, field="title")
    assert refused.value.messages == ["Keep it to 200 characters; this has 201."]


@pytest.mark.parametrize(
    ("posted", "read"),
    [
        ("7", 7),
        (" 12 ", 12),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("0", None),
        ("-3", None),
        ("²", None),
        ("٣", None),
        ("1e3", None),
        ("", None),
        (None, None),
    ],
)
def test_a_posted_id_is_a_whole_number_a_primary_key_can_hold(posted, read):
    assert id_or_none(posted) == read


def test_an_id_list_keeps_only_the_ids():
    assert id_list(["3", "x", str(10**30), "5"]) == [3, 5]

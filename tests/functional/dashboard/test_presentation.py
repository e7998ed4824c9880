"""How the panels write amounts and numbers."""

from decimal import Decimal as D

import pytest

from dashboard.presentation import DASH, money, plain_decimal


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (D("30.0000"), 2, "30.00"),
        (D("0.1234"), 2, "0.1234"),
        (D("12.5000"), 2, "12.50"),
        (D("1.0000"), 0, "1"),
        (D("1.5000"), 0, "1.5"),
        (D("100"), 0, "100"),
    ],
)
def test_plain_decimal(value, places, shown):
    assert plain_decimal(value, min_places=places) == shown


def test_money():
    assert money(D("-1234.5"), "USD") == "-1,234.50 USD"
    assert money(D("0"), "JPY") == "0 JPY"
    assert money(None, "USD") == DASH

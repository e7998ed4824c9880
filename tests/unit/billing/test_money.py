from decimal import Decimal as D

import pytest

from billing.money import CurrencyMismatch, Money, line_total, round_money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("2.675"), "USD", D("2.68")),  # half-up where float/half-even would give 2.67
        (D("2.665"), "USD", D("2.67")),  # half-even would give 2.66
        (D("-2.675"), "USD", D("-2.68")),
        (D("1234.5"), "JPY", D("1235")),
        (D("1.2345"), "KWD", D("1.235")),
    ],
)
def test_round_half_up_to_the_minor_unit(amount, currency, expected):
    assert round_money(amount, currency) == expected


def test_line_total_rounds_once():
    assert line_total(quantity=D("3"), unit_price=D("0.3333"), currency="USD") == D("1.00")
    assert line_total(quantity=D("0.5"), unit_price=D("0.01"), currency="USD") == D("0.01")


def test_float_is_refused():
    with pytest.raises(TypeError):
        round_money(0.1, "USD")
    with pytest.raises(TypeError):
        Money(0.1, "USD")


def test_currencies_never_mix():
    assert Money(D("1.50"), "EUR") + Money(D("2"), "EUR") == Money(D("3.50"), "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(D("1"), "EUR") + Money(D("1"), "USD")
    with pytest.raises(CurrencyMismatch):
        assert Money(D("1"), "EUR") < Money(D("2"), "USD")

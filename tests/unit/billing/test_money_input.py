"""billing.money.parse_amount, the one money-input parser: property tests (Hypothesis) and the
inputs the outside testing found."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import MAX_INTEGER_DIGITS, AmountError, minor_unit, parse_amount

CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD"])
LIMIT = D(10) ** MAX_INTEGER_DIGITS


def amounts(currency: str):
    places = minor_unit(currency)
    return st.decimals(
        min_value=0, max_value=LIMIT - 1, places=places, allow_nan=False, allow_infinity=False
    )


@settings(deadline=None, max_examples=300)
@given(data=st.data(), currency=CURRENCIES)
def test_an_amount_written_plainly_or_grouped_reads_back_the_same(data, currency):
    amount = data.draw(amounts(currency))
    places = minor_unit(currency)

    assert parse_amount(f"{amount:.{places}f}", currency=currency) == amount
    assert parse_amount(f"{amount:,.{places}f}", currency=currency, grouping=True) == amount


@settings(deadline=None, max_examples=300)
@given(text=st.text(max_size=30), currency=CURRENCIES, grouping=st.booleans())
def test_whatever_is_typed_the_answer_is_a_bounded_amount_or_an_error_on_the_field(
    text, currency, grouping
):
    try:
        amount = parse_amount(text, currency=currency, grouping=grouping, field="credit_limit")
    except AmountError as exc:
        assert exc.field == "credit_limit" and exc.message
        return
    assert amount.is_finite() and amount >= 0
    assert amount < LIMIT
    assert -amount.as_tuple().exponent <= minor_unit(currency)
    stripped = text.strip(" \t\r\n")
    assert set(stripped) <= set("0123456789.,")  # only ASCII digits made it through
    assert "," not in stripped or grouping


@settings(deadline=None, max_examples=200)
@given(
    head=st.integers(min_value=0, max_value=999),
    tail=st.text(alphabet="0123456789", min_size=1, max_size=5),
)
def test_an_exponent_is_never_taken(head, tail):
    for marker in ("e", "E", "e+", "e-"):
        with pytest.raises(AmountError):
            parse_amount(f"{head}{marker}{tail}")


@settings(deadline=None, max_examples=200)
@given(digits=st.integers(min_value=MAX_INTEGER_DIGITS + 1, max_value=30))
def test_more_than_twelve_integer_digits_are_too_large(digits):
    with pytest.raises(AmountError, match="too large"):
        parse_amount("9" * digits)


@pytest.mark.parametrize(
    "text",
    [
        "1e2", "1E2", "\uff11e5", "\uff11\uff12\uff13", "\u0663\u0660\u0660", "-5", "+5",
        "NaN", "nan", "Infinity", "-Infinity",
        "inf", "1.2.3", ".", "", "   ", "1 000", "1_000", "0x10", "1,00", ",100", "100,",
        "1,0000.00", "12.345", "1\u00a0000",
    ],
)  # fmt: skip
def test_what_outside_testing_sent_is_refused(text):
    with pytest.raises(AmountError):
        parse_amount(text, currency="USD", grouping=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("300", D("300")),
        ("300.5", D("300.5")),
        ("300.50", D("300.50")),
        (".5", D("0.5")),
        ("7.", D("7")),
        (" 1,234.50 ", D("1234.50")),
        ("999,999,999,999.99", D("999999999999.99")),
        (250, D("250")),
        (D("300.10"), D("300.10")),
    ],
)
def test_what_is_taken(value, expected):
    assert parse_amount(value, currency="USD", grouping=True) == expected


@pytest.mark.parametrize("value", [1e2, 300.5, True, D("1E+2"), D("NaN"), None, [1]])
def test_floats_booleans_and_exponent_decimals_are_refused(value):
    with pytest.raises(AmountError):
        parse_amount(value)


def test_grouping_only_where_asked_and_decimals_by_currency():
    with pytest.raises(AmountError, match="in digits"):
        parse_amount("1,234.50")  # the API takes no grouping
    with pytest.raises(AmountError, match="JPY has at most 0"):
        parse_amount("100.5", currency="JPY")
    assert parse_amount("1.125", currency="KWD") == D("1.125")
    with pytest.raises(AmountError, match="more than zero"):
        parse_amount("0.00", positive=True)

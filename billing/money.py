"""Money: Decimal amounts with a currency. The one place that rounds.

Rule: amounts are rounded half-up to the currency's minor unit, once, at the line total
(`line_total`). Unit prices and rates keep up to four decimal places. Sums of rounded line totals
need no further rounding. Arithmetic across currencies raises CurrencyMismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from resellers.exceptions import ApplicationError

# ISO 4217 minor units where they differ from 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3}
ZERO = Decimal("0")


class CurrencyMismatch(ApplicationError):
    pass


def minor_unit(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def line_total(*, quantity: Decimal, unit_price: Decimal, currency: str) -> Decimal:
    """quantity x unit price, rounded half-up to the minor unit: the one rounding place."""
    return round_money(Decimal(quantity) * Decimal(unit_price), currency)


def to_decimal(value) -> Decimal:
    """Accept Decimal, int or a numeric string; refuse float (binary fractions are not money)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount:,.{minor_unit(self.currency)}f} {self.currency}"

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)


def round_unit_price(amount: Decimal) -> Decimal:
    """Unit prices and rates keep four decimal places, rounded half-up."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    return amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# --- money as typed: the one parser for every form, serializer and command ----------------------

MAX_INTEGER_DIGITS = 12  # up to 999,999,999,999.99: far above any credit limit or payment here
_MAX_DECIMALS = max((2, *_MINOR_UNITS.values()))
# ASCII digits only ([0-9], not \d, which also matches full-width and other scripts' digits), one
# optional point, no sign, exponent, NaN or Infinity.
_PLAIN = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")
# Grouping commas as typed in the panel: 1,234 or 1,234,567.50 (groups of three after the first).
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?=\.|$)")
_BLANKS = " \t\r\n"


class AmountError(ApplicationError):
    """An amount as typed is not one this platform takes; `field` names the input."""


def parse_amount(
    value,
    *,
    currency: str | None = None,
    field: str = "amount",
    grouping: bool = False,
    positive: bool = False,
    signed: bool = False,
) -> Decimal:
    """The one money-input parser: a typed amount (str; or an int, or a Decimal that a JSON
    parser made of a number literal) to a Decimal, or AmountError naming `field`.

    Takes ASCII digits with one optional point, at most the currency's decimals (at most three
    when the currency is not known yet: the service checks again once it is), at most
    MAX_INTEGER_DIGITS before the point; no sign, exponent, NaN, Infinity, float, or digits of
    other scripts. `grouping` (the panel's forms) also takes commas between groups of three
    (1,234.50). `positive` refuses zero. `signed` also takes a leading minus (a credit, such as
    a reseller transaction corrected to a refund adjustment). Surrounding blanks are ignored."""
    if isinstance(value, (bool, float)):
        raise AmountError('Send an amount as a string of digits, e.g. "300.00".', field=field)
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, Decimal):
        value = str(value)  # keeps an exponent ("1E+2"), which is refused below
    if not isinstance(value, str):
        raise AmountError("Enter an amount, e.g. 300.00.", field=field)
    text = value.strip(_BLANKS)
    if not text:
        raise AmountError("Enter an amount, e.g. 300.00.", field=field)
    if grouping and "," in text:
        head = _GROUPED.match(text)
        if head is None:
            raise AmountError(
                "Put commas only between groups of three digits, e.g. 1,234.50.", field=field
            )
        text = head.group(0).replace(",", "") + text[head.end() :]
    negative = signed and text[0] == "-" and len(text) > 1
    if negative:
        text = text[1:]
    if text[0] in "+-":
        raise AmountError("Enter the amount without a sign, e.g. 300.00.", field=field)
    match = _PLAIN.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        raise AmountError(
            "Enter an amount in digits with at most one decimal point, e.g. 300.00 "
            "(no sign, exponent or spaces).",
            field=field,
        )
    whole, fraction = match["whole"], match["fraction"] or ""
    decimals = minor_unit(currency) if currency else _MAX_DECIMALS
    if len(fraction) > decimals:
        where = f"{currency} has" if currency else "an amount has"
        raise AmountError(f"Too many decimals: {where} at most {decimals}.", field=field)
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise AmountError(
            f"The amount is too large: at most {MAX_INTEGER_DIGITS} digits before the point.",
            field=field,
        )
    amount = Decimal(f"{whole or '0'}.{fraction}" if fraction else whole)
    if negative:
        amount = -amount
    if positive and amount == 0:
        raise AmountError("The amount must be more than zero.", field=field)
    return amount

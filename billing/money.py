"""Money: Decimal amounts with a currency. The one place that rounds.

Rule: amounts are rounded half-up to the currency's minor unit, once, at the line total
(`line_total`). Unit prices and rates keep up to four decimal places. Sums of rounded line totals
need no further rounding. Arithmetic across currencies raises CurrencyMismatch.
"""

from __future__ import annotations

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

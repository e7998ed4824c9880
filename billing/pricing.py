"""What a subscription's period costs, and who pays it: one rule for every charge.

The billing runs (renewals), an order's first period, a quantity raise, a refund of unused days
and a correcting order all price a subscription the same way:

- `charge_sides`: who pays, at which unit price. The holder pays its price, or the cost when it
  buys for itself (a reseller's own subscription, a referral or direct customer); for a resale
  customer's subscription the reseller (the credit account) also pays, at cost.
- `period_charge`: what `quantity` units cost for [start, end) of a billing period: quantity x
  unit price rounded half-up (billing.money.line_total), then prorated by days when the part is
  shorter than the period (billing.periods.prorate), rounded once.
- `usage_charge`: what one side is charged for a period's usage records, in arrears: the units
  measured at its unit price, plus the money reported (the holder's `amount`; the credit
  account's `cost`, the amount when none was given). The billing run rates usage with it, and a
  correction of a usage record computes its difference with it (orders.services).
- `prorated_note`: how a prorated line says so.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from billing.money import ZERO, line_total
from billing.periods import Period, prorate


@dataclass(frozen=True)
class Side:
    account_id: int
    unit_price: Decimal
    is_holder: bool


def charge_sides(
    *, holder_id: int, credit_account_id: int, unit_price: Decimal, unit_cost: Decimal
) -> list[Side]:
    """Who pays for a subscription, holder first: see the module's docstring."""
    if holder_id == credit_account_id:
        return [Side(holder_id, unit_cost, True)]
    return [Side(holder_id, unit_price, True), Side(credit_account_id, unit_cost, False)]


def period_charge(
    *,
    quantity: Decimal | int,
    unit_price: Decimal,
    period: Period,
    start: datetime.date,
    end: datetime.date,
    currency: str,
) -> Decimal:
    """What `quantity` units at `unit_price` a period cost for [start, end) of `period`."""
    full = line_total(quantity=Decimal(quantity), unit_price=unit_price, currency=currency)
    return prorate(
        period_amount=full, period=period, from_date=start, to_date=end, currency=currency
    )


def usage_charge(
    *, side: Side, buys_itself: bool, records: Iterable[Mapping], currency: str
) -> Decimal:
    """What `side` is charged for usage `records` (mappings with `quantity`, `amount`, `cost`;
    correction records carry differences, which may be negative): the measured units at the
    side's unit price, plus the money reported, at price for a holder that buys from a reseller,
    at cost otherwise (the amount where no cost was given)."""
    at_price = side.is_holder and not buys_itself
    measured = ZERO
    money = ZERO
    for record in records:
        if record["quantity"] is not None:
            measured += record["quantity"]
        elif at_price or record["cost"] is None:
            money += record["amount"]
        else:
            money += record["cost"]
    return line_total(quantity=measured, unit_price=side.unit_price, currency=currency) + money


def prorated_note(*, period: Period, start: datetime.date, end: datetime.date) -> str:
    """`prorated: 12 of 31 days`, for a part shorter than its period; "" for a whole one."""
    if (start, end) == (period.start, period.end):
        return ""
    return f"prorated: {(end - start).days} of {period.days} days"

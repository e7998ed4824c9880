"""Billing periods and proration: the rules, written down once.

Periods. A subscription's periods are anchored on one date (its start, or its trial's end) and
step by whole months (monthly), twelve months (annual) or thirty-six (three years). The n-th
period runs from anchor + n steps to anchor + (n + 1) steps: inclusive start, exclusive end.
Adding months keeps the anchor's day of the month and clamps it to the month's length, always
from the anchor, never from the previous period: a subscription anchored on 31 January runs
31 Jan - 28 Feb, 28 Feb - 31 Mar, 31 Mar - 30 Apr, ... (29 Feb in leap years), and never drifts
to the 28th.

Proration. A part of a period [from_date, to_date) is charged
    full period amount x (days in the part) / (days in the whole period),
computed in Decimal and rounded half-up to the currency's minor unit once, at the line total
(billing.money.line_total). Mid-period starts, quantity changes and cancellations all use it.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import Decimal

from billing.money import line_total

MONTHLY = "monthly"
ANNUAL = "annual"
THREE_YEARS = "3_years"
_STEP_MONTHS = {MONTHLY: 1, ANNUAL: 12, THREE_YEARS: 36}


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # exclusive
    index: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __contains__(self, day: datetime.date) -> bool:
        return self.start <= day < self.end


def add_months(anchor: datetime.date, months: int) -> datetime.date:
    """`anchor` moved by `months`, keeping its day of the month, clamped to the month's length."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def nth_period(*, anchor: datetime.date, billing_period: str, index: int) -> Period:
    step = _STEP_MONTHS[billing_period]
    return Period(
        start=add_months(anchor, index * step),
        end=add_months(anchor, (index + 1) * step),
        index=index,
    )


def period_containing(*, anchor: datetime.date, billing_period: str, day: datetime.date) -> Period:
    """The period (anchored on `anchor`) that `day` falls in; before the anchor, periods count
    back from it (negative indexes)."""
    step = _STEP_MONTHS[billing_period]
    months = (day.year - anchor.year) * 12 + (day.month - anchor.month)
    index = months // step
    period = nth_period(anchor=anchor, billing_period=billing_period, index=index)
    while day < period.start:  # clamping can put the estimate one period late
        period = nth_period(anchor=anchor, billing_period=billing_period, index=period.index - 1)
    while day >= period.end:
        period = nth_period(anchor=anchor, billing_period=billing_period, index=period.index + 1)
    return period


def cycle_on_or_after(*, anchor: datetime.date, day: datetime.date) -> datetime.date:
    """The first monthly cycle date (anchored on `anchor`) on or after `day`: where a subscription
    that starts on `day` co-terms with its holder's cycle."""
    period = period_containing(anchor=anchor, billing_period=MONTHLY, day=day)
    return period.start if period.start == day else period.end


def periods_between(
    *, anchor: datetime.date, billing_period: str, start: datetime.date, end: datetime.date
) -> list[Period]:
    """Every period that overlaps [start, end), in order."""
    if end <= start:
        return []
    period = period_containing(anchor=anchor, billing_period=billing_period, day=start)
    found = []
    while period.start < end:
        found.append(period)
        period = nth_period(anchor=anchor, billing_period=billing_period, index=period.index + 1)
    return found


def prorate(
    *,
    period_amount: Decimal,
    period: Period,
    from_date: datetime.date,
    to_date: datetime.date,
    currency: str,
) -> Decimal:
    """The share of `period_amount` for [from_date, to_date) within `period`, by days, rounded
    half-up once. The part is clipped to the period; an empty part is zero."""
    start, end = max(from_date, period.start), min(to_date, period.end)
    days = max((end - start).days, 0)
    if days == period.days:
        return line_total(quantity=Decimal(1), unit_price=period_amount, currency=currency)
    return line_total(
        quantity=Decimal(days) / Decimal(period.days), unit_price=period_amount, currency=currency
    )

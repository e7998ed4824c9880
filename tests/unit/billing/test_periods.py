"""Billing periods anchored on one date, and proration by days."""

import datetime
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.periods import (
    add_months,
    nth_period,
    period_containing,
    periods_between,
    prorate,
)

d = datetime.date


def test_monthly_periods_from_a_month_end_never_drift():
    spans = [nth_period(anchor=d(2027, 1, 31), billing_period="monthly", index=i) for i in range(4)]
    assert [(p.start, p.end) for p in spans] == [
        (d(2027, 1, 31), d(2027, 2, 28)),
        (d(2027, 2, 28), d(2027, 3, 31)),
        (d(2027, 3, 31), d(2027, 4, 30)),
        (d(2027, 4, 30), d(2027, 5, 31)),
    ]


def test_leap_days():
    assert add_months(d(2028, 1, 31), 1) == d(2028, 2, 29)
    annual = [
        nth_period(anchor=d(2028, 2, 29), billing_period="annual", index=i) for i in (0, 1, 4)
    ]
    assert [(p.start, p.end) for p in annual] == [
        (d(2028, 2, 29), d(2029, 2, 28)),
        (d(2029, 2, 28), d(2030, 2, 28)),
        (d(2032, 2, 29), d(2033, 2, 28)),
    ]


def test_the_period_containing_a_day_across_the_turn_of_the_year():
    p = period_containing(anchor=d(2026, 10, 15), billing_period="monthly", day=d(2027, 1, 3))
    assert (p.start, p.end, p.index) == (d(2026, 12, 15), d(2027, 1, 15), 2)
    edge = period_containing(anchor=d(2026, 10, 15), billing_period="monthly", day=d(2027, 1, 15))
    assert edge.start == d(2027, 1, 15)  # the end is exclusive
    before = period_containing(anchor=d(2026, 10, 15), billing_period="monthly", day=d(2026, 10, 1))
    assert (before.start, before.end, before.index) == (d(2026, 9, 15), d(2026, 10, 15), -1)


def test_a_subscription_co_terms_with_its_holders_cycle():
    from billing.periods import cycle_on_or_after

    anchor = d(2026, 1, 31)
    assert cycle_on_or_after(anchor=anchor, day=d(2026, 1, 31)) == d(2026, 1, 31)
    assert cycle_on_or_after(anchor=anchor, day=d(2026, 2, 10)) == d(2026, 2, 28)
    assert cycle_on_or_after(anchor=anchor, day=d(2026, 3, 1)) == d(2026, 3, 31)
    assert cycle_on_or_after(anchor=anchor, day=d(2025, 12, 20)) == d(2025, 12, 31)


def test_periods_between_lists_every_overlapping_period():
    found = periods_between(anchor=d(2026, 1, 10), billing_period="monthly",
                            start=d(2026, 2, 20), end=d(2026, 5, 10))  # fmt: skip
    assert [p.start for p in found] == [d(2026, 2, 10), d(2026, 3, 10), d(2026, 4, 10)]


@pytest.mark.parametrize(
    ("from_date", "to_date", "expected"),
    [
        (d(2026, 3, 1), d(2026, 4, 1), D("31.00")),  # the whole of March
        (d(2026, 3, 17), d(2026, 4, 1), D("15.00")),  # started mid-period: 15 of 31 days
        (d(2026, 3, 1), d(2026, 3, 11), D("10.00")),  # cancelled after 10 days
        (d(2026, 2, 1), d(2026, 5, 1), D("31.00")),  # clipped to the period
        (d(2026, 4, 2), d(2026, 4, 9), D("0.00")),  # outside it
    ],
)
def test_prorate_by_days(from_date, to_date, expected):
    march = period_containing(anchor=d(2026, 1, 1), billing_period="monthly", day=d(2026, 3, 5))
    assert prorate(period_amount=D("31.00"), period=march, from_date=from_date, to_date=to_date,
                   currency="USD") == expected  # fmt: skip


def test_prorate_in_a_leap_february_rounds_half_up_once():
    feb = period_containing(anchor=d(2028, 1, 1), billing_period="monthly", day=d(2028, 2, 1))
    assert feb.days == 29
    # 10/29 of 100.00 = 34.48275... -> 34.48
    assert prorate(period_amount=D("100.00"), period=feb, from_date=d(2028, 2, 20),
                   to_date=d(2028, 3, 1), currency="USD") == D("34.48")  # fmt: skip


@settings(deadline=None, max_examples=200)
@given(
    anchor=st.dates(min_value=d(2024, 1, 1), max_value=d(2030, 12, 31)),
    offset=st.integers(min_value=0, max_value=800),
    cut=st.floats(min_value=0, max_value=1),
    amount=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    billing_period=st.sampled_from(["monthly", "annual"]),
)
def test_a_split_period_prorates_back_to_its_amount(anchor, offset, cut, amount, billing_period):
    period = period_containing(anchor=anchor, billing_period=billing_period,
                               day=anchor + datetime.timedelta(days=offset))  # fmt: skip
    split = period.start + datetime.timedelta(days=int(cut * period.days))
    first = prorate(period_amount=amount, period=period, from_date=period.start, to_date=split,
                    currency="USD")  # fmt: skip
    second = prorate(period_amount=amount, period=period, from_date=split, to_date=period.end,
                     currency="USD")  # fmt: skip
    assert abs(first + second - amount) <= D("0.01")  # each part rounded once, half-up
    assert period.start <= anchor + datetime.timedelta(days=offset) < period.end


def test_chunks_are_cut_by_accounts_and_by_weight():
    from billing.runs import chunked

    ids = [1, 2, 3, 4, 5, 6, 7]
    assert chunked(ids, 3) == [[1, 2, 3], [4, 5, 6], [7]]
    weights = {1: 10, 2: 4000, 3: 2000, 4: 9000, 5: 1, 6: 1, 7: 1}
    # 2 + 3 would pass 5000; 4 alone is heavier than the limit and goes alone.
    assert chunked(ids, 250, weights, limit=5000) == [[1, 2], [3], [4], [5, 6, 7]]

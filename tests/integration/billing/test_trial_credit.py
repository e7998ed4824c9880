"""A trial passes the credit check of a new order (seed 004's validation chain) twice: when its
quantity is raised, and when it converts at its end, through a conversion order that goes to the
unexecuted-for-credit queue when the reseller's credit does not cover it."""

from decimal import Decimal as D

import pytest

from billing import runs
from billing.ledger import InsufficientCredit
from billing.models import Document, ResellerTransaction
from billing.selectors import account_financials
from orders.models import Order, OrderStatus, OrderType, Product, SubscriptionStatus
from orders.services import order_approve, order_cancel, subscription_change_quantity
from resellers.models import Account
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db

START, TRIAL_END = d("2026-01-01"), d("2026-01-31")


@pytest.fixture
def w():
    """R buys a 30-day trial of `monthly` (10.00 at cost, 15.00 to C) for C: 2 units."""
    world = bf.world()
    Product.objects.filter(pk=world.monthly.pk).update(trial_days=30)
    world.monthly.refresh_from_db()
    world.sub = bf.subscribe(world, quantity=2, today=START)
    assert (world.sub.status, world.sub.next_billing_date) == ("trial", TRIAL_END)
    return world


def limit(w, amount: str) -> None:
    Account.objects.filter(pk=w.reseller.pk).update(credit_limit=D(amount))
    w.reseller.refresh_from_db()


def conversion(w) -> Order:
    return Order.objects.get(order_type=OrderType.RENEWAL, items__subscription=w.sub)


def test_a_trial_raise_beyond_the_available_credit_is_refused_on_quantity(w):
    limit(w, "25.00")  # nothing owed yet: 25.00 available

    with pytest.raises(InsufficientCredit) as exc:
        subscription_change_quantity(
            subscription=w.sub, quantity=500, acting_user=w.reseller_user, today=d("2026-01-05")
        )

    assert exc.value.field == "quantity"
    w.sub.refresh_from_db()
    assert w.sub.quantity == 2
    assert not Order.objects.filter(order_type=OrderType.CHANGE).exists()


def test_a_trial_raise_within_the_credit_is_taken_and_charges_nothing_yet(w):
    limit(w, "25.00")

    subscription_change_quantity(  # 2 more units: 20.00 at cost, within 25.00
        subscription=w.sub, quantity=4, acting_user=w.reseller_user, today=d("2026-01-05")
    )

    w.sub.refresh_from_db()
    assert (w.sub.status, w.sub.quantity) == ("trial", 4)
    assert not ResellerTransaction.objects.filter(subscription_id=w.sub.pk).exists()


def test_a_trial_converts_through_an_order_that_passes_the_credit_check(w):
    run = runs.run_start(run_date=TRIAL_END, inline=True)

    order = conversion(w)
    assert (order.status, order.total_cost, order.total_amount) == (
        "completed",
        D("20.00"),
        D("30.00"),
    )
    w.sub.refresh_from_db()
    assert w.sub.status == SubscriptionStatus.ACTIVE
    # In advance from the trial's end up to C's cycle date (February 1st), as a new subscription
    # starting that day would be: 1 of January's 31 days of 2 x 15.00 to C, 2 x 10.00 to R.
    charges = ResellerTransaction.objects.filter(subscription_id=w.sub.pk)
    assert {(c.account_id, c.amount, c.period_start_date, c.period_end_date) for c in charges} == {
        (w.customer.pk, D("0.97"), TRIAL_END, d("2026-02-01")),
        (w.reseller.pk, D("0.65"), TRIAL_END, d("2026-02-01")),
    }
    invoice = Document.objects.get(recipient=w.customer, billing_run=run)
    assert invoice.total == D("0.97")
    # The reservation was consumed by the charge: the credit is counted once.
    assert account_financials(account=w.reseller).available_credit == D("100000") - D("0.65")


def test_a_trial_at_the_credit_limit_does_not_convert_and_waits_in_the_unexecuted_queue(w):
    limit(w, "15.00")  # the conversion needs 2 x 10.00 = 20.00

    runs.run_start(run_date=TRIAL_END, inline=True)
    runs.run_start(run_date=TRIAL_END, inline=True)  # run again: still one conversion order

    order = conversion(w)
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    w.sub.refresh_from_db()
    assert (w.sub.status, w.sub.next_billing_date) == ("trial", None)
    assert not ResellerTransaction.objects.filter(subscription_id=w.sub.pk).exists()
    assert not Document.objects.filter(recipient=w.customer).exists()
    assert account_financials(account=w.reseller).available_credit == D("15.00")

    # A later run does not bill it either, until the reseller accepts the order.
    runs.run_start(run_date=d("2026-02-28"), inline=True)
    assert not ResellerTransaction.objects.filter(subscription_id=w.sub.pk).exists()

    limit(w, "100.00")
    order_approve(order=order, acting_user=w.reseller_user, today=d("2026-03-01"))

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    w.sub.refresh_from_db()
    assert w.sub.status == SubscriptionStatus.ACTIVE
    first = ResellerTransaction.objects.get(subscription_id=w.sub.pk, account=w.customer)
    assert (first.amount, first.period_start_date) == (D("0.97"), TRIAL_END)
    runs.run_start(run_date=d("2026-03-01"), inline=True)  # and the months since are caught up
    months = ResellerTransaction.objects.filter(subscription_id=w.sub.pk, account=w.customer)
    assert sorted((c.period_start_date, c.amount) for c in months) == [
        (TRIAL_END, D("0.97")),
        (d("2026-02-01"), D("30.00")),
        (d("2026-03-01"), D("30.00")),
    ]


def test_cancelling_the_conversion_order_ends_the_trial(w):
    limit(w, "15.00")
    runs.run_start(run_date=TRIAL_END, inline=True)

    order_cancel(order=conversion(w), acting_user=w.reseller_user, reason="Not wanted")

    w.sub.refresh_from_db()
    assert w.sub.status == SubscriptionStatus.CANCELLED
    runs.run_start(run_date=d("2026-02-28"), inline=True)
    assert not ResellerTransaction.objects.filter(subscription_id=w.sub.pk).exists()


def test_a_raised_trial_converts_only_within_the_credit(w):
    limit(w, "45.00")
    subscription_change_quantity(  # 2 -> 4 passes: 20.00 more within 45.00
        subscription=w.sub, quantity=4, acting_user=w.reseller_user, today=d("2026-01-05")
    )
    limit(w, "35.00")  # the whole 4 x 10.00 = 40.00 no longer fits

    runs.run_start(run_date=TRIAL_END, inline=True)

    assert conversion(w).status == OrderStatus.UNEXECUTED_CREDIT
    assert not ResellerTransaction.objects.filter(subscription_id=w.sub.pk).exists()

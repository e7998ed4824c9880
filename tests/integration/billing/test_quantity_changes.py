"""Quantity changes through change orders, prorated by the one rule (billing.periods)."""

from decimal import Decimal as D

import pytest

from billing import runs
from billing.ledger import InsufficientCredit
from billing.models import Document, ResellerTransaction
from orders.services import subscription_change_quantity
from resellers.models import Account
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def test_an_increase_is_charged_now_for_the_rest_of_the_billed_period():
    w = bf.world()
    sub = bf.subscribe(w, quantity=2, today=d("2026-01-01"))

    order = subscription_change_quantity(
        subscription=sub, quantity=5, acting_user=w.reseller_user, today=d("2026-01-22")
    )

    # 3 more units for 10 of January's 31 days: 45.00 x 10/31 = 14.516... -> 14.52 to the
    # customer; 30.00 x 10/31 = 9.677... -> 9.68 at cost to the reseller.
    assert (order.order_type, order.total_amount, order.total_cost) == (
        "change",
        D("14.52"),
        D("9.68"),
    )
    charges = ResellerTransaction.objects.filter(kind="adjustment").order_by("account_id")
    assert {(c.account_id, c.amount, c.period_start_date, c.period_end_date) for c in charges} == {
        (w.reseller.pk, D("9.68"), d("2026-01-22"), d("2026-02-01")),
        (w.customer.pk, D("14.52"), d("2026-01-22"), d("2026-02-01")),
    }
    sub.refresh_from_db()
    assert sub.quantity == 5

    runs.run_start(run_date=d("2026-02-01"), inline=True)
    invoice = Document.objects.get(recipient=w.customer, billing_key="billing:2026-02-01")
    assert invoice.total == D("30.00") + D("14.52") + D("75.00")  # order, change, 5 renewed


def test_a_decrease_waits_for_the_next_billing_date():
    w = bf.world()
    sub = bf.subscribe(w, quantity=4, today=d("2026-01-01"))

    subscription_change_quantity(
        subscription=sub, quantity=1, acting_user=w.reseller_user, today=d("2026-01-10")
    )

    sub.refresh_from_db()
    assert (sub.quantity, sub.renewal_quantity) == (4, 1)
    assert not ResellerTransaction.objects.filter(kind="adjustment").exists()
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    sub.refresh_from_db()
    assert (sub.quantity, sub.renewal_quantity) == (1, None)
    renewal = ResellerTransaction.objects.get(account=w.customer, kind="recurring")
    assert (renewal.quantity, renewal.amount) == (D("1"), D("15.00"))


def test_an_increase_beyond_the_resellers_credit_is_refused_and_changes_nothing():
    w = bf.world()
    sub = bf.subscribe(w, quantity=1, today=d("2026-01-01"))
    Account.objects.filter(pk=w.reseller.pk).update(credit_limit=D("15.00"))

    with pytest.raises(InsufficientCredit):
        subscription_change_quantity(
            subscription=sub, quantity=3, acting_user=w.reseller_user, today=d("2026-01-02")
        )

    sub.refresh_from_db()
    assert sub.quantity == 1
    assert not ResellerTransaction.objects.filter(kind="adjustment").exists()


def test_another_tenant_cannot_change_it():
    from resellers.exceptions import PermissionDenied
    from tests import factories as f

    w = bf.world()
    sub = bf.subscribe(w, quantity=1, today=d("2026-01-01"))
    stranger = f.user(account=f.reseller(name="Other Reseller"))

    with pytest.raises(PermissionDenied):
        subscription_change_quantity(
            subscription=sub, quantity=2, acting_user=stranger, today=d("2026-01-02")
        )


def test_an_immediate_cancellation_credits_the_unused_days_prorated_where_the_policy_refunds():
    from orders.services import subscription_cancel

    w = bf.world()
    w.cls.refund_on_cancel = True  # the reseller's class: the account that pays upstream
    w.cls.save()
    sub = bf.subscribe(w, quantity=2, today=d("2026-01-01"))

    subscription_cancel(
        subscription=sub, acting_user=w.staff, today=d("2026-01-22"), immediately=True
    )

    sub.refresh_from_db()
    assert (sub.status, sub.billed_through, sub.next_billing_date) == (
        "cancelled",
        d("2026-01-22"),
        None,
    )
    memos = {m.recipient_id: m for m in Document.objects.filter(doc_type="credit_memo")}
    # 10 unused days of January's 31: 30.00 x 10/31 = 9.68 to the customer, 20.00 x 10/31 = 6.45
    # at cost to the reseller.
    assert memos[w.customer.pk].total == D("9.68")
    assert memos[w.reseller.pk].total == D("6.45")
    line = memos[w.customer.pk].lines.get()
    assert (line.period_start_date, line.period_end_date) == (d("2026-01-22"), d("2026-02-01"))
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    assert not ResellerTransaction.objects.filter(subscription=sub, kind="recurring").exists()


def test_by_default_cancelling_at_once_refunds_nothing():
    """The no-refund policy (seed 001 §4) is the default: the subscription ends today and
    nothing already billed is given back; a correcting order is the exception."""
    from orders.services import subscription_cancel

    w = bf.world()
    assert w.cls.refund_on_cancel is False
    sub = bf.subscribe(w, quantity=2, today=d("2026-01-01"))

    subscription_cancel(
        subscription=sub, acting_user=w.staff, today=d("2026-01-22"), immediately=True
    )

    sub.refresh_from_db()
    assert (sub.status, sub.billed_through, sub.next_billing_date) == (
        "cancelled",
        d("2026-02-01"),
        None,
    )
    assert not Document.objects.filter(doc_type="credit_memo").exists()
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    assert not ResellerTransaction.objects.filter(subscription=sub, kind="recurring").exists()


def test_only_the_provider_cancels_at_once():
    from orders.services import subscription_cancel
    from resellers.exceptions import PermissionDenied

    w = bf.world()
    sub = bf.subscribe(w, quantity=2, today=d("2026-01-01"))
    with pytest.raises(PermissionDenied):
        subscription_cancel(
            subscription=sub, acting_user=w.reseller_user, today=d("2026-01-22"), immediately=True
        )
    assert not Document.objects.filter(doc_type="credit_memo").exists()

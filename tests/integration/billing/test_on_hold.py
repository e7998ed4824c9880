"""Bill for Subscriptions on Hold (seed 001 §3, "More Flexible Issuing of Invoices to Suspended
Customer or Reseller Accounts"): both scenarios, word for word, with the setting on and off.

Dates: the cycle is anchored on 1 January 2026; period A starts 1 February, B 1 March, C 1 April,
D 1 May; the customer (or reseller) pays A and is reactivated on 10 May.
"""

from decimal import Decimal as D

import pytest

from billing import ledger, runs
from billing.models import BillingRun, Document, ResellerTransaction
from orders.services import subscription_resume, subscription_suspend
from resellers.models import Account
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db

A, B, C, DD = d("2026-02-01"), d("2026-03-01"), d("2026-04-01"), d("2026-05-01")
REACTIVATED = d("2026-05-10")


def invoices(account, since=None):
    found = Document.objects.filter(recipient=account, doc_type="invoice").order_by("pk")
    if since:
        found = found.filter(issue_date__gte=since)
    return list(found)


def periods(document):
    return [(ln.period_start_date, ln.amount) for ln in document.lines.order_by("position")]


def charges(account):
    """The account's renewal charges (its orders' first periods left out)."""
    return sorted(
        (t.description, t.period_start_date, t.amount)
        for t in ResellerTransaction.objects.filter(account=account, kind="recurring")
    )


def fails_to_pay_and_is_suspended(w, subscription, holder):
    """ "fails to pay for a new billing period (period A). The respective service subscription is
    suspended. The ... account is put on credit hold." """
    runs.run_start(run_date=A, inline=True)
    subscription_suspend(subscription=subscription, acting_user=w.staff, reason="A unpaid")
    Account.objects.filter(pk=holder.pk).update(credit_hold=True)


def pays_for_a_and_is_reactivated(w, subscription, holder):
    """ "eventually pays for billing period A. The service is activated." """
    [invoice_a] = [i for i in invoices(holder) if i.issue_date == A]
    ledger.payment_record(
        recipient=holder,
        amount=invoice_a.total,
        received_date=REACTIVATED,
        acting_user=w.staff,
        apply_to=[invoice_a],
    )
    invoice_a.refresh_from_db()
    assert invoice_a.status == "paid"
    Account.objects.filter(pk=holder.pk).update(credit_hold=False)
    subscription_resume(subscription=subscription, acting_user=w.staff)
    runs.account_bill_now(account=holder, today=REACTIVATED, acting_user=w.staff)


@pytest.mark.parametrize("on_hold", [True, False], ids=["setting on", "setting off"])
def test_scenario_1_a_customers_subscription_is_suspended(on_hold):
    w = bf.world(on_hold=on_hold)
    sub = bf.subscribe(w, today=d("2026-01-01"))
    runs.run_start(run_date=d("2026-01-01"), inline=True)
    fails_to_pay_and_is_suspended(w, sub, w.customer)

    # "The customer does not pay for the service for three more billing periods, B, C, D. The
    # service remains suspended. The customer's account remains on credit hold."
    for billing_date in (B, C, DD):
        runs.run_start(run_date=billing_date, inline=True)
    during = invoices(w.customer, since=B)
    if on_hold:
        # "for each billing period, the system issues its own invoice charging the customer
        # separately for billing periods B, C, and D on each respective billing date."
        assert [(i.issue_date, periods(i)) for i in during] == [
            (B, [(B, D("15.00"))]),
            (C, [(C, D("15.00"))]),
            (DD, [(DD, D("15.00"))]),
        ]
    else:
        assert during == []  # nothing while suspended

    pays_for_a_and_is_reactivated(w, sub, w.customer)

    after = invoices(w.customer, since=REACTIVATED)
    if on_hold:
        assert after == []  # every period was already invoiced on its own date
    else:
        # "The system issues an invoice, charging the customer for billing periods B, C, and D."
        [catch_up] = after
        assert periods(catch_up) == [(B, D("15.00")), (C, D("15.00")), (DD, D("15.00"))]
        assert catch_up.total == D("45.00")
    # "The new setting does not affect the charge calculation logic."
    assert charges(w.customer) == [
        ("Cloud Suite", A, D("15.00")),
        ("Cloud Suite", B, D("15.00")),
        ("Cloud Suite", C, D("15.00")),
        ("Cloud Suite", DD, D("15.00")),
    ]


@pytest.mark.parametrize("on_hold", [True, False], ids=["setting on", "setting off"])
def test_scenario_2_a_resellers_subscription_is_suspended(on_hold):
    w = bf.world(on_hold=on_hold)
    own = bf.subscribe(w, today=d("2026-01-01"), for_reseller=True)  # 10.00 a month, at cost
    bf.subscribe(w, quantity=2, today=d("2026-01-01"))  # the customer's: 20.00 at cost
    fails_to_pay_and_is_suspended(w, own, w.reseller)
    # Period A's invoice: the reseller's subscription and its customers' consumption in A (with
    # the first month's, which the orders charged).
    [order_a] = invoices(w.reseller)
    assert [p for p in periods(order_a) if p[0] == A] == [(A, D("10.00")), (A, D("20.00"))]

    # "The reseller does not pay for the service for three more billing periods, B, C, D. The
    # service remains suspended. The reseller's customers continue using their services."
    for billing_date in (B, C, DD):
        runs.run_start(run_date=billing_date, inline=True)
    during = invoices(w.reseller, since=B)
    if on_hold:
        # "for each of the billing periods B, C, and D, the system issues its own invoice to the
        # reseller on each respective billing date. Each such invoice includes the charges for
        # the reseller's subscription and for the services the reseller's customers consumed
        # during the respective billing period."
        assert [(i.issue_date, periods(i)) for i in during] == [
            (B, [(B, D("10.00")), (B, D("20.00"))]),
            (C, [(C, D("10.00")), (C, D("20.00"))]),
            (DD, [(DD, D("10.00")), (DD, D("20.00"))]),
        ]
    else:
        # "The system does not issue invoices for these periods to the reseller."
        assert during == []
    # "The reseller's customers continue using their services": they are invoiced throughout.
    assert [i.issue_date for i in invoices(w.customer, since=B)] == [B, C, DD]

    pays_for_a_and_is_reactivated(w, own, w.reseller)

    after = invoices(w.reseller, since=REACTIVATED)
    if on_hold:
        assert after == []  # every period was invoiced on its own date
    else:
        # "a consolidated invoice to the reseller, charging the reseller for the reseller's
        # subscription and for the services the reseller's customers consumed during periods B,
        # C, and D."
        [consolidated] = after
        assert periods(consolidated) == [
            (B, D("10.00")),
            (C, D("10.00")),
            (DD, D("10.00")),
            (B, D("20.00")),
            (C, D("20.00")),
            (DD, D("20.00")),
        ]
    # The charges are the same either way.
    assert charges(w.reseller) == sorted(
        [("Cloud Suite", p, D("10.00")) for p in (A, B, C, DD)]
        + [("Cloud Suite for Customer C", p, D("20.00")) for p in (A, B, C, DD)]
    )


def test_a_resellers_suspended_annual_subscription_holds_its_monthly_billing_order():
    """Off, a suspended subscription of the reseller's own holds its whole invoice even on cycle
    dates when that subscription is not due (DESIGN.md: "holds the whole reseller invoice, its
    customers' consumption included, until the catch-up")."""
    w = bf.world(on_hold=False)
    annual = bf.subscribe(w, product=w.annual, today=d("2026-01-01"), for_reseller=True)
    bf.subscribe(w, quantity=2, today=d("2026-01-01"))
    subscription_suspend(subscription=annual, acting_user=w.staff, reason="unpaid")

    for billing_date in (A, B):
        runs.run_start(run_date=billing_date, inline=True)

    assert invoices(w.reseller) == []
    assert [i.issue_date for i in invoices(w.customer)] == [A, B]  # its customers go on
    subscription_resume(subscription=annual, acting_user=w.staff)
    runs.account_bill_now(account=w.reseller, today=d("2026-03-10"), acting_user=w.staff)
    [catch_up] = invoices(w.reseller)
    assert periods(catch_up) == [
        (d("2026-01-01"), D("100.00")),  # the annual subscription, billed by its order
        (d("2026-01-01"), D("20.00")),  # the customer's consumption, month by month
        (A, D("20.00")),
        (B, D("20.00")),
    ]


@pytest.mark.parametrize("customer_on", [True, False], ids=["customer on", "customer off"])
def test_each_recipients_customer_class_decides_for_its_own_invoice(customer_on):
    """DESIGN.md: "The recipient's customer class decides." The customer's subscription is
    suspended; the customer and its reseller are in classes set the opposite ways."""
    w = bf.world(on_hold=customer_on)
    reseller_class = f.CustomerClassFactory(name="Reseller's class")
    reseller_class.bill_for_subscriptions_on_hold = not customer_on
    reseller_class.save()
    Account.objects.filter(pk=w.reseller.pk).update(customer_class=reseller_class)
    sub = bf.subscribe(w, quantity=2, today=d("2026-01-01"))
    fails_to_pay_and_is_suspended(w, sub, w.customer)
    for billing_date in (B, C):
        runs.run_start(run_date=billing_date, inline=True)

    def billed(account, since):
        return [(i.issue_date, periods(i)) for i in invoices(account, since=since)]

    on_each_date = [(B, [(B, D("20.00"))]), (C, [(C, D("20.00"))])]
    if customer_on:
        assert billed(w.customer, B) == [(B, [(B, D("30.00"))]), (C, [(C, D("30.00"))])]
        assert billed(w.reseller, B) == []  # nothing of its own is due: no invoice
    else:
        assert billed(w.customer, B) == []
        assert billed(w.reseller, B) == on_each_date

    resumed = d("2026-04-20")
    subscription_resume(subscription=sub, acting_user=w.staff)
    runs.account_bill_now(account=w.customer, today=resumed, acting_user=w.staff)
    runs.run_start(run_date=DD, inline=True)

    if customer_on:
        # the reseller's next billing order catches up B and C, with D of its own date
        assert billed(w.reseller, DD) == [
            (DD, [(B, D("20.00")), (C, D("20.00")), (DD, D("20.00"))])
        ]
    else:
        catch_up, renewal = invoices(w.customer, since=resumed)
        assert periods(catch_up) == [(B, D("30.00")), (C, D("30.00"))]
        assert periods(renewal) == [(DD, D("30.00"))]
        assert billed(w.reseller, DD) == [(DD, [(DD, D("20.00"))])]
    # one charge per period and recipient, whatever the classes
    assert sorted(
        ResellerTransaction.objects.filter(kind="recurring").values_list(
            "account_id", "period_start_date", "amount", "status"
        )
    ) == sorted(
        [(w.customer.pk, p, D("30.00"), "invoiced") for p in (A, B, C, DD)]
        + [(w.reseller.pk, p, D("20.00"), "invoiced") for p in (A, B, C, DD)]
    )


def test_a_subscription_cancelled_while_suspended_has_its_waiting_periods_invoiced():
    """Off, the charges of the suspended periods wait; cancelling instead of reactivating ends
    the wait: the next run invoices them, as the setting on would have on each date."""
    from orders.services import subscription_cancel

    w = bf.world(on_hold=False)
    sub = bf.subscribe(w, today=d("2026-01-01"))
    fails_to_pay_and_is_suspended(w, sub, w.customer)
    for billing_date in (B, C):
        runs.run_start(run_date=billing_date, inline=True)
    assert invoices(w.customer, since=B) == []

    subscription_cancel(subscription=sub, acting_user=w.staff, today=d("2026-04-10"))
    runs.run_start(run_date=DD, inline=True)

    sub.refresh_from_db()
    assert sub.status == "cancelled"
    [closing] = invoices(w.customer, since=B)
    assert (closing.issue_date, periods(closing)) == (DD, [(B, D("15.00")), (C, D("15.00"))])


def test_repeated_suspend_and_resume_within_a_period_never_bills_a_day_twice():
    """Kill Bill issue #2306: pausing and resuming a subscription several times within one
    period billed some days twice. Here suspension never re-rates a billed period."""
    w = bf.world(on_hold=False)
    sub = bf.subscribe(w, today=d("2026-01-01"))
    runs.run_start(run_date=A, inline=True)
    for day in ("2026-02-05", "2026-02-12", "2026-02-20"):
        subscription_suspend(subscription=sub, acting_user=w.staff)
        subscription_resume(subscription=sub, acting_user=w.staff)
        runs.account_bill_now(account=w.customer, today=d(day), acting_user=w.staff)
        runs.run_start(run_date=d(day), inline=True)
    runs.run_start(run_date=B, inline=True)
    runs.run_start(run_date=B, inline=True)

    assert charges(w.customer)[:2] == [
        ("Cloud Suite", A, D("15.00")),
        ("Cloud Suite", B, D("15.00")),
    ]
    billed = [p for i in invoices(w.customer) for p in periods(i)]
    assert billed == [(d("2026-01-01"), D("15.00")), (A, D("15.00")), (B, D("15.00"))]
    # nothing was due at any resume: no catch-up run was even recorded
    assert not BillingRun.objects.filter(trigger="reactivation").exists()


def test_reactivating_bills_the_catch_up_at_once():
    """The reactivation itself (panel, API or job: billing.runs.subscription_reactivate) bills
    the catch-up, in its own transaction."""
    w = bf.world(on_hold=False)
    sub = bf.subscribe(w, today=d("2026-01-01"))
    fails_to_pay_and_is_suspended(w, sub, w.customer)
    for billing_date in (B, C, DD):
        runs.run_start(run_date=billing_date, inline=True)

    runs.subscription_reactivate(subscription=sub, acting_user=w.staff, today=REACTIVATED)

    [catch_up] = invoices(w.customer, since=REACTIVATED)
    assert periods(catch_up) == [(B, D("15.00")), (C, D("15.00")), (DD, D("15.00"))]
    assert catch_up.billing_key == f"billing:{REACTIVATED}"


def test_a_catch_up_that_fails_reactivates_nothing_and_says_why(monkeypatch):
    """No money in signals: the catch-up runs inside the reactivation's transaction, so a failure
    there rolls the reactivation back and reaches the caller, instead of being logged and lost."""
    w = bf.world(on_hold=False)
    sub = bf.subscribe(w, today=d("2026-01-01"))
    fails_to_pay_and_is_suspended(w, sub, w.customer)
    for billing_date in (B, C, DD):
        runs.run_start(run_date=billing_date, inline=True)
    before = invoices(w.customer)

    def tax_engine_down(*args, **kwargs):
        raise RuntimeError("tax engine unreachable")

    monkeypatch.setattr("billing.runs.writing._number_and_issue", tax_engine_down)
    with pytest.raises(runs.CatchUpFailed, match="tax engine unreachable"):
        runs.subscription_reactivate(subscription=sub, acting_user=w.staff, today=REACTIVATED)

    sub.refresh_from_db()
    assert sub.status == "suspended"
    assert invoices(w.customer) == before
    assert not BillingRun.objects.filter(trigger="reactivation").exists()

    monkeypatch.undo()
    runs.subscription_reactivate(subscription=sub, acting_user=w.staff, today=REACTIVATED)
    sub.refresh_from_db()
    assert sub.status == "active"
    [catch_up] = invoices(w.customer, since=REACTIVATED)
    assert periods(catch_up) == [(B, D("15.00")), (C, D("15.00")), (DD, D("15.00"))]

"""Top-ups prepay orders and the daily invoicing run settles them: DESIGN.md "Available credit and
prepaid orders" and seed 000, with its worked example word for word."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from billing import runs
from billing.models import Document, PaymentAllocation, ResellerTransaction
from billing.selectors import account_financials
from billing.topups import topup_pay
from orders import services as order_services
from orders.models import OrderStatus
from resellers.models import Account
from resellers.services import customer_set_order_approval
from tests import factories as f
from tests.factories import orders as of
from tests.factories.api import cash

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)
MODES = Account.DailyInvoicing


def net_terms_reseller_at_its_limit(mode: str):
    """Limit 1,000; open debt 1,000; available 0."""
    provider = f.provider()
    reseller = f.reseller(parent=provider, credit_limit=D("1000.00"))
    Account.objects.filter(pk=reseller.pk).update(daily_invoicing=mode)
    reseller.refresh_from_db()
    f.invoice(reseller, "1000.00", datetime.date(2026, 3, 1))
    customer = f.customer(parent=reseller, name="Customer")
    cash(reseller, default=True)  # it pays its orders in cash; it tops up by card
    user = f.user(account=reseller)
    customer_user = f.user(account=customer)
    product = of.ProductFactory(name="Server", list_price=D("250.00"))
    of.default_catalogue(product)
    fin = account_financials(account=reseller)
    assert (fin.credit_limit, fin.open_debt, fin.available_credit) == (
        D("1000.00"),
        D("1000.00"),
        D("0.00"),
    )
    return reseller, customer, user, customer_user, product


def top_up(reseller, user, amount="300.00"):
    card = f.card(reseller, token="tok_topup")
    return topup_pay(
        account=reseller,
        payment_method=card,
        amount=amount,
        idempotency_key=f"k-{amount}",
        acting_user=user,
        today=TODAY,
    )


def customer_orders(customer, customer_user, reseller_user, product):
    """The customer orders in the portal; its reseller approves (approval is on by default)."""
    order = of.order(placed_by=customer_user, customer=customer, items=[(product, 1)], today=TODAY)
    assert order.status == OrderStatus.PENDING_APPROVAL
    return order_services.order_approve(order=order, acting_user=reseller_user, today=TODAY)


def own_purchase(reseller, user, product):
    return order_services.order_place(
        placed_by=user,
        reseller=reseller,
        items=[order_services.ItemSpec(product=product, quantity=1)],
        today=TODAY,
    )


@pytest.mark.parametrize("mode", [MODES.PREPAID_ONLY, MODES.ALL, MODES.DISABLED])
def test_the_worked_example(mode):
    reseller, customer, user, customer_user, product = net_terms_reseller_at_its_limit(mode)

    # "The reseller tops up 300 (a payment, unapplied): available is still 0."
    payment = top_up(reseller, user)
    fin = account_financials(account=reseller)
    assert (payment.open_amount, fin.credit_balance, fin.available_credit) == (
        D("300.00"),
        D("300.00"),
        D("0.00"),
    )

    # "A customer orders 250 and it is prepaid from the top-up"
    order = customer_orders(customer, customer_user, user, product)
    if mode == MODES.DISABLED:
        # "Under disabled the order is unexecuted due to insufficient credit."
        assert order.status == OrderStatus.UNEXECUTED_CREDIT
        assert not PaymentAllocation.objects.exists()
        return
    # "under prepaid_only or all it is accepted and 250 of the top-up is allocated to it"
    assert order.status == OrderStatus.COMPLETED
    [allocation] = PaymentAllocation.objects.all()
    assert (allocation.payment, allocation.amount, allocation.status) == (
        payment,
        D("250.00"),
        "active",
    )
    assert account_financials(account=reseller).available_credit == D("0.00")  # no credit used

    # "that night's daily invoicing issues a 250 invoice and applies the 250 to it."
    run = runs.run_start(run_date=TODAY, kind="daily", inline=True)
    [daily] = Document.objects.filter(recipient=reseller, billing_key=f"daily:{TODAY}")
    assert (daily.total, daily.open_amount, daily.status) == (D("250.00"), D("0.00"), "paid")
    payment.refresh_from_db()
    allocation.refresh_from_db()
    assert (payment.open_amount, allocation.status, allocation.invoice) == (
        D("50.00"),
        "settled",
        daily,
    )
    assert (run.status, run.invoices_issued) == ("completed", 1)

    # "The reseller's own 250 purchase, prepaid the same way, is accepted under all and
    # unexecuted under prepaid_only." (another 300 top-up, so the money is there)
    top_up(reseller, user, "300.01")
    own = own_purchase(reseller, user, product)
    expected = OrderStatus.COMPLETED if mode == MODES.ALL else OrderStatus.UNEXECUTED_CREDIT
    assert own.status == expected


def test_a_prepaid_charge_never_reaches_the_billing_order():
    reseller, customer, user, customer_user, product = net_terms_reseller_at_its_limit(
        MODES.PREPAID_ONLY
    )
    top_up(reseller, user)
    customer_orders(customer, customer_user, user, product)
    runs.run_start(run_date=TODAY, kind="daily", inline=True)
    prepaid_charge = ResellerTransaction.objects.get(account=reseller, kind="order")
    assert prepaid_charge.status == "invoiced"

    for cycle_date in ("2026-04-10", "2026-05-10"):  # the reseller's (and customer's) cycle
        runs.run_start(run_date=datetime.date.fromisoformat(cycle_date), inline=True)

    billing_orders = (
        Document.objects.filter(recipient=reseller, doc_type="invoice")
        .exclude(pk=prepaid_charge.invoice_id)
        .filter(issue_date__gte=datetime.date(2026, 4, 1))
        .order_by("issue_date")
    )
    # each cycle's billing order: the customer's renewal for that period at cost, and nothing of
    # the order the daily run invoiced
    assert [
        (o.billing_key, [(ln.description, ln.period_start_date) for ln in o.lines.all()])
        for o in billing_orders
    ] == [
        ("billing:2026-04-10", [("Server for Customer", datetime.date(2026, 4, 10))]),
        ("billing:2026-05-10", [("Server for Customer", datetime.date(2026, 5, 10))]),
    ]
    prepaid_charge.refresh_from_db()
    assert prepaid_charge.invoice.billing_key == f"daily:{TODAY}"


def test_all_mode_invoices_every_order_of_the_day_and_runs_once():
    provider = f.provider()
    reseller = f.reseller(parent=provider, credit_limit=D("5000.00"))
    Account.objects.filter(pk=reseller.pk).update(daily_invoicing=MODES.ALL)
    customer = f.customer(parent=reseller)
    user = f.user(account=reseller)
    customer_set_order_approval(customer=customer, required=False, acting_user=user)
    product = of.ProductFactory(list_price=D("40.00"))
    of.default_catalogue(product)
    of.order(placed_by=user, customer=customer, items=[(product, 2)], today=TODAY)
    own_purchase(reseller, user, product)

    call_command("run_daily_invoicing", "--date", TODAY.isoformat(), "--inline")
    call_command("run_daily_invoicing", "--date", TODAY.isoformat(), "--inline")

    [daily] = Document.objects.filter(recipient=reseller, billing_key=f"daily:{TODAY}")
    assert daily.total == D("120.00") and daily.lines.count() == 2
    assert daily.open_amount == D("120.00")  # not prepaid: open on the reseller's terms
    assert not ResellerTransaction.objects.filter(account=reseller, status="uninvoiced").exists()


def test_prepaid_only_invoices_the_customers_prepaid_order_and_nothing_bought_on_credit():
    provider = f.provider()
    reseller = f.reseller(parent=provider, credit_limit=D("100.00"))
    Account.objects.filter(pk=reseller.pk).update(daily_invoicing=MODES.PREPAID_ONLY)
    cash(reseller, default=True)
    customer = f.customer(parent=reseller, name="Customer")
    user = f.user(account=reseller)
    customer_set_order_approval(customer=customer, required=False, acting_user=user)
    seat = of.ProductFactory(name="Seat", list_price=D("40.00"))
    server = of.ProductFactory(name="Server", list_price=D("250.00"))
    of.default_catalogue(seat, server)
    own = own_purchase(reseller, user, seat)  # on credit: 60.00 left
    on_credit = of.order(placed_by=user, customer=customer, items=[(seat, 1)], today=TODAY)
    top_up(reseller, user)  # 20.00 of credit left: the server is prepaid from the top-up
    prepaid = of.order(placed_by=user, customer=customer, items=[(server, 1)], today=TODAY)
    assert [o.status for o in (own, on_credit, prepaid)] == [OrderStatus.COMPLETED] * 3
    assert PaymentAllocation.objects.get(status="active").order == prepaid

    run = runs.run_start(run_date=TODAY, kind="daily", inline=True)

    [daily] = Document.objects.filter(recipient=reseller, billing_key=f"daily:{TODAY}")
    assert [ln.description for ln in daily.lines.all()] == [
        f"Server (order {prepaid.display_number}) for Customer"
    ]
    assert (daily.total, daily.status, run.invoices_issued) == (D("250.00"), "paid", 1)
    # the reseller's own purchase and the customer's order on credit wait for the billing order
    waiting = ResellerTransaction.objects.filter(account=reseller, status="uninvoiced")
    assert sorted(t.amount for t in waiting) == [D("40.00"), D("40.00")]


def test_disabled_invoices_nothing_daily():
    provider = f.provider()
    reseller = f.reseller(parent=provider, credit_limit=D("5000.00"))
    Account.objects.filter(pk=reseller.pk).update(daily_invoicing=MODES.DISABLED)
    user = f.user(account=reseller)
    product = of.ProductFactory(list_price=D("40.00"))
    of.default_catalogue(product)
    own_purchase(reseller, user, product)

    run = runs.run_start(run_date=TODAY, kind="daily", inline=True)

    assert (run.accounts_total, run.invoices_issued) == (0, 0)
    assert not Document.objects.filter(recipient=reseller, doc_type="invoice").exists()


def test_a_cancelled_prepaid_order_frees_its_payment():
    reseller, customer, user, customer_user, product = net_terms_reseller_at_its_limit(
        MODES.PREPAID_ONLY
    )
    payment = top_up(reseller, user)
    customer_set_order_approval(customer=customer, required=True, acting_user=user)
    order = of.order(placed_by=customer_user, customer=customer, items=[(product, 1)], today=TODAY)
    order_services.order_cancel(order=order, acting_user=user)

    assert not PaymentAllocation.objects.filter(status="active").exists()
    assert account_financials(account=reseller).credit_balance == payment.total

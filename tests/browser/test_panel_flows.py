"""Issue 12's panels as a new user finds them, in a real browser. A reseller that pays cash
accepts an order its credit does not cover and reads the rule (a prepaid order needs one payment
covering it) and what would work; it adds a card, tops up the order's total in one payment with
it, accepts again and the order completes. A customer whose billing cycle runs mid-month orders,
and the order page shows the co-termed charge, not a whole month."""

import datetime
import re
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from billing.gateway import TestGateway
from billing.models import Document, DocumentType, ResellerTransaction
from orders import services
from orders.models import Order, OrderStatus
from resellers import services as accounts
from resellers.models import Account, PaymentMethod
from tests import factories as f
from tests.factories import orders as of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(transactional_db):
    """Alpha Reseller (net terms, limit 100.00, pays cash, no card; an unapplied 50.00 payment)
    and its Customer One (approval on). Office Suite costs Alpha 10.00, Customer One 12.50."""
    TestGateway.reset()
    of.reset_gateway()
    provider = f.provider()
    alpha = f.reseller(parent=provider, name="Alpha Reseller", credit_limit=D("100.00"))
    accounts.payment_method_create(account=alpha, kind=PaymentMethod.Kind.CASH)
    customer = f.customer(parent=alpha, name="Customer One")
    office = of.ProductFactory(sku="OFFICE", name="Office Suite", list_price=D("12.00"))
    of.default_catalogue(office)
    of.price_list(provider, [alpha], items={office: "10.00"}, name="Provider to Alpha")
    of.price_list(alpha, [customer], markup=D("25"), name="Alpha to its customers")
    f.payment(alpha, "50.00", datetime.date.today())
    yield SimpleNamespace(
        alpha=alpha,
        customer=customer,
        office=office,
        customer_user=f.user(account=customer, username="customer1"),
        reseller_user=f.user(account=alpha, username="reseller1"),
    )
    TestGateway.reset()


def place(shop, quantity: int) -> Order:
    order = services.order_create(
        placed_by=shop.customer_user,
        customer=shop.customer,
        items=[services.ItemSpec(product=shop.office, quantity=quantity)],
    )
    return services.order_submit(
        order=order, acting_user=shop.customer_user, today=datetime.date.today()
    )


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    # a resale reseller lands on its Dashboard, a customer on its account page
    expect(page).to_have_url(re.compile(r"/(dashboard|account)/$"))


def test_a_refused_order_says_the_rule_then_a_card_top_up_lets_it_through(
    page, live_server, shop, shot
):
    order = place(shop, 12)  # 120.00 of cost: 100.00 available, and a 50.00 payment
    number = order.display_number
    log_in(page, live_server, "reseller1")

    # Accept: refused, and told why and what would work
    page.locator("#pending-approval").get_by_role("button", name=f"Accept order {number}").click()
    message = page.locator(".messages")
    expect(message).to_contain_text(f"Order {number} was accepted. Not executed")
    expect(message).to_contain_text(
        "a prepaid order must be covered by one payment on its own (payments are not added "
        "together): the most any one of your unapplied payments has free is 50.00 USD."
    )
    expect(message).to_contain_text("What would work: top up 120.00 USD or more in one payment")
    shot(page, "1-refused")
    page.locator("#unexecuted-orders").get_by_role("link", name=number).click()
    expect(page.locator("#credit-advice")).to_contain_text(
        "It needs 120.00 USD of available credit (its total cost for the first billing period, "
        "before tax); your available credit is 100.00 USD."
    )
    shot(page, "2-order-page")

    # It pays cash: add a card (it stays paying cash) ...
    page.goto(f"{live_server.url}/account/")
    page.locator("#add-card-link").click()
    expect(page.get_by_role("heading", name=re.compile("Add a card"))).to_be_visible()
    expect(page.get_by_label("Make it my default payment method")).not_to_be_checked()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/39")
    page.get_by_label("Name (optional)").fill("Visa")
    shot(page, "3-add-card")
    page.get_by_role("button", name="Add card").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator(".messages")).to_have_text(
        "Added Visa •••• 4242 (valid to 12/2039). You still pay by cash; the card is there to "
        "top up with."
    )
    card = PaymentMethod.objects.get(account=shop.alpha, kind=PaymentMethod.Kind.CARD)
    assert not card.is_default and card.card_last4 == "4242"

    # ... top up the order's total in one payment with it ...
    page.locator("#topup-link").click()
    expect(page.get_by_label("Card", exact=True)).to_have_value(str(card.pk))
    page.get_by_label("Amount (USD)").fill("120.00")
    page.get_by_role("button", name="Pay top-up").click()
    expect(page.locator(".messages")).to_contain_text("of 120.00 USD charged to Visa •••• 4242")
    shot(page, "4-topped-up")
    topup = Document.objects.get(recipient=shop.alpha, doc_type=DocumentType.PAYMENT, total=120)
    assert topup.payment_method == card

    # ... and accept again from the Dashboard: prepaid by that one payment, it completes
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.locator("#unexecuted-orders").get_by_role("button", name=f"Accept order {number}").click()
    expect(page.locator(".messages")).to_have_text(f"Order {number} was accepted and is completed.")
    shot(page, "5-completed")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_an_order_page_shows_the_co_termed_total(page, live_server, shop, shot):
    # Customer One's cycle started ten days ago: an order today is charged the days up to its
    # next cycle date, not a whole month.
    today = datetime.date.today()
    Account.objects.filter(pk=shop.customer.pk).update(
        billing_anchor=today - datetime.timedelta(days=10)
    )
    order = place(shop, 3)  # a whole month: cost 30.00, amount 37.50
    services.order_approve(order=order, acting_user=shop.reseller_user, today=today)
    charged = {
        row.account_id: row.amount
        for row in ResellerTransaction.objects.filter(order_item__order=order, kind="order")
    }
    cost, amount = charged[shop.alpha.pk], charged[shop.customer.pk]
    assert D("0") < cost < D("30.00") and D("0") < amount < D("37.50")

    log_in(page, live_server, "reseller1")
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.locator("h1 [data-field=status]")).to_have_text("Completed")
    expect(page.locator("[data-field=total_cost]")).to_have_text(f"{cost} USD")
    expect(page.locator("[data-field=total_amount]")).to_have_text(f"{amount} USD")
    row = page.locator("#items tbody tr", has_text="Office Suite")
    expect(row.locator("[data-field=item_total]")).to_have_text(f"{amount} USD")
    expect(row.locator("[data-field=co-termed]")).to_contain_text(
        "prorated to the next billing date; 37.50 USD a whole period"
    )
    shot(page, "order-page")

    # the order list says the same
    page.goto(f"{live_server.url}/orders/")
    listed = page.locator("tbody tr", has_text=order.display_number)
    expect(listed).to_contain_text(f"{cost} USD")
    expect(listed).to_contain_text(f"{amount} USD")

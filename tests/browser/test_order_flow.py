"""Seed 004's ordering path in a real browser. A customer logs in, orders from its catalogue
(basket -> review -> submit) and reads the confirmation; its reseller, which pays by cash with
credit to spare, logs in, finds the order in *Submitted Orders Pending Approval*, accepts it, and
the order is Completed, on the page and in the database."""

import re
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderStatus, Subscription
from resellers import services as accounts
from resellers.models import PaymentMethod
from tests import factories as f
from tests.factories import orders as of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(transactional_db):
    """Alpha Reseller (net terms, limit 1,000, pays cash) and its Customer One (approval on, the
    default). Office Suite costs Alpha 10.00 and Customer One 12.50 (Alpha's list: cost + 25%)."""
    of.reset_gateway()
    provider = f.provider()
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    accounts.payment_method_create(account=alpha, kind=PaymentMethod.Kind.CASH)
    accounts.contact_create(
        account=alpha, name="Alice Alpha", email="alice@alpha.example", is_bill_to=True
    )
    customer = f.customer(parent=alpha, name="Customer One")
    accounts.contact_create(
        account=customer, name="Carl One", email="carl@one.example", is_primary=True
    )
    office = of.ProductFactory(
        sku="OFFICE", name="Office Suite", list_price=D("12.00"), description="Mail and documents"
    )
    backup = of.ProductFactory(sku="BACKUP", name="Backup", list_price=D("5.00"), trial_days=14)
    of.default_catalogue(office, backup)
    of.price_list(provider, [alpha], items={office: "10.00"}, name="Provider to Alpha")
    of.price_list(alpha, [customer], markup=D("25"), name="Alpha to its customers")
    return SimpleNamespace(
        alpha=alpha,
        customer=customer,
        office=office,
        customer_user=f.user(account=customer, username="customer1"),
        reseller_user=f.user(account=alpha, username="reseller1"),
    )


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    # a resale reseller lands on its Dashboard, a customer on its account page
    expect(page).to_have_url(re.compile(r"/(dashboard|account)/$"))


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_customer_orders_reseller_accepts_and_the_order_completes(page, live_server, shop, shot):
    # the customer: catalogue -> basket
    log_in(page, live_server, "customer1")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="New order", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Catalogue"))).to_be_visible()
    row = page.locator("#catalogue tbody tr", has_text="Office Suite")
    expect(row).to_contain_text("12.50 USD / month")
    row.get_by_label("Quantity of Office Suite").fill("2")
    shot(page, "1-catalogue")
    row.get_by_role("button", name="Add Office Suite to basket").click()
    expect(page.locator(".messages")).to_have_text(
        "Added Office Suite to your basket (quantity 2)."
    )
    expect(page.locator("#basket-summary [data-field=basket_total]")).to_have_text("25.00 USD")
    shot(page, "2-added")

    # basket: change the quantity, then review
    page.locator("#basket-summary").get_by_role("link", name="Change quantities").click()
    page.get_by_label("Quantity of Office Suite").fill("3")
    page.get_by_role("button", name="Update quantities").click()
    expect(page.locator("[data-field=basket_total]")).to_have_text("37.50 USD")
    shot(page, "3-basket")
    page.get_by_role("button", name="Review order").click()

    # review: the billing information comes from the primary contact
    expect(page.get_by_role("heading", name=re.compile("Review your order"))).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Carl One")
    expect(page.get_by_label("Email")).to_have_value("carl@one.example")
    expect(page.locator("[data-field=order_total]")).to_have_text("37.50 USD")
    shot(page, "4-review")
    page.get_by_role("button", name="Submit order").click()

    order = Order.objects.get(customer=shop.customer)
    number = order.display_number
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.locator(".messages")).to_have_text(
        f"Your order {number} was submitted. We emailed you a link to follow its status."
    )
    expect(page.locator("h1 [data-field=status]")).to_have_text("Pending Reseller Approval")
    expect(page.locator("[data-field=total_amount]")).to_have_text("37.50 USD")
    expect(page.locator("[data-field=total_cost]")).to_have_count(0)  # the reseller's cost
    shot(page, "5-submitted")
    log_out(page)

    # the reseller: the dashboard's widget -> Accept order
    log_in(page, live_server, "reseller1")
    widget = page.locator("#pending-approval")
    expect(widget.get_by_role("heading")).to_have_text("Submitted Orders Pending Approval")
    row = widget.locator("tbody tr", has_text=number)
    expect(row).to_contain_text("Customer One")
    expect(row).to_contain_text("30.00 USD")  # total cost: 3 x 10.00
    expect(row).to_contain_text("37.50 USD")  # total amount: 3 x 12.50
    shot(page, "6-pending-widget")
    row.get_by_role("button", name=f"Accept order {number}").click()
    expect(page.locator(".messages")).to_have_text(f"Order {number} was accepted and is completed.")
    expect(widget.locator("tbody")).to_have_text("No orders are waiting for your approval.")
    shot(page, "7-accepted")

    # the order's page, reached from the customer's page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Customer One").click()
    page.locator("#orders").get_by_role("link", name=number).click()
    expect(page.locator("h1 [data-field=status]")).to_have_text("Completed")
    expect(page.locator("[data-field=total_cost]")).to_have_text("30.00 USD")
    expect(page.locator("#items tbody tr", has_text="Office Suite")).to_contain_text("Delivered")
    expect(page.locator("#order-actions")).to_have_count(0)  # no actions on a completed order
    shot(page, "8-order-page")

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.approved_by == shop.reseller_user
    assert (order.total_cost, order.total_amount) == (D("30.00"), D("37.50"))
    subscription = Subscription.objects.get(order=order)
    assert (subscription.product, subscription.quantity) == (shop.office, 3)

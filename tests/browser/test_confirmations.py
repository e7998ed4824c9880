"""Confirmation pages and the Content Security Policy in a real browser.

A customer clicks Cancel on its subscription, reads on the confirmation page when it ends (the
subscription is unchanged meanwhile), confirms, and it is pending cancellation. Chromium reports
every CSP violation on the console ("Refused to ..."): none may appear on the panel pages, the
Swagger UI (/api/v1/docs/) or the Django admin."""

import re
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from billing.document_layout import day
from orders.models import Subscription
from resellers import services as accounts
from resellers.models import PaymentMethod
from tests import factories as f
from tests.factories import orders as of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(transactional_db):
    """Alpha Reseller (pays cash) and Customer One, approval off: its Office Suite order
    completes at once, so it holds an active, billed subscription."""
    of.reset_gateway()
    provider = f.provider()
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    accounts.payment_method_create(account=alpha, kind=PaymentMethod.Kind.CASH)
    customer = f.customer(parent=alpha, name="Customer One")
    reseller_user = f.user(account=alpha, username="reseller1")
    accounts.customer_set_order_approval(
        customer=customer, required=False, acting_user=reseller_user
    )
    office = of.ProductFactory(sku="OFFICE", name="Office Suite", list_price=D("12.00"))
    of.default_catalogue(office)
    of.price_list(provider, [alpha], items={office: "10.00"}, name="Provider to Alpha")
    of.price_list(alpha, [customer], markup=D("25"), name="Alpha to its customers")
    customer.refresh_from_db()
    customer_user = f.user(account=customer, username="customer1")
    of.order(placed_by=customer_user, customer=customer, items=[(office, 1)])
    staff = f.user(account=provider, username="staff")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return SimpleNamespace(
        subscription=Subscription.objects.get(account=customer), staff=staff, customer=customer
    )


@pytest.fixture
def violations(page):
    """Console messages that report a blocked inline script or style, or any CSP refusal."""
    seen: list[str] = []

    def note(message):
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            seen.append(f"{page.url}: {text[:160]}")

    page.on("console", note)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()


def test_cancel_a_subscription_through_its_confirmation_page(
    page, live_server, shop, violations, shot
):
    subscription = shop.subscription
    assert subscription.status == "active" and subscription.next_billing_date
    log_in(page, live_server, "customer1")
    expect(page).to_have_url(re.compile(r"/account/$"))

    page.get_by_role("button", name="Cancel subscription to Office Suite").click()

    expect(page).to_have_url(re.compile(rf"/subscriptions/{subscription.pk}/cancel/\?next="))
    expect(
        page.get_by_role("heading", name="Cancel Office Suite for Customer One?")
    ).to_be_visible()
    until = day(subscription.next_billing_date)  # the panels' date format (settings)
    expect(page.locator("#consequences")).to_contain_text(
        "Office Suite for Customer One stays active until the end of the period already billed "
        f"({until}), then ends."
    )
    shot(page, "1-confirmation")
    subscription.refresh_from_db()
    assert subscription.status == "active"  # the click only opened the page

    page.get_by_role("button", name="Yes, cancel the subscription").click()

    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator(".messages")).to_contain_text(
        f"Office Suite is cancelled at the end of the period already billed ({until})."
    )
    shot(page, "2-cancelled")
    subscription.refresh_from_db()
    assert subscription.status == "pending_cancellation"
    assert violations == []


def test_back_leaves_the_subscription_alone(page, live_server, shop, violations):
    log_in(page, live_server, "customer1")
    expect(page).to_have_url(re.compile(r"/account/$"))
    page.get_by_role("button", name="Cancel subscription to Office Suite").click()

    page.get_by_role("link", name="Back").click()

    expect(page).to_have_url(re.compile(r"/account/$"))
    shop.subscription.refresh_from_db()
    assert shop.subscription.status == "active"
    assert violations == []


def test_swagger_ui_and_the_admin_run_under_the_policy(page, live_server, shop, violations):
    log_in(page, live_server, "staff")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    page.goto(live_server.url + "/api/v1/docs/")
    # Swagger UI is built by its scripts: the title and an operation appear only if they ran
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Cloud billing API")
    expect(page.locator(".opblock").first).to_be_visible()

    for name in (
        "admin:index",
        "admin:resellers_account_changelist",
        "admin:resellers_account_add",
    ):
        page.goto(live_server.url + reverse(name))
        expect(page.locator("#content")).to_be_visible()
    # the admin's scripts ran: the inline formsets got their "Add another" links (inlines.js),
    # and the change list's action bar counts the selection (actions.js)
    page.goto(live_server.url + reverse("admin:resellers_account_add"))
    expect(page.locator(".add-row a").first).to_be_visible()
    page.goto(live_server.url + reverse("admin:resellers_user_changelist"))
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("selected")

    assert violations == []

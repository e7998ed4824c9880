"""Cancelling a subscription from the panel: its holder, its reseller or staff; others get 404."""

import datetime

import pytest
from django.urls import reverse

from orders.models import Subscription
from resellers.services import customer_set_order_approval
from tests.factories import orders as of
from tests.functional.dashboard.ordering import messages_of


@pytest.fixture
def subscription(world, shop):
    customer_set_order_approval(customer=world.c1, required=False, acting_user=world.r1_user)
    world.c1.refresh_from_db()
    of.order(placed_by=world.c1_user, customer=world.c1, items=[(shop.office, 1)],
             today=datetime.date(2026, 2, 10))  # fmt: skip
    return Subscription.objects.get(account=world.c1)


def test_the_customer_cancels_from_its_account_page(login, world, subscription):
    client = login(world.c1_user)
    url = reverse("subscription_cancel", args=[subscription.pk])
    assert url in client.get(reverse("account")).content.decode()

    response = client.post(url, {"next": reverse("account")}, follow=True)

    subscription.refresh_from_db()
    assert subscription.status == "pending_cancellation"
    assert messages_of(response) == [
        f"{subscription.product.name} is cancelled at the end of the period already billed "
        "(10 Mar 2026)."
    ]
    assert url not in response.content.decode()  # nothing left to cancel


def test_its_reseller_may_cancel_it(login, world, subscription):
    login(world.r1_user).post(reverse("subscription_cancel", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.status == "pending_cancellation"


@pytest.mark.parametrize("who", ["r2_user", "c2_user", "ref_user"])
def test_another_tenant_gets_404_and_nothing_changes(login, world, subscription, who):
    response = login(getattr(world, who)).post(
        reverse("subscription_cancel", args=[subscription.pk])
    )
    subscription.refresh_from_db()
    assert response.status_code == 404
    assert subscription.status == "active"


def test_cancelling_twice_says_why_and_changes_nothing(login, world, subscription):
    client = login(world.c1_user)
    url = reverse("subscription_cancel", args=[subscription.pk])
    client.post(url, follow=True)
    response = client.post(url, follow=True)
    assert messages_of(response) == ["The subscription is already pending cancellation."]
    subscription.refresh_from_db()
    assert subscription.status == "pending_cancellation"


@pytest.mark.parametrize(
    ("who", "page"),
    [("staff", "customer_detail"), ("r1_user", "own_customer_detail"), ("c1_user", "account")],
)
def test_the_cancel_button_asks_first(login, world, subscription, who, page):
    """One click would cancel: the button is a GET to the confirmation page (no inline script:
    the CSP allows none), which names the product and the account and says when it ends."""
    args = [] if page == "account" else [world.c1.pk]
    client = login(getattr(world, who))
    url = reverse("subscription_cancel", args=[subscription.pk])

    html = client.get(reverse(page, args=args)).content.decode()

    form = html.split(f'action="{url}"')[1].split(">", 1)[0]
    assert 'method="get"' in form and "onsubmit" not in form
    confirmation = client.get(url).content.decode()
    assert "Cancel Office Suite for Customer One?" in confirmation
    assert (
        "Office Suite for Customer One stays active until the end of the period already billed "
        "(10 Mar 2026), then ends."
    ) in confirmation
    subscription.refresh_from_db()
    assert subscription.status == "active"

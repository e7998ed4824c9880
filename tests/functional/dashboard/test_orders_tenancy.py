"""Tenant isolation on every order list, page and action: another tenant's order answers 404 (its
number never shows), the tenant check comes before the role check (403), and a refused action
changes nothing. Two resale resellers (reseller1 pays cash, reseller2 by card), a referral
reseller, their customers, provider staff."""

import datetime

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus
from resellers.models import AuditEvent
from tests.functional.dashboard.ordering import place

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 2, 10)


@pytest.fixture
def orders(world, shop):
    """One order of each tenant: Customer One's and Customer Two's pending approval, reseller1's
    and reseller2's own (completed), the referral customer's (on its own prepaid terms, owing
    80.00 with no credit: unexecuted)."""
    return {
        "c1": place(world.c1_user, [(shop.office, 1)], customer=world.c1, today=TODAY),
        "c2": place(world.c2_user, [(shop.office, 1)], customer=world.c2, today=TODAY),
        "r1": place(world.r1_user, [(shop.office, 1)], reseller=world.r1, today=TODAY),
        "r2": place(world.r2_user, [(shop.office, 1)], reseller=world.r2, today=TODAY),
        "refc": place(world.refc_user, [(shop.office, 1)], customer=world.refc, today=TODAY),
    }


def snapshot() -> list:
    return list(Order.objects.order_by("pk").values_list("pk", "status", "approved_at"))


ACTIONS = ["order_accept", "order_cancel", "order_execute"]

# (who, whose order): the order page and every action answer 404
NOT_FOUND = [
    ("r1_user", "c2"),
    ("r1_user", "r2"),
    ("r1_user", "refc"),
    ("r2_user", "c1"),
    ("r2_user", "r1"),
    ("c1_user", "c2"),
    ("c1_user", "r1"),  # its reseller's own purchase
    ("c2_user", "c1"),
    ("ref_user", "refc"),  # a referral reseller never sees its customers' orders
    ("ref_user", "c1"),
    ("refc_user", "c1"),
]

VISIBLE = [
    ("staff", "c1"),
    ("staff", "refc"),
    ("r1_user", "c1"),
    ("r1_user", "r1"),
    ("r2_user", "c2"),
    ("c1_user", "c1"),
    ("c2_user", "c2"),
    ("refc_user", "refc"),
]


@pytest.mark.parametrize(("who", "whose"), VISIBLE)
def test_an_order_page_answers_200_to_whoever_may_see_it(client, world, orders, who, whose):
    client.force_login(getattr(world, who))
    response = client.get(reverse("order-status", args=[orders[whose].pk]))
    assert response.status_code == 200


@pytest.mark.parametrize(("who", "whose"), NOT_FOUND)
def test_another_tenants_order_answers_404_on_its_page_and_every_action(
    client, world, orders, who, whose
):
    client.force_login(getattr(world, who))
    order = orders[whose]
    before = snapshot()
    response = client.get(reverse("order-status", args=[order.pk]))
    assert response.status_code == 404
    assert order.display_number.encode() not in response.content
    for action in ACTIONS:
        assert client.post(reverse(action, args=[order.pk])).status_code == 404, action
    assert snapshot() == before


def test_a_guessed_order_id_that_does_not_exist_answers_404(client, world, orders):
    client.force_login(world.staff)
    assert client.get(reverse("order-status", args=[999999])).status_code == 404
    assert client.post(reverse("order_accept", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("who", "whose", "action"),
    [
        ("c1_user", "c1", "order_accept"),  # a customer does not approve its own order
        ("c1_user", "c1", "order_execute"),
        ("r1_user", "c1", "order_execute"),  # execution is the distributor's
        ("c2_user", "c2", "order_accept"),
    ],
)
def test_an_action_without_the_role_answers_403_and_changes_nothing(
    client, world, orders, who, whose, action
):
    client.force_login(getattr(world, who))
    before = snapshot()
    assert client.post(reverse(action, args=[orders[whose].pk])).status_code == 403
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="order.approve").exists()


def test_a_customer_may_cancel_its_own_order_while_it_waits_for_approval(client, world, orders):
    client.force_login(world.c1_user)
    order = orders["c1"]
    html = client.get(reverse("order-status", args=[order.pk])).content.decode()
    assert f'action="/orders/{order.pk}/cancel/"' in html
    assert "/accept/" not in html
    client.post(reverse("order_cancel", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_customer_cannot_cancel_once_the_order_is_with_its_reseller(client, world, orders):
    """reseller1 accepts; Customer One's order is completed: a customer's cancel is refused."""
    client.force_login(world.r1_user)
    client.post(reverse("order_accept", args=[orders["c1"].pk]))
    client.force_login(world.c1_user)
    assert client.post(reverse("order_cancel", args=[orders["c1"].pk])).status_code == 403
    assert Order.objects.get(pk=orders["c1"].pk).status == OrderStatus.COMPLETED


def listed(client, url, table="table") -> set:
    return set(client.get(url).context[table].data.data)


def test_every_list_holds_only_the_tenants_orders(client, world, orders):
    client.force_login(world.r1_user)
    assert listed(client, reverse("order_list")) == {orders["c1"], orders["r1"]}
    page = client.get(reverse("reseller_dashboard"))
    assert set(page.context["pending_table"].data.data) == {orders["c1"]}
    assert set(page.context["unexecuted_table"].data.data) == set()
    account = client.get(reverse("account"))
    assert set(account.context["orders_table"].data.data) == {orders["r1"]}
    html = page.content.decode() + account.content.decode()
    for other in ("c2", "r2", "refc"):
        assert orders[other].display_number not in html

    client.force_login(world.r2_user)
    assert listed(client, reverse("order_list")) == {orders["c2"], orders["r2"]}
    page = client.get(reverse("reseller_dashboard"))
    assert set(page.context["pending_table"].data.data) == {orders["c2"]}

    client.force_login(world.c1_user)
    assert listed(client, reverse("order_list")) == {orders["c1"]}
    assert client.get(reverse("reseller_dashboard")).status_code == 404

    client.force_login(world.refc_user)
    assert listed(client, reverse("order_list")) == {orders["refc"]}


def test_the_referral_reseller_sees_none_of_its_customers_orders(client, world, orders):
    client.force_login(world.ref_user)
    assert listed(client, reverse("order_list")) == set()
    account = client.get(reverse("account"))
    assert "orders_table" not in account.context
    assert client.get(reverse("reseller_dashboard")).status_code == 404
    page = client.get(reverse("own_customer_detail", args=[world.refc.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="orders"' not in html and 'id="subscriptions"' not in html
    assert orders["refc"].display_number not in html


def test_a_referral_customer_reads_its_own_order_as_its_credit_account(client, world, orders):
    """The referral customer orders on its own terms with the provider: it sees the real status,
    the reason, and may accept it again once it has credit."""
    client.force_login(world.refc_user)
    order = orders["refc"]
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    html = client.get(reverse("order-status", args=[order.pk])).content.decode()
    assert 'data-field="status">Unexecuted due to Insufficient Credit<' in html
    assert 'id="status-message"' in html
    assert f'action="/orders/{order.pk}/accept/"' in html


def test_a_customer_never_sees_its_resellers_cost(client, world, orders):
    client.force_login(world.c1_user)
    order = orders["c1"]
    html = client.get(reverse("order-status", args=[order.pk])).content.decode()
    assert 'data-field="total_cost"' not in html and "10.00 USD" not in html
    assert 'data-field="total_amount">12.50 USD<' in html
    listing = client.get(reverse("order_list")).content.decode()
    assert "Total Cost" not in listing and "10.00 USD" not in listing
    account = client.get(reverse("account")).content.decode()
    assert "Total Cost" not in account and "10.00 USD" not in account


@pytest.mark.parametrize(
    ("who", "name", "key"),
    [
        ("r1_user", "own_customer_detail", "c2"),
        ("r2_user", "own_customer_detail", "c1"),
        ("c1_user", "own_customer_detail", "c1"),
    ],
)
def test_customer_pages_with_their_orders_stay_404_across_tenants(
    client, world, orders, who, name, key
):
    client.force_login(getattr(world, who))
    assert client.get(reverse(name, args=[getattr(world, key).pk])).status_code == 404


def test_an_action_returns_only_to_a_page_of_this_site(client, world, orders):
    client.force_login(world.r1_user)
    order = orders["c1"]
    response = client.post(
        reverse("order_cancel", args=[order.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("order-status", args=[order.pk])
    response = client.post(reverse("order_accept", args=[order.pk]), {"next": "/account/"})
    assert response.url == "/account/"

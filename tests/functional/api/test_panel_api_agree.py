"""The panel and the API give the same answer about an order or a subscription, because both read
orders.workflow: the status a user is shown, the status message, and which actions it may take
(the panel's buttons; the API's 403/409 for the rest). Every visible order and subscription of
the shop, as every role that sees it."""

import pytest
from django.urls import reverse

from orders.models import Order, Subscription
from orders.selectors import order_actions, subscription_actions
from orders.workflow import ORDER_ACTIONS, SUBSCRIPTION_ACTIONS, order_action_check
from resellers.exceptions import ApplicationError
from tests.functional.api.shop import ORDERS, ORDERS_VISIBLE, user

ORDER_ENDPOINT = {"accept": "approve", "cancel": "cancel"}  # execute has no API action
SUBSCRIPTION_ENDPOINT = {
    "cancel": ("cancel", {}),
    "cancel_immediately": ("cancel", {"immediately": True}),
    "suspend": ("suspend", {}),
    "change_quantity": ("change-quantity", {"quantity": 7}),
}


def _state(model, pk):
    return model.objects.filter(pk=pk).values().get()


def _panel(client, person):
    client.force_login(person)
    return client


@pytest.mark.parametrize("role", sorted(ORDERS_VISIBLE))
def test_an_orders_status_message_and_buttons_match_the_api(world, shop, api, client, role):
    person = user(world, shop, role)
    panel, rest = _panel(client, person), api(person)
    for key in sorted(ORDERS_VISIBLE[role]):
        order = Order.objects.get(pk=getattr(shop, key).pk)
        allowed = order_actions(user=person, order=order)
        html = panel.get(reverse("order-status", args=[order.pk])).content.decode()
        body = rest.get(f"/api/v1/orders/{order.pk}/").json()

        assert f'data-field="status">{body["status_display"]}<' in html, (role, key)
        assert (body["status_message"] or "") in html
        assert ('id="status-message"' in html) == bool(body["status_message"]), (role, key)
        assert ("Accept order" in html) == ("accept" in allowed), (role, key)
        assert ("Execute</button>" in html) == ("execute" in allowed), (role, key)
        assert (f'action="/orders/{order.pk}/cancel/"' in html) == ("cancel" in allowed)

        for action in sorted(set(ORDER_ENDPOINT) - allowed):
            before = _state(Order, order.pk)
            response = rest.post(f"/api/v1/orders/{order.pk}/{ORDER_ENDPOINT[action]}/")
            assert response.status_code in (403, 409), (role, key, action, response.content)
            assert _state(Order, order.pk) == before


@pytest.mark.parametrize("role", ["staff", "alpha", "bravo", "alpha_customer"])
def test_a_subscriptions_buttons_match_what_the_api_refuses(world, shop, api, client, role):
    person = user(world, shop, role)
    panel, rest = _panel(client, person), api(person)
    for sub in (shop.s_a1, shop.s_a, shop.s_b1):
        seen = rest.get(f"/api/v1/subscriptions/{sub.pk}/")
        if seen.status_code == 404:
            continue
        sub = Subscription.objects.get(pk=sub.pk)
        allowed = subscription_actions(user=person, subscription=sub)
        account = sub.account_id
        page = "customer_detail" if role == "staff" else "own_customer_detail"
        if sub.account.is_customer and role in ("staff", "alpha", "bravo"):
            html = panel.get(reverse(page, args=[account])).content.decode()
            assert (f"/subscriptions/{sub.pk}/cancel/" in html) == ("cancel" in allowed)
            assert (f"/subscriptions/{sub.pk}/suspend/" in html) == ("suspend" in allowed)
        for action in sorted(set(SUBSCRIPTION_ENDPOINT) - allowed):
            path, data = SUBSCRIPTION_ENDPOINT[action]
            before = _state(Subscription, sub.pk)
            response = rest.post(f"/api/v1/subscriptions/{sub.pk}/{path}/", data, format="json")
            assert response.status_code in (403, 409), (role, action, response.content)
            assert _state(Subscription, sub.pk) == before


def test_every_status_and_party_the_check_allows_exactly_what_the_selector_lists(world, shop):
    """The services' check (order_action_check) and the panels' selector (order_actions) read
    one table: for every status, as every party, they agree on every action."""
    people = [user(world, shop, role) for role in ORDERS_VISIBLE] + [None]
    for key in ORDERS:
        order = Order.objects.get(pk=getattr(shop, key).pk)
        for status in Order._meta.get_field("status").choices:
            order.status = status[0]
            for person in people:
                listed = order_actions(user=person, order=order)
                for action in ORDER_ACTIONS:
                    try:
                        order_action_check(user=person, order=order, action=action)
                        passed = True
                    except ApplicationError:
                        passed = False
                    assert passed == (action in listed), (key, status, person, action)
    assert set(SUBSCRIPTION_ENDPOINT) <= set(SUBSCRIPTION_ACTIONS)

"""The provider panel's orders (Billing → Orders): orders submitted to the distributor for manual
execution and orders left unexecuted for lack of credit, with Execute and Cancel; every order
below; the order page for provider staff."""

import datetime
import re

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus, Subscription
from tests.functional.dashboard.ordering import messages_of, place

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 2, 10)
ORDERS = reverse("distributor_orders")


@pytest.fixture
def staff(login, world):
    return login(world.staff)


@pytest.fixture
def orders(world, shop):
    """manual: reseller1 buys 1 x Server Setup (executed by hand) for itself -> submitted to the
    distributor, 300.00 of its 749.50 reserved. short: then 3 x Server Setup (900.00 > 449.50
    left) -> unexecuted due to insufficient credit."""
    manual = place(world.r1_user, [(shop.setup, 1)], reseller=world.r1, today=TODAY)
    short = place(world.r1_user, [(shop.setup, 3)], reseller=world.r1, today=TODAY)
    return manual, short


def row_of(html: str, order: Order) -> str:
    match = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{order.display_number}.*?</tr>", html, re.S)
    assert match, f"no row for {order.display_number}"
    return match.group(0)


def test_the_list_holds_orders_for_the_distributor_with_their_actions(staff, world, orders):
    manual, short = orders
    assert (manual.status, short.status) == (
        OrderStatus.SUBMITTED_TO_DISTRIBUTOR,
        OrderStatus.UNEXECUTED_CREDIT,
    )
    response = staff.get(ORDERS)
    assert set(response.context["to_act_on"].data.data) == {manual, short}
    html = response.content.decode()
    todo = html[html.index('id="distributor-orders"') : html.index('id="all-orders"')]
    row = row_of(todo, manual)
    assert "Alpha Reseller" in row and "Submitted to Distributor" in row and "300.00 USD" in row
    assert f'action="/orders/{manual.pk}/execute/"' in row
    assert f'action="/orders/{manual.pk}/cancel/"' in row
    row = row_of(todo, short)
    assert "Unexecuted due to Insufficient Credit" in row
    assert "/execute/" not in row and f'action="/orders/{short.pk}/cancel/"' in row
    assert 'aria-current="page">Orders</a>' in html  # the Billing subnav


def test_staff_execute_an_order_submitted_to_the_distributor(staff, world, orders):
    manual, _ = orders
    response = staff.post(reverse("order_execute", args=[manual.pk]), {"next": ORDERS}, follow=True)
    assert response.redirect_chain[-1][0] == ORDERS
    assert messages_of(response) == [
        f"Order {manual.display_number} was executed and is completed."
    ]
    manual.refresh_from_db()
    assert manual.status == OrderStatus.COMPLETED
    assert manual not in response.context["to_act_on"].data.data
    assert Order.objects.get(pk=manual.pk).items.get().delivery_status == "delivered"
    assert not Subscription.objects.filter(order=manual).exists()  # one-time: no subscription


def test_staff_cancel_an_unexecuted_order(staff, world, orders):
    _, short = orders
    response = staff.post(reverse("order_cancel", args=[short.pk]), {"next": ORDERS}, follow=True)
    assert messages_of(response) == [f"Order {short.display_number} was cancelled."]
    short.refresh_from_db()
    assert short.status == OrderStatus.CANCELLED


def test_executing_an_order_that_is_not_with_the_distributor_is_refused(staff, world, orders):
    _, short = orders
    response = staff.post(reverse("order_execute", args=[short.pk]), follow=True)
    assert messages_of(response) == [
        f"Order {short.display_number} is Unexecuted due to Insufficient Credit; it cannot be "
        "executed."
    ]
    short.refresh_from_db()
    assert short.status == OrderStatus.UNEXECUTED_CREDIT


def test_staff_see_every_orders_page_with_cost_and_actions(staff, world, shop, orders):
    manual, _ = orders
    theirs = place(world.c2_user, [(shop.office, 1)], customer=world.c2, today=TODAY)
    html = staff.get(reverse("order-status", args=[manual.pk])).content.decode()
    assert 'data-field="total_cost">300.00 USD<' in html
    assert "Own purchase of Alpha Reseller" in html
    actions = html[html.index('id="order-actions"') :]
    assert "Execute" in actions and "Cancel order" in actions and "Accept order" not in actions
    html = staff.get(reverse("order-status", args=[theirs.pk])).content.decode()
    assert 'data-field="status">Pending Reseller Approval<' in html  # the real status
    # staff may accept for the reseller, as the API's approve/ lets them (orders.workflow)
    assert "Accept order" in html
    all_orders = staff.get(ORDERS).context["all_orders"].data.data
    assert {manual, theirs} <= set(all_orders)


def test_staff_go_from_orders_to_the_provider_list(staff, world):
    response = staff.get(reverse("order_list"))
    assert response.status_code == 302 and response.url == ORDERS
    assert staff.get(reverse("billing")).status_code == 200


@pytest.mark.parametrize("who", ["r1_user", "c1_user", "ref_user"])
def test_the_provider_list_answers_403_to_everyone_else(client, world, orders, who):
    client.force_login(getattr(world, who))
    assert client.get(ORDERS).status_code == 403


def test_a_reseller_cannot_execute_its_own_order(client, world, orders):
    manual, _ = orders
    client.force_login(world.r1_user)
    assert client.post(reverse("order_execute", args=[manual.pk])).status_code == 403
    manual.refresh_from_db()
    assert manual.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR


def test_executing_a_sub_order_completes_its_parent(staff, world, shop):
    world.c1.order_approval_required = False
    world.c1.save()
    order = place(
        world.c1_user, [(shop.office, 1), (shop.setup, 1)], customer=world.c1, today=TODAY
    )
    manual = order.sub_orders.get(status=OrderStatus.SUBMITTED_TO_DISTRIBUTOR)
    html = staff.get(ORDERS).content.decode()
    assert (
        f'{manual.display_number}</a><span class="part-of">part of <a href="/orders/{order.pk}/">'
        in html
    )
    staff.post(reverse("order_execute", args=[manual.pk]))
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_the_billing_page_counts_the_orders_waiting_for_the_distributor(staff, world, orders):
    html = staff.get(reverse("billing")).content.decode()
    assert 'data-figure="orders_waiting">2<' in html
    assert f'href="{ORDERS}"' in html

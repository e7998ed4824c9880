"""The reseller's side of seed 004 in the panels: the Order Approval toggle on its customer's page,
the dashboard's *Submitted Orders Pending Approval* and *Unexecuted Orders Due to Insufficient
Credit* with Accept and Cancel, the detailed order view (with sub-orders, and the token warning),
the customer's orders and subscriptions.

`world` + `shop` (ordering.py): reseller1 pays cash, 749.50 available; reseller2 pays by card
(tok_test, valid to 2030), 600.00 available. Customer One pays reseller1's cost + 25%.
"""

import datetime
import re

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus, Subscription
from orders.services import TOKEN_WARNING
from resellers import services as accounts
from resellers.models import AuditEvent, PaymentMethod
from tests import factories as f
from tests.functional.dashboard.ordering import messages_of, place

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 2, 10)
ACCOUNT = reverse("account")
DASHBOARD = reverse("reseller_dashboard")


def customer_url(customer) -> str:
    return reverse("own_customer_detail", args=[customer.pk])


def toggle_url(customer) -> str:
    return reverse("own_customer_order_approval", args=[customer.pk])


def accept(client, order, next_url=None, **kwargs):
    data = {"next": next_url} if next_url else {}
    return client.post(reverse("order_accept", args=[order.pk]), data, **kwargs)


def cancel(client, order, next_url=None, **kwargs):
    data = {"next": next_url} if next_url else {}
    return client.post(reverse("order_cancel", args=[order.pk]), data, **kwargs)


def section(html: str, section_id: str) -> str:
    """The HTML of the <section id=...> on the page."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id!r}"
    return match.group(0)


def reload(order) -> Order:
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def reseller1(login, world, shop):
    return login(world.r1_user)


@pytest.fixture
def c1_order(world, shop):
    """Customer One: 2 x Office Suite, pending reseller1's approval (cost 20.00, amount 25.00)."""
    return place(world.c1_user, [(shop.office, 2)], customer=world.c1, today=TODAY)


# --- the Order Approval toggle -----------------------------------------------------------------


def test_cash_reseller_sees_the_toggle_on_and_switches_it(reseller1, world, shop):
    html = reseller1.get(customer_url(world.c1)).content.decode()
    toggle = section(html, "order-approval")
    assert 'role="switch" aria-checked="true"' in toggle
    assert "disabled" not in toggle and "locked" not in toggle.lower()
    assert f'action="{toggle_url(world.c1)}"' in toggle
    assert 'name="required" value="off"' in toggle

    response = reseller1.post(toggle_url(world.c1), {"required": "off"}, follow=True)
    assert response.redirect_chain[-1][0] == customer_url(world.c1)
    assert messages_of(response) == [
        "Order approval for Customer One is off: its orders go through without waiting for you."
    ]
    world.c1.refresh_from_db()
    assert world.c1.order_approval_required is False
    assert 'aria-checked="false"' in section(response.content.decode(), "order-approval")
    assert AuditEvent.objects.filter(
        action="customer.set_order_approval", actor=world.r1_user, object_id=str(world.c1.pk)
    ).exists()

    # an order of Customer One no longer waits: cash, credit, an automatic product -> completed
    order = place(world.c1_user, [(shop.office, 1)], customer=world.c1, today=TODAY)
    assert order.status == OrderStatus.COMPLETED

    reseller1.post(toggle_url(world.c1), {"required": "on"})
    world.c1.refresh_from_db()
    assert world.c1.order_approval_required is True


def test_card_reseller_sees_the_toggle_locked_on_and_a_post_is_refused(login, world, shop):
    client = login(world.r2_user)
    toggle = section(client.get(customer_url(world.c2)).content.decode(), "order-approval")
    assert 'aria-checked="true"' in toggle and "disabled" in toggle
    assert "<form" not in toggle  # nothing to submit
    assert "Locked on while you pay by credit card; every order needs your approval." in toggle

    response = client.post(toggle_url(world.c2), {"required": "off"}, follow=True)
    assert messages_of(response) == [
        "The approval toggle is locked while you pay by credit card: every order needs your "
        "approval."
    ]
    world.c2.refresh_from_db()
    assert world.c2.order_approval_required is True
    assert not AuditEvent.objects.filter(action="customer.set_order_approval").exists()


def test_switching_from_cash_to_card_locks_the_toggle_in_its_previous_state(reseller1, world, shop):
    reseller1.post(toggle_url(world.c1), {"required": "off"})
    accounts.payment_method_set_default(payment_method=world.r1_card)

    toggle = section(reseller1.get(customer_url(world.c1)).content.decode(), "order-approval")
    assert 'aria-checked="false"' in toggle and "disabled" in toggle  # off, as it was
    assert "Off · locked" in toggle
    assert (
        "Locked in its previous state while you pay by credit card; every order needs your "
        "approval regardless." in toggle
    )
    assert "orders wait for your approval" in toggle
    # and approval is required all the same
    order = place(world.c1_user, [(shop.office, 1)], customer=world.c1, today=TODAY)
    assert order.status == OrderStatus.PENDING_APPROVAL
    response = reseller1.post(toggle_url(world.c1), {"required": "on"}, follow=True)
    assert messages_of(response) == [
        "The approval toggle is locked while you pay by credit card: every order needs your "
        "approval."
    ]
    world.c1.refresh_from_db()
    assert world.c1.order_approval_required is False


def test_a_bad_toggle_value_changes_nothing(reseller1, world, shop):
    response = reseller1.post(toggle_url(world.c1), {"required": "maybe"}, follow=True)
    assert messages_of(response) == ["Say whether order approval should be on or off."]
    world.c1.refresh_from_db()
    assert world.c1.order_approval_required is True


def test_provider_staff_read_the_toggle_without_a_switch(login, world, shop):
    html = login(world.staff).get(reverse("customer_detail", args=[world.c2.pk])).content
    toggle = section(html.decode(), "order-approval")
    assert "disabled" in toggle and "<form" not in toggle
    assert "Locked on while Bravo Reseller pays by credit card" in toggle


def test_no_toggle_for_referral_customers_nor_on_the_customers_own_page(login, world, shop):
    referral = login(world.ref_user).get(customer_url(world.refc)).content.decode()
    assert 'id="order-approval"' not in referral
    own = login(world.c1_user).get(ACCOUNT).content.decode()
    assert 'id="order-approval"' not in own


@pytest.mark.parametrize(
    ("who", "customer", "status"),
    [
        ("r1_user", "c2", 404),  # another reseller's customer
        ("r2_user", "c1", 404),
        ("c1_user", "c1", 404),  # a customer has no customer page of itself
        ("c2_user", "c1", 404),
        ("ref_user", "refc", 403),  # its customer, but a referral reseller has no toggle
        ("staff", "c1", 403),  # the provider panel shows it read-only
    ],
)
def test_only_the_customers_reseller_may_switch_it(client, world, shop, who, customer, status):
    client.force_login(getattr(world, who))
    target = getattr(world, customer)
    assert client.post(toggle_url(target), {"required": "off"}).status_code == status
    target.refresh_from_db()
    assert target.order_approval_required is True


# --- the dashboard's widgets ------------------------------------------------------------------


def test_pending_widget_lists_customers_orders_with_seed_004s_columns(reseller1, world, c1_order):
    html = reseller1.get(DASHBOARD).content.decode()
    widget = section(html, "pending-approval")
    assert "Submitted Orders Pending Approval" in widget
    headers = re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?([^<]+?)\s*(?:</a>)?\s*</th>", widget)
    assert headers == ["Order", "Customer", "Order Date", "Total Cost", "Total Amount", "Actions"]
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{c1_order.display_number}.*?</tr>", widget, re.S)[0]
    assert f'href="/orders/{c1_order.pk}/"' in row
    assert "Customer One" in row and "10 Feb 2026" in row
    assert "20.00 USD" in row and "25.00 USD" in row
    assert "Accept order" in row and "Cancel order" in row
    assert "No orders are unexecuted" in section(html, "unexecuted-orders")


def test_accept_from_the_widget_completes_the_order(reseller1, world, c1_order):
    response = accept(reseller1, c1_order, next_url=DASHBOARD, follow=True)
    assert response.redirect_chain[-1][0] == DASHBOARD
    number = c1_order.display_number
    assert messages_of(response) == [f"Order {number} was accepted and is completed."]
    order = reload(c1_order)
    assert order.status == OrderStatus.COMPLETED
    assert order.approved_by == world.r1_user
    assert "No orders are waiting for your approval." in section(
        response.content.decode(), "pending-approval"
    )
    # the customer's page: its orders and its new subscription
    page = reseller1.get(customer_url(world.c1)).content.decode()
    orders = section(page, "orders")
    assert f'href="/orders/{order.pk}/"' in orders and "Completed" in orders
    subscriptions = section(page, "subscriptions")
    assert "Office Suite" in subscriptions and "Active" in subscriptions
    assert "Monthly" in subscriptions and "10 Mar 2026" in subscriptions


def test_cancel_from_the_widget(reseller1, world, c1_order):
    response = cancel(reseller1, c1_order, next_url=DASHBOARD, follow=True)
    assert messages_of(response) == [f"Order {c1_order.display_number} was cancelled."]
    assert reload(c1_order).status == OrderStatus.CANCELLED
    assert c1_order.display_number not in section(response.content.decode(), "pending-approval")


def test_accepted_without_credit_it_stays_in_both_widgets_until_credit_is_freed(
    reseller1, world, shop
):
    # 40 x Alpha Special costs reseller1 800.00; it has 749.50 available
    order = place(world.c1_user, [(shop.special, 40)], customer=world.c1, today=TODAY)
    response = accept(reseller1, order, next_url=DASHBOARD, follow=True)
    number = order.display_number
    # the rule and what would work (orders.selectors.CreditShortfall): one payment of its own
    assert messages_of(response) == [
        f"Order {number} was accepted. Not executed: there is not enough available credit. It "
        "needs 800.00 USD of available credit (its total cost for the first billing period, "
        "before tax); your available credit is 749.50 USD. Without that credit it goes through "
        "only prepaid, and a prepaid order must be covered by one payment on its own (payments "
        "are not added together): the most any one of your unapplied payments has free is 50.00 "
        "USD. What would work: top up 800.00 USD or more in one payment; or pay documents with "
        "your credit balance: it raises available credit by up to 80.00 USD, and 50.50 USD more "
        "is needed; then accept the order again. Or cancel it."
    ]
    assert reload(order).status == OrderStatus.UNEXECUTED_CREDIT
    html = response.content.decode()
    assert number in section(html, "pending-approval")  # seed 004, last paragraph
    assert number in section(html, "unexecuted-orders")

    # reseller1 pays off its open invoice: 1,000.00 available; accepting again executes it
    f.payment(world.r1, "250.50", datetime.date(2026, 2, 9), apply_to=[world.docs.r1_inv2])
    response = accept(reseller1, order, next_url=DASHBOARD, follow=True)
    assert messages_of(response) == [f"Order {number} was accepted and is completed."]
    assert reload(order).status == OrderStatus.COMPLETED
    html = response.content.decode()
    assert number not in section(html, "pending-approval")
    assert number not in section(html, "unexecuted-orders")


def test_the_resellers_own_unexecuted_order_shows_with_a_blank_customer(reseller1, world, shop):
    order = place(world.r1_user, [(shop.special, 40)], reseller=world.r1, today=TODAY)
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    html = reseller1.get(DASHBOARD).content.decode()
    widget = section(html, "unexecuted-orders")
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{order.display_number}.*?</tr>", widget, re.S)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[1].strip() == ""  # Customer: blank for the reseller's own order
    assert order.display_number not in section(html, "pending-approval")  # never approved


def test_accepting_with_an_expired_card_shows_the_token_warning(login, world, shop):
    PaymentMethod.objects.filter(pk=world.r2_card.pk).update(expiry_date=datetime.date(2026, 1, 31))
    order = place(world.c2_user, [(shop.office, 1)], customer=world.c2, today=TODAY)
    assert order.status == OrderStatus.PENDING_APPROVAL  # card: approval locked on
    client = login(world.r2_user)
    response = accept(client, order, follow=True)
    number = order.display_number
    assert messages_of(response) == [f"Order {number} was accepted but is pending. {TOKEN_WARNING}"]
    assert TOKEN_WARNING == (
        "Your payment method does not support this action. Please contact your distributor."
    )
    order = reload(order)
    assert (order.status, order.status_message) == (OrderStatus.PENDING, TOKEN_WARNING)

    # the order's page: the warning, and Accept / Cancel to try again after fixing the card
    html = client.get(reverse("order-status", args=[order.pk])).content.decode()
    assert f'<p class="note" role="status" id="status-message">{TOKEN_WARNING}</p>' in html
    assert 'data-field="status">Pending<' in html
    actions = html[html.index('id="order-actions"') :]
    assert "Accept order" in actions and "Cancel order" in actions

    # the customer reads "Processing" and never the reseller's payment trouble
    customer = login(world.c2_user).get(reverse("order-status", args=[order.pk])).content
    assert b'data-field="status">Processing<' in customer
    assert TOKEN_WARNING.encode() not in customer


# --- the detailed order view -----------------------------------------------------------------


def test_order_page_shows_seed_004s_left_and_right_panels(reseller1, world, shop):
    order = place(
        world.c1_user, [(shop.office, 2), (shop.special, 1)], customer=world.c1, today=TODAY
    )
    html = reseller1.get(reverse("order-status", args=[order.pk])).content.decode()
    assert 'data-field="number">' + order.display_number in html
    assert 'data-field="status">Pending Reseller Approval<' in html
    assert 'data-field="order_date">10 Feb 2026<' in html
    assert 'data-field="total_cost">40.00 USD<' in html
    assert 'data-field="total_amount">50.00 USD<' in html
    assert 'data-field="customer">Customer One<' in html
    actions = html[html.index('id="order-actions"') :]
    assert f'action="/orders/{order.pk}/accept/"' in actions
    assert f'action="/orders/{order.pk}/cancel/"' in actions
    items = section(html, "items")
    for header in ("Product", "Delivery status", "Quantity", "Unit price", "Discount", "Total"):
        assert f">{header}</th>" in items
    assert "Office Suite" in items and "12.50" in items and "25.00 USD" in items
    assert f'href="{customer_url(world.c1)}"' in html  # breadcrumbs back to the customer


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_no_actions_once_an_order_is_done(reseller1, world, c1_order, status):
    if status == "completed":
        accept(reseller1, c1_order)
    else:
        cancel(reseller1, c1_order)
    html = reseller1.get(reverse("order-status", args=[c1_order.pk])).content.decode()
    assert 'id="order-actions"' not in html


def test_approving_twice_and_cancelling_a_completed_order_are_refused(reseller1, world, c1_order):
    accept(reseller1, c1_order, follow=True)
    number = c1_order.display_number
    response = accept(reseller1, c1_order, follow=True)
    assert messages_of(response) == [f"Order {number} is Completed; it cannot be approved."]
    response = cancel(reseller1, c1_order, follow=True)
    assert messages_of(response) == [f"Order {number} is Completed; it cannot be cancelled."]
    order = reload(c1_order)
    assert order.status == OrderStatus.COMPLETED and order.cancelled_at is None
    assert Subscription.objects.filter(order=order).count() == 1
    assert AuditEvent.objects.filter(action="order.approve", object_id=str(order.pk)).count() == 1


def test_an_order_split_into_sub_orders_lists_them_with_their_statuses(login, world, shop):
    world.c1.order_approval_required = False
    world.c1.save()
    order = place(
        world.c1_user, [(shop.office, 1), (shop.setup, 1)], customer=world.c1, today=TODAY
    )
    assert order.status == OrderStatus.SUBMITTED
    auto, manual = order.sub_orders.order_by("id")
    html = login(world.r1_user).get(reverse("order-status", args=[order.pk])).content.decode()
    assert 'data-field="status">Submitted<' in html
    subs = section(html, "sub-orders")
    assert f'href="/orders/{auto.pk}/"' in subs and f'href="/orders/{manual.pk}/"' in subs
    assert f'data-sub-order-status="{auto.pk}">Completed<' in subs
    assert f'data-sub-order-status="{manual.pk}">Submitted to Distributor<' in subs
    items = section(html, "items")
    assert ">Sub-order</th>" in items
    assert "Office Suite" in items and "Delivered" in items
    assert "Server Setup" in items and "Pending" in items
    assert 'id="order-actions"' not in html  # the sub-orders proceed; nothing to accept

    # the sub-order's own page says whose part it is
    page = login(world.r1_user).get(reverse("order-status", args=[manual.pk])).content.decode()
    assert f'<a href="/orders/{order.pk}/">{order.display_number}</a>' in page


def test_the_resellers_order_list_holds_its_own_and_its_customers_orders(reseller1, world, shop):
    theirs = place(world.c1_user, [(shop.office, 1)], customer=world.c1, today=TODAY)
    mine = place(world.r1_user, [(shop.office, 1)], reseller=world.r1, today=TODAY)
    other = place(world.c2_user, [(shop.office, 1)], customer=world.c2, today=TODAY)
    response = reseller1.get(reverse("order_list"))
    assert set(response.context["table"].data.data) == {theirs, mine}
    html = response.content.decode()
    assert "<h1>Orders</h1>" in html and "Total Cost" in html
    assert other.display_number not in html

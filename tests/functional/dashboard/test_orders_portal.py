"""The ordering portal (seed 004, "Ordering Process for the End Customer"): the catalogue at the
buyer's prices, the basket, the review with billing information, Submit order, the confirmation
message and email with the link to the order's status page; a resale reseller ordering for
itself; bad input; a form submitted twice.

Prices and catalogues are `shop`'s (ordering.py). Customer One (of reseller1, which pays cash)
has approval on, so its orders wait for reseller1.
"""

import re
import threading
import uuid
from decimal import Decimal as D

import pytest
from django.core import mail
from django.db import connections
from django.test import Client
from django.urls import reverse

from orders.models import Order, OrderItem, OrderStatus, Subscription
from tests.functional.dashboard.ordering import basket_of, messages_of

pytestmark = pytest.mark.django_db

CATALOGUE, BASKET, REVIEW = reverse("order_catalogue"), reverse("basket"), reverse("order_review")


def add(client, product, quantity="1", **kwargs):
    return client.post(CATALOGUE, {"product": product.pk, "quantity": quantity}, **kwargs)


def review_form(client) -> dict:
    """The review form's fields as rendered (billing information and the one-time key)."""
    form = client.get(REVIEW).context["form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def orders_of(account):
    return Order.objects.filter(customer=account)


@pytest.fixture
def customer1(login, world, shop):
    return login(world.c1_user)


# --- the catalogue ---------------------------------------------------------------------------


def test_the_catalogue_lists_only_the_customers_products_at_its_prices(customer1, world, shop):
    response = customer1.get(CATALOGUE)
    assert response.status_code == 200
    rows = [(r.product.name, r.unit_price) for r in response.context["table"].data]
    # Alpha catalogue at reseller1's cost + 25%; not the default catalogue's Antivirus
    assert rows == [
        ("Alpha Special", D("25.00")),
        ("Backup", D("6.25")),
        ("Office Suite", D("12.50")),
        ("Server Setup", D("375.00")),
    ]
    html = response.content.decode()
    assert "Antivirus" not in html
    assert "12.50 USD / month" in html and "375.00 USD" in html
    assert "14 days free" in html  # Backup's trial
    assert "One-time" in html and "Service" in html  # billing and product types
    assert "10.00" not in html  # reseller1's cost of Office Suite is not the customer's business


def test_another_customer_sees_its_own_catalogue_and_prices(login, world, shop):
    response = login(world.c2_user).get(CATALOGUE)
    rows = [(r.product.name, r.unit_price) for r in response.context["table"].data]
    assert rows == [
        ("Antivirus", D("36.00")),
        ("Office Suite", D("15.00")),
        ("Server Setup", D("360.00")),
    ]


def test_a_resale_reseller_orders_from_its_catalogue_at_its_cost(login, world, shop):
    response = login(world.r1_user).get(CATALOGUE)
    rows = [(r.product.name, r.unit_price) for r in response.context["table"].data]
    assert rows == [
        ("Alpha Special", D("20.00")),
        ("Backup", D("5.00")),
        ("Office Suite", D("10.00")),
        ("Server Setup", D("300.00")),
    ]
    assert "Purchases for Alpha Reseller itself" in response.content.decode()


@pytest.mark.parametrize("who", ["staff", "ref_user"])
def test_provider_staff_and_referral_resellers_do_not_order_here(login, world, shop, who):
    client = login(getattr(world, who))
    for url in (CATALOGUE, BASKET, REVIEW):
        assert client.get(url).status_code == 403
    assert add(client, shop.office).status_code == 403
    assert not Order.objects.exists()


def test_the_top_bar_offers_ordering_to_buyers_only(login, world, shop):
    assert 'href="/order/"' in login(world.c1_user).get(reverse("account")).content.decode()
    assert 'href="/order/"' in login(world.r1_user).get(reverse("account")).content.decode()
    assert 'href="/order/"' not in login(world.ref_user).get(reverse("account")).content.decode()


# --- the basket ------------------------------------------------------------------------------


def test_adding_editing_and_removing_basket_lines(customer1, shop):
    response = add(customer1, shop.office, "2", follow=True)
    assert messages_of(response) == ["Added Office Suite to your basket (quantity 2)."]
    add(customer1, shop.special)
    add(customer1, shop.office, "1")  # the same product again adds up
    assert basket_of(customer1) == {str(shop.office.pk): 3, str(shop.special.pk): 1}

    page = customer1.get(BASKET)
    basket = page.context["basket"]
    assert [(line.product.name, line.quantity, line.total) for line in basket.lines] == [
        ("Alpha Special", 1, D("25.00")),
        ("Office Suite", 3, D("37.50")),
    ]
    assert basket.total == D("62.50")
    assert 'data-field="basket_total">62.50 USD<' in page.content.decode()

    office, special = f"qty_{shop.office.pk}", f"qty_{shop.special.pk}"
    response = customer1.post(BASKET, {office: "1", special: "4"}, follow=True)
    assert messages_of(response) == ["Basket updated."]
    assert response.context["basket"].total == D("112.50")  # 12.50 + 4 x 25.00

    response = customer1.post(BASKET, {"remove": shop.special.pk}, follow=True)
    assert messages_of(response) == ["Removed Alpha Special from your basket."]
    assert basket_of(customer1) == {str(shop.office.pk): 1}


def test_review_order_button_saves_the_quantities_first(customer1, shop):
    add(customer1, shop.office)
    response = customer1.post(BASKET, {f"qty_{shop.office.pk}": "5", "review": "1"})
    assert response.url == REVIEW
    assert customer1.get(REVIEW).context["basket"].total == D("62.50")


@pytest.mark.parametrize(
    ("quantity", "error"),
    [
        ("0", "A quantity is a whole number of at least 1."),
        ("-2", "A quantity is a whole number of at least 1."),
        ("two", "A quantity is a whole number of at least 1."),
        ("1.5", "A quantity is a whole number of at least 1."),
        ("", "Enter a quantity."),
        ("10000", "At most 9,999 of one product per order."),
    ],
)
def test_bad_quantities_are_refused_and_nothing_is_added(customer1, shop, quantity, error):
    add(customer1, shop.special, "1")
    response = add(customer1, shop.office, quantity)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was added to your basket." in html
    assert error in html
    assert basket_of(customer1) == {str(shop.special.pk): 1}

    response = customer1.post(BASKET, {f"qty_{shop.special.pk}": quantity})
    assert response.status_code == 200
    assert "Nothing was changed." in response.content.decode()
    assert error in response.content.decode()
    assert basket_of(customer1) == {str(shop.special.pk): 1}


def test_adding_past_the_maximum_is_refused(customer1, shop):
    add(customer1, shop.office, "9999")
    response = add(customer1, shop.office, "1")
    assert "At most 9,999 of one product per order." in response.content.decode()
    assert basket_of(customer1) == {str(shop.office.pk): 9999}


@pytest.mark.parametrize("product", ["antivirus", "missing", "text"])
def test_a_product_outside_the_catalogue_posted_by_hand_is_refused(customer1, shop, product):
    pk = {"antivirus": shop.antivirus.pk, "missing": 999999, "text": "office"}[product]
    response = customer1.post(CATALOGUE, {"product": pk, "quantity": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was added to your basket." in html
    assert "That product is not in your catalogue." in html
    assert basket_of(customer1) == {}
    assert not Order.objects.exists()


def test_a_product_that_left_the_catalogue_leaves_the_basket_with_a_message(customer1, shop):
    add(customer1, shop.office)
    add(customer1, shop.special)
    form = review_form(customer1)
    shop.alpha_catalogue.products.remove(shop.special)
    # submitting what was reviewed is refused: the review is shown again, without it
    response = customer1.post(REVIEW, form, follow=True)
    assert messages_of(response) == [
        "A product in your basket is no longer in your catalogue; it was removed."
    ]
    assert [line.product for line in response.context["basket"].lines] == [shop.office]
    assert not Order.objects.exists()
    assert basket_of(customer1) == {str(shop.office.pk): 1}


# --- review and submit -----------------------------------------------------------------------


def test_review_prefills_the_billing_information_from_the_contacts(customer1, world, shop):
    add(customer1, shop.office, "2")
    response = customer1.get(REVIEW)
    form = response.context["form"]
    # Customer One has one contact, its primary one
    assert form.initial["billing_contact_name"] == "Carl One"
    assert form.initial["billing_contact_email"] == "carl@example.com"
    uuid.UUID(form.initial["submission_key"])
    html = response.content.decode()
    assert 'data-field="order_total">25.00 USD<' in html
    assert 'value="Carl One"' in html


def test_review_with_an_empty_basket_goes_back_to_the_catalogue(customer1, shop):
    response = customer1.get(REVIEW, follow=True)
    assert response.redirect_chain[-1][0] == CATALOGUE
    assert messages_of(response) == ["Your basket is empty: add something from the catalogue."]


def test_customer_submits_an_order_end_to_end(
    customer1, world, shop, django_capture_on_commit_callbacks
):
    add(customer1, shop.office, "2")
    add(customer1, shop.special, "1")
    form = review_form(customer1)
    form.update(billing_contact_name="Carla Billing", billing_contact_email="billing@one.example")
    form["notes"] = "Please start on Monday."
    with django_capture_on_commit_callbacks(execute=True):
        response = customer1.post(REVIEW, form)

    order = orders_of(world.c1).get()
    assert response.status_code == 302
    assert response.url == reverse("order-status", args=[order.pk]) == f"/orders/{order.pk}/"
    assert order.status == OrderStatus.PENDING_APPROVAL  # reseller1 approves Customer One's
    assert (order.total_cost, order.total_amount) == (D("40.00"), D("50.00"))
    assert order.credit_account == world.r1 and order.placed_by == world.c1_user
    assert (order.billing_contact_name, order.billing_contact_email) == (
        "Carla Billing",
        "billing@one.example",
    )
    assert order.notes == "Please start on Monday."
    items = OrderItem.objects.filter(order=order).values_list(
        "product__name", "quantity", "unit_price", "total_amount"
    )
    assert list(items) == [  # in the basket's order: by name
        ("Alpha Special", 1, D("25.0000"), D("25.00")),
        ("Office Suite", 2, D("12.5000"), D("25.00")),
    ]
    assert basket_of(customer1) == {}

    # the confirmation message, and the email with the link to the order's status page
    page = customer1.get(response.url)
    number = order.display_number
    assert messages_of(page) == [
        f"Your order {number} was submitted. We emailed you a link to follow its status."
    ]
    [email] = [m for m in mail.outbox if m.to == ["billing@one.example"]]
    assert number in email.subject
    assert f"/orders/{order.pk}/" in email.body

    # the status page: number, status, date, items with their delivery status; no cost
    html = page.content.decode()
    assert f"<h1>Order {number} " in html
    assert 'data-field="status">Pending Reseller Approval<' in html
    assert 'data-field="order_date">10 Feb 2026<' in html
    assert 'data-field="total_amount">50.00 USD<' in html
    assert 'data-field="total_cost"' not in html and "40.00" not in html
    rows = re.findall(r'<tr data-item="\d+">(.*?)</tr>', html, re.S)
    assert len(rows) == 2 and all("<td>Pending</td>" in row for row in rows)
    assert "Office Suite" in rows[1] and "12.50" in rows[1] and "25.00 USD" in rows[1]


def test_the_customers_order_list(customer1, world, shop):
    add(customer1, shop.office)
    customer1.post(REVIEW, review_form(customer1))
    order = orders_of(world.c1).get()
    response = customer1.get(reverse("order_list"))
    html = response.content.decode()
    assert "<h1>My orders</h1>" in html
    assert f'href="/orders/{order.pk}/"' in html
    assert "Total Amount" in html and "Total Cost" not in html
    assert "Pending Reseller Approval" in html


def test_an_order_that_runs_the_chain_at_once_reads_processing_to_the_customer(login, world, shop):
    """Customer One without approval: the order is validated at once. A manual product leaves it
    with the distributor, which the customer reads as Processing."""
    world.c1.order_approval_required = False
    world.c1.save()
    client = login(world.c1_user)
    add(client, shop.setup)
    response = client.post(REVIEW, review_form(client), follow=True)
    order = orders_of(world.c1).get()
    assert order.status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR
    html = response.content.decode()
    assert 'data-field="status">Processing<' in html
    assert "Submitted to Distributor" not in html


def test_a_reseller_orders_for_itself(login, world, shop, django_capture_on_commit_callbacks):
    client = login(world.r1_user)
    add(client, shop.office, "3")
    form = review_form(client)
    assert form["billing_contact_name"] == ""  # reseller1 has no contacts: the user types them
    form.update(billing_contact_name="Alpha Purchasing", billing_contact_email="buy@alpha.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REVIEW, form, follow=True)

    order = Order.objects.get(credit_account=world.r1, customer__isnull=True)
    # cash, 749.50 available, an auto-executed product: executed at once, at cost
    assert order.status == OrderStatus.COMPLETED
    assert (order.total_cost, order.total_amount) == (D("30.00"), D("30.00"))
    assert messages_of(response) == [
        f"Order {order.display_number} was submitted and is completed."
    ]
    assert Subscription.objects.get(order=order).account == world.r1

    account = client.get(reverse("account")).content.decode()
    own = account[account.index('id="orders"') :]
    assert "Own purchases" in own and f'href="/orders/{order.pk}/"' in own
    subscriptions = account[account.index('id="subscriptions"') :]
    assert "Office Suite" in subscriptions and "10 Mar 2026" in subscriptions  # next billing


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"billing_contact_email": "not-an-email"}, "Enter a valid email address."),
        ({"billing_contact_name": ""}, "This field is required."),
        ({"submission_key": "xyz"}, "This form expired; please submit it again."),
        ({"submission_key": ""}, "This form expired; please submit it again."),
    ],
)
def test_bad_review_input_creates_nothing(customer1, shop, change, error):
    add(customer1, shop.office)
    form = {**review_form(customer1), **change}
    response = customer1.post(REVIEW, form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was ordered." in html and error in html
    assert not Order.objects.exists()
    assert basket_of(customer1) == {str(shop.office.pk): 1}


def test_submitting_the_same_review_twice_places_one_order(customer1, world, shop):
    add(customer1, shop.office, "2")
    form = review_form(customer1)
    first = customer1.post(REVIEW, form)
    second = customer1.post(REVIEW, form, follow=True)

    order = orders_of(world.c1).get()
    assert first.url == second.redirect_chain[0][0] == reverse("order-status", args=[order.pk])
    assert "This order was already submitted." in messages_of(second)
    assert OrderItem.objects.filter(order__customer=world.c1).count() == 1


def test_a_new_review_form_places_a_new_order(customer1, world, shop):
    add(customer1, shop.office)
    customer1.post(REVIEW, review_form(customer1))
    add(customer1, shop.office)
    customer1.post(REVIEW, review_form(customer1))
    assert orders_of(world.c1).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_itself_places_one_order(world, shop):
    """Two POSTs of one review form at the same moment, in one session (a double click)."""
    first = Client()
    first.force_login(world.c1_user)
    add(first, shop.office, "2")
    form = review_form(first)
    second = Client()
    second.cookies = first.cookies  # the same browser session
    barrier = threading.Barrier(2)
    answers = []

    def post(client):
        try:
            barrier.wait()
            answers.append(client.post(REVIEW, form))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    order = orders_of(world.c1).get()
    assert sorted(r.status_code for r in answers) == [302, 302]
    assert {r.url for r in answers} == {reverse("order-status", args=[order.pk])}
    assert order.total_amount == D("25.00")


def test_prices_that_moved_after_the_review_are_shown_before_anything_is_ordered(
    customer1, world, shop
):
    from orders.models import PriceListItem

    add(customer1, shop.office, "2")
    form = review_form(customer1)  # reviewed at 12.50 a unit: 25.00
    PriceListItem.objects.filter(price_list__name="Provider to Alpha", product=shop.office).update(
        unit_price=D("12.00")
    )

    response = customer1.post(REVIEW, form)

    assert response.status_code == 200
    assert not orders_of(world.c1).exists()
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "Prices changed since you reviewed this order: the total is now 30.00 USD, not 25.00. "
        "Please review it again."
    ]
    assert 'data-field="order_total">30.00 USD<' in response.content.decode()
    # The review now carries the new total: submitting again places the order at 30.00.
    again = customer1.post(REVIEW, {**form, "reviewed_total": "30.00"})
    assert again.status_code == 302
    assert orders_of(world.c1).get().total_amount == D("30.00")

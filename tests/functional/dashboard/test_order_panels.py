"""Issue 12, the panels as a new user finds them: the credit balance after a card-prepaid order,
an order refused for lack of credit says the rule and what would work, a reseller that pays cash
adds a card and tops up, an order's total is what was charged (co-termed), and an order waiting
for a payment is on its reseller's dashboard. Each serves tenant data, and another tenant gets
404.

`world` + `shop` (ordering.py): reseller1 pays cash (and holds a card), 749.50 available, open
debt 250.50, credit balance 80.00 (a payment's unapplied 50.00 and a credit memo of 30.00);
reseller2 pays by card (tok_test, valid to 2030), 600.00 available, open debt 400.00, no credit
balance. Office Suite costs reseller1 10.00 (Customer One pays 12.50), reseller2 11.00 (Customer
Two pays 15.00). The panel's clock is 10 Feb 2026.
"""

import datetime
import re
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing.cards import card_add
from billing.gateway import TestGateway
from billing.models import Document, DocumentType, PaymentAllocation, ResellerTransaction
from billing.selectors import account_financials
from orders.models import Order, OrderStatus
from orders.services import TOKEN_WARNING
from resellers import exceptions as domain
from resellers import services as accounts
from resellers.models import Account, PaymentMethod
from tests import factories as f
from tests.functional.dashboard.helpers import field, figure
from tests.functional.dashboard.ordering import messages_of, place

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 2, 10)
ACCOUNT = reverse("account")
DASHBOARD = reverse("reseller_dashboard")
CARD_ADD = reverse("card_add")
TOPUP = reverse("topup")
VISA = "4242 4242 4242 4242"


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id!r}"
    return match.group(0)


def accept(client, order, **kwargs):
    return client.post(reverse("order_accept", args=[order.pk]), **kwargs)


def order_url(order) -> str:
    return reverse("order-status", args=[order.pk])


def reload(order) -> Order:
    return Order.objects.get(pk=order.pk)


# --- 1. the credit balance after an order prepaid by card -----------------------------------


@pytest.fixture
def card_prepaid(login, world, shop):
    """Customer Two's 2 x Office Suite, accepted by reseller2: its card is charged the total
    cost, 22.00, and that payment is held for the order until the daily invoicing run."""
    order = place(world.c2_user, [(shop.office, 2)], customer=world.c2, today=TODAY)
    accept(login(world.r2_user), order)
    order = reload(order)
    assert order.status == OrderStatus.COMPLETED and order.payment is not None
    return order


def test_money_held_for_a_prepaid_order_is_said_and_offers_no_apply(login, world, card_prepaid):
    html = login(world.r2_user).get(ACCOUNT).content.decode()

    assert figure(html, "credit_balance") == "22.00 USD"
    held = re.search(r'<div class="note" id="credit-held">.*?</div>', html, re.S)[0]
    assert field(held, "credit_held") == "22.00 USD"
    assert "Nothing of it is left to pay other documents with." in held
    assert card_prepaid.display_number in held
    assert f"its card payment {card_prepaid.payment.display_number}" in held
    # an open invoice and a credit balance, but nothing to apply: no "Pay with credit balance"
    assert 'id="pay-with-credit"' not in html
    # another tenant's page holds nothing of it
    other = login(world.r1_user).get(ACCOUNT).content.decode()
    assert 'id="credit-held"' not in other and card_prepaid.display_number not in other


def test_the_pay_form_offers_only_the_free_part(login, world, card_prepaid):
    f.payment(world.r2, "10.00", datetime.date(2026, 2, 9))  # unapplied: free credit balance
    html = login(world.r2_user).get(ACCOUNT).content.decode()

    assert figure(html, "credit_balance") == "32.00 USD"
    assert field(html, "credit_free") == "10.00 USD"
    form = section(html, "pay-with-credit")
    assert field(form, "credit_balance_to_apply") == "10.00 USD"
    assert "the\n    22.00 USD held for prepaid orders pays only their invoices" in form


def test_the_order_page_says_where_its_payment_went(login, world, card_prepaid):
    html = login(world.r2_user).get(order_url(card_prepaid)).content.decode()
    prepaid = re.search(r'data-field="prepayment">(.*?)</dd>', html, re.S)[1]
    assert prepaid.startswith(
        f"Card payment {card_prepaid.payment.display_number} of 22.00 USD: 22.00 USD of it is "
        "held for this order"
    )
    # the customer reads nothing of its reseller's payment; another tenant gets 404
    customer = login(world.c2_user).get(order_url(card_prepaid)).content.decode()
    assert 'data-field="prepayment"' not in customer
    assert login(world.r1_user).get(order_url(card_prepaid)).status_code == 404


# --- 2. an order refused for lack of credit: the rule and what would work ----------------------


@pytest.fixture
def topped_up(world):
    """reseller1 topped up 300.00: its biggest unapplied payment."""
    return f.payment(world.r1, "300.00", datetime.date(2026, 2, 9))


def test_the_refusal_says_one_payment_must_cover_it_and_what_would_work(
    login, world, shop, topped_up
):
    # 80 x Office Suite: 800.00 of cost against 749.50 available; payments of 300 and 50 free
    order = place(world.c1_user, [(shop.office, 80)], customer=world.c1, today=TODAY)
    reseller1 = login(world.r1_user)
    response = accept(reseller1, order, data={"next": ACCOUNT}, follow=True)

    assert reload(order).status == OrderStatus.UNEXECUTED_CREDIT
    (text,) = messages_of(response)
    assert (
        "a prepaid order must be covered by one payment on its own (payments are not added "
        "together): the most any one of your unapplied payments has free is 300.00 USD."
    ) in text
    assert (
        "What would work: top up 800.00 USD or more in one payment; or pay documents with your "
        "credit balance: it raises available credit by up to 250.50 USD, and 50.50 USD more is "
        "needed; then accept the order again. Or cancel it."
    ) in text

    page = reseller1.get(order_url(order)).content.decode()
    advice = re.search(r'<p class="note" id="credit-advice">(.*?)</p>', page, re.S)[1]
    assert "your available credit is 749.50 USD" in advice
    assert "top up 800.00 USD or more in one payment" in advice
    # the customer sees Processing and nothing of its reseller's credit; another tenant, 404
    customer = login(world.c1_user).get(order_url(order)).content.decode()
    assert 'id="credit-advice"' not in customer and "749.50" not in customer
    assert login(world.r2_user).get(order_url(order)).status_code == 404


def test_following_the_advice_one_top_up_of_the_total_lets_it_through(
    login, world, shop, topped_up
):
    order = place(world.c1_user, [(shop.office, 80)], customer=world.c1, today=TODAY)
    reseller1 = login(world.r1_user)
    accept(reseller1, order, follow=True)  # shows (and so consumes) the refusal
    assert reload(order).status == OrderStatus.UNEXECUTED_CREDIT

    data = {"payment_method": world.r1_card.pk, "amount": "800.00"}
    reseller1.post(TOPUP, {**data, "submission_key": uuid.uuid4().hex}, follow=True)
    response = accept(reseller1, order, follow=True)

    assert reload(order).status == OrderStatus.COMPLETED
    assert messages_of(response) == [f"Order {order.display_number} was accepted and is completed."]
    allocation = PaymentAllocation.objects.get(order=order)
    assert allocation.payment.total == D("800.00") and allocation.amount == D("800.00")


def test_an_own_purchase_under_prepaid_only_is_told_it_cannot_be_prepaid(login, world, shop):
    order = place(world.r1_user, [(shop.office, 80)], reseller=world.r1, today=TODAY)
    assert order.status == OrderStatus.UNEXECUTED_CREDIT
    page = login(world.r1_user).get(order_url(order)).content.decode()
    advice = re.search(r'id="credit-advice">(.*?)</p>', page, re.S)[1]
    assert "It cannot be prepaid instead: under daily invoicing Prepaid purchases only" in advice
    assert "top up" not in advice  # no top-up would let it through


# --- 3. a reseller that pays cash adds a card and tops up ----------------------------------------


@pytest.fixture
def cash(world):
    """Charlie Cash: a resale reseller paying cash, no card."""
    reseller = f.reseller(parent=world.provider, name="Charlie Cash")
    method = accounts.payment_method_create(account=reseller, kind=PaymentMethod.Kind.CASH)
    return reseller, method, f.user(account=reseller, username="cash1")


def cards_of(account):
    return PaymentMethod.objects.filter(account=account, kind=PaymentMethod.Kind.CARD)


def test_a_cash_reseller_is_offered_a_card_where_it_pays(login, cash):
    _, _, user = cash
    client = login(user)
    assert f'id="add-card-link" href="{CARD_ADD}"' in client.get(ACCOUNT).content.decode()
    topup = client.get(TOPUP).content.decode()
    assert f'href="{CARD_ADD}?next={TOPUP}"' in topup
    form = client.get(CARD_ADD).content.decode()
    assert 'name="card_number"' in form and 'name="expiry"' in form
    assert 'name="make_default"' in form and "checked" not in form  # it keeps paying cash
    assert "You now pay by <strong" in form


def test_a_cash_reseller_adds_a_card_and_tops_up_with_it(login, cash):
    reseller, cash_method, user = cash
    client = login(user)

    response = client.post(
        CARD_ADD, {"card_number": VISA, "expiry": "12/29", "label": "Visa", "next": TOPUP}
    )

    assert response.status_code == 302 and response.url == TOPUP
    card = cards_of(reseller).get()
    assert card.gateway_token == TestGateway().tokenize(
        card_number="4242424242424242", expiry_date=datetime.date(2029, 12, 31)
    )
    assert (card.card_last4, card.expiry_date, card.label) == (
        "4242",
        datetime.date(2029, 12, 31),
        "Visa",
    )
    assert not card.is_default and PaymentMethod.objects.get(pk=cash_method.pk).is_default
    page = client.get(TOPUP).content.decode()
    assert (
        "Added Visa •••• 4242 (valid to 12/2029). You still pay by cash; the card is there to "
        "top up with."
    ) in page
    assert f'value="{card.pk}"' in page  # the top-up form offers it

    response = client.post(
        TOPUP, {"payment_method": card.pk, "amount": "120.00", "submission_key": uuid.uuid4().hex}
    )

    assert response.status_code == 302
    payment = Document.objects.get(recipient=reseller, doc_type=DocumentType.PAYMENT)
    assert (payment.total, payment.payment_method) == (D("120.00"), card)
    assert account_financials(account=reseller).credit_balance == D("120.00")


def test_a_card_made_default_pays_the_orders_and_locks_approval(login, cash):
    reseller, _, user = cash
    login(user).post(CARD_ADD, {"card_number": VISA, "expiry": "12/29", "make_default": "on"})
    card = cards_of(reseller).get()
    assert card.is_default
    assert PaymentMethod.objects.filter(account=reseller, is_default=True).get() == card


@pytest.mark.parametrize(
    ("data", "field_name", "message"),
    [
        ({"card_number": "1234", "expiry": "12/29"}, "card_number", "That is not a card number."),
        (
            {"card_number": VISA, "expiry": "01/26"},
            "expiry",
            "This card has expired: enter a card that is still valid.",
        ),
        (
            {"card_number": VISA, "expiry": "13/29"},
            "expiry",
            "Enter the expiry as month/year, e.g. 12/29.",
        ),
        ({"card_number": "", "expiry": "12/29"}, "card_number", "Enter the card number."),
    ],
)
def test_a_bad_card_is_a_form_error_and_writes_nothing(login, cash, data, field_name, message):
    reseller, _, user = cash
    response = login(user).post(CARD_ADD, data)

    assert response.status_code == 200
    assert response.context["form"].errors[field_name] == [message]
    assert not cards_of(reseller).exists()
    html = response.content.decode()
    assert "No card was added." in html
    assert data["card_number"] == "" or f'value="{data["card_number"]}"' not in html  # not echoed


def test_the_same_card_twice_is_refused(login, cash):
    reseller, _, user = cash
    client = login(user)
    client.post(CARD_ADD, {"card_number": VISA, "expiry": "12/29"})
    response = client.post(CARD_ADD, {"card_number": VISA, "expiry": "12/29"})
    assert response.context["form"].errors["card_number"] == [
        "This card is already one of your payment methods."
    ]
    assert cards_of(reseller).count() == 1


def test_cards_are_for_the_accounts_own_users_where_the_provider_bills(login, world, cash):
    _, _, user = cash
    # a resale reseller's customer pays its reseller: no card form
    assert login(world.c1_user).get(CARD_ADD).status_code == 404
    # provider staff have no card form in the panel
    assert login(world.staff).get(CARD_ADD).status_code == 302
    # the service adds a card to the acting user's own account only
    with pytest.raises(domain.PermissionDenied):
        card_add(
            account=world.r1,
            card_number=VISA,
            expiry_date=datetime.date(2029, 12, 31),
            acting_user=user,
            today=TODAY,
        )
    assert cards_of(world.r1).count() == 1  # its own card, nothing added


# --- 4. an order's total is what was charged ------------------------------------------------------


def test_a_co_termed_order_shows_the_prorated_charge_everywhere(login, world, shop):
    # Customer One's billing cycle is anchored on the 20th: an order on 10 Feb is charged the
    # days to 20 Feb, 10 of the 31 days of 20 Jan - 20 Feb.
    Account.objects.filter(pk=world.c1.pk).update(billing_anchor=datetime.date(2026, 1, 20))
    order = place(world.c1_user, [(shop.office, 3)], customer=world.c1, today=TODAY)
    assert (order.total_cost, order.total_amount) == (D("30.00"), D("37.50"))  # whole month
    reseller1 = login(world.r1_user)
    accept(reseller1, order)
    assert reload(order).status == OrderStatus.COMPLETED

    charges = {
        row.account_id: row.amount
        for row in ResellerTransaction.objects.filter(order_item__order=order, kind="order")
    }
    assert charges == {world.r1.pk: D("9.68"), world.c1.pk: D("12.10")}  # 30.00 and 37.50 x 10/31

    page = reseller1.get(order_url(order)).content.decode()
    assert field(page, "total_cost") == "9.68 USD"
    assert field(page, "total_amount") == "12.10 USD"
    assert field(page, "item_total") == "12.10 USD"
    assert "prorated to the next billing date; 37.50 USD a whole period" in page

    listed = reseller1.get(reverse("order_list")).content.decode()
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{order.display_number}.*?</tr>", listed, re.S)[0]
    assert "9.68 USD" in row and "12.10 USD" in row and "30.00 USD" not in row

    body = reseller1.get(f"/api/v1/orders/{order.pk}/").json()
    assert (body["total_cost"], body["total_amount"]) == ("9.68", "12.10")
    assert (body["items"][0]["total"], body["items"][0]["total_cost"]) == ("12.10", "9.68")
    # the customer reads its amount as charged, and no cost
    mine = login(world.c1_user).get(f"/api/v1/orders/{order.pk}/").json()
    assert (mine["total_cost"], mine["total_amount"]) == (None, "12.10")
    # another tenant: 404 on both
    other = login(world.r2_user)
    assert other.get(order_url(order)).status_code == 404
    assert other.get(f"/api/v1/orders/{order.pk}/").status_code == 404


def test_an_order_on_its_cycle_date_shows_its_whole_period(login, world, shop):
    order = place(world.c1_user, [(shop.office, 3)], customer=world.c1, today=TODAY)
    reseller1 = login(world.r1_user)
    accept(reseller1, order)
    page = reseller1.get(order_url(order)).content.decode()
    assert field(page, "total_cost") == "30.00 USD"
    assert field(page, "total_amount") == "37.50 USD"
    assert 'data-field="co-termed"' not in page


# --- 5. an order waiting for a payment is on the dashboard ---------------------------------------


def test_an_order_waiting_for_a_card_is_on_the_dashboard_with_what_to_do(login, world, shop):
    PaymentMethod.objects.filter(pk=world.r2_card.pk).update(expiry_date=datetime.date(2026, 1, 31))
    order = place(world.c2_user, [(shop.office, 2)], customer=world.c2, today=TODAY)
    reseller2 = login(world.r2_user)
    accept(reseller2, order)
    assert reload(order).status == OrderStatus.PENDING

    widget = section(reseller2.get(DASHBOARD).content.decode(), "pending-payment")
    assert "Orders Waiting for a Payment" in widget
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{order.display_number}.*?</tr>", widget, re.S)[0]
    assert "Customer Two" in row and TOKEN_WARNING in row
    assert f'aria-label="Accept order {order.display_number}"' in row
    assert f'href="{CARD_ADD}"' in widget
    # another reseller's dashboard does not list it
    other = section(login(world.r1_user).get(DASHBOARD).content.decode(), "pending-payment")
    assert order.display_number not in other

    # what it says works: a new default card, then Accept charges it
    reseller2 = login(world.r2_user)  # the test client is one: log reseller2 in again
    form = reseller2.get(CARD_ADD)
    assert form.context["form"].initial["make_default"] is True  # it pays by card
    reseller2.post(CARD_ADD, {"card_number": VISA, "expiry": "12/29", "make_default": "on"})
    response = accept(reseller2, order, data={"next": DASHBOARD}, follow=True)
    assert reload(order).status == OrderStatus.COMPLETED
    assert order.display_number not in section(response.content.decode(), "pending-payment")

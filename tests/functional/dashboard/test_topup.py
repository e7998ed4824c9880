"""/account/topup/: a reseller (or a customer the provider bills) tops up by card from its own
account page; bad input and declines show form errors with nothing written; a double submit
records one payment. reseller1 starts at balance -170.50, credit balance 80.00 (conftest)."""

import uuid
from decimal import Decimal as D

import pytest

from billing.gateway import TestGateway
from billing.models import Document, DocumentType, GatewayCharge
from billing.selectors import account_financials
from tests import factories as f

URL = "/account/topup/"
DIGITS = (
    "Enter an amount in digits with at most one decimal point, e.g. 300.00 "
    "(no sign, exponent or spaces)."
)


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def post(client, method, amount, key=None):
    data = {"payment_method": method.pk, "amount": amount}
    data["submission_key"] = key or uuid.uuid4().hex
    return client.post(URL, data)


def topups_of(account):
    return Document.objects.filter(
        recipient=account, doc_type=DocumentType.PAYMENT, reference="Top-up"
    )


def charges() -> int:
    return GatewayCharge.objects.count()


def test_account_page_links_to_top_up_where_the_provider_bills(login, world):
    assert 'id="topup-link"' in login(world.r1_user).get("/account/").content.decode()
    assert 'id="topup-link"' in login(world.refc_user).get("/account/").content.decode()
    # a resale reseller's customer pays its reseller: no online top-up
    assert 'id="topup-link"' not in login(world.c1_user).get("/account/").content.decode()
    assert login(world.c1_user).get(URL).status_code == 404


def test_the_form_offers_the_accounts_own_cards(login, world):
    html = login(world.r1_user).get(URL).content.decode()

    assert f'value="{world.r1_card.pk}"' in html
    assert f'value="{world.r1_cash.pk}"' not in html  # cash is paid offline
    assert f'value="{world.r2_card.pk}"' not in html
    assert 'id="offline-methods"' in html and "pay by cash" in html
    assert 'name="submission_key"' in html


def test_a_reseller_tops_up_and_sees_the_new_credit_balance(login, world):
    client = login(world.r1_user)
    before = account_financials(account=world.r1)

    response = post(client, world.r1_card, "300.00")

    assert response.status_code == 302 and response.url == "/account/"
    payment = topups_of(world.r1).get()
    after = account_financials(account=world.r1)
    assert after.balance - before.balance == D("300.00")
    assert after.credit_balance - before.credit_balance == D("300.00")
    assert payment.payment_method == world.r1_card and payment.total == D("300.00")
    page = client.get("/account/").content.decode()
    assert f"Top-up {payment.display_number} of 300.00 USD charged to" in page
    assert "Your credit balance is now 380.00 USD; balance 129.50 USD." in page
    assert account_financials(account=world.r2).balance == D("-400.00")  # the other tenant


def test_a_double_submit_records_one_payment(login, world):
    client = login(world.r1_user)
    key = uuid.uuid4().hex

    first = post(client, world.r1_card, "50.00", key=key)
    second = post(client, world.r1_card, "50.00", key=key)

    assert first.status_code == second.status_code == 302
    assert topups_of(world.r1).count() == 1
    assert account_financials(account=world.r1).credit_balance == D("130.00")
    assert len(TestGateway.attempts) == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "The amount must be more than zero."),
        ("-10.00", "Enter the amount without a sign, e.g. 300.00."),
        ("10.005", "Too many decimals: USD has at most 2."),
        ("abc", DIGITS),
        ("1e2", DIGITS),
        ("\uff11\uff10\uff10", DIGITS),  # full-width digits
        ("Infinity", DIGITS),
        ("1,00", "Put commas only between groups of three digits, e.g. 1,234.50."),
        ("1" * 17, "The amount is too large: at most 12 digits before the point."),
        ("", "Enter an amount."),
    ],
)
def test_a_bad_amount_is_a_form_error_and_writes_nothing(login, world, amount, message):
    before = (Document.objects.count(), charges())

    response = post(login(world.r1_user), world.r1_card, amount)

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [message]
    assert "Nothing was charged or recorded." in response.content.decode()
    assert (Document.objects.count(), charges()) == before
    assert TestGateway.attempts == {}


def test_another_tenants_card_is_refused(login, world):
    before = (Document.objects.count(), charges())

    response = post(login(world.r1_user), world.r2_card, "10.00")

    assert response.status_code == 200
    assert response.context["form"].errors["payment_method"] == ["Choose one of your cards."]
    assert (Document.objects.count(), charges()) == before


def test_a_declined_card_is_a_form_error_and_writes_nothing(login, world):
    card = f.card(world.r1, token="tok_decline_1")
    before = (Document.objects.count(), charges(), account_financials(account=world.r1))
    key = uuid.uuid4().hex

    response = post(login(world.r1_user), card, "10.00", key=key)

    assert response.status_code == 200
    form = response.context["form"]
    assert "declined" in form.errors["payment_method"][0]
    assert form["submission_key"].value() != key  # the next try is a new request
    assert (Document.objects.count(), charges(), account_financials(account=world.r1)) == before


def test_after_a_gateway_timeout_submitting_again_completes_once(login, world):
    card = f.card(world.r1, token="tok_timeout_1")
    client = login(world.r1_user)
    key = uuid.uuid4().hex

    timed_out = post(client, card, "10.00", key=key)

    assert timed_out.status_code == 200
    form = timed_out.context["form"]
    assert "did not answer in time" in form.non_field_errors()[0]
    assert form["submission_key"].value() == key  # kept: resubmitting completes it
    assert not topups_of(world.r1).exists()

    again = post(client, card, "10.00", key=key)

    assert again.status_code == 302
    assert topups_of(world.r1).count() == 1 and len(TestGateway.charges) == 1


def test_who_reaches_the_form(client, login, world):
    assert client.get(URL).status_code == 302  # anonymous: to the login page
    staff = login(world.staff).get(URL)
    assert (staff.status_code, staff.url) == (302, "/billing/")
    assert login(world.r2_user).get(URL).status_code == 200


def test_grouping_commas_are_taken(login, world):
    response = post(login(world.r1_user), world.r1_card, " 1,234.50 ")

    assert response.status_code == 302, response.context["form"].errors
    assert topups_of(world.r1).get().total == D("1234.50")

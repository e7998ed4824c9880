"""payment-methods/: an account adds a card by its gateway token (POST), removes a method
(DELETE) and chooses its default (make-default/), on the two-tenant world of conftest.py
(Alpha's card a_card; Bravo's b_card; Alpha Customer's cash)."""

import datetime

import pytest

from billing.gateway import TestGateway
from resellers.models import Account, AuditEvent, PaymentMethod, User
from tests import factories as f

URL = "/api/v1/payment-methods/"


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def token(number="4242424242424242", expiry=datetime.date(2039, 12, 31)) -> str:
    """What a client gets from the gateway when it tokenises a card on its side."""
    return TestGateway().tokenize(card_number=number, expiry_date=expiry)


def test_a_reseller_adds_a_card_by_its_gateway_token(world, api):
    sent = token()

    response = api(world.alpha).post(
        URL, {"gateway_token": sent, "label": "Ops Visa"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["account"], body["kind"], body["label"]) == (world.a.pk, "card", "Ops Visa")
    assert (body["card_last4"], body["expiry_date"]) == ("4242", "2039-12-31")
    assert body["is_default"] is False  # Alpha already has a default card
    assert sent not in response.content.decode() and "gateway_token" not in body
    assert PaymentMethod.objects.get(pk=body["id"]).gateway_token == sent
    assert AuditEvent.objects.filter(action="payment_method.create", account=world.a).exists()


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ("tok_nobody_issued_this", "gateway_token"),
        ("", "gateway_token"),
        ("expired", "gateway_token"),
        ("twice", "gateway_token"),
    ],
)
def test_a_bad_token_answers_400_on_it_and_keeps_nothing(world, api, sent, field):
    if sent == "expired":
        sent = token(expiry=datetime.date(2020, 1, 31))
    elif sent == "twice":
        sent = token()
        assert api(world.alpha).post(URL, {"gateway_token": sent}).status_code == 201
    before = PaymentMethod.objects.count()

    response = api(world.alpha).post(URL, {"gateway_token": sent}, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert PaymentMethod.objects.count() == before


def test_a_customer_adds_a_card_only_where_its_issuer_takes_cards(world, api):
    customer = api(world.alpha_customer)
    refused = customer.post(URL, {"gateway_token": token()}, format="json")
    assert refused.status_code == 400 and "account" in refused.json()

    Account.objects.filter(pk=world.a.pk).update(card_payments=True)
    customer = api(User.objects.get(pk=world.alpha_customer.pk))  # a new request's user
    added = customer.post(URL, {"gateway_token": token()}, format="json")
    assert added.status_code == 201 and added.json()["account"] == world.a1.pk


def test_staff_add_a_card_to_a_named_reseller_others_only_to_their_own(world, api):
    staff = api(world.staff)
    assert staff.post(URL, {"gateway_token": token()}).status_code == 400  # name the reseller
    added = staff.post(URL, {"gateway_token": token(), "account": world.b.pk}, format="json")
    assert added.status_code == 201 and added.json()["account"] == world.b.pk

    other = api(world.alpha).post(
        URL, {"gateway_token": token("5555555555554444"), "account": world.b.pk}
    )
    assert other.status_code == 400 and "account" in other.json()


def test_remove_a_method_it_stays_inactive_on_its_account(world, api):
    card = world.methods["a_card"]
    Account.objects.filter(pk=world.a.pk).update(auto_topup_payment_method=card)

    response = api(world.alpha).delete(f"{URL}{card.pk}/")

    assert response.status_code == 204
    card.refresh_from_db()
    assert (card.is_active, card.is_default) == (False, False)
    world.a.refresh_from_db()
    assert world.a.auto_topup_payment_method_id is None
    assert AuditEvent.objects.filter(action="payment_method.remove", account=world.a).exists()


def test_another_tenants_method_answers_404_and_a_customers_403(world, api):
    bravo_card = world.methods["b_card"]
    assert api(world.alpha).delete(f"{URL}{bravo_card.pk}/").status_code == 404
    assert api(world.alpha).post(f"{URL}{bravo_card.pk}/make-default/").status_code == 404
    # Alpha sees its customer's methods but does not act for it
    cash = world.methods["a1_cash"]
    assert api(world.alpha).delete(f"{URL}{cash.pk}/").status_code == 403
    bravo_card.refresh_from_db()
    cash.refresh_from_db()
    assert bravo_card.is_active and cash.is_active


def test_choose_the_default(world, api):
    second = f.card(world.a, token="tok_second_alpha")
    alpha = api(world.alpha)

    response = alpha.post(f"{URL}{second.pk}/make-default/")

    assert response.status_code == 200 and response.json()["is_default"] is True
    defaults = PaymentMethod.objects.filter(account=world.a, is_default=True)
    assert list(defaults) == [second]
    alpha.delete(f"{URL}{second.pk}/")
    removed = alpha.post(f"{URL}{second.pk}/make-default/")
    assert removed.status_code == 400


def test_the_schema_describes_the_changes(db, api):
    paths = api().get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    assert "post" in paths["/api/v1/payment-methods/"]
    assert "delete" in paths["/api/v1/payment-methods/{id}/"]
    assert "post" in paths["/api/v1/payment-methods/{id}/make-default/"]

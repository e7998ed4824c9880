"""payments/: the payment documents a caller may see, and top-ups by card (POST), on the two-tenant
world of conftest.py (Alpha: open debt 350.00, credit balance 100.00, balance -250.00)."""

from decimal import Decimal as D

import pytest

from billing.gateway import TestGateway
from billing.models import Document, GatewayCharge
from billing.selectors import account_financials, balance_mismatches
from resellers.models import User
from resellers.services import reseller_set_card_payments
from tests import factories as f
from tests.functional.api.conftest import ids

URL = "/api/v1/payments/"
NO_SUCH_METHOD = {"payment_method": ["Choose one of the account's payment methods."]}


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def counts() -> tuple[int, int]:
    return Document.objects.count(), GatewayCharge.objects.count()


def test_a_reseller_tops_up_with_its_card(world, api):
    card = world.methods["a_card"]
    before = account_financials(account=world.a)

    response = api(world.alpha).post(
        URL, {"payment_method": card.pk, "amount": "300.00"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "payment" and body["status"] == "issued"
    assert (body["total"], body["open_amount"]) == ("300.00", "300.00")
    assert body["recipient"] == {"id": world.a.pk, "name": "Alpha Reseller"}
    assert body["issuer"]["id"] == world.provider.pk
    assert (body["reference"], body["payment_method"], body["is_topup"]) == (
        "Top-up",
        card.pk,
        True,
    )
    assert "SECRET" not in response.content.decode()  # the token never goes out
    after = account_financials(account=world.a)
    assert after.balance - before.balance == D("300.00")
    assert after.credit_balance - before.credit_balance == D("300.00")
    reseller = api(world.alpha).get(f"/api/v1/resellers/{world.a.pk}/").json()
    assert reseller["financials"]["credit_balance"] == "400.00"
    assert reseller["financials"]["balance"] == "50.00"


def test_payments_are_listed_per_tenant(world, api):
    topup = api(world.alpha).post(
        URL, {"payment_method": world.methods["a_card"].pk, "amount": "10.00"}, format="json"
    )
    topup_id = topup.json()["id"]
    d = world.docs

    assert ids(api(world.alpha).get(URL)) == {d["pay_a"].pk, d["pay_a1"].pk, topup_id}
    assert ids(api(world.alpha).get(URL + "?is_topup=true")) == {topup_id}
    assert ids(api(world.bravo).get(URL)) == set()
    assert ids(api(world.alpha_customer).get(URL)) == {d["pay_a1"].pk}
    assert ids(api(world.referral).get(URL)) == set()
    assert api(world.bravo).get(f"{URL}{topup_id}/").status_code == 404
    assert api(world.alpha).get(f"{URL}{d['inv_a'].pk}/").status_code == 404  # not a payment
    assert api(world.staff).get(f"{URL}{topup_id}/").json()["is_topup"] is True
    assert api(world.alpha).get(f"{URL}{d['pay_a'].pk}/").json()["is_topup"] is False


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "10.005", "abc", "", None])
def test_a_bad_amount_answers_400_on_amount_and_writes_nothing(world, api, amount):
    before = counts()
    data = {"payment_method": world.methods["a_card"].pk}
    if amount is not None:
        data["amount"] = amount

    response = api(world.alpha).post(URL, data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["amount"]
    assert counts() == before and TestGateway.attempts == {}


def test_another_tenants_method_answers_like_a_missing_one(world, api):
    before = counts()
    alpha = api(world.alpha)

    other_tenant = alpha.post(
        URL, {"payment_method": world.methods["b_card"].pk, "amount": "10.00"}, format="json"
    )
    own_customers = alpha.post(
        URL, {"payment_method": world.methods["a1_cash"].pk, "amount": "10.00"}, format="json"
    )
    missing = alpha.post(URL, {"payment_method": 999999, "amount": "10.00"}, format="json")

    for response in (other_tenant, own_customers, missing):
        assert (response.status_code, response.json()) == (400, NO_SUCH_METHOD)
    assert counts() == before and TestGateway.attempts == {}


def test_offline_methods_are_paid_offline(world, api):
    response = api(world.referral).post(
        URL, {"payment_method": world.methods["r_cash"].pk, "amount": "10.00"}, format="json"
    )

    assert response.status_code == 400
    assert "Only a credit card can be charged online" in response.json()["payment_method"][0]


def test_a_declined_card_answers_400_and_writes_nothing(world, api):
    card = f.card(world.a, token="tok_decline_1")
    before = counts()

    response = api(world.alpha).post(
        URL, {"payment_method": card.pk, "amount": "10.00"}, format="json"
    )

    assert response.status_code == 400
    assert "declined" in response.json()["payment_method"][0]
    assert counts() == before


def test_a_gateway_timeout_answers_503_and_a_retry_charges_once(world, api):
    card = f.card(world.a, token="tok_timeout_1")
    before = counts()
    alpha = api(world.alpha)
    data = {"payment_method": card.pk, "amount": "10.00"}

    timed_out = alpha.post(URL, data, format="json")

    assert timed_out.status_code == 503
    body = timed_out.json()
    assert "did not answer in time" in body["detail"]
    assert counts() == before  # nothing recorded
    retry = alpha.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY=body["idempotency_key"])
    assert retry.status_code == 201
    assert len(TestGateway.charges) == 1  # the one charge, booked once
    assert GatewayCharge.objects.count() == before[1] + 1


def test_a_gateway_error_answers_503(world, api):
    card = f.card(world.a, token="tok_fail_1")
    before = counts()

    response = api(world.alpha).post(
        URL, {"payment_method": card.pk, "amount": "10.00"}, format="json"
    )

    assert response.status_code == 503 and "returned an error" in response.json()["detail"]
    assert counts() == before


def test_a_replay_with_the_same_key_charges_once(world, api):
    alpha = api(world.alpha)
    data = {"payment_method": world.methods["a_card"].pk, "amount": "300.00"}

    first = alpha.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="topup-1")
    second = alpha.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="topup-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert GatewayCharge.objects.filter(payment_id=first.json()["id"]).count() == 1
    assert TestGateway.attempts == {f"topup:{world.a.pk}:topup-1": 1}
    assert account_financials(account=world.a).credit_balance == D("400.00")

    other = alpha.post(
        URL, {**data, "amount": "20.00"}, format="json", HTTP_IDEMPOTENCY_KEY="topup-1"
    )
    assert other.status_code == 422
    too_long = alpha.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k" * 81)
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()


def test_provider_staff_top_up_a_named_reseller(world, api):
    staff = api(world.staff)
    data = {"payment_method": world.methods["b_card"].pk, "amount": "25.00"}

    response = staff.post(URL, {**data, "account": world.b.pk}, format="json")
    unnamed = staff.post(URL, data, format="json")
    a_customer = staff.post(
        URL,
        {"payment_method": world.methods["b1_card"].pk, "amount": "5", "account": world.b1.pk},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["recipient"]["id"] == world.b.pk
    assert (unnamed.status_code, list(unnamed.json())) == (400, ["account"])
    assert (a_customer.status_code, a_customer.json()) == (400, {"account": ["No such reseller."]})


def test_others_may_top_up_only_their_own_account(world, api):
    before = counts()
    data = {"payment_method": world.methods["b_card"].pk, "amount": "10.00"}

    other = api(world.alpha).post(URL, {**data, "account": world.b.pk}, format="json")
    customer = api(world.alpha_customer).post(
        URL, {"payment_method": world.methods["a1_cash"].pk, "amount": "10.00"}, format="json"
    )
    anonymous = api().post(URL, data, format="json")

    assert (other.status_code, list(other.json())) == (400, ["account"])
    assert customer.status_code == 400
    assert "pay their reseller" in customer.json()["account"][0]  # a resale customer
    assert anonymous.status_code in (401, 403)
    assert counts() == before


def test_a_resale_resellers_customer_tops_up_once_its_reseller_takes_cards(world, api):
    """billing.topups.topup_refusal follows the issuer's `takes_cards`, as card payments do."""
    user = f.user(account=world.b1, username="bravo-customer")
    customer = api(user)
    data = {"payment_method": world.methods["b1_card"].pk, "amount": "150.00"}
    before = counts()

    refused = customer.post(URL, data, format="json")
    assert refused.status_code == 400 and "pay their reseller" in refused.json()["account"][0]
    assert counts() == before

    reseller_set_card_payments(reseller=world.b, enabled=True, acting_user=world.bravo)
    customer = api(User.objects.get(pk=user.pk))  # as the next request loads it
    response = customer.post(URL, data, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["issuer"]["id"], body["recipient"]["id"]) == (world.b.pk, world.b1.pk)
    assert body["is_topup"] is True
    # Bravo Customer is prepaid: the top-up paid its 120.00 invoice, 30.00 stays as credit
    assert account_financials(account=world.b1).credit_balance == D("30.00")
    assert balance_mismatches() == []


def test_the_schema_describes_the_top_up(db, api):
    schema = api().get("/api/v1/schema/?format=json").json()
    post = schema["paths"]["/api/v1/payments/"]["post"]

    assert "Idempotency-Key" in [p["name"] for p in post["parameters"]]
    assert {"200", "201", "400", "422", "503"} <= set(post["responses"])
    assert "/api/v1/payments/{id}/" in schema["paths"]

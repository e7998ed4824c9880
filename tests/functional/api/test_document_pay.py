"""Paying a chosen document (seed 003's first way): POST documents/{id}/pay/ by card or from the
credit balance, and POST payments/ with `documents` or `apply_to: "oldest_due"`, on the
two-tenant world of conftest.py (Alpha: INV 600.00 with 350.00 open, a credit memo of 100.00
unapplied; Alpha Customer: INV 80.00 with 50.00 open, billed by Alpha)."""

from decimal import Decimal as D

import pytest

from billing.gateway import TestGateway
from billing.models import Document, GatewayCharge
from billing.selectors import balance_mismatches
from resellers.models import Account
from tests import factories as f

PAYMENTS = "/api/v1/payments/"


def pay_url(document) -> str:
    return f"/api/v1/documents/{document.pk}/pay/"


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def counts() -> tuple[int, int]:
    return Document.objects.count(), GatewayCharge.objects.count()


def open_amount(document) -> D:
    return Document.objects.get(pk=document.pk).open_amount


def test_a_reseller_pays_its_invoice_in_full_by_card(world, api):
    invoice = world.docs["inv_a"]
    card = world.methods["a_card"]

    response = api(world.alpha).post(pay_url(invoice), {"payment_method": card.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["total"], body["open_amount"]) == ("payment", "350.00", "0.00")
    assert (body["payment_method"], body["is_topup"]) == (card.pk, False)
    assert body["reference"] == f"Payment for {invoice.display_number}"
    assert "SECRET" not in response.content.decode()
    assert open_amount(invoice) == 0
    assert Document.objects.get(pk=invoice.pk).status == "paid"
    assert balance_mismatches() == []


def test_part_of_it_then_more_than_is_left(world, api):
    invoice, card = world.docs["inv_a"], world.methods["a_card"]
    alpha = api(world.alpha)

    part = alpha.post(pay_url(invoice), {"payment_method": card.pk, "amount": "100.00"})
    assert part.status_code == 201 and open_amount(invoice) == D("250.00")

    over = alpha.post(pay_url(invoice), {"payment_method": card.pk, "amount": "300.00"})
    assert over.status_code == 201
    assert open_amount(invoice) == 0 and over.json()["open_amount"] == "50.00"  # credit balance
    assert balance_mismatches() == []


def test_from_the_credit_balance(world, api):
    invoice = world.docs["inv_a"]

    response = api(world.alpha).post(pay_url(invoice), {"from_credit_balance": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == "100.00"  # the unapplied credit memo
    assert (body["document"]["id"], body["document"]["open_amount"]) == (invoice.pk, "250.00")
    assert GatewayCharge.objects.count() == 0


def test_another_tenants_document_and_card_answer_like_missing_ones(world, api):
    before = counts()
    bravo = api(world.bravo)

    assert bravo.post(pay_url(world.docs["inv_a"]), {"payment_method": 1}).status_code == 404
    foreign_card = api(world.alpha).post(
        pay_url(world.docs["inv_a"]), {"payment_method": world.methods["b_card"].pk}
    )
    assert foreign_card.status_code == 400
    assert foreign_card.json() == {
        "payment_method": ["Choose one of the account's payment methods."]
    }
    in_list = bravo.post(
        PAYMENTS,
        {"payment_method": world.methods["b_card"].pk, "documents": [world.docs["inv_a"].pk]},
        format="json",
    )
    assert in_list.status_code == 404
    assert counts() == before and open_amount(world.docs["inv_a"]) == D("350.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "payment_method"),
        ({"from_credit_balance": True, "payment_method": 1}, "from_credit_balance"),
        ({"payment_method": "CARD", "amount": "1"}, "payment_method"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.005"}, "amount"),
    ],
)
def test_bad_input_answers_400_on_the_field_and_writes_nothing(world, api, body, field):
    before = counts()
    body = {"payment_method": world.methods["a_card"].pk, **body} if "amount" in body else body

    response = api(world.alpha).post(pay_url(world.docs["inv_a"]), body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert counts() == before


def test_a_paid_or_credit_document_has_nothing_to_pay(world, api):
    card = world.methods["a_card"].pk
    for document in (world.docs["cm_a"], world.docs["pay_a"]):
        response = api(world.alpha).post(pay_url(document), {"payment_method": card})
        assert response.status_code == 400 and "documents" in response.json()


def test_a_resale_resellers_customer_pays_by_card_once_its_reseller_takes_cards(world, api):
    invoice = world.docs["inv_a1"]
    card = f.card(world.a1, token="tok_alpha_customer")
    customer = api(world.alpha_customer)

    refused = customer.post(pay_url(invoice), {"payment_method": card.pk})
    assert refused.status_code == 400
    assert "does not take card payments online" in refused.json()["payment_method"][0]

    Account.objects.filter(pk=world.a.pk).update(card_payments=True)
    paid = customer.post(pay_url(invoice), {"payment_method": card.pk})

    assert paid.status_code == 201 and paid.json()["issuer"]["id"] == world.a.pk
    assert open_amount(invoice) == 0
    # its reseller sees the document, but pays only its own
    assert api(world.alpha).post(pay_url(invoice), {"payment_method": card.pk}).status_code in (
        400,
        403,
    )


def test_payments_with_documents_and_the_wallets_oldest_due(world, api):
    alpha = api(world.alpha)
    card = world.methods["a_card"].pk
    newer = f.invoice(world.a, "40.00", world.docs["inv_a"].issue_date.replace(day=20))

    chosen = alpha.post(PAYMENTS, {"payment_method": card, "documents": [newer.pk]}, format="json")
    assert chosen.status_code == 201, chosen.content
    assert chosen.json()["total"] == "40.00" and open_amount(newer) == 0
    assert open_amount(world.docs["inv_a"]) == D("350.00")  # not chosen: untouched

    wallet = alpha.post(
        PAYMENTS, {"payment_method": card, "amount": "400.00", "apply_to": "oldest_due"}
    )
    assert wallet.status_code == 201, wallet.content
    assert open_amount(world.docs["inv_a"]) == 0 and wallet.json()["open_amount"] == "50.00"
    nothing = alpha.post(
        PAYMENTS, {"payment_method": card, "amount": "5.00", "apply_to": "oldest_due"}
    )
    assert nothing.status_code == 400 and "apply_to" in nothing.json()
    both = alpha.post(
        PAYMENTS,
        {"payment_method": card, "documents": [newer.pk], "apply_to": "oldest_due"},
        format="json",
    )
    assert both.status_code == 400 and "apply_to" in both.json()
    assert balance_mismatches() == []


def test_a_wallet_payment_replayed_after_it_paid_everything_is_the_same_payment(world, api):
    """The wallet's open documents are read when the payment is made; a replay of its key finds
    none open, and still answers with the payment it made (billing.card_payments.wallet_pay)."""
    alpha = api(world.alpha)
    data = {"payment_method": world.methods["a_card"].pk, "amount": "400.00"}
    data["apply_to"] = "oldest_due"

    first = alpha.post(PAYMENTS, data, format="json", HTTP_IDEMPOTENCY_KEY="wallet-1")
    second = alpha.post(PAYMENTS, data, format="json", HTTP_IDEMPOTENCY_KEY="wallet-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert TestGateway.attempts == {f"pay:{world.a.pk}:wallet-1": 1}
    assert open_amount(world.docs["inv_a"]) == 0
    assert balance_mismatches() == []


def test_the_same_key_pays_once(world, api):
    alpha = api(world.alpha)
    data = {"payment_method": world.methods["a_card"].pk, "amount": "50.00"}
    url = pay_url(world.docs["inv_a"])

    first = alpha.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    second = alpha.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert TestGateway.attempts == {f"pay:{world.a.pk}:pay-1": 1}
    assert open_amount(world.docs["inv_a"]) == D("300.00")


def test_a_gateway_timeout_answers_503_and_the_same_key_completes_it(world, api):
    card = f.card(world.a, token="tok_timeout_pay")
    alpha = api(world.alpha)
    url = pay_url(world.docs["inv_a"])
    before = counts()

    timed_out = alpha.post(url, {"payment_method": card.pk}, format="json")
    assert timed_out.status_code == 503 and counts() == before
    retry = alpha.post(
        url,
        {"payment_method": card.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY=timed_out.json()["idempotency_key"],
    )
    assert retry.status_code == 201 and len(TestGateway.charges) == 1
    assert open_amount(world.docs["inv_a"]) == 0


def test_the_schema_describes_pay(db, api):
    schema = api().get("/api/v1/schema/", {"format": "json"}).json()
    post = schema["paths"]["/api/v1/documents/{id}/pay/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"]]

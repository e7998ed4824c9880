"""POST documents/{id}/refund/: provider staff pay back a credit document's unapplied amount,
to the card that paid it (through the gateway) or offline; never more than is unapplied; a
declined or failing gateway writes nothing; a replayed key refunds once (issue 11, item 5)."""

import datetime
from decimal import Decimal as D

import pytest

from billing.gateway import CardDeclined, GatewayError, TestGateway
from billing.models import Document, GatewayCharge
from billing.selectors import account_financials, balance_mismatches
from billing.topups import topup_pay
from resellers.models import AuditEvent
from tests import factories as f
from tests.factories.api import cash

TODAY = datetime.date(2026, 2, 10)


@pytest.fixture
def paid(world):
    """Alpha topped up 100.00 by card: a payment kept as credit balance (net terms)."""
    TestGateway.reset()
    card = f.card(world.a, token="tok_alpha")
    payment = topup_pay(
        account=world.a,
        payment_method=card,
        amount=D("100.00"),
        idempotency_key="topup-1",
        acting_user=world.alpha,
        today=TODAY,
    )
    return payment, card


def refund(client, document, body, **kwargs):
    return client.post(f"/api/v1/documents/{document.pk}/refund/", body, format="json", **kwargs)


def written():
    return Document.objects.count(), GatewayCharge.objects.count(), AuditEvent.objects.count()


def test_staff_refund_part_of_a_card_payment_to_its_card(world, api, paid):
    payment, card = paid
    before = account_financials(account=world.a)

    response = refund(api(world.staff), payment, {"amount": "40.00", "payment_method": card.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["total"], body["recipient"]["id"]) == ("refund", "40.00", world.a.pk)
    payment.refresh_from_db()
    assert payment.open_amount == D("60.00")
    assert before.credit_balance - account_financials(account=world.a).credit_balance == D("40")
    [charge] = TestGateway.charges.values()
    assert charge.refunded == D("40.00")
    assert GatewayCharge.objects.filter(status="refunded", payment_id=body["id"]).exists()
    event = AuditEvent.objects.get(action="document.refund", object_id=str(body["id"]))
    assert (event.details["open_before"], event.details["open_after"]) == ("100.00", "60.00")
    assert balance_mismatches() == []


def test_never_more_than_is_unapplied(world, api, paid):
    payment, card = paid
    client = api(world.staff)
    assert (
        refund(client, payment, {"amount": "40.00", "payment_method": card.pk}).status_code == 201
    )
    before = written()

    response = refund(client, payment, {"amount": "60.01", "payment_method": card.pk})

    assert response.status_code == 400 and "amount" in response.json()
    assert written() == before
    assert next(iter(TestGateway.charges.values())).refunded == D("40.00")


def test_a_credit_memo_goes_back_offline_never_to_a_card(world, api, paid):
    _, card = paid
    memo = f.credit_memo(world.a, "30.00", TODAY)
    client = api(world.staff)

    to_card = refund(client, memo, {"amount": "30.00", "payment_method": card.pk})
    offline = refund(client, memo, {"amount": "30.00", "payment_method": cash(world.a).pk})

    assert to_card.status_code == 400 and "payment_method" in to_card.json()
    assert offline.status_code == 201, offline.content
    memo.refresh_from_db()
    assert memo.open_amount == 0 and memo.status == "closed"
    assert balance_mismatches() == []


def test_another_accounts_method_and_bad_amounts_are_refused(world, api, paid):
    payment, _ = paid
    client = api(world.staff)
    before = written()
    bravo_card = f.card(world.b, token="tok_bravo")
    for body, field in (
        ({"amount": "10.00", "payment_method": bravo_card.pk}, "payment_method"),
        ({"amount": "10.00", "payment_method": 987654}, "payment_method"),
        ({"amount": "-5", "payment_method": paid[1].pk}, "amount"),
        ({"amount": "0", "payment_method": paid[1].pk}, "amount"),
    ):
        response = refund(client, payment, body)
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    assert written()[0] == before[0] and written()[1] == before[1]


@pytest.mark.parametrize(("fault", "code"), [(GatewayError, 503), (CardDeclined, 402)])
def test_a_gateway_that_fails_or_declines_writes_nothing(
    world, api, paid, monkeypatch, fault, code
):
    payment, card = paid

    def broken(self, **kwargs):
        raise fault("no")

    monkeypatch.setattr(TestGateway, "refund", broken)
    before = written()

    response = refund(api(world.staff), payment, {"amount": "10.00", "payment_method": card.pk})

    assert response.status_code == code, response.content
    assert written() == before
    payment.refresh_from_db()
    assert payment.open_amount == D("100.00")


def test_tenants_cannot_refund_and_see_no_other_tenants_documents(world, api, paid):
    payment, card = paid
    body = {"amount": "10.00", "payment_method": card.pk}
    assert refund(api(world.alpha), payment, body).status_code == 403
    assert refund(api(world.bravo), payment, body).status_code == 404
    payment.refresh_from_db()
    assert payment.open_amount == D("100.00")


def test_a_replayed_key_refunds_once(world, api, paid):
    payment, card = paid
    client = api(world.staff)
    body = {"amount": "25.00", "payment_method": card.pk}

    first = refund(client, payment, body, HTTP_IDEMPOTENCY_KEY="r-1")
    again = refund(client, payment, body, HTTP_IDEMPOTENCY_KEY="r-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert next(iter(TestGateway.charges.values())).refunded == D("25.00")
    payment.refresh_from_db()
    assert payment.open_amount == D("75.00")


def test_one_key_string_from_two_staff_users_makes_two_refunds(world, api, paid):
    payment, card = paid
    second_staff = f.user(account=world.provider, username="staff-two")
    body = {"amount": "10.00", "payment_method": card.pk}

    first = refund(api(world.staff), payment, body, HTTP_IDEMPOTENCY_KEY="same")
    second = refund(api(second_staff), payment, body, HTTP_IDEMPOTENCY_KEY="same")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert next(iter(TestGateway.charges.values())).refunded == D("20.00")
    payment.refresh_from_db()
    assert payment.open_amount == D("80.00")

"""Refund on a credit document's page (/documents/<pk>/refund/): provider staff pay back part or all
of a payment's or credit memo's unapplied amount, to the card that paid it through the test
gateway or offline; a declined card, a failing gateway or too much is a form error and writes
nothing; a double submit refunds once; nobody else may, and another tenant gets 404."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing.gateway import CardDeclined, GatewayError, TestGateway
from billing.models import Document, GatewayCharge
from billing.selectors import account_financials, balance_mismatches
from billing.topups import topup_pay
from resellers.models import AuditEvent
from tests import factories as f

FEB5 = datetime.date(2026, 2, 5)


@pytest.fixture
def paid(world):
    """Reseller1 topped up 100.00 by card: a payment kept as credit balance (net terms)."""
    TestGateway.reset()
    card = f.card(world.r1, token="tok_r1_topup")
    payment = topup_pay(
        account=world.r1,
        payment_method=card,
        amount=D("100.00"),
        idempotency_key="topup-r1",
        acting_user=world.r1_user,
        today=FEB5,
    )
    return payment, card


def refund_url(document) -> str:
    return reverse("document_refund", args=[document.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def written() -> tuple[int, int, int]:
    return Document.objects.count(), GatewayCharge.objects.count(), AuditEvent.objects.count()


def refunds_of(document):
    return Document.objects.filter(doc_type="refund", recipient=document.recipient)


def test_staff_refund_part_of_a_card_payment_to_its_card(world, login, paid):
    payment, card = paid
    staff = login(world.staff)
    before = account_financials(account=world.r1)
    page = staff.get(reverse("document_detail", args=[payment.pk])).content.decode()
    assert refund_url(payment) in page
    form = staff.get(refund_url(payment))
    assert form.context["form"]["amount"].value() == D("100.00")  # the open amount
    assert form.context["form"]["payment_method"].value() == card.pk  # the card that paid it

    response = staff.post(
        refund_url(payment),
        {
            "submission_key": "refund-1",
            "amount": "40.00",
            "payment_method": card.pk,
            "reason": "Asked back",
        },
        follow=True,
    )

    [refund] = refunds_of(payment)
    assert response.redirect_chain == [(reverse("document_detail", args=[refund.pk]), 302)]
    assert messages_of(response) == [
        f"Refund {refund.display_number} of 40.00 USD issued against {payment.display_number}."
    ]
    assert refund.total == D("40.00") and refund.number is not None
    payment.refresh_from_db()
    assert payment.open_amount == D("60.00")
    assert before.credit_balance - account_financials(account=world.r1).credit_balance == D("40")
    [charge] = TestGateway.charges.values()
    assert charge.refunded == D("40.00")
    event = AuditEvent.objects.get(action="document.refund", object_id=str(refund.pk))
    assert event.actor == world.staff and event.details["reason"] == "Asked back"
    assert balance_mismatches() == []


def test_a_credit_memo_goes_back_offline_and_a_double_submit_refunds_once(world, login):
    memo = world.docs.r1_cm  # 30.00, unapplied
    staff = login(world.staff)
    data = {"submission_key": "twice", "amount": "30.00", "payment_method": world.r1_cash.pk}

    first = staff.post(refund_url(memo), data)
    again = staff.post(refund_url(memo), data, follow=True)

    [refund] = refunds_of(memo)
    assert first.url == reverse("document_detail", args=[refund.pk])
    assert again.redirect_chain[-1][0] == first.url
    assert messages_of(again)[-1] == "That form was already sent: here is what it made."
    memo.refresh_from_db()
    assert (memo.open_amount, memo.status) == (D("0"), "closed")
    page = staff.get(reverse("document_detail", args=[memo.pk])).content.decode()
    assert refund_url(memo) not in page  # nothing left to refund
    assert balance_mismatches() == []


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (CardDeclined, "The card issuer declined the refund: nothing was refunded."),
        (GatewayError, "The payment gateway failed, so nothing was refunded"),
    ],
)
def test_a_declined_or_failing_gateway_is_a_form_error(
    world, login, paid, monkeypatch, fault, says
):
    payment, card = paid

    def broken(self, **kwargs):
        raise fault("no")

    monkeypatch.setattr(TestGateway, "refund", broken)
    before = written()
    data = {"submission_key": "refund-x", "amount": "10.00", "payment_method": card.pk}

    response = login(world.staff).post(refund_url(payment), data)

    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith(says)
    assert "Nothing was refunded." in response.content.decode()
    assert written() == before and not refunds_of(payment).exists()
    payment.refresh_from_db()
    assert payment.open_amount == D("100.00")
    key = response.context["form"]["submission_key"].value()
    # Declined: nothing was refunded with the token, the next submit is a new refund; failed:
    # the same token, so a retry gets the first refund back if the gateway made it.
    assert (key != "refund-x") == (fault is CardDeclined)


def test_more_than_is_unapplied_or_another_accounts_method_is_a_form_error(world, login, paid):
    payment, card = paid
    staff = login(world.staff)
    before = written()
    for data, field in (
        ({"amount": "100.01", "payment_method": card.pk}, "amount"),
        ({"amount": "0", "payment_method": card.pk}, "amount"),
        ({"amount": "-5", "payment_method": card.pk}, "amount"),
        ({"amount": "10.00", "payment_method": world.r2_card.pk}, "payment_method"),
    ):
        response = staff.post(refund_url(payment), {"submission_key": "k", **data})
        assert response.status_code == 200, data
        assert response.context["form"].errors.get(field), (data, response.context["form"].errors)
    assert written() == before
    assert next(iter(TestGateway.charges.values())).refunded == D("0")


def test_only_staff_refund_and_another_tenant_sees_nothing(world, login, paid):
    payment, card = paid
    data = {"submission_key": "k", "amount": "10.00", "payment_method": card.pk}
    before = written()
    for user in (world.r1_user,):
        client = login(user)
        assert (
            refund_url(payment)
            not in client.get(reverse("document_detail", args=[payment.pk])).content.decode()
        )
        assert client.get(refund_url(payment)).status_code == 403
        assert client.post(refund_url(payment), data).status_code == 403
    for user in (world.r2_user, world.c1_user):
        client = login(user)
        assert client.get(refund_url(payment)).status_code == 404
        assert client.post(refund_url(payment), data).status_code == 404
    assert written() == before
    # An invoice is no credit document: staff get no Refund button on it.
    staff = login(world.staff)
    invoice = world.docs.r1_inv2
    assert (
        refund_url(invoice)
        not in staff.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    )
    refused = staff.post(refund_url(invoice), {**data, "payment_method": world.r1_cash.pk})
    assert refused.status_code == 200
    assert "Only a payment or a credit memo is refunded." in refused.content.decode()
    assert 'id="refund-refusal"' in refused.content.decode()
    assert written() == before


def test_the_reseller_sees_its_refund_in_its_documents(world, login, paid):
    payment, card = paid
    login(world.staff).post(
        refund_url(payment),
        {"submission_key": "k", "amount": "25.00", "payment_method": card.pk},
    )
    [refund] = refunds_of(payment)

    page = login(world.r1_user).get(reverse("account")).content.decode()
    assert refund.display_number in page
    assert login(world.r2_user).get(reverse("document_detail", args=[refund.pk])).status_code == 404

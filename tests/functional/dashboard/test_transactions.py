"""The provider panel's reseller transactions: list and filter every account's, correct one not
yet invoiced (new amount, reason) or cancel it; an invoiced one names its invoice and offers
nothing; tenants get 403."""

from decimal import Decimal as D

from django.urls import reverse

from billing import ledger
from billing.models import ResellerTransaction
from resellers.models import AuditEvent
from tests.functional.dashboard.conftest import JAN1


def _tx(account, amount, description):
    return ledger.reseller_transaction_record(
        account=account, amount=D(amount), description=description, charge_date=JAN1
    )


def test_staff_list_filter_and_correct_one(world, login):
    mine = _tx(world.r1, "30.00", "Usage reported as money, 3 March")
    theirs = _tx(world.r2, "12.00", "Another reseller's charge")
    staff = login(world.staff)

    listed = staff.get(reverse("transactions"), {"account": world.r1.pk}).content.decode()
    assert "Usage reported as money" in listed and "Another reseller" not in listed
    assert reverse("transaction_correct", args=[mine.pk]) in listed

    url = reverse("transaction_correct", args=[mine.pk])
    form = staff.get(url).content.decode()
    assert 'data-field="amount">30.00 USD<' in form
    response = staff.post(url, {"amount": "25.00", "reason": "The real figure was $25.00"})

    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.amount, theirs.amount) == (D("25.00"), D("12.00"))
    event = AuditEvent.objects.get(action="reseller_transaction.correct", object_id=str(mine.pk))
    assert event.details["before"] == "30.00" and event.details["after"] == "25.00"


def test_a_bad_amount_is_a_form_error_and_nothing_changes(world, login):
    tx = _tx(world.r1, "30.00", "Charge")
    staff = login(world.staff)
    url = reverse("transaction_correct", args=[tx.pk])
    for body in ({"amount": "2.501", "reason": "x"}, {"amount": "30.00", "reason": "same"}):
        response = staff.post(url, body)
        assert response.status_code == 200 and 'class="error"' in response.content.decode()
    tx.refresh_from_db()
    assert tx.amount == D("30.00")


def test_cancel_and_the_invoiced_row_says_how_it_is_corrected(world, login):
    tx = _tx(world.r1, "8.00", "Ordered twice")
    invoiced = _tx(world.r1, "9.00", "Already on an invoice")
    ResellerTransaction.objects.filter(pk=invoiced.pk).update(
        status="invoiced", invoice=world.docs.r1_inv1
    )
    staff = login(world.staff)

    response = staff.post(reverse("transaction_cancel", args=[tx.pk]), {"reason": "duplicate"})

    assert response.status_code == 302
    tx.refresh_from_db()
    assert tx.status == "cancelled"
    html = staff.get(reverse("transactions"), {"account": world.r1.pk}).content.decode()
    assert "correct it with a correcting order" in html
    assert reverse("transaction_correct", args=[invoiced.pk]) not in html
    refused = staff.post(
        reverse("transaction_correct", args=[invoiced.pk]), {"amount": "1", "reason": "x"}
    )
    assert "correcting order" in refused.content.decode()


def test_tenants_get_403(world, login):
    tx = _tx(world.r1, "5.00", "Charge")
    for user in (world.r1_user, world.c1_user):
        client = login(user)
        assert client.get(reverse("transactions")).status_code == 403
        assert client.get(reverse("transaction_correct", args=[tx.pk])).status_code == 403
        response = client.post(reverse("transaction_cancel", args=[tx.pk]), {"reason": "mine"})
        assert response.status_code == 403
    tx.refresh_from_db()
    assert tx.status == "uninvoiced"


def test_a_credit_refunded_at_once_from_the_panel_once(world, login):
    """A refund adjustment corrected to a credit and refunded at once to the reseller's card:
    a credit memo and its refund; a resubmitted form refunds once; a charge is never refunded."""
    from billing.gateway import TestGateway
    from billing.models import Document
    from tests import factories as f

    TestGateway.reset()
    tx = _tx(world.r1, "-10.00", "Refund adjustment for a customer's order")
    card = f.card(world.r1, token="tok_r1_refund")
    ledger.card_charge(
        payment_method=card, amount=D("500.00"), idempotency_key="r1-topup", charge_date=JAN1
    )
    staff = login(world.staff)
    url = reverse("transaction_correct", args=[tx.pk])
    charge_back = staff.post(url, {"amount": "5.00", "reason": "x", "refund": "on",
                                   "payment_method": card.pk, "submission_key": "k0"})  # fmt: skip
    assert charge_back.status_code == 200 and "Only a credit" in charge_back.content.decode()
    body = {"amount": "-12.00", "reason": "The customer's refund was 12.00", "refund": "on",
            "payment_method": card.pk, "submission_key": "k1"}  # fmt: skip

    first = staff.post(url, body, follow=True)
    again = staff.post(url, body)

    assert "refunded at once" in first.content.decode()
    tx.refresh_from_db()
    assert (tx.amount, tx.status, tx.invoice.doc_type) == (D("-12.00"), "invoiced", "credit_memo")
    assert Document.objects.filter(doc_type="refund", recipient=world.r1).count() == 1
    assert again.status_code == 200  # the transaction is settled: nothing more to correct
    assert next(iter(TestGateway.charges.values())).refunded == tx.invoice.total

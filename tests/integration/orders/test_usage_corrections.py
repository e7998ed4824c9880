"""Correcting reported usage (seed 001 §4, case 2): "An application reported a $30 USD usage,
while the actual usage was $25 USD. The respective billing order should be corrected ($25 instead
of $30)." Before the billing order, correcting the usage record corrects what the billing order
carries (the usage, or its waiting transaction); after, a correcting order issues a $5.00 credit
memo. The record is never edited: a correction record carries the difference."""

from decimal import Decimal as D

import pytest

from billing import ledger, runs
from billing.gateway import TestGateway
from billing.models import Document, ResellerTransaction
from billing.selectors import balance_mismatches
from orders.models import Order, UsageRecord
from orders.services import usage_correct
from orders.usage import usage_record
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, AuditEvent
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

DAY, BILLED, LATER = d("2026-01-15"), d("2026-02-01"), d("2026-02-03")
pytestmark = pytest.mark.django_db


def _reported(w, *, for_reseller=True, amount="30.00", cost=None):
    """The application reports $30.00 for 15 January, as money."""
    sub = bf.subscribe(w, product=w.usage, today=d("2026-01-01"), for_reseller=for_reseller)
    record, _ = usage_record(
        subscription=sub,
        usage_date=DAY,
        reference="app-2026-01-15",
        amount=D(amount),
        cost=None if cost is None else D(cost),
        acting_user=w.staff,
        today=DAY,
    )
    return sub, record


def _usage_lines(account):
    return [
        line.amount
        for doc in Document.objects.filter(recipient=account, doc_type="invoice")
        for line in doc.lines.all()
        if "usage" in line.description
    ]


def test_before_the_billing_order_the_corrected_usage_reaches_it():
    w = bf.world()
    _, record = _reported(w)

    result = usage_correct(
        record=record, amount="25.00", reason="The application miscalculated", acting_user=w.staff,
        today=d("2026-01-20"),
    )  # fmt: skip

    assert (result.stage, result.order, result.documents) == ("not billed", None, [])
    assert (result.before, result.after) == (
        {"amount": D("30.00"), "cost": D("30.00")},
        {"amount": D("25.00"), "cost": D("25.00")},
    )
    record.refresh_from_db()
    assert (record.amount, record.cost) == (D("30.00"), None)  # the report is never edited
    fix = result.record
    assert (fix.corrects_id, fix.amount, fix.cost, fix.usage_date) == (
        record.pk,
        D("-5.00"),
        D("-5.00"),
        DAY,
    )
    runs.run_start(run_date=BILLED, inline=True)
    assert _usage_lines(w.reseller) == [D("25.00")]  # $25 instead of $30
    event = AuditEvent.objects.get(action="subscription.usage_correct")
    assert event.actor_id == w.staff.pk
    assert event.details["reason"] == "The application miscalculated"
    assert event.details["before"] == {"amount": "30.00", "cost": "30.00"}
    assert balance_mismatches() == []


def test_after_the_billing_order_a_correcting_order_issues_a_five_dollar_credit_memo():
    w = bf.world()
    sub, record = _reported(w)
    runs.run_start(run_date=BILLED, inline=True)
    billing_order = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    assert _usage_lines(w.reseller) == [D("30.00")]
    total = billing_order.total

    result = usage_correct(
        record=record, amount="25.00", reason="The application miscalculated", acting_user=w.staff,
        today=LATER,
    )  # fmt: skip

    assert result.stage == "invoiced"
    correcting = result.order
    assert (correcting.order_type, correcting.corrects_id) == ("correction", sub.order_id)
    detail = correcting.items.get()
    assert (detail.corrects_usage_id, detail.total_cost) == (record.pk, D("25.00"))
    [memo] = result.documents
    assert (memo.doc_type, memo.recipient_id, memo.total, memo.status) == (
        "credit_memo",
        w.reseller.pk,
        D("5.00"),
        "issued",
    )
    assert memo.reference == f"correction:{correcting.pk}"
    billing_order.refresh_from_db()
    assert (billing_order.total, billing_order.status) == (total, "issued")  # never changed
    assert [(s.before, s.after, s.how) for s in result.sides] == [
        (D("30.00"), D("25.00"), "credit memo")
    ]
    # the correction of the same day again, to the same value, is refused: nothing twice
    with pytest.raises(ApplicationError) as refused:
        usage_correct(record=record, amount="25.00", reason="again", acting_user=w.staff,
                      today=LATER)  # fmt: skip
    assert refused.value.field == "amount"
    assert Document.objects.filter(doc_type="credit_memo").count() == 1
    assert balance_mismatches() == []


def test_a_waiting_transaction_is_corrected_in_place_and_the_customer_gets_a_memo():
    """A resale customer's usage: rated on the customer's billing date (its invoice issued), the
    reseller's charge waiting for the reseller's billing order on the 15th. The correction
    corrects the waiting transaction in place and credits the customer's invoiced side."""
    w = bf.world()
    Account.objects.filter(pk=w.reseller.pk).update(
        billing_anchor=d("2026-01-15"), next_billing_date=d("2026-02-15")
    )
    sub, record = _reported(w, for_reseller=False, amount="30.00", cost="20.00")
    runs.run_start(run_date=BILLED, inline=True)
    waiting = ResellerTransaction.objects.get(account=w.reseller, subscription=sub)
    assert (waiting.amount, waiting.status) == (D("20.00"), "uninvoiced")
    assert _usage_lines(w.customer) == [D("30.00")]

    result = usage_correct(
        record=record, amount="25.00", cost="16.00", reason="Miscalculated",
        acting_user=w.staff, today=LATER,
    )  # fmt: skip

    by_account = {s.account.pk: s for s in result.sides}
    assert (by_account[w.reseller.pk].how, by_account[w.reseller.pk].after) == (
        "corrected in place",
        D("16.00"),
    )
    assert by_account[w.customer.pk].how == "credit memo"
    [memo] = result.documents
    assert (memo.recipient_id, memo.total) == (w.customer.pk, D("5.00"))
    waiting.refresh_from_db()
    assert waiting.amount == D("16.00")
    runs.run_start(run_date=d("2026-02-15"), inline=True)
    assert _usage_lines(w.reseller) == [D("16.00")]  # the billing order carries the correction
    assert balance_mismatches() == []


def test_the_refund_outcome_refunds_the_card_that_paid_the_billing_order():
    TestGateway.reset()
    w = bf.world()
    _, record = _reported(w)
    runs.run_start(run_date=BILLED, inline=True)
    invoice = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    card = f.card(w.reseller, token="tok_reseller")
    payment = ledger.card_charge(
        payment_method=card, amount=invoice.total, idempotency_key="pay-bo", charge_date=BILLED
    )
    ledger.application_create(
        credit_document=payment, debit_document=invoice, amount=invoice.total, acting_user=w.staff
    )

    result = usage_correct(
        record=record, amount="25.00", outcome="refund", reason="Miscalculated",
        acting_user=w.staff, today=LATER,
    )  # fmt: skip

    assert [(doc.doc_type, doc.total) for doc in result.documents] == [
        ("credit_memo", D("5.00")),
        ("refund", D("5.00")),
    ]
    assert next(iter(TestGateway.charges.values())).refunded == D("5.00")
    assert balance_mismatches() == []


def test_bad_corrections_write_nothing():
    w = bf.world()
    _, record = _reported(w)
    counts = (UsageRecord.objects.count(), Order.objects.count(), Document.objects.count())
    for fields, field in (
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "25.001"}, "amount"),
        ({"quantity": D("3")}, "quantity"),
        ({}, "amount"),
        ({"amount": "30.00"}, "amount"),
        ({"amount": "25.00", "reason": " "}, "reason"),
        ({"amount": "25.00", "outcome": "cash"}, "outcome"),
    ):
        reason = fields.pop("reason", "why")
        with pytest.raises(ApplicationError) as refused:
            usage_correct(record=record, reason=reason, acting_user=w.staff, today=LATER, **fields)
        assert refused.value.field == field, fields
    with pytest.raises(PermissionDenied):
        usage_correct(
            record=record, amount="25.00", reason="mine", acting_user=w.reseller_user, today=LATER
        )
    fix = usage_correct(record=record, amount="25.00", reason="x", acting_user=w.staff, today=LATER)
    with pytest.raises(ApplicationError) as refused:
        usage_correct(record=fix.record, amount="20.00", reason="x", acting_user=w.staff,
                      today=LATER)  # fmt: skip
    assert refused.value.field == "record"
    assert (UsageRecord.objects.count(), Order.objects.count(), Document.objects.count()) == (
        counts[0] + 1,
        counts[1],
        counts[2],
    )


def test_a_quantity_correction_is_rated_to_the_cent():
    """Usage reported as a quantity is corrected as a quantity: 100 units -> 67 at 0.15 to the
    customer (10.05) and 0.10 at cost to the reseller (6.70), after the customer's invoice."""
    w = bf.world()
    sub = bf.subscribe(w, product=w.usage, today=d("2026-01-01"))
    record, _ = usage_record(subscription=sub, usage_date=DAY, reference="q", quantity=D("100"),
                             acting_user=w.staff, today=DAY)  # fmt: skip
    runs.run_start(run_date=BILLED, inline=True)

    result = usage_correct(
        record=record, quantity=D("67"), reason="Meter fault", acting_user=w.staff, today=LATER
    )

    assert sorted((s.before, s.after) for s in result.sides) == [
        (D("10.00"), D("6.70")),
        (D("15.00"), D("10.05")),
    ]
    # the customer's invoice is issued: a credit memo; the reseller's charge waits for its next
    # billing order: corrected in place
    assert sorted((s.account.pk, s.how) for s in result.sides) == sorted(
        [(w.customer.pk, "credit memo"), (w.reseller.pk, "corrected in place")]
    )
    assert [doc.total for doc in result.documents] == [D("4.95")]
    charge = ResellerTransaction.objects.get(account=w.reseller, subscription=sub)
    assert (charge.amount, charge.status) == (D("6.70"), "uninvoiced")
    assert balance_mismatches() == []

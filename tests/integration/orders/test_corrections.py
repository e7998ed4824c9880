"""Correcting orders (seed 001 §4): provider staff correct a completed order detail by detail.
A charge not yet invoiced is corrected in place; an invoiced one by a memo, or for less by a
refund to the card that paid; the original order and invoice never change; nothing is credited
twice; the subscription follows."""

from decimal import Decimal as D

import pytest

from billing import ledger, runs
from billing.gateway import TestGateway
from billing.models import Document, ResellerTransaction
from billing.selectors import balance_mismatches
from orders.models import Order, OrderItem
from orders.services import CorrectionLine, order_correct, subscription_cancel
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import AuditEvent
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

BOUGHT, BILLED, DAY2 = d("2026-01-01"), d("2026-02-01"), d("2026-02-02")
pytestmark = pytest.mark.django_db


def _bought(w, product=None, quantity=1):
    sub = bf.subscribe(w, product=product or w.monthly, quantity=quantity, today=BOUGHT)
    order = Order.objects.get(pk=sub.order_id)
    return order, order.items.get(), sub


def _charges(item):
    return {
        tx.account_id: tx
        for tx in ResellerTransaction.objects.filter(order_item=item).exclude(status="cancelled")
    }


def correct(w, order, outcome="credit_memo", **line):
    reason = line.pop("reason", "Wrong price in the price list")
    return order_correct(
        order=order,
        lines=[CorrectionLine(item_id=line.pop("item"), **line)],
        outcome=outcome,
        reason=reason,
        acting_user=w.staff,
        today=DAY2,
    )


def test_before_invoicing_the_charges_are_corrected_in_place():
    w = bf.world()
    order, item, sub = _bought(w, quantity=2)  # 20.00 at cost to R, 30.00 to C
    charges = _charges(item)
    assert (charges[w.reseller.pk].amount, charges[w.customer.pk].amount) == (D(20), D(30))

    correction, sides = correct(w, order, item=item.pk, unit_price=D("12.00"), unit_cost=D("9"))

    charges = _charges(item)
    assert (charges[w.reseller.pk].amount, charges[w.customer.pk].amount) == (D(18), D(24))
    assert [s.how for s in sides] == ["corrected in place", "corrected in place"]
    assert not Document.objects.filter(reference=f"correction:{correction.pk}").exists()
    assert (correction.order_type, correction.corrects_id) == ("correction", order.pk)
    fixed = correction.items.get()
    assert (fixed.corrects_item_id, fixed.total_cost, fixed.total_amount) == (item.pk, 18, 24)
    item.refresh_from_db()
    assert (item.unit_price, item.total_amount) == (D("15.0000"), D("30.00"))  # never changed
    sub.refresh_from_db()
    assert (sub.unit_price, sub.unit_cost) == (D("12.0000"), D("9.0000"))  # renewals follow
    assert AuditEvent.objects.filter(action="order.correct", object_id=str(order.pk)).exists()
    # the billing order carries the corrected amounts
    runs.run_start(run_date=BILLED, inline=True)
    line = Document.objects.get(recipient=w.customer, doc_type="invoice").lines.first()
    assert line.amount == D("24.00")
    assert balance_mismatches() == []


def _seed_case_one(w):
    """Seed 001 §4, case 1, up to the reseller's request: an end customer buys a three-year
    subscription by mistake and cancels it on the second day of the subscription period. By the
    no-refund policy (the default), cancelling refunds nothing; the billing order then invoices
    the three years to the reseller (at cost) and the customer (at its price)."""
    assert w.cls.refund_on_cancel is False  # the provider's no-refund policy, by default
    order, item, sub = _bought(w, product=w.three_years)  # 300.00 to R, 450.00 to C
    customer_user = f.user(account=w.customer)
    subscription_cancel(subscription=sub, acting_user=customer_user, today=d("2026-01-02"))
    sub.refresh_from_db()
    assert sub.status == "pending_cancellation"  # runs to the end of the three years
    assert not Document.objects.filter(doc_type="credit_memo").exists()  # nothing refunded
    runs.run_start(run_date=BILLED, inline=True)
    charges = _charges(item)
    assert (charges[w.reseller.pk].amount, charges[w.customer.pk].amount) == (D(300), D(450))
    assert {tx.status for tx in charges.values()} == {"invoiced"}
    return order, item, sub


def test_seed_case_one_a_mistaken_three_year_subscription_is_refunded_by_credit_memo():
    """The reseller asks; the provider corrects the order as an exception, cancelling the
    detail: credit memos for what was invoiced, at cost to the reseller and at its price to the
    customer. The original order and its invoices never change."""
    w = bf.world()
    order, item, sub = _seed_case_one(w)
    invoices_before = list(Document.objects.filter(doc_type="invoice").values_list("pk", "total"))

    correction, sides = correct(w, order, item=item.pk, cancel=True, reason="Bought by mistake")

    memos = Document.objects.filter(reference=f"correction:{correction.pk}").order_by("pk")
    assert [(m.doc_type, m.recipient_id, m.total, m.status) for m in memos] == [
        ("credit_memo", w.reseller.pk, D("300.00"), "issued"),
        ("credit_memo", w.customer.pk, D("450.00"), "issued"),
    ]
    assert [(s.before, s.after, s.how) for s in sides] == [
        (D(300), D(0), "credit memo"),
        (D(450), D(0), "credit memo"),
    ]
    assert list(Document.objects.filter(doc_type="invoice").values_list("pk", "total")) == (
        invoices_before
    )
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    event = AuditEvent.objects.get(action="order.correct", object_id=str(order.pk))
    assert (event.actor_id, event.details["reason"]) == (w.staff.pk, "Bought by mistake")
    # a second correction of the same detail starts from its corrected state: nothing is left
    with pytest.raises(ApplicationError, match="nothing is left to correct"):
        correct(w, order, item=item.pk, cancel=True, reason="Asked twice")
    assert Order.objects.filter(corrects=order).count() == 1
    assert balance_mismatches() == []


def test_seed_case_one_by_direct_refund_to_the_card_that_paid_the_billing_order():
    TestGateway.reset()
    w = bf.world()
    order, item, _ = _seed_case_one(w)
    invoice = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    card = f.card(w.reseller, token="tok_reseller")
    payment = ledger.card_charge(
        payment_method=card, amount=invoice.total, idempotency_key="pay-bo", charge_date=BILLED
    )
    ledger.application_create(
        credit_document=payment, debit_document=invoice, amount=invoice.total, acting_user=w.staff
    )

    _, sides = correct(w, order, "refund", item=item.pk, cancel=True)

    reseller_side = sides[0]
    assert reseller_side.how == "refund"
    refund = reseller_side.documents[1]
    assert (refund.doc_type, refund.total, refund.recipient_id) == ("refund", D("300.00"),
                                                                    w.reseller.pk)  # fmt: skip
    assert next(iter(TestGateway.charges.values())).refunded == D("300.00")
    assert balance_mismatches() == []


def test_corrected_on_the_second_day_before_the_billing_order_nothing_is_invoiced():
    """Corrected before the billing order: the charges are cancelled in place and the billing
    order carries nothing for the mistake; no memo is issued."""
    w = bf.world()
    order, item, sub = _bought(w, product=w.three_years)
    subscription_cancel(subscription=sub, acting_user=w.reseller_user, today=d("2026-01-02"))

    _, sides = order_correct(
        order=order,
        lines=[CorrectionLine(item_id=item.pk, cancel=True)],
        outcome="credit_memo",
        reason="Bought by mistake",
        acting_user=w.staff,
        today=d("2026-01-02"),
    )

    assert [s.how for s in sides] == ["corrected in place", "corrected in place"]
    assert not _charges(item)  # both cancelled
    runs.run_start(run_date=BILLED, inline=True)
    assert not Document.objects.filter(doc_type__in=["invoice", "credit_memo"]).exists()
    assert balance_mismatches() == []


def test_more_is_a_debit_memo_and_less_later_never_credits_more_than_was_charged():
    w = bf.world()
    order, item, _ = _bought(w)  # 10.00 / 15.00
    runs.run_start(run_date=BILLED, inline=True)

    _, up = correct(w, order, item=item.pk, quantity=3)
    assert [(s.after, s.how) for s in up] == [(D(30), "debit memo"), (D(45), "debit memo")]
    _, down = correct(w, order, item=item.pk, cancel=True)
    assert [(s.before, s.after) for s in down] == [(D(30), D(0)), (D(45), D(0))]

    credited = sum(
        m.total for m in Document.objects.filter(recipient=w.customer, doc_type="credit_memo")
    )
    debited = sum(
        m.total for m in Document.objects.filter(recipient=w.customer, doc_type="debit_memo")
    )
    assert credited - debited == D("15.00")  # exactly what the order charged, never more
    assert balance_mismatches() == []


def test_the_refund_outcome_pays_back_through_the_card_that_paid_the_invoice():
    TestGateway.reset()
    w = bf.world()
    order, item, _ = _bought(w, product=w.annual)
    runs.run_start(run_date=BILLED, inline=True)
    invoice = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    card = f.card(w.reseller, token="tok_reseller")
    payment = ledger.card_charge(
        payment_method=card, amount=invoice.total, idempotency_key="pay-inv", charge_date=BILLED
    )
    ledger.application_create(
        credit_document=payment, debit_document=invoice, amount=invoice.total, acting_user=w.staff
    )

    _, sides = correct(w, order, "refund", item=item.pk, cancel=True)

    reseller_side, customer_side = sides
    assert reseller_side.how == "refund"
    assert [doc.doc_type for doc in reseller_side.documents] == ["credit_memo", "refund"]
    assert next(iter(TestGateway.charges.values())).refunded == D("100.00")
    # the customer paid nothing by card: its credit is a credit memo, and it says so
    assert customer_side.how == "credit memo" and "outside the gateway" in customer_side.note
    assert balance_mismatches() == []


def test_a_refund_never_exceeds_what_the_card_paid():
    """Found by the property test: the reseller's cost was raised after its invoice was paid by
    card (a debit memo, unpaid), then the detail was cancelled with the refund outcome. The
    credit is the raised cost, but the card paid only the invoice: that is refunded, the rest
    stays as credit on the memo, and the answer says so. A later refund against that card
    charge is refused before the gateway is asked."""
    TestGateway.reset()
    w = bf.world()
    order, item, _ = _bought(w, product=w.annual)
    runs.run_start(run_date=BILLED, inline=True)
    invoice = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    card = f.card(w.reseller, token="tok_reseller")
    payment = ledger.card_charge(
        payment_method=card, amount=invoice.total, idempotency_key="pay-inv", charge_date=BILLED
    )
    ledger.application_create(
        credit_document=payment, debit_document=invoice, amount=invoice.total, acting_user=w.staff
    )
    _, raised = correct(w, order, item=item.pk, unit_cost=D("150.00"))
    assert [(s.how, s.documents[0].total) for s in raised[:1]] == [("debit memo", D("50.00"))]

    _, sides = correct(w, order, "refund", item=item.pk, cancel=True)

    reseller_side = sides[0]
    memo, refund = reseller_side.documents
    memo.refresh_from_db()
    assert (memo.total, refund.total, memo.open_amount) == (D(150), D(100), D(50))
    assert reseller_side.how == "refund" and "all the card paid" in reseller_side.note
    assert next(iter(TestGateway.charges.values())).refunded == D("100.00")
    with pytest.raises(ApplicationError) as caught:
        ledger.credit_refund(
            credit_document=memo,
            amount=D("1.00"),
            payment_method=card,
            idempotency_key="one-more",
            issue_date=DAY2,
            acting_user=w.staff,
            charge=payment.gateway_charge,
        )
    assert caught.value.field == "amount" and "left to refund" in str(caught.value)
    assert next(iter(TestGateway.charges.values())).refunded == D("100.00")
    assert balance_mismatches() == []


def test_bad_input_and_who_may_correct():
    w = bf.world()
    order, item, _ = _bought(w)
    _, other_item, _ = _bought(w)
    count = (Order.objects.count(), OrderItem.objects.count(), Document.objects.count())
    for line, field in (
        ({"item": other_item.pk, "cancel": True}, "lines"),
        ({"item": item.pk, "quantity": 0}, "lines"),
        ({"item": item.pk, "unit_price": D("-1")}, "lines"),
    ):
        with pytest.raises(ApplicationError) as caught:
            correct(w, order, **line)
        assert caught.value.field == field
    with pytest.raises(ApplicationError) as caught:
        correct(w, order, "nothing", item=item.pk, cancel=True)
    assert caught.value.field == "outcome"
    with pytest.raises(PermissionDenied):
        order_correct(
            order=order,
            lines=[CorrectionLine(item_id=item.pk, cancel=True)],
            outcome="credit_memo",
            reason="mine",
            acting_user=w.reseller_user,
            today=DAY2,
        )
    assert (Order.objects.count(), OrderItem.objects.count(), Document.objects.count()) == count


def test_a_cancelled_detail_is_not_corrected_again():
    w = bf.world()
    order, item, _ = _bought(w)
    cancelled, _ = correct(w, order, item=item.pk, cancel=True)
    count = (Order.objects.count(), OrderItem.objects.count(), Document.objects.count())
    for line in ({"cancel": True}, {"unit_cost": D("0.00")}, {"quantity": 2}):
        with pytest.raises(ApplicationError) as caught:
            correct(w, order, item=item.pk, **line)
        assert caught.value.field == "lines"
        assert f"cancelled by {cancelled.display_number}" in str(caught.value)
    assert (Order.objects.count(), OrderItem.objects.count(), Document.objects.count()) == count


@pytest.mark.django_db(transaction=True)
def test_two_corrections_of_one_detail_at_once_credit_it_once():
    """Both cancel the same invoiced detail at the same instant: the detail's rows are locked,
    the second sees the first's corrected state (a cancelled detail, nothing left to correct),
    and only one set of credit memos is issued."""
    from tests.threads import run_together

    w = bf.world()
    order, item, _ = _bought(w, product=w.annual)
    runs.run_start(run_date=BILLED, inline=True)

    results, errors = run_together(
        2, lambda i: correct(w, order, item=item.pk, cancel=True, reason=f"asked twice {i}")
    )

    assert len(errors) == 1 and "nothing is left to correct" in str(errors[0])
    credited = Document.objects.filter(doc_type="credit_memo").values_list("recipient_id", "total")
    assert sorted(credited) == sorted([(w.reseller.pk, D("100.00")), (w.customer.pk, D("150.00"))])
    hows = sorted(side.how for r in results if r for side in r[1])
    assert hows == ["credit memo", "credit memo"]
    assert balance_mismatches() == []

"""Correcting a detail's service period (issue 11, item 1: "the corrected unit price, quantity or
period"): the charge is prorated again by days over the corrected period, for both sides, with
the same function as the first charge; the period stays within the billing period the charge fell
in; a second correction starts from the corrected period."""

from decimal import Decimal as D

import pytest

from billing import runs
from billing.models import Document, DocumentLine, ResellerTransaction
from billing.selectors import balance_mismatches
from orders.models import Order, OrderItem
from orders.services import CorrectionLine, order_correct
from resellers.exceptions import ApplicationError
from resellers.models import AuditEvent
from tests.factories import billing as bf
from tests.factories.billing import d

BOUGHT, BILLED, LATER = d("2026-01-01"), d("2026-02-01"), d("2026-02-02")
pytestmark = pytest.mark.django_db


def _bought(w, product):
    sub = bf.subscribe(w, product=product, quantity=1, today=BOUGHT)
    order = Order.objects.get(pk=sub.order_id)
    return order, order.items.get()


def _correct(w, order, **line):
    return order_correct(
        order=order,
        lines=[CorrectionLine(**line)],
        outcome="credit_memo",
        reason="Provisioned late",
        acting_user=w.staff,
        today=LATER,
    )


def _charges(item):
    return {
        tx.account_id: tx
        for tx in ResellerTransaction.objects.filter(order_item=item).exclude(status="cancelled")
    }


def test_a_later_start_before_invoicing_prorates_both_charges_in_place():
    w = bf.world()
    order, item = _bought(w, w.monthly)  # January: 10.00 to R, 15.00 to C
    first = _charges(item)[w.reseller.pk]
    assert (first.period_start_date, first.period_end_date) == (BOUGHT, BILLED)

    correction, sides = _correct(w, order, item_id=item.pk, period_start=d("2026-01-16"))

    # 16 of January's 31 days: 10 x 16/31 = 5.16, 15 x 16/31 = 7.74
    assert [(s.before, s.after, s.how) for s in sides] == [
        (D("10.00"), D("5.16"), "corrected in place"),
        (D("15.00"), D("7.74"), "corrected in place"),
    ]
    for tx in _charges(item).values():
        assert (tx.period_start_date, tx.period_end_date) == (d("2026-01-16"), BILLED)
    detail = correction.items.get()
    assert (detail.period_start, detail.period_end) == (d("2026-01-16"), BILLED)
    assert (detail.total_cost, detail.total_amount) == (D("5.16"), D("7.74"))
    event = AuditEvent.objects.filter(action="reseller_transaction.correct").first()
    assert event.details["period_after"] == ["2026-01-16", "2026-02-01"]
    # the billing order carries the corrected charge and period
    runs.run_start(run_date=BILLED, inline=True)
    line = DocumentLine.objects.get(
        document__recipient=w.reseller, document__doc_type="invoice", description__contains="order"
    )
    assert (line.amount, line.period_start_date, line.period_end_date) == (
        D("5.16"),
        d("2026-01-16"),
        BILLED,
    )
    assert balance_mismatches() == []


def test_an_earlier_end_after_invoicing_credits_it_and_the_next_correction_starts_there():
    w = bf.world()
    order, item = _bought(w, w.annual)  # 2026: 100.00 to R, 150.00 to C
    charged = _charges(item)[w.reseller.pk]
    year_end = charged.period_end_date
    runs.run_start(run_date=BILLED, inline=True)
    invoices = list(Document.objects.filter(doc_type="invoice").values_list("pk", "total"))

    halfway = BOUGHT + (year_end - BOUGHT) / 2
    correction, sides = _correct(w, order, item_id=item.pk, period_end=halfway)

    days, year = (halfway - BOUGHT).days, (year_end - BOUGHT).days
    cost = (D(100) * days / year).quantize(D("0.01"))
    price = (D(150) * days / year).quantize(D("0.01"))
    assert [(s.after, s.how) for s in sides] == [(cost, "credit memo"), (price, "credit memo")]
    memos = Document.objects.filter(reference=f"correction:{correction.pk}").order_by("pk")
    assert [m.total for m in memos] == [D(100) - cost, D(150) - price]
    assert list(Document.objects.filter(doc_type="invoice").values_list("pk", "total")) == invoices

    # a price correction starts from the corrected period: it is prorated over it too
    again, sides = _correct(w, order, item_id=item.pk, unit_cost=D("50.00"))
    half_cost = (D(50) * days / year).quantize(D("0.01"))
    assert [(s.before, s.after) for s in sides[:1]] == [(cost, half_cost)]
    assert (again.items.get().period_start, again.items.get().period_end) == (BOUGHT, halfway)
    assert balance_mismatches() == []


def test_a_period_outside_the_billing_period_or_without_one_is_refused():
    w = bf.world()
    order, item = _bought(w, w.monthly)
    count = (Order.objects.count(), OrderItem.objects.count(), Document.objects.count())
    for line in (
        {"period_start": d("2025-12-20")},  # before the billing period
        {"period_end": d("2026-02-15")},  # past it: the next period is the run's
        {"period_start": d("2026-01-20"), "period_end": d("2026-01-10")},  # backwards
    ):
        with pytest.raises(ApplicationError) as caught:
            _correct(w, order, item_id=item.pk, **line)
        assert caught.value.field == "lines"
        assert "2026-01-01 to 2026-02-01" in str(caught.value)
    usage_order, usage_item = _bought(w, w.usage)
    with pytest.raises(ApplicationError, match="charged for no period"):
        _correct(w, usage_order, item_id=usage_item.pk, period_start=d("2026-01-10"))
    assert (Order.objects.count(), OrderItem.objects.count(), Document.objects.count()) == (
        count[0] + 1,
        count[1] + 1,
        count[2],
    )

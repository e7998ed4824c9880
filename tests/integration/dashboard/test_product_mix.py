"""Seed 004's Product Mix: the debit invoices billed to the reseller in the period (issued or
paid; drafts, cancelled invoices and credit memos left out), by product, before tax; filters by
product type and billing type; shares add up to 1."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine

from billing import ledger, runs
from billing.models import Document
from dashboard.product_mix import period_dates, product_mix
from orders.models import Product
from tests import factories as f
from tests.factories import billing as bf
from tests.factories import orders as of
from tests.factories.billing import d

BOUGHT, BILLED, TODAY = d("2026-01-01"), d("2026-02-01"), d("2026-02-20")
pytestmark = pytest.mark.django_db


def mix(account, period="this_month", **filters):
    return product_mix(account=account, period=period, today=TODAY, **filters)


def _billed_world():
    w = bf.world()
    support = of.ProductFactory(
        name="Support", product_type=Product.ProductType.SERVICE, list_price=D("20.00")
    )
    w.monthly.catalogues.first().products.add(support)
    of.price_list(
        w.reseller, [w.customer], items={w.monthly: "15.00", support: "25.00"}, name="support"
    )
    with time_machine.travel(datetime.datetime(2026, 1, 1, 9, 0), tick=False):
        bf.subscribe(w, product=w.monthly, quantity=3, today=BOUGHT)  # R: 30.00 a month
        bf.subscribe(w, product=w.annual, quantity=1, today=BOUGHT, for_reseller=True)  # 100.00
        bf.subscribe(w, product=support, quantity=1, today=BOUGHT)  # R: 20.00 a month
    with time_machine.travel(datetime.datetime(2026, 2, 1, 9, 0), tick=False):
        runs.run_start(run_date=BILLED, inline=True)
    return w


def test_the_mix_is_what_the_invoices_billed_to_the_reseller_charged_by_product():
    w = _billed_world()
    invoice = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    assert invoice.issue_date == BILLED and invoice.subtotal == D("200.00")
    f.invoice(w.reseller, "50.00", d("2026-02-10"))  # by hand: no product
    cancelled = f.invoice(w.reseller, "999.00", d("2026-02-11"))
    ledger.document_cancel(document=cancelled, acting_user=w.staff)
    f.credit_memo(w.reseller, "70.00", d("2026-02-12"))  # not a purchase
    f.invoice(w.reseller, "300.00", d("2026-01-20"))  # last month

    result = mix(w.reseller)

    # January and February of Cloud Suite (2 x 30.00), Support (2 x 20.00), the year of Backup
    assert [(s.product, s.amount) for s in result.slices] == [
        ("Backup Annual", D("100.00")),
        ("Cloud Suite", D("60.00")),
        ("Support", D("40.00")),
        ("Other", D("50.00")),  # last, whatever its size
    ]
    assert result.total == D("250.00")
    assert sum(s.share for s in result.slices) == 1
    assert {s.product: s.share for s in result.slices}["Backup Annual"] == D("0.4000")
    assert mix(w.reseller, "last_month").total == D("300.00")
    assert mix(w.reseller, "last_3_months").total == D("300.00")  # Nov, Dec, Jan
    # the customer's own purchases, at its prices, from its reseller's invoices
    customer = mix(w.customer)
    assert [(s.product, s.amount) for s in customer.slices] == [
        ("Cloud Suite", D("90.00")),
        ("Support", D("50.00")),
    ]


def test_filters_keep_a_product_type_or_billing_type_and_their_shares_add_up_to_one():
    w = _billed_world()

    services = mix(w.reseller, product_type="service")
    annual = mix(w.reseller, billing_type="recurring_annual")

    assert [(s.product, s.amount, s.share) for s in services.slices] == [
        ("Support", D("40.00"), D("1"))
    ]
    assert services.total == D("40.00")
    assert [(s.product, s.share) for s in annual.slices] == [("Backup Annual", D("1"))]
    software = mix(w.reseller, product_type="software_subscription")
    assert software.total == D("160.00")
    assert sum(s.share for s in software.slices) == 1
    assert {s.product: s.share for s in software.slices} == {
        "Backup Annual": D("0.6250"),
        "Cloud Suite": D("0.3750"),
    }


def test_the_periods_are_calendar_months():
    assert period_dates("this_month", today=TODAY) == (d("2026-02-01"), TODAY)
    assert period_dates("last_month", today=TODAY) == (d("2026-01-01"), d("2026-01-31"))
    assert period_dates("last_3_months", today=d("2026-03-05")) == (
        d("2025-12-01"),
        d("2026-02-28"),
    )
    with pytest.raises(ValueError):
        period_dates("forever", today=TODAY)


def test_a_line_made_by_hand_that_names_its_product_counts_for_that_product():
    w = _billed_world()
    f.invoice(w.reseller, "50.00", d("2026-02-10"), product=w.monthly)  # by hand, Cloud Suite
    f.invoice(w.reseller, "12.00", d("2026-02-11"))  # by hand, no product

    result = mix(w.reseller)
    support_only = mix(w.reseller, product_type=Product.ProductType.SERVICE)

    assert [(s.product, s.amount) for s in result.slices] == [
        ("Cloud Suite", D("110.00")),  # 2 x 30.00 charged by the runs + 50.00 by hand
        ("Backup Annual", D("100.00")),
        ("Support", D("40.00")),
        ("Other", D("12.00")),
    ]
    assert result.total == D("262.00") and sum(s.share for s in result.slices) == 1
    assert [s.product for s in support_only.slices] == ["Support"]

"""Taxes on run invoices: the built-in engine's rates on each line, and an external engine that
fails: the account's document is left unissued, the failure is on the run, and running the date
again (once the engine answers) issues it, never with a wrong tax."""

from decimal import Decimal as D

import pytest

from billing import runs
from billing.models import Document, ResellerTransaction
from tests.factories import billing as bf
from tests.factories import taxes as t
from tests.factories.billing import d

pytestmark = pytest.mark.django_db
FEB = d("2026-02-01")


@pytest.fixture
def avatax(avatax_installed):
    return avatax_installed


def test_the_built_in_engine_taxes_each_line_of_a_run_invoice():
    w = bf.world()
    t.rule(w.provider)  # the provider taxes its resellers by its built-in rates
    t.rate(w.provider, "*", "0.2000")
    t.rule(w.reseller)  # and the reseller its customers
    t.rate(w.reseller, "*", "0.0725", name="Sales tax")
    bf.subscribe(w, quantity=2, today=d("2026-01-01"))

    runs.run_start(run_date=FEB, inline=True)

    customer_invoice = Document.objects.get(recipient=w.customer, billing_key=f"billing:{FEB}")
    # 30.00 order + 30.00 renewal, 7.25% on each line: 2.175 -> 2.18 twice (half-up per line)
    assert (customer_invoice.subtotal, customer_invoice.tax_total, customer_invoice.total) == (
        D("60.00"),
        D("4.36"),
        D("64.36"),
    )
    line = customer_invoice.lines.first()
    assert (line.tax_rate, line.tax_amount) == (D("0.0725"), D("2.18"))
    billing_order = Document.objects.get(recipient=w.reseller, billing_key=f"billing:{FEB}")
    # C's January (its order) and February (its renewal, this run's first phase) at cost
    assert (billing_order.subtotal, billing_order.tax_total) == (D("40.00"), D("8.00"))


def test_a_failing_engine_leaves_the_invoice_unissued_and_the_run_retryable(avatax):
    w = bf.world()
    t.profile(w.customer, "US-CA")
    t.rule(w.reseller, "*", method="avatax", engine_account=t.engine_account(w.reseller))
    bf.subscribe(w, today=d("2026-01-01"))
    avatax.mode = "http500"

    failed = runs.run_start(run_date=FEB, inline=True)

    assert failed.status == "failed" and failed.failures_count == 1
    [failure] = failed.failures.all()
    assert failure.account == w.customer and "avatax" in failure.reason.lower()
    assert not Document.objects.filter(recipient=w.customer, doc_type="invoice").exists()
    assert ResellerTransaction.objects.filter(account=w.customer, status="uninvoiced").count() == 2
    # The reseller's billing order, taxed by the provider (no rule: no tax), went out.
    assert Document.objects.filter(recipient=w.reseller, billing_key=f"billing:{FEB}").exists()

    avatax.mode = "ok"
    retried = runs.run_start(run_date=FEB, inline=True)

    assert (retried.status, retried.invoices_issued) == ("completed", 1)
    invoice = Document.objects.get(recipient=w.customer, billing_key=f"billing:{FEB}")
    assert invoice.tax_total == D("2.18")  # 2 x 15.00 at California's 7.25%, per line
    assert not ResellerTransaction.objects.filter(account=w.customer, status="uninvoiced").exists()

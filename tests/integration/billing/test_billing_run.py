"""The billing-date run (billing.runs) through its public entry points: rating, invoicing,
idempotency, dry runs, and what the command prints."""

import re
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from billing import runs
from billing.models import BillingRun, Document, DocumentLine, ResellerTransaction
from orders.models import Subscription
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def invoices(account):
    return list(Document.objects.filter(recipient=account, doc_type="invoice").order_by("pk"))


def lines(document):
    return [
        (ln.description, ln.period_start_date, ln.period_end_date, ln.amount)
        for ln in document.lines.order_by("position")
    ]


def test_a_customer_is_invoiced_in_advance_and_its_reseller_on_its_cycle_date():
    w = bf.world()
    bf.subscribe(w, quantity=2, today=d("2026-01-01"))

    first = runs.run_start(run_date=d("2026-01-01"), inline=True)
    [order_invoice] = invoices(w.customer)  # the first period, charged by the order
    assert order_invoice.total == D("30.00") and order_invoice.issuer == w.reseller
    assert invoices(w.reseller) == []  # the reseller's cycle date is a month on
    assert (first.status, first.invoices_issued) == ("completed", 1)
    # the order charged the first period; the run invoiced it: one subscription billed
    assert (first.subscriptions_billed, first.chunks.get().subscriptions_billed) == (1, 1)

    feb = runs.run_start(run_date=d("2026-02-01"), inline=True)
    renewal = invoices(w.customer)[1]
    assert lines(renewal) == [("Cloud Suite", d("2026-02-01"), d("2026-03-01"), D("30.00"))]
    assert renewal.due_date == d("2026-03-03")  # net 30
    [billing_order] = invoices(w.reseller)
    # The order's cost (January) and February's cost, which the customer's renewal wrote in the
    # run's first phase: the billing order carries what its customers consumed in its period.
    (january, *_), february = lines(billing_order)
    assert re.fullmatch(r"Cloud Suite \(order SO-\d+\) for Customer C", january)
    assert february == (
        "Cloud Suite for Customer C",
        d("2026-02-01"),
        d("2026-03-01"),
        D("20.00"),
    )
    assert billing_order.total == D("40.00") and billing_order.issuer == w.provider
    assert (feb.invoices_issued, feb.subscriptions_billed, feb.amounts) == (
        2,
        1,
        {"USD": "70.00"},
    )
    assert not ResellerTransaction.objects.filter(status="uninvoiced").exists()

    sub = Subscription.objects.get(account=w.customer)
    assert (sub.billed_through, sub.next_billing_date) == (d("2026-03-01"), d("2026-03-01"))


def test_running_a_date_twice_issues_nothing_twice():
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    before = Document.objects.count(), DocumentLine.objects.count()

    again = runs.run_start(run_date=d("2026-02-01"), inline=True)

    assert (Document.objects.count(), DocumentLine.objects.count()) == before
    assert (again.invoices_issued, again.status) == (0, "completed")


def test_a_missed_date_catches_up_one_line_per_period():
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    runs.run_start(run_date=d("2026-01-01"), inline=True)

    runs.run_start(run_date=d("2026-04-15"), inline=True)  # nothing ran in Feb, Mar, Apr

    catch_up = invoices(w.customer)[-1]
    assert [(ln[1], ln[3]) for ln in lines(catch_up)] == [
        (d("2026-02-01"), D("15.00")),
        (d("2026-03-01"), D("15.00")),
        (d("2026-04-01"), D("15.00")),
    ]


def test_a_mid_cycle_start_is_prorated_to_the_holders_cycle_date():
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))  # anchors C's cycle on the 1st
    sub = bf.subscribe(w, quantity=3, today=d("2026-01-21"))  # 11 of January's 31 days

    assert (sub.billing_anchor, sub.billed_through) == (d("2026-02-01"), d("2026-02-01"))
    stub = ResellerTransaction.objects.filter(account=w.customer).order_by("pk").last()
    assert stub.amount == D("15.97")  # 45.00 x 11 / 31 = 15.967..., half-up once


def test_a_pending_cancellation_closes_on_its_date_instead_of_renewing():
    from orders.services import subscription_cancel

    w = bf.world()
    sub = bf.subscribe(w, today=d("2026-01-01"))
    subscription_cancel(subscription=sub, acting_user=w.reseller_user, today=d("2026-01-15"))

    runs.run_start(run_date=d("2026-02-01"), inline=True)

    sub.refresh_from_db()
    assert sub.status == "cancelled"
    assert not ResellerTransaction.objects.filter(subscription=sub, kind="recurring").exists()


def test_usage_is_billed_in_arrears_as_a_quantity_or_as_money():
    from orders.models import UsageRecord

    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    storage = bf.subscribe(w, product=w.usage, today=d("2026-01-01"))
    UsageRecord.objects.create(
        subscription=storage, usage_date=d("2026-01-05"), quantity=D("100"), reference="a"
    )
    UsageRecord.objects.create(
        subscription=storage, usage_date=d("2026-01-20"), amount=D("25.00"), reference="b"
    )
    UsageRecord.objects.create(  # February's: next month
        subscription=storage, usage_date=d("2026-02-01"), quantity=D("7"), reference="c"
    )

    runs.run_start(run_date=d("2026-02-01"), inline=True)

    feb = invoices(w.customer)[-1]
    assert ("Storage GB: usage", d("2026-01-01"), d("2026-02-01"), D("40.00")) in lines(feb)
    cost = ResellerTransaction.objects.get(account=w.reseller, kind="usage")
    assert cost.amount == D("35.00")  # 100 x 0.10 + 25.00 reported as money
    # January's usage fell due on 1 February: that day's billing order carries it at cost
    assert cost.invoice.billing_key == "billing:2026-02-01" and cost.invoice.recipient == w.reseller
    assert ("Storage GB: usage for Customer C", d("2026-01-01"), d("2026-02-01"), D("35.00")) in (
        lines(cost.invoice)
    )


def test_an_annual_subscription_renews_once_a_year_through_the_runs():
    w = bf.world()
    bf.subscribe(w, product=w.annual, today=d("2025-01-01"), for_reseller=True)
    for month in range(2, 13):  # its monthly cycle dates: nothing of the annual is due
        runs.run_start(run_date=d(f"2025-{month:02d}-01"), inline=True)
    assert not ResellerTransaction.objects.filter(kind="recurring").exists()

    runs.run_start(run_date=d("2026-01-01"), inline=True)

    [renewal] = ResellerTransaction.objects.filter(kind="recurring")
    assert (renewal.period_start_date, renewal.period_end_date, renewal.amount) == (
        d("2026-01-01"),
        d("2027-01-01"),
        D("100.00"),
    )
    assert renewal.invoice.billing_key == "billing:2026-01-01"
    sub = Subscription.objects.get(account=w.reseller)
    assert (sub.billed_through, sub.next_billing_date) == (d("2027-01-01"), d("2027-01-01"))


def test_a_dry_run_writes_nothing_and_agrees_line_for_line_with_the_run(capsys):
    w = bf.world()
    bf.subscribe(w, quantity=2, today=d("2026-01-01"))
    bf.subscribe(w, product=w.annual, today=d("2026-01-01"), for_reseller=True)
    runs.run_start(run_date=d("2026-01-01"), inline=True)
    models = (Document, ResellerTransaction, BillingRun)
    counts = [m.objects.count() for m in models]

    plans = runs.run_preview(run_date=d("2026-02-01"))
    call_command("run_billing", "--date", "2026-02-01", "--dry-run")
    printed = capsys.readouterr().out

    assert [m.objects.count() for m in models] == counts
    assert "nothing written" in printed and "Customer C" in printed
    planned = sorted(line for plan in plans for line in plan.lines())
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    issued = sorted(
        (
            ln.document.recipient_id,
            ln.description,
            ln.period_start_date,
            ln.period_end_date,
            ln.amount,
        )
        for ln in DocumentLine.objects.filter(document__issue_date=d("2026-02-01"))
    )
    assert planned == issued and len(issued) == 4  # the reseller's: its annual, C's Jan and Feb


def test_the_command_refuses_a_bad_date_and_writes_nothing():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_billing", "--date", "01/02/2026")
    assert not BillingRun.objects.exists()


def test_the_command_bills_and_reports(capsys):
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    call_command("run_billing", "--date", "2026-02-01", "--inline")
    captured = capsys.readouterr()
    assert "completed" in captured.out and "2 invoices issued" in captured.out
    # the progress bar, on stderr: the customer's chunk, then the reseller's
    assert "billing 2026-02-01" in captured.err and "2/2" in captured.err


def test_a_dry_run_with_taxes_agrees_with_the_run_tax_for_tax():
    from tests.factories import taxes as t

    w = bf.world()
    t.rule(w.provider)
    t.rate(w.provider, "*", "0.2000")
    t.rule(w.reseller)
    t.rate(w.reseller, "*", "0.0725", name="Sales tax")
    bf.subscribe(w, quantity=3, today=d("2026-01-01"))
    bf.subscribe(w, product=w.annual, today=d("2026-01-01"), for_reseller=True)

    planned = {
        inv.account_id: (inv.subtotal, inv.tax_total, inv.total)
        for plan in runs.run_preview(run_date=d("2026-02-01"))
        for inv in plan.invoices
    }
    runs.run_start(run_date=d("2026-02-01"), inline=True)

    issued = {
        doc.recipient_id: (doc.subtotal, doc.tax_total, doc.total)
        for doc in Document.objects.filter(billing_key="billing:2026-02-01")
    }
    assert planned == issued
    assert issued[w.reseller.pk][1] == D("32.00")  # 20% of 100 + 30 + 30


def test_a_prepaid_customers_credit_pays_its_run_invoice_at_once():
    from billing import ledger
    from resellers.models import Account

    w = bf.world(customer_terms=Account.CreditTerms.PREPAID)
    bf.subscribe(w, today=d("2026-01-01"))
    # its first period is an uninvoiced charge until the run; a payment arrives meanwhile
    payment = ledger.payment_record(
        recipient=w.customer, amount=D("100.00"), received_date=d("2026-01-01"), acting_user=None
    )

    runs.run_start(run_date=d("2026-01-01"), inline=True)

    [invoice] = invoices(w.customer)
    payment.refresh_from_db()
    assert (invoice.status, invoice.open_amount, payment.open_amount) == (
        "paid",
        D("0.00"),
        D("85.00"),
    )


def test_a_run_for_a_future_date_is_refused_but_a_dry_run_may_look_ahead(capsys):
    import datetime

    from django.utils import timezone

    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="in the future"):
        call_command("run_billing", "--date", tomorrow, "--inline")
    call_command("run_billing", "--date", tomorrow, "--dry-run")
    assert "nothing written" in capsys.readouterr().out
    assert not BillingRun.objects.exists()


def test_a_cancelled_usage_subscription_bills_its_last_periods_usage_then_closes():
    from orders.models import UsageRecord
    from orders.services import subscription_cancel

    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    storage = bf.subscribe(w, product=w.usage, today=d("2026-01-01"))
    UsageRecord.objects.create(
        subscription=storage, usage_date=d("2026-01-20"), quantity=D("10"), reference="x"
    )
    subscription_cancel(subscription=storage, acting_user=w.reseller_user, today=d("2026-01-25"))

    runs.run_start(run_date=d("2026-02-01"), inline=True)

    storage.refresh_from_db()
    assert storage.status == "cancelled"
    usage = ResellerTransaction.objects.get(account=w.customer, kind="usage")
    assert (usage.amount, usage.period_end_date) == (D("1.50"), d("2026-02-01"))


def test_the_backfill_recounts_the_subscriptions_of_runs_recorded_before_the_count_fix():
    """billing 0018: a run recorded with each chunk's count (the customer's subscription on its
    invoice and on its reseller's billing order: twice) reads the distinct count again."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("billing.migrations.0018_backfill_run_subscription_counts")
    w = bf.world()
    bf.subscribe(w, quantity=2, today=d("2026-01-01"))
    runs.run_start(run_date=d("2026-01-01"), inline=True)
    feb = runs.run_start(run_date=d("2026-02-01"), inline=True)
    empty = runs.run_start(run_date=d("2026-02-02"), inline=True)
    BillingRun.objects.filter(pk=feb.pk).update(subscriptions_billed=2)  # as recorded before
    BillingRun.objects.filter(pk=empty.pk).update(subscriptions_billed=3)

    backfill.recount(apps, None)

    counts = dict(BillingRun.objects.values_list("pk", "subscriptions_billed"))
    assert (counts[feb.pk], counts[empty.pk]) == (1, 0)

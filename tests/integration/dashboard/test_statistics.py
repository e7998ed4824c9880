"""Seed 004's General Statistics, each by its definition, from documents and orders the test
makes: a taxed debit memo (before tax counts), a credit memo, a cancelled invoice, last month's
invoice, a payment (money, not a cost), a trial and its conversion (a renewal), a one-off ESD
licence, a service that is no licence, another reseller's sales; and the provider-wide sums."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine

from billing import ledger
from dashboard.statistics import general_statistics
from orders.models import Product, Subscription
from orders.services import subscription_cancel, subscription_suspend, trial_convert
from tests import factories as f
from tests.factories import billing as bf
from tests.factories import orders as of
from tests.factories import taxes as tf
from tests.factories.billing import d

TODAY = d("2026-03-20")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2026, 3, 20, 12, 0), tick=False):
        yield


def stats(account):
    return general_statistics(account=account, today=TODAY)


def test_monthly_costs_are_debits_less_credit_memos_before_tax_this_month():
    w = bf.world()
    r = w.reseller
    tf.profile(r, "DE")
    tf.rate(w.provider, "DE", "0.19")
    tf.rule(w.provider, "DE")
    assert stats(r).monthly_costs == D(0)
    f.credit_memo(r, "50.00", d("2026-03-02"))
    assert stats(r).monthly_costs == D("-50.00")  # may be negative

    f.invoice(r, "200.00", d("2026-03-01"))
    memo = ledger.memo_issue(
        doc_type="debit_memo",
        recipient=r,
        lines=[ledger.MemoLine(description="Setup", unit_price=D(100), tax_category="standard")],
        reason="setup",
        issue_date=d("2026-03-10"),
        acting_user=w.staff,
    )
    assert (memo.subtotal, memo.total) == (D("100.00"), D("119.00"))
    cancelled = f.invoice(r, "70.00", d("2026-03-05"))
    ledger.document_cancel(document=cancelled, acting_user=w.staff)
    f.invoice(r, "500.00", d("2026-02-28"))  # last month
    f.invoice(r, "40.00", d("2026-03-21"))  # after today
    f.payment(r, "30.00", d("2026-03-03"))  # money in, not a cost
    f.invoice(w.customer, "999.00", d("2026-03-04"))  # its customer's, issued by R

    # 200 + 100 (before its 19 % tax) - 50
    assert stats(r).monthly_costs == D("250.00")


def test_account_balance_counts_every_document_since_the_account_began():
    w = bf.world()
    r = w.reseller
    f.invoice(r, "500.00", d("2025-11-30"))
    f.invoice(r, "200.00", d("2026-03-01"))
    f.credit_memo(r, "50.00", d("2026-03-02"))
    f.payment(r, "30.00", d("2026-03-03"))
    cancelled = f.invoice(r, "70.00", d("2026-03-05"))
    ledger.document_cancel(document=cancelled, acting_user=w.staff)

    assert stats(r).account_balance == D("-620.00")  # 50 + 30 - 500 - 200, owing
    assert stats(w.customer).account_balance == D(0)


def _trial_product(w):
    product = of.ProductFactory(name="Trial Suite", list_price=D("5.00"), trial_days=10)
    w.monthly.catalogues.first().products.add(product)
    of.price_list(w.reseller, [w.customer], items={product: "8.00"}, name="trial prices")
    return product


def test_subscriptions_and_licences_sold_this_month_leave_out_trials_renewals_and_others():
    w = bf.world()
    r = w.reseller
    service = of.ProductFactory(
        name="Support", product_type=Product.ProductType.SERVICE, list_price=D("1.00")
    )
    esd = of.ProductFactory(
        name="Windows key",
        product_type=Product.ProductType.ESD_LICENCE,
        billing_type=Product.BillingType.ONE_TIME,
        list_price=D("90.00"),
    )
    w.monthly.catalogues.first().products.add(service, esd)
    of.price_list(w.reseller, [w.customer], items={service: "2.00", esd: "120.00"}, name="more")
    trial = _trial_product(w)

    bf.subscribe(w, product=w.monthly, quantity=3, today=TODAY)  # customer's: 1 sub, 3 licences
    bf.subscribe(w, product=w.annual, quantity=1, today=TODAY, for_reseller=True)  # its own
    gone = bf.subscribe(w, product=w.monthly, quantity=2, today=TODAY)
    subscription_cancel(subscription=gone, acting_user=w.staff, today=TODAY, immediately=True)
    bf.subscribe(w, product=service, quantity=5, today=TODAY)  # sold, but no licence
    with time_machine.travel(datetime.datetime(2026, 2, 27, 12, 0), tick=False):
        bf.subscribe(w, product=w.monthly, quantity=4, today=d("2026-02-27"))  # last month
        converted = bf.subscribe(w, product=trial, quantity=6, today=d("2026-02-27"))
    bf.subscribe(w, product=trial, quantity=7, today=TODAY)  # a trial now
    trial_convert(subscription_id=converted.pk, acting_user=None, today=TODAY)  # a renewal
    of.order(
        placed_by=w.reseller_user,
        customer=w.customer,
        items=[(esd, 2)],
        today=TODAY,
    )  # a one-off licence sale: 2 licences, no subscription
    other = f.reseller(parent=w.provider, name="Other R")
    assert stats(other).subscriptions_sold == 0

    figures = stats(r)

    # monthly x3, annual x1, cancelled monthly x2 (any status), service x5
    assert figures.subscriptions_sold == 4
    # licences: 3 + 1 + 2 (software subscriptions) + 2 (ESD keys); the service is none
    assert figures.licenses_sold == 8
    converted.refresh_from_db()
    assert converted.status == "active"  # converted: active now, but a renewal, not a sale


def test_active_and_suspended_today_trials_left_out():
    w = bf.world()
    trial = _trial_product(w)
    bf.subscribe(w, product=w.monthly, quantity=1, today=TODAY)
    pending = bf.subscribe(w, product=w.annual, quantity=1, today=TODAY)
    subscription_cancel(subscription=pending, acting_user=w.reseller_user, today=TODAY)
    held = bf.subscribe(w, product=w.monthly, quantity=1, today=TODAY, for_reseller=True)
    subscription_suspend(subscription=held, acting_user=w.staff, reason="credit hold")
    gone = bf.subscribe(w, product=w.monthly, quantity=1, today=TODAY)
    subscription_cancel(subscription=gone, acting_user=w.staff, today=TODAY, immediately=True)
    bf.subscribe(w, product=trial, quantity=1, today=TODAY)
    assert set(Subscription.objects.values_list("status", flat=True)) == {
        "active",
        "pending_cancellation",
        "suspended",
        "cancelled",
        "trial",
    }

    figures = stats(w.reseller)

    assert (figures.active_subscriptions, figures.suspended_subscriptions) == (2, 1)
    assert (stats(w.customer).active_subscriptions, stats(w.customer).suspended_subscriptions) == (
        2,
        0,
    )


def test_overdue_payments_are_the_open_amounts_past_due():
    w = bf.world()
    r = w.reseller
    f.invoice(r, "100.00", d("2026-01-10"), due_date=d("2026-02-09"))  # overdue, open
    part = f.invoice(r, "80.00", d("2026-01-15"), due_date=d("2026-02-14"))
    paid = f.payment(r, "30.00", d("2026-02-01"))
    ledger.application_create(
        credit_document=paid, debit_document=part, amount=D("30.00"), acting_user=w.staff
    )  # 50.00 still open
    f.invoice(r, "60.00", d("2026-03-01"), due_date=d("2026-03-31"))  # not yet due
    f.invoice(r, "45.00", d("2026-02-01"), due_date=TODAY)  # due today: not overdue

    assert stats(r).overdue_payments == D("150.00")


def test_credit_limit_and_available_credit_are_the_credit_checks():
    w = bf.world()
    r = w.reseller
    f.invoice(r, "1000.00", d("2026-03-01"))
    bf.subscribe(w, product=w.annual, quantity=2, today=TODAY)  # 200.00 not yet invoiced
    prepaid = f.reseller(parent=w.provider, name="Prepaid R", credit_terms="prepaid")

    figures = stats(r)

    assert figures.credit_limit == D("100000.00")
    assert figures.available_credit == D("100000.00") - D("1000.00") - D("200.00")
    assert (stats(prepaid).credit_limit, stats(prepaid).available_credit) == (D(0), D(0))


def test_provider_wide_figures_sum_every_account_the_provider_bills():
    w = bf.world()
    other = f.reseller(parent=w.provider, name="Other R", credit_limit=D("500"))
    f.invoice(w.reseller, "200.00", d("2026-03-01"))
    f.invoice(other, "300.00", d("2026-03-02"), due_date=d("2026-03-10"))
    f.credit_memo(other, "20.00", d("2026-03-03"))
    f.invoice(w.customer, "999.00", d("2026-03-04"))  # R's to its customer: not the provider's
    bf.subscribe(w, product=w.monthly, quantity=3, today=TODAY)

    figures = general_statistics(account=None, today=TODAY)

    assert figures.monthly_costs == D("480.00")
    assert figures.account_balance == D("-480.00")
    assert figures.overdue_payments == D("300.00")
    assert figures.credit_limit == D("100500.00")
    assert (figures.subscriptions_sold, figures.licenses_sold) == (1, 3)

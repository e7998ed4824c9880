"""Uniqueness of what a run issues is the database's, not only the planner's: two plans of one
date made before either was written (what two runs would do without the account locks), and a
second charge for a billed period, are refused by PostgreSQL's partial unique indexes."""

from collections import Counter

import pytest
from django.db import IntegrityError, transaction

from billing import runs
from billing.models import BillingRun, Document, ResellerTransaction
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db

JAN, FEB = d("2026-01-01"), d("2026-02-01")


def test_a_second_plan_of_the_same_date_is_refused_by_the_database_and_writes_nothing():
    w = bf.world()
    bf.subscribe(w, quantity=2, today=JAN)
    runs.run_start(run_date=JAN, inline=True)
    due = runs.due_account_ids(run_date=FEB)
    # both planned before either is applied: neither sees the other's invoices or charges
    first, second = (
        runs.plan_billing_chunk(account_ids=due, run_date=FEB, lock=False) for _ in "ab"
    )
    assert first.lines() == second.lines() and first.invoices
    run = BillingRun.objects.create(kind="billing", run_date=FEB, chunks_total=2)
    with transaction.atomic():
        runs.apply_billing_plan(first, run_id=run.pk)
    before = (Document.objects.count(), ResellerTransaction.objects.count())

    with (
        pytest.raises(IntegrityError, match="one_live_document_per_billing_key"),
        transaction.atomic(),
    ):
        runs.apply_billing_plan(second, run_id=run.pk)

    assert (Document.objects.count(), ResellerTransaction.objects.count()) == before
    invoiced = Document.objects.filter(billing_key=f"billing:{FEB}")
    assert Counter(invoiced.values_list("recipient_id", flat=True)) == {
        w.customer.pk: 1,
        w.reseller.pk: 1,
    }


def test_a_second_live_charge_for_a_billed_period_is_refused():
    w = bf.world()
    bf.subscribe(w, today=JAN)
    runs.run_start(run_date=FEB, inline=True)
    renewal = ResellerTransaction.objects.get(
        account=w.customer, kind="recurring", period_start_date=FEB
    )
    renewal.pk = None
    renewal.status, renewal.invoice = "uninvoiced", None

    with (
        pytest.raises(IntegrityError, match="one_live_charge_per_subscription_period"),
        transaction.atomic(),
    ):
        renewal.save()

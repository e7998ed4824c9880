"""Billing runs against real concurrency and a real worker process: two runs of one date at the
same moment, and a worker killed in the middle of a run."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.db import connections

from billing import runs
from billing.models import BillingRun, BillingRunChunk, Document
from config.celery import app as celery_app
from resellers.models import Account
from tests.factories import billing as bf
from tests.factories.billing import d
from tests.threads import run_together

JAN, FEB = d("2026-01-01"), d("2026-02-01")


def invoices_per_account(date) -> Counter:
    return Counter(
        Document.objects.filter(doc_type="invoice", issue_date=date).values_list(
            "recipient_id", flat=True
        )
    )


def billing_order_totals(resellers, date) -> dict:
    return dict(
        Document.objects.filter(
            recipient__in=resellers, doc_type="invoice", issue_date=date
        ).values_list("recipient_id", "total")
    )


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_date_at_the_same_moment_issue_one_invoice_per_account():
    resellers = bf.resellers_with_subscriptions(6, today=JAN, with_customers=True)
    customers = [c for r in resellers for c in r.customers]

    results, errors = run_together(
        2, lambda i: runs.run_start(run_date=FEB, inline=True, chunk_size=2, trigger=f"race {i}")
    )

    assert errors == []
    assert [(run.status, run.failures_count) for run in results] == [("completed", 0)] * 2
    assert invoices_per_account(FEB) == {a.pk: 1 for a in resellers + customers}
    assert sum(run.invoices_issued for run in results) == 12  # between them, once each
    # Each billing order: its own January and February, its customer's January and February
    # (written by either run's first phase) at cost: 4 x 10.00, whichever run issued it.
    assert billing_order_totals(resellers, FEB) == {r.pk: D("40.00") for r in resellers}
    for issuer in [resellers[0].parent_id, *(r.pk for r in resellers)]:
        numbers = sorted(
            Document.objects.filter(issuer_id=issuer, doc_type="invoice").values_list(
                "number", flat=True
            )
        )
        assert numbers == list(range(1, len(numbers) + 1))  # gap-free, no duplicates


def _start_worker(queue: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_midway_then_a_second_run_leaves_exactly_one_invoice_each():
    resellers = bf.resellers_with_subscriptions(20, today=JAN, with_customers=True)
    customers = sorted(
        (c for r in resellers for c in r.customers), key=lambda c: (c.issuer_id, c.pk)
    )
    ids = sorted(a.pk for a in resellers + customers)
    # the first phase bills the customers, four to a chunk, in this order; the resellers wait
    blocker_id = customers[12].pk  # in the fourth chunk of five
    queue = f"tests.kill.{uuid.uuid4().hex[:10]}"
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    worker = _start_worker(queue)
    blocker = connections.create_connection("default")
    try:
        # Another transaction holds one account's row: the worker's fourth chunk waits on it,
        # mid-transaction, after three chunks committed. Then the worker is killed (SIGKILL).
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT id FROM resellers_account WHERE id = %s FOR UPDATE", [blocker_id]
            )
            first = runs.run_start(run_date=FEB, inline=False, chunk_size=4)
            _wait_for(
                lambda: BillingRunChunk.objects.filter(run=first).count() == 3,
                what="three chunks to commit",
            )
            time.sleep(0.5)  # the fourth chunk is now waiting on the lock, inside its transaction
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            cursor.execute("ROLLBACK")
    finally:
        blocker.close()
        celery_app.conf.task_default_queue = saved
        if worker.poll() is None:
            worker.kill()
    first.refresh_from_db()
    assert (first.status, first.chunks_done, first.invoices_issued) == ("running", 3, 0)
    assert (first.chunks_total, len(first.later_chunks)) == (10, 5)  # the resellers never went
    assert set(invoices_per_account(FEB)) == {c.pk for c in customers[:12]}

    second = runs.run_start(run_date=FEB, inline=True, chunk_size=4)

    assert invoices_per_account(FEB) == {pk: 1 for pk in ids}
    assert (second.status, second.invoices_issued, second.accounts_total) == ("completed", 28, 28)
    assert billing_order_totals(resellers, FEB) == {r.pk: D("40.00") for r in resellers}
    assert not Account.objects.filter(pk__in=ids, next_billing_date__lte=FEB).exists()
    assert BillingRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_daily_runs_at_once_issue_and_settle_each_prepaid_order_once():
    from decimal import Decimal as D

    from billing.models import PaymentAllocation
    from billing.topups import topup_pay
    from resellers.models import Account
    from tests import factories as f
    from tests.factories import orders as of
    from tests.factories.api import cash

    today = d("2026-03-10")
    product = of.ProductFactory(list_price=D("100.00"))
    of.default_catalogue(product)
    payments = []
    for n in range(4):  # resellers at their limit, each with a customer's order prepaid
        reseller = f.reseller(credit_limit=D("0.00"), name=f"Prepaid {n}")
        cash(reseller, default=True)
        user = f.user(account=reseller)
        customer = f.customer(parent=reseller)
        from resellers.services import customer_set_order_approval

        customer_set_order_approval(customer=customer, required=False, acting_user=user)
        payments.append(
            topup_pay(
                account=reseller,
                payment_method=f.card(reseller),
                amount="150.00",
                idempotency_key=f"t{n}",
                acting_user=user,
                today=today,
            )
        )
        order = of.order(placed_by=user, customer=customer, items=[(product, 1)], today=today)
        assert order.status == "completed"
    assert PaymentAllocation.objects.filter(status="active").count() == 4

    results, errors = run_together(
        2, lambda i: runs.run_start(run_date=today, kind="daily", inline=True, chunk_size=1)
    )

    assert errors == []
    assert sum(run.invoices_issued for run in results) == 4
    dailies = Document.objects.filter(billing_key=f"daily:{today}")
    assert Counter(dailies.values_list("recipient_id", flat=True)) == {
        p.recipient_id: 1 for p in payments
    }
    assert {(doc.status, doc.open_amount) for doc in dailies} == {("paid", D("0.00"))}
    for payment in payments:
        payment.refresh_from_db()
        assert payment.open_amount == D("50.00")  # 100 applied once, not twice
    assert (
        not Account.objects.filter(pk__in=[p.recipient_id for p in payments])
        .filter(reseller_transactions__status="uninvoiced")
        .exists()
    )

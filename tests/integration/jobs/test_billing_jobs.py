"""The day's billing jobs: beat's entries, and the run_billing task on a real worker fanning its
chunks out to that worker."""

import time
from decimal import Decimal

import pytest
from celery.schedules import crontab
from django.conf import settings

from billing.models import BillingRun, Document
from billing.tasks import run_billing
from config.celery import app as celery_app
from tests.factories import billing as bf
from tests.factories.billing import d

TIMEOUT = 60


def test_beat_runs_daily_invoicing_then_the_billing_date_run_every_day():
    schedule = settings.CELERY_BEAT_SCHEDULE
    entries = [e for e in schedule.values() if e["task"] == "billing.tasks.run_billing"]
    kinds = {e.get("kwargs", {}).get("kind", "billing"): e["schedule"] for e in entries}
    assert set(kinds) == {"billing", "daily"}
    for schedule in kinds.values():
        assert isinstance(schedule, crontab) and schedule.day_of_month == set(range(1, 32))
    daily, billing = kinds["daily"], kinds["billing"]
    assert (min(daily.hour), min(daily.minute)) < (min(billing.hour), min(billing.minute))


@pytest.mark.worker
def test_the_task_runs_a_date_on_the_worker_and_twice_issues_nothing_twice(worker_queue):
    resellers = bf.resellers_with_subscriptions(5, today=d("2026-01-01"), with_customers=True)
    customers = [c for r in resellers for c in r.customers]
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = worker_queue  # the chunks go to the test's worker
    try:
        for _ in range(2):  # beat firing twice
            run_id = run_billing.apply_async(kwargs={"date": "2026-02-01"}, queue=worker_queue).get(
                timeout=TIMEOUT
            )
            deadline = time.monotonic() + TIMEOUT
            while BillingRun.objects.get(pk=run_id).status == "running":
                assert time.monotonic() < deadline, "the run did not finish"
                time.sleep(0.1)
    finally:
        celery_app.conf.task_default_queue = saved

    first, second = BillingRun.objects.order_by("pk")
    assert (first.trigger, first.status, first.invoices_issued) == ("beat", "completed", 10)
    assert (second.status, second.invoices_issued) == ("completed", 0)
    issued = Document.objects.filter(billing_key="billing:2026-02-01")
    assert sorted(issued.values_list("recipient_id", flat=True)) == sorted(
        a.pk for a in resellers + customers
    )
    # The customers' chunks went first; the chunk that finished them sent the resellers', so each
    # billing order carries its customer's February at cost (own Jan + Feb, customer's Jan + Feb).
    totals = dict(issued.filter(recipient__in=resellers).values_list("recipient_id", "total"))
    assert totals == {r.pk: Decimal("40.00") for r in resellers}

"""Automatic top-up run by a real Celery worker on Redis, against committed data, and its beat
entry: every AUTO_TOPUP_INTERVAL_MINUTES, the task that charges once per crossing."""

import datetime
from decimal import Decimal as D

import pytest
from django.conf import settings

from billing.gateway import TestGateway
from billing.models import AutoTopupCrossing, Document
from billing.selectors import balance_mismatches
from billing.tasks import auto_topup
from config.celery import app as celery_app
from resellers.services import account_update_financials
from tests import factories as f

NOW = datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.UTC)


def test_beat_runs_the_automatic_top_up_every_few_minutes():
    [entry] = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "billing.tasks.auto_topup"
    ]
    assert entry["schedule"] == datetime.timedelta(minutes=settings.AUTO_TOPUP_INTERVAL_MINUTES)
    defaults = (settings.AUTO_TOPUP_INTERVAL_MINUTES, settings.AUTO_TOPUP_RETRY_HOURS)
    assert defaults == (10, [1, 6, 24])  # no environment overrides them in the tests
    assert celery_app.conf.beat_schedule["auto-topup"]["task"] == "billing.tasks.auto_topup"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_charges_a_crossing_once(worker_queue):
    TestGateway.reset()  # the worker runs in this process: one gateway memory
    alpha = f.reseller(parent=f.provider(), name="Alpha Reseller")
    f.invoice(alpha, "600.00", datetime.date(2026, 1, 5))
    account_update_financials(
        account=alpha,
        acting_user=None,
        auto_topup_enabled=True,
        auto_topup_threshold=D("500.00"),
        auto_topup_amount=D("200.00"),
        auto_topup_payment_method=f.card(alpha, token="tok_alpha"),
    )

    outcomes = [
        auto_topup.apply_async(kwargs={"now": moment.isoformat()}, queue=worker_queue).get(
            timeout=60
        )
        for moment in (NOW, NOW + datetime.timedelta(minutes=10))
    ]

    assert [c["account_id"] for c in outcomes[0]["charged"]] == [alpha.pk]
    assert outcomes[1]["charged"] == [] and outcomes[1]["failed"] == []
    assert Document.objects.filter(recipient=alpha, reference="Top-up").count() == 1
    assert AutoTopupCrossing.objects.get(account=alpha).state == "charged"
    assert len(TestGateway.charges) == 1 and balance_mismatches() == []
    TestGateway.reset()

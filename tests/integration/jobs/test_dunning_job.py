"""Dunning as beat runs it: the schedule's daily entry, and the task on a real Celery worker on
Redis, twice, against committed data (the second run does nothing)."""

import datetime

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail

from billing.models import DunningNotice, DunningState
from billing.tasks import run_dunning
from resellers import services as accounts
from resellers.models import Account
from tests import factories as f

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.django_db
def test_beat_runs_dunning_once_a_day_for_today():
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == run_dunning.name]
    assert isinstance(entry["schedule"], crontab) and "kwargs" not in entry  # today's date


def test_the_worker_takes_the_days_steps_once(worker_queue, settings):
    settings.DUNNING_CREDIT_HOLD_DAYS = 10
    alpha = f.reseller(parent=f.provider(), name="Alpha Reseller")
    accounts.contact_create(account=alpha, name="Ann", email="ann@alpha.example", is_primary=True)
    f.invoice(alpha, "75.00", datetime.date(2026, 1, 1), due_date=datetime.date(2026, 1, 31))
    day = "2026-03-02"

    first = run_dunning.apply_async(kwargs={"date": day}, queue=worker_queue).get(timeout=60)
    second = run_dunning.apply_async(kwargs={"date": day}, queue=worker_queue).get(timeout=60)

    assert [s["step"] for s in first["steps"]] == [
        "reminder_after",
        "overdue",
        "credit_hold",
        "suspension",
    ]
    assert second["steps"] == [] and second["failed"] == []
    assert Account.objects.get(pk=alpha.pk).credit_hold
    assert DunningState.objects.get(account=alpha).stage == "suspended"
    assert DunningNotice.objects.filter(account=alpha, sent_at=None).count() == 0
    assert sorted(m.subject for m in mail.outbox) == [
        "Payment reminder from Cloud Distributor",
        "Your account with Cloud Distributor is on credit hold",
        "Your subscriptions with Cloud Distributor are suspended",
    ]

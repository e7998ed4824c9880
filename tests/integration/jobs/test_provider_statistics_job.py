"""The provider-wide statistics' refresh, run by a real Celery worker on Redis as beat starts it
every minute: it stores today's figures, twice leaves one row, and before there is a provider it
does nothing."""

import pytest
from django.conf import settings
from django.utils import timezone

from dashboard.models import StatisticsSnapshot
from dashboard.statistics import general_statistics
from dashboard.tasks import refresh_provider_statistics
from tests import factories as f

TIMEOUT = 60

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_beat_refreshes_the_snapshot_every_minute():
    [entry] = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "dashboard.tasks.refresh_provider_statistics"
    ]
    assert entry["schedule"].minute == set(range(60)) and entry["schedule"].hour == set(range(24))
    # a snapshot read for up to DASHBOARD_STATISTICS_MAX_AGE outlives a late or missed beat
    assert settings.DASHBOARD_STATISTICS_MAX_AGE > 60


def test_the_worker_stores_todays_figures_once(worker_queue):
    assert refresh_provider_statistics.apply_async(queue=worker_queue).get(timeout=TIMEOUT) is None
    assert not StatisticsSnapshot.objects.exists()  # no provider yet: nothing to do

    provider = f.provider()
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    today = timezone.localdate()
    f.invoice(alpha, "120.00", today)

    for _ in range(2):
        refresh_provider_statistics.apply_async(queue=worker_queue).get(timeout=TIMEOUT)

    row = StatisticsSnapshot.objects.get()
    assert (row.issuer_id, row.day, str(row.monthly_costs)) == (provider.pk, today, "120.00")
    figures = general_statistics(account=None, today=today)
    assert figures.as_of == row.computed_at and str(figures.account_balance) == "-120.00"

"""The provider-wide General Statistics' snapshot (dashboard.statistics): the refresh job stores
the figures computed live; readers get them while they are for today and fresh, with `as_of`;
a stale snapshot, or yesterday's, gives way to the live figures; refreshing twice leaves one row
with the same figures; the Billing page and the API say when they were computed."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from dashboard.models import StatisticsSnapshot
from dashboard.statistics import general_statistics, provider_statistics_refresh
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

TODAY = d("2026-03-20")
NOON = datetime.datetime(2026, 3, 20, 12, 0)
URL = "/api/v1/dashboard/statistics/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    with time_machine.travel(NOON, tick=False):
        w = bf.world()
        f.invoice(w.reseller, "200.00", d("2026-03-01"), due_date=d("2026-03-10"))
        bf.subscribe(w, product=w.monthly, quantity=3, today=TODAY)
    return w


def wide():
    return general_statistics(account=None, today=TODAY)


def test_a_fresh_snapshot_answers_until_refreshed_again(w):
    with time_machine.travel(NOON, tick=False):
        live = wide()
        assert live.as_of is None  # no snapshot yet: computed for the request
        snapshot = provider_statistics_refresh(today=TODAY)
    assert (snapshot.day, snapshot.monthly_costs, snapshot.overdue_payments) == (
        TODAY,
        D("200.00"),
        D("200.00"),
    )

    with time_machine.travel(NOON + datetime.timedelta(seconds=30), tick=False):
        f.invoice(w.reseller, "50.00", d("2026-03-19"))  # after the refresh
        read = wide()
        assert read.as_of == snapshot.computed_at
        assert {k: v for k, v in read.as_dict().items() if k != "as_of"} == {
            k: v for k, v in live.as_dict().items() if k != "as_of"
        }
        assert read.monthly_costs == D("200.00")  # the new invoice waits for the next refresh

        provider_statistics_refresh(today=TODAY)
        assert wide().monthly_costs == D("250.00")


def test_a_stale_snapshot_or_yesterdays_gives_way_to_the_live_figures(w, settings):
    settings.DASHBOARD_STATISTICS_MAX_AGE = 180
    with time_machine.travel(NOON, tick=False):
        provider_statistics_refresh(today=TODAY)
        f.invoice(w.reseller, "50.00", d("2026-03-19"))
    with time_machine.travel(NOON + datetime.timedelta(seconds=179), tick=False):
        assert wide().monthly_costs == D("200.00")
    with time_machine.travel(NOON + datetime.timedelta(seconds=181), tick=False):
        late = wide()
        assert (late.as_of, late.monthly_costs) == (None, D("250.00"))
    with time_machine.travel(NOON, tick=False):
        provider_statistics_refresh(today=TODAY - datetime.timedelta(days=1))
        assert wide().as_of is None  # a snapshot of another day is never read for today


def test_refreshing_twice_leaves_one_row_with_the_same_figures(w):
    with time_machine.travel(NOON, tick=False):
        first = provider_statistics_refresh(today=TODAY)
    with time_machine.travel(NOON + datetime.timedelta(seconds=60), tick=False):
        second = provider_statistics_refresh(today=TODAY)
    assert StatisticsSnapshot.objects.count() == 1
    assert second.pk == first.pk and second.computed_at > first.computed_at
    row = StatisticsSnapshot.objects.get()
    assert (row.monthly_costs, row.active_subscriptions) == (
        first.monthly_costs,
        first.active_subscriptions,
    )


def test_the_api_and_the_billing_page_say_when_and_read_one_row(w, django_assert_max_num_queries):
    staff = Client()
    staff.force_login(f.user(account=w.provider, username="staffer"))
    reseller = Client()
    reseller.force_login(w.reseller_user)
    with time_machine.travel(NOON, tick=False):
        assert staff.get(URL).json()["as_of"] is None
        provider_statistics_refresh(today=TODAY)
        staff.get(URL)  # warm: the session
        with django_assert_max_num_queries(5):
            body = staff.get(URL).json()
        assert body["as_of"].startswith("2026-03-20T12:00:00")
        assert (body["account"], body["monthly_costs"]) == (None, "200.00")
        page = staff.get(reverse("billing")).content.decode()
        assert 'data-field="as_of">as of 20 Mar 2026 12:00, refreshed every minute<' in page
        # a reseller's own figures are never the snapshot's
        own = reseller.get(URL).json()
        assert own["as_of"] is None and own["account"] == w.reseller.pk

"""General Statistics: a one-off licence sold this month counts by the day its order was
submitted in the current time zone (settings.TIME_ZONE), not in UTC, at both ends of the month:
the selector reads the month as a range of instants (so that an index can), which must keep
exactly the days a date in that time zone would."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.utils import timezone

from dashboard.statistics import general_statistics
from orders.models import Product
from tests.factories import billing as bf
from tests.factories import orders as of
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def test_one_off_licences_count_by_the_local_day_their_order_was_submitted(settings):
    settings.TIME_ZONE = "Europe/Berlin"  # UTC+1 until 29 March 2026
    w = bf.world()
    esd = of.ProductFactory(
        name="Windows key",
        product_type=Product.ProductType.ESD_LICENCE,
        billing_type=Product.BillingType.ONE_TIME,
        list_price=D("90.00"),
    )
    w.monthly.catalogues.first().products.add(esd)
    of.price_list(w.reseller, [w.customer], items={esd: "120.00"}, name="keys")
    for moment, quantity in (
        ((2026, 2, 28, 22, 59), 1),  # 23:59 on 28 February in Berlin: last month
        ((2026, 2, 28, 23, 0), 2),  # 00:00 on 1 March in Berlin: this month
        ((2026, 3, 20, 22, 59), 4),  # 23:59 today in Berlin: this month
        ((2026, 3, 20, 23, 0), 8),  # 00:00 tomorrow in Berlin: not yet
    ):
        at = datetime.datetime(*moment, tzinfo=datetime.UTC)
        with time_machine.travel(at, tick=False):
            of.order(
                placed_by=w.reseller_user,
                customer=w.customer,
                items=[(esd, quantity)],
                today=timezone.localdate(),
            )

    figures = general_statistics(account=w.reseller, today=d("2026-03-20"))

    assert figures.licenses_sold == 2 + 4

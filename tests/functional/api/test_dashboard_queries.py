"""The reseller dashboard's queries do not grow with the data (issue 12, "Fast at scale"): the
Product Mix (API and chart) and the reseller's Dashboard page answer with as many queries for a
month of one product on one invoice as for a month of several products, charges and invoices.
bench/dashboard.py measures the same at a million documents."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from billing import runs
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db
MIX = "/api/v1/dashboard/product-mix/"


def _at(day: datetime.date, hour: int = 12):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour), tick=False)


def _bill(day: datetime.date) -> None:
    with _at(day, 9):
        runs.run_start(run_date=day, inline=True)


def _requests(w, api_client, page_client):
    mix = api_client.get(MIX, {"period": "this_month"})
    page = page_client.get(reverse("reseller_dashboard"))
    chart = page_client.get(reverse("product_mix_chart"), {"account": w.reseller.pk})
    assert (mix.status_code, page.status_code, chart.status_code) == (200, 200, 200)
    return mix.json()


def test_product_mix_and_home_page_queries_do_not_grow_with_invoices_and_products(
    api, django_assert_max_num_queries
):
    w = bf.world()
    with _at(d("2026-01-01"), 9):  # one product: for its customer, and for itself
        bf.subscribe(w, product=w.monthly, quantity=3, today=d("2026-01-01"))
        bf.subscribe(w, product=w.monthly, quantity=1, today=d("2026-01-01"), for_reseller=True)
    _bill(d("2026-02-01"))
    api_client = api(w.reseller_user)
    page_client = Client()
    page_client.force_login(w.reseller_user)
    with _at(d("2026-02-20")):
        _requests(w, api_client, page_client)  # warm: the session, prepared queries
        with django_assert_max_num_queries(6) as mix_small:
            small = api_client.get(MIX, {"period": "this_month"}).json()
        with django_assert_max_num_queries(20) as page_small:
            page_client.get(reverse("reseller_dashboard"))
        with django_assert_max_num_queries(10) as chart_small:
            page_client.get(reverse("product_mix_chart"), {"account": w.reseller.pk})
    assert [s["product"] for s in small["slices"]] == ["Cloud Suite"]

    with _at(d("2026-02-02"), 9):  # more products, charged to the reseller on 1 March
        bf.subscribe(w, product=w.annual, quantity=2, today=d("2026-02-02"))
        bf.subscribe(w, product=w.three_years, quantity=1, today=d("2026-02-02"))
        bf.subscribe(w, product=w.annual, quantity=1, today=d("2026-02-02"), for_reseller=True)
    _bill(d("2026-03-01"))
    for day in range(2, 12):  # and invoices made by hand
        f.invoice(w.reseller, "10.00", d(f"2026-03-{day:02d}"))
    with _at(d("2026-03-20")):
        with django_assert_max_num_queries(len(mix_small.captured_queries)):
            many = api_client.get(MIX, {"period": "this_month"}).json()
        with django_assert_max_num_queries(len(page_small.captured_queries)):
            assert page_client.get(reverse("reseller_dashboard")).status_code == 200
        with django_assert_max_num_queries(len(chart_small.captured_queries)):
            chart = page_client.get(reverse("product_mix_chart"), {"account": w.reseller.pk})
    assert chart.status_code == 200
    assert {s["product"] for s in many["slices"]} == {
        "Cloud Suite",
        "Backup Annual",
        "Backup 3 Years",
        "Other",
    }

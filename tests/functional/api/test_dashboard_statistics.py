"""GET /api/v1/dashboard/statistics/: seed 004's nine General Statistics, as decimal strings,
for the user's own account by default, another it may see with ?account=, or provider-wide for
provider staff. Another tenant's figures (or a referral reseller's customer's): 404. The number
of queries does not grow with the data."""

import datetime

import pytest
import time_machine

from tests import factories as f

URL = "/api/v1/dashboard/statistics/"
KEYS = {
    "account",
    "currency",
    "monthly_costs",
    "account_balance",
    "subscriptions_sold",
    "licenses_sold",
    "active_subscriptions",
    "suspended_subscriptions",
    "overdue_payments",
    "credit_limit",
    "available_credit",
    "as_of",  # added to the nine keys: when provider-wide figures were computed
}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2026, 1, 28, 12, 0), tick=False):
        yield


def test_a_reseller_gets_its_own_figures(world, api):
    response = api(world.alpha).get(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == KEYS
    # the conftest's hand-computed figures: INV 600 + CM 100 in January, 350 open, 250 paid
    assert (body["account"], body["as_of"]) == (world.a.pk, None)
    assert body["monthly_costs"] == "500.00"
    assert body["account_balance"] == "-250.00"
    assert body["overdue_payments"] == "0.00"  # due Feb 4
    assert (body["credit_limit"], body["available_credit"]) == ("1000.00", "500.00")
    assert body["currency"] == "USD"


def test_overdue_after_the_due_date(world, api):
    with time_machine.travel(datetime.datetime(2026, 2, 10, 12, 0), tick=False):
        body = api(world.alpha).get(URL).json()
    assert body["overdue_payments"] == "350.00"
    assert body["monthly_costs"] == "0.00"  # February: nothing yet


def test_tenants_see_their_own_and_their_customers_only(world, api):
    assert api(world.alpha).get(URL, {"account": world.b.pk}).status_code == 404
    assert api(world.alpha).get(URL, {"account": world.b1.pk}).status_code == 404
    assert api(world.alpha).get(URL, {"account": world.a1.pk}).status_code == 200
    assert api(world.alpha_customer).get(URL, {"account": world.a.pk}).status_code == 404
    # a referral reseller sees its customers' details, never their figures
    assert api(world.referral).get(URL, {"account": world.r1.pk}).status_code == 404
    assert api(world.alpha).get(URL, {"account": "x"}).status_code == 400
    assert api(None).get(URL).status_code in (401, 403)


def test_provider_staff_see_any_account_and_the_provider_wide_figures(world, api):
    staff = api(world.staff)
    bravo = staff.get(URL, {"account": world.b.pk}).json()
    assert (bravo["account"], bravo["monthly_costs"]) == (world.b.pk, "400.00")

    wide = staff.get(URL).json()

    assert wide["account"] is None
    # the provider's January: 600 + 400 + 20 + 70 invoiced, less Alpha's 100 credit memo
    assert wide["monthly_costs"] == "990.00"


def test_queries_do_not_grow_with_the_data(world, api, django_assert_max_num_queries):
    client = api(world.alpha)
    client.get(URL)  # warm: the session, the prepared figures query
    with django_assert_max_num_queries(6):
        assert client.get(URL).status_code == 200
    for day in range(2, 22):
        f.invoice(world.a, "1.00", datetime.date(2026, 1, day))
    with django_assert_max_num_queries(6):
        body = client.get(URL).json()
    assert body["monthly_costs"] == "520.00"


MIX = "/api/v1/dashboard/product-mix/"


def test_the_product_mix_of_the_resellers_invoices(world, api):
    body = api(world.alpha).get(MIX, {"period": "this_month"}).json()

    # Alpha's January: INV 600.00 made by hand (no product's charge: "Other"); the credit memo
    # and the payment are no purchases
    assert (body["account"], body["total"], body["start"], body["end"]) == (
        world.a.pk,
        "600.00",
        "2026-01-01",
        "2026-01-28",
    )
    assert body["slices"] == [
        {
            "product": "Other",
            "product_id": None,
            "product_type": "",
            "billing_type": "",
            "amount": "600.00",
            "share": "1.0000",
        }
    ]
    filtered = api(world.alpha).get(MIX, {"product_type": "service"}).json()
    assert (filtered["total"], filtered["slices"]) == ("0.00", [])
    assert api(world.alpha).get(MIX, {"period": "last_month"}).json()["total"] == "0.00"


def test_the_product_mix_is_scoped_and_checks_its_input(world, api, django_assert_max_num_queries):
    assert api(world.alpha).get(MIX, {"account": world.b.pk}).status_code == 404
    assert api(world.referral).get(MIX, {"account": world.r1.pk}).status_code == 404
    bad = api(world.alpha).get(MIX, {"period": "forever"})
    assert bad.status_code == 400 and "period" in bad.json()
    assert "billing_type" in api(world.alpha).get(MIX, {"billing_type": "x"}).json()
    assert "account" in api(world.staff).get(MIX).json()  # staff name the account
    staff = api(world.staff)
    assert staff.get(MIX, {"account": world.b.pk}).json()["total"] == "400.00"
    staff.get(MIX, {"account": world.a.pk})
    with django_assert_max_num_queries(6):
        assert staff.get(MIX, {"account": world.a.pk}).status_code == 200

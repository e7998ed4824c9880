"""subscriptions/: scoped like orders; end customers see their price, never the cost."""

import datetime

import pytest

from tests.factories import orders as of
from tests.functional.api.conftest import ids
from tests.functional.api.shop import user

SUBSCRIPTIONS = ["s_a1", "s_a", "s_b1", "s_r1"]
VISIBLE = {
    "staff": set(SUBSCRIPTIONS),
    "alpha": {"s_a1", "s_a"},
    "bravo": {"s_b1"},
    "alpha_customer": {"s_a1"},
    "referral": set(),  # a referral reseller never sees its customers' subscriptions
    "referral_customer": {"s_r1"},
}


@pytest.mark.parametrize("role", list(VISIBLE))
def test_each_user_sees_exactly_its_tenants_subscriptions(world, shop, api, role):
    client = api(user(world, shop, role))

    listed = ids(client.get("/api/v1/subscriptions/"))

    assert listed == {getattr(shop, key).pk for key in VISIBLE[role]}
    for key in SUBSCRIPTIONS:
        pk = getattr(shop, key).pk
        expected = 200 if key in VISIBLE[role] else 404
        assert client.get(f"/api/v1/subscriptions/{pk}/").status_code == expected, key


def test_the_reseller_sees_cost_and_price(world, shop, api):
    body = api(world.alpha).get(f"/api/v1/subscriptions/{shop.s_a1.pk}/").json()

    assert body == {
        "id": shop.s_a1.pk,
        "account": {"id": world.a1.pk, "name": "Alpha Customer"},
        "product": {"id": shop.office.pk, "sku": "OFFICE", "name": "Office Suite"},
        "order": shop.a1_done.pk,
        "quantity": 1,
        "status": "active",
        "billing_period": "monthly",
        "currency": "USD",
        "unit_price": "12.5000",
        "unit_cost": "10.0000",
        "start_date": "2026-02-10",
        "trial_end_date": None,
        "next_billing_date": "2026-03-10",
        "billed_through": "2026-03-10",  # its first month, charged in advance
        "renewal_quantity": None,
        "cancelled_at": None,
        "created_at": "2026-02-10T10:00:00Z",
    }


@pytest.mark.parametrize("role", ["alpha_customer", "referral_customer"])
def test_end_customers_never_see_the_cost(world, shop, api, role):
    rows = api(user(world, shop, role)).get("/api/v1/subscriptions/").json()["results"]
    assert rows and all(row["unit_cost"] is None for row in rows)
    assert all(row["unit_price"] is not None for row in rows)


def test_a_trial_starts_free_and_bills_when_it_ends(world, shop, api):
    trial = of.ProductFactory(sku="TRIAL", name="Trial Suite", trial_days=14)
    shop.default_catalogue.products.add(trial)

    placed = api(shop.bravo_customer).post(
        "/api/v1/orders/", {"items": [{"product": trial.pk, "quantity": 5}]}, format="json"
    )

    assert placed.status_code == 201 and placed.json()["status"] == "completed"
    [row] = (
        api(shop.bravo_customer).get(f"/api/v1/subscriptions/?product={trial.pk}").json()["results"]
    )
    assert (row["status"], row["quantity"], row["start_date"]) == ("trial", 5, "2026-02-10")
    assert row["trial_end_date"] == row["next_billing_date"] == "2026-02-24"
    assert datetime.date.fromisoformat(row["trial_end_date"]) - datetime.date(2026, 2, 10) == (
        datetime.timedelta(days=14)
    )


def test_filters_stay_in_the_tenant(world, shop, api):
    alpha = api(world.alpha)
    assert ids(alpha.get(f"/api/v1/subscriptions/?account={world.a1.pk}")) == {shop.s_a1.pk}
    assert ids(alpha.get(f"/api/v1/subscriptions/?account={world.b1.pk}")) == set()
    assert ids(alpha.get("/api/v1/subscriptions/?status=active")) == {shop.s_a1.pk, shop.s_a.pk}
    assert ids(alpha.get("/api/v1/subscriptions/?status=trial")) == set()
    staff = api(world.staff)
    assert ids(staff.get("/api/v1/subscriptions/?billing_period=monthly")) == {
        getattr(shop, key).pk for key in SUBSCRIPTIONS
    }


# --- cancel/ -----------------------------------------------------------------------------------

CAN_CANCEL_A1 = {"staff": 200, "alpha": 200, "alpha_customer": 200, "bravo": 404,
                 "referral": 404, "referral_customer": 404}  # fmt: skip


@pytest.mark.parametrize(("role", "expected"), list(CAN_CANCEL_A1.items()))
def test_who_may_cancel_a_subscription(world, shop, api, role, expected):
    response = api(user(world, shop, role)).post(f"/api/v1/subscriptions/{shop.s_a1.pk}/cancel/")
    shop.s_a1.refresh_from_db()
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == "pending_cancellation"
        assert shop.s_a1.status == "pending_cancellation"  # runs to the end of the paid period
    else:
        assert shop.s_a1.status == "active"  # another tenant's: 404 and nothing changed


def test_cancelling_twice_is_a_conflict(world, shop, api):
    client = api(world.alpha)
    assert client.post(f"/api/v1/subscriptions/{shop.s_a1.pk}/cancel/").status_code == 200
    again = client.post(f"/api/v1/subscriptions/{shop.s_a1.pk}/cancel/")
    assert again.status_code == 409
    assert again.json()["detail"] == "The subscription is already pending cancellation."

"""products/: what each user may order, with the one price it deals in (figures in shop.py)."""

import pytest

from tests.functional.api.conftest import ids
from tests.functional.api.shop import user

PRICES = {
    # role: {product: (list_price, unit_cost, unit_price)}
    "staff": {
        "office": ("12.0000", None, None),
        "antivirus": ("30.0000", None, None),
        "setup": ("300.0000", None, None),
        "special": ("20.0000", None, None),
    },
    "alpha": {"office": (None, "10.0000", None), "special": (None, "20.0000", None)},
    "alpha_customer": {"office": (None, None, "12.5000"), "special": (None, None, "25.0000")},
    "bravo": {
        "office": (None, "11.0000", None),
        "antivirus": (None, "30.0000", None),
        "setup": (None, "250.0000", None),
    },
    "bravo_customer": {
        "office": (None, None, "15.0000"),
        "antivirus": (None, None, "36.0000"),
        "setup": (None, None, "300.0000"),
    },
    # a referral reseller buys nothing: its catalogue, no prices
    "referral": {
        "office": (None, None, None),
        "antivirus": (None, None, None),
        "setup": (None, None, None),
    },
    "referral_customer": {
        "office": (None, None, "12.0000"),
        "antivirus": (None, None, "30.0000"),
        "setup": (None, None, "300.0000"),
    },
}


@pytest.mark.parametrize("role", list(PRICES))
def test_each_user_sees_its_catalogue_with_its_price(world, shop, api, role):
    client = api(user(world, shop, role))
    expected = PRICES[role]

    rows = client.get("/api/v1/products/").json()["results"]

    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {getattr(shop, key).pk for key in expected}
    for key, prices in expected.items():
        row = by_id[getattr(shop, key).pk]
        assert (row["list_price"], row["unit_cost"], row["unit_price"]) == prices, key
        assert client.get(f"/api/v1/products/{row['id']}/").json() == row
    for key in {"office", "antivirus", "setup", "special"} - set(expected):
        assert client.get(f"/api/v1/products/{getattr(shop, key).pk}/").status_code == 404


def test_a_reseller_never_sees_another_resellers_cost(world, shop, api):
    alpha = api(world.alpha).get(f"/api/v1/products/{shop.office.pk}/").json()
    bravo = api(world.bravo).get(f"/api/v1/products/{shop.office.pk}/").json()

    assert (alpha["unit_cost"], bravo["unit_cost"]) == ("10.0000", "11.0000")
    assert alpha["list_price"] is None and bravo["list_price"] is None


def test_product_fields(world, shop, api):
    row = api(world.staff).get(f"/api/v1/products/{shop.setup.pk}/").json()
    assert row == {
        "id": shop.setup.pk,
        "sku": "SETUP",
        "name": "Server Setup",
        "description": "",
        "product_type": "service",
        "billing_type": "one_time",
        "auto_executed": False,
        "tax_category": "standard",
        "trial_days": None,
        "currency": "USD",
        "is_active": True,
        "list_price": "300.0000",
        "unit_cost": None,
        "unit_price": None,
    }


def test_filters_by_product_and_billing_type(world, shop, api):
    client = api(world.staff)
    assert ids(client.get("/api/v1/products/?product_type=service")) == {shop.setup.pk}
    assert ids(client.get("/api/v1/products/?billing_type=recurring_annual")) == {shop.antivirus.pk}
    # filters narrow the user's catalogue, never widen it
    alpha = api(world.alpha)
    assert ids(alpha.get("/api/v1/products/?product_type=service")) == set()


def test_anonymous_is_refused(shop, api):
    assert api().get("/api/v1/products/").status_code in (401, 403)

"""Tenant isolation on every read endpoint: each user's list is exactly what it may see, every
other object of the world answers 404 on retrieve, and every visible one answers 200."""

import pytest

from tests.functional.api.conftest import ids

ROLES = ["staff", "alpha", "bravo", "alpha_customer", "referral"]


def universe(w, endpoint: str) -> dict[str, int]:
    """Every object of `endpoint` in the world, by a readable key."""
    if endpoint == "resellers":
        return {"a": w.a.pk, "b": w.b.pk, "r": w.r.pk}
    if endpoint == "customers":
        return {"a1": w.a1.pk, "b1": w.b1.pk, "r1": w.r1.pk}
    if endpoint == "contacts":
        return {k: c.pk for k, c in w.contacts.items()}
    if endpoint == "payment-methods":
        return {k: m.pk for k, m in w.methods.items()}
    if endpoint == "documents":
        return {k: d.pk for k, d in w.docs.items()}
    raise AssertionError(endpoint)


EVERYTHING = object()

# Who sees what, by key. Referral resellers see their customers' details (customers, contacts)
# but not their payment methods or documents; customers see only themselves; nobody but staff
# sees a draft.
VISIBLE = {
    "resellers": {
        "staff": EVERYTHING,
        "alpha": {"a"},
        "bravo": {"b"},
        "alpha_customer": set(),
        "referral": {"r"},
    },
    "customers": {
        "staff": EVERYTHING,
        "alpha": {"a1"},
        "bravo": {"b1"},
        "alpha_customer": {"a1"},
        "referral": {"r1"},
    },
    "contacts": {
        "staff": EVERYTHING,
        "alpha": {"a_bill", "a_primary", "a1"},
        "bravo": {"b", "b1"},
        "alpha_customer": {"a1"},
        "referral": {"r", "r1"},
    },
    "payment-methods": {
        "staff": EVERYTHING,
        "alpha": {"a_card", "a1_cash"},
        "bravo": {"b_card", "b1_card"},
        "alpha_customer": {"a1_cash"},
        "referral": {"r_cash"},
    },
    "documents": {
        "staff": EVERYTHING,
        "alpha": {"inv_a", "pay_a", "cm_a", "inv_a1", "pay_a1"},
        "bravo": {"inv_b", "inv_b1"},
        "alpha_customer": {"inv_a1", "pay_a1"},
        "referral": {"inv_r"},
    },
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(VISIBLE))
def test_each_user_sees_exactly_its_tenant(world, api, endpoint, role):
    everything = universe(world, endpoint)
    allowed = VISIBLE[endpoint][role]
    allowed = set(everything) if allowed is EVERYTHING else allowed
    client = api(getattr(world, role))

    listed = ids(client.get(f"/api/v1/{endpoint}/"))

    assert listed == {everything[k] for k in allowed}
    for key, pk in everything.items():
        response = client.get(f"/api/v1/{endpoint}/{pk}/")
        expected = 200 if key in allowed else 404
        assert response.status_code == expected, (key, response.content)
        if expected == 200:
            assert response.json()["id"] == pk


def test_a_guessed_id_that_does_not_exist_answers_404_like_another_tenants(world, api):
    client = api(world.alpha)
    assert client.get("/api/v1/documents/999999/").status_code == 404
    assert client.get(f"/api/v1/documents/{world.docs['inv_b'].pk}/").status_code == 404


def test_filters_cannot_reach_across_tenants(world, api):
    client = api(world.alpha)
    assert ids(client.get(f"/api/v1/documents/?recipient={world.b1.pk}")) == set()
    assert ids(client.get(f"/api/v1/customers/?reseller={world.b.pk}")) == set()
    assert ids(client.get(f"/api/v1/contacts/?account={world.b.pk}")) == set()
    assert ids(client.get(f"/api/v1/payment-methods/?account={world.b1.pk}")) == set()
    # an existing id and a made-up one answer alike: the filter reveals nothing
    assert ids(client.get("/api/v1/contacts/?account=987654")) == set()

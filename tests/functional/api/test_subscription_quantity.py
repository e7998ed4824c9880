"""POST subscriptions/{id}/change-quantity/: a change order, prorated (billing.periods)."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from rest_framework.test import APIClient

from billing.models import ResellerTransaction
from orders.models import Order
from resellers.models import Account
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user=user)
    return api


@pytest.fixture
def w():
    with time_machine.travel(datetime.datetime(2026, 1, 22, 12, tzinfo=datetime.UTC), tick=False):
        world = bf.world()
        world.sub = bf.subscribe(world, quantity=2, today=d("2026-01-01"))
        world.customer_user = f.user(account=world.customer)
        yield world


def url(sub) -> str:
    return f"/api/v1/subscriptions/{sub.pk}/change-quantity/"


def test_the_reseller_raises_the_quantity_and_the_rest_of_the_period_is_charged(w):
    response = client(w.reseller_user).post(url(w.sub), {"quantity": 5}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["quantity"], response.json()["billed_through"]) == (5, "2026-02-01")
    change = Order.objects.get(order_type="change")
    assert (change.total_cost, change.total_amount) == (D("9.68"), D("14.52"))  # 10 of 31 days
    assert ResellerTransaction.objects.filter(kind="adjustment").count() == 2


def test_a_decrease_shows_as_the_renewal_quantity(w):
    response = client(w.customer_user).post(url(w.sub), {"quantity": 1}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["quantity"], response.json()["renewal_quantity"]) == (2, 1)


@pytest.mark.parametrize("body", [{"quantity": 0}, {"quantity": "two"}, {}, {"quantity": 2}])
def test_bad_quantities_are_400_on_quantity(w, body):
    response = client(w.reseller_user).post(url(w.sub), body, format="json")
    assert response.status_code == 400 and "quantity" in response.json()
    assert not Order.objects.filter(order_type="change").exists()


def test_not_enough_credit_is_400_and_changes_nothing(w):
    Account.objects.filter(pk=w.reseller.pk).update(credit_limit=D("20.00"))
    response = client(w.reseller_user).post(url(w.sub), {"quantity": 9}, format="json")
    assert response.status_code == 400 and "quantity" in response.json()
    w.sub.refresh_from_db()
    assert w.sub.quantity == 2


def test_another_tenant_gets_404(w):
    stranger = f.user(account=f.reseller(name="Another Reseller"))
    response = client(stranger).post(url(w.sub), {"quantity": 3}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("quantity", [10_000, 2**31, 2**63, "9" * 40])
def test_a_quantity_over_the_one_bound_is_400_on_quantity(w, quantity):
    response = client(w.reseller_user).post(url(w.sub), {"quantity": quantity}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["quantity"] == ["At most 9,999 of one product per order."]
    w.sub.refresh_from_db()
    assert w.sub.quantity == 2


def test_the_bound_itself_is_taken(w):
    response = client(w.reseller_user).post(url(w.sub), {"quantity": 9999}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quantity"] == 9999


def test_a_trial_raise_beyond_the_credit_is_400_on_quantity():
    from orders.models import Product

    with time_machine.travel(datetime.datetime(2026, 1, 5, 12, tzinfo=datetime.UTC), tick=False):
        world = bf.world()
        Product.objects.filter(pk=world.monthly.pk).update(trial_days=30)
        world.monthly.refresh_from_db()
        sub = bf.subscribe(world, quantity=2, today=d("2026-01-01"))
        assert sub.status == "trial"
        Account.objects.filter(pk=world.reseller.pk).update(credit_limit=D("25.00"))

        response = client(world.reseller_user).post(url(sub), {"quantity": 900}, format="json")

        assert response.status_code == 400, response.content
        assert "not enough available credit" in response.json()["quantity"][0]
        sub.refresh_from_db()
        assert sub.quantity == 2
        assert not Order.objects.filter(order_type="change").exists()

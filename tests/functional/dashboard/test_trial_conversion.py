"""A trial that converts at the reseller's credit limit, as the reseller meets it in the panel:
its conversion order in *Unexecuted Orders Due to Insufficient Credit*, accepted there once the
credit allows; another reseller cannot see or accept it."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing import runs
from billing.models import ResellerTransaction
from orders.models import Order, OrderStatus, OrderType, Product, SubscriptionStatus
from resellers.models import Account
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


@pytest.fixture
def converted_at_the_limit():
    w = bf.world()
    Product.objects.filter(pk=w.monthly.pk).update(trial_days=30)
    w.monthly.refresh_from_db()
    w.sub = bf.subscribe(w, quantity=2, today=d("2026-01-01"))
    Account.objects.filter(pk=w.reseller.pk).update(credit_limit=D("15.00"))  # 20.00 needed
    runs.run_start(run_date=d("2026-01-31"), inline=True)
    w.order = Order.objects.get(order_type=OrderType.RENEWAL, items__subscription=w.sub)
    assert w.order.status == OrderStatus.UNEXECUTED_CREDIT
    return w


def test_the_reseller_finds_the_conversion_unexecuted_and_accepts_it_once_credit_allows(
    client, converted_at_the_limit
):
    w = converted_at_the_limit
    client.force_login(w.reseller_user)

    page = client.get("/dashboard/").content.decode()
    widget = page[page.index('id="unexecuted-orders"') :]
    assert w.order.display_number in widget[: widget.index("</section>")]

    Account.objects.filter(pk=w.reseller.pk).update(credit_limit=D("1000.00"))
    response = client.post(reverse("order_accept", args=[w.order.pk]))

    assert response.status_code == 302
    w.order.refresh_from_db()
    w.sub.refresh_from_db()
    assert (w.order.status, w.sub.status) == (OrderStatus.COMPLETED, SubscriptionStatus.ACTIVE)
    assert ResellerTransaction.objects.filter(subscription_id=w.sub.pk).count() == 2


def test_another_reseller_cannot_see_or_accept_it(client, converted_at_the_limit):
    w = converted_at_the_limit
    stranger = f.user(account=f.reseller(name="Another Reseller"))
    client.force_login(stranger)

    assert w.order.display_number not in client.get("/dashboard/").content.decode()
    assert client.post(reverse("order_accept", args=[w.order.pk])).status_code == 404
    w.order.refresh_from_db()
    assert w.order.status == OrderStatus.UNEXECUTED_CREDIT

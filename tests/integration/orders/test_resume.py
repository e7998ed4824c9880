"""A crash midway through the validation chain loses nothing: the sweeper finishes the order,
and nothing is reserved, charged or recorded twice."""

import pytest

from billing.gateway import TestGateway
from billing.models import CreditReservation, Document, ResellerTransaction
from orders import services
from orders.models import Order, OrderStatus
from orders.tasks import resume_stalled_orders
from resellers.services import customer_set_order_approval, payment_method_create
from tests import factories as f
from tests.factories import orders as of

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """Not an Exception: nothing in the chain may swallow it, as with a killed process."""


@pytest.fixture
def setup(provider):
    TestGateway.reset()
    product = of.ProductFactory()
    of.default_catalogue(product)

    def make(pays_by_card: bool):
        reseller = f.reseller(parent=provider)
        if pays_by_card:
            f.card(reseller, default=True)
        else:
            payment_method_create(account=reseller, kind="cash")
        customer = f.customer(parent=reseller)
        reseller_user = f.user(account=reseller)
        if not pays_by_card:
            customer_set_order_approval(
                customer=customer, required=False, acting_user=reseller_user
            )
        return customer, f.user(account=customer), reseller_user

    return product, make


def test_crash_after_the_reservation(setup, monkeypatch):
    product, make = setup
    customer, buyer, _ = make(pays_by_card=False)
    real = services._charge_if_card

    def die(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(services, "_charge_if_card", die)
    with pytest.raises(WorkerDied):
        of.order(placed_by=buyer, customer=customer, items=[(product, 2)])
    order = Order.objects.get(customer=customer)
    assert order.status == OrderStatus.SUBMITTED
    assert CreditReservation.objects.get(reference=f"order:{order.pk}").status == "active"

    monkeypatch.setattr(services, "_charge_if_card", real)
    first = resume_stalled_orders(older_than_minutes=0)
    second = resume_stalled_orders(older_than_minutes=0)

    assert first == {"completed": [order.pk]} and second == {}
    assert CreditReservation.objects.filter(reference=f"order:{order.pk}").count() == 1
    assert ResellerTransaction.objects.filter(account=customer.parent).count() == 1


def test_crash_after_the_card_charge(setup, monkeypatch):
    product, make = setup
    customer, buyer, reseller_user = make(pays_by_card=True)
    order = of.order(placed_by=buyer, customer=customer, items=[(product, 1)])
    real = services._execute

    def die(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(services, "_execute", die)
    with pytest.raises(WorkerDied):
        services.order_approve(order=order, acting_user=reseller_user, today=of.TODAY)
    assert Document.objects.filter(recipient=customer.parent, doc_type="payment").count() == 1

    monkeypatch.setattr(services, "_execute", real)
    assert resume_stalled_orders(older_than_minutes=0) == {"completed": [order.pk]}
    assert Document.objects.filter(recipient=customer.parent, doc_type="payment").count() == 1
    assert TestGateway.attempts == {f"order:{order.pk}:charge": 1}  # booked: not sent again


def test_orders_in_flight_are_left_alone(setup, monkeypatch):
    product, make = setup
    customer, buyer, _ = make(pays_by_card=False)
    monkeypatch.setattr(services, "_charge_if_card", lambda **kw: (_ for _ in ()).throw(WorkerDied))
    with pytest.raises(WorkerDied):
        of.order(placed_by=buyer, customer=customer, items=[(product, 1)])
    assert resume_stalled_orders(older_than_minutes=10) == {}
    assert Order.objects.get(customer=customer).status == OrderStatus.SUBMITTED

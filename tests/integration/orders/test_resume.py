"""A crash midway through the validation chain loses nothing: the sweeper finishes the order,
and nothing is reserved, charged or recorded twice."""

import pytest

from billing.gateway import TestGateway
from billing.models import CreditReservation, Document, ResellerTransaction
from orders import services
from orders.models import Order, OrderStatus
from orders.services import placement, validation
from orders.tasks import resume_stalled_orders
from resellers.services import customer_set_order_approval, payment_method_create
from tests import factories as f
from tests.factories import orders as of

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """Not an Exception: nothing in the chain may swallow it, as with a killed process."""


def die(**kwargs):
    raise WorkerDied


@pytest.fixture
def setup(provider):
    TestGateway.reset()
    product = of.ProductFactory()
    of.default_catalogue(product)

    def make(*, pays_by_card: bool, approval: bool = True):
        reseller = f.reseller(parent=provider)
        if pays_by_card:
            f.card(reseller, default=True)
        else:
            payment_method_create(account=reseller, kind="cash")
        customer = f.customer(parent=reseller)
        reseller_user = f.user(account=reseller)
        if not approval:
            customer_set_order_approval(
                customer=customer, required=False, acting_user=reseller_user
            )
            customer.refresh_from_db()
        return customer, f.user(account=customer), reseller_user

    return product, make


def test_crash_after_the_reservation(setup, monkeypatch):
    """The multi-step chain (here after the reseller's approval) commits the reservation first."""
    product, make = setup
    customer, buyer, reseller_user = make(pays_by_card=False)
    order = of.order(placed_by=buyer, customer=customer, items=[(product, 2)])
    real = validation._charge_if_card

    monkeypatch.setattr(validation, "_charge_if_card", die)
    with pytest.raises(WorkerDied):
        services.order_approve(order=order, acting_user=reseller_user, today=of.TODAY)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert CreditReservation.objects.get(reference=f"order:{order.pk}").status == "active"

    monkeypatch.setattr(validation, "_charge_if_card", real)
    first = resume_stalled_orders(older_than_minutes=0)
    second = resume_stalled_orders(older_than_minutes=0)

    assert first == {"completed": [order.pk]} and second == {}
    assert CreditReservation.objects.filter(reference=f"order:{order.pk}").count() == 1
    assert ResellerTransaction.objects.filter(account=customer.parent).count() == 1


def test_crash_after_the_card_charge(setup, monkeypatch):
    product, make = setup
    customer, buyer, reseller_user = make(pays_by_card=True)
    order = of.order(placed_by=buyer, customer=customer, items=[(product, 1)])
    real = validation._execute

    monkeypatch.setattr(validation, "_execute", die)
    with pytest.raises(WorkerDied):
        services.order_approve(order=order, acting_user=reseller_user, today=of.TODAY)
    assert Document.objects.filter(recipient=customer.parent, doc_type="payment").count() == 1

    monkeypatch.setattr(validation, "_execute", real)
    assert resume_stalled_orders(older_than_minutes=0) == {"completed": [order.pk]}
    assert Document.objects.filter(recipient=customer.parent, doc_type="payment").count() == 1
    assert TestGateway.attempts == {f"order:{order.pk}:charge": 1}  # booked: not sent again


def test_a_crash_in_the_one_transaction_path_leaves_nothing(setup, monkeypatch):
    """No approval, cash, auto-executed: the chain runs in one transaction; a crash rolls it all
    back, and submitting again completes the order once."""
    product, make = setup
    customer, buyer, _ = make(pays_by_card=False, approval=False)
    draft = of.order(placed_by=buyer, customer=customer, items=[(product, 1)], submit=False)
    real = placement._deliver

    monkeypatch.setattr(placement, "_deliver", die)
    with pytest.raises(WorkerDied):
        services.order_submit(order=draft, acting_user=buyer, today=of.TODAY)
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT
    assert not ResellerTransaction.objects.filter(account=customer.parent).exists()

    monkeypatch.setattr(placement, "_deliver", real)
    done = services.order_submit(order=draft, acting_user=buyer, today=of.TODAY)
    assert done.status == OrderStatus.COMPLETED
    assert ResellerTransaction.objects.filter(account=customer.parent).count() == 1


def test_orders_in_flight_are_left_alone(setup, monkeypatch):
    product, make = setup
    customer, buyer, reseller_user = make(pays_by_card=False)
    order = of.order(placed_by=buyer, customer=customer, items=[(product, 1)])
    monkeypatch.setattr(validation, "_charge_if_card", die)
    with pytest.raises(WorkerDied):
        services.order_approve(order=order, acting_user=reseller_user, today=of.TODAY)
    assert resume_stalled_orders(older_than_minutes=10) == {}
    assert Order.objects.get(customer=customer).status == OrderStatus.SUBMITTED

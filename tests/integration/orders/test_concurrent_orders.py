"""Orders racing for one reseller's credit, in real threads on PostgreSQL."""

from decimal import Decimal as D

import pytest
from django.db.models import Sum

from billing import selectors
from billing.models import CreditReservation, ResellerTransaction
from orders.models import OrderStatus
from resellers.services import customer_set_order_approval, payment_method_create
from tests import factories as f
from tests.factories import orders as of
from tests.threads import run_together


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_spend_more_than_is_available():
    provider = f.provider()
    reseller = f.reseller(parent=provider, credit_limit=D("1000.00"))
    payment_method_create(account=reseller, kind="cash")
    f.invoice(reseller, "450.00", of.TODAY)  # available: 550.00
    reseller_user = f.user(account=reseller)
    product = of.ProductFactory(list_price=D("100.00"))
    of.default_catalogue(product)
    customers = [f.customer(parent=reseller) for _ in range(10)]
    buyers = []
    for customer in customers:
        customer_set_order_approval(customer=customer, required=False, acting_user=reseller_user)
        buyers.append(f.user(account=customer))

    results, errors = run_together(
        10,
        lambda i: of.order(placed_by=buyers[i], customer=customers[i], items=[(product, 1)]).status,
    )

    assert errors == []
    assert sorted(results).count(OrderStatus.COMPLETED) == 5
    assert sorted(results).count(OrderStatus.UNEXECUTED_CREDIT) == 5
    spent = ResellerTransaction.objects.filter(account=reseller).aggregate(s=Sum("amount"))["s"]
    held = CreditReservation.objects.filter(account=reseller, status="active").aggregate(
        s=Sum("amount")
    )["s"]
    assert spent == D("500.00") and held is None
    assert selectors.account_financials(account=reseller).available_credit == D("50.00")

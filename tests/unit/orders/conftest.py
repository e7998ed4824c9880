from decimal import Decimal

import pytest

from resellers.models import PaymentMethod
from resellers.services import contact_create, payment_method_create
from tests import factories as f
from tests.factories import orders as of


@pytest.fixture(autouse=True)
def _fresh_gateway():
    of.reset_gateway()


@pytest.fixture
def product(db):
    p = of.ProductFactory(name="Office Suite", list_price=Decimal("12.00"))
    of.default_catalogue(p)
    return p


@pytest.fixture
def manual_product(db):
    p = of.ProductFactory(
        name="Dedicated Server Setup",
        auto_executed=False,
        product_type="service",
        billing_type="one_time",
        list_price="300.00",
    )
    of.default_catalogue(p)
    return p


@pytest.fixture
def cash_reseller(provider):
    r = f.reseller(parent=provider, name="Cash Reseller", credit_limit=Decimal("1000.00"))
    payment_method_create(account=r, kind=PaymentMethod.Kind.CASH)
    contact_create(account=r, name="Billing", email="billing@cash.example", is_bill_to=True)
    return r


@pytest.fixture
def cash_user(cash_reseller):
    return f.user(account=cash_reseller, username="cashier")


@pytest.fixture
def customer(cash_reseller):
    c = f.customer(parent=cash_reseller, name="End Customer")
    return c


@pytest.fixture
def customer_user(customer):
    return f.user(account=customer, username="enduser")

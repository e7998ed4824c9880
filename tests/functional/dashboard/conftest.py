"""Two resale resellers, each with a customer and documents, plus a referral reseller with a
customer; a login for every account. Figures are hand-computed in the docstring of `world`."""

import datetime
from types import SimpleNamespace

import pytest
import time_machine

from resellers import services as accounts
from resellers.models import PaymentMethod
from tests import factories as f

JAN1 = datetime.date(2026, 1, 1)
JAN10 = datetime.date(2026, 1, 10)
JAN15 = datetime.date(2026, 1, 15)
JAN20 = datetime.date(2026, 1, 20)
FEB1 = datetime.date(2026, 2, 1)
# The panels read today's date (overdue, default dates): pin it just after the books below, so
# reseller2's invoice (due Jan 31) is overdue and reseller1's second (due Feb 14) is not.
PANEL_NOW = datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _panel_clock():
    with time_machine.travel(PANEL_NOW, tick=True):
        yield


@pytest.fixture
def world(provider, provider_user, reseller_a, reseller_b, referral_reseller):
    """reseller1 (net terms, limit 1,000): invoices 100.00 and 250.50, credit memo 30.00, payment
    150.00 applied 100.00 to the first invoice.
      open debt 250.50; credit balance 50.00 + 30.00 = 80.00; balance -170.50;
      available 1,000.00 - 250.50 = 749.50.
    reseller2 (net terms, limit 1,000): invoice 400.00 -> balance -400.00, available 600.00.
    customer1 (prepaid, of reseller1): invoice 45.00 from reseller1, payment 20.00 applied
      automatically -> open debt 25.00, balance -25.00.
    customer2 (of reseller2): invoice 60.00. referral customer: invoice 80.00 from the provider.
    """
    r1, r2, ref = reseller_a, reseller_b, referral_reseller
    c1 = f.customer(parent=r1, name="Customer One")
    c2 = f.customer(parent=r2, name="Customer Two")
    refc = f.customer(parent=ref, name="Referred Customer")
    accounts.contact_create(account=refc, name="Rita Referred", email="rita@example.com")
    accounts.contact_create(account=c1, name="Carl One", email="carl@example.com", is_primary=True)

    r1_cash = accounts.payment_method_create(account=r1, kind=PaymentMethod.Kind.CASH)
    r1_card = f.card(r1)
    r2_card = f.card(r2)

    docs = SimpleNamespace(
        r1_inv1=f.invoice(r1, "100.00", JAN1),
        r1_inv2=f.invoice(r1, "250.50", JAN15),
        r1_cm=f.credit_memo(r1, "30.00", JAN20),
        r2_inv=f.invoice(r2, "400.00", JAN1),
        c1_inv=f.invoice(c1, "45.00", JAN10),
        c2_inv=f.invoice(c2, "60.00", JAN10),
        refc_inv=f.invoice(refc, "80.00", JAN10),
    )
    docs.r1_pay = f.payment(r1, "150.00", FEB1, apply_to=[docs.r1_inv1])
    docs.c1_pay = f.payment(c1, "20.00", FEB1)

    return SimpleNamespace(
        provider=provider,
        r1=r1,
        r2=r2,
        ref=ref,
        c1=c1,
        c2=c2,
        refc=refc,
        r1_cash=r1_cash,
        r1_card=r1_card,
        r2_card=r2_card,
        docs=docs,
        staff=provider_user,
        r1_user=f.user(account=r1, username="reseller1"),
        r2_user=f.user(account=r2, username="reseller2"),
        ref_user=f.user(account=ref, username="referral1"),
        c1_user=f.user(account=c1, username="customer1"),
        c2_user=f.user(account=c2, username="customer2"),
        refc_user=f.user(account=refc, username="refcustomer"),
    )


@pytest.fixture
def login(client):
    """`login(user)` logs the test client in as `user` and returns the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def shop(world):
    """Products, catalogues and price lists on top of `world` (see ordering.py)."""
    from tests.functional.dashboard.ordering import build_shop

    return build_shop(world)

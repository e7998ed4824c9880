"""A small two-tenant world for the API tests, with hand-computed figures.

Provider "Cloud Distributor" and its staff user `staff`.
- Alpha (resale, net terms, limit 1,000, 30 days), user `alpha`, customer Alpha Customer (prepaid,
  user `alpha-customer`).
  Provider -> Alpha: INV 600.00 (Jan 5, due Feb 4), payment 250.00 applied to it, credit memo
  100.00 unapplied; a reservation of 100.00 and an uninvoiced transaction of 50.00.
  Figures: open debt 350.00, credit balance 100.00, balance -250.00,
  available 1000 - 350 - 50 - 100 = 500.00.
  Alpha -> Alpha Customer: INV 80.00 (Jan 10), payment 30.00 (auto-applied, prepaid), and a draft.
  Figures: open debt 50.00, credit balance 0.00, balance -50.00, limit 0, available -50.00.
- Bravo (resale), user `bravo`, customer Bravo Customer. Provider -> Bravo: INV 400.00;
  Bravo -> Bravo Customer: INV 120.00.
- Referral Partner (referral, prepaid), user `referral`, customer Referral Customer (billed by the
  provider). Provider -> Referral Partner: INV 20.00; Provider -> Referral Customer: INV 70.00.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from billing import ledger
from tests import factories as f
from tests.factories import api as fa

JAN5 = datetime.date(2026, 1, 5)
JAN10 = datetime.date(2026, 1, 10)
JAN12 = datetime.date(2026, 1, 12)
JAN20 = datetime.date(2026, 1, 20)
JAN25 = datetime.date(2026, 1, 25)


@pytest.fixture
def world(provider, provider_user, reseller_a, reseller_b, referral_reseller):
    w = SimpleNamespace(provider=provider, staff=provider_user)
    w.a, w.b, w.r = reseller_a, reseller_b, referral_reseller
    w.a1 = f.customer(parent=w.a, name="Alpha Customer")
    w.b1 = f.customer(parent=w.b, name="Bravo Customer")
    w.r1 = f.customer(parent=w.r, name="Referral Customer")

    w.alpha = f.user(account=w.a, username="alpha")
    w.bravo = f.user(account=w.b, username="bravo")
    w.alpha_customer = f.user(account=w.a1, username="alpha-customer")
    w.referral = f.user(account=w.r, username="referral")

    w.contacts = {
        "a_bill": fa.contact(w.a, "Ann Alpha", is_bill_to=True),
        "a_primary": fa.contact(w.a, "Art Alpha", is_primary=True),
        "b": fa.contact(w.b, "Ben Bravo", is_primary=True),
        "r": fa.contact(w.r, "Rita Referral"),
        "a1": fa.contact(w.a1, "Cara Customer", is_bill_to=True),
        "b1": fa.contact(w.b1, "Carl Customer"),
        "r1": fa.contact(w.r1, "Rex Referred", phone="+1 555 0100"),
    }
    w.methods = {
        "a_card": f.card(w.a, token="tok_alpha_SECRET"),
        "a1_cash": fa.cash(w.a1),
        "b_card": f.card(w.b, token="tok_bravo_SECRET"),
        "b1_card": f.card(w.b1, token="tok_bravo_customer_SECRET"),
        "r_cash": fa.cash(w.r),
        "r1_card": f.card(w.r1, token="tok_referred_SECRET"),
    }

    d = {}
    d["inv_a"] = f.invoice(w.a, "600.00", JAN5)
    d["pay_a"] = f.payment(w.a, "250.00", JAN20, apply_to=[d["inv_a"]])
    d["cm_a"] = f.credit_memo(w.a, "100.00", JAN25)
    d["inv_a1"] = f.invoice(w.a1, "80.00", JAN10)
    d["pay_a1"] = f.payment(w.a1, "30.00", JAN12)
    d["draft_a1"] = fa.draft_invoice(w.a1, "999.00")
    d["inv_b"] = f.invoice(w.b, "400.00", JAN5)
    d["inv_b1"] = f.invoice(w.b1, "120.00", JAN10)
    d["inv_r"] = f.invoice(w.r, "20.00", JAN10)
    d["inv_r1"] = f.invoice(w.r1, "70.00", JAN10)
    for key in list(d):
        d[key].refresh_from_db()
    w.docs = d

    ledger.credit_reserve(account=w.a, amount=Decimal("100.00"), reference="order:1")
    ledger.reseller_transaction_record(
        account=w.a,
        amount=Decimal("50.00"),
        description="Alpha purchase",
        reference="order:0",
        charge_date=JAN10,  # anchors Alpha's billing cycle on the 10th
    )
    return w


@pytest.fixture
def api():
    """`api(user)`: an API client acting as `user` (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


def ids(response) -> set[int]:
    """The ids of a paginated list response."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None  # the whole list fits in one page here
    return {row["id"] for row in body["results"]}


@pytest.fixture
def shop(world):
    """Catalogue, prices, orders and subscriptions on top of `world` (see shop.py), with the
    clock frozen at shop.NOW."""
    import time_machine

    from tests.functional.api.shop import NOW, build_shop

    with time_machine.travel(NOW, tick=False):
        yield build_shop(world)

"""The ordering world for the API tests, on top of conftest's `world`, with hand-computed prices.

The clock stands at NOW (2026-02-10 10:00 UTC) while it is built and during each test.

Products: Office Suite (monthly, list 12.00), Antivirus (annual, list 30.00), Server Setup (a
one-time service executed by hand, list 300.00), Alpha Special (monthly, list 20.00).
Catalogues: the default one (Office Suite, Antivirus, Server Setup) for everyone but Alpha and
its customer, who have "Alpha catalogue" (Office Suite, Alpha Special).
Prices:
- Alpha's cost (provider's list): Office Suite 10.00; Alpha Special at list, 20.00.
  Alpha Customer's price: Alpha's cost + 25% -> Office Suite 12.50, Alpha Special 25.00.
- Bravo's cost: Office Suite 11.00, Server Setup 250.00, Antivirus at list 30.00.
  Bravo Customer's price: Office Suite 15.00, others cost + 20% -> Server Setup 300.00,
  Antivirus 36.00.
- Referral Customer pays the catalogue price (Office Suite 12.00).
Payment: Alpha pays by card (conftest's tok_alpha_SECRET, valid to 2030), so every Alpha Customer
order needs Alpha's approval and Alpha's card is charged on execution. Bravo pays cash, and
Bravo Customer's approval toggle is off, so its orders run the chain at once.
Credit: Alpha available 500.00 before these orders (conftest); Bravo 1000 - 400 = 600.00.

Orders (cost / amount):
- a1_pending: Alpha Customer, 2 x Office Suite, pending approval (20.00 / 25.00).
- a1_done: Alpha Customer, 1 x Office Suite, approved by Alpha, completed (10.00 / 12.50).
- a_own: Alpha for itself, 1 x Office Suite, completed (10.00 / 10.00).
- b1_done: Bravo Customer, 3 x Office Suite, completed (33.00 / 45.00).
- b1_manual: Bravo for Bravo Customer, 1 x Server Setup, submitted to distributor
  (250.00 / 300.00; 250.00 reserved).
- r1_order: Referral Customer, 1 x Office Suite, paid in cash; its own prepaid terms have no
  credit (it owes 70.00) and no payment prepays it: unexecuted due to insufficient credit
  (12.00 / 12.00).
Afterwards: Alpha available 500 - 10 (its own order) = 490.00, since a1_done, paid by Alpha's
card charge, is prepaid (it uses no credit); Bravo 600 - 33 - 250 = 317.00.
Subscriptions: s_a1, s_a (Alpha's own), s_b1, and s_r1 (made directly: Referral Customer holds
Office Suite from before).
"""

import datetime
from decimal import Decimal as D
from types import SimpleNamespace

from orders import services
from orders.models import Subscription
from resellers import services as accounts
from tests import factories as f
from tests.factories import api as fa
from tests.factories import orders as of

NOW = datetime.datetime(2026, 2, 10, 10, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def build_shop(w) -> SimpleNamespace:
    of.reset_gateway()
    s = SimpleNamespace()
    s.office = of.ProductFactory(sku="OFFICE", name="Office Suite", list_price=D("12.00"))
    s.antivirus = of.ProductFactory(
        sku="AV", name="Antivirus", billing_type="recurring_annual", list_price=D("30.00")
    )
    s.setup = of.ProductFactory(
        sku="SETUP",
        name="Server Setup",
        product_type="service",
        billing_type="one_time",
        auto_executed=False,
        list_price=D("300.00"),
    )
    s.special = of.ProductFactory(sku="SPECIAL", name="Alpha Special", list_price=D("20.00"))
    s.default_catalogue = of.default_catalogue(s.office, s.antivirus, s.setup)
    s.alpha_catalogue = of.CatalogueFactory(name="Alpha catalogue", products=[s.office, s.special])
    of.assign_catalogue(w.a, s.alpha_catalogue)
    of.assign_catalogue(w.a1, s.alpha_catalogue)
    of.price_list(w.provider, [w.a], items={s.office: "10.00"}, name="Provider to Alpha")
    of.price_list(w.a, [w.a1], markup=D("25"), name="Alpha to its customers")
    of.price_list(
        w.provider, [w.b], items={s.office: "11.00", s.setup: "250.00"}, name="Provider to Bravo"
    )
    of.price_list(w.b, [w.b1], items={s.office: "15.00"}, markup=D("20"), name="Bravo to its own")

    cash = fa.cash(w.b, label="Bravo cash")
    accounts.payment_method_set_default(payment_method=cash)
    accounts.customer_set_order_approval(customer=w.b1, required=False, acting_user=None)
    s.bravo_customer = f.user(account=w.b1, username="bravo-customer")
    s.referral_customer = f.user(account=w.r1, username="referral-customer")

    def order(**kwargs):
        return of.order(today=TODAY, **kwargs)

    s.a1_pending = order(placed_by=w.alpha_customer, customer=w.a1, items=[(s.office, 2)])
    s.a1_done = services.order_approve(
        order=order(placed_by=w.alpha_customer, customer=w.a1, items=[(s.office, 1)]),
        acting_user=w.alpha,
        today=TODAY,
    )
    s.a_own = order(placed_by=w.alpha, reseller=w.a, items=[(s.office, 1)])
    s.b1_done = order(placed_by=s.bravo_customer, customer=w.b1, items=[(s.office, 3)])
    s.b1_manual = order(placed_by=w.bravo, customer=w.b1, items=[(s.setup, 1)])
    # Paying by card, its order would be prepaid by the card charge: it pays in cash for this one.
    card = w.r1.payment_methods.get(is_default=True)
    accounts.payment_method_set_default(payment_method=fa.cash(w.r1))
    s.r1_order = order(placed_by=s.referral_customer, customer=w.r1, items=[(s.office, 1)])
    accounts.payment_method_set_default(payment_method=card)

    s.s_a1 = Subscription.objects.get(order=s.a1_done)
    s.s_a = Subscription.objects.get(order=s.a_own)
    s.s_b1 = Subscription.objects.get(order=s.b1_done)
    s.s_r1 = Subscription.objects.create(
        account=w.r1,
        credit_account=w.r1,
        product=s.office,
        quantity=4,
        status="active",
        billing_period="monthly",
        unit_cost=D("12.00"),
        unit_price=D("12.00"),
        currency="USD",
        start_date=datetime.date(2026, 1, 1),
        next_billing_date=datetime.date(2026, 3, 1),
    )
    return s


ORDERS = ["a1_pending", "a1_done", "a_own", "b1_done", "b1_manual", "r1_order"]
ORDERS_VISIBLE = {
    "staff": set(ORDERS),
    "alpha": {"a1_pending", "a1_done", "a_own"},
    "bravo": {"b1_done", "b1_manual"},
    "alpha_customer": {"a1_pending", "a1_done"},
    "referral": set(),  # a referral reseller never sees its customers' orders
    "referral_customer": {"r1_order"},
}


def user(world, shop, role: str):
    """The user acting as `role`: conftest's world users, plus shop's customers' users."""
    return getattr(world, role, None) or getattr(shop, role)

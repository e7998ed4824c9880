"""The ordering world for the panel tests, on top of conftest's `world` (the `shop` fixture).

Products (USD): Office Suite (monthly, list 12.00), Antivirus (annual, list 30.00), Server Setup
(one-time service executed by hand, list 300.00), Alpha Special (monthly, list 20.00), Backup
(monthly with a 14-day trial, list 5.00).
Catalogues: the default one (Office Suite, Antivirus, Server Setup) for everyone but reseller1
and Customer One, who have "Alpha catalogue" (Office Suite, Alpha Special, Backup, Server Setup).
Prices:
- reseller1's cost (the provider's list): Office Suite 10.00, the rest at list.
  Customer One pays reseller1's cost + 25%: Office Suite 12.50, Alpha Special 25.00, Backup
  6.25, Server Setup 375.00.
- reseller2's cost: Office Suite 11.00, the rest at list. Customer Two: Office Suite 15.00,
  others cost + 20% (Antivirus 36.00, Server Setup 360.00).
Payment and approval: reseller1 pays cash (its default), so Customer One's toggle (on by
default) may be switched; reseller2 pays by card (tok_test, valid to 2030), so Customer Two's
toggle is locked on. Credit: reseller1 has 749.50 available, reseller2 600.00 (`world`).
"""

from decimal import Decimal as D
from types import SimpleNamespace

from orders import services
from tests.factories import orders as of


def build_shop(w) -> SimpleNamespace:
    of.reset_gateway()
    s = SimpleNamespace()
    s.office = of.ProductFactory(
        sku="OFFICE", name="Office Suite", list_price=D("12.00"), description="Mail and documents"
    )
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
    s.backup = of.ProductFactory(
        sku="BACKUP", name="Backup", list_price=D("5.00"), trial_days=14, product_type="service"
    )
    s.default_catalogue = of.default_catalogue(s.office, s.antivirus, s.setup)
    s.alpha_catalogue = of.CatalogueFactory(
        name="Alpha catalogue", products=[s.office, s.special, s.backup, s.setup]
    )
    of.assign_catalogue(w.r1, s.alpha_catalogue)
    of.assign_catalogue(w.c1, s.alpha_catalogue)
    of.price_list(w.provider, [w.r1], items={s.office: "10.00"}, name="Provider to Alpha")
    of.price_list(w.r1, [w.c1], markup=D("25"), name="Alpha to its customers")
    of.price_list(w.provider, [w.r2], items={s.office: "11.00"}, name="Provider to Bravo")
    of.price_list(w.r2, [w.c2], items={s.office: "15.00"}, markup=D("20"), name="Bravo to its own")
    return s


def place(user, items, *, customer=None, reseller=None, today):
    """An order placed through the services (not the panel): [(product, quantity)]."""
    order = services.order_create(
        placed_by=user,
        customer=customer,
        reseller=reseller,
        items=[services.ItemSpec(product=p, quantity=q) for p, q in items],
    )
    return services.order_submit(order=order, acting_user=user, today=today)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def basket_of(client) -> dict:
    return dict(client.session.get("basket") or {})

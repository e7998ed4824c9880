"""Factories for billing runs: a provider, a resale reseller with a customer, a product sold at
10.00 cost and 15.00 to the customer, and subscriptions made by real orders."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

from orders import services as order_services
from orders.models import Subscription
from resellers.models import Account
from resellers.services import customer_set_order_approval
from tests import factories as f
from tests.factories import orders as of


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def world(*, on_hold: bool = True, customer_terms: str = Account.CreditTerms.NET_TERMS):
    """Provider P, resale reseller R (net 30, limit 100,000) with customer C (net 30 by default)
    and a user each; products `monthly` (10.00 to R, 15.00 to C), `annual` (100.00 / 150.00),
    `three_years` (300.00 / 450.00, billed three years ahead), `usage` (0.10 / 0.15 a unit)."""
    cls = f.CustomerClassFactory(name=f"On hold {'on' if on_hold else 'off'}")
    cls.bill_for_subscriptions_on_hold = on_hold
    cls.save()
    provider = f.provider()
    reseller = f.reseller(parent=provider, name="Reseller R", credit_limit=Decimal("100000"))
    customer = f.customer(
        parent=reseller,
        name="Customer C",
        credit_terms=customer_terms,
        credit_limit=Decimal("100000") if customer_terms == Account.CreditTerms.NET_TERMS else 0,
        payment_terms_days=30 if customer_terms == Account.CreditTerms.NET_TERMS else 0,
    )
    Account.objects.filter(pk__in=[reseller.pk, customer.pk]).update(customer_class=cls)
    reseller.refresh_from_db()
    customer.refresh_from_db()
    staff = f.user(account=provider)
    reseller_user = f.user(account=reseller)
    customer_set_order_approval(customer=customer, required=False, acting_user=reseller_user)
    monthly = of.ProductFactory(name="Cloud Suite", list_price=Decimal("10.00"))
    annual = of.ProductFactory(
        name="Backup Annual",
        list_price=Decimal("100.00"),
        billing_type="recurring_annual",
    )
    three_years = of.ProductFactory(
        name="Backup 3 Years",
        list_price=Decimal("300.00"),
        billing_type="recurring_3_years",
    )
    usage = of.ProductFactory(name="Storage GB", list_price=Decimal("0.10"), billing_type="usage")
    of.default_catalogue(monthly, annual, three_years, usage)
    of.price_list(
        reseller,
        [customer],
        items={monthly: "15.00", annual: "150.00", three_years: "450.00", usage: "0.15"},
    )
    return SimpleNamespace(
        cls=cls,
        provider=provider,
        reseller=reseller,
        customer=customer,
        staff=staff,
        reseller_user=reseller_user,
        monthly=monthly,
        annual=annual,
        three_years=three_years,
        usage=usage,
    )


def subscribe(w, *, product=None, quantity: int = 1, today, for_reseller: bool = False):
    """A completed order by the reseller (for C, or for itself) and its subscription."""
    order = order_services.order_place(
        placed_by=w.reseller_user,
        customer=None if for_reseller else w.customer,
        reseller=w.reseller if for_reseller else None,
        items=[order_services.ItemSpec(product=product or w.monthly, quantity=quantity)],
        today=today,
    )
    assert order.status == "completed", order.status_message
    return Subscription.objects.get(order=order)


def _bought(user, product, quantity: int, today, *, reseller=None, customer=None) -> None:
    order = order_services.order_place(
        placed_by=user,
        reseller=reseller,
        customer=customer,
        items=[order_services.ItemSpec(product=product, quantity=quantity)],
        today=today,
    )
    assert order.status == "completed", order.status_message


def resellers_with_subscriptions(
    n: int, *, today, product=None, quantity: int = 1, with_customers: bool = False
):
    """`n` resale resellers, each with one subscription of its own bought by a real order on
    `today` (so each is invoiced on its first cycle date, a month on); `with_customers`: each also
    with a net-terms customer holding one subscription (10.00 at cost, 15.00 to it), bought the
    same day. The customers are listed in `.customers` of each reseller."""
    product = product or of.ProductFactory(name="Seat", list_price=Decimal("10.00"))
    of.default_catalogue(product)
    made = []
    for _ in range(n):
        reseller = f.reseller(credit_limit=Decimal("100000"))
        user = f.user(account=reseller)
        _bought(user, product, quantity, today, reseller=reseller)
        reseller.customers = []
        if with_customers:
            customer = f.customer(
                parent=reseller,
                credit_terms=Account.CreditTerms.NET_TERMS,
                credit_limit=Decimal("100000"),
                payment_terms_days=30,
            )
            customer_set_order_approval(customer=customer, required=False, acting_user=user)
            of.price_list(reseller, [customer], items={product: "15.00"})
            _bought(user, product, quantity, today, customer=customer)
            reseller.customers.append(customer)
        made.append(reseller)
    return made

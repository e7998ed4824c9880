"""Reads on the catalogue, prices, orders and subscriptions. Tenant scoping through
resellers.tenancy.scope; the catalogue is scoped by assignment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from billing.money import round_unit_price
from orders.models import (
    Catalogue,
    CatalogueAssignment,
    Order,
    OrderStatus,
    PriceListAssignment,
    PriceListItem,
    Product,
    Subscription,
)
from resellers.models import Account, User
from resellers.tenancy import is_provider_staff, scope


def catalogue_for(*, account: Account) -> Catalogue | None:
    """The catalogue assigned to `account`, else the default catalogue."""
    assignment = (
        CatalogueAssignment.objects.filter(account=account).select_related("catalogue").first()
    )
    if assignment is not None:
        return assignment.catalogue
    return Catalogue.objects.filter(is_default=True).first()


def catalogue_products(*, account: Account) -> QuerySet[Product]:
    """The active products `account` may order: its catalogue's."""
    catalogue = catalogue_for(account=account)
    if catalogue is None:
        return Product.objects.none()
    return catalogue.products.filter(is_active=True).order_by("name", "id")


def products_visible(*, user: User) -> QuerySet[Product]:
    """Provider staff: every product. Others: the products of their own account's catalogue."""
    if is_provider_staff(user):
        return Product.objects.all()
    if not (user and user.is_authenticated and user.account_id):
        return Product.objects.none()
    return catalogue_products(account=user.account)


@dataclass(frozen=True)
class Quote:
    """Per-unit prices of one product for one order: the cost (what the credit account pays its
    issuer) and the amount (what the customer pays)."""

    unit_cost: Decimal
    unit_price: Decimal
    currency: str


def _price_for(*, buyer: Account, product: Product, base: Decimal) -> Decimal:
    """The buyer's price from its assigned list: the list's item, else the list's markup on
    `base`, else `base`."""
    assignment = (
        PriceListAssignment.objects.filter(buyer=buyer).select_related("price_list").first()
    )
    if assignment is None:
        return base
    item = PriceListItem.objects.filter(
        price_list_id=assignment.price_list_id, product=product
    ).first()
    if item is not None:
        return item.unit_price
    markup = assignment.price_list.markup_percent
    if markup is not None:
        return round_unit_price(base * (Decimal(100) + markup) / Decimal(100))
    return base


def order_parties(*, customer: Account | None, reseller: Account | None) -> Account:
    """The credit account of an order: the resale reseller for its own and its customers' orders,
    the customer itself for referral and direct customers."""
    if customer is None:
        if reseller is None or not reseller.is_reseller:
            raise ValueError("An order without a customer is a reseller's own order.")
        return reseller
    parent = customer.parent
    if (
        parent is not None
        and parent.is_reseller
        and parent.reseller_model == Account.ResellerModel.RESALE
    ):
        return parent
    return customer


def price_quote(*, product: Product, customer: Account | None, credit_account: Account) -> Quote:
    """Seed 004's cost and amount. Resale: cost from the provider's list to the reseller, amount
    from the reseller's list to the customer (or its markup on cost). A reseller's own order pays
    cost. Referral and direct customers pay catalogue prices (seed 003)."""
    if credit_account.is_reseller:
        cost = _price_for(buyer=credit_account, product=product, base=product.list_price)
        amount = cost if customer is None else _price_for(buyer=customer, product=product,
                                                          base=cost)  # fmt: skip
    else:
        cost = amount = _price_for(buyer=credit_account, product=product, base=product.list_price)
    return Quote(unit_cost=cost, unit_price=amount, currency=credit_account.currency)


# --- orders ------------------------------------------------------------------------------------


def orders_visible(*, user: User) -> QuerySet[Order]:
    return scope(Order.objects.select_related("customer", "credit_account"), user)


def order_get(*, user: User, pk: int) -> Order:
    """The order, or Order.DoesNotExist when `user` may not see it."""
    return orders_visible(user=user).prefetch_related("items__product", "sub_orders").get(pk=pk)


def orders_pending_approval(*, reseller: Account) -> QuerySet[Order]:
    """Seed 004's *Submitted Orders Pending Approval*: its customers' orders awaiting approval,
    and those it approved that then failed the credit check."""
    return (
        Order.objects.filter(credit_account=reseller, parent__isnull=True)
        .filter(
            Q(status=OrderStatus.PENDING_APPROVAL)
            | Q(status=OrderStatus.UNEXECUTED_CREDIT, approved_at__isnull=False)
        )
        .select_related("customer")
    )


def orders_unexecuted(*, reseller: Account) -> QuerySet[Order]:
    """Seed 004's *Unexecuted Orders Due to Insufficient Credit*."""
    return Order.objects.filter(
        credit_account=reseller, parent__isnull=True, status=OrderStatus.UNEXECUTED_CREDIT
    ).select_related("customer")


def orders_for_distributor() -> QuerySet[Order]:
    """What provider staff act on: orders submitted for manual execution, and orders left
    unexecuted for lack of credit (seed 004: "the order is submitted to the distributor")."""
    return Order.objects.filter(
        status__in=[OrderStatus.SUBMITTED_TO_DISTRIBUTOR, OrderStatus.UNEXECUTED_CREDIT]
    ).select_related("customer", "credit_account")


def subscriptions_visible(*, user: User) -> QuerySet[Subscription]:
    return scope(Subscription.objects.select_related("product", "account"), user)

"""Reads on the catalogue, prices, orders and subscriptions. Tenant scoping through
resellers.tenancy.scope; the catalogue is scoped by assignment."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, FilteredRelation, Q, QuerySet

from billing.models import ResellerTransaction
from billing.money import round_unit_price
from billing.periods import Period, nth_period
from orders.models import (
    Catalogue,
    CatalogueAssignment,
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderType,
    PriceListAssignment,
    Product,
    Subscription,
    UsageRecord,
)

# Which actions a user may take on an order or a subscription now: one selector over the
# transition and action tables of orders.workflow, re-exported here for the panels and the API.
from orders.workflow import (  # noqa: F401
    order_action_check,
    order_actions,
    order_status_message_shown,
    order_status_shown,
    sees_credit_side,
    subscription_action_check,
    subscription_actions,
)
from resellers.models import Account, User
from resellers.prepared import PreparedQuery
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
    """The active products `account` may order: its assigned catalogue's, else the default
    catalogue's. One query."""
    return _catalogue_products(account.pk)


def _catalogue_products(account_id: int) -> QuerySet[Product]:
    assigned = CatalogueAssignment.objects.filter(account_id=account_id)
    return (
        Product.objects.filter(is_active=True)
        .filter(
            Q(catalogues__in=assigned.values("catalogue_id"))
            | (Q(catalogues__is_default=True) & ~Exists(assigned))
        )
        .order_by("name", "id")
    )


_IN_CATALOGUE = PreparedQuery(
    lambda account, products: (
        _catalogue_products(account).filter(pk__in=products).order_by().values("pk")
    ),
    "account",
    "products",
)


def catalogue_has(*, account: Account, product_ids: Sequence[int]) -> set[int]:
    """Which of `product_ids` are in `account`'s catalogue (catalogue_products), compiled once
    (resellers.prepared): every order checks its products."""
    ids = sorted(set(product_ids))
    if not ids:
        return set()
    rows = _IN_CATALOGUE.rows(
        using=account._state.db or "default", account=account.pk, products=ids
    )
    return {row["pk"] for row in rows}


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


# Each buyer's price list with its items for the products: one row per (buyer, listed product),
# or one row with no item. Compiled once (resellers.prepared): every order prices its products.
_PRICES = PreparedQuery(
    lambda buyers, products: (
        PriceListAssignment.objects.filter(buyer_id__in=buyers)
        .annotate(
            listed=FilteredRelation(
                "price_list__items", condition=Q(price_list__items__product_id__in=products)
            )
        )
        .values(
            "buyer_id",
            "price_list_id",
            "price_list__markup_percent",
            "listed__product_id",
            "listed__unit_price",
        )
    ),
    "buyers",
    "products",
)


def price_quotes(
    *, products: Sequence[Product], customer: Account | None, credit_account: Account
) -> dict[int, Quote]:
    """Seed 004's cost and amount of each product, in two queries whatever the basket.

    A buyer's price comes from its assigned list: the list's item, else the list's markup on the
    base, else the base. Resale: the cost is the reseller's price from the provider's list (base:
    the catalogue price), the amount the customer's from the reseller's list (base: the cost); a
    reseller's own order pays cost. Referral and direct customers pay catalogue prices (seed 003),
    or their own list's where the provider assigned one.
    """
    buyers = [credit_account.pk]
    if customer is not None and credit_account.is_reseller:
        buyers.append(customer.pk)
    using = credit_account._state.db or "default"
    lists, listed = {}, {}
    if products:
        rows = _PRICES.rows(using=using, buyers=buyers, products=sorted({p.pk for p in products}))
        for row in rows:
            lists[row["buyer_id"]] = row
            if row["listed__product_id"] is not None:
                key = (row["price_list_id"], row["listed__product_id"])
                listed[key] = row["listed__unit_price"]

    def price(buyer_id: int, product: Product, base: Decimal) -> Decimal:
        plist = lists.get(buyer_id)
        if plist is None:
            return base
        item = listed.get((plist["price_list_id"], product.pk))
        if item is not None:
            return item
        markup = plist["price_list__markup_percent"]
        if markup is not None:
            return round_unit_price(base * (Decimal(100) + markup) / Decimal(100))
        return base

    quotes = {}
    for product in products:
        cost = price(credit_account.pk, product, product.list_price)
        if credit_account.is_reseller and customer is not None:
            amount = price(customer.pk, product, cost)
        else:
            amount = cost
        quotes[product.pk] = Quote(
            unit_cost=cost, unit_price=amount, currency=credit_account.currency
        )
    return quotes


def price_quote(*, product: Product, customer: Account | None, credit_account: Account) -> Quote:
    """One product's quote (see price_quotes)."""
    return price_quotes(products=[product], customer=customer, credit_account=credit_account)[
        product.pk
    ]


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


def usage_records_visible(*, user: User, subscription: Subscription) -> QuerySet[UsageRecord]:
    """The usage reported for `subscription`, as far as `user` may see it (scoped like the
    subscription: its holder and the holder's resale reseller; never a referral reseller)."""
    return scope(UsageRecord.objects.filter(subscription_id=subscription.pk), user).order_by(
        "usage_date", "id"
    )


def item_corrected_state(*, item: OrderItem) -> OrderItem:
    """The detail as it stands after its corrections (the last correcting order's detail for
    it), or the detail itself: where the next correction starts (orders.services.corrections)."""
    return OrderItem.objects.filter(corrects_item=item).order_by("-pk").first() or item


@dataclass(frozen=True)
class ChargedPeriod:
    """The service period [start, end) a detail's first charge covers, as it stands after its
    corrections, and `within`: the billing period that charge fell in, which a corrected period
    stays inside (a longer service is the next period's, which billing runs charge)."""

    start: datetime.date
    end: datetime.date
    within: Period


def item_charged_period(*, item: OrderItem, state: OrderItem) -> ChargedPeriod | None:
    """`item`'s charged period given its corrected state (item_corrected_state), or None for a
    detail whose charge covers no period (a one-off, a usage or trial product)."""
    first = (
        ResellerTransaction.objects.filter(
            order_item=item,
            kind=ResellerTransaction.Kind.ORDER,
            period_start_date__isnull=False,
            period_end_date__isnull=False,
        )
        .order_by("pk")
        .first()
    )
    if first is None:
        return None
    billing_period = (
        item.subscription.billing_period if item.subscription_id else item.product.billing_period
    )
    within = nth_period(anchor=first.period_end_date, billing_period=billing_period, index=-1)
    if state.period_start is not None:
        return ChargedPeriod(state.period_start, state.period_end, within)
    return ChargedPeriod(first.period_start_date, first.period_end_date, within)


def cancelled_by(state: OrderItem) -> Order | None:
    """The correcting order that cancelled a detail, given its corrected state
    (item_corrected_state), or None: nothing is left of such a detail to correct."""
    if state.order.order_type == OrderType.CORRECTION and (
        state.delivery_status == DeliveryStatus.CANCELLED
    ):
        return state.order
    return None

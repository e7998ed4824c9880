"""Reads on the catalogue, prices, orders and subscriptions. Tenant scoping through
resellers.tenancy.scope; the catalogue is scoped by assignment."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, FilteredRelation, OuterRef, Prefetch, Q, QuerySet, Subquery

from billing.document_layout import money
from billing.ledger import allocated_amounts
from billing.models import Document, DocumentType, PaymentAllocation, ResellerTransaction
from billing.money import round_unit_price
from billing.periods import Period, nth_period, prorate
from billing.selectors import account_financials
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
    CREDIT_HOLD,
    NO_PREPAY_DISABLED,
    NO_PREPAY_MANUAL,
    NO_PREPAY_OWN_PURCHASE,
    order_action_check,
    order_actions,
    order_status_message_shown,
    order_status_shown,
    prepay_barrier,
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
    return with_charged_totals(orders_visible(user=user)).get(pk=pk)


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


# --- what an order charged ----------------------------------------------------------------------


def stub_charge(
    *,
    amount: Decimal,
    start: datetime.date,
    end: datetime.date,
    billing_period: str,
    currency: str,
) -> Decimal:
    """What [start, end) of a subscription's first period is charged when `amount` is a whole
    period's and `end` is its holder's next cycle date (co-terming): the days prorated over the
    billing period that ends on `end` (billing.periods.prorate, rounded once). Order execution
    charges it (orders.services.execution); the order's shown totals read it back."""
    stub = nth_period(anchor=end, billing_period=billing_period, index=-1)
    return prorate(
        period_amount=amount, period=stub, from_date=start, to_date=end, currency=currency
    )


def items_with_charged_period(items: QuerySet[OrderItem] | None = None) -> QuerySet[OrderItem]:
    """Order items (with their product) annotated `charged_start` / `charged_end`: the period
    their first order charge covers, None when execution charged them for no period (a one-off,
    a trial, usage) or has not run. What item_charged_totals reads."""
    first = ResellerTransaction.objects.filter(
        order_item_id=OuterRef("pk"),
        kind=ResellerTransaction.Kind.ORDER,
        period_start_date__isnull=False,
        period_end_date__isnull=False,
    ).order_by("pk")
    items = OrderItem.objects.all() if items is None else items
    return items.select_related("product").annotate(
        charged_start=Subquery(first.values("period_start_date")[:1]),
        charged_end=Subquery(first.values("period_end_date")[:1]),
    )


def with_charged_totals(orders: QuerySet[Order]) -> QuerySet[Order]:
    """`orders` with their items and their sub-orders' items prefetched as
    items_with_charged_period annotates them: order_charged_totals then makes no query (two
    queries for the whole list)."""
    items = items_with_charged_period()
    return orders.prefetch_related(
        Prefetch("items", queryset=items),
        Prefetch(
            "sub_orders",
            queryset=Order.objects.order_by("id").prefetch_related(
                Prefetch("items", queryset=items)
            ),
        ),
    )


@dataclass(frozen=True)
class ChargedTotals:
    cost: Decimal  # the credit account's
    amount: Decimal  # the customer's (its price)


def item_charged_totals(item: OrderItem, *, currency: str) -> ChargedTotals:
    """What an item of an executed order was charged, each side: its stored totals (a whole
    period's, or a one-off fee) unless its first charge covered part of a period, co-termed with
    its holder's cycle; then that part, by stub_charge, the rule execution charged it by. Needs
    `item` from items_with_charged_period; `currency` is its order's."""
    start, end = item.charged_start, item.charged_end
    if start is None or end is None:
        return ChargedTotals(item.total_cost, item.total_amount)
    period = item.product.billing_period
    if nth_period(anchor=start, billing_period=period, index=0).end == end:
        return ChargedTotals(item.total_cost, item.total_amount)  # a whole first period

    def part(amount: Decimal) -> Decimal:
        return stub_charge(
            amount=amount, start=start, end=end, billing_period=period, currency=currency
        )

    return ChargedTotals(part(item.total_cost), part(item.total_amount))


def _charged_items(order: Order) -> list[OrderItem]:
    """`order`'s items and its sub-orders' (a split order's items are theirs), annotated as
    items_with_charged_period: from the prefetch cache when with_charged_totals loaded the order,
    else loaded here (one query)."""
    cache = getattr(order, "_prefetched_objects_cache", {})
    if "items" in cache and (order.parent_id is not None or "sub_orders" in cache):
        items = list(order.items.all())
        if order.parent_id is None:
            for sub in order.sub_orders.all():
                if "items" not in getattr(sub, "_prefetched_objects_cache", {}):
                    items = None
                    break
                items.extend(sub.items.all())
        if items is not None and all(hasattr(item, "charged_start") for item in items):
            return items
    return list(
        items_with_charged_period(
            OrderItem.objects.filter(Q(order_id=order.pk) | Q(order__parent_id=order.pk))
        )
    )


def order_items_charged(order: Order) -> dict[int, ChargedTotals]:
    """What each item of `order` (and of its sub-orders) was charged, by item id."""
    return {
        item.pk: item_charged_totals(item, currency=order.currency)
        for item in _charged_items(order)
    }


def order_charged_totals(order: Order) -> ChargedTotals:
    """The order's total cost and total amount as charged, the figures the panels and the API
    show: its stored totals (whole periods), less what co-terming left out of each item's first
    charge (item_charged_totals). An order not executed yet shows what it needs: its stored
    totals, the credit check's whole first period. No query when `order` comes from
    with_charged_totals."""
    cost, amount = order.total_cost, order.total_amount
    for item in _charged_items(order):
        charged = item_charged_totals(item, currency=order.currency)
        cost -= item.total_cost - charged.cost
        amount -= item.total_amount - charged.amount
    return ChargedTotals(cost, amount)


# --- prepaid orders: the money held for them -------------------------------------------------


@dataclass(frozen=True)
class HeldPrepayment:
    """Part of a payment set aside for one order (an active PaymentAllocation): a card charge
    made for the order, or part of a top-up. The daily invoicing run invoices the order and
    applies this money to that invoice; until then it counts in the credit balance but pays
    nothing else."""

    order: Order
    payment_number: str
    payment_total: Decimal
    amount: Decimal
    currency: str
    by_card: bool  # the payment is the order's own card charge


def prepayments_held(*, account: Account) -> list[HeldPrepayment]:
    """The money of `account`'s credit balance held for its prepaid orders, oldest first (one
    query)."""
    rows = (
        PaymentAllocation.objects.filter(
            account_id=account.pk, status=PaymentAllocation.Status.ACTIVE
        )
        .select_related("order", "payment")
        .order_by("pk")
    )
    return [
        HeldPrepayment(
            order=row.order,
            payment_number=row.payment.display_number,
            payment_total=row.payment.total,
            amount=row.amount,
            currency=row.currency,
            by_card=row.order.payment_id == row.payment_id,
        )
        for row in rows
    ]


def order_prepayment(*, order: Order) -> HeldPrepayment | None:
    """The money held for `order` until its daily invoice, if any."""
    row = (
        PaymentAllocation.objects.filter(order_id=order.pk, status=PaymentAllocation.Status.ACTIVE)
        .select_related("payment")
        .first()
    )
    if row is None:
        return None
    return HeldPrepayment(
        order=order,
        payment_number=row.payment.display_number,
        payment_total=row.payment.total,
        amount=row.amount,
        currency=row.currency,
        by_card=order.payment_id == row.payment_id,
    )


# --- an order refused for lack of credit: the rule, and what would work ------------------------


@dataclass(frozen=True)
class CreditShortfall:
    """Why an order was not executed for lack of credit, in figures of its credit account
    (DESIGN.md "Available credit and prepaid orders"): it needs `needed` (its total cost for
    the first billing period, before tax) of available credit, `available` is there; else it
    goes through prepaid only when one payment on its own covers `needed` (`barrier` says why
    it cannot be prepaid at all: orders.workflow's NO_PREPAY_ codes). `largest_free` is the
    most any single unapplied payment has not set aside for other orders (payments are never
    added together); `credit_free` the credit balance not held for prepaid orders, which pays
    documents and so raises available credit by up to `open_debt`."""

    account: Account
    currency: str
    needed: Decimal
    available: Decimal
    net_terms: bool
    barrier: str | None
    manual_product: str
    largest_free: Decimal
    credit_free: Decimal
    open_debt: Decimal

    @property
    def shortfall(self) -> Decimal:
        return max(self.needed - max(self.available, Decimal(0)), Decimal(0))

    def _raise_credit(self, *, own: bool) -> str:
        """How the credit account raises its available credit by the shortfall: paying documents
        with its free credit balance, paying what it owes, or (when even all its debt is less
        than the shortfall) a higher credit limit from its issuer."""
        cur, short = self.currency, money(self.shortfall, self.currency)
        whose = "your" if own else f"{self.account.name}'s"
        issuer = self.account.issuer.name if self.account.issuer_id else "the provider"
        with_credit = min(self.credit_free, self.open_debt)
        if with_credit >= self.shortfall:
            return (
                f"pay documents with {whose} credit balance: it raises available credit by up "
                f"to {money(with_credit, cur)}, and {short} more is needed"
            )
        if self.open_debt >= self.shortfall:
            text = f"pay {issuer} at least {short} of the {money(self.open_debt, cur)} owed"
            if with_credit > 0:
                text += (
                    f" (paying documents with {whose} credit balance counts: it covers "
                    f"{money(with_credit, cur)})"
                )
            return text + ", which raises available credit by as much"
        text = f"ask {issuer} for a credit limit at least {short} higher"
        if self.open_debt > 0:
            less = money(self.shortfall - self.open_debt, cur)
            text += (
                f" ({less} higher once {whose} open debt, {money(self.open_debt, cur)}, is paid)"
            )
        return text

    def advice(self, *, own: bool) -> str:
        """The rule and what would work, in sentences for the credit side (`own`: the credit
        account's user reads "you"; provider staff read its name)."""
        cur = self.currency
        name = self.account.name
        whose = "your" if own else f"{name}'s"
        parts = []
        if self.net_terms:
            parts.append(
                f"It needs {money(self.needed, cur)} of available credit (its total cost for the "
                f"first billing period, before tax); {whose} available credit is "
                f"{money(self.available, cur)}."
            )
        else:
            parts.append(
                f"{'You are' if own else f'{name} is'} a prepaid account: every order must be "
                f"covered by one payment of at least its total cost, {money(self.needed, cur)}."
            )
        if self.barrier == NO_PREPAY_DISABLED:
            parts.append(
                "It cannot be prepaid instead: with daily invoicing "
                f"{Account.DailyInvoicing.DISABLED.label}, no order is prepaid and every order "
                "needs available credit."
            )
        elif self.barrier == NO_PREPAY_OWN_PURCHASE:
            parts.append(
                "It cannot be prepaid instead: under daily invoicing "
                f"{Account.DailyInvoicing.PREPAID_ONLY.label}, a reseller's own purchases need "
                "available credit; only its customers' orders can be prepaid."
            )
        elif self.barrier == NO_PREPAY_MANUAL:
            parts.append(
                f"It cannot be prepaid instead: {self.manual_product} is executed by hand by the "
                "distributor, and such an order needs available credit."
            )
        else:
            rule = "A prepaid order must be covered by one payment on its own"
            if self.net_terms:
                rule = "Without that credit it goes through only prepaid, and a prepaid order must "
                rule += "be covered by one payment on its own"
            rule += " (payments are not added together)"
            if self.largest_free > 0:
                parts.append(
                    f"{rule}: the most any one of {whose} unapplied payments has free is "
                    f"{money(self.largest_free, cur)}."
                )
            else:
                parts.append(f"{rule}: {whose} unapplied payments have nothing free for it.")
        works = []
        if self.barrier is None:
            if not self.net_terms and self.open_debt > 0:  # a top-up pays the open debt first
                works.append(
                    f"top up {money(self.needed + self.open_debt, cur)} or more in one payment "
                    f"(a top-up first pays the open debt, {money(self.open_debt, cur)})"
                )
            else:
                works.append(f"top up {money(self.needed, cur)} or more in one payment")
        if self.net_terms:
            works.append(self._raise_credit(own=own))
        if works:
            parts.append(
                f"What would work: {'; or '.join(works)}; then accept the order again. Or cancel "
                "it."
            )
        else:
            issuer = self.account.issuer.name if self.account.issuer_id else "the provider"
            parts.append(
                f"Only credit terms, which {issuer} grants, would let it through: cancel it."
            )
        return " ".join(parts)


def unexecuted_advice(*, order: Order, own: bool) -> str:
    """What would let an order unexecuted for credit through, for the credit side: for one held
    by its account's credit hold, paying what is overdue; otherwise the credit rule's figures."""
    if order.status_message == CREDIT_HOLD:
        return "Once the hold is lifted, accept the order again. Or cancel it."
    return credit_shortfall(order=order).advice(own=own)


def credit_shortfall(*, order: Order) -> CreditShortfall:
    """The figures of `order`'s refusal for lack of credit, as they stand now (a few queries:
    the credit account's financials, its unapplied payments, what is set aside)."""
    account = order.credit_account
    fin = account_financials(account=account)
    manual = next(
        (item.product.name for item in order.items.all() if not item.product.auto_executed), ""
    )
    barrier = prepay_barrier(order, manual_products=bool(manual))
    payments = list(
        Document.objects.filter(
            recipient_id=account.pk,
            issuer_id=account.issuer_id,
            doc_type=DocumentType.PAYMENT,
            open_amount__gt=0,
        )
        .live()
        .values_list("pk", "open_amount")
    )
    set_aside = allocated_amounts(pk for pk, _ in payments)
    largest = max(
        (left - set_aside.get(pk, Decimal(0)) for pk, left in payments), default=Decimal(0)
    )
    held = sum(set_aside.values(), Decimal(0))
    net_terms = account.credit_terms == Account.CreditTerms.NET_TERMS
    return CreditShortfall(
        account=account,
        currency=order.currency,
        needed=order.total_cost,
        available=fin.available_credit if net_terms else Decimal(0),
        net_terms=net_terms,
        barrier=barrier,
        manual_product=manual,
        largest_free=max(largest, Decimal(0)),
        credit_free=max(fin.credit_balance - held, Decimal(0)),
        open_debt=fin.open_debt,
    )


# --- orders waiting for a payment --------------------------------------------------------------


def orders_pending_payment(*, reseller: Account) -> QuerySet[Order]:
    """Orders on `reseller`'s credit left *Pending* by the active-token check or the card charge
    (seed 004: no usable token, a declined card, a gateway error): waiting for a card that can
    be charged, then *Accept order* again. Sub-orders too: the auto-executed part of a split
    order is the one charged."""
    return Order.objects.filter(credit_account=reseller, status=OrderStatus.PENDING).select_related(
        "customer", "parent"
    )

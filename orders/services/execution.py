"""Step 4 of the validation chain, execution: an order's subscriptions created (or its trials
converted), what each item is charged now, the charges recorded against the reservation, a
parent order completed with its sub-orders."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import ledger
from billing.models import PaymentAllocation
from billing.money import ZERO
from billing.periods import cycle_on_or_after, nth_period
from billing.pricing import prorated_note
from orders import notifications
from orders.models import (
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Subscription,
    SubscriptionStatus,
)
from orders.selectors import stub_charge
from orders.services.common import _is_conversion, _lock, _may_prepay, _require_status
from orders.workflow import order_move
from orders.workflow import subscription_move as _move
from resellers.models import User
from resellers.prepared import PreparedInsert
from resellers.services import audit_record

# Every order inserts these: the statements are built once (resellers.prepared).
ORDERS_INSERT = PreparedInsert(Order)
ITEMS_INSERT = PreparedInsert(OrderItem)
SUBSCRIPTIONS_INSERT = PreparedInsert(Subscription)


@transaction.atomic
def _execute(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """Step 4: create the subscriptions, record the charges, consume the reservation."""
    order = _lock(order)
    _require_status(
        order, [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED_TO_DISTRIBUTOR], "executed"
    )
    now = timezone.now()
    items = list(order.items.select_related("product"))
    if _is_conversion(order):
        charged = _convert(order=order, items=items)
    else:
        charged = _deliver(order=order, items=items, today=today)
    _record_charges(order=order, charged=charged, acting_user=acting_user, today=today)
    order_move(order, OrderStatus.COMPLETED)
    order.completed_at = now
    order.save(update_fields=["status", "completed_at"])
    audit_record(actor=acting_user, action="order.execute", obj=order, account=order.credit_account)
    if order.parent_id is not None:
        _refresh_parent(order.parent_id)
    notifications.order_completed(order=order)
    return order


@dataclasses.dataclass(frozen=True)
class ItemCharge:
    """What an executed item is charged now: its first period (or the days up to its holder's
    next cycle date), or a one-time fee."""

    item: OrderItem
    cost: Decimal
    amount: Decimal
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    note: str = ""


def _first_period_charge(
    *,
    item: OrderItem,
    anchor: datetime.date,
    billing_period: str,
    starts: datetime.date,
    currency: str,
) -> ItemCharge:
    """What a subscription starting (or leaving its trial) on `starts` is charged first, in
    advance: its first whole period when `starts` is its holder's cycle date `anchor`, else the
    days up to `anchor`, prorated by the one rule (billing.periods). `item.total_cost` and
    `total_amount` are a whole period's."""
    if anchor == starts:
        first = nth_period(anchor=anchor, billing_period=billing_period, index=0)
        return ItemCharge(item, item.total_cost, item.total_amount, starts, first.end)
    stub = nth_period(anchor=anchor, billing_period=billing_period, index=-1)

    def part(amount: Decimal) -> Decimal:
        return stub_charge(
            amount=amount, start=starts, end=anchor, billing_period=billing_period,
            currency=currency,
        )  # fmt: skip

    note = f" ({prorated_note(period=stub, start=starts, end=anchor)})"
    return ItemCharge(item, part(item.total_cost), part(item.total_amount), starts, anchor, note)


def _charged_now(item: OrderItem) -> bool:
    """Recurring fees are billed in advance and one-time fees at once; usage is billed in arrears
    and trials start free: neither is charged when the order executes."""
    product = item.product
    if product.billing_type == Product.BillingType.USAGE:
        return False
    return not product.trial_days


def _deliver(
    *, order: Order, items: list[OrderItem], today: datetime.date, insert_items: bool = False
) -> list[ItemCharge]:
    """Create the items' subscriptions (one statement), mark the items delivered (one statement:
    inserted so, when `insert_items`, else updated) and return what is charged now, item by item.

    Subscriptions co-term with their holder's billing cycle (billing.periods): one that starts on
    a cycle date is charged its first whole period now; one that starts between cycle dates is
    charged the days up to the next one, prorated by the one rule, and renews with the account
    from there. Trials start charging at their end, usage is billed in arrears (billing.runs)."""
    holder = order.customer if order.customer_id else order.credit_account
    cycle_anchor = holder.billing_anchor or ledger.billing_cycles_start(
        account_ids=[holder.pk], day=today
    ).get(holder.pk)
    subscriptions = []
    charged: list[ItemCharge] = []
    for item in items:
        product = item.product
        item.delivery_status = DeliveryStatus.DELIVERED
        if product.billing_type == Product.BillingType.ONE_TIME:
            if _charged_now(item):
                charged.append(ItemCharge(item, item.total_cost, item.total_amount))
            continue
        period = product.billing_period
        trial_end = (
            today + datetime.timedelta(days=product.trial_days) if product.trial_days else None
        )
        starts = trial_end or today
        anchor = cycle_on_or_after(anchor=cycle_anchor, day=starts)
        if trial_end:  # the run starts charging it at the trial's end
            billed_through = next_date = trial_end
        elif product.billing_type == Product.BillingType.USAGE:  # in arrears, from today
            billed_through, next_date = today, anchor
            if anchor == today:
                next_date = nth_period(anchor=anchor, billing_period=period, index=0).end
        else:
            first = _first_period_charge(
                item=item, anchor=anchor, billing_period=period, starts=today,
                currency=order.currency,
            )  # fmt: skip
            billed_through = next_date = first.period_end
            charged.append(first)
        item.subscription = Subscription(
            account_id=holder.pk,
            credit_account_id=order.credit_account_id,
            product=product,
            order=order,
            quantity=item.quantity,
            status=SubscriptionStatus.TRIAL if trial_end else SubscriptionStatus.ACTIVE,
            billing_period=period,
            unit_cost=item.unit_cost,
            unit_price=item.unit_price,
            currency=order.currency,
            start_date=today,
            trial_end_date=trial_end,
            billing_anchor=anchor,
            billed_through=billed_through,
            next_billing_date=next_date,
        )
        subscriptions.append(item.subscription)
    SUBSCRIPTIONS_INSERT.insert(subscriptions)
    if insert_items:
        for item in items:
            item.order = order
        ITEMS_INSERT.insert(items)
    else:
        OrderItem.objects.bulk_update(items, ["subscription", "delivery_status"])
    return charged


def _convert(*, order: Order, items: list[OrderItem]) -> list[ItemCharge]:
    """Execute a conversion order: each trial subscription becomes active, charged its first
    period from the trial's end (_first_period_charge, as _deliver charges a new one)."""
    charged: list[ItemCharge] = []
    for item in items:
        sub = Subscription.objects.select_for_update().get(pk=item.subscription_id)
        item.delivery_status = DeliveryStatus.DELIVERED
        item.save(update_fields=["delivery_status"])
        if sub.status != SubscriptionStatus.TRIAL:
            continue
        starts = sub.trial_end_date or sub.start_date
        anchor = sub.billing_anchor or starts
        first = _first_period_charge(
            item=item,
            anchor=anchor,
            billing_period=sub.billing_period,
            starts=starts,
            currency=order.currency,
        )
        _move(sub, SubscriptionStatus.ACTIVE)
        sub.billed_through = sub.next_billing_date = first.period_end
        sub.save(update_fields=["status", "billed_through", "next_billing_date"])
        item.subscription = sub
        charged.append(first)
    return charged


def _charges(
    order: Order, charged: Sequence[ItemCharge], today: datetime.date
) -> tuple[list[ledger.TransactionSpec], list[ledger.TransactionSpec]]:
    """What an executed order leaves to invoice, one charge per item: the credit account's at
    cost and, for a resale customer, the customer's at its amount. Each names its product,
    quantity, unit price and period, so the invoice reads as what was bought for when."""
    ref = f"order:{order.pk}"
    resale = order.customer_id and order.customer_id != order.credit_account_id
    own: list[ledger.TransactionSpec] = []
    customers: list[ledger.TransactionSpec] = []
    for c in charged:
        item = c.item
        label = f"{item.product.name}{c.note} (order {order.display_number})"
        common = {
            "charge_date": today,
            "subscription_id": item.subscription.pk if item.subscription else None,
            "order_item_id": item.pk,
            "quantity": Decimal(item.quantity),
            "period_start": c.period_start,
            "period_end": c.period_end,
            "tax_category": item.product.tax_category,
        }
        if c.cost > 0:
            upstream = f"{label} for {order.customer.name}" if resale else label
            own.append(
                ledger.TransactionSpec(
                    order.credit_account,
                    c.cost,
                    upstream,
                    ref,
                    unit_price=item.unit_cost,
                    **common,
                )
            )
        if resale and c.amount > 0:
            customers.append(
                ledger.TransactionSpec(
                    order.customer, c.amount, label, ref, unit_price=item.unit_price, **common
                )
            )
    return own, customers


def _record_charges(
    *, order: Order, charged: Sequence[ItemCharge], acting_user, today: datetime.date
) -> None:
    """The multi-step chain's charges: the credit account's consume the order's reservation."""
    own, customers = _charges(order, charged, today)
    reservation = order.reservation
    if own:
        rows = ledger.reseller_transactions_add(
            charges=own, acting_user=acting_user, reservation=reservation
        )
        total = sum((row.amount for row in rows), ZERO)
        if order.payment_id is not None and _may_prepay(order):  # paid by its card charge
            _allocate_card_charge(order=order, amount=total, acting_user=acting_user)
        ledger.prepayment_attach(order_id=order.pk, charges=rows, charged=total)
    else:
        ledger.prepayment_release(order_id=order.pk, acting_user=acting_user)
        if reservation is not None:
            ledger.credit_reservation_release(reservation=reservation, acting_user=acting_user)
    ledger.reseller_transactions_add(charges=customers, acting_user=acting_user)


def _allocate_card_charge(*, order: Order, amount: Decimal, acting_user) -> None:
    """A card charge made for an order prepays it: the payment is set aside for the order's
    charge, which the daily invoicing run then invoices and settles with it."""
    if PaymentAllocation.objects.filter(order_id=order.pk).exclude(status="released").exists():
        return
    payment = order.payment
    if payment is not None and payment.open_amount >= amount > 0:
        ledger.prepayment_allocate(
            payment=payment, order_id=order.pk, amount=amount, acting_user=acting_user
        )


def _refresh_parent(parent_id: int) -> None:
    """A parent order completes when every sub-order is executed; it stays submitted until then."""
    parent = Order.objects.select_for_update().get(pk=parent_id)
    was = parent.status
    statuses = set(parent.sub_orders.values_list("status", flat=True))
    if statuses == {OrderStatus.COMPLETED}:
        parent.status = OrderStatus.COMPLETED
        parent.completed_at = timezone.now()
    elif statuses == {OrderStatus.CANCELLED}:
        parent.status = OrderStatus.CANCELLED
        parent.cancelled_at = timezone.now()
    elif statuses <= {OrderStatus.COMPLETED, OrderStatus.CANCELLED}:
        parent.status = OrderStatus.COMPLETED
        parent.completed_at = timezone.now()
        cancelled = parent.sub_orders.filter(status=OrderStatus.CANCELLED)
        parent.status_message = "Partly cancelled: " + ", ".join(
            child.display_number for child in cancelled
        )
    else:
        parent.status = OrderStatus.SUBMITTED
    parent.save(update_fields=["status", "completed_at", "cancelled_at", "status_message"])
    if parent.status == OrderStatus.COMPLETED and was != OrderStatus.COMPLETED:
        notifications.order_completed_webhook(order=parent)

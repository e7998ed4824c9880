"""Changing subscriptions: cancellation and change-quantity orders, suspending and resuming."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import ledger
from billing.money import ZERO, line_total
from billing.periods import Period, nth_period, period_containing
from billing.pricing import Side, charge_sides, period_charge
from orders import notifications
from orders.models import (
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderType,
    Product,
    Subscription,
    SubscriptionStatus,
)
from orders.quantities import check_quantity
from orders.workflow import subscription_action_check, subscription_move
from resellers.exceptions import ApplicationError
from resellers.models import User
from resellers.services import audit_record

CHANGE_INSUFFICIENT_CREDIT = (
    "There is not enough available credit for this quantity: pay off some debt or top up first."
)


def subscription_cancel_ends_now(*, status: str) -> bool:
    """Whether a (plain) cancellation ends a subscription in `status` today: a trial or a
    suspended one has no billed period to run to; a paid one runs to the end of the period
    already billed (*pending cancellation*). The panel's confirmation page says the same."""
    return status in (SubscriptionStatus.TRIAL, SubscriptionStatus.SUSPENDED)


@transaction.atomic
def subscription_cancel(
    *,
    subscription: Subscription,
    acting_user: User | None,
    today: datetime.date,
    immediately: bool = False,
) -> Order:
    """Cancel through a cancellation order. A trial ends at once (nothing was charged); a paid
    subscription runs to the end of the period already billed: *Pending cancellation* until its
    next billing date, when the billing run closes it instead of billing it.

    `immediately` (provider staff only) ends a paid subscription today. When the credit account's
    class refunds on cancel (CustomerClass.refund_on_cancel; off by default, a no-refund policy)
    it gives back the unused days of the period already billed, prorated by the one rule
    (billing.periods): a credit memo to the holder at its price and, for a resale customer's
    subscription, one to its reseller at cost. Under the no-refund policy nothing is given back;
    a correcting order is the exception (seed 001 §4)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription_action_check(
        user=acting_user,
        subscription=subscription,
        action="cancel_immediately" if immediately else "cancel",
    )
    was = subscription.status
    ends_now = immediately or subscription_cancel_ends_now(status=was)
    if immediately:
        subscription_move(subscription, SubscriptionStatus.CANCELLED)
    else:
        subscription_move(
            subscription,
            SubscriptionStatus.CANCELLED if ends_now else SubscriptionStatus.PENDING_CANCELLATION,
        )
    if ends_now:
        subscription.cancelled_at = timezone.now()
    refund = (
        immediately
        and subscription.credit_account.customer_class.refund_on_cancel
        and was in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING_CANCELLATION)
        and subscription.product.billing_type != Product.BillingType.USAGE
        and subscription.billed_through is not None
        and subscription.billed_through > today
    )
    if refund:
        _refund_unused_days(subscription=subscription, today=today, acting_user=acting_user)
        subscription.billed_through = today
    if ends_now:
        subscription.next_billing_date = None
    subscription.save(
        update_fields=["status", "cancelled_at", "billed_through", "next_billing_date"]
    )
    now = timezone.now()
    order = Order.objects.create(
        order_type=OrderType.CANCELLATION,
        status=OrderStatus.COMPLETED,
        credit_account=subscription.credit_account,
        customer=subscription.account if subscription.account.is_customer else None,
        currency=subscription.currency,
        placed_by=acting_user if acting_user is not None and acting_user.pk else None,
        submitted_at=now,
        completed_at=now,
    )
    OrderItem.objects.create(
        order=order,
        product=subscription.product,
        quantity=subscription.quantity,
        unit_cost=subscription.unit_cost,
        unit_price=subscription.unit_price,
        total_cost=ZERO,
        total_amount=ZERO,
        delivery_status=DeliveryStatus.DELIVERED,
        subscription=subscription,
    )
    audit_record(
        actor=acting_user,
        action="subscription.cancel",
        obj=subscription,
        account=subscription.account,
        details={"status": subscription.status, "order": order.pk, "on": str(today)},
    )
    notifications.order_completed_webhook(order=order)
    return order


def _billed_period(subscription: Subscription, today: datetime.date) -> Period:
    """The period already billed that `today` falls in: the cycle containing it, or the stub
    before the holder's cycle date when the subscription started between two."""
    anchor = subscription.billing_anchor or subscription.start_date
    period = period_containing(anchor=anchor, billing_period=subscription.billing_period, day=today)
    if subscription.billed_through != period.end:  # the stub before the anchor
        period = nth_period(anchor=anchor, billing_period=subscription.billing_period, index=-1)
    return period


def _sides(subscription: Subscription) -> list[Side]:
    return charge_sides(
        holder_id=subscription.account_id,
        credit_account_id=subscription.credit_account_id,
        unit_price=subscription.unit_price,
        unit_cost=subscription.unit_cost,
    )


def _refund_unused_days(
    *, subscription: Subscription, today: datetime.date, acting_user: User | None
) -> None:
    """Credit memos for the days from `today` to the end of the period already billed, to each
    side at the unit price it was charged (billing.pricing)."""
    period = _billed_period(subscription, today)
    end = subscription.billed_through
    holder, credit_account = subscription.account, subscription.credit_account
    days = f"{(end - today).days} of {period.days} days"
    for side in _sides(subscription):
        recipient = holder if side.is_holder else credit_account
        amount = period_charge(
            quantity=subscription.quantity, unit_price=side.unit_price, period=period,
            start=today, end=end, currency=subscription.currency,
        )  # fmt: skip
        if amount <= 0:
            continue
        memo = ledger.document_create(
            doc_type="credit_memo",
            issuer=recipient.issuer,
            recipient=recipient,
            lines=[
                ledger.LineSpec(
                    description=f"{subscription.product.name} x {subscription.quantity}: unused "
                    f"days refunded ({days})",
                    unit_price=amount,
                    period_start_date=today,
                    period_end_date=end,
                )
            ],
            acting_user=acting_user,
            reference=f"subscription:{subscription.pk}:cancel",
        )
        ledger.document_issue(document=memo, issue_date=today, acting_user=acting_user)


@transaction.atomic
def subscription_suspend(
    *, subscription: Subscription, acting_user: User | None, reason: str = ""
) -> Subscription:
    """Suspend (credit hold, seed 001 §3). Provider staff or a scheduled job only."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription_action_check(user=acting_user, subscription=subscription, action="suspend")
    subscription_move(subscription, SubscriptionStatus.SUSPENDED)
    subscription.save(update_fields=["status"])
    audit_record(
        actor=acting_user,
        action="subscription.suspend",
        obj=subscription,
        account=subscription.account,
        details={"reason": reason},
    )
    return subscription


@transaction.atomic
def subscription_resume(*, subscription: Subscription, acting_user: User | None) -> Subscription:
    """Reactivate a suspended subscription, or withdraw a pending cancellation. The catch-up of a
    suspended one's missed periods is billing's: callers reactivate through
    billing.runs.subscription_reactivate, which calls this and bills it in one transaction."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    withdraw = subscription.status == SubscriptionStatus.PENDING_CANCELLATION
    subscription_action_check(
        user=acting_user,
        subscription=subscription,
        action="withdraw_cancellation" if withdraw else "reactivate",
    )
    subscription_move(subscription, SubscriptionStatus.ACTIVE)
    subscription.save(update_fields=["status"])
    audit_record(
        actor=acting_user, action="subscription.resume", obj=subscription,
        account=subscription.account,
    )  # fmt: skip
    return subscription


@transaction.atomic
def subscription_change_quantity(
    *, subscription: Subscription, quantity: int, acting_user: User | None, today: datetime.date
) -> Order:
    """Change a subscription's quantity through a change order (DESIGN.md "Orders").

    An increase takes effect today: the added units are charged at once for the rest of the
    period already billed, prorated by days (billing.periods), to the holder at its price and to
    its reseller at cost, and the reseller's available credit must cover the cost (checked under
    its lock). A decrease takes effect on the next billing date, when the smaller quantity renews:
    days already billed are not refunded, as cloud programmes do (a correcting order is the way to
    refund). Trials and usage subscriptions change at once, with nothing to charge."""
    check_quantity(quantity)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription_action_check(user=acting_user, subscription=subscription, action="change_quantity")
    current = subscription.renewal_quantity or subscription.quantity
    if quantity == current:
        raise ApplicationError(f"The quantity is already {quantity}.", field="quantity")
    product = subscription.product
    delta = quantity - subscription.quantity
    holder = subscription.account
    credit_account = subscription.credit_account
    now = timezone.now()
    order = Order(
        order_type=OrderType.CHANGE,
        status=OrderStatus.COMPLETED,
        credit_account=credit_account,
        customer=holder if holder.is_customer else None,
        currency=subscription.currency,
        placed_by=acting_user if acting_user is not None and acting_user.pk else None,
        submitted_at=now,
        completed_at=now,
    )
    charges: list[ledger.TransactionSpec] = []
    paid_now = (
        delta > 0
        and subscription.status == SubscriptionStatus.ACTIVE
        and product.billing_type != Product.BillingType.USAGE
        and subscription.billed_through is not None
        and subscription.billed_through > today
    )
    if paid_now:
        period = _billed_period(subscription, today)
        days = f"prorated: {(subscription.billed_through - today).days} of {period.days} days"
        buys_itself = holder.pk == credit_account.pk
        amounts = {
            side.is_holder: period_charge(
                quantity=delta,
                unit_price=side.unit_price,
                period=period,
                start=today,
                end=subscription.billed_through,
                currency=order.currency,
            )
            for side in _sides(subscription)
        }
        order.total_amount = amounts[True]
        order.total_cost = amounts[False] if not buys_itself else order.total_amount
        ledger.credit_check(
            account=credit_account,
            amount=order.total_cost,
            also_lock=[] if buys_itself else [holder],
            field="quantity",
            message=CHANGE_INSUFFICIENT_CREDIT,
        )
        label = f"{product.name} +{delta} ({days})"
        common = {
            "kind": "adjustment",
            "subscription_id": subscription.pk,
            "quantity": Decimal(delta),
            "period_start": today,
            "period_end": subscription.billed_through,
            "charge_date": today,
            "tax_category": product.tax_category,
        }
        charges.append(
            ledger.TransactionSpec(
                credit_account,
                order.total_cost,
                label if buys_itself else f"{label} for {holder.name}",
                "",
                unit_price=subscription.unit_cost,
                **common,
            )
        )
        if not buys_itself:
            charges.append(
                ledger.TransactionSpec(
                    holder,
                    order.total_amount,
                    label,
                    "",
                    unit_price=subscription.unit_price,
                    **common,
                )
            )
    elif delta > 0 and subscription.status == SubscriptionStatus.TRIAL:
        # Nothing is charged during the trial, but its conversion bills the whole quantity: the
        # added units must fit the credit now, as a new order of them would (seed 004).
        added = line_total(
            quantity=Decimal(delta), unit_price=subscription.unit_cost, currency=order.currency
        )
        ledger.credit_check(
            account=credit_account,
            amount=added,
            field="quantity",
            message=CHANGE_INSUFFICIENT_CREDIT,
        )
    order.save()
    OrderItem.objects.create(
        order=order,
        product=product,
        quantity=abs(delta) or 1,
        unit_cost=subscription.unit_cost,
        unit_price=subscription.unit_price,
        total_cost=order.total_cost,
        total_amount=order.total_amount,
        delivery_status=DeliveryStatus.DELIVERED,
        subscription=subscription,
    )
    if (
        delta > 0
        or subscription.status == SubscriptionStatus.TRIAL
        or (product.billing_type == Product.BillingType.USAGE)
    ):
        subscription.quantity, subscription.renewal_quantity = quantity, None
    else:
        subscription.renewal_quantity = quantity
    subscription.save(update_fields=["quantity", "renewal_quantity"])
    reference = f"order:{order.pk}"
    charges = [dataclasses.replace(c, reference=reference) for c in charges]
    ledger.reseller_transactions_add(
        charges=charges,
        acting_user=acting_user,
        locked=True,
        also_audit=[
            (
                "subscription.change_quantity",
                subscription,
                holder.pk,
                {"from": current, "to": quantity, "order": order.pk, "on": str(today)},
            )
        ],
    )
    notifications.order_completed_webhook(order=order)
    return order

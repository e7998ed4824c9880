"""Trial conversion: a trial that ended becomes paid through a conversion order that passes the
validation chain; a cancelled conversion order ends its trials."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.money import line_total
from billing.pricing import charge_sides
from orders.models import Order, OrderItem, OrderStatus, OrderType, Subscription, SubscriptionStatus
from orders.services.validation import _validate
from orders.workflow import subscription_move
from resellers.models import User
from resellers.services import audit_record

TRIAL_CONVERSION_NOTE = "Trial conversion"


def trials_convert_due(
    *,
    run_date: datetime.date,
    account_ids: Sequence[int] | None = None,
    acting_user: User | None = None,
) -> list[Order]:
    """Convert every trial that ended by `run_date` (of `account_ids`' holders, when given), each
    through its own conversion order (trial_convert). The billing-date run calls this first."""
    due = Subscription.objects.filter(
        status=SubscriptionStatus.TRIAL, next_billing_date__lte=run_date
    )
    if account_ids is not None:
        due = due.filter(account_id__in=account_ids)
    orders = []
    for pk in due.order_by("pk").values_list("pk", flat=True):
        order = trial_convert(subscription_id=pk, acting_user=acting_user, today=run_date)
        if order is not None:
            orders.append(order)
    return orders


def trial_convert(
    *, subscription_id: int, acting_user: User | None, today: datetime.date
) -> Order | None:
    """A trial that ended becomes paid through a conversion order (a renewal) that passes seed
    004's validation chain like a new order of the same quantity: the credit check and
    reservation, then the card token and charge. Executed, the subscription is active and its
    first paid period, from the trial's end, is charged (the same first-period rule as a new
    subscription). Without enough credit the order is *Unexecuted due to Insufficient Credit*
    (the reseller is notified and may accept it after paying or topping up, or cancel it, which
    ends the subscription); until then the subscription stays in its trial, and the billing run
    leaves it alone (no next billing date). None when there is nothing to convert (already
    converted or waiting for its order): safe to call twice, or from two runs at once."""
    with transaction.atomic():
        sub = (
            Subscription.objects.select_for_update()
            .select_related("product", "account")
            .get(pk=subscription_id)
        )
        if sub.status != SubscriptionStatus.TRIAL or sub.next_billing_date is None:
            return None
        if sub.next_billing_date > today:
            return None
        currency = sub.currency
        holder = sub.account
        quantity = Decimal(sub.quantity)
        whole = {  # a whole period, to each side (billing.pricing)
            side.is_holder: line_total(
                quantity=quantity, unit_price=side.unit_price, currency=currency
            )
            for side in charge_sides(
                holder_id=holder.pk,
                credit_account_id=sub.credit_account_id,
                unit_price=sub.unit_price,
                unit_cost=sub.unit_cost,
            )
        }
        amount = whole[True]
        cost = whole.get(False, amount)
        now = timezone.now()
        order = Order.objects.create(
            order_type=OrderType.RENEWAL,
            status=OrderStatus.SUBMITTED,
            credit_account_id=sub.credit_account_id,
            customer=holder if holder.is_customer else None,
            currency=currency,
            submitted_at=now,
            total_cost=cost,
            total_amount=amount,
            notes=f"{TRIAL_CONVERSION_NOTE}: {sub.product.name} (subscription {sub.pk}), "
            f"trial ended {sub.trial_end_date or sub.next_billing_date:%Y-%m-%d}.",
        )
        OrderItem.objects.create(
            order=order,
            product=sub.product,
            quantity=sub.quantity,
            unit_cost=sub.unit_cost,
            unit_price=sub.unit_price,
            total_cost=cost,
            total_amount=amount,
            subscription=sub,
        )
        sub.next_billing_date = None  # its conversion order decides from here
        sub.save(update_fields=["next_billing_date"])
        audit_record(
            actor=acting_user,
            action="subscription.trial_convert",
            obj=sub,
            account=holder,
            details={"order": order.pk, "on": str(today)},
        )
    return _validate(order=order, acting_user=acting_user, today=today)


def _end_unconverted(*, order: Order, acting_user: User | None) -> None:
    """A cancelled conversion order ends its trial subscriptions: nothing was charged."""
    for sub in Subscription.objects.select_for_update().filter(
        pk__in=order.items.values("subscription_id"), status=SubscriptionStatus.TRIAL
    ):
        subscription_move(sub, SubscriptionStatus.CANCELLED)
        sub.next_billing_date = None
        sub.save(update_fields=["status", "next_billing_date"])
        audit_record(
            actor=acting_user,
            action="subscription.cancel",
            obj=sub,
            account=sub.account,
            details={"reason": "trial conversion cancelled", "order": order.pk},
        )

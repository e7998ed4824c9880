"""Correcting reported usage (seed 001 §4, case 2): "An application reported a $30 USD usage,
while the actual usage was $25 USD. The respective billing order should be corrected."

Provider staff give a usage record its real value (money, or a quantity, as it was reported) with
a reason. The record is never edited: a new record `corrects` it, dated on its day and carrying
the difference; the day's usage is the original plus its corrections. Then, by how far the day has
gone through billing:
- not billed yet (the day is on or after the subscription's `billed_through`): nothing else; the
  billing run rates the corrected usage, so the corrected amount reaches the billing order;
- billed, with its charge not yet invoiced (a reseller's usage transaction waiting for its billing
  order): the charge is corrected in place by the difference, and reaches the billing order so;
- invoiced: a correcting order (type `correction`, correcting the order that created the
  subscription) whose detail `corrects_usage` the record issues a debit memo for more, for less a
  credit memo or, with the `refund` outcome, a refund to the card that paid the invoice.

Each side is settled on its own (the holder at its price; for a resale customer's subscription,
the reseller at cost), by the rule that rated the usage (billing.pricing.usage_charge) applied to
the period's records without and with the correction, so a correction never credits more than the
usage charged: the corrected value is never below zero. The subscription's row is locked first, as
the billing run and usage reporting lock it, so a correction and a run never cross.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.models import ResellerTransaction
from billing.money import ZERO, parse_amount
from billing.pricing import charge_sides, usage_charge
from orders import notifications
from orders.models import (
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderType,
    Subscription,
    UsageRecord,
)
from orders.services.corrections import OUTCOMES, SideResult, _in_place, correction_settle
from resellers.exceptions import ApplicationError
from resellers.models import User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff

USAGE = ResellerTransaction.Kind.USAGE
VALUES = ("quantity", "amount", "cost")


@dataclass
class UsageCorrection:
    """What a usage correction did: the correction record, the day's values before and after,
    the correcting order when something invoiced had to be corrected, and each side's result."""

    record: UsageRecord
    before: dict
    after: dict
    stage: str  # "not billed", "billed", "invoiced"
    order: Order | None = None
    sides: list[SideResult] = field(default_factory=list)

    @property
    def documents(self) -> list:
        return [doc for side in self.sides for doc in side.documents]


def _value(records: list[dict]) -> dict:
    """A day's usage: the sums of its records (money: amount, and cost defaulting to amount)."""
    if records[0]["quantity"] is not None:
        return {"quantity": sum((r["quantity"] for r in records), ZERO)}
    return {
        "amount": sum((r["amount"] for r in records), ZERO),
        "cost": sum((r["amount"] if r["cost"] is None else r["cost"] for r in records), ZERO),
    }


def _new_value(original: UsageRecord, now: dict, given: dict, currency: str) -> dict:
    """The corrected day's values, checked: the same kind as reported, never negative; a cost
    not given follows the amount when the original had none, else stays."""
    if original.quantity is not None:
        if given.get("amount") is not None or given.get("cost") is not None:
            raise ApplicationError("This usage was reported as a quantity.", field="amount")
        if given.get("quantity") is None:
            raise ApplicationError("Give the real quantity.", field="quantity")
        new = {"quantity": Decimal(given["quantity"])}
    else:
        if given.get("quantity") is not None:
            raise ApplicationError("This usage was reported as money.", field="quantity")
        if given.get("amount") is None and given.get("cost") is None:
            raise ApplicationError("Give the real amount (or cost).", field="amount")
        amount = now["amount"] if given.get("amount") is None else given["amount"]
        amount = parse_amount(amount, currency=currency, field="amount")
        if given.get("cost") is not None:
            cost = parse_amount(given["cost"], currency=currency, field="cost")
        elif original.cost is None:
            cost = amount
        else:
            cost = now["cost"]
        new = {"amount": amount, "cost": cost}
    for name, value in new.items():
        if value < 0:
            raise ApplicationError("Usage cannot be negative.", field=name)
    if new == now:
        raise ApplicationError("The usage already has these values.", field=next(iter(new)))
    return new


def _records(subscription: Subscription, start: datetime.date, end: datetime.date) -> list[dict]:
    return list(
        UsageRecord.objects.filter(
            subscription=subscription, usage_date__gte=start, usage_date__lt=end
        ).values("pk", *VALUES)
    )


def _correcting_order(subscription: Subscription, original: UsageRecord, after, reason, user):
    now = timezone.now()
    resale = subscription.account_id != subscription.credit_account_id
    order = Order.objects.create(
        order_type=OrderType.CORRECTION,
        status=OrderStatus.COMPLETED,
        corrects_id=subscription.order_id,
        credit_account=subscription.credit_account,
        customer=subscription.account if subscription.account.is_customer else None,
        currency=subscription.currency,
        placed_by=user if user is not None and user.pk else None,
        submitted_at=now,
        completed_at=now,
        notes=reason,
    )
    OrderItem.objects.create(
        order=order,
        product=subscription.product,
        quantity=1,
        unit_cost=after["cost"],
        unit_price=after["price"] if resale else after["cost"],
        total_cost=after["cost"],
        total_amount=after["price"] if resale else after["cost"],
        delivery_status=DeliveryStatus.DELIVERED,
        subscription=subscription,
        corrects_usage=original,
    )
    order.total_cost = after["cost"]
    order.total_amount = after["price"] if resale else after["cost"]
    order.save(update_fields=["total_cost", "total_amount"])
    notifications.order_completed_webhook(order=order)
    return order


def usage_correct(
    *,
    record: UsageRecord,
    reason: str,
    acting_user: User,
    today: datetime.date,
    quantity: Decimal | None = None,
    amount: Decimal | str | None = None,
    cost: Decimal | str | None = None,
    outcome: str = "credit_memo",
) -> UsageCorrection:
    """Correct a usage record (provider staff): see the module's docstring. Bad input raises
    ApplicationError naming the field (`record`, `quantity`, `amount`, `cost`, `outcome`,
    `reason`) and writes nothing; a refund the gateway declines or fails writes nothing."""
    require_provider_staff(acting_user, "correct usage")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the usage is corrected.", field="reason")
    if outcome not in OUTCOMES:
        raise ApplicationError("The outcome is credit_memo or refund.", field="outcome")
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("product", "account", "credit_account")
            .get(pk=record.subscription_id)
        )
        original = UsageRecord.objects.get(pk=record.pk)
        if original.corrects_id is not None:
            raise ApplicationError(
                "This is a correction: correct the record it corrects.", field="record"
            )
        day = [original, *original.corrections.all()]
        before = _value([{n: getattr(r, n) for n in VALUES} for r in day])
        given = {"quantity": quantity, "amount": amount, "cost": cost}
        after = _new_value(original, before, given, subscription.currency)
        diff = {name: after[name] - before[name] for name in after}
        correction = UsageRecord.objects.create(
            subscription=subscription,
            usage_date=original.usage_date,
            quantity=diff.get("quantity"),
            amount=diff.get("amount"),
            cost=diff.get("cost"),
            reference=f"{original.reference[:100]}~correction-{len(day)}",
            corrects=original,
            reason=reason,
        )
        billed = (
            subscription.billed_through is not None
            and original.usage_date < subscription.billed_through
        )
        result = UsageCorrection(correction, before, after, "not billed")
        if billed:
            _settle_billed(result, subscription, original, outcome, reason, acting_user, today)
        audit_record(
            actor=acting_user,
            action="subscription.usage_correct",
            obj=original,
            account_id=subscription.account_id,
            details={
                "reason": reason,
                "subscription": subscription.pk,
                "usage_date": str(original.usage_date),
                "reference": original.reference,
                "before": {k: str(v) for k, v in before.items()},
                "after": {k: str(v) for k, v in after.items()},
                "stage": result.stage,
                "order": result.order.pk if result.order else None,
                "sides": [
                    {
                        "account": s.account.pk,
                        "before": str(s.before),
                        "after": str(s.after),
                        "how": s.how,
                        "documents": [d.display_number for d in s.documents],
                    }
                    for s in result.sides
                ],
            },
        )
    return result


def _settle_billed(result, subscription, original, outcome, reason, acting_user, today):
    """The day was billed: each side's charge for its period, recomputed without and with the
    correction, is settled in place or by a correcting order's memo (or refund)."""
    sides = charge_sides(
        holder_id=subscription.account_id,
        credit_account_id=subscription.credit_account_id,
        unit_price=subscription.unit_price,
        unit_cost=subscription.unit_cost,
    )
    buys_itself = len(sides) == 1
    accounts = {subscription.account_id: subscription.account}
    accounts[subscription.credit_account_id] = subscription.credit_account
    txs = list(
        ResellerTransaction.objects.select_for_update(of=("self",))
        .filter(
            subscription=subscription,
            kind=USAGE,
            period_start_date__lte=original.usage_date,
            period_end_date__gt=original.usage_date,
        )
        .exclude(status=ResellerTransaction.Status.CANCELLED)
        .order_by("pk")
    )
    plans = []
    for side in sides:
        mine = [tx for tx in txs if tx.account_id == side.account_id]
        if mine and mine[0].unit_price is not None:  # the unit it was rated at
            side = replace(side, unit_price=mine[0].unit_price)
        if mine:
            start, end = mine[0].period_start_date, mine[0].period_end_date
        else:  # nothing was charged for the period: its bounds from a charge of the other side
            start = min((tx.period_start_date for tx in txs), default=original.usage_date)
            end = max((tx.period_end_date for tx in txs), default=original.usage_date)
            end = max(end, original.usage_date + datetime.timedelta(days=1))
        records = _records(subscription, start, end)
        without, with_it = (
            usage_charge(
                side=side, buys_itself=buys_itself, records=rows, currency=subscription.currency
            )
            for rows in ([r for r in records if r["pk"] != result.record.pk], records)
        )
        plans.append((side, mine, without, with_it))
    needs_order = any(
        after != before and _in_place(mine, before) is None for _, mine, before, after in plans
    )
    result.stage = "invoiced" if needs_order else "billed"
    if needs_order:
        totals = {
            ("cost" if not side.is_holder or buys_itself else "price"): after
            for side, _, _, after in plans
        }
        result.order = _correcting_order(subscription, original, totals, reason, acting_user)
    label = (
        f"Correction of {subscription.product.name} usage on {original.usage_date:%Y-%m-%d}"
        f" ({original.reference})"
    )
    for side, mine, before, after in plans:
        result.sides.append(
            correction_settle(
                correction=result.order,
                key=f"usage{result.record.pk}",
                label=label,
                tax_category=subscription.product.tax_category,
                account=accounts[side.account_id],
                txs=mine,
                before=before,
                after=after,
                outcome=outcome,
                reason=reason,
                acting_user=acting_user,
                today=today,
            )
        )

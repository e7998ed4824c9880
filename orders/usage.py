"""Usage reporting: what a provisioning platform or an application reports for a usage-billed
subscription, for the billing run to bill in arrears (billing.runs; DESIGN.md "Subscriptions and
billing runs", seed 001 §4).

A record is one day's usage, reported either as a quantity (rated at the subscription's unit price,
and unit cost upstream) or directly as money in the subscription's currency: `amount` is the
holder's charge and `cost` the credit account's (the amount when not given). `reference` is the
reporter's own id for the record, unique per subscription: reporting it again with the same body
returns the stored record and changes nothing, so a reporter may retry after a timeout; the same
reference with a different body is refused (UsageReferenceConflict), never silently overwritten.

Who: provider staff (who stand for the platform that reports usage) or a job (no user).

Dates: usage is accepted from the subscription's start up to `today` (the caller's clock, read at
the edge), and never for a day already billed (before `billed_through`: the run has invoiced that
period), nor for a day of a free trial. A cancelled subscription takes no more usage: the runs no
longer bill it.

The subscription's row is locked while the record is checked and written; the billing run locks
the same row before it reads the usage it bills, so a record either makes it into the run that
bills its day or is refused as already billed, never lost in between.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from billing.money import parse_amount
from orders.models import Product, Subscription, SubscriptionStatus, UsageRecord
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import User
from resellers.services import audit_record

ALREADY_BILLED = "This day is already billed: usage is accepted from {date} on."
REFERENCE_REUSED = (
    "Usage with reference {reference!r} was already reported for this subscription with a "
    "different date or value."
)


class UsageReferenceConflict(ApplicationError):
    """The reference was used before with a different body (the API answers 409)."""


def _same(stored: Decimal | None, given: Decimal | None) -> bool:
    return stored == given  # Decimal equality is by value: 12.5 == 12.5000


def _check_values(
    *, quantity: Decimal | None, amount: Decimal | None, cost: Decimal | None
) -> None:
    if (quantity is None) == (amount is None):
        raise ApplicationError(
            "Report usage either as a quantity or as an amount of money, not both.",
            field="quantity" if quantity is not None else "amount",
        )
    if cost is not None and amount is None:
        raise ApplicationError("A cost goes with an amount of money, not a quantity.", field="cost")
    for field, value in (("quantity", quantity), ("amount", amount), ("cost", cost)):
        if value is not None and value < 0:
            raise ApplicationError("Usage cannot be negative.", field=field)


def _check_date(
    *, subscription: Subscription, usage_date: datetime.date, today: datetime.date
) -> None:
    if usage_date > today:
        raise ApplicationError("Usage cannot be reported for a future day.", field="usage_date")
    if usage_date < subscription.start_date:
        raise ApplicationError(
            f"The subscription starts on {subscription.start_date:%Y-%m-%d}.", field="usage_date"
        )
    trial_end = subscription.trial_end_date
    if trial_end is not None and usage_date < trial_end:
        raise ApplicationError(
            f"This day is in the free trial, which ends on {trial_end:%Y-%m-%d}.",
            field="usage_date",
        )
    through = subscription.billed_through
    if through is not None and usage_date < through:
        raise ApplicationError(
            ALREADY_BILLED.format(date=f"{through:%Y-%m-%d}"), field="usage_date"
        )


@transaction.atomic
def usage_record(
    *,
    subscription: Subscription,
    usage_date: datetime.date,
    reference: str,
    quantity: Decimal | None = None,
    amount: Decimal | None = None,
    cost: Decimal | None = None,
    acting_user: User | None,
    today: datetime.date,
) -> tuple[UsageRecord, bool]:
    """Record one day's usage of a usage-billed subscription. Returns (record, created): with a
    reference already reported with the same body, the stored record and False."""
    if acting_user is not None and not acting_user.is_provider_staff:
        raise PermissionDenied("Only the provider reports usage.")
    if not reference:
        raise ApplicationError("Give the reporter's reference for this usage.", field="reference")
    _check_values(quantity=quantity, amount=amount, cost=cost)
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("product")
        .get(pk=subscription.pk)
    )
    for name, value in (("amount", amount), ("cost", cost)):
        if value is not None:  # the one money parser, now that the currency is known
            parse_amount(value, currency=subscription.currency, field=name)
    existing = UsageRecord.objects.filter(subscription=subscription, reference=reference).first()
    if existing is not None:
        same = (
            existing.usage_date == usage_date
            and _same(existing.quantity, quantity)
            and _same(existing.amount, amount)
            and _same(existing.cost, cost)
        )
        if not same:
            raise UsageReferenceConflict(
                REFERENCE_REUSED.format(reference=reference), field="reference"
            )
        return existing, False
    if subscription.product.billing_type != Product.BillingType.USAGE:
        raise ApplicationError(
            f"{subscription.product.name} is not billed by usage.", field="subscription"
        )
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise ApplicationError("The subscription is cancelled.", field="subscription")
    _check_date(subscription=subscription, usage_date=usage_date, today=today)
    record = UsageRecord.objects.create(
        subscription=subscription,
        usage_date=usage_date,
        quantity=quantity,
        amount=amount,
        cost=cost,
        reference=reference,
    )
    audit_record(
        actor=acting_user,
        action="subscription.usage",
        obj=record,
        account_id=subscription.account_id,
        details={
            "subscription": subscription.pk,
            "usage_date": str(usage_date),
            "reference": reference,
            **{
                name: str(value)
                for name, value in (("quantity", quantity), ("amount", amount), ("cost", cost))
                if value is not None
            },
        },
    )
    return record, True

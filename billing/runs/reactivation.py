"""Reactivating a subscription, with its catch-up billing, in one transaction.

Seed 001 §3: with *Bill for Subscriptions on Hold* off, the periods a suspended subscription
missed are billed as one catch-up invoice "when A is paid and the subscription reactivated". The
orders app reactivates (orders.services.subscription_resume) but cannot bill, which is the runs'
work above it; this is the one entry point the panel, the API and jobs call, so the catch-up is
billed by the service that causes it, inside its transaction: if billing fails, nothing is
reactivated and the caller hears why.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from billing.runs.orchestration import RunError, account_bill_now
from orders.models import Subscription, SubscriptionStatus
from orders.services import subscription_resume
from resellers.models import User


class CatchUpFailed(RunError):
    """The catch-up billing of a reactivation failed: nothing was reactivated."""


@transaction.atomic
def subscription_reactivate(
    *, subscription: Subscription, acting_user: User | None, today: datetime.date
) -> Subscription:
    """Reactivate a suspended subscription and bill its holder's catch-up at once (a one-account
    billing run, recorded with trigger `reactivation`); or withdraw a pending cancellation, which
    bills nothing. Who may, and from which status, is orders.workflow's table."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    was_suspended = locked.status == SubscriptionStatus.SUSPENDED
    subscription = subscription_resume(subscription=locked, acting_user=acting_user)
    if not was_suspended:
        return subscription
    run = account_bill_now(account=subscription.account, today=today, acting_user=acting_user)
    if run is not None and run.failures_count:
        reasons = "; ".join(run.failures.values_list("reason", flat=True))
        raise CatchUpFailed(
            f"{subscription.product.name} was not reactivated: billing the periods it missed "
            f"failed ({reasons}). Nothing was changed; try again once that is fixed."
        )
    return subscription

"""On hold (seed 001 §3): which charges of suspended subscriptions an invoice carries.

Suspended subscriptions are rated like active ones, so the charges are the same either way ("the
new setting does not affect the charge calculation logic"); what the setting decides is when they
are invoiced, and each charge's recipient's customer class decides for it. On: on its own
billing date, like any charge. Off: a suspended subscription's charges wait; once it is
reactivated (or ends), the next invoice carries every missed period, one line each (the resume
bills the holder's catch-up at once). For a reseller with a suspended subscription of its own,
due or not, off also holds its whole invoice (its customers' consumption included) until then.
"""

from __future__ import annotations

from billing.runs.plans import Charge
from orders.models import Subscription, SubscriptionStatus
from resellers.models import Account


def _eligible(charge: Charge, account: dict, run_date) -> bool:
    """Due by `run_date`; a suspended subscription's charge only for a recipient whose customer
    class bills on hold (else it waits for the catch-up, once the subscription is reactivated)."""
    if charge.suspended and not account["on_hold"]:
        return False
    return charge.charge_date is None or charge.charge_date <= run_date


def _suspended_own(accounts: dict[int, dict]) -> set[int]:
    """Resellers, among `accounts`, whose class does not bill on hold and that hold a suspended
    subscription of their own, due or not: their whole billing order waits for the catch-up."""
    held = [
        pk
        for pk, row in accounts.items()
        if row["kind"] == Account.Kind.RESELLER and not row["on_hold"]
    ]
    if not held:
        return set()
    return set(
        Subscription.objects.filter(
            account_id__in=held, status=SubscriptionStatus.SUSPENDED
        ).values_list("account_id", flat=True)
    )

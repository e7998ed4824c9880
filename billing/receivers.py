"""What billing does when the orders app reports something (orders.signals)."""

import logging

from django.utils import timezone

logger = logging.getLogger(__name__)


def bill_catch_up(sender, *, subscription, acting_user=None, **kwargs) -> None:
    """A suspended subscription was reactivated: bill its holder now, so the periods it missed
    while on hold with *Bill for Subscriptions on Hold* off go out as one catch-up invoice (and a
    reseller's held billing order with them). If this fails, the next billing-date run bills it:
    the account's cycle and the subscription's billed-through date are still due."""
    from billing.runs import account_bill_now

    try:
        account_bill_now(
            account=subscription.account, today=timezone.localdate(), acting_user=acting_user
        )
    except Exception:
        logger.exception("catch-up billing of account %s failed", subscription.account_id)

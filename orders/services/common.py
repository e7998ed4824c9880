"""What the order and subscription modules share: the order's lock and status rule, who acts on
the reseller's side, whether an order may be prepaid, what a conversion order is, and the
subscriptions' status transitions."""

from __future__ import annotations

from collections.abc import Sequence

from orders.models import Order, OrderType, Subscription, SubscriptionStatus
from resellers.exceptions import ApplicationError
from resellers.models import Account, User


class InvalidOrderTransition(ApplicationError):
    pass


INSUFFICIENT_CREDIT = "Not executed: there is not enough available credit."


def _lock(order: Order) -> Order:
    """The order, locked (its row only), with its parties loaded."""
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer__parent", "credit_account", "placed_by")
        .get(pk=order.pk)
    )


def _require_status(order: Order, allowed: Sequence[str], action: str) -> None:
    if order.status not in allowed:
        raise InvalidOrderTransition(
            f"Order {order.display_number} is {order.get_status_display()}; it cannot be {action}."
        )


def _is_reseller_side(user: User | None, order: Order) -> bool:
    """Provider staff, or a user of the account whose credit the order uses."""
    if user is None or user.is_provider_staff:
        return True
    return user.account_id == order.credit_account_id


def _may_prepay(order: Order) -> bool:
    """Whether a payment may prepay this order (DESIGN.md "Available credit and prepaid orders"):
    only when the credit account's daily invoicing will invoice it: mode `all`, or
    `prepaid_only` for an order placed for one of its customers, never its own direct purchase;
    with `disabled` nothing is prepaid. A prepaid account must prepay every order."""
    account = order.credit_account
    if account.credit_terms == Account.CreditTerms.PREPAID:
        return True
    mode = account.daily_invoicing
    if mode == Account.DailyInvoicing.ALL:
        return True
    return mode == Account.DailyInvoicing.PREPAID_ONLY and order.customer_id is not None


def _is_conversion(order: Order) -> bool:
    return order.order_type == OrderType.RENEWAL


SUBSCRIPTION_TRANSITIONS: dict[str, frozenset[str]] = {
    SubscriptionStatus.TRIAL: frozenset(
        {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED, SubscriptionStatus.SUSPENDED}
    ),
    SubscriptionStatus.ACTIVE: frozenset(
        {SubscriptionStatus.PENDING_CANCELLATION, SubscriptionStatus.SUSPENDED}
    ),
    SubscriptionStatus.PENDING_CANCELLATION: frozenset(
        {SubscriptionStatus.CANCELLED, SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED}
    ),
    SubscriptionStatus.SUSPENDED: frozenset(
        {SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED}
    ),
    SubscriptionStatus.CANCELLED: frozenset(),
}


def _move(subscription: Subscription, status: str) -> None:
    if status == subscription.status:
        raise InvalidOrderTransition(
            f"The subscription is already {subscription.get_status_display().lower()}."
        )
    if status not in SUBSCRIPTION_TRANSITIONS[subscription.status]:
        raise InvalidOrderTransition(
            f"A {subscription.get_status_display().lower()} subscription cannot become "
            f"{SubscriptionStatus(status).label.lower()}."
        )
    subscription.status = status

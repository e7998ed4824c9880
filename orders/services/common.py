"""What the order modules share: the order's lock, the status guard of the chain's internal steps,
whether an order may be prepaid, what a conversion order is. Who may do what, and which status
may follow which, is orders.workflow."""

from __future__ import annotations

from collections.abc import Sequence

from orders.models import Order, OrderType
from orders.workflow import InvalidOrderTransition
from resellers.models import Account

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

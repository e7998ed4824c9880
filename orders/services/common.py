"""What the order modules share: the order's lock, the status guard of the chain's internal steps,
whether an order may be prepaid, what a conversion order is. Who may do what, and which status
may follow which, is orders.workflow."""

from __future__ import annotations

from collections.abc import Sequence

from orders.models import Order, OrderType
from orders.workflow import InvalidOrderTransition, prepay_barrier

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
    """Whether a payment may prepay this order, as far as its credit account's daily invoicing
    goes (orders.workflow.prepay_barrier, the one rule; DESIGN.md "Available credit and prepaid
    orders")."""
    return prepay_barrier(order) is None


def _is_conversion(order: Order) -> bool:
    return order.order_type == OrderType.RENEWAL

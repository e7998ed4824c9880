"""Cancelling an order that has not executed: its reservation and prepayment released."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billing import ledger
from orders.models import DeliveryStatus, Order, OrderStatus
from orders.services.common import _is_conversion, _lock
from orders.services.execution import _refresh_parent
from orders.services.trials import _end_unconverted
from orders.workflow import order_action_check, order_move
from resellers.models import User
from resellers.services import audit_record


@transaction.atomic
def order_cancel(*, order: Order, acting_user: User | None, reason: str = "") -> Order:
    """Cancel an order that has not executed; its reservation is released. A completed order is
    corrected by a correcting order, never cancelled. The reseller cancels its own and its
    customers' orders; a customer cancels its own before approval; the distributor cancels any."""
    order = _lock(order)
    order_action_check(user=acting_user, order=order, action="cancel")
    if order.reservation is not None:
        ledger.credit_reservation_release(reservation=order.reservation, acting_user=acting_user)
    ledger.prepayment_release(order_id=order.pk, acting_user=acting_user)
    order_move(order, OrderStatus.CANCELLED)
    order.cancelled_at = timezone.now()
    order.status_message = reason
    order.save(update_fields=["status", "cancelled_at", "status_message"])
    order.items.update(delivery_status=DeliveryStatus.CANCELLED)
    if _is_conversion(order):
        _end_unconverted(order=order, acting_user=acting_user)
    audit_record(
        actor=acting_user,
        action="order.cancel",
        obj=order,
        account=order.credit_account,
        details={"reason": reason},
    )
    if order.parent_id is not None:
        _refresh_parent(order.parent_id)
    return order

"""How an order is paid for outside its credit: step 1's prepayment, when the credit check fails,
and step 3, the active-token check and the card charge.

The gateway is called outside any transaction (no lock held while it answers); the charge's
idempotency key is the order's, so a retry after a timeout never charges twice.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from billing import ledger
from billing.gateway import CardDeclined, GatewayError, GatewayTimeout
from orders.models import Order, OrderStatus
from orders.services.common import _lock, _may_prepay
from orders.workflow import order_move
from resellers.models import PaymentMethod, User
from resellers.selectors import default_payment_method
from resellers.services import audit_record

TOKEN_WARNING = "Your payment method does not support this action. Please contact your distributor."
GATEWAY_FAILED = (
    "The payment gateway did not accept the charge, so the order was not submitted to the "
    "distributor. Try again later."
)


def _prepay(*, order: Order, acting_user: User | None) -> str | None:
    """The credit check failed: may a single payment cover the order instead (inside step 1's
    transaction, under the credit account's lock)? "card" when the credit account pays by card
    (step 3's charge will), "payment" when part of an unapplied payment (a top-up) was just
    allocated to it, None when neither: then it needs credit. Only where its daily invoicing will
    invoice it (_may_prepay), and not for manually executed products."""
    if not _may_prepay(order):
        return None
    if not all(item.product.auto_executed for item in order.items.select_related("product")):
        return None
    method = default_payment_method(account=order.credit_account)
    if method is not None and method.kind == PaymentMethod.Kind.CARD:
        return "card"
    ledger.credit_available_locked(account=order.credit_account)  # the lock, before looking
    payment = ledger.prepayment_source_locked(account=order.credit_account, amount=order.total_cost)
    if payment is None:
        return None
    ledger.prepayment_allocate(
        payment=payment, order_id=order.pk, amount=order.total_cost, acting_user=acting_user
    )
    return "payment"


def _charge_if_card(*, order: Order, acting_user: User | None, today: datetime.date) -> bool:
    """Step 3. True when the order may execute: the credit account does not pay by card, or its
    card was charged (or had been, for this order). Otherwise the order is left *Pending* with
    the reason, its reservation released, and False."""
    method = default_payment_method(account=order.credit_account)
    if method is None or method.kind != PaymentMethod.Kind.CARD or order.total_cost == 0:
        return True
    if not method.token_is_active(today):
        _set_pending(order=order, message=TOKEN_WARNING, acting_user=acting_user)
        return False
    try:
        payment = ledger.card_charge(
            payment_method=method,
            amount=order.total_cost,
            idempotency_key=f"order:{order.pk}:charge",
            charge_date=today,
            acting_user=acting_user,
            reference=f"Card payment for order {order.display_number}",
        )
    except (GatewayError, GatewayTimeout, CardDeclined) as exc:
        message = "The card was declined." if isinstance(exc, CardDeclined) else GATEWAY_FAILED
        _set_pending(order=order, message=message, acting_user=acting_user)
        return False
    Order.objects.filter(pk=order.pk).update(payment=payment)
    return True


@transaction.atomic
def _set_pending(*, order: Order, message: str, acting_user: User | None) -> None:
    order = _lock(order)
    if order.reservation is not None:
        ledger.credit_reservation_release(reservation=order.reservation, acting_user=acting_user)
    order_move(order, OrderStatus.PENDING)
    order.status_message = message
    order.reservation = None
    order.save(update_fields=["status", "status_message", "reservation"])
    audit_record(
        actor=acting_user,
        action="order.pending",
        obj=order,
        account=order.credit_account,
        details={"reason": message},
    )

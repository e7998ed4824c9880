"""The validation chain, and the writes that start or continue it: approve, resume, execute by
hand.

The validation chain (seed 004), in this order:
1. available-credit check: the order's total cost for its first billing period, before tax, is
   reserved on the credit account under its row lock (billing.ledger.credit_reserve). Not enough
   -> *Unexecuted due to Insufficient Credit*, the reseller notified, the order listed for the
   distributor; nothing reserved.
2. auto-executed-product check: any product that needs manual execution -> *Submitted to
   Distributor* (the reservation stays until the distributor executes or cancels). An order that
   mixes both kinds is split into two sub-orders and stays *Submitted* until both are executed.
3. active-token check, only when the credit account pays by card: no token, or an inactive or
   expired one -> *Pending* with seed 004's warning; a gateway error or a declined card ->
   *Pending*, not submitted to the distributor. Either way the reservation is released.
4. execution: subscriptions created, charges recorded (reseller transactions), reservation
   consumed, *Completed*.

Step 1's prepayment and step 3 are in orders.services.payment, step 4 in
orders.services.execution.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from billing import ledger
from billing.money import ZERO
from orders import notifications
from orders.models import Order, OrderItem, OrderStatus
from orders.services.common import (
    INSUFFICIENT_CREDIT,
    InvalidOrderTransition,
    _is_conversion,
    _lock,
    _require_status,
)
from orders.services.execution import _execute
from orders.services.payment import _charge_if_card, _prepay
from orders.workflow import order_action_check, order_move
from resellers.models import User
from resellers.services import audit_record


def order_approve(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """The reseller's *Accept order*: for an order pending approval, or one left unexecuted for
    lack of credit (after paying off debt or topping up), or one pending for its card token."""
    with transaction.atomic():
        order = _lock(order)
        order_action_check(user=acting_user, order=order, action="accept")
        if order.status == OrderStatus.PENDING_APPROVAL:
            order.approved_at = timezone.now()
            order.approved_by = acting_user if acting_user is not None and acting_user.pk else None
            notifications.order_approved(order=order, approver=order.approved_by)
        order_move(order, OrderStatus.SUBMITTED)
        order.status_message = ""
        order.save(update_fields=["status", "status_message", "approved_at", "approved_by"])
        audit_record(
            actor=acting_user, action="order.approve", obj=order, account=order.credit_account
        )
    return _validate(order=order, acting_user=acting_user, today=today)


def _validate(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """Run the chain from wherever the order stands: a step already done (a reservation held, a
    charge booked) is not done again, so a crash at any point can be resumed (order_resume)."""
    # 1. Available-credit check and reservation, one transaction under the account's lock.
    with transaction.atomic():
        order = _lock(order)
        _require_status(order, [OrderStatus.SUBMITTED], "validated")
        if order.sub_orders.exists():
            raise InvalidOrderTransition(f"{order.display_number} proceeds by its sub-orders.")
        try:
            if order.reservation_id is None and order.total_cost > 0:
                order.reservation = ledger.credit_reserve(
                    account=order.credit_account,
                    amount=order.total_cost,
                    reference=f"order:{order.pk}",
                    acting_user=acting_user,
                )
        except ledger.InsufficientCredit:
            prepaid_by = _prepay(order=order, acting_user=acting_user)
            if prepaid_by == "payment":
                return _continue_prepaid(order=order, acting_user=acting_user, today=today)
            if prepaid_by is None:
                order_move(order, OrderStatus.UNEXECUTED_CREDIT)
                # No figures here: the customer sees this order too, never its reseller's credit.
                order.status_message = INSUFFICIENT_CREDIT
                order.save(update_fields=["status", "status_message"])
                notifications.insufficient_credit(order=order)
                return order
            # prepaid_by == "card": the charge made for it in step 3 pays for it.
        order.save(update_fields=["reservation"])

        # 2. Auto-executed-product check.
        items = list(order.items.select_related("product"))
        # A trial's conversion provisions nothing new: never one for the distributor.
        manual = [] if _is_conversion(order) else [i for i in items if not i.product.auto_executed]
        parent = None
        if manual and len(manual) < len(items):
            parent, order = order, _split(order=order, items=items, acting_user=acting_user)
        elif manual:
            order_move(order, OrderStatus.SUBMITTED_TO_DISTRIBUTOR)
            order.save(update_fields=["status"])
            return order

    # 3. Active-token check (card only) and the charge, outside the transaction.
    if _charge_if_card(order=order, acting_user=acting_user, today=today):
        # 4. Execution.
        _execute(order=order, acting_user=acting_user, today=today)
    return Order.objects.get(pk=(parent or order).pk)


def _continue_prepaid(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """A prepaid order needs no reservation, card or distributor: it executes at once (within
    step 1's transaction, whose locks still hold)."""
    return _execute(order=order, acting_user=acting_user, today=today)


def _split(*, order: Order, items: list[OrderItem], acting_user: User | None) -> Order:
    """Split an order mixing auto-executed and manual products into two sub-orders, moving the
    reservation with them (same lock, same total: availability does not change). The parent
    stays *Submitted*; the manual sub-order goes to the distributor; the auto sub-order is
    returned to continue the chain."""
    if order.reservation is not None:
        ledger.credit_reservation_release(reservation=order.reservation, acting_user=acting_user)
        order.reservation = None
    order.save(update_fields=["reservation"])
    parts = (
        ([i for i in items if i.product.auto_executed], OrderStatus.SUBMITTED),
        ([i for i in items if not i.product.auto_executed], OrderStatus.SUBMITTED_TO_DISTRIBUTOR),
    )
    children = []
    for part, status in parts:
        child = Order.objects.create(
            parent=order,
            order_type=order.order_type,
            credit_account=order.credit_account,
            customer=order.customer,
            currency=order.currency,
            placed_by=order.placed_by,
            approved_by=order.approved_by,
            approved_at=order.approved_at,
            submitted_at=order.submitted_at,
            status=status,
            total_cost=sum((i.total_cost for i in part), ZERO),
            total_amount=sum((i.total_amount for i in part), ZERO),
        )
        OrderItem.objects.filter(pk__in=[i.pk for i in part]).update(order=child)
        if child.total_cost > 0:
            child.reservation = ledger.credit_reserve(
                account=order.credit_account,
                amount=child.total_cost,
                reference=f"order:{child.pk}",
                acting_user=acting_user,
            )
            child.save(update_fields=["reservation"])
        children.append(child)
    return children[0]


def order_resume(*, order: Order, today: datetime.date) -> Order:
    """Continue an order a crash left *Submitted* midway through the chain (after its credit was
    reserved, or its card charged, but before execution). Safe to run twice, or beside a request
    still in flight: a held reservation is not taken again, a booked charge is not made again,
    and execution happens once under the order's lock."""
    fresh = Order.objects.get(pk=order.pk)
    if fresh.status != OrderStatus.SUBMITTED or fresh.sub_orders.exists():
        return fresh
    return _validate(order=fresh, acting_user=None, today=today)


def order_execute_manually(*, order: Order, acting_user: User, today: datetime.date) -> Order:
    """The distributor executes an order submitted for manual execution (provider staff)."""
    fresh = Order.objects.get(pk=order.pk)
    order_action_check(user=acting_user, order=fresh, action="execute")
    if not _charge_if_card(order=fresh, acting_user=acting_user, today=today):
        return Order.objects.get(pk=order.pk)
    return _execute(order=fresh, acting_user=acting_user, today=today)

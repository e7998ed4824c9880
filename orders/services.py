"""Writes on orders and subscriptions: create, submit, approve, validate, execute, cancel.

The validation chain (seed 004), in this order:
1. available-credit check: the order's total cost for its first billing period, before tax, is
   reserved on the credit account under its row lock (billing.services.credit_reserve). Not enough
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

The gateway is called outside any transaction (no lock held while it answers); the charge's
idempotency key is the order's, so a retry after a timeout never charges twice.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import services as ledger
from billing.gateway import CardDeclined, GatewayError, GatewayTimeout
from billing.money import ZERO, line_total
from billing.periods import cycle_on_or_after, nth_period, period_containing, prorate
from orders import notifications, signals
from orders.models import (
    BillingPeriod,
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderType,
    Product,
    Subscription,
    SubscriptionStatus,
)
from orders.quantities import check_quantity
from orders.selectors import catalogue_products, order_parties, price_quotes
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, PaymentMethod, User
from resellers.selectors import default_payment_method, order_approval_required
from resellers.services import audit_events, audit_record

TOKEN_WARNING = "Your payment method does not support this action. Please contact your distributor."
INSUFFICIENT_CREDIT = "Not executed: there is not enough available credit."
CHANGE_INSUFFICIENT_CREDIT = (
    "There is not enough available credit for this quantity: pay off some debt or top up first."
)
TRIAL_CONVERSION_NOTE = "Trial conversion"
GATEWAY_FAILED = (
    "The payment gateway did not accept the charge, so the order was not submitted to the "
    "distributor. Try again later."
)


class InvalidOrderTransition(ApplicationError):
    pass


@dataclass(frozen=True)
class ItemSpec:
    product: Product
    quantity: int
    discount: Decimal = Decimal("0")


# --- helpers -----------------------------------------------------------------------------------


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


def _billing_period(product: Product) -> str:
    if product.billing_type == Product.BillingType.RECURRING_ANNUAL:
        return BillingPeriod.ANNUAL
    return BillingPeriod.MONTHLY


def _charged_now(item: OrderItem) -> bool:
    """Recurring fees are billed in advance and one-time fees at once; usage is billed in arrears
    and trials start free: neither is charged when the order executes."""
    product = item.product
    if product.billing_type == Product.BillingType.USAGE:
        return False
    return not product.trial_days


# --- create and submit -------------------------------------------------------------------------


def _build_order(
    *,
    placed_by: User,
    items: Sequence[ItemSpec],
    customer: Account | None,
    reseller: Account | None,
    billing_contact_name: str,
    billing_contact_email: str,
    notes: str,
    expected_total_amount: Decimal | None,
) -> tuple[Order, list[OrderItem]]:
    """Validate and price an order: returns it and its items, built but not saved (products
    attached), for the caller to insert in the state it decides."""
    if not items:
        raise ApplicationError("An order needs at least one item.", field="items")
    if customer is None and reseller is None:
        raise ApplicationError("Say who the order is for.", field="customer")
    if customer is not None and customer.kind != Account.Kind.CUSTOMER:
        raise ApplicationError("Orders are placed for end customers.", field="customer")
    if not placed_by.is_provider_staff:
        if placed_by.account is not None and placed_by.account.is_referral_reseller:
            # Seed 003: referral resellers are acquisition partners, without control over their
            # customers' services.
            raise PermissionDenied("Referral resellers do not place orders.")
        own = placed_by.account_id
        allowed = (customer is not None and own in (customer.pk, customer.parent_id)) or (
            customer is None and reseller is not None and own == reseller.pk
        )
        if not allowed:
            raise PermissionDenied("You cannot order for that account.")
    if customer is not None:  # its current approval toggle and parent, not a caller's old copy
        customer = Account.objects.select_related("parent").get(pk=customer.pk)
    credit_account = order_parties(customer=customer, reseller=reseller)
    if credit_account.is_referral_reseller:
        raise ApplicationError("Referral resellers do not buy; their customers order directly.")
    orderer = customer or credit_account
    for spec in items:
        check_quantity(spec.quantity)
    products = {spec.product.pk: spec.product for spec in items}
    allowed = set(
        catalogue_products(account=orderer).filter(pk__in=products).values_list("pk", flat=True)
    )
    for product in products.values():
        if product.pk not in allowed:
            raise ApplicationError(
                f"{product.name} is not in {orderer.name}'s catalogue.", field="items"
            )
        if product.currency != credit_account.currency:
            raise ApplicationError(f"{product.name} is sold in another currency.")
    quotes = price_quotes(
        products=list(products.values()), customer=customer, credit_account=credit_account
    )
    lines = []
    total_cost = total_amount = ZERO
    for spec in items:
        quote = quotes[spec.product.pk]
        qty = Decimal(spec.quantity)
        cost = line_total(
            quantity=qty, unit_price=quote.unit_cost, currency=credit_account.currency
        )
        gross = line_total(
            quantity=qty, unit_price=quote.unit_price, currency=credit_account.currency
        )
        if spec.discount < 0 or spec.discount > gross:
            raise ApplicationError("A discount lies between zero and the line.", field="discount")
        lines.append(
            OrderItem(
                product=spec.product,
                quantity=spec.quantity,
                unit_cost=quote.unit_cost,
                unit_price=quote.unit_price,
                discount=spec.discount,
                total_cost=cost,
                total_amount=gross - spec.discount,
            )
        )
        total_cost += cost
        total_amount += gross - spec.discount
    if expected_total_amount is not None and expected_total_amount != total_amount:
        raise ApplicationError(
            f"Prices changed since you reviewed this order: the total is now {total_amount} "
            f"{credit_account.currency}, not {expected_total_amount}. Please review it again.",
            field="items",
        )
    order = Order(
        credit_account=credit_account,
        customer=customer,
        currency=credit_account.currency,
        placed_by=placed_by if placed_by.pk else None,
        billing_contact_name=billing_contact_name,
        billing_contact_email=billing_contact_email,
        notes=notes,
        total_cost=total_cost,
        total_amount=total_amount,
    )
    return order, lines


def _insert(order: Order, items: list[OrderItem]) -> None:
    """Write a built order and its items as they stand (two statements)."""
    order.save(force_insert=True)
    for item in items:
        item.order = order
    OrderItem.objects.bulk_create(items)


@transaction.atomic
def order_create(
    *,
    placed_by: User,
    items: Sequence[ItemSpec],
    customer: Account | None = None,
    reseller: Account | None = None,
    billing_contact_name: str = "",
    billing_contact_email: str = "",
    notes: str = "",
    expected_total_amount: Decimal | None = None,
) -> Order:
    """A draft order with priced items. `customer` None means the reseller orders for itself.

    Refuses products outside the ordering account's catalogue and quantities below one. With
    `expected_total_amount` (the total the buyer reviewed), refuses an order whose prices changed
    since: nothing is created and the buyer reviews again.
    """
    order, lines = _build_order(
        placed_by=placed_by,
        items=items,
        customer=customer,
        reseller=reseller,
        billing_contact_name=billing_contact_name,
        billing_contact_email=billing_contact_email,
        notes=notes,
        expected_total_amount=expected_total_amount,
    )
    _insert(order, lines)
    audit_record(actor=placed_by, action="order.create", obj=order, account=order.credit_account)
    return order


def order_place(
    *,
    placed_by: User,
    items: Sequence[ItemSpec],
    today: datetime.date,
    customer: Account | None = None,
    reseller: Account | None = None,
    billing_contact_name: str = "",
    billing_contact_email: str = "",
    notes: str = "",
    expected_total_amount: Decimal | None = None,
    on_created: Callable[[Order], None] | None = None,
) -> Order:
    """Create and submit an order in one go (the API's `POST orders/`): as order_create then
    order_submit, but in one transaction, so an order that needs no approval,
    no card charge and no manual execution is placed, checked and executed atomically. Where the
    chain needs more (the card's gateway), it continues after the transaction as order_submit's
    does. `on_created(order)` runs inside the creating transaction (the API links its
    idempotency key there). The portal keeps order_create then order_submit: its one-time
    submission token holds a lock on the user that must not span the card gateway call."""
    with transaction.atomic():
        order, lines = _build_order(
            placed_by=placed_by,
            items=items,
            customer=customer,
            reseller=reseller,
            billing_contact_name=billing_contact_name,
            billing_contact_email=billing_contact_email,
            notes=notes,
            expected_total_amount=expected_total_amount,
        )
        events = [("order.create", order, order.credit_account_id, {})]
        continue_chain = _submit_in_transaction(
            order=order,
            items=lines,
            events=events,
            acting_user=placed_by,
            today=today,
            on_created=on_created,
        )
    if continue_chain:
        return _validate(order=order, acting_user=placed_by, today=today)
    return order


def order_submit(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """Submit a draft: it waits for the reseller's approval where the toggle says so (seed 004),
    otherwise it goes through the validation chain at once. The reseller is told of every order
    its customers place; the customer gets a link to the order's status page."""
    with transaction.atomic():
        order = _lock(order)
        _require_status(order, [OrderStatus.DRAFT], "submitted")
        items = list(order.items.select_related("product"))
        continue_chain = _submit_in_transaction(
            order=order, items=items, events=[], acting_user=acting_user, today=today
        )
    if continue_chain:
        return _validate(order=order, acting_user=acting_user, today=today)
    return order


def _submit_in_transaction(
    *,
    order: Order,
    items: list[OrderItem],
    events: list,
    acting_user: User | None,
    today: datetime.date,
    on_created: Callable[[Order], None] | None = None,
) -> bool:
    """Submit a draft inside the caller's transaction: one the caller locked, or one built and not
    yet saved (order_place), which is then inserted once, in the state decided here. Returns True
    when the multi-step chain must continue after the transaction commits (_validate).

    The common case (no approval, no card to charge, only auto-executed products) runs the whole
    chain here: see _complete_at_once."""
    order.submitted_at = timezone.now()
    events.append(("order.submit", order, order.credit_account_id, {}))
    method = default_payment_method(account=order.credit_account)
    if order_approval_required(customer=order.customer, reseller_method=method):
        order.status = OrderStatus.PENDING_APPROVAL
        continue_chain = False
    elif not (
        method is not None and method.kind == PaymentMethod.Kind.CARD and order.total_cost > 0
    ) and all(i.product.auto_executed for i in items):
        _complete_at_once(
            order=order,
            items=items,
            events=events,
            acting_user=acting_user,
            today=today,
            on_created=on_created,
        )
        return False
    else:
        order.status = OrderStatus.SUBMITTED
        continue_chain = True
    _save(order, items, ["status", "submitted_at"], on_created)
    audit_events(actor=acting_user, events=events)
    notifications.order_submitted(order=order)
    return continue_chain


def _save(order: Order, items: list[OrderItem], fields: list[str], on_created) -> None:
    """Insert a new order with its items, or update the named fields of a saved one."""
    if order.pk is None:
        _insert(order, items)
        if on_created is not None:
            on_created(order)
    else:
        order.save(update_fields=fields)


def _complete_at_once(
    *,
    order: Order,
    items: list[OrderItem],
    events: list,
    acting_user: User | None,
    today: datetime.date,
    on_created: Callable[[Order], None] | None = None,
) -> None:
    """Steps 1, 2 and 4 of the chain inside the caller's transaction, for an order needing no
    approval, no card charge and no manual execution. The credit is checked under the row locks
    of the credit account (and the customer, whose charge is recorded too) and spent, the charges
    recorded, before the locks are released, so no reservation is needed in between: nobody
    could ever see one."""
    parties = [order.customer] if order.customer_id else []
    available = ledger.credit_available_locked(account=order.credit_account, also_lock=parties)
    prepaid_by = None
    if order.total_cost > available and _may_prepay(order):
        prepaid_by = ledger.prepayment_source_locked(
            account=order.credit_account, amount=order.total_cost
        )
    if order.total_cost > available and prepaid_by is None:
        order.status = OrderStatus.UNEXECUTED_CREDIT
        order.status_message = INSUFFICIENT_CREDIT
        _save(order, items, ["status", "status_message", "submitted_at"], on_created)
        events.append(("order.unexecuted", order, order.credit_account_id, {}))
        audit_events(actor=acting_user, events=events)
        notifications.order_submitted(order=order)
        notifications.insufficient_credit(order=order)
        return
    order.status = OrderStatus.COMPLETED
    order.completed_at = order.submitted_at
    new = order.pk is None
    if new:
        order.save(force_insert=True)  # the subscriptions point at it; the items come after them
        if on_created is not None:
            on_created(order)
    else:
        order.save(update_fields=["status", "submitted_at", "completed_at"])
    charged = _deliver(order=order, items=items, today=today, insert_items=new)
    events.append(("order.execute", order, order.credit_account_id, {}))
    own, customers = _charges(order, charged, today)
    rows = ledger.reseller_transactions_add(
        charges=[*own, *customers], acting_user=acting_user, locked=True, also_audit=events
    )
    cost = sum((c.amount for c in own), ZERO)
    if prepaid_by is not None and cost > 0:
        ledger.prepayment_allocate(
            payment=prepaid_by, order_id=order.pk, amount=cost, acting_user=acting_user
        )
        ledger.prepayment_attach(
            order_id=order.pk,
            charges=[r for r in rows if r.account_id == order.credit_account_id],
            charged=cost,
        )
    notifications.order_submitted(order=order)
    notifications.order_completed(order=order)


def order_approve(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """The reseller's *Accept order*: for an order pending approval, or one left unexecuted for
    lack of credit (after paying off debt or topping up), or one pending for its card token."""
    with transaction.atomic():
        order = _lock(order)
        if not _is_reseller_side(acting_user, order):
            raise PermissionDenied("Only the reseller can approve its customers' orders.")
        _require_status(
            order,
            [OrderStatus.PENDING_APPROVAL, OrderStatus.UNEXECUTED_CREDIT, OrderStatus.PENDING],
            "approved",
        )
        if order.status == OrderStatus.PENDING_APPROVAL:
            order.approved_at = timezone.now()
            order.approved_by = acting_user if acting_user is not None and acting_user.pk else None
            notifications.order_approved(order=order, approver=order.approved_by)
        order.status = OrderStatus.SUBMITTED
        order.status_message = ""
        order.save(update_fields=["status", "status_message", "approved_at", "approved_by"])
        audit_record(
            actor=acting_user, action="order.approve", obj=order, account=order.credit_account
        )
    return _validate(order=order, acting_user=acting_user, today=today)


# --- the validation chain ----------------------------------------------------------------------


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
                order.status = OrderStatus.UNEXECUTED_CREDIT
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
            order.status = OrderStatus.SUBMITTED_TO_DISTRIBUTOR
            order.save(update_fields=["status"])
            return order

    # 3. Active-token check (card only) and the charge, outside the transaction.
    if _charge_if_card(order=order, acting_user=acting_user, today=today):
        # 4. Execution.
        _execute(order=order, acting_user=acting_user, today=today)
    return Order.objects.get(pk=(parent or order).pk)


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
    order.status = OrderStatus.PENDING
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


@transaction.atomic
def _execute(*, order: Order, acting_user: User | None, today: datetime.date) -> Order:
    """Step 4: create the subscriptions, record the charges, consume the reservation."""
    order = _lock(order)
    _require_status(
        order, [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED_TO_DISTRIBUTOR], "executed"
    )
    now = timezone.now()
    items = list(order.items.select_related("product"))
    if _is_conversion(order):
        charged = _convert(order=order, items=items)
    else:
        charged = _deliver(order=order, items=items, today=today)
    _record_charges(order=order, charged=charged, acting_user=acting_user, today=today)
    order.status = OrderStatus.COMPLETED
    order.completed_at = now
    order.save(update_fields=["status", "completed_at"])
    audit_record(actor=acting_user, action="order.execute", obj=order, account=order.credit_account)
    if order.parent_id is not None:
        _refresh_parent(order.parent_id)
    notifications.order_completed(order=order)
    return order


@dataclasses.dataclass(frozen=True)
class ItemCharge:
    """What an executed item is charged now: its first period (or the days up to its holder's
    next cycle date), or a one-time fee."""

    item: OrderItem
    cost: Decimal
    amount: Decimal
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    note: str = ""


def _first_period_charge(
    *,
    item: OrderItem,
    anchor: datetime.date,
    billing_period: str,
    starts: datetime.date,
    currency: str,
) -> ItemCharge:
    """What a subscription starting (or leaving its trial) on `starts` is charged first, in
    advance: its first whole period when `starts` is its holder's cycle date `anchor`, else the
    days up to `anchor`, prorated by the one rule (billing.periods). `item.total_cost` and
    `total_amount` are a whole period's."""
    if anchor == starts:
        first = nth_period(anchor=anchor, billing_period=billing_period, index=0)
        return ItemCharge(item, item.total_cost, item.total_amount, starts, first.end)
    stub = nth_period(anchor=anchor, billing_period=billing_period, index=-1)

    def part(amount: Decimal) -> Decimal:
        return prorate(
            period_amount=amount, period=stub, from_date=starts, to_date=anchor, currency=currency
        )

    note = f" (prorated: {(anchor - starts).days} of {stub.days} days)"
    return ItemCharge(item, part(item.total_cost), part(item.total_amount), starts, anchor, note)


def _deliver(
    *, order: Order, items: list[OrderItem], today: datetime.date, insert_items: bool = False
) -> list[ItemCharge]:
    """Create the items' subscriptions (one statement), mark the items delivered (one statement:
    inserted so, when `insert_items`, else updated) and return what is charged now, item by item.

    Subscriptions co-term with their holder's billing cycle (billing.periods): one that starts on
    a cycle date is charged its first whole period now; one that starts between cycle dates is
    charged the days up to the next one, prorated by the one rule, and renews with the account
    from there. Trials start charging at their end, usage is billed in arrears (billing.runs)."""
    holder = order.customer if order.customer_id else order.credit_account
    cycle_anchor = holder.billing_anchor or ledger.billing_cycles_start(
        account_ids=[holder.pk], day=today
    ).get(holder.pk)
    subscriptions = []
    charged: list[ItemCharge] = []
    for item in items:
        product = item.product
        item.delivery_status = DeliveryStatus.DELIVERED
        if product.billing_type == Product.BillingType.ONE_TIME:
            if _charged_now(item):
                charged.append(ItemCharge(item, item.total_cost, item.total_amount))
            continue
        period = _billing_period(product)
        trial_end = (
            today + datetime.timedelta(days=product.trial_days) if product.trial_days else None
        )
        starts = trial_end or today
        anchor = cycle_on_or_after(anchor=cycle_anchor, day=starts)
        if trial_end:  # the run starts charging it at the trial's end
            billed_through = next_date = trial_end
        elif product.billing_type == Product.BillingType.USAGE:  # in arrears, from today
            billed_through, next_date = today, anchor
            if anchor == today:
                next_date = nth_period(anchor=anchor, billing_period=period, index=0).end
        else:
            first = _first_period_charge(
                item=item, anchor=anchor, billing_period=period, starts=today,
                currency=order.currency,
            )  # fmt: skip
            billed_through = next_date = first.period_end
            charged.append(first)
        item.subscription = Subscription(
            account_id=holder.pk,
            credit_account_id=order.credit_account_id,
            product=product,
            order=order,
            quantity=item.quantity,
            status=SubscriptionStatus.TRIAL if trial_end else SubscriptionStatus.ACTIVE,
            billing_period=period,
            unit_cost=item.unit_cost,
            unit_price=item.unit_price,
            currency=order.currency,
            start_date=today,
            trial_end_date=trial_end,
            billing_anchor=anchor,
            billed_through=billed_through,
            next_billing_date=next_date,
        )
        subscriptions.append(item.subscription)
    Subscription.objects.bulk_create(subscriptions)
    if insert_items:
        for item in items:
            item.order = order
        OrderItem.objects.bulk_create(items)
    else:
        OrderItem.objects.bulk_update(items, ["subscription", "delivery_status"])
    return charged


def _charges(
    order: Order, charged: Sequence[ItemCharge], today: datetime.date
) -> tuple[list[ledger.ChargeSpec], list[ledger.ChargeSpec]]:
    """What an executed order leaves to invoice, one charge per item: the credit account's at
    cost and, for a resale customer, the customer's at its amount. Each names its product,
    quantity, unit price and period, so the invoice reads as what was bought for when."""
    ref = f"order:{order.pk}"
    resale = order.customer_id and order.customer_id != order.credit_account_id
    own: list[ledger.ChargeSpec] = []
    customers: list[ledger.ChargeSpec] = []
    for c in charged:
        item = c.item
        label = f"{item.product.name}{c.note} (order {order.display_number})"
        common = {
            "charge_date": today,
            "subscription_id": item.subscription.pk if item.subscription else None,
            "quantity": Decimal(item.quantity),
            "period_start": c.period_start,
            "period_end": c.period_end,
            "tax_category": item.product.tax_category,
        }
        if c.cost > 0:
            upstream = f"{label} for {order.customer.name}" if resale else label
            own.append(
                ledger.ChargeSpec(
                    order.credit_account,
                    c.cost,
                    upstream,
                    ref,
                    unit_price=item.unit_cost,
                    **common,
                )
            )
        if resale and c.amount > 0:
            customers.append(
                ledger.ChargeSpec(
                    order.customer, c.amount, label, ref, unit_price=item.unit_price, **common
                )
            )
    return own, customers


def _record_charges(
    *, order: Order, charged: Sequence[ItemCharge], acting_user, today: datetime.date
) -> None:
    """The multi-step chain's charges: the credit account's consume the order's reservation."""
    own, customers = _charges(order, charged, today)
    reservation = order.reservation
    if own:
        rows = ledger.reseller_transactions_add(
            charges=own, acting_user=acting_user, reservation=reservation
        )
        total = sum((row.amount for row in rows), ZERO)
        if order.payment_id is not None and _may_prepay(order):  # paid by its card charge
            _allocate_card_charge(order=order, amount=total, acting_user=acting_user)
        ledger.prepayment_attach(order_id=order.pk, charges=rows, charged=total)
    else:
        ledger.prepayment_release(order_id=order.pk, acting_user=acting_user)
        if reservation is not None:
            ledger.credit_reservation_release(reservation=reservation, acting_user=acting_user)
    ledger.reseller_transactions_add(charges=customers, acting_user=acting_user)


def _allocate_card_charge(*, order: Order, amount: Decimal, acting_user) -> None:
    """A card charge made for an order prepays it: the payment is set aside for the order's
    charge, which the daily invoicing run then invoices and settles with it."""
    from billing.models import PaymentAllocation

    if PaymentAllocation.objects.filter(order_id=order.pk).exclude(status="released").exists():
        return
    payment = order.payment
    if payment is not None and payment.open_amount >= amount > 0:
        ledger.prepayment_allocate(
            payment=payment, order_id=order.pk, amount=amount, acting_user=acting_user
        )


def _refresh_parent(parent_id: int) -> None:
    """A parent order completes when every sub-order is executed; it stays submitted until then."""
    parent = Order.objects.select_for_update().get(pk=parent_id)
    statuses = set(parent.sub_orders.values_list("status", flat=True))
    if statuses == {OrderStatus.COMPLETED}:
        parent.status = OrderStatus.COMPLETED
        parent.completed_at = timezone.now()
    elif statuses == {OrderStatus.CANCELLED}:
        parent.status = OrderStatus.CANCELLED
        parent.cancelled_at = timezone.now()
    elif statuses <= {OrderStatus.COMPLETED, OrderStatus.CANCELLED}:
        parent.status = OrderStatus.COMPLETED
        parent.completed_at = timezone.now()
        cancelled = parent.sub_orders.filter(status=OrderStatus.CANCELLED)
        parent.status_message = "Partly cancelled: " + ", ".join(
            child.display_number for child in cancelled
        )
    else:
        parent.status = OrderStatus.SUBMITTED
    parent.save(update_fields=["status", "completed_at", "cancelled_at", "status_message"])


def order_resume(*, order: Order, today: datetime.date) -> Order:
    """Continue an order a crash left *Submitted* midway through the chain (after its credit was
    reserved, or its card charged, but before execution). Safe to run twice, or beside a request
    still in flight: a held reservation is not taken again, a booked charge is not made again,
    and execution happens once under the order's lock."""
    fresh = Order.objects.get(pk=order.pk)
    if fresh.status != OrderStatus.SUBMITTED or fresh.sub_orders.exists():
        return fresh
    return _validate(order=fresh, acting_user=None, today=today)


# --- distributor and cancellation --------------------------------------------------------------


def order_execute_manually(*, order: Order, acting_user: User, today: datetime.date) -> Order:
    """The distributor executes an order submitted for manual execution (provider staff)."""
    if not acting_user.is_provider_staff:
        raise PermissionDenied("Only the distributor executes orders by hand.")
    fresh = Order.objects.get(pk=order.pk)
    _require_status(fresh, [OrderStatus.SUBMITTED_TO_DISTRIBUTOR], "executed")
    if not _charge_if_card(order=fresh, acting_user=acting_user, today=today):
        return Order.objects.get(pk=order.pk)
    return _execute(order=fresh, acting_user=acting_user, today=today)


CANCELLABLE = (
    OrderStatus.DRAFT,
    OrderStatus.PENDING_APPROVAL,
    OrderStatus.UNEXECUTED_CREDIT,
    OrderStatus.SUBMITTED_TO_DISTRIBUTOR,
    OrderStatus.PENDING,
)


@transaction.atomic
def order_cancel(*, order: Order, acting_user: User | None, reason: str = "") -> Order:
    """Cancel an order that has not executed; its reservation is released. A completed order is
    corrected by a correcting order, never cancelled. The reseller cancels its own and its
    customers' orders; a customer cancels its own before approval; the distributor cancels any."""
    order = _lock(order)
    if acting_user is not None and not _is_reseller_side(acting_user, order):
        own = acting_user.account_id == order.customer_id
        if not (own and order.status in (OrderStatus.DRAFT, OrderStatus.PENDING_APPROVAL)):
            raise PermissionDenied("You cannot cancel this order.")
    _require_status(order, CANCELLABLE, "cancelled")
    if order.reservation is not None:
        ledger.credit_reservation_release(reservation=order.reservation, acting_user=acting_user)
    ledger.prepayment_release(order_id=order.pk, acting_user=acting_user)
    order.status = OrderStatus.CANCELLED
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


# --- changing subscriptions ----------------------------------------------------------------------

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


def subscription_cancel_ends_now(*, status: str) -> bool:
    """Whether a (plain) cancellation ends a subscription in `status` today: a trial or a
    suspended one has no billed period to run to; a paid one runs to the end of the period
    already billed (*pending cancellation*). The panel's confirmation page says the same."""
    return status in (SubscriptionStatus.TRIAL, SubscriptionStatus.SUSPENDED)


def _may_manage(user: User | None, subscription: Subscription) -> bool:
    if user is None or user.is_provider_staff:
        return True
    return user.account_id in (subscription.account_id, subscription.credit_account_id)


@transaction.atomic
def subscription_cancel(
    *,
    subscription: Subscription,
    acting_user: User | None,
    today: datetime.date,
    immediately: bool = False,
) -> Order:
    """Cancel through a cancellation order. A trial ends at once (nothing was charged); a paid
    subscription runs to the end of the period already billed: *Pending cancellation* until its
    next billing date, when the billing run closes it instead of billing it.

    `immediately` (provider staff only) ends a paid subscription today and gives back the unused
    days of the period already billed, prorated by the one rule (billing.periods): a credit memo
    to the holder at its price and, for a resale customer's subscription, one to its reseller at
    cost."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if not _may_manage(acting_user, subscription):
        raise PermissionDenied("You cannot cancel this subscription.")
    if immediately and acting_user is not None and not acting_user.is_provider_staff:
        raise PermissionDenied("Only the provider cancels at once with a refund of unused days.")
    was = subscription.status
    ends_now = immediately or subscription_cancel_ends_now(status=was)
    if immediately and was != SubscriptionStatus.CANCELLED:
        subscription.status = SubscriptionStatus.CANCELLED
    else:
        _move(
            subscription,
            SubscriptionStatus.CANCELLED if ends_now else SubscriptionStatus.PENDING_CANCELLATION,
        )
    if ends_now:
        subscription.cancelled_at = timezone.now()
    refund = (
        immediately
        and was in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING_CANCELLATION)
        and subscription.product.billing_type != Product.BillingType.USAGE
        and subscription.billed_through is not None
        and subscription.billed_through > today
    )
    if refund:
        _refund_unused_days(subscription=subscription, today=today, acting_user=acting_user)
        subscription.billed_through = today
    if ends_now:
        subscription.next_billing_date = None
    subscription.save(
        update_fields=["status", "cancelled_at", "billed_through", "next_billing_date"]
    )
    now = timezone.now()
    order = Order.objects.create(
        order_type=OrderType.CANCELLATION,
        status=OrderStatus.COMPLETED,
        credit_account=subscription.credit_account,
        customer=subscription.account if subscription.account.is_customer else None,
        currency=subscription.currency,
        placed_by=acting_user if acting_user is not None and acting_user.pk else None,
        submitted_at=now,
        completed_at=now,
    )
    OrderItem.objects.create(
        order=order,
        product=subscription.product,
        quantity=subscription.quantity,
        unit_cost=subscription.unit_cost,
        unit_price=subscription.unit_price,
        total_cost=ZERO,
        total_amount=ZERO,
        delivery_status=DeliveryStatus.DELIVERED,
        subscription=subscription,
    )
    audit_record(
        actor=acting_user,
        action="subscription.cancel",
        obj=subscription,
        account=subscription.account,
        details={"status": subscription.status, "order": order.pk, "on": str(today)},
    )
    return order


def _refund_unused_days(
    *, subscription: Subscription, today: datetime.date, acting_user: User | None
) -> None:
    """Credit memos for the days from `today` to the end of the period already billed."""
    anchor = subscription.billing_anchor or subscription.start_date
    period = period_containing(anchor=anchor, billing_period=subscription.billing_period, day=today)
    if subscription.billed_through != period.end:  # the stub before the anchor
        period = nth_period(anchor=anchor, billing_period=subscription.billing_period, index=-1)
    end = subscription.billed_through
    holder, credit_account = subscription.account, subscription.credit_account
    parties = [
        (holder, subscription.unit_price if holder != credit_account else subscription.unit_cost)
    ]
    if holder != credit_account:
        parties.append((credit_account, subscription.unit_cost))
    days = f"{(end - today).days} of {period.days} days"
    for recipient, unit in parties:
        full = line_total(
            quantity=Decimal(subscription.quantity), unit_price=unit, currency=subscription.currency
        )
        amount = prorate(
            period_amount=full, period=period, from_date=today, to_date=end,
            currency=subscription.currency,
        )  # fmt: skip
        if amount <= 0:
            continue
        memo = ledger.document_create(
            doc_type="credit_memo",
            issuer=recipient.issuer,
            recipient=recipient,
            lines=[
                ledger.LineSpec(
                    description=f"{subscription.product.name} x {subscription.quantity}: unused "
                    f"days refunded ({days})",
                    unit_price=amount,
                    period_start_date=today,
                    period_end_date=end,
                )
            ],
            acting_user=acting_user,
            reference=f"subscription:{subscription.pk}:cancel",
        )
        ledger.document_issue(document=memo, issue_date=today, acting_user=acting_user)


@transaction.atomic
def subscription_suspend(
    *, subscription: Subscription, acting_user: User | None, reason: str = ""
) -> Subscription:
    """Suspend (credit hold, seed 001 §3). Provider staff or a scheduled job only."""
    if acting_user is not None and not acting_user.is_provider_staff:
        raise PermissionDenied("Only the provider suspends subscriptions.")
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    _move(subscription, SubscriptionStatus.SUSPENDED)
    subscription.save(update_fields=["status"])
    audit_record(
        actor=acting_user,
        action="subscription.suspend",
        obj=subscription,
        account=subscription.account,
        details={"reason": reason},
    )
    return subscription


@transaction.atomic
def subscription_resume(*, subscription: Subscription, acting_user: User | None) -> Subscription:
    """Reactivate a suspended subscription, or withdraw a pending cancellation."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status == SubscriptionStatus.PENDING_CANCELLATION:
        if not _may_manage(acting_user, subscription):
            raise PermissionDenied("You cannot change this subscription.")
    elif acting_user is not None and not acting_user.is_provider_staff:
        raise PermissionDenied("Only the provider reactivates suspended subscriptions.")
    was_suspended = subscription.status == SubscriptionStatus.SUSPENDED
    _move(subscription, SubscriptionStatus.ACTIVE)
    subscription.save(update_fields=["status"])
    audit_record(
        actor=acting_user, action="subscription.resume", obj=subscription,
        account=subscription.account,
    )  # fmt: skip
    if was_suspended:
        transaction.on_commit(
            lambda: signals.subscription_resumed.send(
                sender=Subscription, subscription=subscription, acting_user=acting_user
            )
        )
    return subscription


@transaction.atomic
def subscription_change_quantity(
    *, subscription: Subscription, quantity: int, acting_user: User | None, today: datetime.date
) -> Order:
    """Change a subscription's quantity through a change order (DESIGN.md "Orders").

    An increase takes effect today: the added units are charged at once for the rest of the
    period already billed, prorated by days (billing.periods), to the holder at its price and to
    its reseller at cost, and the reseller's available credit must cover the cost (checked under
    its lock). A decrease takes effect on the next billing date, when the smaller quantity renews:
    days already billed are not refunded, as cloud programmes do (a correcting order is the way to
    refund). Trials and usage subscriptions change at once, with nothing to charge."""
    check_quantity(quantity)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if not _may_manage(acting_user, subscription):
        raise PermissionDenied("You cannot change this subscription.")
    if subscription.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL):
        raise InvalidOrderTransition(
            f"A {subscription.get_status_display().lower()} subscription cannot change quantity."
        )
    current = subscription.renewal_quantity or subscription.quantity
    if quantity == current:
        raise ApplicationError(f"The quantity is already {quantity}.", field="quantity")
    product = subscription.product
    delta = quantity - subscription.quantity
    holder = subscription.account
    credit_account = subscription.credit_account
    now = timezone.now()
    order = Order(
        order_type=OrderType.CHANGE,
        status=OrderStatus.COMPLETED,
        credit_account=credit_account,
        customer=holder if holder.is_customer else None,
        currency=subscription.currency,
        placed_by=acting_user if acting_user is not None and acting_user.pk else None,
        submitted_at=now,
        completed_at=now,
    )
    charges: list[ledger.ChargeSpec] = []
    paid_now = (
        delta > 0
        and subscription.status == SubscriptionStatus.ACTIVE
        and product.billing_type != Product.BillingType.USAGE
        and subscription.billed_through is not None
        and subscription.billed_through > today
    )
    if paid_now:
        anchor = subscription.billing_anchor or subscription.start_date
        period = period_containing(
            anchor=anchor, billing_period=subscription.billing_period, day=today
        )
        if subscription.billed_through != period.end:  # a stub before the anchor
            period = nth_period(anchor=anchor, billing_period=subscription.billing_period, index=-1)
        days = f"prorated: {(subscription.billed_through - today).days} of {period.days} days"
        buys_itself = holder.pk == credit_account.pk

        def part(unit: Decimal) -> Decimal:
            full = line_total(quantity=Decimal(delta), unit_price=unit, currency=order.currency)
            return prorate(
                period_amount=full, period=period, from_date=today,
                to_date=subscription.billed_through, currency=order.currency,
            )  # fmt: skip

        order.total_cost = part(subscription.unit_cost)
        order.total_amount = order.total_cost if buys_itself else part(subscription.unit_price)
        ledger.credit_check(
            account=credit_account,
            amount=order.total_cost,
            also_lock=[] if buys_itself else [holder],
            field="quantity",
            message=CHANGE_INSUFFICIENT_CREDIT,
        )
        label = f"{product.name} +{delta} ({days})"
        common = {
            "kind": "adjustment",
            "subscription_id": subscription.pk,
            "quantity": Decimal(delta),
            "period_start": today,
            "period_end": subscription.billed_through,
            "charge_date": today,
            "tax_category": product.tax_category,
        }
        charges.append(
            ledger.ChargeSpec(
                credit_account,
                order.total_cost,
                label if buys_itself else f"{label} for {holder.name}",
                "",
                unit_price=subscription.unit_cost,
                **common,
            )
        )
        if not buys_itself:
            charges.append(
                ledger.ChargeSpec(
                    holder,
                    order.total_amount,
                    label,
                    "",
                    unit_price=subscription.unit_price,
                    **common,
                )
            )
    elif delta > 0 and subscription.status == SubscriptionStatus.TRIAL:
        # Nothing is charged during the trial, but its conversion bills the whole quantity: the
        # added units must fit the credit now, as a new order of them would (seed 004).
        added = line_total(
            quantity=Decimal(delta), unit_price=subscription.unit_cost, currency=order.currency
        )
        ledger.credit_check(
            account=credit_account,
            amount=added,
            field="quantity",
            message=CHANGE_INSUFFICIENT_CREDIT,
        )
    order.save()
    OrderItem.objects.create(
        order=order,
        product=product,
        quantity=abs(delta) or 1,
        unit_cost=subscription.unit_cost,
        unit_price=subscription.unit_price,
        total_cost=order.total_cost,
        total_amount=order.total_amount,
        delivery_status=DeliveryStatus.DELIVERED,
        subscription=subscription,
    )
    if (
        delta > 0
        or subscription.status == SubscriptionStatus.TRIAL
        or (product.billing_type == Product.BillingType.USAGE)
    ):
        subscription.quantity, subscription.renewal_quantity = quantity, None
    else:
        subscription.renewal_quantity = quantity
    subscription.save(update_fields=["quantity", "renewal_quantity"])
    reference = f"order:{order.pk}"
    charges = [dataclasses.replace(c, reference=reference) for c in charges]
    ledger.reseller_transactions_add(
        charges=charges,
        acting_user=acting_user,
        locked=True,
        also_audit=[
            (
                "subscription.change_quantity",
                subscription,
                holder.pk,
                {"from": current, "to": quantity, "order": order.pk, "on": str(today)},
            )
        ],
    )
    return order


# --- trial conversion --------------------------------------------------------------------------


def trials_convert_due(
    *,
    run_date: datetime.date,
    account_ids: Sequence[int] | None = None,
    acting_user: User | None = None,
) -> list[Order]:
    """Convert every trial that ended by `run_date` (of `account_ids`' holders, when given), each
    through its own conversion order (trial_convert). The billing-date run calls this first."""
    due = Subscription.objects.filter(
        status=SubscriptionStatus.TRIAL, next_billing_date__lte=run_date
    )
    if account_ids is not None:
        due = due.filter(account_id__in=account_ids)
    orders = []
    for pk in due.order_by("pk").values_list("pk", flat=True):
        order = trial_convert(subscription_id=pk, acting_user=acting_user, today=run_date)
        if order is not None:
            orders.append(order)
    return orders


def trial_convert(
    *, subscription_id: int, acting_user: User | None, today: datetime.date
) -> Order | None:
    """A trial that ended becomes paid through a conversion order (a renewal) that passes seed
    004's validation chain like a new order of the same quantity: the credit check and
    reservation, then the card token and charge. Executed, the subscription is active and its
    first paid period, from the trial's end, is charged (the same first-period rule as a new
    subscription). Without enough credit the order is *Unexecuted due to Insufficient Credit*
    (the reseller is notified and may accept it after paying or topping up, or cancel it, which
    ends the subscription); until then the subscription stays in its trial, and the billing run
    leaves it alone (no next billing date). None when there is nothing to convert (already
    converted or waiting for its order): safe to call twice, or from two runs at once."""
    with transaction.atomic():
        sub = (
            Subscription.objects.select_for_update()
            .select_related("product", "account")
            .get(pk=subscription_id)
        )
        if sub.status != SubscriptionStatus.TRIAL or sub.next_billing_date is None:
            return None
        if sub.next_billing_date > today:
            return None
        currency = sub.currency
        holder = sub.account
        buys_itself = holder.pk == sub.credit_account_id
        quantity = Decimal(sub.quantity)
        cost = line_total(quantity=quantity, unit_price=sub.unit_cost, currency=currency)
        amount = (
            cost
            if buys_itself
            else line_total(quantity=quantity, unit_price=sub.unit_price, currency=currency)
        )
        now = timezone.now()
        order = Order.objects.create(
            order_type=OrderType.RENEWAL,
            status=OrderStatus.SUBMITTED,
            credit_account_id=sub.credit_account_id,
            customer=holder if holder.is_customer else None,
            currency=currency,
            submitted_at=now,
            total_cost=cost,
            total_amount=amount,
            notes=f"{TRIAL_CONVERSION_NOTE}: {sub.product.name} (subscription {sub.pk}), "
            f"trial ended {sub.trial_end_date or sub.next_billing_date:%Y-%m-%d}.",
        )
        OrderItem.objects.create(
            order=order,
            product=sub.product,
            quantity=sub.quantity,
            unit_cost=sub.unit_cost,
            unit_price=sub.unit_price,
            total_cost=cost,
            total_amount=amount,
            subscription=sub,
        )
        sub.next_billing_date = None  # its conversion order decides from here
        sub.save(update_fields=["next_billing_date"])
        audit_record(
            actor=acting_user,
            action="subscription.trial_convert",
            obj=sub,
            account=holder,
            details={"order": order.pk, "on": str(today)},
        )
    return _validate(order=order, acting_user=acting_user, today=today)


def _is_conversion(order: Order) -> bool:
    return order.order_type == OrderType.RENEWAL


def _convert(*, order: Order, items: list[OrderItem]) -> list[ItemCharge]:
    """Execute a conversion order: each trial subscription becomes active, charged its first
    period from the trial's end (_first_period_charge, as _deliver charges a new one)."""
    charged: list[ItemCharge] = []
    for item in items:
        sub = Subscription.objects.select_for_update().get(pk=item.subscription_id)
        item.delivery_status = DeliveryStatus.DELIVERED
        item.save(update_fields=["delivery_status"])
        if sub.status != SubscriptionStatus.TRIAL:
            continue
        starts = sub.trial_end_date or sub.start_date
        anchor = sub.billing_anchor or starts
        first = _first_period_charge(
            item=item,
            anchor=anchor,
            billing_period=sub.billing_period,
            starts=starts,
            currency=order.currency,
        )
        _move(sub, SubscriptionStatus.ACTIVE)
        sub.billed_through = sub.next_billing_date = first.period_end
        sub.save(update_fields=["status", "billed_through", "next_billing_date"])
        item.subscription = sub
        charged.append(first)
    return charged


def _end_unconverted(*, order: Order, acting_user: User | None) -> None:
    """A cancelled conversion order ends its trial subscriptions: nothing was charged."""
    for sub in Subscription.objects.select_for_update().filter(
        pk__in=order.items.values("subscription_id"), status=SubscriptionStatus.TRIAL
    ):
        _move(sub, SubscriptionStatus.CANCELLED)
        sub.next_billing_date = None
        sub.save(update_fields=["status", "next_billing_date"])
        audit_record(
            actor=acting_user,
            action="subscription.cancel",
            obj=sub,
            account=sub.account,
            details={"reason": "trial conversion cancelled", "order": order.pk},
        )

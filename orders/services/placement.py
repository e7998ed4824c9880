"""Creating and submitting orders: a draft built and priced, then submitted to the validation
chain; the common case (no approval, card or manual step) placed in one transaction."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import ledger
from billing.money import ZERO, line_total
from orders import notifications
from orders.models import Order, OrderItem, OrderStatus, Product
from orders.quantities import check_quantity
from orders.selectors import catalogue_has, order_parties, price_quotes
from orders.services.common import INSUFFICIENT_CREDIT, _lock, _may_prepay, _require_status
from orders.services.execution import ITEMS_INSERT, ORDERS_INSERT, _charges, _deliver
from orders.services.validation import _validate
from orders.workflow import CREDIT_HOLD, order_move
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, PaymentMethod, User
from resellers.selectors import (
    account_with_parent,
    default_payment_method,
    order_approval_required,
)
from resellers.services import audit_events, audit_record


@dataclass(frozen=True)
class ItemSpec:
    product: Product
    quantity: int
    discount: Decimal = Decimal("0")


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
        customer = account_with_parent(pk=customer.pk, using=customer._state.db or "default")
    credit_account = order_parties(customer=customer, reseller=reseller)
    if credit_account.is_referral_reseller:
        raise ApplicationError("Referral resellers do not buy; their customers order directly.")
    orderer = customer or credit_account
    for spec in items:
        check_quantity(spec.quantity)
    products = {spec.product.pk: spec.product for spec in items}
    allowed = catalogue_has(account=orderer, product_ids=list(products))
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
    ORDERS_INSERT.insert([order])
    for item in items:
        item.order = order
    ITEMS_INSERT.insert(items)


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
    holder = order.customer if order.customer_id else order.credit_account
    if holder.credit_hold:  # dunning's (billing.dunning): it waits, and says why
        order_move(order, OrderStatus.UNEXECUTED_CREDIT)
        order.status_message = CREDIT_HOLD
        _save(order, items, ["status", "status_message", "submitted_at"], on_created)
        events.append(("order.unexecuted", order, order.credit_account_id, {"credit_hold": True}))
        audit_events(actor=acting_user, events=events)
        notifications.order_submitted(order=order)
        return False
    method = default_payment_method(account=order.credit_account)
    if order_approval_required(customer=order.customer, reseller_method=method):
        order_move(order, OrderStatus.PENDING_APPROVAL)
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
        order_move(order, OrderStatus.SUBMITTED)
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
        order_move(order, OrderStatus.UNEXECUTED_CREDIT)
        order.status_message = INSUFFICIENT_CREDIT
        _save(order, items, ["status", "status_message", "submitted_at"], on_created)
        events.append(("order.unexecuted", order, order.credit_account_id, {}))
        audit_events(actor=acting_user, events=events)
        notifications.order_submitted(order=order)
        notifications.insufficient_credit(order=order)
        return
    order_move(order, OrderStatus.COMPLETED)
    order.completed_at = order.submitted_at
    new = order.pk is None
    if new:
        ORDERS_INSERT.insert([order])  # the subscriptions point at it; the items come after them
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

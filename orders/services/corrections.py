"""Correcting orders (seed 001 §4): provider staff correct any completed order, detail by detail.

A correcting order (type `correction`) points at the order it corrects, and each of its details
at the detail it corrects (`corrects_item`), holding that detail's corrected state: quantity
(0 when the detail is cancelled), unit cost, unit price, and what each side is now charged for it
(`total_cost` for the credit account, `total_amount` for a resale customer). The original order,
its invoice and their numbers never change.

For each side of the detail (the credit account at cost; a resale reseller's customer at its
price), the charge is computed again by the rule that made it (billing.pricing's line total, the
detail's discount on the customer's side, prorated by days over the period its charge covered),
and the difference goes where the charge is:
- not yet invoiced: the charge itself is corrected in place (billing.ledger.corrections), so the
  next invoice or billing order carries the corrected amount, and no document is issued;
- invoiced: a debit memo for more; for less, a credit memo, or with the `refund` outcome a credit
  memo refunded at once through the gateway to the card payment that paid the invoice (a side
  that paid otherwise keeps the credit memo, and the result says so).

Never over-credit: every detail's rows are locked first, and a correction starts from the
detail's current corrected state, so the sum credited against a detail never exceeds what was
charged for it (a charge is never corrected below zero). The subscription a detail created takes
the corrected prices and quantity for its future periods; a cancelled detail ends it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import ledger
from billing.models import Application, GatewayCharge, ResellerTransaction
from billing.money import ZERO, line_total, to_decimal
from billing.periods import prorate
from orders import notifications
from orders.models import (
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderType,
    SubscriptionStatus,
)
from orders.quantities import check_quantity
from orders.selectors import (
    ChargedPeriod,
    cancelled_by,
    item_charged_period,
    item_corrected_state,
)
from orders.workflow import order_action_check, subscription_move
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.services import audit_record

OUTCOMES = ("credit_memo", "refund")
ORDER = ResellerTransaction.Kind.ORDER


@dataclass(frozen=True)
class CorrectionLine:
    """One detail's correction: any of its new unit price (the customer's), unit cost (the
    credit account's), quantity, the service period its charge covers; or `cancel`."""

    item_id: int
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    quantity: int | None = None
    cancel: bool = False
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None  # exclusive


@dataclass
class SideResult:
    account: Account
    before: Decimal
    after: Decimal
    how: str  # "unchanged", "corrected in place", "debit memo", "credit memo", "refund"
    documents: list = field(default_factory=list)
    note: str = ""


def _sides(order: Order) -> list[tuple[Account, str]]:
    resale = order.customer_id is not None and order.customer_id != order.credit_account_id
    sides = [(order.credit_account, "cost")]
    if resale:
        sides.append((order.customer, "price"))
    return sides


def _charge(
    *, side: str, quantity: int, unit: Decimal, currency: str, item, span: ChargedPeriod | None
) -> Decimal:
    """What the side is charged for the detail at `quantity` x `unit`: the line total (less the
    detail's discount on the customer's side), prorated over the period its charge covers."""
    whole = line_total(quantity=Decimal(quantity), unit_price=unit, currency=currency)
    if side == "price" and quantity > 0:
        whole = max(whole - item.discount, ZERO)
    if span is None or whole == 0:
        return whole
    return prorate(
        period_amount=whole,
        period=span.within,
        from_date=span.start,
        to_date=span.end,
        currency=currency,
    )


def _corrected_span(item, line, charged: ChargedPeriod | None) -> ChargedPeriod | None:
    """The period the corrected detail's charge covers: the line's new dates, else as it was.
    Raises ApplicationError (`lines`) for a period outside the billing period it fell in."""
    if line.period_start is None and line.period_end is None:
        return charged
    if charged is None:
        raise ApplicationError(
            f"Detail {item.pk} was charged for no period (a one-off, usage or trial): correct its "
            "price or quantity instead.",
            field="lines",
        )
    start = line.period_start or charged.start
    end = line.period_end or charged.end
    within = charged.within
    if not (within.start <= start < end <= within.end):
        raise ApplicationError(
            f"Detail {item.pk}'s period is corrected within the billing period it was charged "
            f"for, {within.start} to {within.end}: a start before its end, inside it.",
            field="lines",
        )
    return ChargedPeriod(start, end, within)


def _paid_by_card(txs) -> GatewayCharge | None:
    """The card charge whose payment paid the invoice of these charges with the most left to
    refund, if any."""
    invoices = {tx.invoice_id for tx in txs if tx.invoice_id}
    payments = Application.objects.filter(
        debit_document_id__in=invoices, unapplied_at__isnull=True
    ).values_list("credit_document_id", flat=True)
    charges = (  # locked: what is left to refund on each is read once per charge at a time
        GatewayCharge.objects.select_for_update(of=("self",))
        .filter(payment_id__in=payments, status=GatewayCharge.Status.SUCCEEDED)
        .select_related("payment_method")
    )
    return max(charges.order_by("pk"), key=ledger.charge_refundable, default=None)


def _in_place(txs, before: Decimal) -> ResellerTransaction | None:
    """The one charge that still holds `before` uninvoiced, unprepaid: corrected in place."""
    live = [tx for tx in txs if tx.status != ResellerTransaction.Status.CANCELLED]
    if (
        len(live) == 1
        and live[0].status == ResellerTransaction.Status.UNINVOICED
        and live[0].prepaid_by_id is None
        and live[0].amount == before
    ):
        return live[0]
    return None


def correction_settle(
    *,
    correction: Order | None,
    key: str,
    label: str,
    tax_category: str,
    account: Account,
    txs: list[ResellerTransaction],
    before: Decimal,
    after: Decimal,
    outcome: str,
    reason: str,
    acting_user: User,
    today: datetime.date,
    period: tuple[datetime.date, datetime.date] | None = None,
) -> SideResult:
    """Settle one side's corrected charge (`before` -> `after`): in place while the charge is
    not invoiced; else a debit memo for more, for less a credit memo, refunded at once with the
    `refund` outcome to the card payment that paid the invoice. `correction` is the correcting
    order the memos are referenced to (None only when the caller knows every side is settled in
    place); `key` makes the gateway refund's idempotency key unique within it. `period`: the
    service period the corrected charge covers, which a charge corrected in place takes."""
    result = SideResult(account, before, after, "unchanged")
    diff = after - before
    if diff == 0:
        return result
    charge = _in_place(txs, before)
    if charge is not None:
        if after == 0:
            ledger.reseller_transaction_cancel(
                transaction_=charge, reason=reason, acting_user=acting_user
            )
        else:
            ledger.reseller_transaction_correct(
                transaction_=charge,
                amount=after,
                reason=reason,
                acting_user=acting_user,
                period=period,
            )
        result.how = "corrected in place"
        return result
    memo = ledger.memo_issue(
        doc_type="debit_memo" if diff > 0 else "credit_memo",
        recipient=account,
        lines=[ledger.MemoLine(description=label, unit_price=abs(diff), tax_category=tax_category)],
        reason=reason,
        issue_date=today,
        acting_user=acting_user,
        reference=f"correction:{correction.pk}",
    )
    result.documents.append(memo)
    result.how = "debit memo" if diff > 0 else "credit memo"
    if diff < 0 and outcome == "refund":
        charge = _paid_by_card(txs)
        memo.refresh_from_db()
        left = ledger.charge_refundable(charge) if charge is not None else ZERO
        amount = min(memo.open_amount, left)
        if charge is None:
            result.note = "paid outside the gateway: a credit memo instead of a refund"
        elif amount <= 0:
            result.note = "the card payment was refunded already: a credit memo instead"
        if amount > 0:
            if amount < memo.open_amount:
                result.note = (
                    f"{amount} refunded, all the card paid; the rest stays as credit on the memo"
                )
            refund = ledger.credit_refund(
                credit_document=memo,
                amount=amount,
                payment_method=charge.payment_method,
                idempotency_key=f"correction:{correction.pk}:{key}:{account.pk}",
                issue_date=today,
                acting_user=acting_user,
                reason=reason,
                charge=charge,
            )
            result.documents.append(refund)
            result.how = "refund"
    return result


def order_correct(
    *,
    order: Order,
    lines: Sequence[CorrectionLine],
    outcome: str,
    reason: str,
    acting_user: User,
    today: datetime.date,
) -> tuple[Order, list[SideResult]]:
    """Correct `order` (provider staff) detail by detail: see the module's docstring. Returns
    the correcting order and, per detail and side, what was done. Bad input raises
    ApplicationError naming `lines`, `outcome` or `reason`, and nothing is written."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the order is corrected.", field="reason")
    if outcome not in OUTCOMES:
        raise ApplicationError("The outcome is credit_memo or refund.", field="outcome")
    if not lines:
        raise ApplicationError("Correct at least one detail.", field="lines")
    if len({line.item_id for line in lines}) != len(lines):
        raise ApplicationError("Each detail is corrected once per correction.", field="lines")
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("credit_account", "customer")
            .get(pk=order.pk)
        )
        order_action_check(user=acting_user, order=order, action="correct")
        if order.order_type == OrderType.CORRECTION:
            raise ApplicationError("Correct the original order, not its correction.", field="lines")
        items = {
            item.pk: item
            for item in OrderItem.objects.select_for_update(of=("self",))
            .select_related("product", "subscription", "order")
            .filter(Q(order=order) | Q(order__parent=order))
            .order_by("pk")
        }
        now = timezone.now()
        correction = Order.objects.create(
            order_type=OrderType.CORRECTION,
            status=OrderStatus.COMPLETED,
            corrects=order,
            credit_account=order.credit_account,
            customer=order.customer,
            currency=order.currency,
            placed_by=acting_user if acting_user is not None and acting_user.pk else None,
            submitted_at=now,
            completed_at=now,
            notes=reason,
        )
        results: list[SideResult] = []
        corrected: list[OrderItem] = []
        for line in lines:
            item = items.get(line.item_id)
            if item is None:
                raise ApplicationError(
                    f"Detail {line.item_id} is not one of {order.display_number}'s.",
                    field="lines",
                )
            results.extend(
                _correct_item(
                    order, correction, item, line, outcome, reason, acting_user, today, corrected
                )
            )
        correction.total_cost = sum((i.total_cost for i in corrected), ZERO)
        correction.total_amount = sum((i.total_amount for i in corrected), ZERO)
        correction.save(update_fields=["total_cost", "total_amount"])
        audit_record(
            actor=acting_user,
            action="order.correct",
            obj=order,
            account=order.credit_account,
            details={
                "reason": reason,
                "outcome": outcome,
                "correction": correction.pk,
                "sides": [
                    {
                        "account": r.account.pk,
                        "before": str(r.before),
                        "after": str(r.after),
                        "how": r.how,
                        "documents": [d.display_number for d in r.documents],
                        **({"note": r.note} if r.note else {}),
                    }
                    for r in results
                ],
            },
        )
        notifications.order_completed_webhook(order=correction)
    return correction, results


def _correct_item(order, correction, item, line, outcome, reason, acting_user, today, corrected):
    state = item_corrected_state(item=item)
    if (cancelling := cancelled_by(state)) is not None:
        raise ApplicationError(
            f"Detail {item.pk} was cancelled by {cancelling.display_number}: nothing is left "
            "to correct.",
            field="lines",
        )
    quantity = 0 if line.cancel else (state.quantity if line.quantity is None else line.quantity)
    if not line.cancel:
        if quantity == 0:
            raise ApplicationError("To take a detail to nothing, cancel it.", field="lines")
        check_quantity(quantity)
    unit_cost = state.unit_cost if line.unit_cost is None else to_decimal(line.unit_cost)
    unit_price = state.unit_price if line.unit_price is None else to_decimal(line.unit_price)
    if unit_cost < 0 or unit_price < 0:
        raise ApplicationError("A unit price or cost is never negative.", field="lines")
    span = _corrected_span(item, line, item_charged_period(item=item, state=state))
    sides = _sides(order)
    if len(sides) == 1:  # buying for itself: one price, the cost
        unit_price = unit_cost if line.unit_price is None else unit_price
        unit_cost = unit_price if line.unit_cost is None else unit_cost
    txs_all = list(
        ResellerTransaction.objects.select_for_update(of=("self",))
        .filter(order_item=item, kind=ORDER)
        .order_by("pk")
    )
    results = []
    new_totals = {}
    for account, side in sides:
        txs = [tx for tx in txs_all if tx.account_id == account.pk]
        if state is item:
            before = sum(
                (t.amount for t in txs if t.status != ResellerTransaction.Status.CANCELLED), ZERO
            )
            if not txs and (item.total_cost or item.total_amount):
                raise ApplicationError(
                    f"The charges of detail {item.pk} cannot be found (recorded before details "
                    "were linked): correct them by hand with memos.",
                    field="lines",
                )
        else:
            before = state.total_cost if side == "cost" else state.total_amount
        unit = unit_cost if side == "cost" else unit_price
        after = _charge(
            side=side, quantity=quantity, unit=unit, currency=order.currency, item=item, span=span
        )
        new_totals[side] = after
        results.append(
            correction_settle(
                correction=correction,
                key=str(item.pk),
                label=f"Correction of {item.product.name} (order {item.order.display_number})",
                tax_category=item.product.tax_category,
                account=account,
                txs=txs,
                before=before,
                after=after,
                outcome=outcome,
                reason=reason,
                acting_user=acting_user,
                today=today,
                period=(span.start, span.end) if span is not None else None,
            )
        )
    corrected_item = OrderItem.objects.create(
        order=correction,
        product=item.product,
        quantity=quantity,
        unit_cost=unit_cost,
        unit_price=unit_price,
        discount=item.discount,
        total_cost=new_totals["cost"],
        total_amount=new_totals.get("price", new_totals["cost"]),
        delivery_status=DeliveryStatus.CANCELLED if line.cancel else DeliveryStatus.DELIVERED,
        subscription=item.subscription,
        corrects_item=item,
        period_start=span.start if span is not None else None,
        period_end=span.end if span is not None else None,
    )
    corrected.append(corrected_item)
    _follow(
        item.subscription,
        quantity=quantity,
        unit_cost=unit_cost,
        unit_price=unit_price,
        cancel=line.cancel,
        acting_user=acting_user,
        reason=reason,
    )
    return results


def _follow(subscription, *, quantity, unit_cost, unit_price, cancel, acting_user, reason):
    """The subscription a detail created takes its corrected state for its future periods; a
    cancelled detail ends it (nothing more is billed)."""
    if subscription is None or subscription.status == SubscriptionStatus.CANCELLED:
        return
    before = (subscription.quantity, str(subscription.unit_cost), str(subscription.unit_price))
    if cancel:
        subscription_move(subscription, SubscriptionStatus.CANCELLED)
        subscription.cancelled_at = timezone.now()
        subscription.next_billing_date = None
        subscription.save(update_fields=["status", "cancelled_at", "next_billing_date"])
    else:
        subscription.quantity = quantity
        subscription.renewal_quantity = None
        subscription.unit_cost, subscription.unit_price = unit_cost, unit_price
        subscription.save(update_fields=["quantity", "renewal_quantity", "unit_cost", "unit_price"])
    audit_record(
        actor=acting_user,
        action="subscription.correct",
        obj=subscription,
        account=subscription.account,
        details={
            "reason": reason,
            "before": before,
            "after": (quantity, str(unit_cost), str(unit_price)),
            "cancelled": cancel,
        },
    )

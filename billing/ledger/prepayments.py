"""Prepaid orders: part of a payment set aside for an order, settled on its daily invoice."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone

from billing.ledger.applications import _apply, allocated_amounts
from billing.ledger.balances import _lock_documents
from billing.models import Document, DocumentType, PaymentAllocation, ResellerTransaction
from billing.money import ZERO
from resellers.models import Account, User
from resellers.services import audit_record


def prepayment_source_locked(*, account: Account, amount: Decimal) -> Document | None:
    """The oldest of the account's unapplied payments whose unallocated part covers `amount` on
    its own (a prepaid order is covered by a single payment), or None. The caller holds the
    account's lock (credit_available_locked), so two orders never allocate the same money."""
    if amount <= 0:
        return None
    payments = list(
        Document.objects.filter(
            recipient_id=account.pk,
            issuer_id=account.issuer_id,
            doc_type=DocumentType.PAYMENT,
            open_amount__gte=amount,
        )
        .live()
        .order_by("issue_date", "pk")
    )
    set_aside = allocated_amounts(p.pk for p in payments)
    for payment in payments:
        if payment.open_amount - set_aside.get(payment.pk, ZERO) >= amount:
            return payment
    return None


def prepayment_allocate(
    *, payment: Document, order_id: int, amount: Decimal, acting_user: User | None = None
) -> PaymentAllocation:
    """Set `amount` of `payment` aside for an order (in the caller's transaction, under the
    account's lock, right after prepayment_source_locked found it)."""
    allocation = PaymentAllocation.objects.create(
        account_id=payment.recipient_id,
        payment=payment,
        order_id=order_id,
        amount=amount,
        currency=payment.currency,
    )
    audit_record(
        actor=acting_user,
        action="payment.allocate",
        obj=allocation,
        account=payment.recipient,
        details={"payment": payment.display_number, "order": order_id, "amount": str(amount)},
    )
    return allocation


def prepayment_attach(
    *, order_id: int, charges: Sequence[ResellerTransaction], charged: Decimal
) -> None:
    """The order executed: its allocation follows its charges to the daily invoice. What was set
    aside beyond them (a prorated first period, a trial) goes back to the payment."""
    allocation = (
        PaymentAllocation.objects.select_for_update()
        .filter(order_id=order_id, status=PaymentAllocation.Status.ACTIVE)
        .first()
    )
    if allocation is None:
        return
    if charged <= 0 or not charges:
        _allocation_close(allocation, PaymentAllocation.Status.RELEASED)
        return
    ResellerTransaction.objects.filter(pk__in=[c.pk for c in charges]).update(prepaid_by=allocation)
    allocation.amount = min(allocation.amount, charged)
    allocation.save(update_fields=["amount"])


def prepayment_release(*, order_id: int, acting_user: User | None = None) -> None:
    """The order was cancelled or failed: its set-aside money is free again."""
    for allocation in PaymentAllocation.objects.select_for_update().filter(
        order_id=order_id, status=PaymentAllocation.Status.ACTIVE
    ):
        _allocation_close(allocation, PaymentAllocation.Status.RELEASED)
        audit_record(
            actor=acting_user, action="payment.release", obj=allocation,
            account=allocation.account,
        )  # fmt: skip


def _allocation_close(allocation: PaymentAllocation, status: str, invoice=None) -> None:
    allocation.status = status
    allocation.closed_at = timezone.now()
    allocation.invoice = invoice
    allocation.save(update_fields=["status", "closed_at", "invoice"])


def prepayment_settle(
    *, allocation: PaymentAllocation, invoice: Document, acting_user: User | None = None
) -> None:
    """Apply the allocated payment to the daily invoice that carries its order (the caller holds
    the recipient's lock), and close the allocation."""
    docs = _lock_documents([allocation.payment_id, invoice.pk])
    payment, debit = docs[allocation.payment_id], docs[invoice.pk]
    amount = min(allocation.amount, payment.open_amount, debit.open_amount)
    if amount > 0:
        _apply(credit=payment, debit=debit, amount=amount, acting_user=acting_user)
    _allocation_close(allocation, PaymentAllocation.Status.SETTLED, invoice=invoice)

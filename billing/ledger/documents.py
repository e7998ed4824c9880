"""Documents: drafts with their lines, issuing (totals, number, balance) and cancelling."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.ledger.applications import credit_balance_apply_locked
from billing.ledger.balances import _balance_adjust, _lock_account, _lock_documents, _signed
from billing.ledger.errors import InvalidTransition
from billing.ledger.events import document_issued
from billing.ledger.numbering import numbers_allocate
from billing.ledger.statuses import _settled_status, _transition
from billing.models import (
    CREDIT_TYPES,
    DEBIT_TYPES,
    LIVE_STATUSES,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
)
from billing.money import ZERO, line_total, round_money, to_decimal
from resellers.exceptions import ApplicationError
from resellers.models import Account, PaymentMethod, User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff


@dataclass(frozen=True)
class LineSpec:
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    tax_rate: Decimal = Decimal("0")
    period_start_date: datetime.date | None = None
    period_end_date: datetime.date | None = None
    # What a tax engine computed for the line (billing.taxes), kept as it is; None: the amount
    # times `tax_rate`, rounded.
    tax_amount: Decimal | None = None
    # What a line made by hand bills, when it is one product (the Product Mix reads it).
    product_id: int | None = None


@transaction.atomic
def document_create(
    *,
    doc_type: str,
    issuer: Account,
    recipient: Account,
    lines: Sequence[LineSpec],
    acting_user: User | None = None,
    reference: str = "",
    memo: str = "",
    due_date: datetime.date | None = None,
    payment_method: PaymentMethod | None = None,
) -> Document:
    """A draft document with its lines. Each line's amount is rounded once, here."""
    if doc_type not in DocumentType.values:
        raise ApplicationError(f"Unknown document type {doc_type!r}.", field="doc_type")
    if recipient.issuer_id != issuer.pk:
        # Every account has exactly one upstream issuer (DESIGN.md "Accounts").
        raise ApplicationError(f"{issuer} does not bill {recipient}.", field="recipient")
    if not lines:
        raise ApplicationError("A document needs at least one line.", field="lines")
    if payment_method is not None and payment_method.account_id != recipient.pk:
        raise ApplicationError(
            "The payment method belongs to another account.", field="payment_method"
        )
    currency = recipient.currency
    document = Document.objects.create(
        doc_type=doc_type,
        issuer=issuer,
        recipient=recipient,
        currency=currency,
        due_date=due_date,
        reference=reference,
        memo=memo,
        payment_method=payment_method,
    )
    DocumentLine.objects.bulk_create(
        [_line(document, position, spec) for position, spec in enumerate(lines, start=1)]
    )
    audit_record(actor=acting_user, action="document.create", obj=document, account=recipient)
    return document


def _line(document: Document, position: int, spec: LineSpec) -> DocumentLine:
    quantity = to_decimal(spec.quantity)
    unit_price = to_decimal(spec.unit_price)
    tax_rate = to_decimal(spec.tax_rate)
    amount = line_total(quantity=quantity, unit_price=unit_price, currency=document.currency)
    return DocumentLine(
        document=document,
        position=position,
        description=spec.description,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        tax_rate=tax_rate,
        tax_amount=(
            round_money(amount * tax_rate, document.currency)
            if spec.tax_amount is None
            else to_decimal(spec.tax_amount)
        ),
        period_start_date=spec.period_start_date,
        period_end_date=spec.period_end_date,
        product_id=spec.product_id,
    )


@transaction.atomic
def document_issue(
    *,
    document: Document,
    issue_date: datetime.date,
    acting_user: User | None = None,
    auto_apply: bool = True,
) -> Document:
    """Issue a draft: compute and store its totals, give it the next number, and book it.

    Invoices and debit memos fall due after the recipient's payment terms (on the issue date for
    prepaid accounts) unless the draft set a due date. A prepaid recipient's credit balance is
    applied automatically (`auto_apply=False` only for a refund, which is applied to the credit
    it refunds).
    """
    recipient = _lock_account(document.recipient_id)
    document = _lock_documents([document.pk])[document.pk]
    _transition(document, DocumentStatus.ISSUED)
    totals = document.lines.aggregate(subtotal=Sum("amount"), tax=Sum("tax_amount"))
    subtotal = totals["subtotal"] or ZERO
    tax_total = totals["tax"] or ZERO
    total = subtotal + tax_total
    if total < 0:
        raise ApplicationError("A document's total cannot be negative.", field="lines")
    if document.doc_type in CREDIT_TYPES | {DocumentType.REFUND} and total <= 0:
        raise ApplicationError("Payments, credit memos and refunds must be positive.")
    document.subtotal, document.tax_total, document.total = subtotal, tax_total, total
    document.open_amount = total
    document.issue_date = issue_date
    if document.due_date is None and document.doc_type in DEBIT_TYPES:
        document.due_date = issue_date + datetime.timedelta(days=recipient.payment_terms_days)
    document.number = numbers_allocate(issuer_id=document.issuer_id, doc_type=document.doc_type)
    document.issued_at = timezone.now()
    if total == 0:
        document.status = _settled_status(document)
        document.settled_at = document.issued_at
    document.save()
    debt, credit = _signed(document, total)
    _balance_adjust(
        issuer_id=document.issuer_id,
        recipient_id=document.recipient_id,
        currency=document.currency,
        open_debt=debt,
        credit=credit,
    )
    audit_record(
        actor=acting_user,
        action="document.issue",
        obj=document,
        account=recipient,
        details={"number": document.display_number, "total": str(total)},
    )
    document_issued.send(sender=Document, document=document)
    if auto_apply and recipient.credit_terms == Account.CreditTerms.PREPAID:
        credit_balance_apply_locked(
            issuer_id=document.issuer_id, recipient=recipient, acting_user=acting_user
        )
        document.refresh_from_db()
    return document


@transaction.atomic
def document_cancel(
    *, document: Document, acting_user: User | None = None, reason: str = ""
) -> Document:
    """Cancel a draft, or an issued document with nothing applied to it. Its number stays used;
    it then counts in no figure. A document with applications must be unlinked first."""
    require_provider_staff(acting_user, "cancel documents")
    recipient = _lock_account(document.recipient_id)
    document = _lock_documents([document.pk])[document.pk]
    was_live = document.status in LIVE_STATUSES
    if was_live and document.open_amount != document.total:
        raise InvalidTransition(
            f"{document.display_number} has applications; unlink them before cancelling."
        )
    _transition(document, DocumentStatus.CANCELLED)
    released = document.open_amount
    document.open_amount = ZERO  # a cancelled document leaves nothing open
    document.cancelled_at = timezone.now()
    document.save(update_fields=["status", "open_amount", "cancelled_at"])
    if was_live:
        debt, credit = _signed(document, released)
        _balance_adjust(
            issuer_id=document.issuer_id,
            recipient_id=document.recipient_id,
            currency=document.currency,
            open_debt=-debt,
            credit=-credit,
        )
    audit_record(
        actor=acting_user,
        action="document.cancel",
        obj=document,
        account=recipient,
        details={"reason": reason},
    )
    return document

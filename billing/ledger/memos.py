"""Memos by hand (seed 001 §4, DESIGN.md "Documents"): provider staff issue a debit memo or a
credit memo to any account, with lines and a reason, taxed by the same tax engines as invoices
(billing.taxes) and numbered like every document. Resellers never create them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from billing.ledger.documents import LineSpec, document_create, document_issue
from billing.models import Document, DocumentType
from billing.money import line_total, to_decimal
from billing.taxes.calculator import tax_calculate
from billing.taxes.engines import TaxableLine
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff

MEMO_TYPES = (DocumentType.DEBIT_MEMO, DocumentType.CREDIT_MEMO)


@dataclass(frozen=True)
class MemoLine:
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    tax_category: str = "standard"


@transaction.atomic
def memo_issue(
    *,
    doc_type: str,
    recipient: Account,
    lines: Sequence[MemoLine],
    reason: str,
    issue_date: datetime.date,
    acting_user: User | None,
    reference: str = "",
) -> Document:
    """Issue a debit memo (the recipient owes more) or a credit memo (it owes less: its credit
    balance rises and is applied like any credit document) from the recipient's issuer. Each
    line is taxed by the issuer's taxation rules for the recipient, as an invoice line of the same
    tax category would be; a tax engine that fails issues nothing. Audited with the reason."""
    require_provider_staff(acting_user, "issue debit and credit memos")
    if doc_type not in MEMO_TYPES:
        raise ApplicationError(
            "Only a debit memo or a credit memo is issued by hand.", field="doc_type"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the memo is issued.", field="reason")
    if recipient.issuer is None:
        raise ApplicationError("The provider issues memos; it receives none.", field="recipient")
    if not lines:
        raise ApplicationError("A memo needs at least one line.", field="lines")
    amounts = []
    for line in lines:
        quantity, unit_price = to_decimal(line.quantity), to_decimal(line.unit_price)
        if quantity <= 0 or unit_price <= 0:
            raise ApplicationError("Each line has a positive quantity and price.", field="lines")
        amounts.append(
            line_total(quantity=quantity, unit_price=unit_price, currency=recipient.currency)
        )
    taxed = tax_calculate(
        issuer=recipient.issuer,
        recipient=recipient,
        currency=recipient.currency,
        on_date=issue_date,
        lines=[
            TaxableLine(
                key=str(i),
                amount=amount,
                tax_category=line.tax_category or "standard",
                description=line.description,
                quantity=to_decimal(line.quantity),
            )
            for i, (line, amount) in enumerate(zip(lines, amounts, strict=True))
        ],
    )
    tax = {result.key: result for result in taxed}
    document = document_create(
        doc_type=doc_type,
        issuer=recipient.issuer,
        recipient=recipient,
        lines=[
            LineSpec(
                description=line.description,
                unit_price=to_decimal(line.unit_price),
                quantity=to_decimal(line.quantity),
                tax_rate=tax[str(i)].rate,
                tax_amount=tax[str(i)].amount,
            )
            for i, line in enumerate(lines)
        ],
        acting_user=acting_user,
        reference=reference or f"memo: {reason}"[:100],
    )
    document = document_issue(document=document, issue_date=issue_date, acting_user=acting_user)
    audit_record(
        actor=acting_user,
        action="document.memo",
        obj=document,
        account=recipient,
        details={
            "reason": reason,
            "type": doc_type,
            "number": document.display_number,
            "total": str(document.total),
        },
    )
    return document

"""A document's status moves, and the status its open amount settles it in."""

from __future__ import annotations

from decimal import Decimal

from billing.ledger.errors import InvalidTransition
from billing.models import DEBIT_TYPES, Document, DocumentStatus

# Status moves a document may make. Anything else is refused here and by the database trigger
# (billing/migrations/0003_ledger_guards.py).
TRANSITIONS: dict[str, frozenset[str]] = {
    DocumentStatus.DRAFT: frozenset({DocumentStatus.ISSUED, DocumentStatus.CANCELLED}),
    DocumentStatus.ISSUED: frozenset(
        {DocumentStatus.PAID, DocumentStatus.CLOSED, DocumentStatus.CANCELLED}
    ),
    DocumentStatus.PAID: frozenset({DocumentStatus.ISSUED}),
    DocumentStatus.CLOSED: frozenset({DocumentStatus.ISSUED}),
    DocumentStatus.CANCELLED: frozenset(),
}


def _transition(document: Document, new_status: str) -> None:
    if new_status not in TRANSITIONS[document.status]:
        raise InvalidTransition(
            f"{document.display_number} cannot go from {document.status} to {new_status}."
        )
    document.status = new_status


def settled_status(*, doc_type: str, open_amount: Decimal) -> str:
    """The status an issued document's open amount puts it in: issued while anything is open;
    then paid (a debit document) or closed (a credit document). The billing runs issue their
    invoices by it too."""
    if open_amount > 0:
        return DocumentStatus.ISSUED
    return DocumentStatus.PAID if doc_type in DEBIT_TYPES else DocumentStatus.CLOSED


def _settled_status(document: Document) -> str:
    return settled_status(doc_type=document.doc_type, open_amount=document.open_amount)

"""Row locks and the cached pair balance.

Locking rule: every write that changes what an account owes or holds (documents, applications,
reservations, reseller transactions) first locks that account's row (`select_for_update` on
resellers.Account), then updates the cached Balance of the (issuer, recipient) pair in the same
transaction. The credit check takes the same lock, so it always sees a consistent state.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F

from billing.models import DEBIT_TYPES, Balance, Document
from billing.money import ZERO, CurrencyMismatch
from resellers.models import Account


def _lock_account(account_id: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_id)


def _lock_documents(ids: Iterable[int]) -> dict[int, Document]:
    """Lock documents in id order (a fixed order, so two writers never deadlock)."""
    rows = Document.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {d.pk: d for d in rows}


def _balance_adjust(
    *, issuer_id: int, recipient_id: int, currency: str, open_debt: Decimal, credit: Decimal
) -> None:
    """Move the cached pair balance. Call only while holding the recipient's account lock."""
    row, _ = Balance.objects.get_or_create(
        issuer_id=issuer_id, recipient_id=recipient_id, defaults={"currency": currency}
    )
    if row.currency != currency:
        raise CurrencyMismatch(f"Balance is kept in {row.currency}, not {currency}.")
    Balance.objects.filter(pk=row.pk).update(
        open_debt=F("open_debt") + open_debt, credit_balance=F("credit_balance") + credit
    )


def _signed(document: Document, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(open debt delta, credit balance delta) for `amount` of `document`'s open amount."""
    return (amount, ZERO) if document.doc_type in DEBIT_TYPES else (ZERO, amount)

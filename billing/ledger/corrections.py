"""Corrected reseller transactions (seed 001 §4, issue 11 item 3): provider staff correct the
amount of a transaction not yet invoiced, or cancel it, with a reason. The corrected transaction
follows the standard flow: it reaches the account's next billing order (or daily invoice) with
its new amount. An invoiced transaction is never changed here: a correcting order corrects what
was invoiced, with a memo or a refund.

A prepaid transaction (set aside against a payment for a prepaid order) is not corrected here
either: its payment was matched to the old amount."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from billing.ledger.balances import _lock_account
from billing.models import ResellerTransaction
from billing.money import round_money, to_decimal
from resellers.exceptions import ApplicationError
from resellers.models import User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff

UNINVOICED = ResellerTransaction.Status.UNINVOICED


def _lock_correctable(tx: ResellerTransaction) -> ResellerTransaction:
    """The transaction, locked with its account (account first, as every credit check locks),
    if it may still be corrected in place."""
    _lock_account(tx.account_id)
    locked = (
        ResellerTransaction.objects.select_for_update(of=("self",))
        .select_related("invoice")
        .get(pk=tx.pk)
    )
    if locked.status == ResellerTransaction.Status.INVOICED:
        number = locked.invoice.display_number if locked.invoice_id else "an invoice"
        raise ApplicationError(
            f"This transaction is already invoiced on {number}: correct it with a correcting "
            "order of the order it came from, which issues a memo or a refund.",
            field="status",
        )
    if locked.status != UNINVOICED:
        raise ApplicationError(f"This transaction is {locked.get_status_display().lower()}.",
                               field="status")  # fmt: skip
    if locked.prepaid_by_id is not None:
        raise ApplicationError(
            "This transaction is prepaid by a payment set aside for its order: correct the order.",
            field="status",
        )
    return locked


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why.", field="reason")
    return reason


@transaction.atomic
def reseller_transaction_correct(
    *, transaction_: ResellerTransaction, amount: Decimal, reason: str, acting_user: User | None
) -> ResellerTransaction:
    """Give an uninvoiced transaction its corrected amount (positive: a charge; negative: a
    credit, such as a refund adjustment), audited with the reason and the amount before and
    after. Its account's available credit follows at once."""
    require_provider_staff(acting_user, "correct reseller transactions")
    reason = _reason(reason)
    tx = _lock_correctable(transaction_)
    amount = to_decimal(amount)
    if round_money(amount, tx.currency) != amount:
        raise ApplicationError("The amount has more decimals than the currency.", field="amount")
    if amount == tx.amount:
        raise ApplicationError(f"The amount is already {amount}.", field="amount")
    before = tx.amount
    tx.amount = amount
    tx.save(update_fields=["amount"])
    audit_record(
        actor=acting_user,
        action="reseller_transaction.correct",
        obj=tx,
        account=tx.account,
        details={"reason": reason, "before": str(before), "after": str(amount)},
    )
    return tx


@transaction.atomic
def reseller_transaction_cancel(
    *, transaction_: ResellerTransaction, reason: str, acting_user: User | None
) -> ResellerTransaction:
    """Cancel an uninvoiced transaction: it reaches no invoice and counts against no credit."""
    require_provider_staff(acting_user, "cancel reseller transactions")
    reason = _reason(reason)
    tx = _lock_correctable(transaction_)
    tx.status = ResellerTransaction.Status.CANCELLED
    tx.save(update_fields=["status"])
    audit_record(
        actor=acting_user,
        action="reseller_transaction.cancel",
        obj=tx,
        account=tx.account,
        details={"reason": reason, "amount": str(tx.amount)},
    )
    return tx

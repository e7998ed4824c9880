"""Corrected reseller transactions (seed 001 §4, issue 11 item 3): provider staff correct the
amount of a transaction not yet invoiced, or cancel it, with a reason. The corrected transaction
follows the standard flow: it reaches the account's next billing order (or daily invoice) with
its new amount. An invoiced transaction is never changed here: a correcting order corrects what
was invoiced, with a memo or a refund.

A prepaid transaction (set aside against a payment for a prepaid order) is not corrected here
either: its payment was matched to the old amount.

Refunded at once (seed 001 §4: "an option, configured when the correction is made, to refund
directly to the reseller's payment method, without the need to wait for the billing order"): a
transaction corrected to a credit (a negative amount, such as a refund adjustment) may be paid
out now instead of lowering the next billing order. A credit memo for it is issued (taxed like the
billing order would have taxed it), refunded at once to the account's payment method (a card
through the gateway, against a charge that card paid; other methods offline), and the
transaction is settled by that memo: it never reaches the billing order. A charge (a positive
amount) is never refunded: the account has not paid it yet, and its billing order invoices it."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from billing.ledger.balances import _lock_account
from billing.ledger.memos import MemoLine, memo_issue
from billing.ledger.refunds import charge_refundable, credit_refund
from billing.models import Document, GatewayCharge, ResellerTransaction
from billing.money import round_money, to_decimal
from resellers.exceptions import ApplicationError
from resellers.models import PaymentMethod, User
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
    *,
    transaction_: ResellerTransaction,
    amount: Decimal,
    reason: str,
    acting_user: User | None,
    refund_to: PaymentMethod | None = None,
    idempotency_key: str = "",
    issue_date: datetime.date | None = None,
    period: tuple[datetime.date, datetime.date] | None = None,
) -> ResellerTransaction:
    """Give an uninvoiced transaction its corrected amount (positive: a charge; negative: a
    credit, such as a refund adjustment), audited with the reason and the amount before and
    after. Its account's available credit follows at once. With `refund_to` (a payment method
    of the account; `idempotency_key` and `issue_date` then required), a credit is refunded at
    once and settled: see the module's docstring. The refund's memo: `tx.invoice`. `period`:
    the corrected service period [start, end) the charge covers (a correcting order's)."""
    require_provider_staff(acting_user, "correct reseller transactions")
    reason = _reason(reason)
    tx = _lock_correctable(transaction_)
    amount = to_decimal(amount)
    if round_money(amount, tx.currency) != amount:
        raise ApplicationError("The amount has more decimals than the currency.", field="amount")
    if amount == tx.amount:
        raise ApplicationError(f"The amount is already {amount}.", field="amount")
    if refund_to is not None and amount >= 0:
        raise ApplicationError(
            f"Only a credit is refunded at once: {amount} {tx.currency} is a charge the account "
            "has not paid yet, which its billing order invoices.",
            field="refund",
        )
    before = tx.amount
    tx.amount = amount
    details = {"reason": reason, "before": str(before), "after": str(amount)}
    if period is not None and period != (tx.period_start_date, tx.period_end_date):
        details["period_before"] = [str(tx.period_start_date), str(tx.period_end_date)]
        details["period_after"] = [str(period[0]), str(period[1])]
        tx.period_start_date, tx.period_end_date = period
    tx.save(update_fields=["amount", "period_start_date", "period_end_date"])
    if refund_to is not None:
        details.update(_refund_at_once(tx, refund_to, reason, acting_user, idempotency_key,
                                       issue_date))  # fmt: skip
    audit_record(
        actor=acting_user,
        action="reseller_transaction.correct",
        obj=tx,
        account=tx.account,
        details=details,
    )
    return tx


def _refund_at_once(tx, method, reason, acting_user, idempotency_key, issue_date) -> dict:
    if method.account_id != tx.account_id or not method.is_active:
        raise ApplicationError("Not one of the account's payment methods.", field="payment_method")
    memo = memo_issue(
        doc_type="credit_memo",
        recipient=tx.account,
        lines=[
            MemoLine(
                description=tx.description,
                unit_price=-tx.amount,
                tax_category=tx.tax_category or "standard",
            )
        ],
        reason=reason,
        issue_date=issue_date,
        acting_user=acting_user,
        reference=f"transaction:{tx.pk}",
    )
    memo = Document.objects.get(pk=memo.pk)
    charge = None
    if method.kind == PaymentMethod.Kind.CARD:  # the latest charge that can take it all back
        charges = GatewayCharge.objects.select_for_update().filter(
            payment_method=method,
            status=GatewayCharge.Status.SUCCEEDED,
            amount__gte=memo.open_amount,
        )
        charge = next(
            (c for c in charges.order_by("-pk") if charge_refundable(c) >= memo.open_amount),
            None,
        )
        if charge is None:  # raised inside the correction's transaction: the memo goes too
            raise ApplicationError(
                "That card paid no charge this credit could go back to: refund to another "
                "method, or let the billing order carry the credit.",
                field="payment_method",
            )
    refund = credit_refund(
        credit_document=memo,
        amount=memo.open_amount,
        payment_method=method,
        idempotency_key=idempotency_key,
        issue_date=issue_date,
        acting_user=acting_user,
        reason=reason,
        charge=charge,
    )
    tx.status = ResellerTransaction.Status.INVOICED
    tx.invoice = memo
    tx.save(update_fields=["status", "invoice"])
    return {"refunded": refund.display_number, "memo": memo.display_number}


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

"""Paying chosen documents by card (seed 003's first way of receiving payments): an account pays
open invoices and debit memos it received, in full or in part, through the payment gateway.

The payment is a payment document from the account to its issuer (`billing.ledger.card_charge`),
applied to exactly the chosen documents, oldest due first among them when it does not cover all;
what is left over stays as credit balance (a prepaid account's is then applied to the rest of its
open debt, the ledger's ordinary rule). Never over-applied: each document takes at most its open
amount at the moment of booking, whatever was paid on it meanwhile.

Rules decided here:
- An account pays its issuer (DESIGN.md). The provider always takes cards; a resale reseller
  takes its customers' cards only when it turned card payments on (`Account.card_payments`):
  otherwise they pay it offline, as its invoices' payment details say.
- Who may pay: the account's own users, provider staff, and the system (no acting user).
- Idempotency as for top-ups (`billing.topups`): the caller's key, scoped to the account
  (`pay:<account id>:<key>`), books one payment however often it is sent; the same key with
  another amount, card or documents is refused. A decline or a gateway failure writes nothing;
  after a timeout, the same key completes the payment without charging twice. A payment is
  recorded as sent (GatewayAttempt, committed) before the gateway is called: a retry of a key
  already sent completes that charge (its amount and card) even if the documents were paid
  otherwise meanwhile; what they no longer take stays as credit balance.
- A wallet payment (seed 003's second way, `wallet_pay`) is this same payment over all the
  account's open invoices and debit memos (`open_payable_documents`), for any amount: the oldest
  due are paid first, the rest stays as credit balance. With nothing open it is refused (a
  top-up is the way to pay in ahead), unless its key was already booked (a replay).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet

from billing.models import Document, DocumentStatus, DocumentType, GatewayAttempt, GatewayCharge
from billing.money import ZERO
from billing.topups import (
    TopupDeclined,
    TopupError,
    TopupKeyReused,
    charge_amount,
    check_card,
    check_key,
    gateway_charge,
)
from resellers.exceptions import ApplicationError
from resellers.models import Account, PaymentMethod, User
from resellers.tenancy import require_own_or_staff

logger = logging.getLogger(__name__)

KEY_PREFIX = "pay:"
PAYABLE_TYPES = (DocumentType.INVOICE, DocumentType.DEBIT_MEMO)
NOTHING_OPEN = "Nothing is open to pay: top up instead to pay in ahead."


def payment_key(*, account: Account, idempotency_key: str) -> str:
    """The gateway and GatewayCharge key of a document payment: the caller's key, scoped."""
    return f"{KEY_PREFIX}{account.pk}:{idempotency_key}"


def payment_by_key(*, account: Account, idempotency_key: str) -> GatewayCharge | None:
    return (
        GatewayCharge.objects.filter(
            idempotency_key=payment_key(account=account, idempotency_key=idempotency_key)
        )
        .select_related("payment")
        .first()
    )


def open_payable_documents(*, account: Account) -> QuerySet[Document]:
    """The account's open invoices and debit memos, oldest due first: what a wallet payment
    pays (seed 003's second way)."""
    return Document.objects.filter(
        recipient_id=account.pk,
        doc_type__in=PAYABLE_TYPES,
        status=DocumentStatus.ISSUED,
        open_amount__gt=0,
    ).order_by("due_date", "issue_date", "pk")


def card_payment_refusal(*, account: Account) -> ApplicationError | None:
    """Why `account` cannot pay its issuer by card online, or None when it can."""
    issuer = account.issuer
    if issuer is None:
        return TopupError("The provider pays no one.", field="account")
    if issuer.takes_cards:
        return None
    return TopupError(
        f"{issuer.name} does not take card payments online. Pay it by bank transfer or as it "
        "tells you on the invoice; the payment is then recorded for you.",
        field="payment_method",
    )


def payable_documents(documents: Sequence[Document], *, account: Account) -> list[Document]:
    """The chosen documents as they will be paid, oldest due first (then oldest issued). Raises
    TopupError on `documents` when one is not an open invoice or debit memo of `account`."""
    if not documents:
        raise TopupError("Choose at least one document to pay.", field="documents")
    documents = list(Document.objects.filter(pk__in=[d.pk for d in documents]))  # as they are now
    for document in documents:
        if document.recipient_id != account.pk:
            raise TopupError("That document is not this account's.", field="documents")
        if document.doc_type not in PAYABLE_TYPES:
            raise TopupError(
                f"{document.display_number} is not an invoice or a debit memo.", field="documents"
            )
        if document.status != DocumentStatus.ISSUED or document.open_amount <= 0:
            raise TopupError(f"{document.display_number} has nothing open.", field="documents")
    return sorted(documents, key=lambda d: (d.due_date or d.issue_date, d.issue_date, d.pk))


def still_open(documents: Sequence[Document], *, account: Account) -> list[Document]:
    """The chosen documents of `account` that are still open, oldest due first (a retry of a
    charge already sent pays what it still can; the rest is credit balance)."""
    ids = [d.pk for d in documents]
    return list(
        open_payable_documents(account=account)
        .filter(pk__in=ids)
        .order_by("due_date", "issue_date", "pk")
    )


def documents_pay(
    *,
    account: Account,
    documents: Sequence[Document],
    payment_method: PaymentMethod,
    idempotency_key: str,
    acting_user: User | None,
    today: datetime.date,
    amount: Decimal | str | None = None,
) -> Document:
    """Charge `payment_method` (a card of `account`) and apply the payment to `documents`: their
    open total when `amount` is None, else `amount` (any positive amount: less pays the oldest
    due first, more leaves the rest as credit balance).

    Raises PermissionDenied (not the account's user nor staff), TopupError naming the field
    (`documents`, `amount`, `payment_method`, `account`, `idempotency_key`), TopupKeyReused,
    TopupDeclined or TopupGatewayError; none of them writes anything."""
    require_own_or_staff(acting_user, account.pk, "You can pay only your own account's documents.")
    check_key(idempotency_key)
    booked = payment_by_key(account=account, idempotency_key=idempotency_key)
    if booked is not None:  # a replay: the documents it paid have nothing open any more
        asked = None if amount is None else charge_amount(amount, account.currency)
        if booked.payment_method_id != payment_method.pk or asked not in (None, booked.amount):
            raise TopupKeyReused(
                "This idempotency key was already used for another payment (another amount or "
                "card). Use a new key for a new payment."
            )
        return booked.payment
    key = payment_key(account=account, idempotency_key=idempotency_key)
    sent = GatewayAttempt.objects.filter(key=key).first()
    if sent is not None:  # sent before and not booked (a timeout): complete that very charge
        asked = None if amount is None else charge_amount(amount, account.currency)
        if sent.payment_method_id != payment_method.pk or asked not in (None, sent.amount):
            raise TopupKeyReused(
                "This idempotency key was already sent to the gateway with another amount or "
                "card. Use a new key for a new payment."
            )
        chosen = still_open(documents, account=account)
        amount = sent.amount
    else:
        chosen = payable_documents(documents, account=account)
        open_total = sum((d.open_amount for d in chosen), ZERO)
        amount = charge_amount(open_total if amount is None else amount, account.currency)
        refusal = card_payment_refusal(account=account)
        if refusal is not None:
            raise refusal
        if account.status != Account.Status.ACTIVE:
            raise TopupError("A closed account cannot pay online.", field="account")
        check_card(payment_method=payment_method, account=account, today=today)
        with transaction.atomic():  # committed before the call (callers hold no transaction)
            GatewayAttempt.objects.get_or_create(
                key=key,
                defaults={
                    "payment_method": payment_method,
                    "amount": amount,
                    "currency": account.currency,
                },
            )
    numbers = ", ".join(d.display_number for d in chosen) or "credit balance"
    try:
        payment = gateway_charge(
            payment_method=payment_method,
            amount=amount,
            idempotency_key=key,
            acting_user=acting_user,
            today=today,
            reference=f"Payment for {numbers}"[:100],
            apply_to=chosen,
        )
    except (TopupDeclined, TopupKeyReused):  # surely not charged: as if never sent
        GatewayAttempt.objects.filter(key=key).delete()
        raise
    logger.info(
        "payment %s of %s %s for account %s, applied to %s",
        payment.display_number,
        payment.total,
        payment.currency,
        account.pk,
        numbers,
    )
    return payment


def wallet_pay(
    *,
    account: Account,
    payment_method: PaymentMethod,
    amount: Decimal | str,
    idempotency_key: str,
    acting_user: User | None,
    today: datetime.date,
) -> Document:
    """A wallet payment (seed 003's second way): charge `amount` to `payment_method` and apply
    it to all the account's open invoices and debit memos, oldest due first; what is left over
    stays as credit balance. `documents_pay` over `open_payable_documents`, so one rule for the
    panel's wallet and the API's `apply_to: "oldest_due"`.

    Raises as `documents_pay`, and TopupError on `apply_to` when nothing is open (a replay of a
    booked key returns its payment even when that payment left nothing open)."""
    require_own_or_staff(acting_user, account.pk, "You can pay only your own account's documents.")
    check_key(idempotency_key)
    documents = list(open_payable_documents(account=account))
    if not documents and payment_by_key(account=account, idempotency_key=idempotency_key) is None:
        raise TopupError(NOTHING_OPEN, field="apply_to")
    return documents_pay(
        account=account,
        documents=documents,
        payment_method=payment_method,
        amount=amount,
        idempotency_key=idempotency_key,
        acting_user=acting_user,
        today=today,
    )

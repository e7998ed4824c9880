"""Applications: a credit document's open amount applied to a debit document's, by hand
(provider staff) or from the credit balance (oldest due first)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.ledger.balances import _balance_adjust, _lock_account, _lock_documents
from billing.ledger.errors import InvalidTransition
from billing.ledger.events import document_paid, payments_applied
from billing.ledger.statuses import _settled_status, _transition
from billing.models import (
    CREDIT_TYPES,
    DEBIT_TYPES,
    LIVE_STATUSES,
    Application,
    Document,
    DocumentStatus,
    DocumentType,
    PaymentAllocation,
)
from billing.money import ZERO, CurrencyMismatch, round_money, to_decimal
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.services import audit_record
from resellers.tenancy import require_own_or_staff, require_provider_staff

# What `document_paid` is sent for (billing.ledger.events): not refunds, which are settled.
PAYABLE_TYPES = frozenset({DocumentType.INVOICE, DocumentType.DEBIT_MEMO})


def _apply(
    *,
    credit: Document,
    debit: Document,
    amount: Decimal,
    acting_user: User | None,
) -> Application:
    """Book one application between two locked documents. The caller holds the account lock."""
    if credit.doc_type not in CREDIT_TYPES:
        raise ApplicationError(f"{credit.display_number} is not a credit document.")
    if debit.doc_type not in DEBIT_TYPES:
        raise ApplicationError(f"{debit.display_number} is not a debit document.")
    if (credit.issuer_id, credit.recipient_id) != (debit.issuer_id, debit.recipient_id):
        raise ApplicationError("Both documents must be between the same two accounts.")
    if credit.currency != debit.currency:
        raise CurrencyMismatch("Both documents must be in the same currency.")
    for doc in (credit, debit):
        if doc.status not in LIVE_STATUSES:
            raise InvalidTransition(f"{doc.display_number} is {doc.status}.")
    amount = to_decimal(amount)
    if amount <= 0:
        raise ApplicationError("The amount to apply must be positive.", field="amount")
    if round_money(amount, credit.currency) != amount:
        raise ApplicationError("The amount has more decimals than the currency.", field="amount")
    amount = round_money(amount, credit.currency)  # "20" is stored and shown as 20.00
    for doc in (credit, debit):
        if amount > doc.open_amount:
            raise ApplicationError(
                f"{amount} exceeds the open amount of {doc.display_number} ({doc.open_amount}).",
                field="amount",
            )
    now = timezone.now()
    debit_was = debit.status
    application = Application.objects.create(
        credit_document=credit,
        debit_document=debit,
        amount=amount,
        currency=credit.currency,
        applied_at=now,
        applied_by=acting_user if acting_user is not None and acting_user.pk else None,
    )
    for doc in (credit, debit):
        doc.open_amount -= amount
        new_status = _settled_status(doc)
        if new_status != doc.status:
            _transition(doc, new_status)
            doc.settled_at = now if doc.open_amount == 0 else None
        doc.save(update_fields=["open_amount", "status", "settled_at"])
    _balance_adjust(
        issuer_id=debit.issuer_id,
        recipient_id=debit.recipient_id,
        currency=debit.currency,
        open_debt=-amount,
        credit=-amount,
    )
    audit_record(
        actor=acting_user,
        action="application.create",
        obj=application,
        account_id=debit.recipient_id,
        details={
            "credit": credit.display_number,
            "debit": debit.display_number,
            "amount": str(amount),
        },
    )
    if (
        debit.status == DocumentStatus.PAID
        and debit_was != DocumentStatus.PAID
        and debit.doc_type in PAYABLE_TYPES
    ):
        document_paid.send(sender=Document, document=debit)
    return application


@transaction.atomic
def application_create(
    *,
    credit_document: Document,
    debit_document: Document,
    amount: Decimal,
    acting_user: User | None,
) -> Application:
    """Link part of a credit document to part of a debit document (provider staff only)."""
    require_provider_staff(acting_user, "link documents")
    _lock_account(debit_document.recipient_id)
    docs = _lock_documents([credit_document.pk, debit_document.pk])
    application = _apply(
        credit=docs[credit_document.pk],
        debit=docs[debit_document.pk],
        amount=amount,
        acting_user=acting_user,
    )
    payments_applied.send(sender=Document, recipient_id=debit_document.recipient_id)
    return application


@transaction.atomic
def application_remove(*, application: Application, acting_user: User | None) -> Application:
    """Unlink (provider staff only). The row stays, stamped with who unlinked it and when."""
    require_provider_staff(acting_user, "unlink documents")
    _lock_account(application.debit_document.recipient_id)
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.unapplied_at is not None:
        raise InvalidTransition("This application was already unlinked.")
    docs = _lock_documents([application.credit_document_id, application.debit_document_id])
    now = timezone.now()
    for doc in docs.values():
        doc.open_amount += application.amount
        new_status = _settled_status(doc)
        if new_status != doc.status:
            _transition(doc, new_status)
            doc.settled_at = None
        doc.save(update_fields=["open_amount", "status", "settled_at"])
    application.unapplied_at = now
    application.unapplied_by = acting_user if acting_user is not None and acting_user.pk else None
    application.save(update_fields=["unapplied_at", "unapplied_by"])
    debit = docs[application.debit_document_id]
    _balance_adjust(
        issuer_id=debit.issuer_id,
        recipient_id=debit.recipient_id,
        currency=debit.currency,
        open_debt=application.amount,
        credit=application.amount,
    )
    audit_record(
        actor=acting_user,
        action="application.remove",
        obj=application,
        account=debit.recipient,
        details={"amount": str(application.amount)},
    )
    return application


def credit_balance_apply_locked(
    *,
    issuer_id: int,
    recipient: Account,
    acting_user: User | None,
    debit_ids: Sequence[int] | None = None,
) -> list[Application]:
    """Apply open credit to open debt: debit documents oldest due first (then oldest issued),
    consuming credit documents oldest first. The caller holds the recipient's lock."""
    pair = Document.objects.filter(issuer_id=issuer_id, recipient_id=recipient.pk).open()
    debits = pair.debits()
    if debit_ids is not None:
        debits = debits.filter(pk__in=debit_ids)
    debit_list = list(debits.order_by("due_date", "issue_date", "pk").values_list("pk", flat=True))
    credit_list = list(pair.credits().order_by("issue_date", "pk").values_list("pk", flat=True))
    if not debit_list or not credit_list:
        return []
    docs = _lock_documents([*debit_list, *credit_list])
    set_aside = allocated_amounts(credit_list)
    made = []
    credits = iter(credit_list)
    credit = docs[next(credits)]
    for debit_id in debit_list:
        debit = docs[debit_id]
        while debit.open_amount > 0:
            while credit.open_amount - set_aside.get(credit.pk, ZERO) <= 0:
                next_id = next(credits, None)
                if next_id is None:
                    return made
                credit = docs[next_id]
            free = credit.open_amount - set_aside.get(credit.pk, ZERO)
            amount = min(debit.open_amount, free)
            made.append(_apply(credit=credit, debit=debit, amount=amount, acting_user=acting_user))
    return made


def allocated_amounts(payment_ids: Iterable[int]) -> dict[int, Decimal]:
    """What active allocations set aside of each payment (prepaid orders waiting for their daily
    invoice): no other debt may use it."""
    rows = (
        PaymentAllocation.objects.filter(
            payment_id__in=list(payment_ids), status=PaymentAllocation.Status.ACTIVE
        )
        .values("payment_id")
        .annotate(total=Sum("amount"))
    )
    return {row["payment_id"]: row["total"] for row in rows}


@transaction.atomic
def credit_balance_apply(
    *,
    recipient: Account,
    acting_user: User | None,
    debit_documents: Sequence[Document] | None = None,
) -> list[Application]:
    """Pay open documents with the credit balance (seed 002): the system picks the order, oldest
    due first. A term account chooses to do this; a prepaid account has it done automatically.
    `debit_documents` narrows it to the documents the user chose to pay."""
    require_own_or_staff(
        acting_user, recipient.pk, "You can pay only your own account's documents."
    )
    locked = _lock_account(recipient.pk)
    ids = None
    if debit_documents is not None:
        ids = [d.pk for d in debit_documents]
        if any(d.recipient_id != recipient.pk for d in debit_documents):
            raise ApplicationError("Those documents are not this account's.", field="documents")
    made = credit_balance_apply_locked(
        issuer_id=locked.issuer_id, recipient=locked, acting_user=acting_user, debit_ids=ids
    )
    if made:
        payments_applied.send(sender=Document, recipient_id=recipient.pk)
    return made

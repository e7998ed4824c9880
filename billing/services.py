"""Writes on the ledger. Each public function is one transaction.

Locking rule: every write that changes what an account owes or holds (documents, applications,
reservations, reseller transactions) first locks that account's row (`select_for_update` on
resellers.Account), then updates the cached Balance of the (issuer, recipient) pair in the same
transaction. The credit check takes the same lock, so it always sees a consistent state.
Numbers come from DocumentSequence in one UPDATE ... RETURNING, inside the issuing transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import (
    CREDIT_TYPES,
    DEBIT_TYPES,
    LIVE_STATUSES,
    Application,
    Balance,
    CreditReservation,
    Document,
    DocumentLine,
    DocumentSequence,
    DocumentStatus,
    DocumentType,
    PaymentAllocation,
    ResellerTransaction,
)
from billing.money import ZERO, CurrencyMismatch, line_total, round_money, to_decimal
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, PaymentMethod, User
from resellers.services import audit_events, audit_record


class InvalidTransition(ApplicationError):
    pass


class InsufficientCredit(ApplicationError):
    pass


# Status moves a document may make. Anything else is refused here and by the database trigger.
TRANSITIONS: dict[str, frozenset[str]] = {
    DocumentStatus.DRAFT: frozenset({DocumentStatus.ISSUED, DocumentStatus.CANCELLED}),
    DocumentStatus.ISSUED: frozenset(
        {DocumentStatus.PAID, DocumentStatus.CLOSED, DocumentStatus.CANCELLED}
    ),
    DocumentStatus.PAID: frozenset({DocumentStatus.ISSUED}),
    DocumentStatus.CLOSED: frozenset({DocumentStatus.ISSUED}),
    DocumentStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class LineSpec:
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    tax_rate: Decimal = Decimal("0")
    period_start_date: datetime.date | None = None
    period_end_date: datetime.date | None = None


# --- helpers -----------------------------------------------------------------------------------


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


def _transition(document: Document, new_status: str) -> None:
    if new_status not in TRANSITIONS[document.status]:
        raise InvalidTransition(
            f"{document.display_number} cannot go from {document.status} to {new_status}."
        )
    document.status = new_status


def _settled_status(document: Document) -> str:
    if document.open_amount > 0:
        return DocumentStatus.ISSUED
    return DocumentStatus.PAID if document.doc_type in DEBIT_TYPES else DocumentStatus.CLOSED


def _require_provider_staff(user: User | None, what: str) -> None:
    if user is not None and not user.is_provider_staff:
        raise PermissionDenied(f"Only provider staff can {what}.")


def numbers_allocate(*, issuer_id: int, doc_type: str, count: int = 1) -> int:
    """Take `count` consecutive numbers for (issuer, type) and return the first.

    One statement: it creates the sequence on first use and otherwise increments it, holding the
    row lock until the caller's transaction ends. A rolled-back transaction gives its numbers back,
    so numbering stays gap-free; a billing chunk takes its whole block at once.
    """
    if count < 1:
        raise ValueError("count must be positive")
    table = DocumentSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (issuer_id, doc_type, last_number) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (issuer_id, doc_type) DO UPDATE "
            f"SET last_number = {table}.last_number + EXCLUDED.last_number "
            f"RETURNING last_number",
            [issuer_id, doc_type, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


# --- documents ---------------------------------------------------------------------------------


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
        tax_amount=round_money(amount * tax_rate, document.currency),
        period_start_date=spec.period_start_date,
        period_end_date=spec.period_end_date,
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
    if auto_apply and recipient.credit_terms == Account.CreditTerms.PREPAID:
        _apply_credit_balance(
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
    _require_provider_staff(acting_user, "cancel documents")
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


# --- applications ------------------------------------------------------------------------------


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
    _require_provider_staff(acting_user, "link documents")
    _lock_account(debit_document.recipient_id)
    docs = _lock_documents([credit_document.pk, debit_document.pk])
    return _apply(
        credit=docs[credit_document.pk],
        debit=docs[debit_document.pk],
        amount=amount,
        acting_user=acting_user,
    )


@transaction.atomic
def application_remove(*, application: Application, acting_user: User | None) -> Application:
    """Unlink (provider staff only). The row stays, stamped with who unlinked it and when."""
    _require_provider_staff(acting_user, "unlink documents")
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


def _apply_credit_balance(
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
    if (
        acting_user is not None
        and not acting_user.is_provider_staff
        and acting_user.account_id != recipient.pk
    ):
        raise PermissionDenied("You can pay only your own account's documents.")
    locked = _lock_account(recipient.pk)
    ids = None
    if debit_documents is not None:
        ids = [d.pk for d in debit_documents]
        if any(d.recipient_id != recipient.pk for d in debit_documents):
            raise ApplicationError("Those documents are not this account's.", field="documents")
    return _apply_credit_balance(
        issuer_id=locked.issuer_id, recipient=locked, acting_user=acting_user, debit_ids=ids
    )


# --- payments and refunds ----------------------------------------------------------------------


@transaction.atomic
def payment_record(
    *,
    recipient: Account,
    amount: Decimal,
    received_date: datetime.date,
    acting_user: User | None,
    payment_method: PaymentMethod | None = None,
    reference: str = "",
    apply_to: Sequence[Document] = (),
    idempotency_key: str = "",
) -> Document:
    """Record money received from `recipient` by its issuer (an offline payment recorded by staff,
    or a gateway charge): an issued payment document. Applied to `apply_to` in the given order,
    and to anything open automatically when the recipient is prepaid. With an `idempotency_key`
    (a form's submission token), sending the same payment twice records it once."""
    from billing.models import PaymentRequestKey

    if idempotency_key:
        _lock_account(recipient.pk)  # serialises two submissions of one key
        known = PaymentRequestKey.objects.filter(key=idempotency_key).first()
        if known is not None:
            return known.payment
    amount = to_decimal(amount)
    if amount <= 0:
        raise ApplicationError("A payment must be positive.", field="amount")
    if round_money(amount, recipient.currency) != amount:
        raise ApplicationError("The amount has more decimals than the currency.", field="amount")
    if payment_method is not None and payment_method.account_id != recipient.pk:
        raise ApplicationError(
            "The payment method belongs to another account.", field="payment_method"
        )
    payment = document_create(
        doc_type=DocumentType.PAYMENT,
        issuer=recipient.issuer,
        recipient=recipient,
        lines=[LineSpec(description="Payment received", unit_price=amount)],
        acting_user=acting_user,
        reference=reference,
        payment_method=payment_method,
    )
    payment = document_issue(document=payment, issue_date=received_date, acting_user=acting_user)
    if idempotency_key:
        PaymentRequestKey.objects.create(key=idempotency_key, payment=payment)
    for target in apply_to:
        docs = _lock_documents([payment.pk, target.pk])
        credit, debit = docs[payment.pk], docs[target.pk]
        if credit.open_amount == 0:
            break
        if debit.recipient_id != recipient.pk:
            raise ApplicationError("That document is not this account's.", field="apply_to")
        _apply(
            credit=credit,
            debit=debit,
            amount=min(credit.open_amount, debit.open_amount),
            acting_user=acting_user,
        )
    payment.refresh_from_db()
    return payment


@transaction.atomic
def refund_issue(
    *,
    credit_document: Document,
    amount: Decimal,
    issue_date: datetime.date,
    acting_user: User | None,
    reference: str = "",
) -> Document:
    """Pay money back out of a payment or credit memo's open amount: a refund (a debit document)
    applied against the credit document it refunds."""
    _require_provider_staff(acting_user, "issue refunds")
    refund = document_create(
        doc_type=DocumentType.REFUND,
        issuer=credit_document.issuer,
        recipient=credit_document.recipient,
        lines=[
            LineSpec(
                description=f"Refund of {credit_document.display_number}",
                unit_price=to_decimal(amount),
            )
        ],
        acting_user=acting_user,
        reference=reference,
        payment_method=credit_document.payment_method,
    )
    locked = _lock_documents([credit_document.pk])[credit_document.pk]
    if to_decimal(amount) > locked.open_amount:
        raise ApplicationError(
            f"Only {locked.open_amount} of {locked.display_number} is open.", field="amount"
        )
    refund = document_issue(
        document=refund, issue_date=issue_date, acting_user=acting_user, auto_apply=False
    )
    docs = _lock_documents([credit_document.pk, refund.pk])
    _apply(
        credit=docs[credit_document.pk],
        debit=docs[refund.pk],
        amount=refund.total,
        acting_user=acting_user,
    )
    refund.refresh_from_db()
    return refund


# --- credit, reservations and reseller transactions ---------------------------------------------


def credit_available_locked(*, account: Account, also_lock: Sequence[Account] = ()) -> Decimal:
    """Lock `account` (and `also_lock`, all in id order) and return its available credit. Call it
    inside the transaction that then records what the credit is spent on
    (reseller_transactions_add): the locks hold until that transaction ends, so no concurrent
    order can spend the same credit.

    Two statements on purpose: under READ COMMITTED, a SELECT ... FOR UPDATE that waited for the
    lock re-reads the locked row but computes its other expressions (the sums of charges and
    reservations) from the snapshot taken before it waited, missing what the previous holder
    just committed. The figures are read by a second statement, with a fresh snapshot, after the
    lock is held."""
    return _lock_with_available(account, also_lock)[1]


def _lock_with_available(
    account: Account, also_lock: Sequence[Account] = ()
) -> tuple[Account, Decimal]:
    from billing.selectors import account_financials

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credit_available_locked needs the caller's transaction")
    ids = sorted({account.pk, *(other.pk for other in also_lock)})
    locked = {
        row.pk: row for row in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    return locked[account.pk], account_financials(account=locked[account.pk]).available_credit


def credit_check(
    *,
    account: Account,
    amount: Decimal,
    also_lock: Sequence[Account] = (),
    field: str | None = None,
    message: str | None = None,
) -> Decimal:
    """The credit check of seed 004's validation chain, the one every change that raises what an
    account will be billed passes (a new order through credit_reserve, a quantity raise, a
    trial's raise and conversion): lock `account` (and `also_lock`, in id order) for the
    caller's transaction and raise InsufficientCredit (on `field`) when `amount` is more than
    its available credit. Returns the available credit."""
    return _credit_check(account, amount, also_lock, field=field, message=message)[1]


def _credit_check(account, amount, also_lock=(), *, field=None, message=None):
    amount = to_decimal(amount)
    locked, available = _lock_with_available(account, also_lock)
    if amount > available:
        raise InsufficientCredit(
            message or f"Insufficient credit: {amount} needed, {available} available.",
            field=field,
            extra={"available": available, "needed": amount},
        )
    return locked, available


@transaction.atomic
def credit_reserve(
    *, account: Account, amount: Decimal, reference: str, acting_user: User | None = None
) -> CreditReservation:
    """Hold `amount` of `account`'s available credit for `reference` (e.g. an order).

    The check (credit_check) and the reservation happen under the account's row lock, so
    concurrent callers never together reserve more than is available. Raises InsufficientCredit.
    """
    amount = to_decimal(amount)
    if amount <= 0:
        raise ApplicationError("A reservation must be positive.", field="amount")
    locked, _ = _credit_check(account, amount)
    reservation = CreditReservation.objects.create(
        account=locked, amount=amount, currency=locked.currency, reference=reference
    )
    audit_record(
        actor=acting_user,
        action="credit.reserve",
        obj=reservation,
        account=locked,
        details={"amount": str(amount), "reference": reference},
    )
    return reservation


@transaction.atomic
def credit_reservation_release(
    *, reservation: CreditReservation, acting_user: User | None = None
) -> CreditReservation:
    """Give the credit back (order cancelled or failed). Releasing twice changes nothing."""
    _lock_account(reservation.account_id)
    reservation = CreditReservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != CreditReservation.Status.ACTIVE:
        return reservation
    reservation.status = CreditReservation.Status.RELEASED
    reservation.closed_at = timezone.now()
    reservation.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=acting_user, action="credit.release", obj=reservation, account=reservation.account
    )
    return reservation


@transaction.atomic
def reseller_transaction_record(
    *,
    account: Account,
    amount: Decimal,
    description: str,
    reference: str = "",
    reservation: CreditReservation | None = None,
    acting_user: User | None = None,
    charge_date: datetime.date | None = None,
) -> ResellerTransaction:
    """Record a charge waiting for the reseller's billing order. If it comes from a reserved order,
    the reservation is consumed in the same transaction, so the credit is never counted twice."""
    amount = to_decimal(amount)
    if round_money(amount, account.currency) != amount:
        raise ApplicationError("The amount has more decimals than the currency.", field="amount")
    locked = _lock_account(account.pk)
    if reservation is not None:
        reservation = CreditReservation.objects.select_for_update().get(pk=reservation.pk)
        if reservation.account_id != locked.pk:
            raise ApplicationError("The reservation belongs to another account.")
        if reservation.status != CreditReservation.Status.ACTIVE:
            raise InvalidTransition(f"The reservation is already {reservation.status}.")
        reservation.status = CreditReservation.Status.CONSUMED
        reservation.closed_at = timezone.now()
        reservation.save(update_fields=["status", "closed_at"])
    tx = ResellerTransaction.objects.create(
        account=locked,
        amount=amount,
        currency=locked.currency,
        description=description,
        reference=reference,
        reservation=reservation,
        charge_date=charge_date or timezone.localdate(),
    )
    _cycles_start([tx])
    audit_record(
        actor=acting_user,
        action="reseller_transaction.record",
        obj=tx,
        account=locked,
        details={"amount": str(amount)},
    )
    return tx


def _cycles_start(rows: Sequence[ResellerTransaction]) -> None:
    """A first charge anchors its account's billing cycle (one statement when anchored)."""
    first: dict[int, datetime.date] = {}
    for row in rows:
        first[row.account_id] = min(row.charge_date, first.get(row.account_id, row.charge_date))
    from billing.periods import MONTHLY, nth_period

    for day in sorted(set(first.values())):
        ids = sorted(a for a, d in first.items() if d == day)
        Account.objects.filter(pk__in=ids, billing_anchor__isnull=True).update(
            billing_anchor=day,
            next_billing_date=nth_period(anchor=day, billing_period=MONTHLY, index=1).start,
        )


# --- card charges through the gateway ----------------------------------------------------------


def card_charge(
    *,
    payment_method: PaymentMethod,
    amount: Decimal,
    idempotency_key: str,
    charge_date: datetime.date,
    acting_user: User | None = None,
    reference: str = "",
) -> Document:
    """Charge a card through the gateway and book the payment (a credit document).

    Not one transaction on purpose: the gateway is called outside any, so no row lock is held
    while it answers. Safety comes from the idempotency key: a key already booked returns its
    payment without calling the gateway; a key the gateway saw but we did not book (timeout,
    crash) is sent again with the same key and the gateway returns the first charge. Raises
    CardDeclined, GatewayError (GatewayTimeout included) and writes nothing then.
    """
    from billing.gateway import get_gateway
    from billing.models import GatewayCharge

    amount = to_decimal(amount)
    if amount <= 0:
        raise ApplicationError("A charge must be positive.", field="amount")
    booked = GatewayCharge.objects.filter(idempotency_key=idempotency_key).first()
    if booked is not None:
        return booked.payment
    if payment_method.kind != PaymentMethod.Kind.CARD or not payment_method.token_is_active(
        charge_date
    ):
        raise ApplicationError("The card has no active token.", field="payment_method")
    account = payment_method.account
    charge_reference = get_gateway().charge(
        token=payment_method.gateway_token,
        amount=amount,
        currency=account.currency,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            payment = payment_record(
                recipient=account,
                amount=amount,
                received_date=charge_date,
                acting_user=acting_user,
                payment_method=payment_method,
                reference=reference or charge_reference,
            )
            GatewayCharge.objects.create(
                idempotency_key=idempotency_key,
                payment_method=payment_method,
                amount=amount,
                currency=account.currency,
                status=GatewayCharge.Status.SUCCEEDED,
                gateway_reference=charge_reference,
                payment=payment,
            )
    except IntegrityError:
        # A concurrent call with the same key booked it first: theirs is the one payment.
        return GatewayCharge.objects.get(idempotency_key=idempotency_key).payment
    return payment


@dataclass(frozen=True)
class ChargeSpec:
    account: Account
    amount: Decimal
    description: str
    reference: str = ""
    charge_date: datetime.date | None = None  # today when not given
    kind: str = ResellerTransaction.Kind.ORDER
    subscription_id: int | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    tax_category: str = ""


def billing_cycles_start(
    *, account_ids: Iterable[int], day: datetime.date
) -> dict[int, datetime.date]:
    """Anchor the billing cycle of each account that has none on `day` (its first charge or
    subscription) and return every given account's anchor. Its first cycle date is a month on:
    what falls due before it waits for it (billing.runs). Only rows still unanchored are
    written, so an anchored account's row is never locked here."""
    from billing.periods import MONTHLY, nth_period

    ids = sorted(set(account_ids))
    if not ids:
        return {}
    Account.objects.filter(pk__in=ids, billing_anchor__isnull=True).update(
        billing_anchor=day,
        next_billing_date=nth_period(anchor=day, billing_period=MONTHLY, index=1).start,
    )
    return dict(Account.objects.filter(pk__in=ids).values_list("pk", "billing_anchor"))


@transaction.atomic(savepoint=False)
def reseller_transactions_add(
    *,
    charges: Sequence[ChargeSpec],
    acting_user: User | None = None,
    locked: bool = False,
    also_audit: Sequence[tuple] = (),
    reservation: CreditReservation | None = None,
) -> list[ResellerTransaction]:
    """Record several charges at once, with no reservation behind them: for a caller that checked
    the credit and records the charges in one transaction. Locks the accounts (one statement, in
    id order) unless the caller says it holds their locks (`locked`, e.g. from
    credit_available_locked); inserts the rows, then their audit rows together with the caller's
    `also_audit` events, in one statement each."""
    charges = [c for c in charges if c.amount != 0]
    for charge in charges:
        if round_money(charge.amount, charge.account.currency) != charge.amount:
            raise ApplicationError("The amount has more decimals than the currency.")
    if not locked and charges:
        ids = sorted({c.account.pk for c in charges})
        list(
            Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk")
        )
    if reservation is not None:  # an order's reserved credit, consumed by its charges
        reservation = CreditReservation.objects.select_for_update().get(pk=reservation.pk)
        if reservation.account_id not in {c.account.pk for c in charges}:
            raise ApplicationError("The reservation belongs to another account.")
        if reservation.status != CreditReservation.Status.ACTIVE:
            raise InvalidTransition(f"The reservation is already {reservation.status}.")
        reservation.status = CreditReservation.Status.CONSUMED
        reservation.closed_at = timezone.now()
        reservation.save(update_fields=["status", "closed_at"])
    today = timezone.localdate()
    rows = ResellerTransaction.objects.bulk_create(
        [
            ResellerTransaction(
                account=c.account,
                amount=c.amount,
                currency=c.account.currency,
                description=c.description,
                reference=c.reference,
                charge_date=c.charge_date or today,
                kind=c.kind,
                subscription_id=c.subscription_id,
                quantity=c.quantity,
                unit_price=c.unit_price,
                period_start_date=c.period_start,
                period_end_date=c.period_end,
                tax_category=c.tax_category,
                reservation=reservation
                if reservation is not None and i == 0 and c.account.pk == reservation.account_id
                else None,
            )
            for i, c in enumerate(charges)
        ]
    )
    if any(c.account.billing_anchor is None for c in charges):
        _cycles_start(rows)
    audit_events(
        actor=acting_user,
        events=[
            *also_audit,
            *(
                ("reseller_transaction.record", row, row.account_id, {"amount": str(row.amount)})
                for row in rows
            ),
        ],
    )
    return rows


# --- prepaid orders: payments allocated to them -------------------------------------------------


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

"""Money in and out: payments recorded by staff, card charges through the gateway, refunds."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing.gateway import get_gateway
from billing.ledger.applications import _apply, credit_balance_apply_locked
from billing.ledger.balances import _lock_account, _lock_documents
from billing.ledger.documents import LineSpec, document_create, document_issue
from billing.ledger.events import payments_applied
from billing.models import Document, DocumentType, GatewayCharge, PaymentRequestKey
from billing.money import round_money, to_decimal
from resellers.exceptions import ApplicationError
from resellers.models import Account, PaymentMethod, User
from resellers.tenancy import require_provider_staff


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
    or a gateway charge): an issued payment document. Applied to `apply_to` first, in the given
    order, each up to its open amount (never more: what is left stays as credit balance); then,
    when the recipient is prepaid, its credit balance to anything still open (oldest due first).
    With an `idempotency_key` (a form's submission token), sending the same payment twice
    records it once."""
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
    # The chosen documents first: a prepaid recipient's automatic application would otherwise
    # spend the payment on older debt before the documents it was meant for.
    payment = document_issue(
        document=payment,
        issue_date=received_date,
        acting_user=acting_user,
        auto_apply=not apply_to,
    )
    if idempotency_key:
        PaymentRequestKey.objects.create(key=idempotency_key, payment=payment)
    for target in apply_to:
        docs = _lock_documents([payment.pk, target.pk])
        credit, debit = docs[payment.pk], docs[target.pk]
        if credit.open_amount == 0:
            break
        if debit.recipient_id != recipient.pk:
            raise ApplicationError("That document is not this account's.", field="apply_to")
        if debit.open_amount <= 0:  # paid meanwhile: the money stays as credit balance
            continue
        _apply(
            credit=credit,
            debit=debit,
            amount=min(credit.open_amount, debit.open_amount),
            acting_user=acting_user,
        )
    if apply_to and recipient.credit_terms == Account.CreditTerms.PREPAID:
        credit_balance_apply_locked(
            issuer_id=payment.issuer_id, recipient=recipient, acting_user=acting_user
        )
    payment.refresh_from_db()
    payments_applied.send(sender=Document, recipient_id=recipient.pk)
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
    require_provider_staff(acting_user, "issue refunds")
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


def card_charge(
    *,
    payment_method: PaymentMethod,
    amount: Decimal,
    idempotency_key: str,
    charge_date: datetime.date,
    acting_user: User | None = None,
    reference: str = "",
    apply_to: Sequence[Document] = (),
) -> Document:
    """Charge a card through the gateway and book the payment (a credit document), applied to
    `apply_to` first (`payment_record`).

    Not one transaction on purpose: the gateway is called outside any, so no row lock is held
    while it answers. Safety comes from the idempotency key: a key already booked returns its
    payment without calling the gateway; a key the gateway saw but we did not book (timeout,
    crash) is sent again with the same key and the gateway returns the first charge. Raises
    CardDeclined, GatewayError (GatewayTimeout included) and writes nothing then.
    """
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
                apply_to=apply_to,
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

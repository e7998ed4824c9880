"""Refunding an unapplied credit balance (issue 11, item 5): money paid back out of a credit
document (a payment, a credit memo) to one of the account's payment methods.

To a card, the money goes back through the gateway against the card charge that paid it: only a
payment taken by card can be refunded to that card, and never more than is still open on it
(lago-api#4805: refund only what was paid). To cash, deposit or bank transfer, staff pay it back
offline and the refund records that. Either way one refund document (a debit document, numbered)
is applied against the credit document, so the credit balance falls by the amount.

The credit document stays locked while the gateway answers: two refunds of one payment can never
both pass the open-amount check and both reach the gateway. A gateway that declines or fails
leaves nothing written; a retry with the same idempotency key is safe (the gateway answers the
first refund again, and a key already booked returns its refund without calling it).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from billing.gateway import get_gateway
from billing.ledger.balances import _lock_documents
from billing.ledger.payments import refund_issue
from billing.models import CREDIT_TYPES, Document, GatewayCharge
from billing.money import ZERO, round_money, to_decimal
from resellers.exceptions import ApplicationError
from resellers.models import PaymentMethod, User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff


def charge_refundable(charge: GatewayCharge) -> Decimal:
    """What is left to refund on a card charge: its amount less the refunds booked against it.
    The gateway refuses more; we refuse it first, with a clear answer."""
    refunded = charge.refund_rows.aggregate(s=Sum("amount"))["s"] or ZERO
    return charge.amount - refunded


def credit_refund(
    *,
    credit_document: Document,
    amount: Decimal,
    payment_method: PaymentMethod,
    idempotency_key: str,
    issue_date: datetime.date,
    acting_user: User | None,
    reason: str = "",
    charge: GatewayCharge | None = None,
) -> Document:
    """Refund `amount` of `credit_document`'s open (unapplied) amount to `payment_method`; the
    refund document. Raises ApplicationError naming `amount` or `payment_method`, and the
    gateway's CardDeclined / GatewayError, writing nothing then. `idempotency_key` goes to the
    gateway as it is: make it unique per refund across users (the API prefixes the user).
    `charge`: the card charge to refund against when it is not the document's own (a correcting
    order refunds its credit memo to the card payment that paid the corrected invoice)."""
    require_provider_staff(acting_user, "issue refunds")
    amount = to_decimal(amount)
    with transaction.atomic():
        document = _lock_documents([credit_document.pk])[credit_document.pk]
        # Checked under the lock: a concurrent call with this key that booked first is the one.
        booked = GatewayCharge.objects.filter(
            idempotency_key=f"refund:{idempotency_key}", status=GatewayCharge.Status.REFUNDED
        ).first()
        if booked is not None:
            return booked.payment
        if document.doc_type not in CREDIT_TYPES:
            raise ApplicationError("Only a payment or a credit memo is refunded.", field="document")
        if amount <= 0 or round_money(amount, document.currency) != amount:
            raise ApplicationError("A refund is a positive amount in cents.", field="amount")
        if amount > document.open_amount:
            raise ApplicationError(
                f"Only {document.open_amount} {document.currency} of {document.display_number} "
                "is unapplied: a refund never exceeds it.",
                field="amount",
            )
        if payment_method.account_id != document.recipient_id:
            raise ApplicationError(
                "Not one of the account's payment methods.", field="payment_method"
            )
        gateway_reference = ""
        if payment_method.kind == PaymentMethod.Kind.CARD:
            if charge is None:
                charge = GatewayCharge.objects.filter(
                    payment=document, payment_method=payment_method
                ).first()
            elif charge.payment_method_id != payment_method.pk:
                raise ApplicationError(
                    "That card did not take this charge.", field="payment_method"
                )
            if charge is None:
                raise ApplicationError(
                    "Money goes back to a card only against a payment taken from that card; "
                    "refund this one offline (cash or bank transfer) or apply it.",
                    field="payment_method",
                )
            # Locked: two refunds against one charge (from two credit documents) see each other.
            charge = GatewayCharge.objects.select_for_update().get(pk=charge.pk)
            if amount > (left := charge_refundable(charge)):
                raise ApplicationError(
                    f"Only {left} {charge.currency} of the card payment is left to refund: "
                    "a refund never exceeds what the card paid.",
                    field="amount",
                )
            gateway_reference = get_gateway().refund(
                charge_reference=charge.gateway_reference,
                amount=amount,
                currency=document.currency,
                idempotency_key=idempotency_key,
            )
        refund = refund_issue(
            credit_document=document,
            amount=amount,
            issue_date=issue_date,
            acting_user=acting_user,
            reference=gateway_reference or f"offline refund: {payment_method.get_kind_display()}",
        )
        if gateway_reference:
            GatewayCharge.objects.create(
                idempotency_key=f"refund:{idempotency_key}",
                payment_method=payment_method,
                amount=amount,
                currency=document.currency,
                status=GatewayCharge.Status.REFUNDED,
                gateway_reference=gateway_reference,
                payment=refund,
                refunded_charge=charge,
            )
        audit_record(
            actor=acting_user,
            action="document.refund",
            obj=refund,
            account=document.recipient,
            details={
                "refunds": document.display_number,
                "amount": str(amount),
                "payment_method": payment_method.pk,
                "through_gateway": bool(gateway_reference),
                "reason": reason,
                "open_before": str(document.open_amount),
                "open_after": str(document.open_amount - amount),
            },
        )
    return refund

"""Top-ups: an account pays money in ahead of what it owes, by card through the payment gateway
(DESIGN.md "Available credit and prepaid orders"; seed 000, seed 001 §2).

A top-up is a payment document (a credit document) from the account to its upstream issuer,
charged with `billing.ledger.card_charge`, marked `reference="Top-up"`, and its gateway charge's
idempotency key starts with `topup:`. It raises the balance by exactly its amount. What happens to
the money then is the ledger's ordinary rule (`document_issue` / `payment_record`):

- a prepaid account's credit balance is applied automatically to its open debt, oldest due first,
  so a top-up first pays what is open and only the rest stays as credit balance;
- a net-terms account's top-up stays unapplied: its credit balance rises by the amount and its
  available credit does not change until the reseller pays documents with it (seed 002) or it is
  allocated to a prepaid order.

Rules decided here:
- Only a card with an active token can be charged online. Cash, deposit and bank transfer methods
  are paid offline; provider staff record that money as a payment (PaymentRecordView).
- A top-up is paid to the account's issuer, so online only where that issuer takes cards
  (`Account.takes_cards`, the rule of `billing.card_payments` too): the provider always (its
  resellers of either model, direct and referral customers), a resale reseller when it turned
  card payments on (`Account.card_payments`). Otherwise a resale reseller's customer pays its
  reseller offline: no online top-up for it.
- Who may top up: the account's own users; provider staff for any reseller; the system (no
  acting user) for automatic top-up (billing.auto_topups).
- The caller's idempotency key is scoped to the account: the gateway and GatewayCharge key is
  `topup:<account id>:<key>`. A key already booked returns its payment without calling the
  gateway; the same key with another amount or payment method is refused (TopupKeyReused).
- A decline or a gateway failure writes nothing. After a timeout the charge may have gone
  through at the gateway: retrying with the same key books it once and never charges twice.

Not one transaction on purpose (see `card_charge`): no row lock is held while the gateway answers.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet

from billing.gateway import CardDeclined, GatewayError, GatewayTimeout
from billing.ledger import card_charge
from billing.models import Document, DocumentType, GatewayCharge
from billing.money import AmountError, parse_amount, round_money
from billing.selectors import documents_visible
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, PaymentMethod, User

logger = logging.getLogger(__name__)

TOPUP_REFERENCE = "Top-up"
KEY_PREFIX = "topup:"
MAX_KEY_LENGTH = 80  # "topup:<id>:<key>" fits GatewayCharge.idempotency_key (120)

OFFLINE_MESSAGE = (
    "Only a credit card can be charged online. Pay by bank transfer, cash or deposit offline; "
    "provider staff then record it as a payment."
)
DECLINED_MESSAGE = "The card was declined. Nothing was charged or recorded; try another card."
GATEWAY_FAILED_MESSAGE = (
    "The payment gateway returned an error. Nothing was charged or recorded; try again later."
)
TIMEOUT_MESSAGE = (
    "The payment gateway did not answer in time, so the charge may or may not have gone through. "
    "Nothing was recorded yet. Send the same payment again (same key) to complete it: the card is "
    "never charged twice."
)


class TopupError(ApplicationError):
    """A top-up was refused. Nothing was written."""


class TopupDeclined(TopupError):
    """The gateway refused the card."""


class TopupGatewayError(TopupError):
    """The gateway failed or did not answer (`timed_out`). Retry with the same key."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class TopupKeyReused(TopupError):
    """The idempotency key was already used for a top-up with another amount or method."""


# --- reads -------------------------------------------------------------------------------------


def topup_key(*, account: Account, idempotency_key: str) -> str:
    """The gateway and GatewayCharge key of a top-up: the caller's key, scoped to the account."""
    return f"{KEY_PREFIX}{account.pk}:{idempotency_key}"


def topup_by_key(*, account: Account, idempotency_key: str) -> GatewayCharge | None:
    """The booked charge of the top-up made with this key, if any."""
    return (
        GatewayCharge.objects.filter(
            idempotency_key=topup_key(account=account, idempotency_key=idempotency_key)
        )
        .select_related("payment", "payment_method")
        .first()
    )


def payments_visible(*, user: User) -> QuerySet[Document]:
    """Payment documents `user` may see (`documents_visible`: tenant-scoped), each annotated with
    `is_topup`: whether it was paid in as a top-up."""
    topup = GatewayCharge.objects.filter(
        payment_id=OuterRef("pk"), idempotency_key__startswith=KEY_PREFIX
    )
    return (
        documents_visible(user=user)
        .filter(doc_type=DocumentType.PAYMENT)
        .select_related("payment_method")
        .annotate(is_topup=Exists(topup))
    )


def topup_refusal(*, user: User | None, account: Account) -> ApplicationError | None:
    """Why `user` may not top up `account`, or None when it may (user None: the system, for
    automatic top-up). A top-up is paid to the account's issuer, by card, so only where the
    issuer takes cards (`Account.takes_cards`): the provider always (resellers of either model,
    direct and referral customers), a resale reseller with card payments on (its customers).
    Any other resale reseller's customer pays its reseller offline, so it cannot top up online.
    Besides the system, the account's own users top up, and provider staff for a reseller."""
    if account.is_provider or account.issuer_id is None:
        return TopupError("The provider has no one to top up.", field="account")
    issuer = account.issuer
    if not issuer.takes_cards:
        return TopupError(
            f"Customers of a reseller pay their reseller; {issuer.name} does not take card "
            "payments online, so pay it as it tells you on its invoices.",
            field="account",
        )
    if user is None or user.account_id == account.pk:
        return None
    if user.is_provider_staff and account.is_reseller:
        return None
    return PermissionDenied("You can top up only your own account.")


def topup_allowed(*, user: User | None, account: Account) -> bool:
    return topup_refusal(user=user, account=account) is None


# --- writes ------------------------------------------------------------------------------------


def charge_amount(value, currency: str) -> Decimal:
    """A card payment's amount by the one money parser, checked against the account's currency
    (TopupError on `amount`)."""
    try:
        amount = parse_amount(value, currency=currency, positive=True)
    except AmountError as exc:
        raise TopupError(exc.message, field="amount") from exc
    return round_money(amount, currency)  # "300" is charged and stored as 300.00


def check_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise TopupError(
            f"An idempotency key is 1 to {MAX_KEY_LENGTH} characters.", field="idempotency_key"
        )


def check_card(*, payment_method: PaymentMethod, account: Account, today: datetime.date):
    """A card of `account` with an active token, or TopupError on `payment_method`."""
    if payment_method.account_id != account.pk:
        raise TopupError("Choose one of the account's payment methods.", field="payment_method")
    if payment_method.kind != PaymentMethod.Kind.CARD:
        raise TopupError(OFFLINE_MESSAGE, field="payment_method")
    if not payment_method.token_is_active(today):
        raise TopupError(
            "This card cannot be charged: it is inactive, expired or has no token. Add a new "
            "card or choose another.",
            field="payment_method",
        )


def topup_pay(
    *,
    account: Account,
    payment_method: PaymentMethod,
    amount: Decimal | str,
    idempotency_key: str,
    acting_user: User | None,
    today: datetime.date,
) -> Document:
    """Charge `amount` to `payment_method` (a card of `account`) and book it as a top-up: an issued
    payment document from `account` to its issuer, reference "Top-up".

    The same `idempotency_key` books one top-up however often it is sent (a double click, a
    retried request, a retry after a timeout). Raises PermissionDenied (not the account's user,
    nor staff for a reseller), TopupError naming the field (`amount`, `payment_method`,
    `account`, `idempotency_key`), TopupKeyReused, TopupDeclined (on `payment_method`) or
    TopupGatewayError; none of them writes anything.
    """
    refusal = topup_refusal(user=acting_user, account=account)
    if refusal is not None:
        raise refusal
    check_key(idempotency_key)
    amount = charge_amount(amount, account.currency)
    booked = topup_by_key(account=account, idempotency_key=idempotency_key)
    if booked is not None:
        if (booked.payment_method_id, booked.amount) != (payment_method.pk, amount):
            raise TopupKeyReused(
                "This idempotency key was already used for another top-up (another amount or "
                "payment method). Use a new key for a new top-up."
            )
        return booked.payment
    if account.status != Account.Status.ACTIVE:
        raise TopupError("A closed account cannot be topped up.", field="account")
    check_card(payment_method=payment_method, account=account, today=today)
    payment = gateway_charge(
        payment_method=payment_method,
        amount=amount,
        idempotency_key=topup_key(account=account, idempotency_key=idempotency_key),
        acting_user=acting_user,
        today=today,
        reference=TOPUP_REFERENCE,
    )
    logger.info(
        "top-up %s of %s %s for account %s",
        payment.display_number,
        payment.total,
        payment.currency,
        account.pk,
    )
    return payment


def gateway_charge(
    *,
    payment_method: PaymentMethod,
    amount: Decimal,
    idempotency_key: str,
    acting_user: User | None,
    today: datetime.date,
    reference: str,
    apply_to: Sequence[Document] = (),
) -> Document:
    """`card_charge`, its gateway failures as the card-payment errors the panels and the API
    answer with: TopupDeclined (on `payment_method`), TopupGatewayError (`timed_out` after a
    timeout: retry with the same key), TopupKeyReused (the gateway saw this key with another
    charge). Shared by top-ups and document payments (billing.card_payments)."""
    try:
        return card_charge(
            payment_method=payment_method,
            amount=amount,
            idempotency_key=idempotency_key,
            charge_date=today,
            acting_user=acting_user,
            reference=reference,
            apply_to=apply_to,
        )
    except CardDeclined as exc:
        raise TopupDeclined(DECLINED_MESSAGE, field="payment_method") from exc
    except GatewayTimeout as exc:
        raise TopupGatewayError(TIMEOUT_MESSAGE, timed_out=True) from exc
    except GatewayError as exc:
        if "different charge" in exc.message:  # the gateway saw this key with another charge
            raise TopupKeyReused(
                "This idempotency key was already sent to the gateway with another amount or "
                "card. Use a new key for a new payment."
            ) from exc
        raise TopupGatewayError(GATEWAY_FAILED_MESSAGE) from exc

"""Cards: an account adds a credit card, tokenised by the payment gateway on the server.

The card number is handed to the gateway (`billing.gateway`'s `tokenize`) and forgotten: only the
gateway's token, the last four digits and the expiry are kept, as a card payment method
(`resellers.services.payment_method_create`, which writes the audit row). A card is how an
account tops up (`billing.topups`) and, as its default payment method, how its orders are
charged (seed 004's active-token check), whatever its usual way of paying: a reseller that pays
cash may keep a card for top-ups.

Rules decided here:
- Cards are for the accounts whose issuer takes cards: the accounts the provider bills (resellers
  of either model, direct and referral customers), and a resale reseller's customers once it
  turned card payments on (`Account.card_payments`); otherwise they pay their reseller offline.
- Who may add one: the account's own users; provider staff for a reseller. Nobody adds a card
  to another tenant's account.
- A card whose expiry has passed is refused, and so is a card the account already holds, active
  (the same token). The new card becomes the default payment method only when asked, or when the
  account has none: switching a cash reseller to card changes its order approval (seed 004).
- A gateway that refuses the number or fails writes nothing.
"""

from __future__ import annotations

import datetime

from billing.gateway import CardDetails, GatewayError, get_gateway
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, PaymentMethod, User
from resellers.services import payment_method_create

NOT_BILLED_BY_PROVIDER = (
    "Your reseller does not take card payments online: pay it as it tells you on its invoices."
)
GATEWAY_FAILED = "The payment gateway could not check the card. Nothing was saved; try again later."


class CardError(ApplicationError):
    """A card was refused. Nothing was written."""


def card_refusal(*, user: User | None, account: Account) -> ApplicationError | None:
    """Why `user` may not add a card to `account`, or None when it may (see the module)."""
    if account.issuer_id is None or not account.issuer.takes_cards:
        return CardError(NOT_BILLED_BY_PROVIDER, field="account")
    if user is None or user.account_id == account.pk:
        return None
    if user.is_provider_staff and account.is_reseller:
        return None
    return PermissionDenied("You can add cards to your own account only.")


def card_add(
    *,
    account: Account,
    card_number: str,
    expiry_date: datetime.date,
    label: str = "",
    make_default: bool = False,
    acting_user: User | None,
    today: datetime.date,
) -> PaymentMethod:
    """Tokenise the card through the gateway and keep it as `account`'s card payment method.
    `expiry_date` is the last day the card can be charged (its expiry month's last day).
    Raises CardError (naming `card_number`, `expiry_date`) or PermissionDenied; writes
    nothing then."""
    refusal = card_refusal(user=acting_user, account=account)
    if refusal is not None:
        raise refusal
    if expiry_date < today:
        raise CardError(
            "This card has expired: enter a card that is still valid.", field="expiry_date"
        )
    digits = "".join(ch for ch in card_number if ch.isdigit())
    try:
        token = get_gateway().tokenize(card_number=digits, expiry_date=expiry_date)
    except GatewayError as exc:
        raise CardError(GATEWAY_FAILED) from exc
    except ApplicationError as exc:  # the gateway refused the number
        raise CardError(exc.message, field="card_number") from exc
    return _keep(
        account=account,
        token=token,
        details=CardDetails(last4=digits[-4:], expiry_date=expiry_date),
        label=label,
        make_default=make_default,
        acting_user=acting_user,
        field="card_number",
    )


def card_add_token(
    *,
    account: Account,
    gateway_token: str,
    label: str = "",
    make_default: bool = False,
    acting_user: User | None,
    today: datetime.date,
) -> PaymentMethod:
    """Keep a card the client had the gateway tokenise on its side (as real gateways work: the
    number never reaches us): the gateway tells its last four digits and expiry. Raises
    CardError (naming `gateway_token`: unknown to the gateway, expired, already held) or
    PermissionDenied; writes nothing then. The token is never shown again."""
    refusal = card_refusal(user=acting_user, account=account)
    if refusal is not None:
        raise refusal
    token = (gateway_token or "").strip()
    if not token or len(token) > 200:
        raise CardError("Send the token the payment gateway gave you.", field="gateway_token")
    try:
        details = get_gateway().card_details(token=token)
    except GatewayError as exc:
        raise CardError(GATEWAY_FAILED) from exc
    except ApplicationError as exc:
        raise CardError(exc.message, field="gateway_token") from exc
    if details.expiry_date < today:
        raise CardError("This card has expired.", field="gateway_token")
    return _keep(
        account=account,
        token=token,
        details=details,
        label=label,
        make_default=make_default,
        acting_user=acting_user,
        field="gateway_token",
    )


def _keep(*, account, token, details, label, make_default, acting_user, field) -> PaymentMethod:
    held = PaymentMethod.objects.filter(
        account_id=account.pk, kind=PaymentMethod.Kind.CARD, gateway_token=token, is_active=True
    )
    if held.exists():
        raise CardError("This card is already one of your payment methods.", field=field)
    return payment_method_create(
        account=account,
        kind=PaymentMethod.Kind.CARD,
        label=label.strip(),
        gateway_token=token,
        card_last4=details.last4,
        expiry_date=details.expiry_date,
        make_default=make_default,
        acting_user=acting_user,
    )

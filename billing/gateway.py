"""Payment gateways: one small interface (tokenise, read a token's card, charge, refund) and a
built-in gateway for tests and demos. Real gateways plug in behind the same interface: set
BILLING_PAYMENT_GATEWAY to the dotted path of a class with these four methods.

Every charge and refund carries our idempotency key. A gateway must treat a repeated key as the
same request (real gateways do; the built-in one does too), so retrying after a timeout or a
crash never charges twice.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from resellers.exceptions import ApplicationError


class GatewayError(ApplicationError):
    """The gateway failed or could not be reached; whether money moved is unknown or no."""


class GatewayTimeout(GatewayError):
    """No answer in time. The charge may have gone through: retry with the same key."""


class CardDeclined(ApplicationError):
    """The gateway answered and refused the charge."""


@dataclass(frozen=True)
class CardDetails:
    """What a gateway tells of a card it tokenised: never the number."""

    last4: str
    expiry_date: datetime.date


class PaymentGateway(Protocol):
    def tokenize(self, *, card_number: str, expiry_date: datetime.date) -> str: ...
    def card_details(self, *, token: str) -> CardDetails: ...

    def charge(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> str: ...

    def refund(
        self, *, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> str: ...


@dataclass
class _Charge:
    reference: str
    token: str
    amount: Decimal
    currency: str
    refunded: Decimal = Decimal("0")


class TestGateway:
    """The built-in gateway. Its behaviour is told by the token, so tests and the demo can ask for
    each outcome:

    - `tok_decline…`: the card is declined;
    - `tok_fail…`: the gateway errors before charging;
    - `tok_timeout…`: the charge goes through but the answer is lost (GatewayTimeout); a retry
      with the same idempotency key returns the first charge;
    - anything else: approved.

    It remembers its charges in memory, per process, keyed by idempotency key (what a real
    gateway keeps on its side), and counts how often each key reached it.
    """

    __test__ = False  # not a pytest test class

    _lock = threading.Lock()
    charges: dict[str, _Charge] = {}
    attempts: dict[str, int] = {}
    cards: dict[str, CardDetails] = {}  # the tokens it issued

    def tokenize(self, *, card_number: str, expiry_date: datetime.date) -> str:
        digits = "".join(ch for ch in card_number if ch.isdigit())
        if not 12 <= len(digits) <= 19:
            raise ApplicationError("That is not a card number.", field="card_number")
        token = "tok_" + hashlib.sha256(f"{digits}:{expiry_date}".encode()).hexdigest()[:24]
        with self._lock:
            self.cards[token] = CardDetails(last4=digits[-4:], expiry_date=expiry_date)
        return token

    def card_details(self, *, token: str) -> CardDetails:
        """The card behind a token it issued (a client tokenises on its side, then sends the
        token); ApplicationError on `gateway_token` for any other."""
        with self._lock:
            details = self.cards.get(token)
        if details is None:
            raise ApplicationError(
                "The payment gateway knows no such token.", field="gateway_token"
            )
        return details

    def charge(self, *, token: str, amount: Decimal, currency: str, idempotency_key: str) -> str:
        with self._lock:
            self.attempts[idempotency_key] = self.attempts.get(idempotency_key, 0) + 1
            known = self.charges.get(idempotency_key)
            if known is not None:
                if (known.token, known.amount, known.currency) != (token, amount, currency):
                    raise GatewayError("Idempotency key reused with a different charge.")
                return known.reference
            if token.startswith("tok_decline"):
                raise CardDeclined("The card was declined.")
            if token.startswith("tok_fail"):
                raise GatewayError("The payment gateway returned an error.")
            reference = "ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
            self.charges[idempotency_key] = _Charge(reference, token, amount, currency)
            if token.startswith("tok_timeout") and self.attempts[idempotency_key] == 1:
                raise GatewayTimeout("The payment gateway did not answer in time.")
            return reference

    def refund(
        self, *, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> str:
        with self._lock:
            charge = next((c for c in self.charges.values() if c.reference == charge_reference),
                          None)  # fmt: skip
            if charge is None:
                raise GatewayError("Unknown charge.")
            key = f"refund:{idempotency_key}"
            if key in self.attempts:
                return "re_" + hashlib.sha256(key.encode()).hexdigest()[:20]
            if charge.refunded + amount > charge.amount:
                raise GatewayError("Refund exceeds the charge.")
            charge.refunded += amount
            self.attempts[key] = 1
            return "re_" + hashlib.sha256(key.encode()).hexdigest()[:20]

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.charges.clear()
            cls.attempts.clear()
            cls.cards.clear()


def get_gateway() -> PaymentGateway:
    path = getattr(settings, "BILLING_PAYMENT_GATEWAY", "billing.gateway.TestGateway")
    return import_string(path)()

"""Factory helpers the API tests need beyond tests/factories/__init__.py: contacts, non-card
payment methods, drafts and API tokens, all built through the services."""

from decimal import Decimal

from billing import ledger
from billing.models import Document, DocumentType
from resellers import services as accounts
from resellers.models import Account, Contact, PaymentMethod, User
from resellers.tokens import api_token_create


def contact(account: Account, name: str, **kwargs) -> Contact:
    email = kwargs.pop("email", f"{name.lower().replace(' ', '.')}@example.com")
    return accounts.contact_create(account=account, name=name, email=email, **kwargs)


def cash(account: Account, *, label: str = "Cash", default: bool = False) -> PaymentMethod:
    return accounts.payment_method_create(
        account=account, kind=PaymentMethod.Kind.CASH, label=label, make_default=default
    )


def draft_invoice(recipient: Account, amount: Decimal | str) -> Document:
    """A draft (never issued) invoice from the recipient's issuer."""
    return ledger.document_create(
        doc_type=DocumentType.INVOICE,
        issuer=recipient.issuer,
        recipient=recipient,
        lines=[ledger.LineSpec(description="Draft line", unit_price=Decimal(amount))],
    )


def api_token(user: User) -> str:
    """A new API token of `user` (knox; stored hashed), for `Authorization: Token <token>`."""
    _, token = api_token_create(user=user, via="test")
    return token

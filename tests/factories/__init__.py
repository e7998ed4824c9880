"""factory_boy factories. Accounts are built through the services, so the tree and its issuers
are exactly what production creates."""

from decimal import Decimal

import factory

from billing import ledger
from billing.models import DocumentType
from resellers import services as accounts
from resellers.models import Account, CustomerClass, PaymentMethod, User


class CustomerClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerClass
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Class {n}")
    bill_for_subscriptions_on_hold = True


def provider(name: str = "Cloud Distributor", currency: str = "USD") -> Account:
    existing = Account.objects.filter(kind=Account.Kind.PROVIDER, name=name).first()
    return existing or accounts.account_create(
        kind=Account.Kind.PROVIDER, name=name, currency=currency
    )


def reseller(
    *,
    parent: Account | None = None,
    name: str | None = None,
    model: str = Account.ResellerModel.RESALE,
    credit_terms: str = Account.CreditTerms.NET_TERMS,
    credit_limit: Decimal = Decimal("1000.00"),
    payment_terms_days: int = 30,
    code: str | None = None,
) -> Account:
    parent = parent or provider()
    n = Account.objects.count() + 1
    return accounts.account_create(
        kind=Account.Kind.RESELLER,
        name=name or f"Reseller {n}",
        parent=parent,
        reseller_model=model,
        reseller_code=code or f"R{n:05d}",
        credit_terms=credit_terms,
        credit_limit=credit_limit,
        payment_terms_days=payment_terms_days,
    )


def customer(
    *,
    parent: Account,
    name: str | None = None,
    credit_terms: str = Account.CreditTerms.PREPAID,
    credit_limit: Decimal = Decimal("0"),
    payment_terms_days: int = 0,
) -> Account:
    n = Account.objects.count() + 1
    return accounts.account_create(
        kind=Account.Kind.CUSTOMER,
        name=name or f"Customer {n}",
        parent=parent,
        credit_terms=credit_terms,
        credit_limit=credit_limit,
        payment_terms_days=payment_terms_days,
    )


def user(*, account: Account, username: str | None = None, password: str = "pw") -> User:
    username = username or f"user{User.objects.count() + 1}"
    return accounts.user_create(
        username=username,
        password=password,
        account=account,
        is_staff=account.kind == Account.Kind.PROVIDER,
    )


def card(account: Account, *, expiry=None, token: str = "tok_test", default: bool = False):
    import datetime

    return accounts.payment_method_create(
        account=account,
        kind=PaymentMethod.Kind.CARD,
        gateway_token=token,
        card_last4="4242",
        expiry_date=expiry or datetime.date(2030, 12, 31),
        make_default=default,
    )


def issued(
    doc_type: str,
    *,
    recipient: Account,
    amount: Decimal | str,
    issue_date,
    issuer: Account | None = None,
    due_date=None,
    quantity: Decimal | str = "1",
    product=None,
):
    """An issued document with one line of `quantity` x `amount` (naming `product`, if given, as
    a line made by hand may)."""
    document = ledger.document_create(
        doc_type=doc_type,
        issuer=issuer or recipient.issuer,
        recipient=recipient,
        lines=[
            ledger.LineSpec(
                description=f"{doc_type} line",
                unit_price=Decimal(amount),
                quantity=Decimal(quantity),
                product_id=product.pk if product is not None else None,
            )
        ],
        due_date=due_date,
    )
    return ledger.document_issue(document=document, issue_date=issue_date)


def invoice(recipient: Account, amount, issue_date, **kw):
    return issued(
        DocumentType.INVOICE, recipient=recipient, amount=amount, issue_date=issue_date, **kw
    )


def credit_memo(recipient: Account, amount, issue_date, **kw):
    return issued(
        DocumentType.CREDIT_MEMO, recipient=recipient, amount=amount, issue_date=issue_date, **kw
    )


def payment(recipient: Account, amount, received_date, **kw):
    return ledger.payment_record(
        recipient=recipient,
        amount=Decimal(amount),
        received_date=received_date,
        acting_user=None,
        **kw,
    )

"""The demo's building blocks: find-or-create helpers, each idempotent by its natural key."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from billing import ledger
from billing.models import Application, Document, DocumentStatus, DocumentType
from dashboard.management.demo.addresses import BILLING_DETAILS
from orders import services as ordering
from orders.models import (
    Catalogue,
    CatalogueAssignment,
    Order,
    PriceList,
    PriceListAssignment,
    PriceListItem,
    Product,
)
from resellers import services as accounts
from resellers.models import Account, Contact, PaymentMethod, User

PASSWORD = "demo"
D = Decimal


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.created.append(what)


@dataclass(frozen=True)
class Line:
    description: str
    quantity: str
    unit_price: str
    tax_rate: str = "0"
    sku: str = ""  # the product the line bills, if one of the catalogue's


class Builder:
    """Find-or-create helpers for the demo: accounts, contacts, methods, users, documents,
    products, catalogues, price lists and orders, each idempotent by its natural key."""

    def __init__(self, *, today: datetime.date):
        self.today = today
        self.report = SeedReport()
        self.staff: User | None = None
        self.users: dict[str, User] = {}
        self.new_accounts: set[int] = set()  # created by this run

    def day(self, offset: int) -> datetime.date:
        return self.today + datetime.timedelta(days=offset)

    # --- accounts --------------------------------------------------------------------------

    def account(self, *, kind: str, name: str, parent: Account | None = None, **kw) -> Account:
        existing = Account.objects.filter(kind=kind, name=name, parent=parent).first()
        if existing is not None:
            return existing
        self.report.note(f"{kind} {name}")
        account = accounts.account_create(
            kind=kind, name=name, parent=parent, acting_user=self.staff, **kw
        )
        # Demo accounts signed up well before their first documents (a year for the provider's
        # partners, half a year for end customers), so the pages' dates hang together.
        days = 180 if kind == Account.Kind.CUSTOMER else 365
        signed_up = timezone.now() - datetime.timedelta(days=days)
        Account.objects.filter(pk=account.pk).update(created_at=signed_up)
        details = BILLING_DETAILS.get(name)
        if details:  # its address, tax ID and how to pay it, printed on documents
            account = accounts.account_billing_details_set(
                account=account, acting_user=self.staff, **details
            )
        account.created_at = signed_up
        self.new_accounts.add(account.pk)
        return account

    def contact(
        self, account: Account, *, name: str, email: str, bill_to: bool, primary: bool
    ) -> Contact:
        existing = Contact.objects.filter(account=account, email=email).first()
        if existing is not None:
            return existing
        known = Contact.objects.filter(account=account).count()
        return accounts.contact_create(
            account=account,
            name=name,
            email=email,
            is_bill_to=bill_to,
            is_primary=primary,
            created_at=account.created_at + datetime.timedelta(minutes=known),
            acting_user=self.staff,
        )

    def method(self, account: Account, *, kind: str, label: str, **kw) -> PaymentMethod:
        existing = PaymentMethod.objects.filter(account=account, kind=kind, label=label).first()
        if existing is not None:
            return existing
        return accounts.payment_method_create(
            account=account, kind=kind, label=label, acting_user=self.staff, **kw
        )

    def user(
        self, username: str, account: Account, *, email: str = "", superuser: bool = False
    ) -> User:
        existing = User.objects.filter(username=username).first()
        if existing is None:
            existing = accounts.user_create(
                username=username,
                password=PASSWORD,
                account=account,
                email=email,
                is_staff=superuser,
            )
            if superuser:
                # Provider staff also get the Django admin; not a money write.
                existing.is_superuser = True
                existing.save(update_fields=["is_superuser"])
            self.report.note(f"user {username}")
        self.report.logins.append((username, str(existing.account or "superuser")))
        return existing

    # --- documents -------------------------------------------------------------------------

    def _find(self, *, doc_type: str, issuer: Account, recipient: Account, reference: str):
        return (
            Document.objects.filter(
                doc_type=doc_type, issuer=issuer, recipient=recipient, reference=reference
            )
            .exclude(status=DocumentStatus.CANCELLED)
            .first()
        )

    def document(
        self,
        doc_type: str,
        *,
        issuer: Account,
        recipient: Account,
        reference: str,
        issued: int,
        lines: list[Line],
        memo: str = "",
    ) -> Document:
        """An issued document dated `issued` days from today."""
        existing = self._find(
            doc_type=doc_type, issuer=issuer, recipient=recipient, reference=reference
        )
        if existing is not None:
            return existing
        draft = ledger.document_create(
            doc_type=doc_type,
            issuer=issuer,
            recipient=recipient,
            reference=reference,
            memo=memo,
            acting_user=self.staff,
            lines=[
                ledger.LineSpec(
                    description=line.description,
                    quantity=D(line.quantity),
                    unit_price=D(line.unit_price),
                    tax_rate=D(line.tax_rate),
                    product_id=(
                        Product.objects.values_list("pk", flat=True).get(sku=line.sku)
                        if line.sku
                        else None
                    ),
                )
                for line in lines
            ],
        )
        self.report.note(f"{doc_type} {reference}")
        return ledger.document_issue(
            document=draft, issue_date=self.day(issued), acting_user=self.staff
        )

    def payment(
        self,
        *,
        recipient: Account,
        amount: str,
        reference: str,
        received: int,
        method: PaymentMethod | None,
        apply_to: tuple[Document, ...] = (),
    ) -> Document:
        existing = self._find(
            doc_type=DocumentType.PAYMENT,
            issuer=recipient.issuer,
            recipient=recipient,
            reference=reference,
        )
        if existing is not None:
            return existing
        self.report.note(f"payment {reference}")
        return ledger.payment_record(
            recipient=recipient,
            amount=D(amount),
            received_date=self.day(received),
            acting_user=self.staff,
            payment_method=method,
            reference=reference,
            apply_to=[Document.objects.get(pk=d.pk) for d in apply_to],
        )

    def link(self, *, credit: Document, debit: Document, amount: str) -> None:
        """Provider staff link part of a credit document to a debit document, once."""
        if Application.objects.filter(credit_document=credit, debit_document=debit).exists():
            return
        ledger.application_create(
            credit_document=Document.objects.get(pk=credit.pk),
            debit_document=Document.objects.get(pk=debit.pk),
            amount=D(amount),
            acting_user=self.staff,
        )
        self.report.note(f"application {credit.reference} -> {debit.reference}")

    # --- catalogue, prices and orders --------------------------------------------------------

    def product(self, sku: str, **fields) -> Product:
        existing = Product.objects.filter(sku=sku).first()
        if existing is not None:
            return existing
        self.report.note(f"product {sku}")
        return Product.objects.create(sku=sku, **fields)

    def catalogue(self, name: str, products: list[Product], *, default: bool = False) -> Catalogue:
        """A catalogue, filled only when it is made: a product staff removed stays removed. It
        becomes the default only if staff have not made another one the default."""
        existing = Catalogue.objects.filter(name=name).first()
        if existing is not None:
            return existing
        self.report.note(f"catalogue {name}")
        default = default and not Catalogue.objects.filter(is_default=True).exists()
        catalogue = Catalogue.objects.create(name=name, is_default=default)
        catalogue.products.add(*products)
        return catalogue

    def assign_catalogue(self, account: Account, catalogue: Catalogue) -> None:
        if CatalogueAssignment.objects.filter(account=account).exists():
            return
        CatalogueAssignment.objects.create(account=account, catalogue=catalogue)
        self.report.note(f"catalogue {catalogue} for {account}")

    def price_list(
        self,
        seller: Account,
        name: str,
        *,
        markup: str | None,
        items: dict[Product, str],
        buyers: tuple[Account, ...],
    ) -> PriceList:
        """A seller's price list with its explicit prices, assigned to buyers that have none.
        Items are written only when the list is made: a price staff changed stays changed."""
        plist = PriceList.objects.filter(seller=seller, name=name).first()
        if plist is None:
            plist = PriceList.objects.create(
                seller=seller,
                name=name,
                currency=seller.currency,
                markup_percent=D(markup) if markup is not None else None,
            )
            PriceListItem.objects.bulk_create(
                PriceListItem(price_list=plist, product=product, unit_price=D(price))
                for product, price in items.items()
            )
            self.report.note(f"price list {name}")
        for buyer in buyers:
            if not PriceListAssignment.objects.filter(buyer=buyer).exists():
                PriceListAssignment.objects.create(buyer=buyer, price_list=plist)
                self.report.note(f"price list {name} for {buyer}")
        return plist

    def order_exists(self, key: str) -> bool:
        return Order.objects.filter(notes=key, parent__isnull=True).exists()

    def order(
        self,
        key: str,
        *,
        placed_by: User,
        items: list[tuple[Product, int]],
        customer: Account | None = None,
        reseller: Account | None = None,
        approve_by: User | None = None,
        cancel_by: User | None = None,
        cancel_reason: str = "",
    ) -> Order:
        """An order placed and submitted through the services, then approved or cancelled by the
        reseller's user when asked; found by `key` (kept in its notes) on a second run."""
        existing = Order.objects.filter(notes=key, parent__isnull=True).first()
        if existing is not None:
            return existing
        self.report.note(f"order {key}")
        order = ordering.order_create(
            placed_by=placed_by,
            customer=customer,
            reseller=reseller,
            items=[ordering.ItemSpec(product=product, quantity=qty) for product, qty in items],
            notes=key,
        )
        order = ordering.order_submit(order=order, acting_user=placed_by, today=self.today)
        if approve_by is not None:
            order = ordering.order_approve(order=order, acting_user=approve_by, today=self.today)
        if cancel_by is not None:
            order = ordering.order_cancel(order=order, acting_user=cancel_by, reason=cancel_reason)
        return order

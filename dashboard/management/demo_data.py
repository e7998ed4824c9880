"""Demo data for a first look, written through the services (never raw ORM writes for money).

Idempotent by natural keys: accounts by (kind, parent, name), contacts by (account, email),
payment methods by (account, kind, label), users by username, documents by (issuer, recipient,
type, reference), applications by their two documents, products by SKU, catalogues by name,
price lists by (seller, name), orders by the demo key in their notes (`DEMO-SR-ORD-1`). A second
run finds everything and adds nothing, not even an audit row; nor does it undo what a user changed
since (a price, a catalogue's products, an approval toggle, an order approved or cancelled).

The catalogue, catalogues and price lists are configuration that provider staff keep in the
Django admin, which writes them with the ORM; the demo does the same. Orders go through the
order services (create, submit, approve, cancel), so their statuses, reservations, charges,
subscriptions and audit rows are exactly what a person's clicks would have made.

Dates are relative to `today`, which the caller passes in (the clock lives at the edge).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from billing import ledger
from billing.models import Application, BillingRun, Document, DocumentStatus, DocumentType
from billing.runs import run_start
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


class _Seeder:
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

    # --- the demo --------------------------------------------------------------------------

    def run(self) -> SeedReport:
        provider = self.account(
            kind=Account.Kind.PROVIDER, name="Cloud Distributor", currency="USD"
        )
        self.staff = self.user(
            "provider", provider, email="staff@cloud-distributor.example", superuser=True
        )
        self.contact(
            provider,
            name="Distributor Billing Desk",
            email="billing@cloud-distributor.example",
            bill_to=True,
            primary=True,
        )
        r1 = self._reseller1(provider)
        r2 = self._reseller2(provider)
        self._referral(provider)
        r4 = self._reseller4(provider)
        products = self._catalogue()
        self._price_lists(provider, products, r1=r1, r2=r2, r4=r4)
        self._orders_reseller1(products, r1)
        self._orders_reseller2(products, r2)
        self._orders_reseller4(products, r4)
        self._runs()
        return self.report

    def _runs(self) -> None:
        """Tonight's two runs, once: daily invoicing settles the prepaid orders with their
        payments, then the billing-date run invoices the customers' first periods."""
        if BillingRun.objects.exists():
            return
        for kind in (BillingRun.Kind.DAILY, BillingRun.Kind.BILLING):
            run = run_start(
                run_date=self.today, kind=kind, trigger="demo", acting_user=self.staff, inline=True
            )
            self.report.note(f"{run.get_kind_display()} run for {self.today}")

    def _reseller1(self, provider: Account) -> Account:
        """Resale, net 30, limit 5,000, pays by card (its default method), automatic top-up."""
        r1 = self.account(
            kind=Account.Kind.RESELLER,
            name="Northwind Cloud Services",
            parent=provider,
            reseller_model=Account.ResellerModel.RESALE,
            credit_terms=Account.CreditTerms.NET_TERMS,
            credit_limit=D("5000.00"),
            payment_terms_days=30,
        )
        self.contact(
            r1, name="Nadia Patel", email="billing@northwind.example", bill_to=True, primary=False
        )
        self.contact(
            r1, name="Owen Hughes", email="owen@northwind.example", bill_to=False, primary=True
        )
        card = self.method(
            r1,
            kind=PaymentMethod.Kind.CARD,
            label="Corporate Visa",
            gateway_token="tok_demo_northwind_visa",
            card_last4="4242",
            expiry_date=datetime.date(self.today.year + 3, 12, 31),
            make_default=True,
        )
        self.method(r1, kind=PaymentMethod.Kind.BANK_TRANSFER, label="Wire from Northwind Bank")
        self.method(  # the built-in test gateway declines every charge to a tok_decline… token
            r1,
            kind=PaymentMethod.Kind.CARD,
            label="Test card (always declined)",
            gateway_token="tok_decline_demo",
            card_last4="0002",
            expiry_date=datetime.date(self.today.year + 3, 12, 31),
        )
        topup = {
            "auto_topup_enabled": True,
            "auto_topup_threshold": D("500.00"),
            "auto_topup_amount": D("1000.00"),
            "auto_topup_payment_method": card,
        }
        if r1.pk in self.new_accounts:  # never undo what a user changed since the first run
            accounts.account_update_financials(account=r1, acting_user=self.staff, **topup)
        self.users["reseller1"] = self.user("reseller1", r1, email="owen@northwind.example")

        # The provider bills the reseller.
        inv1 = self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=r1,
            reference="DEMO-NW-INV-1",
            issued=-45,
            lines=[
                Line("Microsoft 365 Business Standard, 40 seats", "40", "10.80"),
                Line("Azure consumption", "1", "768.00"),
            ],
        )  # 1,200.00, overdue
        self.payment(
            recipient=r1,
            amount="500.00",
            reference="DEMO-NW-PAY-1",
            received=-20,
            method=card,
            apply_to=(inv1,),
        )  # pays 500.00 of it
        inv2 = self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=r1,
            reference="DEMO-NW-INV-2",
            issued=-10,
            lines=[
                Line("Microsoft 365 Business Standard, 45 seats", "45", "10.80"),
                Line("Backup storage, TB", "2", "157.00"),
            ],
        )  # 800.00
        memo = self.document(
            DocumentType.CREDIT_MEMO,
            issuer=provider,
            recipient=r1,
            reference="DEMO-NW-CM-1",
            issued=-5,
            lines=[Line("Service credit: Azure outage", "1", "150.00")],
        )
        self.link(credit=memo, debit=inv2, amount="100.00")  # 50.00 stays as credit balance

        # The reseller bills its own customers, at its prices.
        contoso = self.account(
            kind=Account.Kind.CUSTOMER,
            name="Contoso Ltd",
            parent=r1,
            credit_terms=Account.CreditTerms.NET_TERMS,
            credit_limit=D("1000.00"),
            payment_terms_days=14,
        )
        self.contact(
            contoso, name="Carla Diaz", email="ap@contoso.example", bill_to=True, primary=True
        )
        wire = self.method(contoso, kind=PaymentMethod.Kind.BANK_TRANSFER, label="Bank transfer")
        self.users["customer1"] = self.user("customer1", contoso, email="carla@contoso.example")
        inv = self.document(
            DocumentType.INVOICE,
            issuer=r1,
            recipient=contoso,
            reference="DEMO-CT-INV-1",
            issued=-20,
            lines=[Line("Microsoft 365 Business Standard, 20 seats", "20", "12.50", "0.08")],
        )  # 250.00 + 20.00 tax
        self.payment(
            recipient=contoso,
            amount="100.00",
            reference="DEMO-CT-PAY-1",
            received=-7,
            method=wire,
            apply_to=(inv,),
        )

        fabrikam = self.account(kind=Account.Kind.CUSTOMER, name="Fabrikam Inc", parent=r1)
        self.contact(
            fabrikam, name="Felix Wong", email="felix@fabrikam.example", bill_to=True, primary=True
        )
        self.method(fabrikam, kind=PaymentMethod.Kind.CASH, label="Cash")
        self.users["customer2"] = self.user("customer2", fabrikam, email="felix@fabrikam.example")
        self.document(
            DocumentType.INVOICE,
            issuer=r1,
            recipient=fabrikam,
            reference="DEMO-FB-INV-1",
            issued=-2,
            lines=[Line("Microsoft 365 Business Basic, 10 seats", "10", "7.20")],
        )
        return r1

    def _reseller2(self, provider: Account) -> Account:
        """Resale, net 15, limit 2,000, pays cash."""
        r2 = self.account(
            kind=Account.Kind.RESELLER,
            name="Southridge IT",
            parent=provider,
            reseller_model=Account.ResellerModel.RESALE,
            credit_terms=Account.CreditTerms.NET_TERMS,
            credit_limit=D("2000.00"),
            payment_terms_days=15,
        )
        self.contact(
            r2, name="Sam Okafor", email="accounts@southridge.example", bill_to=True, primary=True
        )
        cash = self.method(r2, kind=PaymentMethod.Kind.CASH, label="Cash", make_default=True)
        self.users["reseller2"] = self.user("reseller2", r2, email="sam@southridge.example")

        inv1 = self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=r2,
            reference="DEMO-SR-INV-1",
            issued=-30,
            lines=[
                Line("Google Workspace Business Starter, 20 users", "20", "12.00"),
                Line("Premium support plan", "1", "60.00"),
            ],
        )  # 300.00
        self.payment(
            recipient=r2,
            amount="300.00",
            reference="DEMO-SR-PAY-1",
            received=-25,
            method=cash,
            apply_to=(inv1,),
        )  # paid in full
        self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=r2,
            reference="DEMO-SR-INV-2",
            issued=-3,
            lines=[
                Line("Google Workspace Business Starter, 25 users", "25", "12.00"),
                Line("Domain renewals", "3", "15.00"),
            ],
        )  # 345.00
        self.payment(
            recipient=r2, amount="100.00", reference="DEMO-SR-TOPUP-1", received=-1, method=cash
        )  # a top-up, left unapplied: credit balance

        tailspin = self.account(kind=Account.Kind.CUSTOMER, name="Tailspin Toys", parent=r2)
        self.contact(
            tailspin, name="Tara Lee", email="tara@tailspin.example", bill_to=True, primary=True
        )
        tcash = self.method(tailspin, kind=PaymentMethod.Kind.CASH, label="Cash")
        self.users["customer3"] = self.user("customer3", tailspin, email="tara@tailspin.example")
        self.document(
            DocumentType.INVOICE,
            issuer=r2,
            recipient=tailspin,
            reference="DEMO-TT-INV-1",
            issued=-12,
            lines=[Line("Google Workspace Business Starter, 5 users", "5", "14.00")],
        )
        self.payment(
            recipient=tailspin,
            amount="70.00",
            reference="DEMO-TT-PAY-1",
            received=-11,
            method=tcash,
        )  # prepaid customer: applied automatically

        wwi = self.account(kind=Account.Kind.CUSTOMER, name="Wide World Importers", parent=r2)
        self.contact(
            wwi, name="Will Ward", email="it@wideworld.example", bill_to=True, primary=True
        )
        self.method(wwi, kind=PaymentMethod.Kind.DEPOSIT, label="Deposit")
        self.users["customer4"] = self.user("customer4", wwi, email="will@wideworld.example")
        return r2

    def _referral(self, provider: Account) -> None:
        """Referral: its customers sign up with its code and are billed by the provider."""
        partner = self.account(
            kind=Account.Kind.RESELLER,
            name="Blue Yonder Partners",
            parent=provider,
            reseller_model=Account.ResellerModel.REFERRAL,
            reseller_code="BLUEYONDER",
        )
        self.contact(
            partner,
            name="Bea Young",
            email="partners@blueyonder.example",
            bill_to=True,
            primary=True,
        )
        self.method(partner, kind=PaymentMethod.Kind.BANK_TRANSFER, label="Payout account")

        litware = self.account(kind=Account.Kind.CUSTOMER, name="Litware Inc", parent=partner)
        self.contact(
            litware, name="Lin Park", email="lin@litware.example", bill_to=True, primary=True
        )
        lcard = self.method(
            litware,
            kind=PaymentMethod.Kind.CARD,
            label="Mastercard",
            gateway_token="tok_demo_litware_mc",
            card_last4="5454",
            expiry_date=datetime.date(self.today.year + 2, 6, 30),
        )
        self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=litware,
            reference="DEMO-LW-INV-1",
            issued=-15,
            lines=[Line("Dropbox Business, 3 users", "3", "15.00")],
        )
        self.payment(
            recipient=litware, amount="45.00", reference="DEMO-LW-PAY-1", received=-15, method=lcard
        )

        adatum = self.account(kind=Account.Kind.CUSTOMER, name="Adatum Corp", parent=partner)
        self.contact(
            adatum, name="Ada Morris", email="ada@adatum.example", bill_to=True, primary=True
        )
        self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=adatum,
            reference="DEMO-AD-INV-1",
            issued=-4,
            lines=[Line("Acronis Cyber Protect, 2 workloads", "2", "15.00")],
        )

    def _reseller4(self, provider: Account) -> Account:
        """Resale, net 30, limit 3,000, pays by card, but the card expired last month: an order
        it approves stops at the active-token check with seed 004's warning."""
        r4 = self.account(
            kind=Account.Kind.RESELLER,
            name="Proseware Cloud",
            parent=provider,
            reseller_model=Account.ResellerModel.RESALE,
            credit_terms=Account.CreditTerms.NET_TERMS,
            credit_limit=D("3000.00"),
            payment_terms_days=30,
        )
        self.contact(
            r4, name="Priya Shah", email="billing@proseware.example", bill_to=True, primary=True
        )
        self.method(
            r4,
            kind=PaymentMethod.Kind.CARD,
            label="Company Amex",
            gateway_token="tok_demo_proseware_amex",
            card_last4="0005",
            expiry_date=self.today.replace(day=1) - datetime.timedelta(days=1),
            make_default=True,
        )
        self.users["reseller4"] = self.user("reseller4", r4, email="priya@proseware.example")
        coho = self.account(kind=Account.Kind.CUSTOMER, name="Coho Winery", parent=r4)
        self.contact(
            coho, name="Colin Hart", email="colin@cohowinery.example", bill_to=True, primary=True
        )
        self.users["customer5"] = self.user("customer5", coho, email="colin@cohowinery.example")
        return r4

    def _catalogue(self) -> dict[str, Product]:
        """Eight products: every product type and billing type, one executed by hand by the
        distributor, one with a 30-day trial. The default catalogue holds them all; Fabrikam is
        assigned a smaller one."""
        T, B = Product.ProductType, Product.BillingType
        p = {
            "m365_standard": self.product(
                "DEMO-M365-BS",
                name="Microsoft 365 Business Standard",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("12.50"),
            ),
            "m365_basic": self.product(
                "DEMO-M365-BB",
                name="Microsoft 365 Business Basic",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("6.00"),
            ),
            "acronis": self.product(
                "DEMO-ACRONIS-CP",
                name="Acronis Cyber Protect",
                description="30-day free trial, then billed monthly.",
                product_type=T.SOFTWARE_SUBSCRIPTION,
                billing_type=B.RECURRING_MONTHLY,
                trial_days=30,
                list_price=D("15.00"),
            ),
            "azure_ri": self.product(
                "DEMO-AZ-RI-D2S",
                name="Azure Reserved VM Instance D2s v5, 1 year",
                product_type=T.RESERVED_INSTANCE,
                billing_type=B.RECURRING_ANNUAL,
                list_price=D("840.00"),
            ),
            "windows_esd": self.product(
                "DEMO-WINSRV-ESD",
                name="Windows Server 2022 Standard, 16 cores (ESD)",
                product_type=T.ESD_LICENCE,
                billing_type=B.ONE_TIME,
                list_price=D("950.00"),
            ),
            "azure_usage": self.product(
                "DEMO-AZ-USAGE",
                name="Azure consumption",
                description="Billed monthly in arrears, per unit of usage.",
                product_type=T.SERVICE,
                billing_type=B.USAGE,
                list_price=D("1.00"),
            ),
            "backup": self.product(
                "DEMO-BACKUP-TB",
                name="Managed backup storage, per TB",
                product_type=T.SERVICE,
                billing_type=B.RECURRING_MONTHLY,
                list_price=D("80.00"),
            ),
            "server_setup": self.product(
                "DEMO-SRV-SETUP",
                name="Dedicated server setup",
                description="Executed by hand by the distributor's engineers.",
                product_type=T.SERVICE,
                billing_type=B.ONE_TIME,
                auto_executed=False,
                list_price=D("300.00"),
            ),
        }
        self.catalogue("Standard catalogue", list(p.values()), default=True)
        essentials = self.catalogue(
            "Essentials catalogue",
            [p["m365_basic"], p["m365_standard"], p["acronis"], p["azure_usage"]],
        )
        self.assign_catalogue(self.users["customer2"].account, essentials)  # Fabrikam
        return p

    def _price_lists(
        self, provider: Account, p: dict[str, Product], *, r1: Account, r2: Account, r4: Account
    ) -> None:
        """The provider's lists give each reseller's cost; each reseller's list gives its
        customers' amount: a markup on that cost, with an explicit price or two. Referral
        customers (Blue Yonder's) have no list and pay catalogue prices."""
        self.price_list(
            provider,
            "Gold partner prices",
            markup="-20",
            items={p["m365_standard"]: "10.80"},
            buyers=(r1,),
        )
        self.price_list(
            provider,
            "Silver partner prices",
            markup="-10",
            items={p["m365_standard"]: "11.00", p["azure_ri"]: "720.00"},
            buyers=(r2, r4),
        )
        self.price_list(
            r1,
            "Northwind retail",
            markup="25",
            items={p["m365_standard"]: "12.50"},
            buyers=(self.users["customer1"].account, self.users["customer2"].account),
        )
        self.price_list(
            r2,
            "Southridge retail",
            markup="20",
            items={p["m365_standard"]: "13.90"},
            buyers=(self.users["customer3"].account, self.users["customer4"].account),
        )
        self.price_list(
            r4, "Proseware retail", markup="15", items={}, buyers=(self.users["customer5"].account,)
        )

    def _orders_reseller1(self, p: dict[str, Product], r1: Account) -> None:
        """Northwind pays by card, so every order of its customers waits for its approval."""
        owen, carla, felix = (self.users[n] for n in ("reseller1", "customer1", "customer2"))
        contoso, fabrikam = carla.account, felix.account
        # Approved: credit reserved, Northwind's card charged through the gateway, executed.
        self.order(
            "DEMO-NW-ORD-1",
            placed_by=carla,
            customer=contoso,
            items=[(p["m365_standard"], 5)],
            approve_by=owen,
        )
        # Waiting in Submitted Orders Pending Approval.
        for key, buyer, customer, product, quantity in (
            ("DEMO-NW-ORD-2", carla, contoso, "m365_basic", 10),
            ("DEMO-NW-ORD-3", carla, contoso, "azure_ri", 1),
            ("DEMO-NW-ORD-4", felix, fabrikam, "acronis", 5),
        ):
            self.order(key, placed_by=buyer, customer=customer, items=[(p[product], quantity)])

    def _orders_reseller2(self, p: dict[str, Product], r2: Account) -> None:
        """Southridge pays cash, so it switched approval off for Tailspin Toys and left it on for
        Wide World Importers. Its available credit starts at 1,655.00 (limit 2,000.00 less
        345.00 open debt); the first four orders leave 916.00, too little for the next three."""
        sam, tara, will = (self.users[n] for n in ("reseller2", "customer3", "customer4"))
        tailspin, wwi = tara.account, will.account
        if not self.order_exists("DEMO-SR-ORD-1"):
            accounts.customer_set_order_approval(customer=tailspin, required=False, acting_user=sam)
        # Completed at once: 55.00 at cost recorded, usage billed later in arrears.
        self.order(
            "DEMO-SR-ORD-1",
            placed_by=tara,
            customer=tailspin,
            items=[(p["m365_standard"], 5), (p["azure_usage"], 1)],
        )
        # Completed into a 30-day trial: nothing charged yet, the reservation released.
        self.order("DEMO-SR-ORD-2", placed_by=tara, customer=tailspin, items=[(p["acronis"], 3)])
        # A manual product: submitted to the distributor, 270.00 reserved.
        self.order(
            "DEMO-SR-ORD-3", placed_by=tara, customer=tailspin, items=[(p["server_setup"], 1)]
        )
        # Mixed: split into a completed sub-order (144.00) and one with the distributor (270.00);
        # the order stays Submitted until both are executed.
        self.order(
            "DEMO-SR-ORD-4",
            placed_by=tara,
            customer=tailspin,
            items=[(p["backup"], 2), (p["server_setup"], 1)],
        )
        # Unexecuted due to insufficient credit: 1,440.00 needed, never approved (approval off).
        self.order("DEMO-SR-ORD-5", placed_by=tara, customer=tailspin, items=[(p["azure_ri"], 2)])
        # Approved by Southridge, then short of credit (1,575.00): in both of its lists.
        self.order(
            "DEMO-SR-ORD-6",
            placed_by=will,
            customer=wwi,
            items=[(p["azure_ri"], 1), (p["windows_esd"], 1)],
            approve_by=sam,
        )
        # Southridge's own purchase (customer blank), short of credit (1,710.00).
        self.order("DEMO-SR-ORD-7", placed_by=sam, reseller=r2, items=[(p["windows_esd"], 2)])
        # Cancelled by Southridge before approval; then waiting for approval.
        self.order(
            "DEMO-SR-ORD-8",
            placed_by=will,
            customer=wwi,
            items=[(p["m365_basic"], 10)],
            cancel_by=sam,
            cancel_reason="Ordered the wrong plan; replaced by the next order.",
        )
        self.order("DEMO-SR-ORD-9", placed_by=will, customer=wwi, items=[(p["m365_standard"], 20)])

    def _orders_reseller4(self, p: dict[str, Product], r4: Account) -> None:
        """Proseware approves an order, but its card's token has expired: the order stays
        Pending with seed 004's warning and nothing is reserved."""
        self.order(
            "DEMO-PW-ORD-1",
            placed_by=self.users["customer5"],
            customer=self.users["customer5"].account,
            items=[(p["m365_standard"], 3)],
            approve_by=self.users["reseller4"],
        )


LOGIN_ORDER = (
    "provider",
    "reseller1",
    "reseller2",
    "reseller4",
    "customer1",
    "customer2",
    "customer3",
    "customer4",
    "customer5",
)


def seed_demo(*, today: datetime.date) -> SeedReport:
    """Create (or find) the demo installation. One transaction: all of it or nothing.

    The demo's orders are history, not news: the order emails their services queue are not sent
    (with the console backend they would bury the logins under a screenful of mail).
    """
    quiet = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    with quiet, transaction.atomic():
        report = _Seeder(today=today).run()
    report.logins.sort(key=lambda login: LOGIN_ORDER.index(login[0]))
    return report

"""Demo data for a first look, written through the services (never raw ORM writes for money).

Idempotent by natural keys: accounts by (kind, parent, name), contacts by (account, email),
payment methods by (account, kind, label), users by username, documents by (issuer, recipient,
type, reference), applications by their two documents. A second run finds everything and adds
nothing, not even an audit row.

Dates are relative to `today`, which the caller passes in (the clock lives at the edge).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import services as ledger
from billing.models import Application, Document, DocumentStatus, DocumentType
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
        self._reseller1(provider)
        self._reseller2(provider)
        self._referral(provider)
        return self.report

    def _reseller1(self, provider: Account) -> None:
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
        topup = {
            "auto_topup_enabled": True,
            "auto_topup_threshold": D("500.00"),
            "auto_topup_amount": D("1000.00"),
            "auto_topup_payment_method": card,
        }
        if r1.pk in self.new_accounts:  # never undo what a user changed since the first run
            accounts.account_update_financials(account=r1, acting_user=self.staff, **topup)
        self.user("reseller1", r1, email="owen@northwind.example")

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
        self.user("customer1", contoso, email="carla@contoso.example")
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
        self.document(
            DocumentType.INVOICE,
            issuer=r1,
            recipient=fabrikam,
            reference="DEMO-FB-INV-1",
            issued=-2,
            lines=[Line("Microsoft 365 Business Basic, 10 seats", "10", "7.20")],
        )

    def _reseller2(self, provider: Account) -> None:
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
        self.user("reseller2", r2, email="sam@southridge.example")

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


LOGIN_ORDER = ("provider", "reseller1", "reseller2", "customer1")


@transaction.atomic
def seed_demo(*, today: datetime.date) -> SeedReport:
    """Create (or find) the demo installation. One transaction: all of it or nothing."""
    report = _Seeder(today=today).run()
    report.logins.sort(key=lambda login: LOGIN_ORDER.index(login[0]))
    return report

"""The demo's accounts: the resellers with their customers, contacts, payment methods, users and
documents."""

from __future__ import annotations

import datetime

from billing.models import DocumentType
from dashboard.management.demo.builder import D, Line
from resellers import services as accounts
from resellers.models import Account, PaymentMethod

COMMISSION = D("0.1000")


class Accounts:
    """Mixed into the seeder (dashboard.management.demo): uses its Builder helpers."""

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
        if r1.pk in self.new_accounts:  # its customers pay it by card online (issue 13)
            accounts.reseller_set_card_payments(reseller=r1, enabled=True, acting_user=self.staff)
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
                Line(
                    "Microsoft 365 Business Standard, 40 seats", "40", "10.80", sku="DEMO-M365-BS"
                ),
                Line("Azure consumption", "1", "768.00", sku="DEMO-AZ-USAGE"),
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
                Line(
                    "Microsoft 365 Business Standard, 45 seats", "45", "10.80", sku="DEMO-M365-BS"
                ),
                Line("Backup storage, TB", "2", "157.00", sku="DEMO-BACKUP-TB"),
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
            lines=[
                Line(
                    "Microsoft 365 Business Standard, 20 seats",
                    "20",
                    "12.50",
                    "0.08",
                    sku="DEMO-M365-BS",
                )
            ],
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
            lines=[
                Line("Microsoft 365 Business Basic, 10 seats", "10", "7.20", sku="DEMO-M365-BB")
            ],
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
                Line(
                    "Google Workspace Business Starter, 20 users", "20", "12.00", sku="DEMO-GWS-BS"
                ),
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
                Line(
                    "Google Workspace Business Starter, 25 users", "25", "12.00", sku="DEMO-GWS-BS"
                ),
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
            lines=[
                Line("Google Workspace Business Starter, 5 users", "5", "14.00", sku="DEMO-GWS-BS")
            ],
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
        self.users["reseller3"] = self.user("reseller3", partner, email="bea@blueyonder.example")
        if partner.commission_rate != COMMISSION:  # seed 003's payouts: 10 % of what is paid
            accounts.referral_commission_set(
                reseller=partner, rate=COMMISSION, acting_user=self.staff
            )

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
            lines=[Line("Acronis Cyber Protect, 2 workloads", "2", "15.00", sku="DEMO-ACRONIS-CP")],
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
        amex = self.method(
            r4,
            kind=PaymentMethod.Kind.CARD,
            label="Company Amex",
            gateway_token="tok_demo_proseware_amex",
            card_last4="0005",
            expiry_date=self.today.replace(day=1) - datetime.timedelta(days=1),
            make_default=True,
        )
        self.users["reseller4"] = self.user("reseller4", r4, email="priya@proseware.example")
        # Last month's purchases, paid in full before the card expired: its Product Mix history.
        bought = self.document(
            DocumentType.INVOICE,
            issuer=provider,
            recipient=r4,
            reference="DEMO-PW-INV-1",
            issued=-20,
            lines=[
                Line(
                    "Azure Reserved VM Instance D2s v5, 1 year", "1", "720.00", sku="DEMO-AZ-RI-D2S"
                ),
                Line("Microsoft 365 Business Standard, 5 seats", "5", "11.00", sku="DEMO-M365-BS"),
                Line("Acronis Cyber Protect, 4 workloads", "4", "13.50", sku="DEMO-ACRONIS-CP"),
            ],
        )  # 829.00
        self.payment(
            recipient=r4,
            amount="829.00",
            reference="DEMO-PW-PAY-1",
            received=-20,
            method=amex,
            apply_to=(bought,),
        )
        coho = self.account(kind=Account.Kind.CUSTOMER, name="Coho Winery", parent=r4)
        self.contact(
            coho, name="Colin Hart", email="colin@cohowinery.example", bill_to=True, primary=True
        )
        self.users["customer5"] = self.user("customer5", coho, email="colin@cohowinery.example")
        return r4

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
from decimal import Decimal as D

from django.db import transaction
from django.test.utils import override_settings

from billing import dunning, ledger
from billing.models import BillingRun, DocumentType, DunningPolicy, ResellerTransaction
from billing.runs import run_start
from dashboard.management.demo.accounts import Accounts
from dashboard.management.demo.builder import PASSWORD, Builder, Line, SeedReport
from dashboard.management.demo.catalogue import CatalogueAndOrders
from orders import services as ordering
from orders.models import Order, OrderType, Subscription
from orders.usage import usage_record
from resellers.models import Account

__all__ = ["PASSWORD", "SeedReport", "seed_demo"]


class _Seeder(Accounts, CatalogueAndOrders, Builder):
    """The demo installation, in order."""

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
        products = self._products()
        r1 = self._reseller1(provider)
        r2 = self._reseller2(provider)
        self._referral(provider)
        r4 = self._reseller4(provider)
        self._catalogue(products)
        self._price_lists(provider, products, r1=r1, r2=r2, r4=r4)
        self._orders_reseller1(products, r1)
        self._orders_reseller2(products, r2)
        self._orders_reseller4(products, r4)
        self._runs()
        self._corrections(r2)
        self._dunning(provider, products)
        return self.report

    def _dunning(self, provider: Account, p: dict) -> None:
        """Dunning (issue 13): the provider's policy (reminders 3 days before and 1 and 7 days
        after a due date, credit hold at 21 days overdue, suspension at 45), two direct
        customers of the provider who did not pay (Lucerne Publishing, 30 days overdue: on
        credit hold; Fourth Coffee, 50 days overdue: on hold with its subscription suspended),
        and today's dunning run, which also reminds the accounts with documents just overdue
        (Northwind, Contoso, Fabrikam, Adatum) or coming due."""
        if DunningPolicy.objects.filter(issuer=provider).exists():
            return
        dunning.policy_set(
            issuer=provider,
            acting_user=self.staff,
            reminder_days_before=[3],
            reminder_days_after=[1, 7],
            credit_hold_days=21,
            suspension_days=45,
        )
        for name, email, issued, seats in (
            ("Lucerne Publishing", "ap@lucerne.example", -60, 4),
            ("Fourth Coffee", "accounts@fourthcoffee.example", -80, 6),
        ):
            customer = self.account(
                kind=Account.Kind.CUSTOMER,
                name=name,
                parent=provider,
                credit_terms=Account.CreditTerms.NET_TERMS,
                credit_limit=D("1000.00"),
                payment_terms_days=30,
            )
            self.contact(customer, name=f"{name} billing", email=email, bill_to=True, primary=True)
            self.document(
                DocumentType.INVOICE,
                issuer=provider,
                recipient=customer,
                reference=f"DEMO-DUN-{customer.pk}",
                issued=issued,
                lines=[Line("Microsoft 365 Business Standard", str(seats), "13.50")],
            )
        fourth = Account.objects.get(name="Fourth Coffee", parent=provider)
        self.order(
            "DEMO-FC-ORD-1",
            placed_by=self.staff,
            customer=fourth,
            items=[(p["m365_standard"], 6)],
        )
        result = dunning.dunning_run(today=self.today)
        self.report.note(f"Dunning: {len(result.steps)} steps")

    def _corrections(self, r2: Account) -> None:
        """Seed 001 §4, once: Southridge's customer Tailspin Toys was invoiced tonight for
        Microsoft 365 at the wrong price (DEMO-SR-ORD-1): a correcting order sets its price to
        12.00 and issues Tailspin a credit memo for the difference; and Southridge's charge for
        Tailspin's backup (not invoiced yet) is corrected from 144.00 to 134.00, an agreed
        discount that its next billing order carries. Northwind's order for Contoso
        (DEMO-NW-ORD-1, paid by Northwind's card) was for one licence too many: a correcting
        order refunds Northwind's 10.80 at cost to that card (a credit memo and its refund) and
        credits Contoso. Tailspin's Azure consumption reported as money today, 30.00, was 25.00
        (seed 001 §4, case 2): the usage record is corrected before billing."""
        if Order.objects.filter(order_type=OrderType.CORRECTION).exists():
            return
        wrong = Order.objects.get(notes="DEMO-SR-ORD-1", parent__isnull=True)
        m365 = wrong.items.get(product__sku="DEMO-M365-BS")
        correction, _ = ordering.order_correct(
            order=wrong,
            lines=[ordering.CorrectionLine(item_id=m365.pk, unit_price=D("12.00"))],
            outcome="credit_memo",
            reason="Tailspin's Microsoft 365 price is 12.00: the price list had a typo",
            acting_user=self.staff,
            today=self.today,
        )
        self.report.note(f"Correcting order {correction.display_number}")
        backup = ResellerTransaction.objects.get(
            account=r2, status="uninvoiced", amount=D("144.00")
        )
        ledger.reseller_transaction_correct(
            transaction_=backup,
            amount=D("134.00"),
            reason="Agreed setup discount for Tailspin's backup",
            acting_user=self.staff,
        )
        self.report.note("Corrected reseller transaction")
        paid = Order.objects.get(notes="DEMO-NW-ORD-1", parent__isnull=True)
        refunded, _ = ordering.order_correct(
            order=paid,
            lines=[ordering.CorrectionLine(item_id=paid.items.get().pk, quantity=4)],
            outcome="refund",
            reason="Contoso ordered one Microsoft 365 licence too many",
            acting_user=self.staff,
            today=self.today,
        )
        self.report.note(f"Correcting order {refunded.display_number} (refund to the card)")
        azure = Subscription.objects.get(account=tailspin(r2), product__sku="DEMO-AZ-USAGE")
        record, _ = usage_record(
            subscription=azure,
            usage_date=self.today,
            reference="DEMO-AZ-USAGE-today",
            amount=D("30.00"),
            acting_user=self.staff,
            today=self.today,
        )
        ordering.usage_correct(
            record=record,
            amount=D("25.00"),
            reason="The application reported 30.00; the real usage was 25.00",
            acting_user=self.staff,
            today=self.today,
        )
        self.report.note("Corrected usage record")

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


def tailspin(southridge: Account) -> Account:
    return Account.objects.get(parent=southridge, name="Tailspin Toys")


LOGIN_ORDER = (
    "provider",
    "reseller1",
    "reseller2",
    "reseller3",
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

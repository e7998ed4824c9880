"""What an account owes and may spend: cached pair balances, credit reservations and reseller
transactions (charges recorded until a billing order invoices them)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from billing.models.documents import MONEY, RATE, Document


class Balance(models.Model):
    """Cached figures of one (issuer, recipient) pair, kept in step with the documents in the same
    transaction, under a lock on the recipient's account row. `verify_balances` recomputes them.

    open_debt = open amounts of live debit documents; credit_balance = open amounts of live credit
    documents; balance = credit_balance - open_debt.
    """

    issuer = models.ForeignKey("resellers.Account", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="balances"
    )
    currency = models.CharField(max_length=3)
    open_debt = models.DecimalField(**MONEY, default=0)
    credit_balance = models.DecimalField(**MONEY, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "recipient"], name="one_balance_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} -> {self.recipient_id}: {self.balance} {self.currency}"

    @property
    def balance(self):
        return self.credit_balance - self.open_debt


class CreditReservation(models.Model):
    """Credit held for an order that passed the credit check, until it is executed (consumed into a
    reseller transaction), cancelled or fails (released)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        CONSUMED = "consumed", "Consumed"

    tenant_paths = ("account",)
    tenant_level = "financial"

    account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="credit_reservations"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=100, help_text="What holds the credit, e.g. order:42.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["account"], condition=Q(status="active"), name="active_reservations"
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reservation_amount_gt_0"),
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(status="active"),
                name="one_active_reservation_per_ref",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency} ({self.status})"


class ResellerTransaction(models.Model):
    """A charge waiting for its account's invoice: a reseller's billing order (or a daily
    invoice), or a customer's invoice on its billing date. Until invoiced it counts against
    available credit.

    Charges for a subscription's period carry the subscription, the period and their kind; a
    partial unique index allows one live charge per (subscription, account, kind, period start),
    so no run, however often repeated or raced, charges a day twice.
    """

    class Kind(models.TextChoices):
        ORDER = "order", "Order"
        RECURRING = "recurring", "Recurring fee"
        USAGE = "usage", "Usage"
        ADJUSTMENT = "adjustment", "Adjustment"

    class Status(models.TextChoices):
        UNINVOICED = "uninvoiced", "Not invoiced"
        INVOICED = "invoiced", "Invoiced"
        CANCELLED = "cancelled", "Cancelled"

    tenant_paths = ("account",)
    tenant_level = "financial"

    account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="reseller_transactions"
    )
    description = models.CharField(max_length=300)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNINVOICED)
    reference = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ORDER)
    subscription = models.ForeignKey(
        "orders.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charges",
    )
    order_item = models.ForeignKey(
        "orders.OrderItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The order detail this charge is for (an order's charges), so a correcting "
        "order finds each detail's charges.",
    )
    quantity = models.DecimalField(**RATE, null=True, blank=True)
    unit_price = models.DecimalField(**RATE, null=True, blank=True)
    period_start_date = models.DateField(null=True, blank=True)
    period_end_date = models.DateField(null=True, blank=True, help_text="Exclusive.")
    charge_date = models.DateField(
        null=True,
        blank=True,
        help_text="When it became due: the order's date, a period's start (in advance) or end "
        "(usage, in arrears). A billing date's invoice carries what fell due by that date.",
    )
    tax_category = models.CharField(max_length=40, blank=True, default="")
    reservation = models.OneToOneField(
        CreditReservation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepaid_by = models.ForeignKey(
        "PaymentAllocation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="charges",
        help_text="The payment set aside for this prepaid order's charge.",
    )
    invoice = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["account"], condition=Q(status="uninvoiced"), name="uninvoiced_tx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="invoiced") | Q(invoice__isnull=False),
                name="invoiced_tx_has_invoice",
            ),
            models.UniqueConstraint(
                fields=["subscription", "account", "kind", "period_start_date"],
                condition=Q(subscription__isnull=False)
                & ~Q(status="cancelled")
                & ~Q(kind="adjustment"),
                name="one_live_charge_per_subscription_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount} {self.currency}"

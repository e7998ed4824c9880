"""Accounts: the provider -> reseller -> customer tree, their contacts, payment methods,
financial settings and customer classes; users acting for one account; the audit trail.

Models hold fields, constraints and pure derived properties. Rules live in services.py (writes)
and selectors.py (reads).
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CustomerClass(models.Model):
    """A class of accounts sharing billing policies (seed 001 §3).

    `bill_for_subscriptions_on_hold` is on by default, as in a fresh installation's default class.
    `refund_on_cancel` is off by default: the no-refund policy of seed 001 §4. The class of the
    account that pays upstream (a subscription's credit account) decides.
    """

    name = models.CharField(max_length=100, unique=True)
    bill_for_subscriptions_on_hold = models.BooleanField(
        default=True,
        help_text="Invoice suspended subscriptions on each billing date instead of one catch-up "
        "invoice when they are reactivated.",
    )
    refund_on_cancel = models.BooleanField(
        default=False,
        help_text="Give back the unused days already billed when provider staff cancel a "
        "subscription at once. Off (the default) is a no-refund policy: cancelling refunds "
        "nothing, and a correcting order refunds as an exception (seed 001 §4).",
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "customer classes"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_class"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """One node of the tree: the provider, a reseller, or a customer.

    `issuer` is the account's one upstream issuer (DESIGN.md "Accounts"): the provider for a
    reseller and for referral or direct customers, the resale reseller for its customers. It is
    set once, at creation, by `account_create`, and is null only for the provider.
    """

    class Kind(models.TextChoices):
        PROVIDER = "provider", "Provider"
        RESELLER = "reseller", "Reseller"
        CUSTOMER = "customer", "Customer"

    class ResellerModel(models.TextChoices):
        RESALE = "resale", "Resale"
        REFERRAL = "referral", "Referral"

    class CreditTerms(models.TextChoices):
        PREPAID = "prepaid", "Prepaid"
        NET_TERMS = "net_terms", "Net terms"

    class DailyInvoicing(models.TextChoices):
        PREPAID_ONLY = "prepaid_only", "Prepaid purchases only"
        ALL = "all", "All purchases"
        DISABLED = "disabled", "Disabled"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    issuer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="billed_accounts"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    currency = models.CharField(max_length=3, default="USD")
    customer_class = models.ForeignKey(
        CustomerClass, on_delete=models.PROTECT, related_name="accounts"
    )
    reseller_model = models.CharField(
        max_length=10, choices=ResellerModel.choices, blank=True, default=""
    )
    reseller_code = models.CharField(
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text="Code customers enter at sign-up to be tagged to this reseller.",
    )

    credit_terms = models.CharField(
        max_length=10, choices=CreditTerms.choices, default=CreditTerms.PREPAID
    )
    credit_limit = models.DecimalField(max_digits=19, decimal_places=2, default=0)
    payment_terms_days = models.PositiveSmallIntegerField(default=0)
    daily_invoicing = models.CharField(
        max_length=12, choices=DailyInvoicing.choices, default=DailyInvoicing.PREPAID_ONLY
    )
    credit_hold = models.BooleanField(default=False)
    billing_anchor = models.DateField(
        null=True,
        blank=True,
        help_text="The account's billing cycle is anchored here (monthly, billing.periods): set "
        "on its first charge or subscription; its subscriptions co-term to it.",
    )
    next_billing_date = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The next cycle date on which the billing run invoices what waits for it.",
    )
    order_approval_required = models.BooleanField(
        default=True,
        help_text="An end customer's orders wait for its reseller's approval (seed 004). Locked "
        "on while the reseller pays by card, whatever is stored here.",
    )

    auto_topup_enabled = models.BooleanField(default=False)
    auto_topup_threshold = models.DecimalField(
        max_digits=19, decimal_places=2, null=True, blank=True
    )
    auto_topup_amount = models.DecimalField(max_digits=19, decimal_places=2, null=True, blank=True)

    class TopupMode(models.TextChoices):
        FIXED = "fixed", "A fixed amount"
        TARGET = "target", "Up to a target balance"

    auto_topup_mode = models.CharField(
        max_length=6,
        choices=TopupMode.choices,
        default=TopupMode.FIXED,
        db_default=TopupMode.FIXED,
        help_text="Charge `auto_topup_amount` each time, or what brings the balance to "
        "`auto_topup_target`.",
    )
    auto_topup_target = models.DecimalField(max_digits=19, decimal_places=2, null=True, blank=True)
    auto_topup_payment_method = models.ForeignKey(
        "PaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    commission_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=0,
        help_text="A referral reseller's commission on what its customers paid, as a fraction "
        "(0.1000 = 10 %); its payouts are settled offline (seed 003).",
    )

    card_payments = models.BooleanField(
        "Take card payments",
        default=False,
        db_default=False,  # set-wise inserts (the benches) that leave it out get it too
        help_text="A resale reseller takes its customers' card payments through the gateway "
        "(they pay a chosen document or their wallet online). Off: they pay it offline, as "
        "its invoices' payment details say. The provider always takes cards.",
    )

    # Billing details: printed on the documents the account issues (its letterhead and how to
    # pay it) and receives (the address billed). Set by `account_billing_details_set`.
    address_line1 = models.CharField("Address", max_length=200, blank=True)
    address_line2 = models.CharField("Address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(
        max_length=100, blank=True, help_text="State, province or county, e.g. WA."
    )
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 country code, e.g. US."
    )
    tax_id = models.CharField(
        "Tax ID",
        max_length=40,
        blank=True,
        help_text="VAT or sales-tax registration number, printed on the documents it issues.",
    )
    payment_instructions = models.TextField(
        blank=True,
        help_text="How to pay the documents this account issues: the bank, account holder, "
        "account number or IBAN, routing number or BIC, and any terms. Printed on its invoices "
        "and debit memos with the amount due, the due date and the document number as the "
        "payment reference.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_paths = ("pk",)
    tenant_level = "details"

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["kind", "name"])]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="credit_limit_gte_0"),
            models.CheckConstraint(
                condition=Q(auto_topup_threshold__isnull=True) | Q(auto_topup_threshold__gte=0),
                name="auto_topup_threshold_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(auto_topup_amount__isnull=True) | Q(auto_topup_amount__gt=0),
                name="auto_topup_amount_gt_0",
            ),
            models.CheckConstraint(
                condition=(Q(kind="provider") & Q(parent__isnull=True) & Q(issuer__isnull=True))
                | (~Q(kind="provider") & Q(parent__isnull=False) & Q(issuer__isnull=False)),
                name="tree_shape",
            ),
            models.CheckConstraint(
                condition=(Q(kind="reseller") & ~Q(reseller_model=""))
                | (~Q(kind="reseller") & Q(reseller_model="")),
                name="reseller_model_only_for_resellers",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"),
                name="account_country_iso",
            ),
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0, commission_rate__lte=1)
                & (Q(commission_rate=0) | Q(reseller_model="referral")),
                name="commission_only_for_referral",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_provider(self) -> bool:
        return self.kind == self.Kind.PROVIDER

    @property
    def is_reseller(self) -> bool:
        return self.kind == self.Kind.RESELLER

    @property
    def is_customer(self) -> bool:
        return self.kind == self.Kind.CUSTOMER

    @property
    def is_referral_reseller(self) -> bool:
        return self.is_reseller and self.reseller_model == self.ResellerModel.REFERRAL

    @property
    def takes_cards(self) -> bool:
        """Whether the accounts it bills may pay it by card online: the provider always, a
        resale reseller when it turned card payments on."""
        return self.is_provider or (self.is_reseller and self.card_payments)

    @property
    def is_net_terms(self) -> bool:
        return self.credit_terms == self.CreditTerms.NET_TERMS

    @property
    def address_lines(self) -> tuple[str, ...]:
        """The postal address as printed, empty lines left out: `1 Harbor Way`, `Suite 400`,
        `Seattle, WA 98101`, `US`."""
        place = ", ".join(part for part in (self.city, self.region) if part)
        place = " ".join(part for part in (place, self.postal_code) if part)
        lines = (self.address_line1, self.address_line2, place, self.country)
        return tuple(line for line in lines if line)


class Contact(models.Model):
    """A person at an account. At most one bill-to and one primary contact per account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    is_bill_to = models.BooleanField(default=False)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_paths = ("account",)
    tenant_level = "details"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_bill_to=True), name="one_bill_to_contact"
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_primary=True), name="one_primary_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class PaymentMethod(models.Model):
    """How an account pays. A card holds a gateway token with an expiry; the others hold none."""

    class Kind(models.TextChoices):
        CARD = "card", "Credit card"
        CASH = "cash", "Cash"
        DEPOSIT = "deposit", "Deposit"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="payment_methods")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=100, blank=True)
    gateway_token = models.CharField(max_length=200, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    expiry_date = models.DateField(
        null=True, blank=True, help_text="Last day the card (and its token) can be charged."
    )
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_paths = ("account",)
    tenant_level = "financial"

    class Meta:
        ordering = ["-is_default", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_default=True), name="one_default_payment_method"
            ),
            models.CheckConstraint(
                condition=Q(kind="card") | (Q(gateway_token="") & Q(expiry_date__isnull=True)),
                name="token_only_on_cards",
            ),
        ]

    def __str__(self) -> str:
        name = self.label or self.get_kind_display()
        if self.kind == self.Kind.CARD and self.card_last4:
            return f"{name} •••• {self.card_last4}"
        return name

    def token_is_active(self, on_date: datetime.date) -> bool:
        """A card's token can be charged on `on_date`: present, active and not expired."""
        return (
            self.kind == self.Kind.CARD
            and self.is_active
            and bool(self.gateway_token)
            and self.expiry_date is not None
            and self.expiry_date >= on_date
        )


class User(AbstractUser):
    """A person who logs in. Everyone but a superuser acts for exactly one account.

    Provider staff are users of the provider account; reseller and customer users act for theirs.
    """

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(account__isnull=False),
                name="user_acts_for_an_account",
            )
        ]

    @property
    def is_provider_staff(self) -> bool:
        if self.is_superuser:
            return True
        return self.account_id is not None and self.account.kind == Account.Kind.PROVIDER


class AuditEvent(models.Model):
    """Who did what, to which object, when. Written by every state-changing service."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"

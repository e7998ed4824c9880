"""Documents: types, statuses, numbering sequences, documents with their lines, and the
applications between them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billing.money import Money

MONEY = {"max_digits": 19, "decimal_places": 2}
RATE = {"max_digits": 19, "decimal_places": 4}


class DocumentType(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    DEBIT_MEMO = "debit_memo", "Debit memo"
    REFUND = "refund", "Refund"
    PAYMENT = "payment", "Payment"
    CREDIT_MEMO = "credit_memo", "Credit memo"


DEBIT_TYPES = frozenset({DocumentType.INVOICE, DocumentType.DEBIT_MEMO, DocumentType.REFUND})
CREDIT_TYPES = frozenset({DocumentType.PAYMENT, DocumentType.CREDIT_MEMO})
NUMBER_PREFIX = {
    DocumentType.INVOICE: "INV",
    DocumentType.DEBIT_MEMO: "DM",
    DocumentType.REFUND: "RF",
    DocumentType.PAYMENT: "PAY",
    DocumentType.CREDIT_MEMO: "CM",
}


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"  # a debit document with nothing left open
    CLOSED = "closed", "Closed"  # a credit document applied in full
    CANCELLED = "cancelled", "Cancelled"


# Statuses that count in balances: issued and settled documents. Drafts and cancelled ones don't.
LIVE_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.PAID, DocumentStatus.CLOSED)


class DocumentSequence(models.Model):
    """The last number used per (issuer, document type). Advanced by one UPDATE ... RETURNING,
    which holds the row lock until commit: numbers stay gap-free, and a block of numbers for a
    billing chunk is one statement."""

    issuer = models.ForeignKey("resellers.Account", on_delete=models.PROTECT, related_name="+")
    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "doc_type"], name="one_sequence_per_type"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id}/{self.doc_type}: {self.last_number}"


class DocumentQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=LIVE_STATUSES)

    def debits(self):
        return self.filter(doc_type__in=DEBIT_TYPES)

    def credits(self):
        return self.filter(doc_type__in=CREDIT_TYPES)

    def open(self):
        return self.live().filter(open_amount__gt=0)

    def unpaid(self):
        """Debit documents with an open amount (seed 002's "Unpaid documents")."""
        return self.open().debits()

    def overdue(self, *, as_of: datetime.date):
        return self.unpaid().filter(due_date__lt=as_of)


class Document(models.Model):
    """An AR document from `issuer` to `recipient`."""

    tenant_paths = ("recipient",)
    tenant_level = "financial"

    # Indexed by Meta.indexes, each leading a composite index (no index of its own).
    issuer = models.ForeignKey(
        "resellers.Account",
        on_delete=models.PROTECT,
        related_name="issued_documents",
        db_index=False,
    )
    recipient = models.ForeignKey(
        "resellers.Account",
        on_delete=models.PROTECT,
        related_name="received_documents",
        db_index=False,
    )
    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    number = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    subtotal = models.DecimalField(**MONEY, default=0)
    tax_total = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY, default=0)
    open_amount = models.DecimalField(**MONEY, default=0)
    payment_method = models.ForeignKey(
        "resellers.PaymentMethod",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    billing_key = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="What a run issued this for, e.g. billing:2026-12-01; one live document per "
        "(recipient, key).",
    )
    memo = models.TextField(blank=True)
    billing_run = models.ForeignKey(
        "BillingRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text="The run that issued it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(fields=["recipient", "status", "doc_type"]),
            models.Index(fields=["issuer", "recipient", "status"]),
            models.Index(fields=["due_date"]),
            # The dashboard (bench/dashboard.py): an account's or an issuer's documents of a
            # period (this month's costs, the Product Mix, lists newest first), and its open
            # ones (overdue payments, unpaid documents).
            models.Index(fields=["recipient", "issue_date"], name="document_recipient_issue_date"),
            models.Index(fields=["issuer", "issue_date"], name="document_issuer_issue_date"),
            models.Index(
                fields=["recipient", "due_date"],
                condition=Q(open_amount__gt=0),
                name="open_document_by_recipient",
            ),
            models.Index(
                fields=["issuer", "due_date"],
                condition=Q(open_amount__gt=0),
                name="open_document_by_issuer",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "doc_type", "number"],
                condition=Q(number__isnull=False),
                name="document_number_unique",
            ),
            models.UniqueConstraint(
                fields=["recipient", "billing_key"],
                condition=~Q(billing_key="") & ~Q(status="cancelled"),
                name="one_live_document_per_billing_key",
            ),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(number__isnull=True))
                | (~Q(status="draft") & Q(number__isnull=False) & Q(issue_date__isnull=False)),
                name="document_number_iff_issued",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="document_total_gte_0"),
            models.CheckConstraint(
                condition=Q(open_amount__gte=0) & Q(open_amount__lte=F("total")),
                name="document_open_amount_in_range",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="document_currency_iso"
            ),
            models.CheckConstraint(
                condition=~Q(issuer=F("recipient")), name="document_parties_differ"
            ),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        prefix = NUMBER_PREFIX.get(self.doc_type, "DOC")
        if self.number is None:
            return f"{prefix}-DRAFT-{self.pk}"
        return f"{prefix}-{self.number:06d}"

    @property
    def is_debit(self) -> bool:
        return self.doc_type in DEBIT_TYPES

    @property
    def is_credit(self) -> bool:
        return self.doc_type in CREDIT_TYPES

    @property
    def is_draft(self) -> bool:
        return self.status == DocumentStatus.DRAFT

    @property
    def total_money(self) -> Money:
        return Money(self.total, self.currency)

    @property
    def open_money(self) -> Money:
        return Money(self.open_amount, self.currency)

    def reads_closed(self, *, provider_view: bool) -> bool:
        """Seed 002: outside the provider panel a credit memo that is not cancelled always reads
        closed, with nothing open: its value lives in the credit balance. The same rule in SQL
        is READS_CLOSED (billing.selectors.documents_visible filters and sorts on it)."""
        return (
            not provider_view
            and self.doc_type == DocumentType.CREDIT_MEMO
            and self.status != DocumentStatus.CANCELLED
        )

    def is_overdue(self, *, as_of: datetime.date) -> bool:
        return (
            self.is_debit
            and self.status in LIVE_STATUSES
            and self.open_amount > 0
            and self.due_date is not None
            and self.due_date < as_of
        )


# Document.reads_closed, outside the provider panel, as a filter.
READS_CLOSED = Q(doc_type=DocumentType.CREDIT_MEMO) & ~Q(status=DocumentStatus.CANCELLED)


class DocumentLine(models.Model):
    """One line. `amount` is quantity x unit price rounded half-up at this line (billing.money)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(**RATE, default=1)
    unit_price = models.DecimalField(**RATE)
    amount = models.DecimalField(**MONEY)
    tax_rate = models.DecimalField(**RATE, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    period_start_date = models.DateField(null=True, blank=True)
    period_end_date = models.DateField(null=True, blank=True, help_text="Exclusive.")
    # The product a line made by hand bills (a memo or an invoice issued by provider staff, the
    # demo's history), for the Product Mix; a run's lines name theirs through their charges.
    product = models.ForeignKey(
        "orders.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["document", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start_date__isnull=True)
                | Q(period_end_date__isnull=True)
                | Q(period_end_date__gt=F("period_start_date")),
                name="line_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class Application(models.Model):
    """Part of a credit document applied to part of a debit document, with who and when.

    Never deleted: unlinking stamps `unapplied_at`/`unapplied_by`, so history stays readable.
    """

    tenant_paths = ("debit_document__recipient",)
    tenant_level = "financial"

    credit_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="applications_as_credit"
    )
    debit_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="applications_as_debit"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    applied_at = models.DateTimeField()
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unapplied_at = models.DateTimeField(null=True, blank=True)
    unapplied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["applied_at", "id"]
        indexes = [
            models.Index(
                fields=["credit_document"],
                condition=Q(unapplied_at__isnull=True),
                name="active_app_by_credit",
            ),
            models.Index(
                fields=["debit_document"],
                condition=Q(unapplied_at__isnull=True),
                name="active_app_by_debit",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="application_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(credit_document=F("debit_document")), name="application_two_documents"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.amount} {self.currency}: {self.credit_document_id} -> {self.debit_document_id}"
        )

    @property
    def is_active(self) -> bool:
        return self.unapplied_at is None

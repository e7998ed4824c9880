"""The ledger: AR documents with lines, applications between them, gap-free numbering, cached
balances, credit reservations and reseller transactions.

Direction (seed 002): invoices, debit memos and refunds are debit documents (the recipient owes);
payments and credit memos are credit documents. Every amount is positive; the type gives the sign.
Issued documents are immutable: services never change them and database triggers (migration
0003_ledger_guards) refuse any change to an issued document's parties, dates, lines or amounts,
and any delete. Only `status`, `open_amount` and the status timestamps move.
"""

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

    issuer = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="issued_documents"
    )
    recipient = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="received_documents"
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


class GatewayCharge(models.Model):
    """What was asked of the payment gateway, keyed by our idempotency key, so a retried charge
    (after a timeout, a crash, a second click) never charges twice."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"
        REFUNDED = "refunded", "Refunded"

    idempotency_key = models.CharField(max_length=120, unique=True)
    payment_method = models.ForeignKey(
        "resellers.PaymentMethod", on_delete=models.PROTECT, related_name="charges"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices)
    gateway_reference = models.CharField(max_length=120, blank=True)
    payment = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="gateway_charge"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.amount} {self.currency} {self.status}"


class PaymentRequestKey(models.Model):
    """An idempotency key for recording a payment (a form's submission token, a client's key):
    the same key records one payment, however often it is sent."""

    key = models.CharField(max_length=120, unique=True)
    payment = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="request_key")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class BillingRun(models.Model):
    """One run of the billing-date job or the daily invoicing job for a date: what it covered,
    what it issued, what failed and why. Chunks report in `BillingRunChunk` rows written in their
    own transactions, so a retried chunk never counts twice; the figures here are their sums."""

    class Kind(models.TextChoices):
        BILLING = "billing", "Billing date"
        DAILY = "daily", "Daily invoicing"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Completed with failures"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    run_date = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=20, default="command")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_invoiced = models.PositiveIntegerField(default=0)
    invoices_issued = models.PositiveIntegerField(default=0)
    subscriptions_billed = models.PositiveIntegerField(default=0)
    charges_invoiced = models.PositiveIntegerField(default=0)
    amounts = models.JSONField(default=dict, blank=True, help_text="Invoiced totals by currency.")
    failures_count = models.PositiveIntegerField(default=0)
    later_chunks = models.JSONField(
        default=list,
        blank=True,
        help_text="The second phase (resellers' billing orders): account ids per chunk, sent to "
        "the workers when the first phase's chunks have all reported.",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "run_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.run_date} ({self.status})"

    @property
    def duration(self) -> datetime.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


class BillingRunChunk(models.Model):
    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    accounts = models.PositiveIntegerField(default=0)
    accounts_invoiced = models.PositiveIntegerField(default=0)
    invoices_issued = models.PositiveIntegerField(default=0)
    subscriptions_billed = models.PositiveIntegerField(default=0)
    charges_invoiced = models.PositiveIntegerField(default=0)
    amounts = models.JSONField(default=dict, blank=True)
    failures = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_report_per_chunk"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.number}"


class BillingRunFailure(models.Model):
    """An account a run could not invoice, and why. Its charges stay uninvoiced and its cycle
    date stays due, so running the date again retries it."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="failures")
    account = models.ForeignKey(
        "resellers.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    chunk = models.PositiveIntegerField(default=0)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.account_id}: {self.reason[:40]}"


class PaymentAllocation(models.Model):
    """Part of an unapplied payment (a top-up) set aside for one order when it is placed: the
    order is *prepaid* (DESIGN.md "Available credit and prepaid orders"). It consumes no credit
    (its charge is left out of available credit), the daily invoicing run invoices it and applies
    this payment to that invoice (settled), and nothing else may use the set-aside part: automatic
    application of the credit balance uses unallocated credit only. Released when the order is
    cancelled or fails."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SETTLED = "settled", "Settled"
        RELEASED = "released", "Released"

    tenant_paths = ("account",)
    tenant_level = "financial"

    account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="payment_allocations"
    )
    payment = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="allocations")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="payment_allocations"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    invoice = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["payment"], condition=Q(status="active"), name="active_alloc")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_gt_0"),
            models.UniqueConstraint(
                fields=["order"], condition=~Q(status="released"), name="one_allocation_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} of {self.payment_id} for order {self.order_id}"


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key on an API POST (top-ups, orders), with Stripe's semantics; the
    one mechanism is `billing.idempotency`. Moved here from `orders` (migration
    0011_idempotencykey renamed its table) so that the ledger's API can use it too.

    States: *pending* (`completed_at` empty: a request is working on it, or died while it did)
    and *completed* (the response to replay is stored). The row is claimed, pending, in its own
    committed transaction before any work starts, with the request's hash; an order the request
    creates is linked in the same transaction as the order's creation, so that a retry after a
    crash midway continues with it; the response is stored when the request ends. The unique
    (user, key) index makes the claim one row per key: keys are scoped per user.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64, help_text="sha256 of the canonical JSON body.")
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_response_per_key"),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | Q(response_status__isnull=False, response_body__isnull=False),
                name="completed_key_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

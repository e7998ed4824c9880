"""Money through the gateway and around it: card charges, payment request keys, payments set
aside for prepaid orders, idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billing.models.documents import MONEY, Document


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
    # A refund row: the card charge it gave money back from (what is left to refund on a charge
    # is its amount less its refund rows; billing.ledger.refunds.charge_refundable).
    refunded_charge = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refund_rows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(refunded_charge__isnull=True) | Q(status="refunded"),
                name="charge_only_refunds_refund",
            ),
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


class ReferralPayout(models.Model):
    """A referral reseller's commission for a period (seed 003, "Reseller payout reports"),
    settled offline: provider staff mark it paid, with the figures as they stood then and a
    reference (a bank transfer's, say). Never edited; one per reseller and period."""

    tenant_paths = ("reseller",)
    tenant_level = "financial"

    reseller = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="referral_payouts"
    )
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive.")
    paid_sales = models.DecimalField(**MONEY)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=120, blank=True)
    paid_at = models.DateTimeField(auto_now_add=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "reseller_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reseller", "period_start", "period_end"], name="one_payout_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="payout_period_ordered"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payout_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.amount} {self.currency} to {self.reseller_id} ({self.period_start})"


class DocumentEmail(models.Model):
    """A document sent by email (a payment's receipt): one row per document and kind, so the
    job that sends it, run twice or by two workers, sends it once. `sent_at` is empty while it
    is being sent (a worker that died then is retried and sends it)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="emails")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    to = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "kind"], name="document_email_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.document_id} to {self.to or '-'}"


class GatewayAttempt(models.Model):
    """A document payment sent to the gateway, recorded (committed) before the call: if the call
    timed out and the documents were paid otherwise meanwhile, the retry with the same key still
    completes the charge the gateway may hold, and books it as credit balance, instead of
    refusing and leaving money taken with no payment (billing.card_payments)."""

    key = models.CharField(max_length=120, unique=True)
    payment_method = models.ForeignKey(
        "resellers.PaymentMethod", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key

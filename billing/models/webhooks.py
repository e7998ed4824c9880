"""Webhooks (issue 13, item 7): the HTTPS endpoints provider staff register for events, one
delivery per event and endpoint, and each attempt to send it.

The rules (who registers, what is sent, signing, retries) are in billing.webhooks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class WebhookEvent(models.TextChoices):
    """The events an endpoint may subscribe to. The names are a contract: extend, don't rename."""

    ORDER_COMPLETED = "order.completed", "Order completed"
    DOCUMENT_ISSUED = "document.issued", "Document issued"
    DOCUMENT_PAID = "document.paid", "Document paid"
    ACCOUNT_CREDIT_HOLD = "account.credit_hold", "Account put on credit hold"
    ACCOUNT_REACTIVATED = "account.reactivated", "Account reactivated"
    BILLING_RUN_FINISHED = "billing_run.finished", "Billing run finished"


class WebhookEndpoint(models.Model):
    """An HTTPS URL that receives the events it subscribes to, signed with its own secret.
    Never deleted (its deliveries are its log): deactivated instead."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event names (WebhookEvent values).")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_active"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return event in (self.events or [])


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction of what happened, sent after it
    commits. `event_id` is the event's (the same at every endpoint, and on every attempt): a
    receiver drops one it has seen. `pending` until an attempt gets a 2xx (`delivered`) or the
    attempts allowed run out (`failed`); "send again" allows another round."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    account = models.ForeignKey(
        "resellers.Account",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The account the event is about, if any.",
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(help_text="When the event happened (the body's created_at).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    attempts_allowed = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event"),
            models.CheckConstraint(
                condition=Q(attempts__lte=F("attempts_allowed")),
                name="delivery_attempts_within_allowed",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_at__isnull=False)
                | (~Q(status="delivered") & Q(delivered_at__isnull=True)),
                name="delivery_delivered_at_iff_delivered",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} to {self.endpoint_id}: {self.status}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, how long, and what came back (a status code, or
    the error that stood in for one)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.PROTECT, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

"""Billing runs as recorded: each run, its chunks and its failures."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models


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

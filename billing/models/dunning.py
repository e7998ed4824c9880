"""Dunning (issue 13, item 5): what an issuer does, day by day, about its accounts' overdue
documents, and where each account stands. The path itself is billing.dunning's."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from billing.models.documents import Document


class DunningPolicy(models.Model):
    """An issuer's dunning policy for the accounts it bills. A field left empty takes the
    provider's policy, and where that is empty too, the settings (DUNNING_*). Days before and
    after the due date are lists of whole days; the thresholds count days since the oldest
    overdue document's due date."""

    tenant_paths = ("issuer",)
    tenant_level = "financial"

    issuer = models.OneToOneField(
        "resellers.Account", on_delete=models.CASCADE, related_name="dunning_policy"
    )
    reminder_days_before = models.JSONField(null=True, blank=True)
    reminder_days_after = models.JSONField(null=True, blank=True)
    credit_hold_days = models.PositiveSmallIntegerField(null=True, blank=True)
    suspension_days = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"dunning policy of {self.issuer_id}"


class DunningStage(models.TextChoices):
    CURRENT = "current", "Current"
    OVERDUE = "overdue", "Overdue (reminded)"
    CREDIT_HOLD = "credit_hold", "Credit hold"
    SUSPENDED = "suspended", "Suspended"


HELD_STAGES = frozenset({DunningStage.CREDIT_HOLD, DunningStage.SUSPENDED})


class DunningState(models.Model):
    """Where an account stands on its issuer's dunning path, since when, and what dunning
    suspended (the subscriptions a payment that clears what is overdue reactivates). No row is
    the same as `current`."""

    tenant_paths = ("account",)
    tenant_level = "financial"

    account = models.OneToOneField(
        "resellers.Account", on_delete=models.CASCADE, related_name="dunning"
    )
    stage = models.CharField(
        max_length=12, choices=DunningStage.choices, default=DunningStage.CURRENT
    )
    since = models.DateField()
    oldest_due_date = models.DateField(null=True, blank=True)
    suspended_subscription_ids = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["stage", "since"], name="dunning_state_stage")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.stage} since {self.since}"


class DunningNotice(models.Model):
    """One dunning step taken for an account, audited and emailed: a reminder (before or after a
    document's due date, `offset` days), the credit hold, the suspension, the reactivation. A
    reminder is unique per document and offset, so the job run twice on a day sends it once;
    `sent_at` stays empty until the email went (the next run sends what a dead worker left)."""

    tenant_paths = ("account",)
    tenant_level = "financial"

    class Kind(models.TextChoices):
        REMINDER_BEFORE = "reminder_before", "Reminder before the due date"
        REMINDER_AFTER = "reminder_after", "Overdue reminder"
        CREDIT_HOLD = "credit_hold", "Credit hold"
        SUSPENSION = "suspension", "Suspension"
        REACTIVATION = "reactivation", "Reactivation"

    account = models.ForeignKey(
        "resellers.Account", on_delete=models.CASCADE, related_name="dunning_notices"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    offset = models.SmallIntegerField(null=True, blank=True)
    on_date = models.DateField()
    to = models.EmailField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "kind", "offset"],
                condition=models.Q(document__isnull=False),
                name="dunning_reminder_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="dunning_notice_unsent",
            ),
            models.Index(fields=["account", "created_at"], name="dunning_notice_account"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.account_id} on {self.on_date}"

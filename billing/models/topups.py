"""Automatic top-up's memory (billing.auto_topups): each fall of an account's available funds below
its threshold (a crossing) and each charge tried for it (an attempt)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from billing.models.documents import MONEY, Document


class AutoTopupCrossing(models.Model):
    """One fall of an account's available funds below its automatic top-up threshold: opened by
    the run that finds the account below with none open, closed (`closed_at`) by the one that
    finds it back at or above (or automatic top-up turned off). At most one is open per account
    (a unique index), and it is charged at most once: its attempts are tried one after the other,
    and once one succeeds (`charged`) or the last fails (`failed`) nothing more happens until the
    next crossing."""

    class State(models.TextChoices):
        CHARGING = "charging", "Charging"  # an attempt due at next_attempt_at, or in flight
        CHARGED = "charged", "Charged"
        FAILED = "failed", "Failed"

    tenant_paths = ("account",)
    tenant_level = "financial"

    account = models.ForeignKey(
        "resellers.Account", on_delete=models.PROTECT, related_name="auto_topup_crossings"
    )
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.CHARGING, db_default=State.CHARGING
    )
    threshold = models.DecimalField(**MONEY)
    funds_at_open = models.DecimalField(**MONEY)  # the available funds the run found
    currency = models.CharField(max_length=3)
    opened_at = models.DateTimeField()
    # When the next attempt is due (a retry, or the fallback at once); None once charged or failed.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="auto_topup_crossing",
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(closed_at__isnull=True),
                name="one_open_auto_topup_crossing",
            ),
            models.CheckConstraint(
                condition=Q(state="charged", payment__isnull=False)
                | Q(~Q(state="charged"), payment__isnull=True),
                name="auto_topup_charged_has_payment",
            ),
        ]
        indexes = [models.Index(fields=["account", "-opened_at"], name="auto_topup_crossing_acct")]

    def __str__(self) -> str:
        return f"auto top-up crossing {self.pk} of account {self.account_id}: {self.state}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class AutoTopupAttempt(models.Model):
    """One charge tried for a crossing: written, with its idempotency key
    (`auto:<crossing>:<number>`, scoped by billing.topups.topup_key), before the gateway is
    called, so a worker killed midway leaves it `pending` and the next run sends the same key
    again (the gateway and GatewayCharge book it once). A decline, or a charge refused before the
    gateway (no card, an expired one, nothing to charge), is written here and nowhere else.
    `claimed_until`: a worker is on it until then; after that (or None) the next run may resume
    it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"  # the gateway refused the card
        REFUSED = "refused", "Not sent"  # refused before the gateway: no usable card or amount

    tenant_paths = ("crossing__account",)
    tenant_level = "financial"

    crossing = models.ForeignKey(
        AutoTopupCrossing, on_delete=models.PROTECT, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField()
    fallback = models.BooleanField(default=False, db_default=False)  # the default method, once
    payment_method = models.ForeignKey(
        "resellers.PaymentMethod", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.PENDING, db_default=Status.PENDING
    )
    message = models.CharField(max_length=300, blank=True, default="", db_default="")
    started_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)  # its decline notice sent
    notified_to = models.EmailField(blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["crossing", "number"], name="auto_topup_attempt_number"
            ),
            models.UniqueConstraint(
                fields=["crossing"],
                condition=Q(status="pending"),
                name="one_pending_auto_topup_attempt",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="auto_topup_attempt_amount_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(status="succeeded", payment__isnull=False)
                | Q(~Q(status="succeeded"), payment__isnull=True),
                name="auto_topup_attempt_succeeded_has_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.status}"

    @property
    def failed(self) -> bool:
        return self.status in (self.Status.DECLINED, self.Status.REFUSED)

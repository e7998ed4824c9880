"""The snapshot of the provider-wide General Statistics (the panels' one table).

Written by the refresh job (dashboard.statistics.provider_statistics_refresh), read by the
Billing page and the API."""

from __future__ import annotations

from django.db import models


class StatisticsSnapshot(models.Model):
    """Seed 004's nine figures over every account `issuer` bills in `currency`, for `day` (this
    month to `day`, overdue before it), as computed at `computed_at`. One row per issuer and
    currency, replaced by each refresh. Provider staff only: no tenant reads it."""

    issuer = models.ForeignKey("resellers.Account", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    day = models.DateField()
    computed_at = models.DateTimeField()
    monthly_costs = models.DecimalField(max_digits=19, decimal_places=2)
    account_balance = models.DecimalField(max_digits=19, decimal_places=2)
    subscriptions_sold = models.PositiveIntegerField()
    licenses_sold = models.PositiveIntegerField()
    active_subscriptions = models.PositiveIntegerField()
    suspended_subscriptions = models.PositiveIntegerField()
    overdue_payments = models.DecimalField(max_digits=19, decimal_places=2)
    credit_limit = models.DecimalField(max_digits=19, decimal_places=2)
    available_credit = models.DecimalField(max_digits=19, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "currency"], name="statistics_snapshot_issuer_currency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.currency} {self.day} at {self.computed_at:%H:%M:%S}"

"""The job refreshing the provider-wide General Statistics' snapshot (beat, every minute)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from dashboard.statistics import provider_statistics_refresh
from resellers.models import Account


@shared_task(name="dashboard.tasks.refresh_provider_statistics")
def refresh_provider_statistics() -> str | None:
    """Store today's provider-wide figures (dashboard.statistics): the Billing page and the API
    read them. Idempotent: a second run replaces the row with the same figures. None before
    there is a provider."""
    try:
        snapshot = provider_statistics_refresh(today=timezone.localdate())
    except Account.DoesNotExist:
        return None
    return str(snapshot)

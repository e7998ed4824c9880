"""Reads on webhooks. Endpoints are the provider's: its staff see them all, nobody else any
(the panel and the API answer 403 before asking)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from resellers.tenancy import is_provider_staff


def webhook_endpoints_visible(*, user) -> QuerySet[WebhookEndpoint]:
    """Every endpoint for provider staff, newest first, with how many of its deliveries are
    pending and failed; none for anyone else."""
    if not is_provider_staff(user):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__status="pending")),
        failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
    ).order_by("-created_at", "-id")


def webhook_endpoint_get(*, user, pk: int) -> WebhookEndpoint:
    """One endpoint (WebhookEndpoint.DoesNotExist outside what `user` may see)."""
    return webhook_endpoints_visible(user=user).get(pk=pk)


def webhook_deliveries(
    *, endpoint: WebhookEndpoint, status: str = "", event: str = ""
) -> QuerySet[WebhookDelivery]:
    """An endpoint's delivery log, newest first, optionally of one status or event."""
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("account")
    if status:
        rows = rows.filter(status=status)
    if event:
        rows = rows.filter(event=event)
    return rows.order_by("-created_at", "-id")


def webhook_delivery_get(*, endpoint: WebhookEndpoint, pk: int) -> WebhookDelivery:
    return webhook_deliveries(endpoint=endpoint).get(pk=pk)


def webhook_attempts(*, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.filter(delivery=delivery).order_by("number")

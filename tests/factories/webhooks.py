"""Webhook endpoints, registered through the service as provider staff would."""

from __future__ import annotations

from django.test import override_settings

from billing.models import WebhookEndpoint, WebhookEvent
from billing.webhooks import webhook_endpoint_create

ALL_EVENTS = list(WebhookEvent.values)


def endpoint(
    *,
    url: str = "https://hooks.example.com/billing",
    events: list[str] | None = None,
    acting_user=None,
    is_active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    """An endpoint for `events` (all six by default). A loopback URL (a local receiver) is
    registered with DEBUG on, as the rule allows."""
    with override_settings(DEBUG=url.startswith(("http://127.0.0.1", "http://localhost"))):
        return webhook_endpoint_create(
            url=url,
            events=ALL_EVENTS if events is None else events,
            acting_user=acting_user,
            is_active=is_active,
            description=description,
        )

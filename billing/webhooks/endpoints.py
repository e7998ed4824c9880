"""Registering endpoints (provider staff only): the URL and event rules, create, update,
deactivate, and the secret (made on creation, rotated on request). Each write is one
transaction with its audit row; the secret never goes into the audit details."""

from __future__ import annotations

import ipaddress
import secrets
import urllib.parse
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import WebhookEndpoint, WebhookEvent
from resellers.exceptions import ApplicationError
from resellers.models import User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff

SECRET_PREFIX = "whsec_"
LOOPBACK_NAMES = frozenset({"localhost"})
URL_MAX_LENGTH = 500


def webhook_secret_new() -> str:
    """A fresh signing secret: 256 random bits."""
    return SECRET_PREFIX + secrets.token_hex(32)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url_check(url: str) -> str:
    """The URL, stripped, when an endpoint may have it; else ApplicationError on `url`.

    HTTPS only. A loopback address (127.0.0.0/8, ::1, localhost) is for trying webhooks on
    one's own machine: allowed, over HTTP too, only while settings.DEBUG is on, and refused
    otherwise whatever the scheme. No user name or password in the URL (it would be logged
    everywhere the URL is), no fragment (never sent)."""
    url = (url or "").strip()
    if not url:
        raise ApplicationError("Enter the endpoint's URL.", field="url")
    if len(url) > URL_MAX_LENGTH:
        raise ApplicationError(f"The URL is longer than {URL_MAX_LENGTH} characters.", field="url")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        raise ApplicationError("That is not a URL.", field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise ApplicationError(
            "Enter a full URL starting with https://, e.g. https://example.com/webhooks.",
            field="url",
        )
    if parts.username is not None or parts.password is not None:
        raise ApplicationError(
            "Leave the user name and password out of the URL: the signature authenticates "
            "each delivery.",
            field="url",
        )
    if parts.fragment:
        raise ApplicationError("Leave out the #fragment: it is never sent.", field="url")
    if _is_loopback(host):
        if not settings.DEBUG:
            raise ApplicationError(
                "Loopback addresses (localhost, 127.0.0.1, ::1) are for local testing, "
                "with DEBUG on.",
                field="url",
            )
        return url
    if scheme != "https":
        raise ApplicationError(
            "Webhook URLs must use HTTPS (https://...): deliveries carry billing data.",
            field="url",
        )
    return url


def webhook_events_check(events: Iterable[str] | None) -> list[str]:
    """The events, each once, in WebhookEvent's order; ApplicationError on `events` for none
    or an unknown name."""
    chosen = list(events or [])
    unknown = sorted({e for e in chosen if e not in WebhookEvent.values}, key=str)
    if unknown:
        raise ApplicationError(
            f"Unknown event {', '.join(map(repr, unknown))}: choose from "
            f"{', '.join(WebhookEvent.values)}.",
            field="events",
        )
    if not chosen:
        raise ApplicationError("Choose at least one event.", field="events")
    return [e for e in WebhookEvent.values if e in chosen]


def _details(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "is_active": endpoint.is_active,
        "description": endpoint.description,
    }


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    events: Iterable[str],
    acting_user: User | None,
    description: str = "",
    is_active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint with a new secret (shown to its creator; staff may reveal it
    later). Provider staff only."""
    require_provider_staff(acting_user, "register webhook endpoints")
    endpoint = WebhookEndpoint.objects.create(
        url=webhook_url_check(url),
        events=webhook_events_check(events),
        description=(description or "").strip(),
        is_active=is_active,
        secret=webhook_secret_new(),
        created_by=acting_user if acting_user is not None and acting_user.pk else None,
        deactivated_at=None if is_active else timezone.now(),
    )
    audit_record(
        actor=acting_user,
        action="webhook_endpoint.create",
        obj=endpoint,
        details=_details(endpoint),
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    acting_user: User | None,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). Deliveries already written keep going to the
    endpoint's URL as it is when each attempt is made. Provider staff only."""
    require_provider_staff(acting_user, "change webhook endpoints")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _details(endpoint)
    if url is not None:
        endpoint.url = webhook_url_check(url)
    if events is not None:
        endpoint.events = webhook_events_check(events)
    if description is not None:
        endpoint.description = description.strip()
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        endpoint.deactivated_at = None if is_active else timezone.now()
    after = _details(endpoint)
    if after == before:
        return endpoint
    endpoint.save()
    changed = {k: {"before": before[k], "after": after[k]} for k in after if after[k] != before[k]}
    audit_record(actor=acting_user, action="webhook_endpoint.update", obj=endpoint, details=changed)
    return endpoint


@transaction.atomic
def webhook_endpoint_deactivate(
    *, endpoint: WebhookEndpoint, acting_user: User | None
) -> WebhookEndpoint:
    """Stop sending to the endpoint (the API's DELETE): no new deliveries, and those still
    pending fail at their next attempt. It stays, with its log; update it to turn it on again."""
    require_provider_staff(acting_user, "deactivate webhook endpoints")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.is_active:
        return endpoint
    endpoint.is_active = False
    endpoint.deactivated_at = timezone.now()
    endpoint.save(update_fields=["is_active", "deactivated_at", "updated_at"])
    audit_record(
        actor=acting_user,
        action="webhook_endpoint.deactivate",
        obj=endpoint,
        details={"url": endpoint.url},
    )
    return endpoint


@transaction.atomic
def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, acting_user: User | None
) -> WebhookEndpoint:
    """A new secret for the endpoint: every attempt from now on is signed with it (a delivery
    being retried included). Provider staff only."""
    require_provider_staff(acting_user, "rotate webhook secrets")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(actor=acting_user, action="webhook_endpoint.rotate_secret", obj=endpoint)
    return endpoint

"""Emitting events: one delivery row per subscribed active endpoint, written in the caller's
transaction, and queued once it commits (nothing is sent for work that rolled back)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence

from django.conf import settings
from django.utils import timezone

from billing.models import Document, WebhookDelivery, WebhookEndpoint, WebhookEvent
from billing.webhooks.delivery import webhook_queue_on_commit
from billing.webhooks.payloads import account_ref, document_data, jsonable
from resellers.exceptions import ApplicationError
from resellers.models import Account


def webhook_endpoints_subscribed(event: str) -> list[WebhookEndpoint]:
    """The active endpoints that subscribe to `event` (one query; the list is short)."""
    return [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.subscribes_to(event)]


def _check_event(event: str) -> None:
    if event not in WebhookEvent.values:
        raise ApplicationError(
            f"Unknown webhook event {event!r}: one of {', '.join(WebhookEvent.values)}.",
            field="event",
        )


def _write(
    event: str,
    endpoints: Sequence[WebhookEndpoint],
    items: Iterable[tuple[int | None, dict]],
) -> list[WebhookDelivery]:
    """One delivery per (item, endpoint): `items` are (account id, data) of separate events."""
    now = timezone.now()
    allowed = settings.WEBHOOK_MAX_ATTEMPTS
    rows = []
    for account_id, data in items:
        event_id = uuid.uuid4()  # one event: the same id at every endpoint
        payload = jsonable(data)
        rows += [
            WebhookDelivery(
                endpoint=endpoint,
                event_id=event_id,
                event=event,
                account_id=account_id,
                data=payload,
                created_at=now,
                attempts_allowed=allowed,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ]
    made = WebhookDelivery.objects.bulk_create(rows)
    webhook_queue_on_commit([(d.pk, 1) for d in made])
    return made


def webhook_emit(
    *, event: str, account: Account | None = None, data: dict | Callable[[], dict]
) -> list[WebhookDelivery]:
    """Tell the endpoints subscribed to `event` that it happened. Call it inside the transaction
    of what happened: it writes one delivery per active subscribed endpoint there, and they are
    sent (by the Celery task, with retries) only once that transaction commits; if it rolls
    back, nothing was written and nothing is sent. Returns the deliveries (none: no endpoint
    subscribes).

    event:   a WebhookEvent value: "order.completed", "document.issued", "document.paid",
             "account.credit_hold", "account.reactivated", "billing_run.finished"; anything
             else raises ApplicationError (field "event").
    account: the account the event is about (the one put on credit hold or reactivated, an
             order's customer, a document's recipient), or None. Recorded on each delivery,
             and added to the data as "account": {"id", "name", "kind"} unless `data` has an
             "account" of its own.
    data:    the event's details, sent as the body's "data"; or a function returning them,
             called only when an endpoint subscribes (so nobody listening costs no query).
             Decimal amounts become strings ("12.50"), dates and datetimes ISO 8601, UUIDs
             text; anything else JSON cannot carry raises TypeError here, in the caller's
             transaction.

    The body is {"id", "event", "created_at", "data"}; headers and signature:
    billing.webhooks.signing. Stable: the dunning job calls
    `webhook_emit(event="account.credit_hold", account=account, data={...})` and
    `webhook_emit(event="account.reactivated", account=account, data={...})`.
    """
    _check_event(event)
    return _emit(event, lambda: (account, data() if callable(data) else data))


def _emit(event: str, build: Callable[[], tuple[Account | None, dict]]) -> list[WebhookDelivery]:
    """`build` gives (account, data), called only when an endpoint subscribes to `event`."""
    endpoints = webhook_endpoints_subscribed(event)
    if not endpoints:
        return []
    account, data = build()
    data = dict(data)
    if account is not None and "account" not in data:
        data["account"] = account_ref(account)
    return _write(event, endpoints, [(account.pk if account is not None else None, data)])


def webhook_emit_document(*, event: str, document: Document) -> list[WebhookDelivery]:
    """`document.issued` or `document.paid` for one document, about its recipient."""
    _check_event(event)
    return _emit(event, lambda: (document.recipient, {"document": document_data(document)}))


def webhook_emit_documents_issued(*, document_ids: Sequence[int]) -> list[WebhookDelivery]:
    """`document.issued` for each of many documents a billing run issued in bulk (which sends
    no `document_issued` signal): one query for the endpoints, and, only if any subscribes, one
    for the documents."""
    if not document_ids:
        return []
    event = WebhookEvent.DOCUMENT_ISSUED
    endpoints = webhook_endpoints_subscribed(event)
    if not endpoints:
        return []
    documents = Document.objects.select_related("issuer", "recipient").filter(
        pk__in=list(document_ids)
    )
    items = [
        (
            document.recipient_id,
            {"document": document_data(document), "account": account_ref(document.recipient)},
        )
        for document in documents.order_by("pk")
    ]
    return _write(event, endpoints, items)

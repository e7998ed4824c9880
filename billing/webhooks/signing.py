"""What a delivery sends: the JSON body, and the headers that sign and timestamp it.

    POST <endpoint url>
    Content-Type: application/json
    User-Agent: CloudBilling-Webhooks/1
    X-Webhook-Id: <the event's id: the same on every attempt and at every endpoint>
    X-Webhook-Event: <event name, e.g. document.paid>
    X-Webhook-Attempt: <1, 2, ...>
    X-Webhook-Timestamp: <Unix time of this attempt, in seconds>
    X-Webhook-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.{body}" keyed by the secret>

    {"id": "<event id>", "event": "<name>", "created_at": "<ISO 8601>", "data": {...}}

A receiver recomputes the signature over the raw body it received and the timestamp header,
compares in constant time (`webhook_signature_verify` does both, as a receiver written in Python
would), refuses a timestamp too far from its clock (a replay), and drops an event id it has seen
(a retry that crossed its answer).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import uuid

SIGNATURE_PREFIX = "sha256="
HEADER_ID = "X-Webhook-Id"
HEADER_EVENT = "X-Webhook-Event"
HEADER_ATTEMPT = "X-Webhook-Attempt"
HEADER_TIMESTAMP = "X-Webhook-Timestamp"
HEADER_SIGNATURE = "X-Webhook-Signature"
USER_AGENT = "CloudBilling-Webhooks/1"
# How far a receiver should accept a timestamp from its own clock (the verify default).
TOLERANCE_SECONDS = 300


def webhook_body(
    *, event_id: uuid.UUID | str, event: str, created_at: datetime.datetime, data: dict
) -> str:
    """The body, compact and ASCII-only (the bytes signed are the bytes sent)."""
    return json.dumps(
        {"id": str(event_id), "event": event, "created_at": created_at.isoformat(), "data": data},
        separators=(",", ":"),
        ensure_ascii=True,
    )


def webhook_signature(*, secret: str, timestamp: int | str, body: str | bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of f"{timestamp}.{body}", keyed by the endpoint's secret."""
    raw = body.encode() if isinstance(body, str) else body
    message = f"{timestamp}.".encode() + raw
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature_verify(
    *,
    secret: str,
    timestamp: int | str,
    body: str | bytes,
    signature: str,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether `signature` (the header) signs `body` at `timestamp` with `secret`, and the
    timestamp is within `tolerance` seconds of `now` (Unix time)."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - stamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=stamp, body=body)
    return hmac.compare_digest(expected.encode(), str(signature).encode())


def webhook_headers(
    *, secret: str, event_id: uuid.UUID | str, event: str, attempt: int, timestamp: int, body: str
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        HEADER_ID: str(event_id),
        HEADER_EVENT: event,
        HEADER_ATTEMPT: str(attempt),
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }

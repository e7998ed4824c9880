"""The webhook signature: HMAC-SHA256 of f"{timestamp}.{body}" keyed by the endpoint's secret,
sent as `sha256=<hex>`, and its check (constant time, with a tolerance on the timestamp)."""

import datetime
import hashlib
import hmac
import json
import uuid

from billing.webhooks import (
    HEADER_EVENT,
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    webhook_body,
    webhook_headers,
    webhook_signature,
    webhook_signature_verify,
)

SECRET = "whsec_test"
BODY = '{"id":"e1","event":"document.paid","created_at":"2026-03-01T10:00:00+00:00","data":{}}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"1767225600.{BODY}".encode(), hashlib.sha256)

    assert webhook_signature(secret=SECRET, timestamp=1767225600, body=BODY) == (
        "sha256=" + expected.hexdigest()
    )
    # bytes or text, int or str timestamp: the same
    assert webhook_signature(
        secret=SECRET, timestamp="1767225600", body=BODY.encode()
    ) == webhook_signature(secret=SECRET, timestamp=1767225600, body=BODY)


def test_a_known_vector():
    # computed apart: printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
    assert webhook_signature(secret=SECRET, timestamp=1700000000, body="{}") == (
        "sha256=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
    )


def test_verify_accepts_its_own_signature_within_the_tolerance():
    signature = webhook_signature(secret=SECRET, timestamp=1000, body=BODY)

    assert webhook_signature_verify(
        secret=SECRET, timestamp="1000", body=BODY, signature=signature, now=1000 + 299
    )


def test_verify_refuses_a_changed_body_timestamp_secret_or_an_old_message():
    signature = webhook_signature(secret=SECRET, timestamp=1000, body=BODY)
    ok = {"secret": SECRET, "timestamp": 1000, "body": BODY, "signature": signature, "now": 1000}

    assert webhook_signature_verify(**ok)
    assert not webhook_signature_verify(**{**ok, "body": BODY.replace("paid", "issued")})
    assert not webhook_signature_verify(**{**ok, "timestamp": 1001, "now": 1001})
    assert not webhook_signature_verify(**{**ok, "secret": "whsec_other"})
    assert not webhook_signature_verify(**{**ok, "now": 1000 + 301})  # a replay, too late
    assert not webhook_signature_verify(**{**ok, "timestamp": "not a number"})
    assert not webhook_signature_verify(**{**ok, "signature": signature.removeprefix("sha256=")})


def test_the_body_and_headers_sign_what_is_sent():
    event_id = uuid.uuid4()
    created = datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)
    body = webhook_body(
        event_id=event_id, event="order.completed", created_at=created, data={"name": "Zoë"}
    )
    headers = webhook_headers(
        secret=SECRET,
        event_id=event_id,
        event="order.completed",
        attempt=2,
        timestamp=1772359200,
        body=body,
    )

    assert json.loads(body) == {
        "id": str(event_id),
        "event": "order.completed",
        "created_at": "2026-03-01T10:00:00+00:00",
        "data": {"name": "Zoë"},
    }
    assert body.isascii()  # the bytes signed are the bytes sent, whatever the encoding
    assert headers[HEADER_ID] == str(event_id)
    assert headers[HEADER_EVENT] == "order.completed"
    assert headers[HEADER_TIMESTAMP] == "1772359200"
    assert headers["X-Webhook-Attempt"] == "2"
    assert headers["Content-Type"] == "application/json"
    assert webhook_signature_verify(
        secret=SECRET,
        timestamp=headers[HEADER_TIMESTAMP],
        body=body.encode(),
        signature=headers[HEADER_SIGNATURE],
        now=1772359200,
    )

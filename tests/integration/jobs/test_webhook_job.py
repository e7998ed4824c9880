"""A webhook sent by a real Celery worker on Redis: queued when the issuing transaction commits,
answered 500 by the local receiver, retried by the worker after its backoff (0 s here), then
delivered, signed with the endpoint's secret."""

import datetime
import time

import pytest

from billing.models import WebhookAttempt, WebhookDelivery
from billing.webhooks import HEADER_SIGNATURE, HEADER_TIMESTAMP, webhook_signature_verify
from tests import factories as f
from tests.factories import webhooks as fw
from tests.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _settled(delivery_id: int, timeout: float = 60) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        if delivery.status != "pending":
            return delivery
        time.sleep(0.2)
    raise AssertionError(f"delivery {delivery_id} still pending after {timeout} s")


def test_the_worker_retries_and_delivers_a_signed_event(worker_queue, settings):
    settings.DEBUG = True  # the receiver is on 127.0.0.1, over HTTP
    settings.WEBHOOK_QUEUE = worker_queue  # the attempts go where this test's worker listens
    settings.WEBHOOK_BACKOFF_SECONDS = 0
    with WebhookReceiver(statuses=[500]) as receiver:
        endpoint = fw.endpoint(url=receiver.url, events=["document.issued"])
        alpha = f.reseller(parent=f.provider(), name="Alpha Reseller")

        invoice = f.invoice(alpha, "75.00", datetime.date(2026, 3, 2))  # commits: queued
        [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
        delivery = _settled(delivery.pk)

    assert delivery.status == "delivered" and delivery.attempts == 2
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
    ) == [(1, 500), (2, 200)]
    first, second = receiver.requests
    assert first["raw"] == second["raw"]  # the same body, signed afresh
    assert webhook_signature_verify(
        secret=endpoint.secret,
        timestamp=second["headers"][HEADER_TIMESTAMP],
        body=second["raw"],
        signature=second["headers"][HEADER_SIGNATURE],
        now=time.time(),
    )
    assert receiver.bodies()[1]["data"]["document"]["id"] == invoice.pk

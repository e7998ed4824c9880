"""Webhooks end to end against a real HTTP server on 127.0.0.1 (tests/webhook_receiver.py):
signed deliveries, retries with backoff, giving up and sending again, timeouts, what is never
sent twice; the URL rules; and each of the six events writing its delivery in the transaction of
what happened, and none when that transaction rolls back.

The receiver's URL is loopback over HTTP, which the rule allows only with DEBUG on: the tests
that send turn it on (`debug`) for the registration and the attempts alike.
"""

import datetime
import time
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from billing import runs
from billing.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from billing.tasks import deliver_webhook, requeue_webhooks
from billing.webhooks import (
    HEADER_EVENT,
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    webhook_backoff,
    webhook_deliver,
    webhook_delivery_resend,
    webhook_emit,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_update,
    webhook_signature_verify,
)
from billing.webhooks import delivery as delivery_module
from config.celery import app as celery_app
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import AuditEvent
from tests import factories as f
from tests.factories import billing as bf
from tests.factories import webhooks as fw
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db
MAR1 = datetime.date(2026, 3, 1)


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    settings.WEBHOOK_BACKOFF_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def queued(monkeypatch):
    """What would be sent to the broker, (delivery id, attempt) each, instead of sending it."""
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(
        delivery_module, "webhook_queue", lambda attempts, **kw: sent.extend(attempts)
    )
    return sent


def _reseller():
    return f.reseller(parent=f.provider(), name="Alpha Reseller")


def deliveries(event: str | None = None):
    rows = WebhookDelivery.objects.order_by("pk")
    return list(rows.filter(event=event) if event else rows)


# --- signed delivery to a real server -------------------------------------------------------------


def test_a_local_server_receives_the_event_signed_and_timestamped(debug, receiver):
    endpoint = fw.endpoint(url=receiver.url, events=["account.credit_hold"])
    alpha = _reseller()
    [delivery] = webhook_emit(
        event="account.credit_hold", account=alpha, data={"overdue": Decimal("120.50")}
    )

    before = int(time.time())
    outcome = webhook_deliver(delivery_id=delivery.pk, attempt=1)

    assert outcome.status == "delivered"
    [request] = receiver.requests
    headers, raw = request["headers"], request["raw"]
    assert request["path"] == "/hooks"
    assert headers["Content-Type"] == "application/json"
    assert headers[HEADER_EVENT] == "account.credit_hold"
    assert headers[HEADER_ID] == str(delivery.event_id)
    assert before <= int(headers[HEADER_TIMESTAMP]) <= int(time.time())
    assert headers[HEADER_SIGNATURE].startswith("sha256=")
    assert webhook_signature_verify(
        secret=endpoint.secret,
        timestamp=headers[HEADER_TIMESTAMP],
        body=raw,
        signature=headers[HEADER_SIGNATURE],
        now=time.time(),
    )
    assert not webhook_signature_verify(
        secret="whsec_someone_else",
        timestamp=headers[HEADER_TIMESTAMP],
        body=raw,
        signature=headers[HEADER_SIGNATURE],
        now=time.time(),
    )
    [body] = receiver.bodies()
    assert body == {
        "id": str(delivery.event_id),
        "event": "account.credit_hold",
        "created_at": delivery.created_at.isoformat(),
        "data": {
            "overdue": "120.50",
            "account": {"id": alpha.pk, "name": "Alpha Reseller", "kind": "reseller"},
        },
    }
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.delivered_at is not None
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.response_excerpt == '{"ok": true}' and attempt.duration_ms >= 0


def test_a_delivered_delivery_is_never_sent_again(debug, receiver):
    fw.endpoint(url=receiver.url)
    [delivery] = webhook_emit(event="account.reactivated", account=_reseller(), data={})

    assert webhook_deliver(delivery_id=delivery.pk, attempt=1).status == "delivered"
    assert webhook_deliver(delivery_id=delivery.pk, attempt=1).status == "already delivered"
    assert webhook_deliver(delivery_id=delivery.pk).status == "already delivered"
    assert deliver_webhook.apply(kwargs={"delivery_id": delivery.pk, "attempt": 1}).get() == (
        "already delivered"
    )

    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_500_is_retried_after_the_backoff_then_delivered(debug):
    with WebhookReceiver(statuses=[500]) as receiver:
        fw.endpoint(url=receiver.url)
        [delivery] = webhook_emit(event="account.reactivated", data={"n": 1})

        first = webhook_deliver(delivery_id=delivery.pk, attempt=1)
        delivery.refresh_from_db()
        assert (first.status, first.attempt, first.retry_in) == ("retrying", 2, 30)
        assert delivery.status == "pending" and delivery.last_status_code == 500
        assert delivery.last_error == "HTTP 500"
        assert delivery.next_attempt_at == delivery.last_attempt_at + datetime.timedelta(seconds=30)
        # a duplicate of the first attempt's message (redelivered by the broker) does nothing
        assert webhook_deliver(delivery_id=delivery.pk, attempt=1).status == "stale"

        second = webhook_deliver(delivery_id=delivery.pk, attempt=2)

    assert second.status == "delivered"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
    ) == [(1, 500), (2, 200)]
    ids = {r["headers"][HEADER_ID] for r in receiver.requests}
    assert ids == {str(delivery.event_id)}  # one event, however many attempts
    assert [r["headers"]["X-Webhook-Attempt"] for r in receiver.requests] == ["1", "2"]


def test_the_task_retries_a_500_then_delivers(debug):
    """The Celery task itself (run in-process, where a retry runs at once): 500, 503, then
    200: three attempts, delivered."""
    with WebhookReceiver(statuses=[500, 503]) as receiver:
        fw.endpoint(url=receiver.url)
        [delivery] = webhook_emit(event="document.paid", data={"x": 1})

        result = deliver_webhook.apply(kwargs={"delivery_id": delivery.pk, "attempt": 1})

    assert result.get() == "delivered"
    assert [r["headers"]["X-Webhook-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)


def test_the_backoff_doubles_up_to_its_cap(settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 30
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 600

    assert [webhook_backoff(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]


def test_after_the_last_attempt_it_fails_and_send_again_gives_another_round(debug):
    staff = f.user(account=f.provider(), username="staff")
    with WebhookReceiver(statuses=[500] * 4 + [502]) as receiver:
        fw.endpoint(url=receiver.url)
        [delivery] = webhook_emit(event="document.issued", data={"x": 1})

        assert deliver_webhook.apply(kwargs={"delivery_id": delivery.pk}).get() == "failed"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            "failed",
            4,
            None,
        )

        webhook_delivery_resend(delivery=delivery, acting_user=staff)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts_allowed) == ("pending", 8)
        assert deliver_webhook.apply(kwargs={"delivery_id": delivery.pk, "attempt": 5}).get() == (
            "delivered"
        )

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 6, 200)
    assert len(receiver.requests) == 6
    assert AuditEvent.objects.filter(
        action="webhook_delivery.resend", object_id=str(delivery.pk), actor=staff
    ).exists()


def test_send_again_is_for_failed_deliveries_of_active_endpoints_and_staff(debug, receiver):
    staff = f.user(account=f.provider(), username="staff")
    alpha = _reseller()
    alpha_user = f.user(account=alpha, username="alpha")
    endpoint = fw.endpoint(url=receiver.url)
    [delivery] = webhook_emit(event="document.issued", data={})

    with pytest.raises(ApplicationError, match="Only a failed delivery"):
        webhook_delivery_resend(delivery=delivery, acting_user=staff)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    with pytest.raises(PermissionDenied):
        webhook_delivery_resend(delivery=delivery, acting_user=alpha_user)
    webhook_endpoint_deactivate(endpoint=endpoint, acting_user=staff)
    with pytest.raises(ApplicationError, match="deactivated"):
        webhook_delivery_resend(delivery=delivery, acting_user=staff)


def test_a_slow_receiver_times_out_and_the_attempt_says_so(debug, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with WebhookReceiver(delay=1.0) as receiver:
        fw.endpoint(url=receiver.url)
        [delivery] = webhook_emit(event="document.issued", data={})

        outcome = webhook_deliver(delivery_id=delivery.pk)

    assert outcome.status == "retrying"
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None and attempt.error == "No answer within 0.3 s."
    assert 250 <= attempt.duration_ms < 1000


def test_nobody_listening_and_a_redirect_are_failed_attempts(debug):
    with WebhookReceiver() as closed:
        url = closed.url  # the port is free again once the server is gone
    fw.endpoint(url=url, events=["document.issued"])
    [delivery] = webhook_emit(event="document.issued", data={})

    assert webhook_deliver(delivery_id=delivery.pk).status == "retrying"
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Could not connect")

    with WebhookReceiver(statuses=[302]) as redirecting:
        fw.endpoint(url=redirecting.url, events=["document.paid"])
        [moved] = webhook_emit(event="document.paid", data={})
        assert webhook_deliver(delivery_id=moved.pk).status == "retrying"
    moved.refresh_from_db()
    assert moved.last_status_code == 302
    assert moved.last_error == "HTTP 302 (redirects are not followed)"


def test_a_deactivated_endpoint_gets_nothing_new_and_its_pending_deliveries_fail(debug, receiver):
    endpoint = fw.endpoint(url=receiver.url)
    [pending] = webhook_emit(event="document.issued", data={})
    webhook_endpoint_deactivate(endpoint=endpoint, acting_user=None)

    assert webhook_emit(event="document.issued", data={}) == []
    assert webhook_deliver(delivery_id=pending.pk).status == "failed"
    pending.refresh_from_db()
    assert pending.last_error == "The endpoint is deactivated." and pending.attempts == 0
    assert receiver.requests == []


def test_a_loopback_endpoint_stops_being_sent_to_when_debug_goes_off(debug, settings, receiver):
    fw.endpoint(url=receiver.url)
    [delivery] = webhook_emit(event="document.issued", data={})
    settings.DEBUG = False

    assert webhook_deliver(delivery_id=delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("The URL is no longer allowed: Loopback addresses")
    assert receiver.requests == []


def test_only_subscribed_active_endpoints_get_an_event():
    paid = fw.endpoint(url="https://a.example.com/hook", events=["document.paid"])
    both = fw.endpoint(
        url="https://b.example.com/hook", events=["document.paid", "order.completed"]
    )
    fw.endpoint(url="https://c.example.com/hook", events=["document.paid"], is_active=False)

    made = webhook_emit(event="document.paid", data={"n": 1})

    assert {d.endpoint_id for d in made} == {paid.pk, both.pk}
    assert len({d.event_id for d in made}) == 1  # one event, one id at every endpoint
    assert webhook_emit(event="billing_run.finished", data={}) == []
    with pytest.raises(ApplicationError) as refused:
        webhook_emit(event="order.shipped", data={})
    assert refused.value.field == "event"


# --- the URL rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/billing", "must use HTTPS"),
        ("ftp://hooks.example.com/billing", "starting with https://"),
        ("hooks.example.com/billing", "starting with https://"),
        ("https://", "starting with https://"),
        ("https://user:pw@hooks.example.com/", "user name and password"),
        ("https://hooks.example.com/#x", "fragment"),
        ("https://hooks.example.com:notaport/", "not a URL"),
        ("", "Enter the endpoint's URL"),
        ("http://127.0.0.1:8000/hooks", "Loopback addresses"),
        ("https://localhost/hooks", "Loopback addresses"),
        ("http://[::1]:9000/hooks", "Loopback addresses"),
    ],
)
def test_a_url_that_is_not_https_is_refused_on_the_url_field(url, message):
    with pytest.raises(ApplicationError, match=message) as refused:
        webhook_endpoint_create(url=url, events=["document.paid"], acting_user=None)

    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/hooks", "http://localhost/h", "http://[::1]:9000/h"]
)
def test_loopback_is_allowed_with_debug_on(settings, url):
    settings.DEBUG = True

    made = webhook_endpoint_create(url=url, events=["document.paid"], acting_user=None)

    assert made.url == url


def test_events_must_be_known_and_at_least_one():
    with pytest.raises(ApplicationError, match="at least one") as none:
        fw.endpoint(events=[])
    with pytest.raises(ApplicationError, match=r"Unknown event 'order\.shipped'") as unknown:
        webhook_endpoint_create(
            url="https://h.example.com", events=["order.shipped"], acting_user=None
        )
    assert none.value.field == unknown.value.field == "events"
    made = fw.endpoint(events=["document.paid", "order.completed", "document.paid"])
    assert made.events == ["order.completed", "document.paid"]  # once each, in the list's order


def test_endpoints_are_for_provider_staff_and_every_change_is_audited():
    staff = f.user(account=f.provider(), username="staff")
    alpha_user = f.user(account=_reseller(), username="alpha")
    with pytest.raises(PermissionDenied):
        fw.endpoint(acting_user=alpha_user)

    endpoint = fw.endpoint(acting_user=staff, events=["document.paid"])
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) == 6 + 64
    webhook_endpoint_update(
        endpoint=endpoint, acting_user=staff, events=["document.paid", "document.issued"]
    )
    webhook_endpoint_deactivate(endpoint=endpoint, acting_user=staff)

    rows = AuditEvent.objects.filter(object_type="billing.webhookendpoint").order_by("pk")
    assert [(r.action, r.actor_id) for r in rows] == [
        ("webhook_endpoint.create", staff.pk),
        ("webhook_endpoint.update", staff.pk),
        ("webhook_endpoint.deactivate", staff.pk),
    ]
    assert rows[1].details == {
        "events": {
            "before": ["document.paid"],
            "after": ["document.issued", "document.paid"],
        }
    }
    assert all(endpoint.secret not in str(r.details) for r in rows)


# --- each event ---------------------------------------------------------------------------------


@pytest.fixture
def listening():
    return fw.endpoint()  # all six events


def test_order_completed(listening):
    w = bf.world()
    subscription = bf.subscribe(w, today=datetime.date(2026, 1, 1))

    [delivery] = deliveries("order.completed")

    order = subscription.order
    assert delivery.account_id == w.customer.pk
    data = delivery.data["order"]
    assert data["id"] == order.pk and data["number"] == order.display_number
    assert (data["type"], data["status"], data["currency"]) == ("sales", "completed", "USD")
    assert data["customer"] == {"id": w.customer.pk, "name": "Customer C", "kind": "customer"}
    assert data["credit_account"]["id"] == w.reseller.pk
    assert data["items"] == [
        {
            "product": {"id": w.monthly.pk, "name": "Cloud Suite"},
            "quantity": 1,
            "subscription_id": subscription.pk,
        }
    ]
    assert Decimal(data["total_amount"]) > 0


def test_document_issued_and_document_paid(listening):
    alpha = _reseller()

    invoice = f.invoice(alpha, "100.00", MAR1)
    [issued] = deliveries("document.issued")
    assert issued.account_id == alpha.pk
    assert issued.data["document"]["id"] == invoice.pk
    assert issued.data["document"]["number"] == invoice.display_number
    assert issued.data["document"]["total"] == "100.00"
    assert issued.data["document"]["recipient"]["id"] == alpha.pk
    assert deliveries("document.paid") == []

    f.payment(alpha, "40.00", MAR1, apply_to=[invoice])
    assert deliveries("document.paid") == []  # partly paid is not paid
    f.payment(alpha, "60.00", MAR1, apply_to=[invoice])

    [paid] = deliveries("document.paid")
    assert paid.data["document"]["id"] == invoice.pk
    assert paid.data["document"]["status"] == "paid"
    assert paid.data["document"]["open_amount"] == "0.00"
    # the payments were issued too
    assert len(deliveries("document.issued")) == 3


def test_a_billing_run_sends_its_invoices_issued_and_billing_run_finished(listening):
    w = bf.world()
    bf.subscribe(w, today=datetime.date(2026, 1, 1))
    WebhookDelivery.objects.all().delete()

    with time_machine.travel(datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.UTC)):
        run = runs.run_start(run_date=datetime.date(2026, 2, 1), inline=True)

    issued = deliveries("document.issued")
    invoices = run.documents.order_by("pk")
    assert [d.data["document"]["id"] for d in issued] == [i.pk for i in invoices]
    assert {d.account_id for d in issued} == {w.customer.pk, w.reseller.pk}
    assert all(d.data["document"]["billing_run_id"] == run.pk for d in issued)
    assert all(d.data["document"]["number"].startswith("INV-") for d in issued)
    [finished] = deliveries("billing_run.finished")
    assert finished.account_id is None
    assert finished.data["billing_run"]["id"] == run.pk
    assert finished.data["billing_run"]["status"] == "completed"
    assert finished.data["billing_run"]["invoices_issued"] == 2


def test_credit_hold_and_reactivated_by_webhook_emit(listening):
    alpha = _reseller()

    [hold] = webhook_emit(
        event="account.credit_hold",
        account=alpha,
        data={"since": datetime.date(2026, 3, 1), "overdue": Decimal("10.00")},
    )
    [back] = webhook_emit(event=WebhookEvent.ACCOUNT_REACTIVATED, account=alpha, data=lambda: {})

    assert hold.data == {
        "since": "2026-03-01",
        "overdue": "10.00",
        "account": {"id": alpha.pk, "name": "Alpha Reseller", "kind": "reseller"},
    }
    assert back.event == "account.reactivated" and back.account_id == alpha.pk


def test_data_json_cannot_carry_is_refused_in_the_callers_transaction(listening):
    with pytest.raises(TypeError):
        webhook_emit(event="account.credit_hold", data={"when": object()})


# --- the transaction ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deliveries_are_queued_on_commit_and_nothing_when_it_rolls_back(queued):
    fw.endpoint(events=["document.issued", "document.paid"])
    alpha = _reseller()

    with pytest.raises(RuntimeError), transaction.atomic():
        invoice = f.invoice(alpha, "100.00", MAR1)
        assert len(deliveries("document.issued")) == 1  # written in the transaction
        assert queued == []  # not sent before it commits
        raise RuntimeError("the caller fails after issuing")

    assert deliveries() == [] and queued == []

    with transaction.atomic():
        invoice = f.invoice(alpha, "100.00", MAR1)
        assert queued == []
    [delivery] = deliveries("document.issued")
    assert delivery.data["document"]["id"] == invoice.pk
    assert queued == [(delivery.pk, 1)]


@pytest.fixture
def eager_celery():
    """Celery in eager mode (the demo's: no broker), for this test only."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_event_never_reaches_the_server(settings, eager_celery):
    """Eager Celery: sent on commit, in this process, to the real server."""
    settings.DEBUG = True
    with WebhookReceiver() as receiver:
        fw.endpoint(url=receiver.url, events=["account.credit_hold"])
        alpha = _reseller()
        with pytest.raises(RuntimeError), transaction.atomic():
            webhook_emit(event="account.credit_hold", account=alpha, data={"try": 1})
            raise RuntimeError("rolled back")
        with transaction.atomic():
            webhook_emit(event="account.credit_hold", account=alpha, data={"try": 2})

    assert [b["data"]["try"] for b in receiver.bodies()] == [2]
    [delivery] = deliveries()
    assert delivery.status == "delivered"


def test_requeue_sends_the_overdue_pending_deliveries_again(queued, settings):
    settings.WEBHOOK_REQUEUE_AFTER_SECONDS = 900
    fw.endpoint()
    [late] = webhook_emit(event="document.issued", data={})
    [recent] = webhook_emit(event="document.paid", data={})
    [done] = webhook_emit(event="order.completed", data={})
    long_ago = late.created_at - datetime.timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=late.pk).update(next_attempt_at=long_ago, attempts=2)
    WebhookDelivery.objects.filter(pk=done.pk).update(
        next_attempt_at=long_ago, status="failed", attempts=4
    )

    assert requeue_webhooks.apply().get() == 1

    assert queued == [(late.pk, 3)]
    assert recent.pk not in {pk for pk, _ in queued}


def test_each_event_id_is_new(listening):
    ids = {webhook_emit(event="document.paid", data={})[0].event_id for _ in range(3)}

    assert len(ids) == 3 and all(isinstance(i, uuid.UUID) for i in ids)

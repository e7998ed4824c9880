"""Sending deliveries: one attempt at a time, by the Celery task `billing.tasks.deliver_webhook`
(sent here by its name, WEBHOOK_TASK, so this module imports no task module), with exponential
backoff between attempts, and "send again" for a delivery that failed.

One attempt (`webhook_deliver`): under the delivery's row lock (a second worker given the same
delivery skips it), POST the body with its signature, timestamp and event id
(billing.webhooks.signing) to the endpoint's URL with a timeout, log the attempt (status code or
error, duration, the start of the answer) and settle the delivery: any 2xx delivers it; anything
else (3xx included: redirects are not followed, so a delivery cannot be sent somewhere its URL
does not say) is retried after WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1), at most
WEBHOOK_BACKOFF_MAX_SECONDS, until WEBHOOK_MAX_ATTEMPTS attempts have failed.

Idempotent: each queued message names the attempt it is for, so a message delivered twice by
the broker (a worker that died, a countdown longer than Redis' visibility timeout) makes one
attempt; a delivered delivery is never sent again. A worker that dies during the request rolls
its attempt back, and the redelivered message makes it again: a receiver may get an event twice
(it keeps the event id), never zero times.
"""

from __future__ import annotations

import datetime
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import WebhookAttempt, WebhookDelivery
from billing.webhooks.endpoints import webhook_url_check
from billing.webhooks.signing import webhook_body, webhook_headers
from resellers.exceptions import ApplicationError
from resellers.models import User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff

logger = logging.getLogger(__name__)

# The Celery task that makes one attempt (billing.tasks.deliver_webhook), sent by its name.
WEBHOOK_TASK = "billing.tasks.deliver_webhook"
_EXCERPT = 500
_READ_AT_MOST = 4096


@dataclass(frozen=True)
class AttemptOutcome:
    """What one call of `webhook_deliver` did. `retry_in`: seconds until the next attempt, when
    there is one; `attempt` is then its number."""

    status: str  # delivered, retrying, failed, already delivered, already failed, busy, stale
    attempt: int | None = None
    retry_in: int | None = None


@dataclass(frozen=True)
class HttpResult:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int


def webhook_backoff(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...)."""
    base = settings.WEBHOOK_BACKOFF_SECONDS
    return int(min(base * 2 ** max(attempt - 1, 0), settings.WEBHOOK_BACKOFF_MAX_SECONDS))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx: a failed attempt


def _post(url: str, body: str, headers: dict[str, str], timeout: float) -> HttpResult:
    opener = urllib.request.build_opener(_NoRedirects)
    # the scheme is http(s), checked by webhook_url_check just before
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    started = time.monotonic()
    status, error, excerpt = None, "", ""
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            excerpt = response.read(_READ_AT_MOST).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            excerpt = exc.read(_READ_AT_MOST).decode("utf-8", "replace")
        except OSError:
            excerpt = ""
        error = f"HTTP {exc.code}" + (
            " (redirects are not followed)" if 300 <= exc.code < 400 else ""
        )
    except TimeoutError:
        error = f"No answer within {timeout:g} s."
    except urllib.error.URLError as exc:
        reason = exc.reason
        error = (
            f"No answer within {timeout:g} s."
            if isinstance(reason, TimeoutError)
            else f"Could not connect: {reason}"
        )
    except (OSError, ValueError) as exc:  # a reset connection, a malformed answer
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return HttpResult(status, error[:_EXCERPT], excerpt.strip()[:_EXCERPT], duration_ms)


def _fail_without_request(delivery: WebhookDelivery, reason: str, now) -> AttemptOutcome:
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.last_error = reason[:_EXCERPT]
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
    logger.warning("webhook delivery %s not sent: %s", delivery.pk, reason)
    return AttemptOutcome("failed")


def webhook_deliver(*, delivery_id: int, attempt: int | None = None) -> AttemptOutcome:
    """Make the delivery's next attempt, if it is still pending and (when `attempt` is given)
    this is the attempt the message was queued for. See the module's docstring."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return AttemptOutcome("busy")  # another worker is making an attempt (or no such row)
        if delivery.status == WebhookDelivery.Status.DELIVERED:
            return AttemptOutcome("already delivered")
        if delivery.status == WebhookDelivery.Status.FAILED:
            return AttemptOutcome("already failed")
        number = delivery.attempts + 1
        if attempt is not None and attempt != number:
            return AttemptOutcome("stale")  # a duplicate of a message whose attempt was made
        endpoint = delivery.endpoint
        now = timezone.now()
        if not endpoint.is_active:
            return _fail_without_request(delivery, "The endpoint is deactivated.", now)
        try:
            url = webhook_url_check(endpoint.url)
        except ApplicationError as exc:
            return _fail_without_request(delivery, f"The URL is no longer allowed: {exc}", now)
        body = webhook_body(
            event_id=delivery.event_id,
            event=delivery.event,
            created_at=delivery.created_at,
            data=delivery.data,
        )
        headers = webhook_headers(
            secret=endpoint.secret,
            event_id=delivery.event_id,
            event=delivery.event,
            attempt=number,
            timestamp=int(time.time()),
            body=body,
        )
        result = _post(url, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.excerpt,
            duration_ms=result.duration_ms,
        )
        delivery.attempts = number
        delivery.last_attempt_at = now
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        ok = result.status_code is not None and 200 <= result.status_code < 300
        retry_in = None
        if ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif number >= delivery.attempts_allowed:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            retry_in = webhook_backoff(number)
            delivery.next_attempt_at = now + datetime.timedelta(seconds=retry_in)
        delivery.save()
    where = {"delivery": delivery.pk, "attempt": number, "event": delivery.event}
    if ok:
        logger.info("webhook delivery %s delivered (attempt %s)", delivery.pk, number, extra=where)
        return AttemptOutcome("delivered", attempt=number)
    logger.warning(
        "webhook delivery %s attempt %s failed: %s",
        delivery.pk,
        number,
        result.error or result.status_code,
        extra=where,
    )
    if retry_in is None:
        return AttemptOutcome("failed", attempt=number)
    return AttemptOutcome("retrying", attempt=number + 1, retry_in=retry_in)


def webhook_queue(attempts: Iterable[tuple[int, int]], *, countdown: int | None = None) -> None:
    """Send the task for each (delivery id, attempt number), by its name (WEBHOOK_TASK), to the
    queue WEBHOOK_QUEUE (the default queue when empty; its retries stay on the queue it came
    from). Eagerly (no broker), it runs here: the app's task modules are loaded first, as a
    worker loads them when it starts."""
    app = current_app
    if app.conf.task_always_eager:
        app.loader.import_default_modules()
    options = {"queue": settings.WEBHOOK_QUEUE} if settings.WEBHOOK_QUEUE else {}
    for delivery_id, number in attempts:
        app.signature(
            WEBHOOK_TASK, kwargs={"delivery_id": delivery_id, "attempt": number}
        ).apply_async(countdown=countdown, **options)


def webhook_queue_on_commit(attempts: list[tuple[int, int]]) -> None:
    """Queue the attempts once the caller's transaction commits (nothing if it rolls back). A
    broker that is down then is logged, not raised into a caller whose work is committed:
    `webhook_requeue_due` sends those deliveries later."""
    if attempts:
        transaction.on_commit(lambda: webhook_queue(attempts), robust=True)


@transaction.atomic
def webhook_delivery_resend(
    *, delivery: WebhookDelivery, acting_user: User | None
) -> WebhookDelivery:
    """Send a failed delivery again: it gets another round of WEBHOOK_MAX_ATTEMPTS attempts, the
    first once this commits, with the same event id and body (signed afresh). Provider staff
    only; refused for a delivery that is not failed, or whose endpoint is deactivated."""
    require_provider_staff(acting_user, "send webhooks again")
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .get(pk=delivery.pk)
    )
    if delivery.status != WebhookDelivery.Status.FAILED:
        raise ApplicationError(
            f"Only a failed delivery can be sent again; this one is {delivery.status}.",
            field="delivery",
        )
    if not delivery.endpoint.is_active:
        raise ApplicationError(
            "The endpoint is deactivated: activate it first, then send the delivery again.",
            field="delivery",
        )
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts_allowed = delivery.attempts + settings.WEBHOOK_MAX_ATTEMPTS
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts_allowed", "next_attempt_at"])
    audit_record(
        actor=acting_user,
        action="webhook_delivery.resend",
        obj=delivery,
        account_id=delivery.account_id,
        details={"endpoint": delivery.endpoint_id, "event": delivery.event},
    )
    webhook_queue_on_commit([(delivery.pk, delivery.attempts + 1)])
    return delivery


def webhook_requeue_due(*, now: datetime.datetime, grace: datetime.timedelta) -> int:
    """Queue again every pending delivery whose next attempt was due more than `grace` ago:
    its message was lost (the broker was down when it was queued, or lost it). A message that
    was only late makes no second attempt (each names its attempt). Returns how many."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=now - grace
        )
        .order_by("next_attempt_at")
        .values_list("pk", "attempts")[:1000]
    )
    webhook_queue((pk, attempts + 1) for pk, attempts in due)
    return len(due)

"""Idempotency keys for API POSTs (top-ups `payments/`, orders `orders/`), with Stripe's semantics.
The one mechanism: both endpoints call `run_once`; the rows are `billing.models.IdempotencyKey`.

A client sends `Idempotency-Key: <printable string>` with a POST. The rule:

- Keys are scoped per user: two users (two tenants) sending equal keys never meet.
- The first request with a key does the work and answers as usual (201 Created); its response
  (status and body) is stored under (user, key).
- A retry with the same key and body, once the first has finished, does nothing and gets the
  stored body back with status 200 and the header `Idempotent-Replayed: true` (200, not the
  first 201: a replay creates nothing).
- Requests racing with one key do the work once: exactly one answers 201; the others wait for it
  and replay its response (200, `Idempotent-Replayed: true`), or, when it is still running after
  WAIT_SECONDS, answer 409 "still in progress" (Stripe's answer to concurrent use) and the client
  retries later.
- The same key with a different body, or at another endpoint, answers 422 naming the mismatch
  (`IdempotencyKeyReused`): a key names one request. This is checked before any work.
- A request that fails (bad input, a business rule, a gateway failure, a crash: any exception
  out of `work`) stores no response and releases its key, so the client may retry with the same
  key, corrected or not. The one exception: a request that died after creating its order leaves
  its key pending and linked to that order (`key_link_order`), and a retry continues with that
  order instead of placing a second one. A top-up needs no link: `billing.topups.topup_pay` books
  one charge per key by itself, so a retry after a crash midway finds the booked payment.

States of a key's row: *pending* (claimed, `completed_at` empty; maybe linked to an order) and
*completed* (response stored). A row is claimed in its own committed transaction, before the
work starts, with the request's hash; the unique (user, key) index keeps it one row per key.

How requests with one key are kept apart: the whole request runs under a PostgreSQL
session-level advisory lock on (user, key) (`key_lock`), so a second request with the key waits
there for the first to finish, then finds its completed row and replays it. Session-level,
because the work commits in several transactions (an order's card charge, a top-up's gateway
call happen outside any transaction), so no row lock could be held across it; the lock is
released at the end, or by PostgreSQL when the connection dies, so a pending row found under the
lock always belongs to a request that died, and is continued. Behind a transaction-mode
connection pooler (pgbouncer) session locks do not hold: run the API on direct or
session-pooled connections.

On other databases (SQLite, the embedded first-look default) there is no lock: a pending key
younger than WAIT_SECONDS answers 409 at once, an older one is taken to be abandoned and
continued.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, OperationalError, connection, models, transaction
from django.utils import timezone

from billing.models import IdempotencyKey
from resellers.exceptions import ApplicationError
from resellers.models import User

logger = logging.getLogger(__name__)

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
REPLAY_STATUS = 200  # a replay created nothing, whatever the first response's status was
WAIT_SECONDS = 30
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires


class IdempotencyKeyReused(ApplicationError):
    """The key was used with a different request (another body or endpoint): answer 422."""


class IdempotencyKeyBusy(ApplicationError):
    """Another request with the key is still running: answer 409 and let the client retry."""


@dataclass(frozen=True)
class Outcome:
    """The response to send: the work's own, or (`replayed`) the stored one with REPLAY_STATUS."""

    status: int
    body: Any
    replayed: bool

    @property
    def headers(self) -> dict[str, str] | None:
        return {REPLAYED_HEADER: "true"} if self.replayed else None


def run_request(
    *,
    user: User,
    header: str | None,
    data: Any,
    endpoint: str,
    work: Callable[[IdempotencyKey | None], tuple[int, Any]],
    max_key_length: int = MAX_KEY_LENGTH,
) -> Outcome:
    """What an API view calls for a POST: `header` is the request's Idempotency-Key header
    (None when absent: `work(None)` runs as an ordinary request) and `data` its parsed body.
    Raises ApplicationError on a malformed key (400), IdempotencyKeyReused (422) and
    IdempotencyKeyBusy (409), which `config.api.exception_handler` maps."""
    key = key_from_header(header, max_length=max_key_length)
    if key is None:
        status, body = work(None)
        return Outcome(status, body, replayed=False)
    return run_once(user=user, key=key, endpoint=endpoint, body_hash=request_hash(data), work=work)


def run_once(
    *,
    user: User,
    key: str,
    endpoint: str,
    body_hash: str,
    work: Callable[[IdempotencyKey], tuple[int, Any]],
) -> Outcome:
    """Do `work(record)` once for (user, key), or replay the response it gave.

    `work` gets the key's row and returns (status, JSON-ready body), which is stored. An order
    endpoint links what it creates with `key_link_order` in the creating transaction and
    continues from `record.order` when an earlier attempt left one. If `work` raises, nothing is
    stored and the key is released (unless an order is linked to it) and the exception goes on.
    Raises IdempotencyKeyReused (422) and IdempotencyKeyBusy (409).
    """
    with key_lock(user=user, key=key):
        record = key_claim(user=user, key=key, endpoint=endpoint, body_hash=body_hash)
        if record.is_completed:
            return Outcome(REPLAY_STATUS, record.response_body, replayed=True)
        try:
            status, body = work(record)
        except BaseException:
            _release_quietly(record)
            raise
        key_complete(record=record, status=status, body=body)
        return Outcome(status, body, replayed=False)


def key_from_header(value: str | None, *, max_length: int = MAX_KEY_LENGTH) -> str | None:
    """The header's key, None when absent. Raises ApplicationError (400 naming the header) when
    it is empty, longer than `max_length` or not printable."""
    if value is None:
        return None
    if not value or len(value) > max_length or not value.isprintable():
        raise ApplicationError(
            f"{KEY_HEADER} must be 1 to {max_length} printable characters.", field=KEY_HEADER
        )
    return value


def request_hash(data: Any) -> str:
    """sha256 of the body as canonical JSON (sorted keys, no spaces): the same parameters in
    another order are the same request; "300" and "300.00" are not (Stripe compares them as
    sent too)."""
    if hasattr(data, "lists"):  # a form body (QueryDict): every value of every key
        data = {key: values for key, values in data.lists()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_ready(data: Any) -> Any:
    """A serializer's data as plain JSON values (Decimals as strings, dates as ISO), which is
    what is stored and replayed, so that the first answer and a replay are the same bytes."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _release_quietly(record: IdempotencyKey) -> None:
    """key_release, unless the database is gone too: then the row stays pending, and the next
    request with the key finds it under the lock and continues it (a dead request's row)."""
    try:
        key_release(record=record)  # only if nothing was created
    except DatabaseError:
        logger.warning("could not release idempotency key %s", record.pk, exc_info=True)


def _lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def key_lock(*, user: User, key: str) -> Iterator[None]:
    """Hold (user, key) for the whole request: a second request with the key waits here for the
    first to finish, up to WAIT_SECONDS (then IdempotencyKeyBusy). No-op off PostgreSQL."""
    if connection.vendor != "postgresql":
        yield
        return
    lock_id = _lock_id(user.pk, key)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # lock_timeout for this transaction only; the advisory lock itself outlives the
            # transaction (session level).
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{WAIT_SECONDS}s"])
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise _busy() from exc
        raise
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
        except DatabaseError:
            # The session cannot run the unlock (dead, or mid-way through a failed transaction):
            # closing it releases every lock it holds, so a persistent connection keeps none.
            connection.close()


def _busy() -> IdempotencyKeyBusy:
    return IdempotencyKeyBusy(
        f"A request with this {KEY_HEADER} is still in progress. Retry in a moment with the same "
        "key and body to get its response."
    )


def key_claim(*, user: User, key: str, endpoint: str, body_hash: str) -> IdempotencyKey:
    """The key's row, inserted pending and committed if new. Call under `key_lock`.

    Raises IdempotencyKeyReused when the key was used for another endpoint or body, and, off
    PostgreSQL, IdempotencyKeyBusy while another request may still be working on it.
    """
    record, created = IdempotencyKey.objects.get_or_create(
        user=user, key=key, defaults={"endpoint": endpoint, "request_hash": body_hash}
    )
    if created:
        return record
    if record.endpoint != endpoint or record.request_hash != body_hash:
        where = "at another endpoint" if record.endpoint != endpoint else "with a different body"
        raise IdempotencyKeyReused(
            f"This {KEY_HEADER} was already used with a different request ({where}). A key names "
            "one request: send a new key for a new request, or the same body to get the first "
            "response again."
        )
    recent = timezone.now() - record.created_at < datetime.timedelta(seconds=WAIT_SECONDS)
    if not record.is_completed and connection.vendor != "postgresql" and recent:
        raise _busy()
    return record


def key_link_order(*, record: IdempotencyKey, order: models.Model) -> None:
    """Link the order the request created (`orders.Order`). Call in the transaction that creates
    it, so that a crash after it leaves the key pending with the order, for a retry to continue."""
    IdempotencyKey.objects.filter(pk=record.pk).update(order=order)
    record.order = order


def key_complete(*, record: IdempotencyKey, status: int, body: Any) -> IdempotencyKey:
    """Store the response to replay."""
    record.response_status = status
    record.response_body = body
    record.completed_at = timezone.now()
    record.save(update_fields=["response_status", "response_body", "completed_at"])
    return record


def key_release(*, record: IdempotencyKey) -> None:
    """Forget a key whose request failed before creating anything, so it can be used again."""
    IdempotencyKey.objects.filter(
        pk=record.pk, order__isnull=True, completed_at__isnull=True
    ).delete()

"""Idempotency keys for POST requests, with Stripe's semantics.

A client sends `Idempotency-Key: <any string up to 255 characters>` with a POST. The rule:

- The first request with a key does the work and its response (status and body) is stored under
  (user, key). A retry with the same key and the same body gets the stored response back, with
  `Idempotent-Replayed: true`, and does nothing.
- The same key with a different body (or at another endpoint) is refused (422): a key names one
  request.
- Two requests with one key at the same moment do the work once: the second waits for the first
  to finish and then replays its response.
- A request that fails before it created anything (bad input, a business rule, a crash) stores
  nothing, so the client may fix the body and retry with the same key. A request that died after
  creating its order leaves its key pending, linked to that order; a retry continues from there.

How: the whole request runs under a PostgreSQL session-level advisory lock on (user, key)
(`key_lock`). Session-level, because the work commits in several transactions (an order's card
charge happens outside any transaction), so no row lock could be held across it; the lock is
released at the end, or by PostgreSQL when the connection dies. Under the lock, the key's row is
claimed (inserted, pending, committed on its own: `key_claim`); the unique (user, key) index
keeps it one row per key whatever happens. The object the request creates is linked to the row
in the same transaction as its creation (`key_link_order`), and the response is stored at the end
(`key_complete`). A waiter gives up after WAIT_SECONDS with 409, and the client retries later.
Behind a transaction-mode connection pooler (pgbouncer) session locks do not hold: run this API on
direct or session-pooled connections.

On other databases (SQLite, the embedded first-look default) there is no lock: a pending key
younger than WAIT_SECONDS answers 409 (Stripe's answer to concurrent use), an older one is taken
to be abandoned and continued.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from orders.models import IdempotencyKey, Order
from resellers.exceptions import ApplicationError
from resellers.models import User

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
WAIT_SECONDS = 30
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires


class IdempotencyKeyReused(ApplicationError):
    """The key was used with a different request."""


class IdempotencyKeyBusy(ApplicationError):
    """Another request with the key is still running."""


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def run_once(
    *,
    user: User,
    key: str,
    endpoint: str,
    body_hash: str,
    work: Callable[[IdempotencyKey], tuple[int, Any]],
) -> Outcome:
    """Do `work(record)` once for (user, key), or replay the response it gave.

    `work` gets the key's row, links what it creates with `key_link_order` in the creating
    transaction, continues from `record.order` when an earlier attempt left one, and returns
    (status, JSON body). If it raises before linking anything, the key is released. Raises
    IdempotencyKeyReused and IdempotencyKeyBusy.
    """
    with key_lock(user=user, key=key):
        record = key_claim(user=user, key=key, endpoint=endpoint, body_hash=body_hash)
        if record.is_completed:
            return Outcome(record.response_status, record.response_body, replayed=True)
        try:
            status, body = work(record)
        except Exception:
            key_release(record=record)  # only if nothing was created
            raise
        key_complete(record=record, status=status, body=body)
        return Outcome(status, body, replayed=False)


def key_from_header(value: str | None) -> str | None:
    """The header's key, None when absent. Raises ApplicationError (400) when malformed."""
    if value is None:
        return None
    if not value or len(value) > MAX_KEY_LENGTH or not value.isprintable():
        raise ApplicationError(
            f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.",
            field=KEY_HEADER,
        )
    return value


def request_hash(data: Any) -> str:
    """sha256 of the body as canonical JSON (sorted keys, no spaces)."""
    if hasattr(data, "lists"):  # a form body (QueryDict): every value of every key
        data = {key: values for key, values in data.lists()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
            # lock_timeout for this statement only; the advisory lock itself outlives the
            # transaction (session level).
            cursor.execute("SELECT current_setting('lock_timeout')")
            (previous,) = cursor.fetchone()
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{WAIT_SECONDS}s"])
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
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
    """The key's row, inserted pending (and committed) if new. Call under `key_lock`.

    Raises IdempotencyKeyReused when the key was used for another endpoint or body, and, off
    PostgreSQL, IdempotencyKeyBusy while another request may still be working on it.
    """
    record, created = IdempotencyKey.objects.get_or_create(
        user=user, key=key, defaults={"endpoint": endpoint, "request_hash": body_hash}
    )
    if created:
        return record
    if record.endpoint != endpoint or record.request_hash != body_hash:
        raise IdempotencyKeyReused(
            f"This {KEY_HEADER} was already used with a different request. A key names one "
            "request: send a new key for a new request, or the same body to get the first "
            "response again."
        )
    recent = timezone.now() - record.created_at < datetime.timedelta(seconds=WAIT_SECONDS)
    if not record.is_completed and connection.vendor != "postgresql" and recent:
        raise _busy()
    return record


def key_link_order(*, record: IdempotencyKey, order: Order) -> None:
    """Link the order the request created. Call in the transaction that creates it."""
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
    """Forget a key whose request was refused before creating anything, so it can be reused."""
    IdempotencyKey.objects.filter(
        pk=record.pk, order__isnull=True, completed_at__isnull=True
    ).delete()

"""Scheduled ledger jobs. Thin: parse arguments, call one selector or service.

The beat schedule that runs them is static, in code: CELERY_BEAT_SCHEDULE in
config/settings/base.py.

None can hang a worker: each has a soft time limit (SoftTimeLimitExceeded raised in the task; a
chunk rolls back and records its failure, which closes its run) and a hard one, a little later
(the worker kills the process), both from settings (BILLING_*_TIME_LIMIT, config/settings/base.py).
Each is acknowledged late (redelivered if its worker dies): every one of them is idempotent.
"""

import datetime
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.dispatch import receiver
from django.utils import timezone

from billing.auto_topups import auto_topup_run
from billing.dunning import dunning_run
from billing.ledger.events import document_issued
from billing.models import DocumentType
from billing.receipts import receipt_send
from billing.runs import CHUNK_TASK, chunk_process, run_start
from billing.selectors import balance_mismatches
from billing.webhooks import WEBHOOK_TASK, webhook_deliver, webhook_requeue_due

logger = logging.getLogger(__name__)


def _limits(name: str, soft: int, hard: int) -> dict:
    """The task's soft and hard time limits, in seconds: settings BILLING_<name>_SOFT_TIME_LIMIT
    and BILLING_<name>_TIME_LIMIT, else `soft` and `hard`."""
    return {
        "soft_time_limit": getattr(settings, f"BILLING_{name}_SOFT_TIME_LIMIT", soft),
        "time_limit": getattr(settings, f"BILLING_{name}_TIME_LIMIT", hard),
    }


@shared_task(
    name="billing.tasks.verify_balances",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,  # read-only
    **_limits("VERIFY_BALANCES", 600, 660),
)
def verify_balances() -> dict:
    """Nightly: compare cached balances with documents. Read-only, so running it twice is safe.

    Each mismatch is logged at ERROR, naming the account, and listed in the result; a lost
    database connection is retried.
    """
    mismatches = balance_mismatches()
    for mismatch in mismatches:
        logger.error("balance mismatch: %s", mismatch)
    if not mismatches:
        logger.info("verify_balances: all balances agree")
    return {
        "ok": not mismatches,
        "mismatches": [
            {
                "account_id": m.account_id,
                "account": m.account_name,
                "what": m.what,
                "cached": str(m.cached),
                "actual": str(m.actual),
            }
            for m in mismatches
        ],
    }


@shared_task(
    name="billing.tasks.auto_topup",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,  # one charge per crossing: every attempt has its own idempotency key
    **_limits("AUTO_TOPUP", 540, 600),
)
def auto_topup(date: str | None = None, now: str | None = None) -> dict:
    """Every AUTO_TOPUP_INTERVAL_MINUTES (beat): automatic top-up (seed 001 §2) of every account
    whose available funds are below its threshold, and the retries that are due
    (billing.auto_topups), as of `now` (ISO date-time; `date`, an ISO date, means that day's
    start; the clock when beat sends neither). One charge per crossing below the threshold, so a
    retry or a second run charges nobody twice. Failures (declined card, no card) are logged,
    notified and listed; the run goes on."""
    moment = _moment(date=date, now=now)
    result = auto_topup_run(now=moment)
    return {
        "date": timezone.localdate(moment).isoformat(),
        "now": moment.isoformat(),
        "charged": [
            {"account_id": p.recipient_id, "payment": p.display_number, "amount": str(p.total)}
            for p in result.charged
        ],
        "failed": [
            {
                "account_id": f.account_id,
                "account": f.account_name,
                "message": f.message,
                "next_attempt_at": f.next_attempt_at and f.next_attempt_at.isoformat(),
            }
            for f in result.failed
        ],
        "retrying": result.retrying,
        "already_done": result.already_done,
        "closed": result.closed,
    }


def _moment(*, date: str | None, now: str | None) -> datetime.datetime:
    if now:
        moment = datetime.datetime.fromisoformat(now)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    if date:
        day = datetime.date.fromisoformat(date)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return timezone.now()


@shared_task(
    name="billing.tasks.run_dunning",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,  # a second run of a day does nothing twice (billing.dunning)
    reject_on_worker_lost=True,  # a worker killed midway: the next delivery finishes the day
    **_limits("DUNNING", 900, 960),
)
def run_dunning(date: str | None = None) -> dict:
    """Daily (beat): the day's dunning steps for `date` (ISO; today when beat sends none)."""
    today = datetime.date.fromisoformat(date) if date else timezone.localdate()
    result = dunning_run(today=today)
    return {
        "date": today.isoformat(),
        "accounts": result.accounts,
        "steps": [
            {"account_id": s.account_id, "step": s.step, "detail": s.detail} for s in result.steps
        ],
        "failed": [{"account_id": s.account_id, "message": s.detail} for s in result.failed],
    }


@shared_task(
    name=CHUNK_TASK,  # billing.runs sends it by this name
    acks_late=True,
    reject_on_worker_lost=True,
    **_limits("RUN_CHUNK", 600, 720),
)
def billing_run_chunk(run_id: int, number: int, account_ids: list[int]) -> dict | None:
    """One chunk of a billing or daily invoicing run (billing.runs.chunk_process): its own
    transaction; delivered twice, or again after its worker died, it bills nothing twice (a
    chunk that reported does nothing; one that did not rolled back). Past its soft time limit it
    rolls back and records the chunk's failure; the date's next run bills what it left."""
    return chunk_process(run_id=run_id, number=number, account_ids=account_ids)


@shared_task(
    name="billing.tasks.run_billing",
    autoretry_for=(OperationalError, InterfaceError),
    acks_late=True,  # a second run of a date issues nothing twice
    **_limits("RUN_START", 300, 360),
)
def run_billing(date: str | None = None, kind: str = "billing") -> int:
    """Daily (beat): start the billing-date run (or, with kind="daily", the daily invoicing
    run) for `date`, today when beat sends none. Beat firing twice starts two runs of one date;
    they still issue one invoice per account and period (billing.runs). It converts the date's
    ended trials, finds the due accounts and sends the first phase's chunks: the billing is the
    chunks' (billing_run_chunk)."""
    run_date = datetime.date.fromisoformat(date) if date else timezone.localdate()
    run = run_start(run_date=run_date, kind=kind, trigger="beat", inline=False)
    logger.info(
        "billing run %s (%s, %s): %s chunks",
        run.pk,
        kind,
        run_date.isoformat(),
        run.chunks_total,
        extra={"run_id": run.pk, "chunk": None},
    )
    return run.pk


@shared_task(
    name="billing.tasks.send_receipt",
    autoretry_for=(OperationalError, InterfaceError, ConnectionError, OSError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,  # a worker that died midway: sent again (billing.receipts)
)
def send_receipt(payment_id: int) -> str:
    """Email a payment's receipt with its PDF (billing.receipts), once however often it runs."""
    return receipt_send(payment_id=payment_id)


@receiver(document_issued, dispatch_uid="billing.tasks.receipts")
def _queue_receipt(sender, document, **kwargs) -> None:
    """Every payment issued gets its receipt, sent once its transaction commits."""
    if document.doc_type == DocumentType.PAYMENT:
        payment_id = document.pk
        transaction.on_commit(lambda: send_receipt.delay(payment_id))


@shared_task(
    name=WEBHOOK_TASK,  # billing.webhooks sends it by this name
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,  # a lost database connection: the same attempt, later
    max_retries=None,  # webhook_deliver counts the delivery's attempts and says when they run out
    acks_late=True,
    reject_on_worker_lost=True,  # a worker that died mid-request: the attempt is made again
    **_limits("WEBHOOK", 60, 90),
)
def deliver_webhook(self, delivery_id: int, attempt: int | None = None):
    """One attempt of a webhook delivery (billing.webhooks.webhook_deliver); a failed one is
    retried after its backoff, as the next attempt, until the delivery's attempts run out. A
    duplicate message, or one for a delivery already delivered, does nothing."""
    outcome = webhook_deliver(delivery_id=delivery_id, attempt=attempt)
    if outcome.retry_in is not None:
        # On a worker this raises Retry (the next attempt is queued with its countdown). Run
        # eagerly (no broker: the demo; `apply()` in tests), Celery makes the next attempt at
        # once, without waiting, when the task returns the Retry instead of raising it.
        return self.retry(
            kwargs={"delivery_id": delivery_id, "attempt": outcome.attempt},
            countdown=outcome.retry_in,
            throw=not self.request.is_eager,
        )
    return outcome.status


@shared_task(
    name="billing.tasks.requeue_webhooks",
    autoretry_for=(OperationalError, InterfaceError),
    acks_late=True,  # queueing an attempt twice makes it once
    **_limits("WEBHOOK_REQUEUE", 120, 180),
)
def requeue_webhooks() -> int:
    """Every few minutes (beat): queue again the webhook deliveries whose attempt is overdue
    (its message was lost: the broker was down when it was sent)."""
    grace = timedelta(seconds=settings.WEBHOOK_REQUEUE_AFTER_SECONDS)
    return webhook_requeue_due(now=timezone.now(), grace=grace)

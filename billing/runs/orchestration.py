"""Running the billing runs: recording a run, fanning its chunks out to the Celery workers (or
billing them in this process), each chunk's report, closing the run, the dry run, and a
reactivated subscription's one-account run.

Chunks. The due accounts of each phase are split into chunks (billing.runs.planning); each chunk
is one transaction: lock the accounts and their due subscriptions, plan (reads), apply (bulk
writes), take each issuer's block of numbers, report. The chunk that completes the first phase
sends the second (`BillingRun.later_chunks`). A dry run plans the same chunks without locks and
writes nothing, handing the first phase's planned reseller charges to the second, so it and the
real run agree line for line.

Each kind of run is one row of KINDS: how it finds its accounts, plans a chunk and applies the
plan. The chunks go to the workers by task name (CHUNK_TASK), so this module does not import
billing.tasks; billing.tasks imports it.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from celery import current_app, group
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import (
    BillingRun,
    BillingRunChunk,
    BillingRunFailure,
    ResellerTransaction,
    WebhookEvent,
)
from billing.money import ZERO
from billing.runs.daily import apply_daily_plan, due_reseller_ids, plan_daily_chunk
from billing.runs.planning import CHUNK_SIZE, account_weights, chunked, due_account_ids, phases
from billing.runs.plans import Charge, ChunkPlan
from billing.runs.rating import plan_billing_chunk
from billing.runs.writing import apply_billing_plan
from billing.webhooks import billing_run_data, webhook_emit
from orders.services import trials_convert_due
from resellers.exceptions import ApplicationError
from resellers.models import Account, User

logger = logging.getLogger(__name__)

# The Celery task that bills one chunk (billing.tasks.billing_run_chunk), sent by its name.
CHUNK_TASK = "billing.tasks.billing_run_chunk"


class RunError(ApplicationError):
    pass


@dataclass(frozen=True)
class RunKind:
    """How one kind of run finds its accounts, plans a chunk of them and applies the plan."""

    due: Callable[..., list[int]]  # (run_date=, among=None): account ids, by issuer then id
    plan: Callable[..., ChunkPlan]  # (account_ids=, run_date=, lock=[, pending=])
    apply: Callable[..., dict]  # (plan, acting_user=, run_id=): the chunk's figures


KINDS: dict[str, RunKind] = {
    BillingRun.Kind.BILLING: RunKind(
        due=due_account_ids, plan=plan_billing_chunk, apply=apply_billing_plan
    ),
    BillingRun.Kind.DAILY: RunKind(
        due=due_reseller_ids, plan=plan_daily_chunk, apply=apply_daily_plan
    ),
}


def _record_chunk(run_id: int, number: int, figures: dict, failures: Iterable[tuple]) -> None:
    """The chunk's report, in the chunk's transaction: unique per (run, number), so a chunk
    delivered twice reports once; the last chunk to report closes the run."""
    BillingRunChunk.objects.create(run_id=run_id, number=number, **figures)
    BillingRunFailure.objects.bulk_create(
        [
            BillingRunFailure(run_id=run_id, account_id=account_id, chunk=number, reason=reason)
            for account_id, reason in failures
        ]
    )
    BillingRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)
    run = BillingRun.objects.get(pk=run_id)  # the update holds the row lock: chunks report in turn
    if run.chunks_done >= run.chunks_total:
        _close(run)
    elif run.later_chunks and run.chunks_done == run.chunks_total - len(run.later_chunks):
        # this chunk completes the first phase: the resellers' chunks go once it commits
        first = run.chunks_done + 1
        later = run.later_chunks
        transaction.on_commit(lambda: _send(run_id, later, first=first))


def _send(run_id: int, chunks: list[list[int]], *, first: int) -> None:
    """Fan `chunks` out to the workers as a group (any worker takes any chunk), numbered from
    `first`: the chunk task by its name (CHUNK_TASK), immutable signatures of (run, number,
    account ids). Eagerly (no broker), the task runs here: the app's task modules are loaded
    first, as a worker loads them when it starts."""
    app = current_app
    if app.conf.task_always_eager:
        app.loader.import_default_modules()
    group(
        app.signature(CHUNK_TASK, args=(run_id, number, ids), immutable=True)
        for number, ids in enumerate(chunks, start=first)
    ).apply_async()
    last = first + len(chunks) - 1
    logger.info(
        "billing run %s: chunks %s to %s sent",
        run_id,
        first,
        last,
        extra={"run_id": run_id, "chunk": first, "last_chunk": last},
    )


def _close(run: BillingRun) -> None:
    """The run's figures from its chunks' reports, its status, and its `billing_run.finished`
    webhook (sent once the closing transaction commits)."""
    chunks = list(run.chunks.all())
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for chunk in chunks:
        for currency, total in chunk.amounts.items():
            amounts[currency] += Decimal(total)
    run.accounts_invoiced = sum(c.accounts_invoiced for c in chunks)
    run.invoices_issued = sum(c.invoices_issued for c in chunks)
    run.subscriptions_billed = _subscriptions_invoiced(run)
    run.charges_invoiced = sum(c.charges_invoiced for c in chunks)
    run.amounts = {currency: str(total) for currency, total in sorted(amounts.items())}
    run.failures_count = run.failures.count()
    run.status = BillingRun.Status.FAILED if run.failures_count else BillingRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.save()
    data = {"billing_run": billing_run_data(run)}
    webhook_emit(event=WebhookEvent.BILLING_RUN_FINISHED, data=data)


def _subscriptions_invoiced(run: BillingRun) -> int:
    """The subscriptions with a line on an invoice the run issued, each counted once: a
    customer's subscription is on its invoice and on its reseller's billing order, in chunks of
    two phases, so the chunks' own counts would count it twice. Charges that waited for the run
    (a first period charged when its order was executed) count like those it rated."""
    return (
        ResellerTransaction.objects.filter(invoice__billing_run=run, subscription__isnull=False)
        .values("subscription_id")
        .distinct()
        .count()
    )


def _kind(kind: str) -> RunKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise RunError(f"Unknown run kind {kind!r}.", field="kind") from None


def chunk_process(*, run_id: int, number: int, account_ids: Sequence[int]) -> dict | None:
    """Bill one chunk of a run in one transaction. Safe to deliver twice (a chunk that reported
    does nothing) and to kill midway (the transaction rolls back; a run for the date again, or
    the redelivered task, bills it). An unexpected error is recorded as the chunk's failure."""
    run = BillingRun.objects.get(pk=run_id)
    where = {"run_id": run_id, "chunk": number}
    if BillingRunChunk.objects.filter(run_id=run_id, number=number).exists():
        logger.info("billing run %s chunk %s: reported already", run_id, number, extra=where)
        return None
    logger.info(
        "billing run %s chunk %s: %s accounts", run_id, number, len(account_ids), extra=where
    )
    try:
        with transaction.atomic():
            kind = KINDS[run.kind]
            plan = kind.plan(account_ids=account_ids, run_date=run.run_date, lock=True)
            figures = kind.apply(plan, acting_user=run.started_by, run_id=run.pk)
            _record_chunk(run_id, number, figures, plan.failures)
        logger.info(
            "billing run %s chunk %s: %s invoices issued, %s failures",
            run_id,
            number,
            figures.get("invoices_issued", 0),
            len(plan.failures),
            extra=where,
        )
        return figures
    except Exception as exc:
        if BillingRunChunk.objects.filter(run_id=run_id, number=number).exists():
            raise
        logger.exception(
            "billing run %s chunk %s failed",
            run_id,
            number,
            extra={"run_id": run_id, "chunk": number},
        )
        with transaction.atomic():
            _record_chunk(
                run_id,
                number,
                {"accounts": len(account_ids), "failures": 1},
                [(None, f"Chunk {number} ({len(account_ids)} accounts) failed: {exc!r}")],
            )
        return None


def run_start(
    *,
    run_date: datetime.date,
    kind: str = BillingRun.Kind.BILLING,
    trigger: str = "command",
    acting_user: User | None = None,
    account_ids: Sequence[int] | None = None,
    chunk_size: int = CHUNK_SIZE,
    inline: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BillingRun:
    """Record a run and bill its chunks: fanned out to the Celery workers as a group (any worker
    takes any chunk), or in this process when `inline` (default: when Celery runs eagerly).
    `account_ids` limits the run (a reactivation's catch-up)."""
    run_kind = _kind(kind)
    run_date_check(run_date, today=timezone.localdate())
    if chunk_size < 1:
        raise RunError("The chunk size must be at least 1.", field="chunk_size")
    if kind == BillingRun.Kind.BILLING:
        # Trials that ended convert first, each through its order's credit check (seed 004);
        # what they charge waits for this run like any order's first period.
        trials_convert_due(run_date=run_date, account_ids=account_ids, acting_user=acting_user)
    due = run_kind.due(run_date=run_date, among=account_ids)
    if account_ids is not None:
        wanted = set(account_ids)
        due = [a for a in due if a in wanted]
    weights = account_weights(run_date=run_date)
    first, second = (chunked(ids, chunk_size, weights) for ids in phases(kind, due))
    chunks = first + second
    if inline is None:
        inline = settings.CELERY_TASK_ALWAYS_EAGER
    run = BillingRun.objects.create(
        kind=kind,
        run_date=run_date,
        trigger=trigger,
        started_by=acting_user if acting_user is not None and acting_user.pk else None,
        chunks_total=len(chunks),
        accounts_total=len(due),
        later_chunks=[] if inline or not first else second,
    )
    if not chunks:
        _close(run)
        return run
    if inline:  # the phases in turn, in this process
        for number, ids in enumerate(chunks, start=1):
            chunk_process(run_id=run.pk, number=number, account_ids=ids)
            if progress is not None:
                progress(number, len(chunks))
    else:  # the first phase now; its last chunk to report sends the second (_record_chunk)
        _send(run.pk, first or second, first=1)
    run.refresh_from_db()
    return run


def run_preview(
    *, run_date: datetime.date, kind: str = BillingRun.Kind.BILLING, chunk_size: int = CHUNK_SIZE
) -> list[ChunkPlan]:
    """What a run for `run_date` would do, chunk by chunk, writing nothing (a dry run)."""
    run_kind = _kind(kind)
    weights = account_weights(run_date=run_date)
    first, second = (
        chunked(ids, chunk_size, weights) for ids in phases(kind, run_kind.due(run_date=run_date))
    )
    plans = []
    pending: dict[int, list[Charge]] = defaultdict(list)  # what the first phase would write
    with transaction.atomic():
        for ids in first:
            plan = run_kind.plan(account_ids=ids, run_date=run_date, lock=False)
            planned = set(plan.account_ids)
            for charge in plan.new_charges:
                if charge.account_id not in planned:
                    pending[charge.account_id].append(charge)
            plans.append(plan)
        for ids in second:
            plans.append(
                run_kind.plan(account_ids=ids, run_date=run_date, lock=False, pending=pending)
            )
        transaction.set_rollback(True)  # belt and braces: planning writes nothing anyway
    return plans


def run_date_check(run_date: datetime.date, *, today: datetime.date) -> None:
    """A run a person starts is for today or a past date (one that was missed, or a retry): a run
    for a future date would bill the periods up to it in advance. A dry run may look ahead."""
    if run_date > today:
        raise RunError(
            f"{run_date.isoformat()} is in the future: runs bill up to their date, so start one "
            f"for today ({today.isoformat()}) or an earlier date. A dry run may look ahead.",
            field="run_date",
        )


def account_bill_now(
    *, account: Account, today: datetime.date, acting_user: User | None = None
) -> BillingRun | None:
    """Bill one account at once (a reactivated subscription's catch-up), as a one-account run;
    None, and no run recorded, when nothing of it is due."""
    if not due_account_ids(run_date=today, among=[account.pk]):
        return None
    return run_start(
        run_date=today,
        trigger="reactivation",
        acting_user=acting_user,
        account_ids=[account.pk],
        inline=True,
    )


def runs_visible(user: User):
    """Runs are the provider's: its staff see them all; nobody else any."""
    if user is None or not user.is_authenticated or not user.is_provider_staff:
        return BillingRun.objects.none()
    return BillingRun.objects.all()


def parse_run_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RunError(
            f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-12-01.", field="run_date"
        ) from None

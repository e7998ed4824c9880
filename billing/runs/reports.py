"""What the panel and the API read and accept for billing runs (the runs themselves are
`billing.runs`): the runs a user may see and one run with its chunks and failures, whether a run
stalled, the documents a run issued, a dry run's report with the accounts named, and which dates a
person may start a run for.

Runs are the provider's: `billing.runs.runs_visible` gives provider staff every run and anybody
else none. The clock stays at the edge: callers pass `now` and `today`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Prefetch, QuerySet

from billing.document_layout import period
from billing.models import BillingRun, BillingRunFailure, Document
from billing.money import ZERO
from billing.runs.orchestration import run_preview, runs_visible
from billing.runs.planning import CHUNK_SIZE
from billing.runs.plans import PlannedInvoice
from resellers.models import Account, User
from resellers.tenancy import scope

# A running run none of whose chunks reported for this long is shown as stalled (a worker died
# and its chunk was not redelivered, or the workers are down): running the date again bills what
# is left, and nothing twice.
STALLED_AFTER = datetime.timedelta(hours=1)


def billing_runs_list(
    *,
    user: User,
    kind: str = "",
    run_date: datetime.date | None = None,
    status: str = "",
) -> QuerySet[BillingRun]:
    """The runs `user` may see, newest first, with `last_activity` (when a chunk last reported,
    for `run_stalled`) and who started them."""
    runs = (
        runs_visible(user)
        .select_related("started_by")
        .annotate(last_activity=Max("chunks__finished_at"))
        .order_by("-started_at", "-id")
    )
    if kind:
        runs = runs.filter(kind=kind)
    if run_date is not None:
        runs = runs.filter(run_date=run_date)
    if status:
        runs = runs.filter(status=status)
    return runs


def billing_run_get(*, user: User, pk: int) -> BillingRun:
    """One run with its chunks and its failures (each with its account). Raises
    BillingRun.DoesNotExist for a run `user` may not see."""
    failures = BillingRunFailure.objects.select_related("account").order_by("chunk", "id")
    return (
        billing_runs_list(user=user)
        .prefetch_related("chunks", Prefetch("failures", queryset=failures))
        .get(pk=pk)
    )


def billing_run_documents(*, user: User, run: BillingRun) -> QuerySet[Document]:
    """The documents `run` issued (`Document.billing_run`) that `user` may see, in number order,
    with their issuer and recipient."""
    return (
        scope(Document.objects.filter(billing_run=run), user)
        .select_related("issuer", "recipient")
        .order_by("doc_type", "number", "id")
    )


def run_stalled(run: BillingRun, *, now: datetime.datetime) -> bool:
    """Still running, chunks left, and no chunk has reported for `STALLED_AFTER`. Reads
    `last_activity` where the selector annotated it."""
    if run.status != BillingRun.Status.RUNNING or run.chunks_done >= run.chunks_total:
        return False
    last = getattr(run, "last_activity", None) or run.started_at
    return now - max(last, run.started_at) > STALLED_AFTER


@dataclass(frozen=True)
class PreviewLine:
    description: str
    period_start: datetime.date | None
    period_end: datetime.date | None  # exclusive, as stored
    quantity: Decimal | None
    amount: Decimal
    tax: Decimal

    @property
    def period(self) -> str:
        """The period as the invoice reads it, to its last day (`document_layout.period`): a
        stored 1 Dec 2026 to 1 Jan 2027 reads "1 Dec 2026 - 31 Dec 2026"; "" without one."""
        return period(self.period_start, self.period_end)


def preview_lines(invoice: PlannedInvoice) -> list[PreviewLine]:
    """A planned invoice's lines, each with its tax (zero where the tax step found none)."""
    taxes = invoice.tax or [ZERO] * len(invoice.charges)
    return [
        PreviewLine(
            description=charge.description,
            period_start=charge.period_start,
            period_end=charge.period_end,
            quantity=charge.quantity,
            amount=charge.amount,
            tax=tax,
        )
        for charge, tax in zip(invoice.charges, taxes, strict=True)
    ]


@dataclass(frozen=True)
class PreviewFailure:
    account_id: int | None
    account_name: str
    reason: str


@dataclass(frozen=True)
class RunPreview:
    """A dry run: the invoices a run would issue, with their lines, and the accounts it would
    fail. Nothing was written."""

    kind: str
    run_date: datetime.date
    accounts_due: int
    invoices: list[PlannedInvoice]
    failures: list[PreviewFailure]
    held: int
    # Who would issue each invoice (`PlannedInvoice.issuer_id` -> name): each issuer numbers its
    # own documents, so a number alone does not say whose it is.
    issuers: dict[int, str]

    @property
    def lines(self) -> int:
        return sum(len(invoice.charges) for invoice in self.invoices)

    @property
    def amounts(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for invoice in self.invoices:
            totals[invoice.currency] = totals.get(invoice.currency, ZERO) + invoice.total
        return dict(sorted(totals.items()))


def billing_run_preview(
    *, kind: str, run_date: datetime.date, chunk_size: int = CHUNK_SIZE
) -> RunPreview:
    """`billing.runs.run_preview`, with the failing accounts and the invoices' issuers named.
    Raises RunError (`kind`)."""
    plans = run_preview(run_date=run_date, kind=kind, chunk_size=chunk_size)
    failures = [failure for plan in plans for failure in plan.failures]
    invoices = [invoice for plan in plans for invoice in plan.invoices]
    named = {a for a, _ in failures if a is not None} | {i.issuer_id for i in invoices}
    names = dict(Account.objects.filter(pk__in=named).values_list("pk", "name"))
    return RunPreview(
        kind=kind,
        run_date=run_date,
        accounts_due=sum(len(plan.account_ids) for plan in plans),
        invoices=invoices,
        failures=[
            PreviewFailure(account_id=a, account_name=names.get(a, ""), reason=reason)
            for a, reason in failures
        ],
        held=sum(len(plan.held) for plan in plans),
        issuers={i.issuer_id: names.get(i.issuer_id, "") for i in invoices},
    )

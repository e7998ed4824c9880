"""Which accounts a run for a date looks at, and how they split into chunks: the billing run's
due accounts, its two phases (every other account first, then the resellers), and chunks even
in accounts and in weight (waiting charges and due subscriptions)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Count, F

from billing.models import BillingRun, ResellerTransaction
from billing.runs.plans import BILLABLE, UNINVOICED
from orders.models import Subscription
from resellers.models import Account


def due_account_ids(*, run_date: datetime.date, among: Sequence[int] | None = None) -> list[int]:
    """Accounts the billing run for `run_date` must look at (of `among`, when given), ordered by
    issuer then id (so a chunk's invoices share few number blocks): cycle due, a subscription
    due, or a charge of a customer's own waiting."""
    limit = {} if among is None else {"pk__in": list(among)}
    by_account = {} if among is None else {"account_id__in": list(among)}
    cycle = Account.objects.filter(next_billing_date__lte=run_date, **limit).values_list(
        "pk", flat=True
    )
    subs = (
        Subscription.objects.filter(
            next_billing_date__lte=run_date, status__in=BILLABLE, **by_account
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    waiting = (
        ResellerTransaction.objects.filter(
            status=UNINVOICED,
            account__kind=Account.Kind.CUSTOMER,
            charge_date__lte=run_date,
            **by_account,
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    ids = set(cycle) | set(subs) | set(waiting)
    return list(
        Account.objects.filter(pk__in=ids).order_by("issuer_id", "pk").values_list("pk", flat=True)
    )


CHUNK_SIZE = 250  # accounts a chunk may carry
CHUNK_WEIGHT = 5000  # charges and subscriptions a chunk may carry, roughly its lines


def chunked(
    ids: Sequence[int], size: int, weights: dict[int, int] | None = None, limit=CHUNK_WEIGHT
) -> list[list[int]]:
    """Consecutive chunks of at most `size` accounts and, with `weights`, at most `limit` weight
    (an account heavier than that goes alone): a reseller whose billing order carries thousands
    of its customers' charges does not share its chunk, so chunks stay even in time and memory."""
    chunks: list[list[int]] = []
    current: list[int] = []
    load = 0
    for account_id in ids:
        weight = weights.get(account_id, 1) if weights else 1
        if current and (len(current) >= size or (weights and load + weight > limit)):
            chunks.append(current)
            current, load = [], 0
        current.append(account_id)
        load += weight
    if current:
        chunks.append(current)
    return chunks


def phases(kind: str, due: Sequence[int]) -> tuple[list[int], list[int]]:
    """The due accounts in the order they are billed: a billing run's resellers come second, after
    the chunks that write their customers' charges; a daily run has one phase."""
    if kind != BillingRun.Kind.BILLING or not due:
        return list(due), []
    resellers = set(
        Account.objects.filter(pk__in=due, kind=Account.Kind.RESELLER).values_list("pk", flat=True)
    )
    return [a for a in due if a not in resellers], [a for a in due if a in resellers]


def account_weights(*, run_date: datetime.date) -> dict[int, int]:
    """Per account: its waiting charges plus twice its due subscriptions, and for a reseller one
    for each of its customers' due subscriptions (the charge the first phase writes it)."""
    weights: dict[int, int] = defaultdict(int)
    charges = (
        ResellerTransaction.objects.filter(status=UNINVOICED)
        .values("account_id")
        .annotate(n=Count("id"))
    )
    for row in charges:
        weights[row["account_id"]] += row["n"]
    subs = (
        Subscription.objects.filter(next_billing_date__lte=run_date, status__in=BILLABLE)
        .values("account_id")
        .annotate(n=Count("id"))
    )
    for row in subs:
        weights[row["account_id"]] += 2 * row["n"]
    resold = (
        Subscription.objects.filter(next_billing_date__lte=run_date, status__in=BILLABLE)
        .exclude(credit_account_id=F("account_id"))
        .values("credit_account_id")
        .annotate(n=Count("id"))
    )
    for row in resold:
        weights[row["credit_account_id"]] += row["n"]
    return weights

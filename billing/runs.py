"""The billing runs: the billing-date run (and, in billing.daily, the daily invoicing run).

They sit on top of the ledger and the orders: they read subscriptions and usage, write charges,
documents and balances. Rules, in one place:

Cycles. Each account has a monthly billing cycle anchored on its first charge or subscription
(`Account.billing_anchor`); `Account.next_billing_date` is its next cycle date. Subscriptions
co-term with their holder's cycle (orders.services._deliver prorates a mid-cycle start up to it).

Rating. On run date D, every billable subscription of the chunk's accounts whose
`next_billing_date` <= D is charged: recurring fees in advance for each period that starts on or
before D (a run that missed dates catches up, one charge per period), usage in arrears for each
period that ended on or before D. A charge is a `ResellerTransaction` row carrying the
subscription, the period and its kind: one for the holder (at its price; at cost when it buys
upstream itself) and, for a resale customer's subscription, one for the reseller at cost. A
partial unique index allows one live charge per (subscription, account, kind, period start).
Pending cancellations due on D close instead of renewing; a trial due on D becomes active.

Invoicing. An account's invoice on D carries its uninvoiced charges that fell due by D. A
reseller is invoiced on its cycle dates (its billing order); a customer also whenever a charge of
its own waits (an order's first period, a trial that ended: billed in advance). A run bills in
two phases: every other account first, then the resellers, so a reseller's billing order on D
carries its customers' consumption of the period that starts on D (seed 001 §3: "the charges for
the reseller's subscription and for the services the reseller's customers consumed during the
respective billing period"), whichever worker took which chunk. One live invoice per (account, key
"billing:D"), enforced by a unique index; each charge is invoiced once (status and FK, under the
account's row lock).

On hold (seed 001 §3). Suspended subscriptions are rated like active ones, so the charges are
the same either way ("the new setting does not affect the charge calculation logic"); what the
setting decides is when they are invoiced, and each charge's recipient's customer class decides
for it. On: on its own billing date, like any charge. Off: a suspended subscription's charges
wait; once it is reactivated (or ends), the next invoice carries every missed period, one line
each (the resume bills the holder's catch-up at once). For a reseller with a suspended
subscription of its own, due or not, off also holds its whole invoice (its customers'
consumption included) until then.

Chunks. The due accounts of each phase are split into chunks; each chunk is one transaction:
lock the accounts and their due subscriptions, plan (reads), apply (bulk writes), take each
issuer's block of numbers, report. The chunk that completes the first phase sends the second
(`BillingRun.later_chunks`). A dry run plans the same chunks without locks and writes nothing,
handing the first phase's planned reseller charges to the second, so it and the real run agree
line for line.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from billing import services as ledger
from billing.models import (
    CREDIT_TYPES,
    Balance,
    BillingRun,
    BillingRunChunk,
    BillingRunFailure,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    ResellerTransaction,
)
from billing.money import ZERO, line_total
from billing.periods import MONTHLY, Period, nth_period, period_containing, prorate
from orders.models import Product, Subscription, SubscriptionStatus, UsageRecord
from orders.services import trials_convert_due
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.services import audit_events

logger = logging.getLogger(__name__)

CHUNK_SIZE = 250
BILLABLE = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PENDING_CANCELLATION,
    SubscriptionStatus.SUSPENDED,
    SubscriptionStatus.TRIAL,
)
UNINVOICED = ResellerTransaction.Status.UNINVOICED
INVOICED = ResellerTransaction.Status.INVOICED


class RunError(ApplicationError):
    pass


# --- plans ---------------------------------------------------------------------------------------


# A charge's columns, read into a Charge and written from one (ResellerTransaction).
CHARGE_COLUMNS = (
    "account_id",
    "kind",
    "description",
    "amount",
    "currency",
    "charge_date",
    "subscription_id",
    "quantity",
    "unit_price",
    "period_start_date",
    "period_end_date",
    "tax_category",
    "reference",
)


@dataclass
class Charge:
    """A charge an invoice carries: an existing row (`pk`) or one this chunk rates (`pk` None)."""

    account_id: int
    kind: str
    description: str
    amount: Decimal
    currency: str
    charge_date: datetime.date | None
    pk: int | None = None
    subscription_id: int | None = None
    holder_id: int | None = None  # the subscription's holder, for "its own" charges
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    tax_category: str = ""
    reference: str = ""
    # its subscription is suspended now: whether it is invoiced is its recipient's class's call
    suspended: bool = False

    def column_values(self) -> tuple:
        """Its values in CHARGE_COLUMNS order, as a new ResellerTransaction row stores them."""
        return (
            self.account_id,
            self.kind,
            self.description,
            self.amount,
            self.currency,
            self.charge_date,
            self.subscription_id,
            self.quantity,
            self.unit_price,
            self.period_start,
            self.period_end,
            self.tax_category,
            self.reference,
        )

    @property
    def own(self) -> bool:
        return self.holder_id == self.account_id

    def line(self) -> tuple:
        """What a dry run and the issued line must agree on."""
        return (
            self.account_id,
            self.description,
            self.period_start,
            self.period_end,
            self.amount,
        )


@dataclass
class PlannedInvoice:
    account_id: int
    account_name: str
    issuer_id: int
    currency: str
    issue_date: datetime.date
    due_date: datetime.date
    charges: list[Charge]
    prepaid: bool
    tax: list[Decimal] = field(default_factory=list)  # per charge, filled by the tax step
    tax_rates: list[Decimal] = field(default_factory=list)
    document_id: int | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((c.amount for c in self.charges), ZERO)

    @property
    def tax_total(self) -> Decimal:
        return sum(self.tax, ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total


@dataclass
class ChunkPlan:
    run_date: datetime.date
    key: str
    account_ids: list[int]
    new_charges: list[Charge] = field(default_factory=list)
    # (pk, billed_through, next_billing_date, status, quantity)
    subscription_updates: list[tuple] = field(default_factory=list)
    invoices: list[PlannedInvoice] = field(default_factory=list)
    cycle_updates: list[tuple[int, datetime.date]] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    subscriptions_billed: int = 0

    def lines(self) -> list[tuple]:
        return [c.line() for inv in self.invoices for c in inv.charges]


# --- which accounts a date concerns --------------------------------------------------------------


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


# --- planning ------------------------------------------------------------------------------------


def _next_cycle_after(anchor: datetime.date, day: datetime.date) -> datetime.date:
    return period_containing(anchor=anchor, billing_period=MONTHLY, day=day).end


def _periods(
    *, anchor: datetime.date, billing_period: str, through: datetime.date, until, in_advance: bool
) -> list[tuple[Period, datetime.date, datetime.date]]:
    """(whole period, part start, part end) of each period to charge from `through` on: in
    advance, those starting on or before `until`; in arrears, those ended by `until`. Before the
    anchor (a trial that ended between cycle dates) the part up to the anchor comes first,
    prorated against the period that ends there."""
    found = []
    if through < anchor:
        stub = nth_period(anchor=anchor, billing_period=billing_period, index=-1)
        part_end = anchor
        if (through <= until) if in_advance else (part_end <= until):
            found.append((stub, through, part_end))
            through = anchor
        else:
            return found
    period = period_containing(anchor=anchor, billing_period=billing_period, day=through)
    while (period.start <= until) if in_advance else (period.end <= until):
        found.append((period, max(period.start, through), period.end))
        period = nth_period(anchor=anchor, billing_period=billing_period, index=period.index + 1)
    return found


def _account_rows(account_ids: Sequence[int], lock: bool) -> dict[int, dict]:
    rows = Account.objects.filter(pk__in=account_ids).order_by("pk")
    if lock:
        # NO KEY UPDATE: it still serialises runs and ledger writers on the account, but not the
        # foreign-key checks of other chunks' documents that name it as their issuer (with FOR
        # UPDATE, a chunk holding a reseller's row and one numbering its customers' invoices
        # deadlocked: the bench found it).
        rows = rows.select_for_update(of=("self",), no_key=True)
    return {
        row["pk"]: row
        for row in rows.values(
            "pk",
            "name",
            "kind",
            "issuer_id",
            "currency",
            "credit_terms",
            "payment_terms_days",
            "next_billing_date",
            "billing_anchor",
            "daily_invoicing",
            on_hold=F("customer_class__bill_for_subscriptions_on_hold"),
        )
    }


def _subscription_rows(account_ids, run_date, lock: bool) -> list[dict]:
    rows = Subscription.objects.filter(
        account_id__in=account_ids, next_billing_date__lte=run_date, status__in=BILLABLE
    ).order_by("account_id", "pk")
    if lock:
        rows = rows.select_for_update(of=("self",), no_key=True)
    return list(
        rows.values(
            "pk",
            "account_id",
            "credit_account_id",
            "status",
            "billing_period",
            "unit_cost",
            "unit_price",
            "quantity",
            "renewal_quantity",
            "currency",
            "start_date",
            "billing_anchor",
            "billed_through",
            "next_billing_date",
            "product_id",
            product_name=F("product__name"),
            billing_type=F("product__billing_type"),
            tax_category=F("product__tax_category"),
            holder_name=F("account__name"),
        )
    )


def _usage(subscriptions: list[dict], run_date) -> dict[int, list[dict]]:
    usage_subs = [s for s in subscriptions if s["billing_type"] == Product.BillingType.USAGE]
    if not usage_subs:
        return {}
    since = min(s["billed_through"] or s["start_date"] for s in usage_subs)
    found: dict[int, list[dict]] = defaultdict(list)
    rows = UsageRecord.objects.filter(
        subscription_id__in=[s["pk"] for s in usage_subs],
        usage_date__gte=since,
        usage_date__lt=run_date,
    ).values("subscription_id", "usage_date", "quantity", "amount", "cost")
    for row in rows:
        found[row["subscription_id"]].append(row)
    return found


def _waiting_charges(account_ids, *, prepaid: bool = False) -> dict[int, list[Charge]]:
    """The accounts' uninvoiced charges; a prepaid order's (its payment set aside for it) only
    with `prepaid`: those wait for the daily invoicing run, which settles them."""
    found: dict[int, list[Charge]] = defaultdict(list)
    rows = ResellerTransaction.objects.filter(account_id__in=account_ids, status=UNINVOICED)
    if not prepaid:
        rows = rows.exclude(prepaid_by__status="active")
    rows = rows.order_by("account_id", "charge_date", "pk").values(
        "pk",
        *CHARGE_COLUMNS,
        holder_id=F("subscription__account_id"),
        subscription_status=F("subscription__status"),
    )
    for row in rows:
        found[row["account_id"]].append(
            Charge(
                pk=row["pk"],
                account_id=row["account_id"],
                kind=row["kind"],
                description=row["description"],
                amount=row["amount"],
                currency=row["currency"],
                charge_date=row["charge_date"],
                subscription_id=row["subscription_id"],
                holder_id=row["holder_id"],
                quantity=row["quantity"],
                unit_price=row["unit_price"],
                period_start=row["period_start_date"],
                period_end=row["period_end_date"],
                tax_category=row["tax_category"],
                reference=row["reference"],
                suspended=row["subscription_status"] == SubscriptionStatus.SUSPENDED,
            )
        )
    return found


def _rate(sub: dict, run_date, usage: list[dict]) -> tuple[list[Charge], tuple]:
    """The charges of one due subscription and its update (pk, billed_through, next, status)."""
    status = sub["status"]
    in_advance = sub["billing_type"] != Product.BillingType.USAGE
    closing = status == SubscriptionStatus.PENDING_CANCELLATION
    closed = (sub["pk"], sub["billed_through"], None, SubscriptionStatus.CANCELLED, sub["quantity"])
    if closing and in_advance:
        return [], closed  # its last period was billed in advance: it ends here
    if status == SubscriptionStatus.TRIAL:
        status = SubscriptionStatus.ACTIVE
    through = sub["billed_through"] or sub["next_billing_date"]
    anchor = sub["billing_anchor"] or sub["start_date"]
    period_kind = sub["billing_period"]
    parts = _periods(
        anchor=anchor,
        billing_period=period_kind,
        through=through,
        until=run_date,
        in_advance=in_advance,
    )
    if not parts:
        return [], closed if closing else ()
    buys_itself = sub["account_id"] == sub["credit_account_id"]
    holder_unit = sub["unit_cost"] if buys_itself else sub["unit_price"]
    quantity = Decimal(sub["renewal_quantity"] or sub["quantity"])
    currency = sub["currency"]
    charges: list[Charge] = []

    def add(account_id, kind, description, amount, unit, qty, period, start, end):
        charges.append(
            Charge(
                account_id=account_id,
                kind=kind,
                description=description,
                amount=amount,
                currency=currency,
                charge_date=start if in_advance else end,
                subscription_id=sub["pk"],
                holder_id=sub["account_id"],
                quantity=qty,
                unit_price=unit,
                period_start=start,
                period_end=end,
                tax_category=sub["tax_category"],
                reference=f"subscription:{sub['pk']}",
                suspended=status == SubscriptionStatus.SUSPENDED,
            )
        )

    for period, start, end in parts:
        whole = (start, end) == (period.start, period.end)
        note = "" if whole else f" (prorated: {(end - start).days} of {period.days} days)"
        name = sub["product_name"]
        if in_advance:
            kind = ResellerTransaction.Kind.RECURRING
            pairs = [(sub["account_id"], holder_unit, name)]
            if not buys_itself:
                pairs.append(
                    (sub["credit_account_id"], sub["unit_cost"], f"{name} for {sub['holder_name']}")
                )
            for account_id, unit, description in pairs:
                full = line_total(quantity=quantity, unit_price=unit, currency=currency)
                amount = prorate(
                    period_amount=full, period=period, from_date=start, to_date=end,
                    currency=currency,
                )  # fmt: skip
                add(
                    account_id, kind, description + note, amount, unit, quantity, period, start, end
                )
        else:
            kind = ResellerTransaction.Kind.USAGE
            used = [u for u in usage if start <= u["usage_date"] < end]
            measured = sum((u["quantity"] for u in used if u["quantity"] is not None), ZERO)
            money = sum((u["amount"] for u in used if u["amount"] is not None), ZERO)
            money_cost = sum(
                (
                    u["cost"] if u["cost"] is not None else u["amount"]
                    for u in used
                    if u["amount"] is not None
                ),
                ZERO,
            )
            holder_amount = line_total(quantity=measured, unit_price=holder_unit, currency=currency)
            holder_amount += money if buys_itself is False else money_cost
            if holder_amount:
                add(sub["account_id"], kind, f"{name}: usage", holder_amount, holder_unit,
                    measured, period, start, end)  # fmt: skip
            if not buys_itself:
                cost = line_total(quantity=measured, unit_price=sub["unit_cost"], currency=currency)
                cost += money_cost
                if cost:
                    add(sub["credit_account_id"], kind, f"{name}: usage for {sub['holder_name']}",
                        cost, sub["unit_cost"], measured, period, start, end)  # fmt: skip
    billed_through = parts[-1][2]
    if in_advance:
        next_date = billed_through
    else:
        next_date = period_containing(anchor=anchor, billing_period=period_kind, day=billed_through)
        next_date = next_date.end
    if closing:  # usage, in arrears: its last period's usage is billed, then it ends
        return charges, (sub["pk"], billed_through, None, SubscriptionStatus.CANCELLED,
                         int(quantity))  # fmt: skip
    return charges, (sub["pk"], billed_through, next_date, status, int(quantity))


def planned_invoice(account: dict, charges: list[Charge], run_date) -> PlannedInvoice:
    """An invoice of `charges` to `account` (a row of _account_rows) dated `run_date`: due after
    its payment terms, on the day for a prepaid account."""
    prepaid = account["credit_terms"] == Account.CreditTerms.PREPAID
    terms = 0 if prepaid else account["payment_terms_days"]
    return PlannedInvoice(
        account_id=account["pk"],
        account_name=account["name"],
        issuer_id=account["issuer_id"],
        currency=account["currency"],
        issue_date=run_date,
        due_date=run_date + datetime.timedelta(days=terms),
        charges=charges,
        prepaid=prepaid,
    )


def _keys_taken(account_ids, key: str) -> set[int]:
    return set(
        Document.objects.filter(recipient_id__in=account_ids, billing_key=key)
        .exclude(status=DocumentStatus.CANCELLED)
        .values_list("recipient_id", flat=True)
    )


def _eligible(charge: Charge, account: dict, run_date) -> bool:
    """Due by `run_date`; a suspended subscription's charge only for a recipient whose customer
    class bills on hold (else it waits for the catch-up, once the subscription is reactivated)."""
    if charge.suspended and not account["on_hold"]:
        return False
    return charge.charge_date is None or charge.charge_date <= run_date


def _line_order(charge: Charge, run_date) -> tuple:
    """An invoice's lines: the account's own first, then by period, holder and subscription (the
    same order whichever chunk wrote which charge first)."""
    return (
        not charge.own,
        charge.period_start or charge.charge_date or run_date,
        charge.holder_id or 0,
        charge.subscription_id or 0,
    )


def plan_billing_chunk(
    *,
    account_ids: Sequence[int],
    run_date: datetime.date,
    lock: bool,
    pending: dict[int, list[Charge]] | None = None,
) -> ChunkPlan:
    """Everything the billing run would do for these accounts on `run_date` (reads only). With
    `lock`, inside the caller's transaction, the accounts and their due subscriptions are locked
    first, so the plan stays true until the caller applies it. `pending`: charges a dry run's
    first phase planned for these accounts (the real run finds them written)."""
    plan = ChunkPlan(run_date=run_date, key=f"billing:{run_date.isoformat()}", account_ids=[])
    accounts = _account_rows(account_ids, lock)
    plan.account_ids = list(accounts)
    subscriptions = _subscription_rows(list(accounts), run_date, lock)
    usage = _usage(subscriptions, run_date)
    waiting = _waiting_charges(list(accounts))
    for account_id, charges in (pending or {}).items():
        if account_id in accounts:
            waiting[account_id].extend(charges)
    taken = _keys_taken(list(accounts), plan.key)
    suspended_own = _suspended_own(accounts)
    for sub in subscriptions:
        charges, update = _rate(sub, run_date, usage.get(sub["pk"], []))
        if update:
            plan.subscription_updates.append(update)
        if charges:
            plan.subscriptions_billed += 1
            plan.new_charges.extend(charges)
            for charge in charges:
                if charge.account_id in accounts:
                    waiting[charge.account_id].append(charge)
    for account_id, account in accounts.items():
        cycle_due = account["next_billing_date"] is not None and (
            account["next_billing_date"] <= run_date
        )
        if account["kind"] == Account.Kind.RESELLER and account_id in suspended_own:
            plan.held.append(account_id)  # on hold, off: the whole billing order waits
            continue
        charges = [c for c in waiting.get(account_id, []) if _eligible(c, account, run_date)]
        invoice_now = cycle_due or (account["kind"] != Account.Kind.RESELLER and charges)
        if account_id in taken:  # invoiced for this date already: what came since waits
            invoice_now = False
        if invoice_now and charges and account["issuer_id"] is not None:
            charges.sort(key=lambda c: _line_order(c, run_date))
            plan.invoices.append(planned_invoice(account, charges, run_date))
        if cycle_due:
            anchor = account["billing_anchor"] or account["next_billing_date"]
            plan.cycle_updates.append((account_id, _next_cycle_after(anchor, run_date)))
    _tax(plan)
    return plan


def _suspended_own(accounts: dict[int, dict]) -> set[int]:
    """Resellers, among `accounts`, whose class does not bill on hold and that hold a suspended
    subscription of their own, due or not: their whole billing order waits for the catch-up."""
    held = [
        pk
        for pk, row in accounts.items()
        if row["kind"] == Account.Kind.RESELLER and not row["on_hold"]
    ]
    if not held:
        return set()
    return set(
        Subscription.objects.filter(
            account_id__in=held, status=SubscriptionStatus.SUSPENDED
        ).values_list("account_id", flat=True)
    )


def _tax(plan: ChunkPlan) -> None:
    """Tax each planned invoice (billing.taxes). An engine that fails leaves that account's
    invoice out of the plan, with the failure recorded; its charges stay uninvoiced and its cycle
    stays due, so running the date again retries it."""
    from billing.taxes.calculator import TaxCalculator
    from billing.taxes.engines import TaxableLine, TaxEngineError

    if not plan.invoices:
        return
    calculator = TaxCalculator.for_issuers(
        {inv.issuer_id for inv in plan.invoices},
        plan.run_date,
        recipient_ids={inv.account_id for inv in plan.invoices},
    )
    kept = []
    failed: set[int] = set()
    for invoice in plan.invoices:
        request = calculator.request(
            issuer_id=invoice.issuer_id,
            recipient_id=invoice.account_id,
            currency=invoice.currency,
            document_key=f"{plan.key}:{invoice.account_id}",
            document_date=invoice.issue_date,
            lines=[
                TaxableLine(
                    key=str(i),
                    amount=c.amount,
                    tax_category=c.tax_category or "standard",
                    description=c.description,
                    quantity=c.quantity or Decimal(1),
                )
                for i, c in enumerate(invoice.charges)
            ],
        )
        try:
            results = {r.key: r for r in calculator.calculate(request)}
        except TaxEngineError as exc:
            plan.failures.append((invoice.account_id, f"Tax: {exc.message}"))
            failed.add(invoice.account_id)
            continue
        invoice.tax = [results[str(i)].amount for i in range(len(invoice.charges))]
        invoice.tax_rates = [results[str(i)].rate for i in range(len(invoice.charges))]
        kept.append(invoice)
    plan.invoices = kept
    plan.cycle_updates = [(a, d) for a, d in plan.cycle_updates if a not in failed]


# --- applying ------------------------------------------------------------------------------------


def _values_update(table: str, key: str, columns: Sequence[tuple[str, str]], rows: list[tuple]):
    """UPDATE table SET col = v.col ... FROM unnest(ids, col values ...) v WHERE table.key = v.id:
    one statement with one array per column on PostgreSQL, however many rows (typed by
    `columns`: (name, sql type)); one statement per row elsewhere (SQLite, the demo)."""
    if not rows:
        return
    names = [name for name, _ in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(["%s::bigint[]"] + [f"%s::{t}[]" for _, t in columns])
            sets = ", ".join(f"{n} = v.{n}" for n in names)
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(names)}) "  # noqa: S608
                f"WHERE {table}.{key} = v.id",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            sets = ", ".join(f"{n} = %s" for n in names)
            for row in rows:
                cursor.execute(
                    f"UPDATE {table} SET {sets} WHERE {key} = %s",  # noqa: S608
                    [*row[1:], row[0]],
                )


LINE_FIELDS = (
    "document_id",
    "position",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "tax_rate",
    "tax_amount",
    "period_start_date",
    "period_end_date",
)
CHARGE_FIELDS = (*CHARGE_COLUMNS, "status", "invoice_id", "created_at")


def _insert(model, fields: Sequence[str], rows: list[tuple]) -> None:
    """INSERT `rows` (values of `fields`, attnames) into `model`'s table: on PostgreSQL one
    statement with one array per column, building no model instances (bulk_create spent most of a
    chunk's Python time on them); elsewhere (SQLite, the demo) through bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=500
        )
        return
    found = [model._meta.get_field(name) for name in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in found)
    arrays = ", ".join("%s::" + re.sub(r"\(.*\)", "", f.db_type(connection)) + "[]" for f in found)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({columns}) SELECT * FROM unnest({arrays})",  # noqa: S608
            [list(column) for column in zip(*rows, strict=True)],
        )


def _ids_update(table: str, sets: str, ids: list[int], where: str = "", params=()) -> None:
    """UPDATE table SET `sets` for the rows whose id is in `ids`: one array parameter on
    PostgreSQL (not one parameter per id)."""
    if not ids:
        return
    if connection.vendor == "postgresql":
        match, values = "id = ANY(%s)", [list(ids)]
    else:  # SQLite (the demo): one parameter per id
        match, values = f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} WHERE {match}{where}",  # noqa: S608
            [*params, *values],
        )


def apply_billing_plan(
    plan: ChunkPlan, *, acting_user: User | None = None, run_id: int | None = None
) -> dict:
    """Write a plan inside the caller's transaction (which holds the plan's locks). Returns the
    chunk's figures."""
    now = timezone.now()
    sub_table = Subscription._meta.db_table
    _values_update(
        sub_table,
        "id",
        [
            ("billed_through", "date"),
            ("next_billing_date", "date"),
            ("status", "varchar"),
            ("quantity", "integer"),
        ],
        plan.subscription_updates,
    )
    renewed = [u[0] for u in plan.subscription_updates if u[4] is not None]
    # a decrease took effect with this renewal
    _ids_update(sub_table, "renewal_quantity = NULL", renewed, " AND renewal_quantity IS NOT NULL")
    cancelled = [u[0] for u in plan.subscription_updates if u[3] == SubscriptionStatus.CANCELLED]
    _ids_update(sub_table, "cancelled_at = %s", cancelled, " AND cancelled_at IS NULL", [now])
    # invoices, as drafts with their lines; issued below, once numbered
    documents = Document.objects.bulk_create(
        [
            Document(
                doc_type=DocumentType.INVOICE,
                issuer_id=inv.issuer_id,
                recipient_id=inv.account_id,
                currency=inv.currency,
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                subtotal=inv.subtotal,
                tax_total=inv.tax_total,
                total=inv.total,
                open_amount=inv.total,
                billing_key=plan.key,
                reference=plan.key,
                billing_run_id=run_id,
            )
            for inv in plan.invoices
        ]
    )
    for inv, document in zip(plan.invoices, documents, strict=True):
        inv.document_id = document.pk
    invoice_of: dict[int, int] = {}
    lines = []
    for inv in plan.invoices:
        for position, charge in enumerate(inv.charges, start=1):
            invoice_of[id(charge)] = inv.document_id
            lines.append(
                (
                    inv.document_id,
                    position,
                    charge.description,
                    charge.quantity if charge.quantity is not None else Decimal(1),
                    charge.unit_price if charge.unit_price is not None else charge.amount,
                    charge.amount,
                    inv.tax_rates[position - 1] if inv.tax_rates else ZERO,
                    inv.tax[position - 1] if inv.tax else ZERO,
                    charge.period_start,
                    charge.period_end,
                )
            )
    _insert(DocumentLine, LINE_FIELDS, lines)
    _insert(
        ResellerTransaction,
        CHARGE_FIELDS,
        [
            (
                *c.column_values(),
                INVOICED if id(c) in invoice_of else UNINVOICED,
                invoice_of.get(id(c)),
                now,
            )
            for c in plan.new_charges
        ],
    )
    existing = [
        (c.pk, INVOICED, inv.document_id)
        for inv in plan.invoices
        for c in inv.charges
        if c.pk is not None
    ]
    _values_update(
        ResellerTransaction._meta.db_table,
        "id",
        [("status", "varchar"), ("invoice_id", "bigint")],
        existing,
    )
    _balances_add(plan.invoices)
    _number_and_issue(plan.invoices, now)
    _values_update(
        Account._meta.db_table, "id", [("next_billing_date", "date")], plan.cycle_updates
    )
    audit_events(
        actor=acting_user,
        events=[
            ("document.issue", document, inv.account_id, {"total": str(inv.total), "run": plan.key})
            for inv, document in zip(plan.invoices, documents, strict=True)
        ],
    )
    _prepaid_settle(plan.invoices, acting_user)
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in plan.invoices:
        amounts[inv.currency] += inv.total
    return {
        "accounts": len(plan.account_ids),
        "accounts_invoiced": len({inv.account_id for inv in plan.invoices}),
        "invoices_issued": len(plan.invoices),
        "subscriptions_billed": plan.subscriptions_billed,
        "charges_invoiced": sum(len(inv.charges) for inv in plan.invoices),
        "amounts": {currency: str(total) for currency, total in amounts.items()},
        "failures": len(plan.failures),
    }


def _prepaid_settle(invoices: list[PlannedInvoice], acting_user: User | None) -> None:
    """A prepaid recipient's credit balance pays its new invoice at once (document_issue's rule),
    for the few that hold unallocated credit: found in one query, then applied one by one."""
    prepaid = {inv.account_id: inv.issuer_id for inv in invoices if inv.prepaid and inv.total > 0}
    if not prepaid:
        return
    holding = set(
        Document.objects.filter(recipient_id__in=list(prepaid), doc_type__in=CREDIT_TYPES)
        .open()
        .values_list("recipient_id", flat=True)
    )
    for recipient in Account.objects.filter(pk__in=holding).order_by("pk"):
        ledger._apply_credit_balance(
            issuer_id=prepaid[recipient.pk], recipient=recipient, acting_user=acting_user
        )


def _balances_add(invoices: list[PlannedInvoice]) -> None:
    """Raise each (issuer, recipient) pair's cached open debt: one upsert statement. The
    recipients' rows are locked by the chunk."""
    if not invoices:
        return
    pairs: dict[tuple[int, int], list] = {}
    for inv in invoices:
        pair = pairs.setdefault((inv.issuer_id, inv.account_id), [inv.currency, ZERO])
        pair[1] += inv.total
    table = Balance._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, 0, %s)"] * len(pairs))
    params = []
    now = timezone.now()
    for (issuer_id, recipient_id), (currency, total) in pairs.items():
        params += [issuer_id, recipient_id, currency, total, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (issuer_id, recipient_id, currency, open_debt, credit_balance, "  # noqa: S608
            f"updated_at) VALUES {values} ON CONFLICT (issuer_id, recipient_id) DO UPDATE SET "
            f"open_debt = {table}.open_debt + EXCLUDED.open_debt, updated_at = EXCLUDED.updated_at",
            params,
        )


def _number_and_issue(invoices: list[PlannedInvoice], now) -> None:
    """Last in the chunk: one block of numbers per issuer, then every draft issued at once."""
    by_issuer: dict[int, list[PlannedInvoice]] = defaultdict(list)
    for inv in invoices:
        by_issuer[inv.issuer_id].append(inv)
    rows = []
    for issuer_id in sorted(by_issuer):
        batch = by_issuer[issuer_id]
        first = ledger.numbers_allocate(
            issuer_id=issuer_id, doc_type=DocumentType.INVOICE, count=len(batch)
        )
        for offset, inv in enumerate(batch):
            status = DocumentStatus.ISSUED if inv.total > 0 else DocumentStatus.PAID
            rows.append(
                (inv.document_id, status, first + offset, now, now if inv.total == 0 else None)
            )
    _values_update(
        Document._meta.db_table,
        "id",
        [
            ("status", "varchar"),
            ("number", "bigint"),
            ("issued_at", "timestamptz"),
            ("settled_at", "timestamptz"),
        ],
        rows,
    )


# --- runs ----------------------------------------------------------------------------------------


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
    `first`."""
    from celery import group

    from billing.tasks import billing_run_chunk

    group(
        billing_run_chunk.si(run_id, number, ids) for number, ids in enumerate(chunks, start=first)
    ).apply_async()


def _close(run: BillingRun) -> None:
    chunks = list(run.chunks.all())
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for chunk in chunks:
        for currency, total in chunk.amounts.items():
            amounts[currency] += Decimal(total)
    run.accounts_invoiced = sum(c.accounts_invoiced for c in chunks)
    run.invoices_issued = sum(c.invoices_issued for c in chunks)
    run.subscriptions_billed = sum(c.subscriptions_billed for c in chunks)
    run.charges_invoiced = sum(c.charges_invoiced for c in chunks)
    run.amounts = {currency: str(total) for currency, total in sorted(amounts.items())}
    run.failures_count = run.failures.count()
    run.status = BillingRun.Status.FAILED if run.failures_count else BillingRun.Status.COMPLETED
    run.finished_at = timezone.now()
    run.save()


PLANNERS: dict[str, Callable] = {BillingRun.Kind.BILLING: plan_billing_chunk}
APPLIERS: dict[str, Callable] = {BillingRun.Kind.BILLING: apply_billing_plan}


def _kinds() -> dict[str, Callable]:
    """The planners by run kind; billing.daily registers the daily run's on import."""
    import billing.daily  # noqa: F401

    return PLANNERS


def _due(kind: str, run_date: datetime.date, among: Sequence[int] | None = None) -> list[int]:
    if kind == BillingRun.Kind.BILLING:
        return due_account_ids(run_date=run_date, among=among)
    from billing.daily import due_reseller_ids

    due = due_reseller_ids(run_date=run_date)
    return due if among is None else [a for a in due if a in set(among)]


def chunk_process(*, run_id: int, number: int, account_ids: Sequence[int]) -> dict | None:
    """Bill one chunk of a run in one transaction. Safe to deliver twice (a chunk that reported
    does nothing) and to kill midway (the transaction rolls back; a run for the date again, or
    the redelivered task, bills it). An unexpected error is recorded as the chunk's failure."""
    run = BillingRun.objects.get(pk=run_id)
    _kinds()
    if BillingRunChunk.objects.filter(run_id=run_id, number=number).exists():
        return None
    try:
        with transaction.atomic():
            plan = PLANNERS[run.kind](account_ids=account_ids, run_date=run.run_date, lock=True)
            figures = APPLIERS[run.kind](plan, acting_user=run.started_by, run_id=run.pk)
            _record_chunk(run_id, number, figures, plan.failures)
            return figures
    except Exception as exc:
        if BillingRunChunk.objects.filter(run_id=run_id, number=number).exists():
            raise
        logger.exception("billing run %s chunk %s failed", run_id, number)
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
    if kind not in _kinds():
        raise RunError(f"Unknown run kind {kind!r}.", field="kind")
    if run_date > timezone.localdate():
        raise RunError(
            f"{run_date} is in the future: a run bills every period up to its date. "
            "A dry run may look ahead.",
            field="run_date",
        )
    if chunk_size < 1:
        raise RunError("The chunk size must be at least 1.", field="chunk_size")
    if kind == BillingRun.Kind.BILLING:
        # Trials that ended convert first, each through its order's credit check (seed 004);
        # what they charge waits for this run like any order's first period.
        trials_convert_due(run_date=run_date, account_ids=account_ids, acting_user=acting_user)
    due = _due(kind, run_date, account_ids)
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
    if kind not in _kinds():
        raise RunError(f"Unknown run kind {kind!r}.", field="kind")
    weights = account_weights(run_date=run_date)
    first, second = (
        chunked(ids, chunk_size, weights) for ids in phases(kind, _due(kind, run_date))
    )
    plans = []
    pending: dict[int, list[Charge]] = defaultdict(list)  # what the first phase would write
    with transaction.atomic():
        for ids in first:
            plan = PLANNERS[kind](account_ids=ids, run_date=run_date, lock=False)
            planned = set(plan.account_ids)
            for charge in plan.new_charges:
                if charge.account_id not in planned:
                    pending[charge.account_id].append(charge)
            plans.append(plan)
        for ids in second:
            plans.append(
                PLANNERS[kind](account_ids=ids, run_date=run_date, lock=False, pending=pending)
            )
        transaction.set_rollback(True)  # belt and braces: planning writes nothing anyway
    return plans


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

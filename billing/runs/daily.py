"""The daily invoicing run (seed 000; DESIGN.md "Subscriptions and billing runs").

Once a day, for run date D, each reseller is invoiced for its waiting order charges dated on or
before D, as its Daily Invoicing mode says:

- every prepaid order's charge (one with an active PaymentAllocation: an order fully covered by
  one payment). Under `prepaid_only` these are only its customers' orders, since its own direct
  purchases cannot be prepaid then (orders.services._may_prepay); under `all` both. A prepaid
  order accepted under a mode that was later changed is still invoiced here: its payment waits
  for it.
- under `all`, also every other order charge of the reseller and of its customers.
- `disabled`: nothing else.

Renewals and usage (charges of kind recurring/usage) are never invoiced daily: they wait for
the billing order. One live daily invoice per (reseller, D) (key "daily:D"); each prepaid
order's payment is applied to it for the allocated amount, and the allocation closes. The
charges a daily invoice carries are marked invoiced, so no billing order carries them again.
It runs in the same chunks, transactions, records and idempotency as the billing-date run
(billing.runs.orchestration.KINDS).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db.models import Q

from billing import ledger
from billing.models import Document, PaymentAllocation, ResellerTransaction
from billing.runs.plans import ChunkPlan, planned_invoice
from billing.runs.reading import _account_rows, _keys_taken
from billing.runs.reading import _waiting_charges as waiting_charges
from billing.runs.taxing import _tax
from billing.runs.writing import apply_billing_plan
from resellers.models import Account, User

ORDER = ResellerTransaction.Kind.ORDER
UNINVOICED = ResellerTransaction.Status.UNINVOICED


def _qualifying(run_date: datetime.date) -> Q:
    prepaid = Q(prepaid_by__status=PaymentAllocation.Status.ACTIVE)
    everything = Q(account__daily_invoicing=Account.DailyInvoicing.ALL)
    return Q(status=UNINVOICED, kind=ORDER, charge_date__lte=run_date) & (prepaid | everything)


def due_reseller_ids(*, run_date: datetime.date, among: Sequence[int] | None = None) -> list[int]:
    """Accounts with order charges the daily run for `run_date` invoices (of `among`, when
    given), by issuer then id."""
    ids = set(
        ResellerTransaction.objects.filter(_qualifying(run_date))
        .values_list("account_id", flat=True)
        .distinct()
    )
    due = list(
        Account.objects.filter(pk__in=ids).order_by("issuer_id", "pk").values_list("pk", flat=True)
    )
    if among is None:
        return due
    wanted = set(among)
    return [a for a in due if a in wanted]


def plan_daily_chunk(
    *, account_ids: Sequence[int], run_date: datetime.date, lock: bool
) -> ChunkPlan:
    plan = ChunkPlan(run_date=run_date, key=f"daily:{run_date.isoformat()}", account_ids=[])
    accounts = _account_rows(account_ids, lock)
    plan.account_ids = list(accounts)
    wanted = set(
        ResellerTransaction.objects.filter(
            _qualifying(run_date), account_id__in=list(accounts)
        ).values_list("pk", flat=True)
    )
    taken = _keys_taken(list(accounts), plan.key)  # invoiced for D already: the rest waits
    for account_id, charges in waiting_charges(list(accounts), prepaid=True).items():
        account = accounts[account_id]
        mine = [c for c in charges if c.pk in wanted]
        if not mine or account_id in taken or account["issuer_id"] is None:
            continue
        plan.invoices.append(planned_invoice(account, mine, run_date))
    _tax(plan)
    return plan


def apply_daily_plan(
    plan: ChunkPlan, *, acting_user: User | None = None, run_id: int | None = None
) -> dict:
    """The billing run's writes, then each prepaid order's payment applied to the invoice that
    carries its charges."""
    figures = apply_billing_plan(plan, acting_user=acting_user, run_id=run_id)
    invoice_of = {c.pk: inv.document_id for inv in plan.invoices for c in inv.charges}
    prepaid = dict(
        ResellerTransaction.objects.filter(
            pk__in=list(invoice_of), prepaid_by__status=PaymentAllocation.Status.ACTIVE
        ).values_list("prepaid_by_id", "pk")
    )  # allocation -> one of its charges (an order's charges share their reseller's invoice)
    invoices = Document.objects.in_bulk([i.document_id for i in plan.invoices])
    allocations = PaymentAllocation.objects.select_related("payment").filter(pk__in=list(prepaid))
    for allocation in allocations.order_by("pk"):
        invoice = invoices[invoice_of[prepaid[allocation.pk]]]
        ledger.prepayment_settle(allocation=allocation, invoice=invoice, acting_user=acting_user)
    return figures

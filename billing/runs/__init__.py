"""The billing runs: the billing-date run and the daily invoicing run.

They sit on top of the ledger and the orders: they read subscriptions and usage, write charges,
documents and balances. Cycles: each account has a monthly billing cycle anchored on its first
charge or subscription (`Account.billing_anchor`); `Account.next_billing_date` is its next cycle
date. Subscriptions co-term with their holder's cycle (orders.services._deliver prorates a
mid-cycle start up to it).

The modules, from the bottom up (each imports only those above it):

- plans: what a chunk plans (Charge, PlannedInvoice, ChunkPlan) and the statuses it bills.
- planning: which accounts a date concerns, the two phases, the chunks and their weights.
- reading: what a chunk reads (and locks): accounts, due subscriptions, usage, waiting charges.
- on_hold: which charges of suspended subscriptions wait (seed 001 §3).
- taxing: taxing the planned invoices (billing.taxes).
- rating: the billing-date run's planner: rating subscriptions, choosing each invoice's charges.
- writing: applying a plan in bulk: invoices, lines, charges, balances, numbers.
- daily: the daily invoicing run's planner and applier.
- orchestration: the runs themselves: KINDS, chunks through Celery, reports, the dry run.
- reports, command: what the panel, the API and the management commands read and share.

What callers use is re-exported here; callers import the package, not its modules.
"""

from billing.runs.daily import apply_daily_plan, due_reseller_ids, plan_daily_chunk
from billing.runs.orchestration import (
    CHUNK_TASK,
    KINDS,
    RunError,
    RunKind,
    account_bill_now,
    chunk_process,
    parse_run_date,
    run_date_check,
    run_preview,
    run_start,
    runs_visible,
)
from billing.runs.planning import (
    CHUNK_SIZE,
    CHUNK_WEIGHT,
    account_weights,
    chunked,
    due_account_ids,
    phases,
)
from billing.runs.plans import (
    BILLABLE,
    CHARGE_COLUMNS,
    Charge,
    ChunkPlan,
    PlannedInvoice,
    planned_invoice,
)
from billing.runs.rating import plan_billing_chunk
from billing.runs.reactivation import CatchUpFailed, subscription_reactivate
from billing.runs.reading import _waiting_charges
from billing.runs.reports import (
    STALLED_AFTER,
    PreviewFailure,
    PreviewLine,
    RunPreview,
    billing_run_documents,
    billing_run_get,
    billing_run_preview,
    billing_runs_list,
    preview_lines,
    run_stalled,
)
from billing.runs.writing import apply_billing_plan

__all__ = [
    "BILLABLE",
    "CHARGE_COLUMNS",
    "CHUNK_SIZE",
    "CHUNK_TASK",
    "CHUNK_WEIGHT",
    "KINDS",
    "STALLED_AFTER",
    "CatchUpFailed",
    "Charge",
    "ChunkPlan",
    "PlannedInvoice",
    "PreviewFailure",
    "PreviewLine",
    "RunError",
    "RunKind",
    "RunPreview",
    "_waiting_charges",
    "account_bill_now",
    "account_weights",
    "apply_billing_plan",
    "apply_daily_plan",
    "billing_run_documents",
    "billing_run_get",
    "billing_run_preview",
    "billing_runs_list",
    "chunk_process",
    "chunked",
    "due_account_ids",
    "due_reseller_ids",
    "parse_run_date",
    "phases",
    "plan_billing_chunk",
    "plan_daily_chunk",
    "planned_invoice",
    "preview_lines",
    "run_date_check",
    "run_preview",
    "run_stalled",
    "run_start",
    "runs_visible",
    "subscription_reactivate",
]

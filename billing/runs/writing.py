"""Applying a chunk's plan inside the chunk's transaction: subscription updates, invoices with
their lines, charges, balances, numbers, in a few bulk statements (one array per column on
PostgreSQL), whatever the chunk's size."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from billing import ledger, webhooks
from billing.models import (
    CREDIT_TYPES,
    Balance,
    Document,
    DocumentLine,
    DocumentType,
    ResellerTransaction,
)
from billing.money import ZERO
from billing.runs.plans import CHARGE_COLUMNS, INVOICED, UNINVOICED, ChunkPlan, PlannedInvoice
from orders.models import Subscription, SubscriptionStatus
from resellers.models import Account, User
from resellers.services import audit_events


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
    # document_issue's signal, for the invoices issued in bulk: their webhooks (billing.webhooks)
    webhooks.webhook_emit_documents_issued(document_ids=[inv.document_id for inv in plan.invoices])
    _prepaid_settle(plan.invoices, acting_user)
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in plan.invoices:
        amounts[inv.currency] += inv.total
    return {
        "accounts": len(plan.account_ids),
        "accounts_invoiced": len({inv.account_id for inv in plan.invoices}),
        "invoices_issued": len(plan.invoices),
        "subscriptions_billed": plan.subscriptions_invoiced,
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
        ledger.credit_balance_apply_locked(
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
            status = ledger.settled_status(doc_type=DocumentType.INVOICE, open_amount=inv.total)
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

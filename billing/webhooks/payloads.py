"""The `data` of each event the ledger and the runs send, built from their rows, and the one
rule that makes any data JSON: amounts (Decimal) as strings with their digits, dates and times
in ISO 8601 (Django's JSON encoder)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from billing.models import BillingRun, Document
from resellers.models import Account


def jsonable(data: dict) -> dict:
    """`data` as JSON would carry it: Decimal "12.50", dates "2026-03-01", UUIDs as text.
    Anything JSON cannot carry is a TypeError, raised to the caller at once."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def account_ref(account: Account | None) -> dict | None:
    if account is None:
        return None
    return {"id": account.pk, "name": account.name, "kind": account.kind}


def document_data(document: Document) -> dict:
    """A document as `document.issued` and `document.paid` carry it."""
    return {
        "id": document.pk,
        "number": document.display_number,
        "type": document.doc_type,
        "status": document.status,
        "issuer": account_ref(document.issuer),
        "recipient": account_ref(document.recipient),
        "currency": document.currency,
        "subtotal": document.subtotal,
        "tax_total": document.tax_total,
        "total": document.total,
        "open_amount": document.open_amount,
        "issue_date": document.issue_date,
        "due_date": document.due_date,
        "issued_at": document.issued_at,
        "settled_at": document.settled_at,
        "billing_run_id": document.billing_run_id,
    }


def billing_run_data(run: BillingRun) -> dict:
    """A finished run as `billing_run.finished` carries it: its figures, as the API's
    `billing-runs/` shows them."""
    return {
        "id": run.pk,
        "kind": run.kind,
        "run_date": run.run_date,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "accounts_total": run.accounts_total,
        "accounts_invoiced": run.accounts_invoiced,
        "invoices_issued": run.invoices_issued,
        "subscriptions_billed": run.subscriptions_billed,
        "charges_invoiced": run.charges_invoiced,
        "amounts": run.amounts,
        "failures_count": run.failures_count,
    }

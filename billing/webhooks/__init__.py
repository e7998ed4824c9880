"""Webhooks (issue 13, item 7): provider staff register HTTPS endpoints for events; each event
is written as one delivery per subscribed endpoint in the transaction of what happened, and
sent, signed and timestamped, by a Celery task once it commits, with retries and backoff.

Events (WebhookEvent; the names are a contract) and who emits them:
- `order.completed`: an order reached completed (orders: the validation chain's execution, a
  parent order whose sub-orders are all done, and the orders made completed: quantity changes,
  cancellations, corrections). data: {"order": {...}}.
- `document.issued`: the ledger's `document_issued` signal (billing.webhooks.receivers), and
  the billing runs for the invoices they issue in bulk. data: {"document": {...}}.
- `document.paid`: the ledger's `document_paid` signal: an invoice or debit memo fully paid.
- `account.credit_hold`, `account.reactivated`: the dunning job, through `webhook_emit`.
- `billing_run.finished`: a billing or daily invoicing run closed (billing.runs).
  data: {"billing_run": {...}}.
Every event about an account carries "account": {"id", "name", "kind"} in its data.

Modules, lowest first (each imports only those above it):
  signing    the body, the headers, the HMAC-SHA256 signature and its check
  payloads   the data of the ledger's and the runs' events; JSON for any data
  endpoints  the URL and event rules; create, update, deactivate, rotate the secret
  delivery   one attempt (the task's work), backoff, send again, requeue lost ones
  emitting   webhook_emit and its bulk and document forms
  receivers  the ledger's signals as webhooks
  selectors  reads for the panel and the API

This package sits with the ledger: it imports `resellers` and the ledger's modules only
(pyproject.toml's import contracts), so the ledger's listeners, `orders`, the billing runs and
the dunning job may all call it. The task is sent by its name (WEBHOOK_TASK).

Settings: WEBHOOK_MAX_ATTEMPTS, WEBHOOK_BACKOFF_SECONDS, WEBHOOK_BACKOFF_MAX_SECONDS,
WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_REQUEUE_AFTER_SECONDS, WEBHOOK_QUEUE (config/settings/base.py).
"""

from billing.webhooks import receivers as _receivers  # noqa: F401  (connects the signals)
from billing.webhooks.delivery import (
    WEBHOOK_TASK,
    AttemptOutcome,
    webhook_backoff,
    webhook_deliver,
    webhook_delivery_resend,
    webhook_queue,
    webhook_requeue_due,
)
from billing.webhooks.emitting import (
    webhook_emit,
    webhook_emit_document,
    webhook_emit_documents_issued,
    webhook_endpoints_subscribed,
)
from billing.webhooks.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_update,
    webhook_events_check,
    webhook_secret_new,
    webhook_secret_rotate,
    webhook_url_check,
)
from billing.webhooks.payloads import account_ref, billing_run_data, document_data, jsonable
from billing.webhooks.selectors import (
    webhook_attempts,
    webhook_deliveries,
    webhook_delivery_get,
    webhook_endpoint_get,
    webhook_endpoints_visible,
)
from billing.webhooks.signing import (
    HEADER_ATTEMPT,
    HEADER_EVENT,
    HEADER_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    webhook_body,
    webhook_headers,
    webhook_signature,
    webhook_signature_verify,
)

__all__ = [
    "HEADER_ATTEMPT",
    "HEADER_EVENT",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "WEBHOOK_TASK",
    "AttemptOutcome",
    "account_ref",
    "billing_run_data",
    "document_data",
    "jsonable",
    "webhook_attempts",
    "webhook_backoff",
    "webhook_body",
    "webhook_deliver",
    "webhook_deliveries",
    "webhook_delivery_get",
    "webhook_delivery_resend",
    "webhook_emit",
    "webhook_emit_document",
    "webhook_emit_documents_issued",
    "webhook_endpoint_create",
    "webhook_endpoint_deactivate",
    "webhook_endpoint_get",
    "webhook_endpoint_update",
    "webhook_endpoints_subscribed",
    "webhook_endpoints_visible",
    "webhook_events_check",
    "webhook_headers",
    "webhook_queue",
    "webhook_requeue_due",
    "webhook_secret_new",
    "webhook_secret_rotate",
    "webhook_signature",
    "webhook_signature_verify",
    "webhook_url_check",
]

"""The ledger's signals (billing.ledger.events) as webhooks: `document.issued` and
`document.paid`, written in the ledger's transaction like any emit."""

from __future__ import annotations

from django.dispatch import receiver

from billing.ledger.events import document_issued, document_paid
from billing.models import WebhookEvent
from billing.webhooks.emitting import webhook_emit_document


@receiver(document_issued, dispatch_uid="billing.webhooks.document_issued")
def _document_issued(sender, document, **kwargs) -> None:
    webhook_emit_document(event=WebhookEvent.DOCUMENT_ISSUED, document=document)


@receiver(document_paid, dispatch_uid="billing.webhooks.document_paid")
def _document_paid(sender, document, **kwargs) -> None:
    webhook_emit_document(event=WebhookEvent.DOCUMENT_PAID, document=document)

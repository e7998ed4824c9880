"""Receipts (issue 13, item 6): every payment document, once its transaction commits, is emailed
to its account (the bill-to contact, else the primary one, else the first) with its PDF, the
same sheet as the panel's (`billing.documents_pdf`), by the Celery task
`billing.tasks.send_receipt`, which listens for the ledger's `document_issued`.

Sent once: a `DocumentEmail` row per payment claims the sending, so the task run twice, retried
or run by two workers sends one email; a worker that dies before marking it sent leaves the row
unsent and the retry sends it (an email may then go twice, never not at all). No contact with an
address: nothing is sent, and the row says so (`to` empty, sent).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.document_layout import document_layout
from billing.documents_pdf import CONTENT_TYPE, document_pdf
from billing.models import Document, DocumentEmail
from resellers.selectors import billing_email

logger = logging.getLogger(__name__)


def receipt_address(document: Document) -> str:
    """The recipient's billing email (`resellers.selectors.billing_email`)."""
    return billing_email(account_id=document.recipient_id)


def receipt_send(*, payment_id: int) -> str:
    """Email the payment's receipt with its PDF, once. Returns what it did: "sent", "already
    sent", "no address"."""
    payment = Document.objects.select_related("issuer", "recipient").get(pk=payment_id)
    with transaction.atomic():
        row, _ = DocumentEmail.objects.get_or_create(
            document=payment, kind=DocumentEmail.Kind.RECEIPT
        )
        row = DocumentEmail.objects.select_for_update().get(pk=row.pk)
        if row.sent_at is not None:
            return "already sent"
        to = receipt_address(payment)
        if not to:
            row.sent_at = timezone.now()
            row.save(update_fields=["sent_at"])
            return "no address"
        layout = document_layout(
            document=payment,
            lines=payment.lines.all(),
            bill_to=None,
            provider_view=False,
            as_of=timezone.localdate(),
        )
        context = {"payment": payment, "layout": layout}
        subject = f"Receipt {payment.display_number} from {payment.issuer.name}"
        message = EmailMultiAlternatives(
            subject,
            render_to_string("billing/receipt_email.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [to],
        )
        message.attach_alternative(
            render_to_string("billing/receipt_email.html", context), "text/html"
        )
        message.attach(f"{payment.display_number}.pdf", document_pdf(layout=layout), CONTENT_TYPE)
        message.send(fail_silently=False)
        row.to = to
        row.sent_at = timezone.now()
        row.save(update_fields=["to", "sent_at"])
    logger.info("receipt of %s sent to %s", payment.display_number, to)
    return "sent"

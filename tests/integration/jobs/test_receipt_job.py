"""A payment's receipt sent by a real Celery worker on Redis, against committed data."""

import datetime

import pytest
from django.core import mail

from billing.tasks import send_receipt
from resellers import services as accounts
from tests import factories as f

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_sends_the_receipt_once(worker_queue):
    alpha = f.reseller(parent=f.provider(), name="Alpha Reseller")
    accounts.contact_create(account=alpha, name="Ann", email="ann@alpha.example", is_primary=True)
    payment = f.payment(alpha, "25.00", datetime.date(2026, 3, 2))
    mail.outbox.clear()  # the commit queued it on the default queue, which no worker reads here

    for _ in range(2):
        outcome = send_receipt.apply_async(args=[payment.pk], queue=worker_queue).get(timeout=60)

    assert outcome == "already sent"
    [sent] = mail.outbox
    assert sent.to == ["ann@alpha.example"] and sent.attachments[0][2] == "application/pdf"

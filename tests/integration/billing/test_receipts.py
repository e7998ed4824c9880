"""Receipts (issue 13, item 6): a payment issued queues its receipt once its transaction commits;
the receipt goes to the account's bill-to contact with the payment's PDF, once however often the
job runs; no address, no email. An invoice sends nothing."""

import datetime

import pytest
from django.core import mail

from billing.models import DocumentEmail
from billing.receipts import receipt_send
from config.celery import app as celery_app
from resellers import services as accounts
from tests import factories as f

DAY = datetime.date(2026, 3, 2)
pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(reseller_a):
    accounts.contact_create(account=reseller_a, name="Ann Alpha", email="ann@alpha.example")
    accounts.contact_create(
        account=reseller_a, name="Bill Alpha", email="billing@alpha.example", is_bill_to=True
    )
    return reseller_a


@pytest.fixture
def eager():
    """Tasks run in the test (as on the embedded default, without a broker)."""
    saved = celery_app.conf["task_always_eager"]
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def test_a_payment_sends_its_receipt_with_the_pdf_once_committed(
    alpha, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as issued_invoice:
        f.invoice(alpha, "100.00", DAY)
    assert issued_invoice == []  # an invoice sends nothing

    with django_capture_on_commit_callbacks(execute=False) as queued:
        payment = f.payment(alpha, "60.00", DAY)
    assert len(queued) == 1 and mail.outbox == []  # nothing before the commit
    queued[0]()

    [sent] = mail.outbox
    assert sent.to == ["billing@alpha.example"]  # the bill-to contact
    assert sent.subject == f"Receipt {payment.display_number} from Cloud Distributor"
    assert "60.00 USD" in sent.body
    [(name, content, mimetype)] = sent.attachments
    assert (name, mimetype) == (f"{payment.display_number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    assert sent.alternatives and "Receipt" in sent.alternatives[0][0]
    row = DocumentEmail.objects.get(document=payment)
    assert (row.kind, row.to) == ("receipt", "billing@alpha.example") and row.sent_at


def test_the_job_run_again_sends_nothing_twice(alpha):
    payment = f.payment(alpha, "10.00", DAY)
    assert receipt_send(payment_id=payment.pk) == "sent"
    assert receipt_send(payment_id=payment.pk) == "already sent"
    assert len(mail.outbox) == 1


def test_no_address_no_email(reseller_b):
    payment = f.payment(reseller_b, "10.00", DAY)
    assert receipt_send(payment_id=payment.pk) == "no address"
    assert mail.outbox == [] and DocumentEmail.objects.get(document=payment).sent_at

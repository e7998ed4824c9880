"""Issued documents are immutable at the database: the triggers refuse what the services refuse."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from billing import ledger
from billing.models import Application, Document, DocumentLine, DocumentStatus
from tests import factories as f

DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def inv(reseller_a):
    return f.invoice(reseller_a, "80.00", DAY)


@pytest.mark.parametrize(
    "change",
    [
        {"total": D("1.00")},
        {"issue_date": DAY + datetime.timedelta(days=1)},
        {"number": 99},
        {"status": "draft"},
        {"memo": "edited"},
    ],
)
def test_orm_update_of_an_issued_document_is_refused(inv, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=inv.pk).update(**change)
    assert Document.objects.get(pk=inv.pk).total == D("80.00")


def test_issued_document_cannot_be_deleted(inv):
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=inv.pk).delete()
    assert Document.objects.filter(pk=inv.pk).exists()


def test_lines_of_an_issued_document_cannot_change(inv):
    line = inv.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLine.objects.filter(pk=line.pk).update(amount=D("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLine.objects.create(document=inv, description="sneaky", unit_price=1, amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentLine.objects.filter(pk=line.pk).delete()
    assert inv.lines.count() == 1


def test_cancelled_document_never_comes_back(inv, provider_user):
    ledger.document_cancel(document=inv, acting_user=provider_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.filter(pk=inv.pk).update(status=DocumentStatus.ISSUED)


def test_status_and_open_amount_may_move(inv):
    """What the guard allows is exactly what applications need."""
    Document.objects.filter(pk=inv.pk).update(open_amount=D("0"), status=DocumentStatus.PAID)
    assert Document.objects.get(pk=inv.pk).status == DocumentStatus.PAID


def test_drafts_are_editable(reseller_a):
    draft = ledger.document_create(
        doc_type="invoice",
        issuer=reseller_a.issuer,
        recipient=reseller_a,
        lines=[ledger.LineSpec(description="x", unit_price=D("5"))],
    )
    Document.objects.filter(pk=draft.pk).update(memo="fine")
    DocumentLine.objects.filter(document=draft).delete()
    Document.objects.filter(pk=draft.pk).delete()


def test_applications_are_never_deleted(reseller_a, provider_user):
    inv = f.invoice(reseller_a, "10.00", DAY)
    pay = f.payment(reseller_a, "10.00", DAY)
    app = ledger.application_create(
        credit_document=pay, debit_document=inv, amount=D("10.00"), acting_user=provider_user
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=app.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=app.pk).update(amount=D("5.00"))

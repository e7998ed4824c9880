"""Real threads on PostgreSQL, released together by a barrier."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import transaction

from billing import ledger, selectors
from billing.models import CreditReservation, Document
from tests import factories as f
from tests.threads import run_together

DAY = datetime.date(2026, 4, 1)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issuers_get_gap_free_numbers():
    provider = f.provider()
    r1, r2 = f.reseller(parent=provider), f.reseller(parent=provider)
    drafts = [
        ledger.document_create(
            doc_type="invoice",
            issuer=provider,
            recipient=(r1, r2)[i % 2],
            lines=[ledger.LineSpec(description="x", unit_price=D("10"))],
        )
        for i in range(8)
    ]

    results, errors = run_together(
        8, lambda i: ledger.document_issue(document=drafts[i], issue_date=DAY).number
    )

    assert errors == []
    assert sorted(results) == list(range(1, 9))
    assert selectors.balance_mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_issue_gives_its_number_back():
    provider = f.provider()
    r = f.reseller(parent=provider)
    first = f.invoice(r, "1.00", DAY)
    draft = ledger.document_create(
        doc_type="invoice",
        issuer=provider,
        recipient=r,
        lines=[ledger.LineSpec(description="x", unit_price=D("1"))],
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        ledger.document_issue(document=draft, issue_date=DAY)
        raise RuntimeError("crash after numbering")
    again = ledger.document_issue(document=Document.objects.get(pk=draft.pk), issue_date=DAY)
    assert (first.number, again.number) == (1, 2)


@pytest.mark.django_db(transaction=True)
def test_block_allocation_takes_consecutive_numbers():
    provider = f.provider()
    with transaction.atomic():
        a = ledger.numbers_allocate(issuer_id=provider.pk, doc_type="invoice", count=50)
        b = ledger.numbers_allocate(issuer_id=provider.pk, doc_type="invoice", count=1)
    assert (a, b) == (1, 51)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_exceed_available_credit():
    r = f.reseller(credit_limit=D("1000.00"))
    f.invoice(r, "400.00", DAY)  # available: 600

    def reserve(i):
        return ledger.credit_reserve(account=r, amount=D("100.00"), reference=f"order:{i}")

    results, errors = run_together(10, reserve)

    made = [x for x in results if x is not None]
    assert len(made) == 6
    assert len(errors) == 4 and all(isinstance(e, ledger.InsufficientCredit) for e in errors)
    reserved = sum(c.amount for c in CreditReservation.objects.filter(account=r, status="active"))
    assert reserved == D("600.00")
    assert selectors.account_financials(account=r).available_credit == D("0.00")


@pytest.mark.django_db(transaction=True)
def test_release_and_consume_reservations():
    r = f.reseller(credit_limit=D("500.00"))
    res1 = ledger.credit_reserve(account=r, amount=D("200.00"), reference="order:1")
    res2 = ledger.credit_reserve(account=r, amount=D("100.00"), reference="order:2")
    ledger.credit_reservation_release(reservation=res1)
    ledger.credit_reservation_release(reservation=res1)  # twice changes nothing
    ledger.reseller_transaction_record(
        account=r, amount=D("100.00"), description="order 2", reservation=res2
    )
    fin = selectors.account_financials(account=r)
    assert (fin.reserved, fin.uninvoiced, fin.available_credit) == (
        D("0"),
        D("100.00"),
        D("400.00"),
    )

"""Balances, credit balance, applications and document life cycle, against hand-computed figures."""

import datetime
from decimal import Decimal as D

import pytest

from billing import ledger, selectors
from billing.models import Application, Document, DocumentStatus, DocumentType
from resellers.exceptions import ApplicationError, PermissionDenied
from tests import factories as f

JAN1 = datetime.date(2026, 1, 1)
JAN15 = datetime.date(2026, 1, 15)
JAN20 = datetime.date(2026, 1, 20)
FEB1 = datetime.date(2026, 2, 1)


def reload(doc: Document) -> Document:
    return Document.objects.get(pk=doc.pk)


@pytest.fixture
def books(reseller_a, provider_user):
    """Two invoices, a debit memo, a credit memo and a payment for a 30-day net-terms reseller."""
    r = reseller_a
    inv1 = f.invoice(r, "100.00", JAN1)
    inv2 = f.invoice(r, "250.50", JAN15)
    dm = f.issued(DocumentType.DEBIT_MEMO, recipient=r, amount="20.00", issue_date=JAN20)
    cm = f.credit_memo(r, "30.00", JAN20)
    pay = f.payment(r, "150.00", FEB1)
    return {
        "r": r,
        "inv1": inv1,
        "inv2": inv2,
        "dm": dm,
        "cm": cm,
        "pay": pay,
        "staff": provider_user,
    }


def test_issued_documents_get_totals_due_dates_and_numbers(books):
    inv1, inv2, dm = books["inv1"], books["inv2"], books["dm"]
    assert (inv1.number, inv2.number, dm.number) == (1, 2, 1)  # per (issuer, type)
    assert inv1.display_number == "INV-000001"
    assert inv2.total == D("250.50") and inv2.open_amount == D("250.50")
    assert inv1.due_date == datetime.date(2026, 1, 31)  # 30-day terms
    assert books["pay"].status == DocumentStatus.ISSUED  # net terms: not applied automatically


def test_figures_before_any_application(books):
    fin = selectors.account_financials(account=books["r"])
    assert fin.open_debt == D("370.50")  # 100 + 250.50 + 20
    assert fin.credit_balance == D("180.00")  # 30 + 150
    assert fin.balance == D("-190.50")
    assert fin.available_credit == D("629.50")  # 1000 - 370.50


def test_partial_applications_move_open_amounts_and_balances(books):
    staff = books["staff"]
    ledger.application_create(
        credit_document=books["pay"],
        debit_document=books["inv1"],
        amount=D("100.00"),
        acting_user=staff,
    )
    ledger.application_create(
        credit_document=books["pay"],
        debit_document=books["inv2"],
        amount=D("50.00"),
        acting_user=staff,
    )
    ledger.application_create(
        credit_document=books["cm"],
        debit_document=books["dm"],
        amount=D("10.00"),
        acting_user=staff,
    )

    inv1, inv2, dm = reload(books["inv1"]), reload(books["inv2"]), reload(books["dm"])
    cm, pay = reload(books["cm"]), reload(books["pay"])
    assert (inv1.open_amount, inv1.status) == (D("0.00"), DocumentStatus.PAID)
    assert (inv2.open_amount, inv2.status) == (D("200.50"), DocumentStatus.ISSUED)
    assert (dm.open_amount, cm.open_amount) == (D("10.00"), D("20.00"))
    assert (pay.open_amount, pay.status) == (D("0.00"), DocumentStatus.CLOSED)

    fin = selectors.account_financials(account=books["r"])
    assert fin.open_debt == D("210.50")
    assert fin.credit_balance == D("20.00")
    assert fin.balance == D("-190.50")  # applying moves nothing between credits and debits
    assert fin.available_credit == D("789.50")
    assert list(selectors.unpaid_documents(account=books["r"])) == [inv2, dm]
    # INV2 falls due Feb 14, the debit memo Feb 19.
    assert selectors.overdue_amount(account=books["r"], as_of=FEB1) == D("0")
    assert selectors.overdue_amount(account=books["r"], as_of=datetime.date(2026, 2, 15)) == D(
        "200.50"
    )
    assert selectors.overdue_amount(account=books["r"], as_of=datetime.date(2026, 2, 20)) == D(
        "210.50"
    )
    assert selectors.balance_mismatches() == []

    app = Application.objects.get(debit_document=inv1)
    assert app.applied_by == staff and app.applied_at is not None


def test_unlink_restores_open_amounts_and_keeps_history(books):
    staff = books["staff"]
    app = ledger.application_create(
        credit_document=books["pay"],
        debit_document=books["inv2"],
        amount=D("50.00"),
        acting_user=staff,
    )
    ledger.application_remove(application=app, acting_user=staff)

    app.refresh_from_db()
    assert app.unapplied_by == staff and app.unapplied_at is not None
    assert reload(books["inv2"]).open_amount == D("250.50")
    assert reload(books["pay"]).open_amount == D("150.00")
    fin = selectors.account_financials(account=books["r"])
    assert (fin.open_debt, fin.credit_balance) == (D("370.50"), D("180.00"))
    with pytest.raises(ApplicationError):
        ledger.application_remove(application=app, acting_user=staff)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (D("151.00"), "exceeds the open amount"),
        (D("0"), "must be positive"),
        (D("10.001"), "more decimals"),
    ],
)
def test_bad_application_is_refused_and_changes_nothing(books, amount, message):
    with pytest.raises(ApplicationError, match=message):
        ledger.application_create(
            credit_document=books["pay"],
            debit_document=books["inv2"],
            amount=amount,
            acting_user=books["staff"],
        )
    assert reload(books["pay"]).open_amount == D("150.00")
    assert not Application.objects.exists()


def test_resellers_cannot_link_or_unlink(books):
    reseller_user = f.user(account=books["r"])
    with pytest.raises(PermissionDenied):
        ledger.application_create(
            credit_document=books["pay"],
            debit_document=books["inv1"],
            amount=D("1.00"),
            acting_user=reseller_user,
        )


def test_cannot_link_documents_of_two_accounts(books, reseller_b):
    other = f.invoice(reseller_b, "40.00", JAN1)
    with pytest.raises(ApplicationError, match="same two accounts"):
        ledger.application_create(
            credit_document=books["pay"],
            debit_document=other,
            amount=D("10.00"),
            acting_user=books["staff"],
        )


def test_term_account_pays_with_credit_balance_oldest_due_first(books):
    """Seed 002: the reseller chooses to use its credit balance; the system picks the order."""
    r = books["r"]
    apps = ledger.credit_balance_apply(recipient=r, acting_user=f.user(account=r))
    # credits oldest first: CM (Jan 20) 30, then PAY (Feb 1) 150 -> INV1 100, INV2 80.
    assert [(a.credit_document_id, a.debit_document_id, a.amount) for a in apps] == [
        (books["cm"].pk, books["inv1"].pk, D("30.00")),
        (books["pay"].pk, books["inv1"].pk, D("70.00")),
        (books["pay"].pk, books["inv2"].pk, D("80.00")),
    ]
    fin = selectors.account_financials(account=r)
    assert (fin.open_debt, fin.credit_balance) == (D("190.50"), D("0.00"))


def test_paying_chosen_documents_only(books):
    r = books["r"]
    ledger.credit_balance_apply(recipient=r, acting_user=None, debit_documents=[books["dm"]])
    assert reload(books["dm"]).status == DocumentStatus.PAID
    assert reload(books["inv1"]).open_amount == D("100.00")


def test_prepaid_account_applies_credit_automatically(reseller_a):
    cust = f.customer(parent=reseller_a)  # prepaid, billed by the resale reseller
    pay = f.payment(cust, "100.00", JAN1)
    inv1 = f.invoice(cust, "60.00", JAN15)
    inv2 = f.invoice(cust, "70.00", JAN20)
    assert reload(inv1).status == DocumentStatus.PAID
    assert reload(inv2).open_amount == D("30.00")
    assert reload(pay).open_amount == D("0.00")
    fin = selectors.account_financials(account=cust)
    assert (fin.open_debt, fin.credit_balance, fin.balance) == (D("30.00"), D("0"), D("-30.00"))
    assert inv1.issuer == reseller_a  # a resale reseller bills its own customers
    assert selectors.receivable_from_customers(reseller=reseller_a) == D("30.00")


def test_refund_is_applied_against_the_payment_it_refunds(books):
    refund = ledger.refund_issue(
        credit_document=books["pay"], amount=D("40.00"), issue_date=FEB1, acting_user=books["staff"]
    )
    assert refund.doc_type == DocumentType.REFUND and refund.status == DocumentStatus.PAID
    assert reload(books["pay"]).open_amount == D("110.00")
    fin = selectors.account_financials(account=books["r"])
    assert (fin.open_debt, fin.credit_balance) == (D("370.50"), D("140.00"))
    with pytest.raises(ApplicationError, match="open"):
        ledger.refund_issue(
            credit_document=books["pay"],
            amount=D("500.00"),
            issue_date=FEB1,
            acting_user=books["staff"],
        )


def test_cancel_an_issued_document_removes_it_from_every_figure(books):
    ledger.document_cancel(document=books["dm"], acting_user=books["staff"])
    fin = selectors.account_financials(account=books["r"])
    assert fin.open_debt == D("350.50")
    cancelled = reload(books["dm"])
    assert (cancelled.status, cancelled.open_amount) == (DocumentStatus.CANCELLED, D("0"))
    assert selectors.balance_mismatches() == []


def test_cannot_cancel_a_document_with_applications(books):
    ledger.application_create(
        credit_document=books["pay"],
        debit_document=books["inv1"],
        amount=D("1.00"),
        acting_user=books["staff"],
    )
    with pytest.raises(ApplicationError, match="unlink"):
        ledger.document_cancel(document=books["inv1"], acting_user=books["staff"])


def test_line_totals_round_half_up_once(reseller_a):
    inv = f.invoice(reseller_a, "0.125", JAN1, quantity="3")  # 0.375 -> 0.38
    assert inv.total == D("0.38")
    inv2 = f.invoice(reseller_a, "0.005", JAN1)  # half-up, not banker's: 0.01
    assert inv2.total == D("0.01")


def test_drafts_count_in_no_figure(reseller_a):
    ledger.document_create(
        doc_type=DocumentType.INVOICE,
        issuer=reseller_a.issuer,
        recipient=reseller_a,
        lines=[ledger.LineSpec(description="x", unit_price=D("99"))],
    )
    assert selectors.account_financials(account=reseller_a).open_debt == D("0")


def test_issuing_twice_is_refused(reseller_a):
    inv = f.invoice(reseller_a, "10.00", JAN1)
    with pytest.raises(ApplicationError, match="cannot go from issued to issued"):
        ledger.document_issue(document=inv, issue_date=JAN1)


def test_the_same_payment_key_records_one_payment(reseller_a):
    first = ledger.payment_record(recipient=reseller_a, amount=D("50.00"), received_date=FEB1,
                                    acting_user=None, idempotency_key="k1")  # fmt: skip
    again = ledger.payment_record(recipient=reseller_a, amount=D("50.00"), received_date=FEB1,
                                    acting_user=None, idempotency_key="k1")  # fmt: skip
    assert first.pk == again.pk
    assert selectors.account_financials(account=reseller_a).credit_balance == D("50.00")


def test_applied_amounts_are_stored_to_the_cent(books):
    app = ledger.application_create(credit_document=books["pay"], debit_document=books["inv1"],
                                      amount=D("20"), acting_user=books["staff"])  # fmt: skip
    app.refresh_from_db()
    assert str(app.amount) == "20.00"

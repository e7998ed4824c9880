"""Seed 003's reports from documents the tests issue: reseller-driven and non-reseller sales, a
referral reseller's payouts (paid sales x its commission rate, marked paid once, audited), the
customers each reseller acquired; and signing up with a reseller code."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine

from billing import ledger
from billing.models import ReferralPayout
from billing.payouts import referral_payout_mark_paid
from dashboard.reports import acquired_customers, acquisitions_report, payouts_report, sales_report
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, AuditEvent, User
from resellers.services import customer_sign_up, referral_commission_set
from tests import factories as f
from tests.factories.billing import d

START, END = d("2026-03-01"), d("2026-03-31")
pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    provider = f.provider()
    staff = f.user(account=provider)
    resale = f.reseller(parent=provider, name="Resale R")
    referral = f.reseller(
        parent=provider, name="Referral P", model="referral", credit_terms="prepaid", code="PARTNER"
    )
    referral_commission_set(reseller=referral, rate=D("0.1000"), acting_user=staff)
    referral.refresh_from_db()
    with time_machine.travel(datetime.datetime(2026, 3, 5, 9, 0), tick=False):
        brought = f.customer(parent=referral, name="Brought B")
        resold = f.customer(parent=resale, name="Resold C")
        direct = f.customer(parent=provider, name="Direct D")
    with time_machine.travel(datetime.datetime(2026, 2, 20, 9, 0), tick=False):
        earlier = f.customer(parent=referral, name="Earlier E")
    return locals()


def test_sales_by_the_reseller_that_drove_them(tree):
    t = tree
    f.invoice(t["resale"], "500.00", d("2026-03-02"))  # the resale reseller's purchases
    f.invoice(t["brought"], "200.00", d("2026-03-03"))  # a referral customer's
    f.invoice(t["earlier"], "100.00", d("2026-03-04"))
    f.credit_memo(t["brought"], "20.00", d("2026-03-10"))
    f.invoice(t["direct"], "70.00", d("2026-03-05"))  # non-reseller sales
    f.invoice(t["resold"], "999.00", d("2026-03-05"))  # the resale reseller's own sale: not ours
    f.invoice(t["direct"], "40.00", d("2026-04-01"))  # after the period
    gone = f.invoice(t["brought"], "300.00", d("2026-03-06"))
    ledger.document_cancel(document=gone, acting_user=t["staff"])

    report = sales_report(start=START, end=END)

    assert [(row.reseller.name if row.reseller else None, row.sales) for row in report.rows] == [
        ("Resale R", D("500.00")),
        ("Referral P", D("280.00")),
        (None, D("70.00")),
    ]
    assert (report.reseller_driven, report.non_reseller, report.total) == (
        D("780.00"),
        D("70.00"),
        D("850.00"),
    )
    with pytest.raises(ApplicationError) as caught:
        sales_report(start=END, end=START)
    assert caught.value.field == "period_end"


def test_payouts_are_paid_sales_times_the_rate_and_are_marked_paid_once(tree):
    t = tree
    paid = f.invoice(t["brought"], "200.00", d("2026-03-03"))
    f.payment(t["brought"], "200.00", d("2026-03-04"), apply_to=[paid])
    paid_too = f.invoice(t["earlier"], "55.55", d("2026-03-08"))
    f.payment(t["earlier"], "55.55", d("2026-03-09"), apply_to=[paid_too])
    f.invoice(t["earlier"], "150.00", d("2026-03-12"))  # unpaid: no commission yet
    f.credit_memo(t["brought"], "20.00", d("2026-03-10"))

    [line] = payouts_report(start=START, end=END)

    assert line.reseller == t["referral"]
    # paid 200.00 + 55.55, less the 20.00 credit memo = 235.55; 10 % = 23.555 -> 23.56
    assert (line.paid_sales, line.commission_rate, line.amount, line.paid) == (
        D("235.55"),
        D("0.1000"),
        D("23.56"),
        None,
    )
    outsider = f.user(account=t["resale"])
    with pytest.raises(PermissionDenied):
        referral_payout_mark_paid(
            reseller=t["referral"], start=START, end=END, reference="x", acting_user=outsider
        )
    payout = referral_payout_mark_paid(
        reseller=t["referral"], start=START, end=END, reference="SEPA 42", acting_user=t["staff"]
    )
    assert (payout.amount, payout.reference, payout.paid_by) == (
        D("23.56"),
        "SEPA 42",
        t["staff"],
    )
    assert payouts_report(start=START, end=END)[0].paid == payout
    with pytest.raises(ApplicationError) as caught:
        referral_payout_mark_paid(
            reseller=t["referral"], start=START, end=END, reference="again", acting_user=t["staff"]
        )
    assert caught.value.field == "period"
    assert ReferralPayout.objects.count() == 1
    event = AuditEvent.objects.get(action="referral_payout.paid")
    assert event.details["amount"] == "23.56" and event.actor == t["staff"]


def test_acquisitions_per_reseller_and_period(tree):
    t = tree
    rows = {row.reseller.name: row.customers for row in acquisitions_report(start=START, end=END)}
    assert rows == {"Referral P": 1, "Resale R": 1}
    february = acquisitions_report(start=d("2026-02-01"), end=d("2026-02-28"))
    assert {row.reseller.name: row.customers for row in february} == {
        "Referral P": 1,
        "Resale R": 0,
    }
    names = [c.name for c in acquired_customers(reseller=t["referral"], start=START, end=END)]
    assert names == ["Brought B"]


def test_commission_rate_is_a_fraction_for_referral_resellers_only(tree):
    t = tree
    for rate in (D("1.5"), D("-0.1"), D("0.12345")):
        with pytest.raises(ApplicationError):
            referral_commission_set(reseller=t["referral"], rate=rate, acting_user=t["staff"])
    with pytest.raises(ApplicationError):
        referral_commission_set(reseller=t["resale"], rate=D("0.1"), acting_user=t["staff"])
    event = AuditEvent.objects.get(action="account.commission_rate")
    assert (event.details["before"], event.details["after"]) == ("0.0000", "0.1000")


def test_a_customer_signs_up_with_a_reseller_code(tree):
    t = tree
    account = customer_sign_up(
        name="New N",
        contact_name="Nina New",
        email="nina@new.example",
        username="nina",
        password="a long passphrase",
        reseller_code="partner",
    )
    assert (account.parent, account.issuer) == (t["referral"], t["provider"])
    assert User.objects.get(username="nina").check_password("a long passphrase")
    direct = customer_sign_up(
        name="Solo S", contact_name="S", email="s@s.example", username="solo", password="pw pw pw"
    )
    assert direct.parent == t["provider"]
    for code in ("NOPE", "   x"):
        with pytest.raises(ApplicationError) as caught:
            customer_sign_up(
                name="X", contact_name="X", email="x@x.example", username="x1", password="p",
                reseller_code=code,
            )  # fmt: skip
        assert caught.value.field == "reseller_code"
    with pytest.raises(ApplicationError) as caught:
        customer_sign_up(
            name="Y", contact_name="Y", email="y@y.example", username="NINA", password="p"
        )
    assert caught.value.field == "username"
    assert not Account.objects.filter(name__in=["X", "Y"]).exists()

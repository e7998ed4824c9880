"""manage.py seed_demo: the demo installation, made through the services, twice changes nothing."""

import datetime
from decimal import Decimal as D
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command

from billing.models import Document, DocumentType
from billing.selectors import account_financials
from resellers.models import Account, PaymentMethod, User

TODAY = datetime.date(2026, 3, 15)

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    with time_machine.travel(datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC), tick=False):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_second_run_adds_nothing_and_balances_verify():
    first = _seed()
    after_first = _counts()
    second = _seed()

    assert _counts() == after_first
    assert "nothing added" in second
    assert "Created" in first
    assert after_first["billing.Document"] > 0 and after_first["billing.Application"] > 0
    out = StringIO()
    call_command("verify_balances", stdout=out)
    assert "agree" in out.getvalue()


def test_prints_the_logins_and_where_to_go():
    out = _seed()
    for login in ("provider", "reseller1", "reseller2", "customer1"):
        assert f"  {login} " in out
    assert "password for each: demo" in out
    assert "http://127.0.0.1:8000/" in out


def test_logins_act_for_the_accounts_design_names():
    _seed()
    users = {name: authenticate(username=name, password="demo") for name in
             ("provider", "reseller1", "reseller2", "customer1")}  # fmt: skip
    assert all(users.values())
    provider, r1, r2, c1 = (users[n] for n in ("provider", "reseller1", "reseller2", "customer1"))
    assert provider.is_provider_staff and provider.is_staff and provider.is_superuser
    assert provider.account.name == "Cloud Distributor" and provider.account.currency == "USD"
    assert r1.account.is_reseller and r2.account.is_reseller and r1.account != r2.account
    assert not (r1.is_staff or r2.is_staff or c1.is_staff)
    assert c1.account.is_customer and c1.account.parent == r1.account
    assert c1.account.issuer == r1.account  # resale: the reseller bills its own customer


def test_three_kinds_of_reseller():
    _seed()
    r1 = User.objects.get(username="reseller1").account
    r2 = User.objects.get(username="reseller2").account
    referral = Account.objects.get(reseller_model=Account.ResellerModel.REFERRAL)

    assert r1.reseller_model == r2.reseller_model == Account.ResellerModel.RESALE
    assert r1.is_net_terms and r1.credit_limit == D("5000.00")
    assert r1.daily_invoicing == Account.DailyInvoicing.PREPAID_ONLY
    card = r1.payment_methods.get(is_default=True)
    assert card.kind == PaymentMethod.Kind.CARD and card.token_is_active(TODAY)
    assert r1.auto_topup_enabled and r1.auto_topup_payment_method == card
    assert r2.is_net_terms
    assert r2.payment_methods.get(is_default=True).kind == PaymentMethod.Kind.CASH
    assert referral.reseller_code
    for reseller in (r1, r2, referral):
        assert reseller.children.filter(kind=Account.Kind.CUSTOMER).count() >= 2
        assert reseller.contacts.filter(is_bill_to=True).exists()
        assert reseller.contacts.filter(is_primary=True).exists()
    # A referral reseller's customers are billed by the provider.
    for customer in referral.children.all():
        assert customer.issuer == referral.parent


def test_balances_are_the_hand_computed_ones():
    _seed()
    r1 = User.objects.get(username="reseller1").account
    r2 = User.objects.get(username="reseller2").account
    c1 = User.objects.get(username="customer1").account

    # Provider -> reseller1: invoices 1,200 (500 paid by card) and 800 (100 of a 150 credit memo).
    fig = account_financials(account=r1)
    assert (fig.open_debt, fig.credit_balance, fig.balance) == (D("1400.00"), D("50.00"), D(-1350))
    assert fig.available_credit == D("3600.00")
    # Provider -> reseller2: 300 paid in full, 345 open, a 100 top-up unapplied.
    fig = account_financials(account=r2)
    assert (fig.open_debt, fig.credit_balance, fig.available_credit) == (D(345), D(100), D(1655))
    # reseller1 -> customer1: 250 + 8% tax = 270, 100 paid.
    fig = account_financials(account=c1)
    assert (fig.open_debt, fig.credit_balance) == (D("170.00"), D("0"))

    overdue = Document.objects.filter(recipient=r1).overdue(as_of=TODAY)
    assert [d.open_amount for d in overdue] == [D("700.00")]
    memo = Document.objects.get(recipient=r1, doc_type=DocumentType.CREDIT_MEMO)
    assert memo.open_amount == D("50.00")
    assert Document.objects.filter(issuer=r1).exclude(status="draft").count() >= 3


def test_second_run_keeps_what_a_user_changed():
    from resellers.models import AuditEvent
    from resellers.services import account_update_financials

    _seed()
    northwind = Account.objects.get(name="Northwind Cloud Services")
    account_update_financials(account=northwind, acting_user=None, auto_topup_threshold=D("750.00"))
    audits = AuditEvent.objects.count()
    _seed()
    northwind.refresh_from_db()
    assert northwind.auto_topup_threshold == D("750.00")
    assert AuditEvent.objects.count() == audits


def test_accounts_signed_up_before_their_documents():
    _seed()
    northwind = Account.objects.get(name="Northwind Cloud Services")
    first_issue = Document.objects.filter(recipient=northwind).order_by("issue_date").first()
    assert northwind.created_at.date() < first_issue.issue_date
    contacts = list(northwind.contacts.order_by("created_at"))
    assert [c.created_at.date() for c in contacts] == [northwind.created_at.date()] * 2

"""Ledger actions in a real browser. Provider staff: record an offline payment on a reseller ->
open an invoice -> apply part of the payment -> the open amount falls -> unlink -> it is back.
A reseller user: pay its unpaid documents with its credit balance (seed 002)."""

import datetime
import re
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from billing.models import Application, Document, DocumentType
from billing.selectors import balance_mismatches
from resellers import services as accounts
from resellers.models import PaymentMethod
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books(transactional_db):
    """Alpha Reseller (net terms): INV-000001 100.00 due 2026-01-31, INV-000002 250.50 due
    2026-02-14, CM-000001 30.00. Open debt 350.50, credit balance 30.00."""
    provider = f.provider()
    staff = f.user(account=provider, username="staff", password="pw")
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    accounts.payment_method_create(account=alpha, kind=PaymentMethod.Kind.CASH)
    inv1 = f.invoice(alpha, "100.00", datetime.date(2026, 1, 1))
    inv2 = f.invoice(alpha, "250.50", datetime.date(2026, 1, 15))
    f.credit_memo(alpha, "30.00", datetime.date(2026, 1, 20))
    return SimpleNamespace(staff=staff, alpha=alpha, inv1=inv1, inv2=inv2)


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()


def test_provider_records_a_payment_links_part_of_it_and_unlinks(page, live_server, books, shot):
    log_in(page, live_server, "staff")
    page.get_by_role("link", name="Resellers", exact=True).click()
    page.get_by_role("link", name="Alpha Reseller").click()
    expect(page.locator('[data-figure="credit_balance"]')).to_have_text("30.00 USD")

    # record an offline payment, applied to nothing yet
    page.locator("#documents").get_by_role("link", name="Record payment").click()
    expect(page.get_by_role("heading", name=re.compile("Record a payment"))).to_be_visible()
    page.get_by_label("Amount (USD)").fill("200.00")
    page.get_by_label("Received on").fill("2026-02-10")
    page.get_by_label("Payment method").select_option(label="Cash")
    page.get_by_label("Reference").fill("WIRE-7")
    shot(page, "1-record-payment")
    page.get_by_role("button", name="Record payment").click()

    expect(page).to_have_url(re.compile(rf"/billing/resellers/{books.alpha.pk}/$"))
    expect(page.locator(".messages")).to_have_text(
        "Recorded payment PAY-000001 of 200.00 USD from Alpha Reseller. "
        "200.00 USD remains as credit balance."
    )
    expect(page.locator('[data-figure="credit_balance"]')).to_have_text("230.00 USD")
    expect(page.locator('[data-figure="balance"]')).to_have_text("-120.50 USD")
    shot(page, "2-recorded")

    # on the invoice's page, apply 80.00 of it
    page.locator("#documents").get_by_role("link", name="INV-000002").click()
    expect(page.locator('[data-field="open_amount"]')).to_have_text("250.50 USD")
    apply_form = page.locator("#apply-form")
    apply_form.get_by_label("Payment or credit memo").select_option(
        label="Payment PAY-000001 · 10 Feb 2026 · 200.00 USD open"
    )
    apply_form.get_by_label("Amount (USD)").fill("80")
    shot(page, "3-apply")
    apply_form.get_by_role("button", name="Apply").click()

    expect(page.locator(".messages")).to_have_text("Applied 80.00 USD of PAY-000001 to INV-000002.")
    expect(page.locator('[data-field="open_amount"]')).to_have_text("170.50 USD")
    row = page.locator("#applications tbody tr", has_text="PAY-000001")
    expect(row).to_contain_text("80.00 USD")
    expect(row).to_contain_text("staff")
    shot(page, "4-applied")
    payment = Document.objects.get(doc_type=DocumentType.PAYMENT, recipient=books.alpha)
    assert payment.open_amount == D("120.00")

    # unlink it again: the button opens the confirmation page, which says what returns to open
    row.get_by_role("button", name="Unlink").click()
    expect(page.locator("#consequences")).to_contain_text(
        "INV-000002 is open again for that amount: its open amount goes from 170.50 USD to "
        "250.50 USD."
    )
    assert Application.objects.get(debit_document=books.inv2).unapplied_at is None
    page.get_by_role("button", name="Yes, unlink").click()
    expect(page.locator(".messages")).to_have_text(
        "Unlinked 80.00 USD of PAY-000001 from INV-000002."
    )
    expect(page.locator('[data-field="open_amount"]')).to_have_text("250.50 USD")
    expect(row).to_contain_text("Unlinked")
    expect(row.get_by_role("button", name="Unlink")).to_have_count(0)
    shot(page, "5-unlinked")

    application = Application.objects.get(debit_document=books.inv2)
    assert application.unapplied_by == books.staff
    payment.refresh_from_db()
    assert payment.open_amount == D("200.00")
    assert balance_mismatches() == []


def test_reseller_pays_unpaid_documents_with_its_credit_balance(page, live_server, books, shot):
    f.user(account=books.alpha, username="reseller1", password="pw")
    log_in(page, live_server, "reseller1")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    card = page.locator("#pay-with-credit")
    expect(card.get_by_role("heading")).to_have_text("Pay unpaid documents with credit balance")
    expect(card.locator("#credit-balance-message")).to_contain_text(
        "You have a credit balance of 30.00 USD"
    )
    expect(card.get_by_label("Invoice INV-000001")).to_be_checked()
    expect(card.get_by_label("Invoice INV-000002")).to_be_checked()
    shot(page, "1-pay-with-credit")
    card.get_by_role("button", name="Pay with credit balance").click()

    expect(page.locator(".messages")).to_have_text(
        "Paid 30.00 USD with your credit balance: 30.00 USD to INV-000001 (70.00 USD still open)."
    )
    expect(page.locator('[data-figure="credit_balance"]')).to_have_text("0.00 USD")
    expect(page.locator("#pay-with-credit")).to_have_count(0)
    shot(page, "2-paid")
    books.inv1.refresh_from_db()
    assert books.inv1.open_amount == D("70.00")

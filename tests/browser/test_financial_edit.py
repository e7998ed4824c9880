"""Seed 000's path in a real browser: log in as provider staff -> Billing -> Resellers -> the
reseller -> Edit under Financial Information -> change Daily Invoicing -> Save."""

import datetime
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from resellers import services as accounts
from resellers.models import Account, PaymentMethod
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books(transactional_db):
    provider = f.provider()
    staff = f.user(account=provider, username="staff", password="pw")
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    f.reseller(parent=provider, name="Bravo Reseller")
    accounts.payment_method_create(account=alpha, kind=PaymentMethod.Kind.CASH)
    f.invoice(alpha, "100.00", datetime.date(2026, 1, 1))
    f.invoice(alpha, "250.50", datetime.date(2026, 1, 15))
    f.credit_memo(alpha, "30.00", datetime.date(2026, 1, 20))
    f.customer(parent=alpha, name="Customer One")
    return SimpleNamespace(staff=staff, alpha=alpha)


def log_in_and_open_edit(page, live_server, shot):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    shot(page, "1-login")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/billing/$"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    shot(page, "2-billing")
    page.get_by_role("link", name="Resellers", exact=True).click()
    expect(page.get_by_role("heading", name="Resellers")).to_be_visible()
    shot(page, "3-resellers")
    page.get_by_role("link", name="Alpha Reseller").click()
    expect(page.get_by_role("heading", name="Financial Information")).to_be_visible()
    shot(page, "4-reseller")
    page.locator("#financial-information").get_by_role("link", name="Edit").click()
    expect(
        page.get_by_role("heading", name=re.compile("Edit Financial Information"))
    ).to_be_visible()
    shot(page, "5-edit")


def test_provider_changes_daily_invoicing(page, live_server, books, shot):
    log_in_and_open_edit(page, live_server, shot)
    dropdown = page.locator("select#id_daily_invoicing")
    expect(dropdown).to_have_value("prepaid_only")
    explanations = page.get_by_role("complementary", name="What each mode does")
    for mode in ("Prepaid purchases only", "All purchases", "Disabled"):
        expect(explanations.get_by_text(mode, exact=True)).to_be_visible()
    expect(explanations).to_contain_text("does not cover orders placed by the reseller itself")

    dropdown.select_option(label="All purchases")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(rf"/billing/resellers/{books.alpha.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("saved")
    expect(page.locator('[data-field="daily_invoicing"]')).to_have_text("All purchases")
    shot(page, "6-saved")
    assert Account.objects.get(pk=books.alpha.pk).daily_invoicing == Account.DailyInvoicing.ALL


def test_negative_credit_limit_is_refused_in_the_browser(page, live_server, books, shot):
    log_in_and_open_edit(page, live_server, shot)
    page.get_by_label("Credit limit").fill("-100")
    page.locator("select#id_daily_invoicing").select_option("disabled")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved")
    expect(page.locator("#credit_limit-error")).to_contain_text("without a sign")
    shot(page, "6-error")
    alpha = Account.objects.get(pk=books.alpha.pk)
    assert alpha.daily_invoicing == Account.DailyInvoicing.PREPAID_ONLY
    assert alpha.credit_limit == 1000


def test_reseller_user_sees_its_account_read_only(page, live_server, books, shot):
    f.user(account=books.alpha, username="reseller1", password="pw")
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("reseller1")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))  # a resale reseller's home page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.locator('[data-figure="balance"]')).to_have_text("-320.50 USD")
    expect(page.locator('[data-figure="available_credit"]')).to_have_text("649.50 USD")
    expect(page.locator("#financial-information").get_by_role("link", name="Edit")).to_have_count(0)
    memo = page.locator("#documents tr", has_text="CM-000001")
    expect(memo).to_contain_text("Closed")
    shot(page, "1-account")

    memo.get_by_role("link", name="CM-000001").click()
    expect(page.locator('h1 [data-field="status"]')).to_have_text("Closed")
    shot(page, "1b-credit-memo")
    page.get_by_role("link", name="My account").first.click()

    page.get_by_role("link", name="Customer One").click()
    expect(page.get_by_role("heading", name=re.compile("Customer One"))).to_be_visible()
    shot(page, "2-customer")
    page.goto(live_server.url + f"/billing/resellers/{books.alpha.pk}/edit/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

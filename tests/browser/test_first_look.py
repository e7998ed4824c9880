"""Provider staff, as a new user finds the panel (issue 12): document numbers repeat across
issuers, so the documents lists and a document's page say whose each is; the runs page counts the
subscriptions a run billed (the first period an order charged, invoiced by the run: 1, not 0)."""

import re

import pytest
from playwright.sync_api import expect

from billing.runs import run_start
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books(transactional_db):
    """Customer C subscribed on 1 Jan 2026; the billing-date run of that day invoiced its first
    period: Reseller R's INV-000001 to C. The provider's own INV-000001 goes to Reseller R."""
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    w.run = run_start(run_date=d("2026-01-01"), inline=True)
    w.provider_invoice = f.invoice(w.reseller, "100.00", d("2026-01-05"))
    return w


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()


def test_provider_sees_whose_document_and_what_a_run_billed(page, live_server, books, shot):
    log_in(page, live_server, books.staff.username)
    subnav = page.get_by_role("navigation", name="Billing")

    # a customer's documents: INV-000001, issued by its reseller
    subnav.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="Customer C", exact=True).click()
    documents = page.locator("#documents")
    header = documents.locator("thead th")
    expect(header).to_contain_text(["Number", "Type", "Issuer"])
    row = documents.locator("tbody tr", has_text="INV-000001")
    expect(row).to_contain_text("Reseller R")
    shot(page, "1-customer-documents")
    row.get_by_role("link", name="INV-000001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Invoice INV-000001 issued by Reseller R"
    )
    expect(page.locator('[data-field="issuer"]')).to_contain_text("Reseller R")
    expect(page).to_have_title(re.compile(r"INV-000001 · Reseller R"))
    shot(page, "2-document")

    # the reseller's documents: another INV-000001, issued by the provider
    subnav.get_by_role("link", name="Resellers", exact=True).click()
    page.get_by_role("link", name="Reseller R", exact=True).click()
    row = page.locator("#documents tbody tr", has_text="INV-000001")
    expect(row).to_contain_text("Cloud Distributor")
    row.get_by_role("link", name="INV-000001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("issued by Cloud Distributor")

    # the runs page: the run billed one subscription
    subnav.get_by_role("link", name="Billing runs").click()
    run_row = page.locator(f'tr[data-run="{books.run.pk}"]')
    headers = page.locator("table thead th").all_inner_texts()
    column = [h.strip().lower() for h in headers].index("subscriptions")
    expect(run_row.locator("td").nth(column)).to_have_text("1")
    shot(page, "3-runs")
    run_row.get_by_role("link", name=f"#{books.run.pk}").click()
    expect(page.locator('[data-figure="subscriptions_billed"]')).to_have_text("1")
    expect(page.locator("#documents")).to_contain_text("Reseller R")

"""The reseller dashboard and seed 003's referral flow in a real browser.

1. A reseller billed on the 1st of this month opens its home page: the General Statistics'
   three columns, the Product Mix chart (an image that loads) and its table by product; another
   period empties it; the table's Export CSV downloads the same figures. A second reseller's
   home page shows none of them.
2. Provider staff create a customer with a referral reseller's code from Customers > New
   customer; the referral reseller signs in and finds it under Referrals, and the provider's
   Reports list the acquisition.
"""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from billing import runs
from tests import factories as f
from tests.factories import billing as bf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username: str, password: str = "pw") -> None:
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _billed_this_month():
    """Subscriptions bought on the 1st of last month; the run of the 1st of this month bills the
    reseller (the clock travels for the set-up only: the browser runs on today's)."""
    today = timezone.localdate()
    billed = today.replace(day=1)
    bought = (billed - datetime.timedelta(days=1)).replace(day=1)
    w = bf.world()
    with time_machine.travel(datetime.datetime.combine(bought, datetime.time(9)), tick=False):
        bf.subscribe(w, product=w.monthly, quantity=3, today=bought)  # R: 30.00 a month
        bf.subscribe(w, product=w.annual, today=bought, for_reseller=True)  # R: 100.00 a year
    with time_machine.travel(datetime.datetime.combine(billed, datetime.time(9)), tick=False):
        runs.run_start(run_date=billed, inline=True)
    return w


def test_a_reseller_reads_its_statistics_and_product_mix_and_exports_it(page, live_server, shot):
    w = _billed_this_month()
    w.reseller_user.set_password("pw")
    w.reseller_user.save()
    other = f.reseller(parent=w.provider, name="Other Reseller")
    f.user(account=other, username="other", password="pw")

    sign_in(page, live_server, w.reseller_user.username)
    page.goto(live_server.url + "/dashboard/")
    statistics = page.locator("#general-statistics")
    expect(statistics.get_by_role("heading", name="General Statistics")).to_be_visible()
    expect(statistics.locator('[aria-label="Overdue payments"]')).to_be_visible()
    expect(page.locator('[data-statistic="monthly_costs"]')).not_to_have_text("0.00 USD")
    mix = page.locator("#product-mix")
    expect(mix.locator("tbody")).to_contain_text("Backup Annual")
    expect(mix.locator("tbody")).to_contain_text("Cloud Suite")
    chart_width = mix.locator("img.mix-chart").evaluate("img => img.complete && img.naturalWidth")
    assert chart_width and chart_width > 0  # the SVG loaded, not a broken image
    shot(page, "1-dashboard")

    with page.expect_download() as download:
        mix.locator('[data-export="mixt-"]').click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Backup Annual" in exported and "Cloud Suite" in exported

    mix.get_by_label("Period", exact=True).select_option("last_month")
    mix.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"mix-period=last_month"))
    expect(page.locator("#product-mix tbody")).not_to_contain_text("Backup Annual")

    page.context.clear_cookies()
    sign_in(page, live_server, "other")
    page.goto(live_server.url + "/dashboard/")
    expect(page.locator("#product-mix")).to_be_visible()
    expect(page.locator("#product-mix")).not_to_contain_text("Cloud Suite")
    expect(page.locator('[data-statistic="monthly_costs"]')).to_have_text("0.00 USD")


def test_staff_create_a_referred_customer_and_the_referral_reseller_sees_it(
    page, live_server, shot
):
    provider = f.provider()
    f.user(account=provider, username="staff", password="pw")
    referral = f.reseller(
        parent=provider, name="Blue Yonder", model="referral", code="BLUEY", credit_limit=0
    )
    f.user(account=referral, username="bluey", password="pw")

    sign_in(page, live_server, "staff")
    page.goto(live_server.url + "/billing/customers/")
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Company name").fill("Fabrikam Labs")
    page.get_by_label("Contact name").fill("Fay Brik")
    page.get_by_label("Contact email").fill("fay@fabrikam.example")
    page.get_by_label("Reseller code").fill("bluey")
    shot(page, "1-new-customer")
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator(".messages")).to_contain_text(
        "Customer Fabrikam Labs created, tagged to Blue Yonder."
    )
    page.goto(live_server.url + "/billing/reports/")
    expect(page.locator("#acquisitions")).to_contain_text("Blue Yonder")

    page.context.clear_cookies()
    sign_in(page, live_server, "bluey")
    page.get_by_role("link", name="Payouts", exact=True).click()
    expect(page.locator("main")).to_contain_text("Fabrikam Labs")
    shot(page, "2-referrals")

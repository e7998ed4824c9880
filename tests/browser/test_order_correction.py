"""Seed 001 §4 in a real browser: a customer bought an annual subscription by mistake, it was
invoiced; provider staff open the order, Correct order, cancel the detail with a reason and a
credit memo as the outcome, and land on the correcting order, which says what each side got back;
the original order lists it."""

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from billing import runs
from billing.models import Document
from billing.selectors import balance_mismatches
from orders.models import Order
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_cancel_an_invoiced_detail_by_a_correcting_order(page, live_server, shot):
    w = bf.world()
    f.user(account=w.provider, username="staff", password="pw")
    sub = bf.subscribe(w, product=w.annual, today=d("2026-01-01"))  # 100.00 / 150.00
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    order = Order.objects.get(pk=sub.order_id)

    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + f"/orders/{order.pk}/")
    page.get_by_role("button", name="Correct order").click()
    expect(
        page.get_by_role("heading", name=f"Correct order {order.display_number}")
    ).to_be_visible()
    page.get_by_label("Cancel Backup Annual").check()
    page.get_by_label("Credit memo (raises the account's credit balance)").check()
    page.get_by_label("Reason").fill("Bought by mistake; cancelled on day two")
    shot(page, "1-correct")
    page.get_by_role("button", name="Correct the order").click()

    correction = Order.objects.get(corrects=order)
    expect(page).to_have_url(re.compile(rf"/orders/{correction.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        f"{order.display_number} was corrected by {correction.display_number}"
    )
    expect(page.locator(".messages")).to_contain_text("100.00 USD -> 0.00 USD (credit memo CM-")
    shot(page, "2-corrected")
    memos = Document.objects.filter(reference=f"correction:{correction.pk}")
    assert sorted(m.total for m in memos) == [D("100.00"), D("150.00")]
    page.goto(live_server.url + f"/orders/{order.pk}/")
    expect(page.locator('[data-field="corrections"]')).to_have_text(correction.display_number)
    assert balance_mismatches() == []

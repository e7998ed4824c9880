"""Seed 001 §4's two cases through the panels: the end customer cancels in its panel (nothing
refunded: the no-refund policy) and provider staff correct the order as an exception; staff
correct usage reported as money before and after the billing order. Tenants: the usage page is
the subscription's parties' only; correcting is provider staff's only."""

from decimal import Decimal as D

import pytest
import time_machine
from django.urls import reverse

from billing import runs
from billing.models import Document
from billing.selectors import balance_mismatches
from orders.usage import usage_record
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def _on(day: str):
    return time_machine.travel(f"{day} 12:00Z", tick=False)


def test_case_one_the_customer_cancels_and_staff_correct_the_order(client):
    w = bf.world()
    customer_user = f.user(account=w.customer)
    sub = bf.subscribe(w, product=w.three_years, today=d("2026-01-01"))
    order, item = sub.order, sub.order.items.get()
    client.force_login(customer_user)
    with _on("2026-01-02"):
        confirm = client.get(reverse("subscription_cancel", args=[sub.pk])).content.decode()
        assert "Nothing already billed is refunded." in confirm
        assert client.post(reverse("subscription_cancel", args=[sub.pk])).status_code == 302
    sub.refresh_from_db()
    assert sub.status == "pending_cancellation"
    assert not Document.objects.filter(doc_type="credit_memo").exists()
    runs.run_start(run_date=d("2026-02-01"), inline=True)

    assert client.get(reverse("order_correct", args=[order.pk])).status_code in (403, 404)
    client.force_login(w.staff)
    with _on("2026-02-02"):
        response = client.post(
            reverse("order_correct", args=[order.pk]),
            {
                f"cancel_{item.pk}": "on",
                "outcome": "credit_memo",
                "reason": "Bought by mistake: an exception",
            },
            follow=True,
        )

    page = response.content.decode()
    assert "credit memo CM-" in page and "300.00" in page and "450.00" in page
    memos = Document.objects.filter(doc_type="credit_memo").values_list("recipient_id", "total")
    assert sorted(memos) == sorted([(w.reseller.pk, D("300.00")), (w.customer.pk, D("450.00"))])
    assert balance_mismatches() == []


def _report(w, sub, day: str, reference: str):
    """The application reports $30.00 for `day`, as money."""
    record, _ = usage_record(subscription=sub, usage_date=d(day), reference=reference,
                             amount=D("30.00"), acting_user=w.staff, today=d(day))  # fmt: skip
    return record


def test_case_two_staff_correct_usage_before_and_after_the_billing_order(client):
    w = bf.world()
    sub = bf.subscribe(w, product=w.usage, today=d("2026-01-01"), for_reseller=True)
    jan = _report(w, sub, "2026-01-15", "app-jan-15")
    client.force_login(w.staff)
    usage_page = reverse("subscription_usage", args=[sub.pk])
    assert "app-jan-15" in client.get(usage_page).content.decode()
    with _on("2026-01-20"):
        response = client.post(
            reverse("usage_correct", args=[sub.pk, jan.pk]),
            {"amount": "25.00", "outcome": "credit_memo", "reason": "Miscalculated"},
            follow=True,
        )
    assert "the billing run bills the corrected usage" in response.content.decode()
    assert 'data-field="stands">25.00 USD' in client.get(usage_page).content.decode()
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    invoice = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    assert [line.amount for line in invoice.lines.all()] == [D("25.00")]

    feb = _report(w, sub, "2026-02-10", "app-feb-10")
    with _on("2026-03-01"):  # the panel's tests read 2026-02-10 as today
        runs.run_start(run_date=d("2026-03-01"), inline=True)
    with _on("2026-03-02"):
        client.force_login(w.staff)  # a new day's session
        response = client.post(
            reverse("usage_correct", args=[sub.pk, feb.pk]),
            {"amount": "25.00", "outcome": "credit_memo", "reason": "Miscalculated"},
            follow=True,
        )
    page = response.content.decode()
    assert "by correcting order" in page and "credit memo CM-" in page
    assert 'data-field="corrects-usage">corrects the usage of 10 Feb 2026' in page
    memo = Document.objects.get(doc_type="credit_memo")
    assert (memo.recipient_id, memo.total) == (w.reseller.pk, D("5.00"))
    assert balance_mismatches() == []


def test_usage_pages_are_the_parties_and_correcting_is_staffs(client):
    w = bf.world()
    other = bf.world()
    sub = bf.subscribe(w, product=w.usage, today=d("2026-01-01"))
    record, _ = usage_record(subscription=sub, usage_date=d("2026-01-15"), reference="q",
                             amount=D("30.00"), cost=D("20.00"), acting_user=w.staff,
                             today=d("2026-01-15"))  # fmt: skip
    page, correct = (
        reverse("subscription_usage", args=[sub.pk]),
        reverse("usage_correct", args=[sub.pk, record.pk]),
    )
    customer = f.user(account=w.customer)
    client.force_login(customer)
    seen = client.get(page).content.decode()
    assert "30.00 USD" in seen and "20.00" not in seen  # the cost upstream is not the customer's
    assert client.get(correct).status_code == 403
    client.force_login(w.reseller_user)
    assert "20.00 USD" in client.get(page).content.decode()
    assert client.post(correct, {"amount": "1.00", "reason": "x"}).status_code == 403
    client.force_login(other.reseller_user)
    assert client.get(page).status_code == 404
    assert client.get(correct).status_code == 404
    client.force_login(w.staff)
    bad = client.post(correct, {"amount": "-1.00", "outcome": "credit_memo", "reason": "x"})
    assert bad.status_code == 200 and 'class="error"' in bad.content.decode()
    record.refresh_from_db()
    assert not record.corrections.exists()

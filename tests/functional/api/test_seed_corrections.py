"""Seed 001 §4's two business cases, through the API, as an integration would drive them.

1. No-refund policy: an end customer buys a three-year subscription by mistake and cancels it on
   the second day; cancelling refunds nothing; the reseller asks and the provider corrects the
   order to refund it as an exception (credit memo, or a direct refund).
2. Usage reported as money: an application reported $30.00 for a day, the real figure was $25.00.
   Before the billing order, correcting the usage record makes $25.00 reach it; after, a
   correcting order issues a $5.00 credit memo."""

from decimal import Decimal as D

import pytest
import time_machine

from billing import runs
from billing.models import Document
from billing.selectors import balance_mismatches
from orders.models import Order, UsageRecord
from tests import factories as f
from tests.factories import billing as bf
from tests.factories.billing import d

pytestmark = pytest.mark.django_db


def _on(day: str):
    return time_machine.travel(f"{day} 12:00Z", tick=False)


def test_case_one_no_refund_policy_and_the_exception(api):
    w = bf.world()
    customer_user = f.user(account=w.customer)
    with _on("2026-01-01"):
        order = bf.subscribe(w, product=w.three_years, today=d("2026-01-01")).order
    item = order.items.get()
    with _on("2026-01-02"):  # day two: the end customer cancels
        sub = order.subscriptions.get()
        cancelled = api(customer_user).post(
            f"/api/v1/subscriptions/{sub.pk}/cancel/", {}, format="json"
        )
        assert cancelled.status_code == 200, cancelled.content
        assert cancelled.json()["status"] == "pending_cancellation"
    assert not Document.objects.filter(doc_type="credit_memo").exists()  # no refund by policy
    runs.run_start(run_date=d("2026-02-01"), inline=True)  # the three years are invoiced

    url = f"/api/v1/orders/{order.pk}/corrections/"
    body = {
        "lines": [{"item": item.pk, "cancel": True}],
        "outcome": "credit_memo",
        "reason": "Bought by mistake: an exception to the no-refund policy",
    }
    assert api(w.reseller_user).post(url, body, format="json").status_code == 403
    with _on("2026-02-02"):
        response = api(w.staff).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="seed-1")

    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["order"]["order_type"], result["order"]["corrects"]) == ("correction", order.pk)
    assert result["order"]["items"][0]["corrects_item"] == item.pk
    assert sorted((doc["type"], doc["recipient"], doc["total"]) for doc in result["documents"]) == (
        sorted([("credit_memo", w.reseller.pk, "300.00"), ("credit_memo", w.customer.pk, "450.00")])
    )
    original = api(w.staff).get(f"/api/v1/orders/{order.pk}/").json()
    assert original["corrections"] == [result["order"]["id"]]
    assert balance_mismatches() == []


def test_case_two_usage_reported_as_money(api):
    w = bf.world()
    with _on("2026-01-01"):
        sub = bf.subscribe(w, product=w.usage, today=d("2026-01-01"), for_reseller=True)
    usage = f"/api/v1/subscriptions/{sub.pk}/usage/"
    with _on("2026-01-15"):
        reported = api(w.staff).post(
            usage,
            {"usage_date": "2026-01-15", "amount": "30.00", "reference": "app-15"},
            format="json",
        )
        assert reported.status_code == 201, reported.content
        record = reported.json()["id"]
        correct = f"{usage}{record}/correct/"
        # before the billing order: the usage record is corrected, the run bills $25.00
        response = api(w.staff).post(
            correct,
            {"amount": "25.00", "reason": "The application miscalculated"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="usage-1",
        )
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["stage"], result["order"], result["documents"]) == ("not billed", None, [])
    assert result["record"]["corrects"] == record and result["record"]["amount"] == "-5.00"
    assert result["after"] == {"amount": "25.00", "cost": "25.00"}
    runs.run_start(run_date=d("2026-02-01"), inline=True)
    billing_order = Document.objects.get(recipient=w.reseller, doc_type="invoice")
    assert [line.amount for line in billing_order.lines.all()] == [D("25.00")]

    # another day, after its billing order: a correcting order, a $5.00 credit memo
    with _on("2026-02-10"):
        again = (
            api(w.staff)
            .post(
                usage,
                {"usage_date": "2026-02-10", "amount": "30.00", "reference": "app-feb-10"},
                format="json",
            )
            .json()["id"]
        )
    runs.run_start(run_date=d("2026-03-01"), inline=True)
    with _on("2026-03-02"):
        response = api(w.staff).post(
            f"{usage}{again}/correct/",
            {"amount": "25.00", "reason": "The application miscalculated"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="usage-2",
        )
        replay = api(w.staff).post(
            f"{usage}{again}/correct/",
            {"amount": "25.00", "reason": "The application miscalculated"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="usage-2",
        )
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["stage"] == "invoiced"
    assert result["order"]["order_type"] == "correction"
    assert result["order"]["corrects"] == sub.order_id
    assert result["order"]["items"][0]["corrects_usage"] == again
    assert [(doc["type"], doc["recipient"], doc["total"]) for doc in result["documents"]] == [
        ("credit_memo", w.reseller.pk, "5.00")
    ]
    assert replay.status_code == 200 and replay.json()["order"]["id"] == result["order"]["id"]
    assert Order.objects.filter(order_type="correction").count() == 1
    assert balance_mismatches() == []


def test_usage_correction_tenants_and_bad_input(api):
    w = bf.world()
    other = bf.world()
    with _on("2026-01-15"):
        sub = bf.subscribe(w, product=w.usage, today=d("2026-01-01"))
        record = (
            api(w.staff)
            .post(
                f"/api/v1/subscriptions/{sub.pk}/usage/",
                {"usage_date": "2026-01-15", "amount": "30.00", "reference": "r"},
                format="json",
            )
            .json()["id"]
        )
        url = f"/api/v1/subscriptions/{sub.pk}/usage/{record}/correct/"
        body = {"amount": "25.00", "reason": "why"}
        assert api(w.reseller_user).post(url, body, format="json").status_code == 403
        assert api(other.reseller_user).post(url, body, format="json").status_code == 404
        foreign = bf.subscribe(other, product=other.usage, today=d("2026-01-01"))
        wrong_sub = f"/api/v1/subscriptions/{foreign.pk}/usage/{record}/correct/"
        assert api(w.staff).post(wrong_sub, body, format="json").status_code == 404
        for bad, field in (
            ({"amount": "-1.00", "reason": "x"}, "amount"),
            ({"amount": "25.001", "reason": "x"}, "amount"),
            ({"quantity": "3", "reason": "x"}, "quantity"),
            ({"amount": "25.00"}, "reason"),
            ({"amount": "25.00", "reason": "x", "outcome": "cash"}, "outcome"),
        ):
            response = api(w.staff).post(url, bad, format="json")
            assert response.status_code == 400 and field in response.json(), (bad, response.json())
    assert UsageRecord.objects.filter(corrects__isnull=False).count() == 0

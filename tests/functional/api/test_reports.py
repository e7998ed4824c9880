"""GET /api/v1/reports/sales/, /reports/payouts/, /reports/acquisitions/ with period_start and
period_end (both included; default this month to date): provider staff see every reseller; a
referral reseller its own payout statement and acquisitions; a resale reseller its own
acquisitions; customers nothing (403). Bad dates: 400 naming the field."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from resellers.services import referral_commission_set
from tests import factories as f

JANUARY = {"period_start": "2026-01-01", "period_end": "2026-01-31"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2026, 1, 28, 12, 0), tick=False):
        yield


def test_sales_by_reseller_for_provider_staff_only(world, api):
    body = api(world.staff).get("/api/v1/reports/sales/", JANUARY).json()

    # the conftest's January: Alpha 600 - 100 (credit memo), Bravo 400, Referral Partner's own
    # 20 and its customer's 70; no direct customer
    rows = [(row["reseller"], row["model"], row["sales"]) for row in body["rows"]]
    assert rows == [
        (world.a.pk, "Resale", "500.00"),
        (world.b.pk, "Resale", "400.00"),
        (world.r.pk, "Referral", "90.00"),
    ]
    assert body["reseller_driven"] == "990.00" and body["non_reseller"] == "0.00"
    assert api(world.alpha).get("/api/v1/reports/sales/").status_code == 403
    bad = api(world.staff).get("/api/v1/reports/sales/", {"period_start": "2026-02-01",
                                                           "period_end": "2026-01-01"})  # fmt: skip
    assert bad.status_code == 400 and "period_end" in bad.json()
    assert (
        "period_start"
        in api(world.staff).get("/api/v1/reports/sales/", {"period_start": "soon"}).json()
    )


def test_payouts_statement_of_a_referral_reseller(world, api):
    referral_commission_set(reseller=world.r, rate=Decimal("0.2500"), acting_user=world.staff)
    paid = f.payment(world.r1, "70.00", datetime.date(2026, 1, 20), apply_to=[world.docs["inv_r1"]])
    assert paid.total == Decimal("70.00")

    own = api(world.referral).get("/api/v1/reports/payouts/", JANUARY).json()
    everyone = api(world.staff).get("/api/v1/reports/payouts/", JANUARY).json()

    assert own["rows"] == [
        {
            "reseller": world.r.pk,
            "name": world.r.name,
            "currency": "USD",
            "paid_sales": "70.00",
            "commission_rate": "0.2500",
            "payout": "17.50",
            "paid": False,
            "paid_at": None,
            "reference": "",
        }
    ]
    assert [row["reseller"] for row in everyone["rows"]] == [world.r.pk]
    assert api(world.alpha).get("/api/v1/reports/payouts/").status_code == 403
    assert api(world.alpha_customer).get("/api/v1/reports/payouts/").status_code == 403


def test_acquisitions_per_reseller_and_who_signed_up(world, api):
    staff = api(world.staff).get("/api/v1/reports/acquisitions/", JANUARY).json()
    assert {row["name"]: row["customers"] for row in staff["rows"]} == {
        world.a.name: 1,
        world.b.name: 1,
        world.r.name: 1,
    }
    assert "acquired" not in staff

    own = api(world.referral).get("/api/v1/reports/acquisitions/", JANUARY).json()

    assert [row["reseller"] for row in own["rows"]] == [world.r.pk]
    assert [c["name"] for c in own["acquired"]] == ["Referral Customer"]
    alpha = api(world.alpha).get("/api/v1/reports/acquisitions/", JANUARY).json()
    assert [c["name"] for c in alpha["acquired"]] == ["Alpha Customer"]
    assert api(world.alpha_customer).get("/api/v1/reports/acquisitions/").status_code == 403

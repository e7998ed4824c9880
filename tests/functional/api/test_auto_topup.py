"""resellers/{id}/auto-topup/: a reseller's own users (or provider staff) set its automatic top-up,
a fixed amount or up to a target balance, charged to a card it chooses whatever its usual way
of paying (seed 001 §2); the daily run charges what the mode says. Alpha (conftest): balance
-250.00, card a_card."""

import datetime
from decimal import Decimal as D

import pytest

from billing import topups
from billing.gateway import TestGateway
from billing.selectors import account_financials
from resellers.models import AuditEvent
from resellers.services import payment_method_create
from tests import factories as f


def url(account) -> str:
    return f"/api/v1/resellers/{account.pk}/auto-topup/"


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def test_a_reseller_sets_a_target_and_reads_it_back(world, api):
    card = f.card(world.a, token="tok_topup_card")  # not its default: Alpha chooses it
    body = {
        "enabled": True,
        "threshold": "100.00",
        "mode": "target",
        "target": "500.00",
        "payment_method": card.pk,
    }

    response = api(world.alpha).put(url(world.a), body, format="json")

    assert response.status_code == 200, response.content
    expected = {**body, "amount": None}
    assert response.json() == expected
    assert api(world.alpha).get(url(world.a)).json() == expected
    assert AuditEvent.objects.filter(action="account.update_financials", account=world.a).exists()


def test_the_run_charges_what_brings_the_balance_to_the_target(world, api):
    card = f.card(world.a, token="tok_topup_card")
    api(world.alpha).put(
        url(world.a),
        {"enabled": True, "threshold": "0.00", "mode": "target", "target": "400.00",
         "payment_method": card.pk},
        format="json",
    )  # fmt: skip
    day = datetime.date(2026, 3, 1)

    result = topups.auto_topup_run(today=day)
    again = topups.auto_topup_run(today=day)

    [payment] = result.charged
    assert (payment.total, payment.payment_method_id) == (D("650.00"), card.pk)  # -250 -> 400
    assert account_financials(account=world.a).balance == D("400.00")
    assert again.charged == [] and world.a.pk in again.already_done


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "threshold": "100.00", "mode": "fixed"}, "amount"),
        ({"enabled": True, "threshold": "100.00", "mode": "target"}, "target"),
        ({"enabled": True, "threshold": "100.00", "mode": "target", "target": "50.00"}, "target"),
        ({"enabled": True, "threshold": "-1", "amount": "10.00"}, "threshold"),
        ({"enabled": True, "mode": "weekly"}, "mode"),
        ({"enabled": True, "threshold": "1", "amount": "10", "payment_method": "cash"}, "a1"),
    ],
)
def test_bad_input_answers_400_on_the_field_and_saves_nothing(world, api, body, field):
    if field == "a1":  # another account's method answers like a missing one
        body, field = {**body, "payment_method": world.methods["a1_cash"].pk}, "payment_method"
    before = api(world.alpha).get(url(world.a)).json()

    response = api(world.alpha).put(url(world.a), body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert api(world.alpha).get(url(world.a)).json() == before


def test_an_offline_method_cannot_be_charged(world, api):
    cash = payment_method_create(account=world.a, kind="cash")
    response = api(world.alpha).put(
        url(world.a),
        {"enabled": True, "threshold": "1", "amount": "10", "payment_method": cash.pk},
        format="json",
    )
    assert response.status_code == 400 and "payment_method" in response.json()


def test_another_tenant_gets_404_and_staff_may_set_it(world, api):
    body = {"enabled": True, "threshold": "1.00", "amount": "10.00"}
    assert api(world.bravo).get(url(world.a)).status_code == 404
    assert api(world.bravo).put(url(world.a), body, format="json").status_code == 404
    staff = api(world.staff).put(url(world.a), body, format="json")
    assert staff.status_code == 200 and staff.json()["amount"] == "10.00"

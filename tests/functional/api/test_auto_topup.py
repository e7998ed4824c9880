"""resellers/{id}/auto-topup/: a reseller's own users (or provider staff) set its automatic top-up,
a fixed amount or up to a target balance, charged to a card it chooses whatever its usual way
of paying (seed 001 §2); the run charges what the mode says, and GET tells where it stands.
Alpha (conftest): balance -250.00, credit balance 100.00, available credit 500.00 (so 600.00
available with its credit balance), card a_card."""

import datetime
from decimal import Decimal as D

import pytest

from billing.auto_topups import auto_topup_run
from billing.gateway import TestGateway
from billing.selectors import account_financials, balance_mismatches
from resellers.models import AuditEvent
from resellers.services import payment_method_create
from tests import factories as f

NOW = datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.UTC)


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
    idle = {"status": "idle", "since": None, "next_attempt_at": None, "last_attempt": None}
    expected = {**body, "amount": None, **idle}
    assert response.json() == expected
    assert api(world.alpha).get(url(world.a)).json() == expected
    assert AuditEvent.objects.filter(action="account.update_financials", account=world.a).exists()


def test_the_run_charges_what_brings_the_balance_to_the_target(world, api):
    card = f.card(world.a, token="tok_topup_card")
    api(world.alpha).put(
        url(world.a),
        {"enabled": True, "threshold": "700.00", "mode": "target", "target": "800.00",
         "payment_method": card.pk},
        format="json",
    )  # fmt: skip

    result = auto_topup_run(now=NOW)
    again = auto_topup_run(now=NOW + datetime.timedelta(minutes=10))

    [payment] = result.charged
    assert (payment.total, payment.payment_method_id) == (D("1050.00"), card.pk)  # -250 -> 800
    assert account_financials(account=world.a).balance == D("800.00")
    assert again.charged == []
    body = api(world.alpha).get(url(world.a)).json()
    assert body["status"] == "idle"  # back above the threshold at once
    assert body["last_attempt"]["status"] == "succeeded"
    assert body["last_attempt"]["payment"] == payment.pk
    assert balance_mismatches() == []


def test_get_tells_a_declined_attempt_and_when_it_is_retried(world, api):
    card = f.card(world.a, token="tok_decline_api")
    body = {"enabled": True, "threshold": "700.00", "amount": "100.00", "payment_method": card.pk}
    api(world.alpha).put(url(world.a), body, format="json")

    auto_topup_run(now=NOW)

    state = api(world.alpha).get(url(world.a)).json()
    assert (state["status"], state["since"]) == ("retry_scheduled", "2026-03-01T06:00:00Z")
    assert state["next_attempt_at"] == "2026-03-01T07:00:00Z"
    attempt = state["last_attempt"]
    assert (attempt["status"], attempt["message"]) == ("declined", "The card was declined.")
    assert (attempt["amount"], attempt["payment_method"], attempt["payment"]) == (
        "100.00",
        card.pk,
        None,
    )
    assert {k: state[k] for k in body} == body  # the settings, as PUT wrote them
    assert api(world.bravo).get(url(world.a)).status_code == 404


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

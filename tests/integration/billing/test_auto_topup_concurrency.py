"""Automatic top-up run by several workers at once (real threads on PostgreSQL, released together
by a barrier, each on its own connection): one charge per crossing, one notice per decline."""

import datetime
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from billing.auto_topups import auto_topup_run
from billing.gateway import TestGateway
from billing.models import AutoTopupAttempt, AutoTopupCrossing, Document, GatewayCharge
from billing.selectors import balance_mismatches
from resellers.services import account_update_financials
from tests import factories as f
from tests.factories import api as fa
from tests.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)

JAN5 = datetime.date(2026, 1, 5)
NOW = datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def below_threshold(name: str, token: str):
    """A net-terms reseller (limit 1,000) owing 600.00: 400.00 available, below 500.00."""
    account = f.reseller(parent=f.provider(), name=name)
    f.invoice(account, "600.00", JAN5)
    fa.contact(account, f"{name} Billing", is_bill_to=True)
    account_update_financials(
        account=account,
        acting_user=None,
        auto_topup_enabled=True,
        auto_topup_threshold=Decimal("500.00"),
        auto_topup_amount=Decimal("200.00"),
        auto_topup_payment_method=f.card(account, token=token),
    )
    return account


def top_ups(account) -> int:
    return Document.objects.filter(recipient=account, reference="Top-up").count()


def test_concurrent_runs_charge_each_crossing_once():
    alpha = below_threshold("Alpha", "tok_alpha")
    bravo = below_threshold("Bravo", "tok_bravo")

    results, errors = run_together(4, lambda i: auto_topup_run(now=NOW))

    assert errors == []
    charged = sorted(p.recipient_id for r in results for p in r.charged)
    assert charged == [alpha.pk, bravo.pk]
    assert (top_ups(alpha), top_ups(bravo)) == (1, 1)
    assert AutoTopupCrossing.objects.count() == 2 and AutoTopupAttempt.objects.count() == 2
    assert len(TestGateway.charges) == 2 and set(TestGateway.attempts.values()) == {1}
    assert balance_mismatches() == []


def test_concurrent_runs_make_one_attempt_and_send_one_notice_for_a_decline():
    alpha = below_threshold("Alpha", "tok_decline_alpha")

    results, errors = run_together(3, lambda i: auto_topup_run(now=NOW))

    assert errors == []
    assert sum(len(r.failed) for r in results) == 1
    [attempt] = AutoTopupAttempt.objects.filter(crossing__account=alpha)
    assert attempt.status == "declined" and sum(TestGateway.attempts.values()) == 1
    assert [m.to for m in mail.outbox] == [["alpha.billing@example.com"]]


@override_settings(AUTO_TOPUP_ATTEMPT_LEASE_MINUTES=0)
def test_two_workers_on_one_pending_attempt_book_it_once(monkeypatch):
    """No claim holds (lease 0) and the gateway is slow, so both workers send the same key at
    once: the gateway answers both with one charge and GatewayCharge books it once."""
    alpha = below_threshold("Alpha", "tok_alpha")
    charge = TestGateway.charge

    def slow(self, **kwargs):
        time.sleep(0.5)
        return charge(self, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", slow)

    results, errors = run_together(2, lambda i: auto_topup_run(now=NOW))

    assert errors == []
    [crossing] = AutoTopupCrossing.objects.filter(account=alpha)
    [attempt] = crossing.attempts.all()
    key = f"topup:{alpha.pk}:{attempt.idempotency_key}"
    assert TestGateway.attempts == {key: 2} and len(TestGateway.charges) == 1
    assert GatewayCharge.objects.filter(idempotency_key=key).count() == 1
    assert top_ups(alpha) == 1 and attempt.status == "succeeded"
    assert crossing.payment_id == attempt.payment_id
    assert {p.pk for r in results for p in r.charged} == {attempt.payment_id}
    assert balance_mismatches() == []

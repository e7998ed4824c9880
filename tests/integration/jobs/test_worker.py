"""verify_balances executed by a real Celery worker on Redis, against committed data."""

import datetime
import logging
import threading
from decimal import Decimal as D

import pytest

from billing.models import Balance
from billing.tasks import verify_balances
from config.celery import app as celery_app
from tests import factories as f

DAY = datetime.date(2026, 5, 1)
TIMEOUT = 60

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _books():
    provider = f.provider()
    alpha = f.reseller(parent=provider, name="Alpha Reseller")
    bravo = f.reseller(parent=provider, name="Bravo Reseller")
    inv = f.invoice(alpha, "120.00", DAY)
    f.payment(alpha, "50.00", DAY, apply_to=[inv])
    f.invoice(bravo, "20.00", DAY)
    f.credit_memo(bravo, "5.00", DAY)
    return alpha, bravo


def test_worker_is_real_and_not_eager(worker_queue):
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.broker_url.startswith("redis://")


def test_worker_verifies_clean_books(worker_queue, caplog):
    caplog.set_level(logging.INFO, logger="billing.tasks")
    _books()

    result = verify_balances.apply_async(queue=worker_queue)
    outcome = result.get(timeout=TIMEOUT)

    assert result.successful()
    assert outcome == {"ok": True, "mismatches": []}
    [record] = [r for r in caplog.records if r.name == "billing.tasks"]
    assert record.getMessage() == "verify_balances: all balances agree"
    assert record.threadName != threading.current_thread().name  # the worker's thread ran it


def test_worker_reports_a_tampered_balance(worker_queue, caplog):
    caplog.set_level(logging.INFO, logger="billing.tasks")
    _alpha, bravo = _books()
    Balance.objects.filter(issuer=bravo.issuer, recipient=bravo).update(open_debt=D("19.99"))

    outcome = verify_balances.apply_async(queue=worker_queue).get(timeout=TIMEOUT)

    assert outcome["ok"] is False
    assert outcome["mismatches"] == [
        {
            "account_id": bravo.pk,
            "account": "Bravo Reseller",
            "what": "open debt",
            "cached": "19.99",
            "actual": "20.00",
        }
    ]
    errors = [r for r in caplog.records if r.name == "billing.tasks" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"balance mismatch: account {bravo.pk} (Bravo Reseller): open debt is 19.99 cached, "
        "20.00 from documents"
    ]
    assert "Alpha Reseller" not in caplog.text

"""Scheduled ledger jobs. Thin: parse arguments, call one selector or service.

The beat schedule that runs them is static, in code: CELERY_BEAT_SCHEDULE in
config/settings/base.py.
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from billing.selectors import balance_mismatches

logger = logging.getLogger(__name__)


@shared_task(
    name="billing.tasks.verify_balances",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def verify_balances() -> dict:
    """Nightly: compare cached balances with documents. Read-only, so running it twice is safe.

    Each mismatch is logged at ERROR, naming the account, and listed in the result; a lost
    database connection is retried.
    """
    mismatches = balance_mismatches()
    for mismatch in mismatches:
        logger.error("balance mismatch: %s", mismatch)
    if not mismatches:
        logger.info("verify_balances: all balances agree")
    return {
        "ok": not mismatches,
        "mismatches": [
            {
                "account_id": m.account_id,
                "account": m.account_name,
                "what": m.what,
                "cached": str(m.cached),
                "actual": str(m.actual),
            }
            for m in mismatches
        ],
    }

"""Scheduled ledger jobs. Thin: parse arguments, call one selector or service."""

import logging

from celery import shared_task

from billing.selectors import balance_mismatches

logger = logging.getLogger(__name__)


@shared_task(name="billing.tasks.verify_balances")
def verify_balances() -> dict:
    """Nightly: compare cached balances with documents. Read-only, so running it twice is safe."""
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

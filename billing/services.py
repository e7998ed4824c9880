"""Temporary: moved to billing.ledger; callers are being switched."""

from billing.ledger import *  # noqa: F403
from billing.ledger import _apply_credit_balance as _apply_credit_balance  # billing.runs

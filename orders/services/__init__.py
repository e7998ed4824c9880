"""Writes on orders and subscriptions: create, submit, approve, validate, execute, cancel.

Callers import from here. The modules, each importing only those before it in this list (no
cycles): common (what they share); execution (step 4 of the validation chain); payment (step 1's
prepayment, step 3's card charge); validation (the chain itself, approve, resume, execute by
hand); placement (create and submit); trials (conversion orders); cancellation (order_cancel);
subscriptions (cancel, suspend, resume, change quantity: needs only common); corrections
(correcting orders); usage_corrections (a usage record's real value: needs corrections).
"""

from orders.services.cancellation import order_cancel
from orders.services.common import INSUFFICIENT_CREDIT
from orders.services.corrections import OUTCOMES, CorrectionLine, SideResult, order_correct
from orders.services.payment import GATEWAY_FAILED, TOKEN_WARNING
from orders.services.placement import ItemSpec, order_create, order_place, order_submit
from orders.services.subscriptions import (
    CHANGE_INSUFFICIENT_CREDIT,
    subscription_cancel,
    subscription_cancel_ends_now,
    subscription_change_quantity,
    subscription_resume,
    subscription_suspend,
)
from orders.services.trials import TRIAL_CONVERSION_NOTE, trial_convert, trials_convert_due
from orders.services.usage_corrections import UsageCorrection, usage_correct
from orders.services.validation import order_approve, order_execute_manually, order_resume
from orders.workflow import CANCELLABLE, SUBSCRIPTION_TRANSITIONS, InvalidOrderTransition
from resellers.exceptions import ApplicationError, PermissionDenied  # raised here; callers catch

__all__ = [
    "CANCELLABLE",
    "CHANGE_INSUFFICIENT_CREDIT",
    "GATEWAY_FAILED",
    "INSUFFICIENT_CREDIT",
    "OUTCOMES",
    "SUBSCRIPTION_TRANSITIONS",
    "TOKEN_WARNING",
    "TRIAL_CONVERSION_NOTE",
    "ApplicationError",
    "CorrectionLine",
    "InvalidOrderTransition",
    "ItemSpec",
    "PermissionDenied",
    "SideResult",
    "UsageCorrection",
    "order_approve",
    "order_cancel",
    "order_correct",
    "order_create",
    "order_execute_manually",
    "order_place",
    "order_resume",
    "order_submit",
    "subscription_cancel",
    "subscription_cancel_ends_now",
    "subscription_change_quantity",
    "subscription_resume",
    "subscription_suspend",
    "trial_convert",
    "trials_convert_due",
    "usage_correct",
]

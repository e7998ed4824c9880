"""What may happen to an order or a subscription, and who may make it happen: one table each.

Two tables per object:
- the *transition table*: which status may become which (`ORDER_TRANSITIONS`,
  `SUBSCRIPTION_TRANSITIONS`); `order_move` and `subscription_move` refuse anything else;
- the *action table*: each action a person (or a job) takes, the statuses it starts from, and
  the parties who may take it (`ORDER_ACTIONS`, `SUBSCRIPTION_ACTIONS`).

`order_actions` and `subscription_actions` (re-exported by `orders.selectors`) answer "which
actions may this user take on this object now": the panels show exactly those buttons. The
services call `order_action_check` / `subscription_action_check` under the object's row lock, so
the API's 403 and 409 come from the same table and the two cannot disagree.

Parties, by who the user is to the object:
- `provider`: provider staff; `system`: a scheduled job or a service acting for no one
  (`acting_user=None`), which may do what provider staff may;
- `credit`: a user of the account whose credit an order uses (the resale reseller for its own
  and its customers' orders; the customer itself for referral and direct customers);
- `customer`: a user of the order's customer account that is not its credit account;
- `manager`: for a subscription, a user of its holder or of its credit account.

Pure: no queries (every rule reads fields already on the object).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orders.models import Order, OrderStatus, Subscription, SubscriptionStatus
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import Account, User

PROVIDER, SYSTEM, CREDIT, CUSTOMER, MANAGER = "provider", "system", "credit", "customer", "manager"


class InvalidOrderTransition(ApplicationError):
    """The object's status does not allow this (approving twice, cancelling a completed order):
    the API answers 409."""


@dataclass(frozen=True)
class Action:
    """An action: the statuses it starts from, the parties who may take it from any of them
    (`parties`), parties who may take it from fewer (`limited`), and the refusal for anyone
    else (403)."""

    name: str
    past: str
    statuses: frozenset[str]
    parties: frozenset[str]
    denied: str
    limited: dict[str, frozenset[str]] = field(default_factory=dict)


def _parties(user: User | None, *, credit_id: int | None, others: dict[str, set]) -> set[str]:
    if user is None:
        return {SYSTEM, PROVIDER}
    if user.is_provider_staff:
        return {PROVIDER}
    found = {CREDIT} if user.account_id is not None and user.account_id == credit_id else set()
    found |= {name for name, ids in others.items() if user.account_id in ids}
    return found


def _allowed(action: Action, parties: set[str], status: str) -> bool:
    if status in action.statuses and parties & action.parties:
        return True
    return any(status in action.limited.get(party, ()) for party in parties)


def _check(action: Action, parties: set[str], status: str, conflict: str) -> None:
    if _allowed(action, parties, status):
        return
    if parties & action.parties:
        raise InvalidOrderTransition(conflict)
    raise PermissionDenied(action.denied)


# --- prepaid orders -------------------------------------------------------------------------

# Why an order may not be prepaid by a single payment (prepay_barrier), in words of the credit
# side: DESIGN.md "Available credit and prepaid orders".
NO_PREPAY_DISABLED = "disabled"  # daily invoicing `disabled`: nothing is prepaid
NO_PREPAY_OWN_PURCHASE = "own_purchase"  # `prepaid_only`: the reseller's own purchase
NO_PREPAY_MANUAL = "manual"  # a product the distributor executes by hand


def prepay_barrier(order: Order, *, manual_products: bool = False) -> str | None:
    """Why no payment may prepay `order` (one of the NO_PREPAY_ codes), or None when one may: a
    prepaid order is invoiced by the credit account's daily invoicing, so only where that will
    invoice it: mode `all`, or `prepaid_only` for an order placed for one of its customers, never
    its own direct purchase; with `disabled` nothing is prepaid. A prepaid account (no credit
    terms) must prepay every order. `manual_products`: the order holds a product the
    distributor executes by hand, which is never prepaid (the caller knows its items)."""
    account = order.credit_account
    if account.credit_terms != Account.CreditTerms.PREPAID:
        mode = account.daily_invoicing
        if mode == Account.DailyInvoicing.DISABLED:
            return NO_PREPAY_DISABLED
        if mode != Account.DailyInvoicing.ALL and order.customer_id is None:
            return NO_PREPAY_OWN_PURCHASE
    if manual_products:
        return NO_PREPAY_MANUAL
    return None


# --- orders ------------------------------------------------------------------------------------

S = OrderStatus
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    # Submitting runs the chain at once where nothing waits (orders.services.placement).
    S.DRAFT: frozenset(
        {S.SUBMITTED, S.PENDING_APPROVAL, S.UNEXECUTED_CREDIT, S.COMPLETED, S.CANCELLED}
    ),
    # The validation chain's outcomes (DESIGN.md "Orders"), or split into sub-orders.
    S.SUBMITTED: frozenset(
        {
            S.PENDING_APPROVAL,
            S.UNEXECUTED_CREDIT,
            S.SUBMITTED_TO_DISTRIBUTOR,
            S.PENDING,
            S.COMPLETED,
            S.CANCELLED,  # every sub-order cancelled
        }
    ),
    S.PENDING_APPROVAL: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.UNEXECUTED_CREDIT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.PENDING: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED_TO_DISTRIBUTOR: frozenset({S.PENDING, S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),  # corrected by a correcting order, never changed
    S.CANCELLED: frozenset(),
}

CANCELLABLE = frozenset(
    {S.DRAFT, S.PENDING_APPROVAL, S.UNEXECUTED_CREDIT, S.SUBMITTED_TO_DISTRIBUTOR, S.PENDING}
)
ACCEPTABLE = frozenset({S.PENDING_APPROVAL, S.UNEXECUTED_CREDIT, S.PENDING})

ORDER_ACTIONS: dict[str, Action] = {
    # Seed 004: the reseller accepts an order pending its approval, one left unexecuted for lack
    # of credit (after paying off debt or topping up), or one pending for its card token.
    "accept": Action(
        name="accept",
        past="approved",
        statuses=ACCEPTABLE,
        parties=frozenset({PROVIDER, SYSTEM, CREDIT}),
        denied="Only the reseller can approve its customers' orders.",
    ),
    # The distributor executes what was submitted to it for manual execution.
    "execute": Action(
        name="execute",
        past="executed",
        statuses=frozenset({S.SUBMITTED_TO_DISTRIBUTOR}),
        parties=frozenset({PROVIDER, SYSTEM}),
        denied="Only the distributor executes orders by hand.",
    ),
    # Seed 001 §4: provider staff correct a completed order by a correcting order.
    "correct": Action(
        name="correct",
        past="corrected",
        statuses=frozenset({S.COMPLETED}),
        parties=frozenset({PROVIDER, SYSTEM}),
        denied="Only provider staff correct orders.",
    ),
    # Anything not yet executed; a customer only its own, before its reseller approved it.
    "cancel": Action(
        name="cancel",
        past="cancelled",
        statuses=CANCELLABLE,
        parties=frozenset({PROVIDER, SYSTEM, CREDIT}),
        limited={CUSTOMER: frozenset({S.DRAFT, S.PENDING_APPROVAL})},
        denied="You cannot cancel this order.",
    ),
}


def order_roles(user: User | None, order: Order) -> set[str]:
    return _parties(user, credit_id=order.credit_account_id, others={CUSTOMER: {order.customer_id}})


def sees_credit_side(user: User | None, order: Order) -> bool:
    """Whether `user` sees the credit side of an order: its real status while it is in the
    reseller's hands, its total cost, and status messages about the credit account's credit and
    payment method. Provider staff, jobs, and users of the credit account; a resale reseller's
    customer sees *Processing* and its own prices (DESIGN.md, "Who uses it")."""
    return bool(order_roles(user, order) & {PROVIDER, CREDIT})


# What a resale reseller's customer reads while its order is in its reseller's hands: the
# reseller's credit and payment method are none of the customer's business.
PROCESSING = ("processing", "Processing")
IN_THE_RESELLERS_HANDS = frozenset(
    {S.SUBMITTED, S.UNEXECUTED_CREDIT, S.SUBMITTED_TO_DISTRIBUTOR, S.PENDING}
)


def order_status_shown(*, user: User | None, order: Order) -> tuple[str, str]:
    """The status `user` is shown, as (code, label): the real one on the credit side,
    `("processing", "Processing")` for a resale reseller's customer while the order is with its
    reseller or the distributor. The panels and the API's `status` both read it."""
    if order.status in IN_THE_RESELLERS_HANDS and not sees_credit_side(user, order):
        return PROCESSING
    return order.status, order.get_status_display()


# Statuses whose message comes from the validation chain and speaks of the credit account's
# credit or payment method (e.g. seed 004's token warning).
CHAIN_STATUSES = frozenset({S.UNEXECUTED_CREDIT, S.PENDING})


def order_status_message_shown(*, user: User | None, order: Order) -> str | None:
    """The order's status message as `user` may read it: a message of the validation chain
    only on the credit side (None to others); a cancellation reason or the like to everyone who
    sees the order."""
    if order.status in CHAIN_STATUSES and not sees_credit_side(user, order):
        return None
    return order.status_message


def order_actions(*, user: User | None, order: Order) -> frozenset[str]:
    """The actions `user` may take on `order` now (the panel's buttons)."""
    parties = order_roles(user, order)
    return frozenset(
        name for name, action in ORDER_ACTIONS.items() if _allowed(action, parties, order.status)
    )


def order_action_check(*, user: User | None, order: Order, action: str) -> None:
    """Raise PermissionDenied (403) when `user` may never take `action` on `order`, and
    InvalidOrderTransition (409) when its status does not allow it now."""
    rule = ORDER_ACTIONS[action]
    conflict = (
        f"Order {order.display_number} is {order.get_status_display()}; it cannot be {rule.past}."
    )
    _check(rule, order_roles(user, order), order.status, conflict)


def order_move(order: Order, status: str) -> None:
    """Set `order.status` along the transition table (not saved)."""
    if status not in ORDER_TRANSITIONS[order.status]:
        raise InvalidOrderTransition(
            f"Order {order.display_number} is {order.get_status_display()}; it cannot become "
            f"{S(status).label}."
        )
    order.status = status


# --- subscriptions -----------------------------------------------------------------------------

T = SubscriptionStatus
# An order of an account on credit hold (billing.dunning) is not executed: it waits in the
# unexecuted-for-credit queue, where its reseller (or the provider) may still accept it.
CREDIT_HOLD = (
    "Not executed: the account is on credit hold for overdue payments. Paying what is overdue "
    "lifts the hold."
)


SUBSCRIPTION_TRANSITIONS: dict[str, frozenset[str]] = {
    T.TRIAL: frozenset({T.ACTIVE, T.CANCELLED, T.SUSPENDED}),
    T.ACTIVE: frozenset({T.PENDING_CANCELLATION, T.SUSPENDED, T.CANCELLED}),
    T.PENDING_CANCELLATION: frozenset({T.CANCELLED, T.ACTIVE, T.SUSPENDED}),
    T.SUSPENDED: frozenset({T.ACTIVE, T.CANCELLED}),
    T.CANCELLED: frozenset(),
}

SUBSCRIPTION_ACTIONS: dict[str, Action] = {
    # A trial or a suspended subscription ends at once; a paid one at the end of the period
    # already billed (pending cancellation).
    "cancel": Action(
        name="cancel",
        past="cancelled",
        statuses=frozenset({T.TRIAL, T.ACTIVE, T.SUSPENDED}),
        parties=frozenset({PROVIDER, SYSTEM, MANAGER}),
        denied="You cannot cancel this subscription.",
    ),
    # Ends a paid subscription today (and, where the policy refunds on cancel, credits back the
    # unused days already billed).
    "cancel_immediately": Action(
        name="cancel_immediately",
        past="cancelled",
        statuses=frozenset({T.TRIAL, T.ACTIVE, T.PENDING_CANCELLATION, T.SUSPENDED}),
        parties=frozenset({PROVIDER, SYSTEM}),
        denied="Only the provider cancels a paid subscription at once.",
    ),
    # Credit hold (seed 001 §3).
    "suspend": Action(
        name="suspend",
        past="suspended",
        statuses=frozenset({T.TRIAL, T.ACTIVE, T.PENDING_CANCELLATION}),
        parties=frozenset({PROVIDER, SYSTEM}),
        denied="Only the provider suspends subscriptions.",
    ),
    "reactivate": Action(
        name="reactivate",
        past="reactivated",
        statuses=frozenset({T.SUSPENDED}),
        parties=frozenset({PROVIDER, SYSTEM}),
        denied="Only the provider reactivates suspended subscriptions.",
    ),
    "withdraw_cancellation": Action(
        name="withdraw_cancellation",
        past="kept",
        statuses=frozenset({T.PENDING_CANCELLATION}),
        parties=frozenset({PROVIDER, SYSTEM, MANAGER}),
        denied="You cannot change this subscription.",
    ),
    "change_quantity": Action(
        name="change_quantity",
        past="changed",
        statuses=frozenset({T.TRIAL, T.ACTIVE}),
        parties=frozenset({PROVIDER, SYSTEM, MANAGER}),
        denied="You cannot change this subscription.",
    ),
}

# The status each action leads to, for the 409's wording ("already suspended").
_TARGET = {
    "cancel": T.CANCELLED,
    "cancel_immediately": T.CANCELLED,
    "suspend": T.SUSPENDED,
    "reactivate": T.ACTIVE,
    "withdraw_cancellation": T.ACTIVE,
}


def subscription_roles(user: User | None, subscription: Subscription) -> set[str]:
    managers = {subscription.account_id, subscription.credit_account_id}
    return _parties(user, credit_id=None, others={MANAGER: managers})


def subscription_actions(*, user: User | None, subscription: Subscription) -> frozenset[str]:
    """The actions `user` may take on `subscription` now (the panel's buttons)."""
    parties = subscription_roles(user, subscription)
    return frozenset(
        name
        for name, action in SUBSCRIPTION_ACTIONS.items()
        if _allowed(action, parties, subscription.status)
    )


def _subscription_conflict(subscription: Subscription, action: str) -> str:
    shown = subscription.get_status_display().lower()
    if action == "change_quantity":
        return f"A {shown} subscription cannot change quantity."
    if action == "cancel" and subscription.status == T.PENDING_CANCELLATION:
        return "The subscription is already pending cancellation."
    target = _TARGET[action]
    if target == subscription.status:
        return f"The subscription is already {shown}."
    return f"A {shown} subscription cannot become {T(target).label.lower()}."


def subscription_action_check(*, user: User | None, subscription: Subscription, action: str):
    """Raise PermissionDenied (403) when `user` may never take `action` on `subscription`, and
    InvalidOrderTransition (409) when its status does not allow it now."""
    conflict = _subscription_conflict(subscription, action)
    _check(
        SUBSCRIPTION_ACTIONS[action],
        subscription_roles(user, subscription),
        subscription.status,
        conflict,
    )


def subscription_move(subscription: Subscription, status: str) -> None:
    """Set `subscription.status` along the transition table (not saved)."""
    if status == subscription.status:
        raise InvalidOrderTransition(
            f"The subscription is already {subscription.get_status_display().lower()}."
        )
    if status not in SUBSCRIPTION_TRANSITIONS[subscription.status]:
        raise InvalidOrderTransition(
            f"A {subscription.get_status_display().lower()} subscription cannot become "
            f"{T(status).label.lower()}."
        )
    subscription.status = status

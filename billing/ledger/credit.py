"""Available credit: the credit check under the account's lock, and credit reservations."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.ledger.balances import _lock_account
from billing.ledger.errors import InsufficientCredit
from billing.models import CreditReservation
from billing.money import to_decimal
from billing.selectors import account_financials
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.prepared import PreparedQuery
from resellers.services import audit_record


def credit_available_locked(*, account: Account, also_lock: Sequence[Account] = ()) -> Decimal:
    """Lock `account` (and `also_lock`, all in id order) and return its available credit. Call it
    inside the transaction that then records what the credit is spent on
    (reseller_transactions_add): the locks hold until that transaction ends, so no concurrent
    order can spend the same credit.

    Two statements on purpose: under READ COMMITTED, a SELECT ... FOR UPDATE that waited for the
    lock re-reads the locked row but computes its other expressions (the sums of charges and
    reservations) from the snapshot taken before it waited, missing what the previous holder
    just committed. The figures are read by a second statement, with a fresh snapshot, after the
    lock is held."""
    return _lock_with_available(account, also_lock)[1]


def _lock_with_available(
    account: Account, also_lock: Sequence[Account] = ()
) -> tuple[Account, Decimal]:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credit_available_locked needs the caller's transaction")
    ids = sorted({account.pk, *(other.pk for other in also_lock)})
    using = account._state.db or "default"
    locked = {row.pk: row for row in _LOCK_ACCOUNTS.instances(Account, using=using, ids=ids)}
    return locked[account.pk], account_financials(account=locked[account.pk]).available_credit


# Every order takes these locks: compiled once (resellers.prepared).
_LOCK_ACCOUNTS = PreparedQuery(
    lambda ids: (
        Account.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values(*PreparedQuery.fields(Account))
    ),
    "ids",
)


def credit_check(
    *,
    account: Account,
    amount: Decimal,
    also_lock: Sequence[Account] = (),
    field: str | None = None,
    message: str | None = None,
) -> Decimal:
    """The credit check of seed 004's validation chain, the one every change that raises what an
    account will be billed passes (a new order through credit_reserve, a quantity raise, a
    trial's raise and conversion): lock `account` (and `also_lock`, in id order) for the
    caller's transaction and raise InsufficientCredit (on `field`) when `amount` is more than
    its available credit. Returns the available credit."""
    return _credit_check(account, amount, also_lock, field=field, message=message)[1]


def _credit_check(account, amount, also_lock=(), *, field=None, message=None):
    amount = to_decimal(amount)
    locked, available = _lock_with_available(account, also_lock)
    if amount > available:
        raise InsufficientCredit(
            message or f"Insufficient credit: {amount} needed, {available} available.",
            field=field,
            extra={"available": available, "needed": amount},
        )
    return locked, available


@transaction.atomic
def credit_reserve(
    *, account: Account, amount: Decimal, reference: str, acting_user: User | None = None
) -> CreditReservation:
    """Hold `amount` of `account`'s available credit for `reference` (e.g. an order).

    The check (credit_check) and the reservation happen under the account's row lock, so
    concurrent callers never together reserve more than is available. Raises InsufficientCredit.
    """
    amount = to_decimal(amount)
    if amount <= 0:
        raise ApplicationError("A reservation must be positive.", field="amount")
    locked, _ = _credit_check(account, amount)
    reservation = CreditReservation.objects.create(
        account=locked, amount=amount, currency=locked.currency, reference=reference
    )
    audit_record(
        actor=acting_user,
        action="credit.reserve",
        obj=reservation,
        account=locked,
        details={"amount": str(amount), "reference": reference},
    )
    return reservation


@transaction.atomic
def credit_reservation_release(
    *, reservation: CreditReservation, acting_user: User | None = None
) -> CreditReservation:
    """Give the credit back (order cancelled or failed). Releasing twice changes nothing."""
    _lock_account(reservation.account_id)
    reservation = CreditReservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != CreditReservation.Status.ACTIVE:
        return reservation
    reservation.status = CreditReservation.Status.RELEASED
    reservation.closed_at = timezone.now()
    reservation.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=acting_user, action="credit.release", obj=reservation, account=reservation.account
    )
    return reservation

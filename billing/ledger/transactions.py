"""Reseller transactions: charges waiting for the reseller's billing order, and the billing cycle
a first charge anchors."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.ledger.balances import _lock_account
from billing.ledger.errors import InvalidTransition
from billing.models import CreditReservation, ResellerTransaction
from billing.money import round_money, to_decimal
from billing.periods import MONTHLY, nth_period
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.prepared import PreparedInsert
from resellers.services import audit_events, audit_record


@transaction.atomic
def reseller_transaction_record(
    *,
    account: Account,
    amount: Decimal,
    description: str,
    reference: str = "",
    reservation: CreditReservation | None = None,
    acting_user: User | None = None,
    charge_date: datetime.date | None = None,
) -> ResellerTransaction:
    """Record a charge waiting for the reseller's billing order. If it comes from a reserved order,
    the reservation is consumed in the same transaction, so the credit is never counted twice."""
    amount = to_decimal(amount)
    if round_money(amount, account.currency) != amount:
        raise ApplicationError("The amount has more decimals than the currency.", field="amount")
    locked = _lock_account(account.pk)
    if reservation is not None:
        reservation = _reservation_consume(reservation, account_ids={locked.pk})
    tx = ResellerTransaction.objects.create(
        account=locked,
        amount=amount,
        currency=locked.currency,
        description=description,
        reference=reference,
        reservation=reservation,
        charge_date=charge_date or timezone.localdate(),
    )
    _cycles_start([tx])
    audit_record(
        actor=acting_user,
        action="reseller_transaction.record",
        obj=tx,
        account=locked,
        details={"amount": str(amount)},
    )
    return tx


def _reservation_consume(
    reservation: CreditReservation, *, account_ids: set[int]
) -> CreditReservation:
    """The charges recorded for an order take its reserved credit's place: lock the reservation
    and mark it consumed; it must be active and one of `account_ids`'."""
    reservation = CreditReservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.account_id not in account_ids:
        raise ApplicationError("The reservation belongs to another account.")
    if reservation.status != CreditReservation.Status.ACTIVE:
        raise InvalidTransition(f"The reservation is already {reservation.status}.")
    reservation.status = CreditReservation.Status.CONSUMED
    reservation.closed_at = timezone.now()
    reservation.save(update_fields=["status", "closed_at"])
    return reservation


def _anchor(ids: Sequence[int], day: datetime.date) -> None:
    """Anchor the billing cycle of those of `ids` that have none on `day`; the first cycle date
    is a month on. Only rows still unanchored are written (and so locked)."""
    Account.objects.filter(pk__in=ids, billing_anchor__isnull=True).update(
        billing_anchor=day,
        next_billing_date=nth_period(anchor=day, billing_period=MONTHLY, index=1).start,
    )


def _cycles_start(rows: Sequence[ResellerTransaction]) -> None:
    """A first charge anchors its account's billing cycle (one statement when anchored)."""
    first: dict[int, datetime.date] = {}
    for row in rows:
        first[row.account_id] = min(row.charge_date, first.get(row.account_id, row.charge_date))
    for day in sorted(set(first.values())):
        _anchor(sorted(a for a, d in first.items() if d == day), day)


@dataclass(frozen=True)
class TransactionSpec:
    """One reseller transaction to record: a charge to `account` (docs/glossary.md)."""

    account: Account
    amount: Decimal
    description: str
    reference: str = ""
    charge_date: datetime.date | None = None  # today when not given
    kind: str = ResellerTransaction.Kind.ORDER
    subscription_id: int | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    tax_category: str = ""
    order_item_id: int | None = None  # the order detail it charges for


def billing_cycles_start(
    *, account_ids: Iterable[int], day: datetime.date
) -> dict[int, datetime.date]:
    """Anchor the billing cycle of each account that has none on `day` (its first charge or
    subscription) and return every given account's anchor. Its first cycle date is a month on:
    what falls due before it waits for it (billing.runs). Only rows still unanchored are
    written, so an anchored account's row is never locked here."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    _anchor(ids, day)
    return dict(Account.objects.filter(pk__in=ids).values_list("pk", "billing_anchor"))


_TRANSACTIONS_INSERT = PreparedInsert(ResellerTransaction)  # every order records some


@transaction.atomic(savepoint=False)
def reseller_transactions_add(
    *,
    charges: Sequence[TransactionSpec],
    acting_user: User | None = None,
    locked: bool = False,
    also_audit: Sequence[tuple] = (),
    reservation: CreditReservation | None = None,
) -> list[ResellerTransaction]:
    """Record several charges at once, with no reservation behind them: for a caller that checked
    the credit and records the charges in one transaction. Locks the accounts (one statement, in
    id order) unless the caller says it holds their locks (`locked`, e.g. from
    credit_available_locked); inserts the rows, then their audit rows together with the caller's
    `also_audit` events, in one statement each."""
    charges = [c for c in charges if c.amount != 0]
    for charge in charges:
        if round_money(charge.amount, charge.account.currency) != charge.amount:
            raise ApplicationError("The amount has more decimals than the currency.")
    if not locked and charges:
        ids = sorted({c.account.pk for c in charges})
        list(
            Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk")
        )
    if reservation is not None:  # an order's reserved credit, consumed by its charges
        reservation = _reservation_consume(reservation, account_ids={c.account.pk for c in charges})
    today = timezone.localdate()
    rows = _TRANSACTIONS_INSERT.insert(
        [
            ResellerTransaction(
                account=c.account,
                amount=c.amount,
                currency=c.account.currency,
                description=c.description,
                reference=c.reference,
                charge_date=c.charge_date or today,
                kind=c.kind,
                subscription_id=c.subscription_id,
                order_item_id=c.order_item_id,
                quantity=c.quantity,
                unit_price=c.unit_price,
                period_start_date=c.period_start,
                period_end_date=c.period_end,
                tax_category=c.tax_category,
                reservation=reservation
                if reservation is not None and i == 0 and c.account.pk == reservation.account_id
                else None,
            )
            for i, c in enumerate(charges)
        ]
    )
    if any(c.account.billing_anchor is None for c in charges):
        _cycles_start(rows)
    audit_events(
        actor=acting_user,
        events=[
            *also_audit,
            *(
                ("reseller_transaction.record", row, row.account_id, {"amount": str(row.amount)})
                for row in rows
            ),
        ],
    )
    return rows

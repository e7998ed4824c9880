"""The billing-date run's planner: rating due subscriptions and choosing what each account's
invoice carries.

Rating. On run date D, every billable subscription of the chunk's accounts whose
`next_billing_date` <= D is charged: recurring fees in advance for each period that starts on or
before D (a run that missed dates catches up, one charge per period), usage in arrears for each
period that ended on or before D. A charge is a `ResellerTransaction` row carrying the
subscription, the period and its kind: one for the holder (at its price; at cost when it buys
upstream itself) and, for a resale customer's subscription, one for the reseller at cost. A
partial unique index allows one live charge per (subscription, account, kind, period start).
Pending cancellations due on D close instead of renewing; a trial due on D becomes active.

Invoicing. An account's invoice on D carries its uninvoiced charges that fell due by D. A
reseller is invoiced on its cycle dates (its billing order); a customer also whenever a charge of
its own waits (an order's first period, a trial that ended: billed in advance). A run bills in
two phases: every other account first, then the resellers, so a reseller's billing order on D
carries its customers' consumption of the period that starts on D (seed 001 §3: "the charges for
the reseller's subscription and for the services the reseller's customers consumed during the
respective billing period"), whichever worker took which chunk. One live invoice per (account, key
"billing:D"), enforced by a unique index; each charge is invoiced once (status and FK, under the
account's row lock). Which charges of suspended subscriptions wait: billing.runs.on_hold.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from billing.models import ResellerTransaction
from billing.money import ZERO
from billing.periods import MONTHLY, Period, nth_period, period_containing
from billing.pricing import charge_sides, period_charge, prorated_note, usage_charge
from billing.runs.on_hold import _eligible, _suspended_own
from billing.runs.plans import Charge, ChunkPlan, planned_invoice
from billing.runs.reading import (
    _account_rows,
    _keys_taken,
    _subscription_rows,
    _usage,
    _waiting_charges,
)
from billing.runs.taxing import _tax
from orders.models import Product, SubscriptionStatus
from resellers.models import Account


def _next_cycle_after(anchor: datetime.date, day: datetime.date) -> datetime.date:
    return period_containing(anchor=anchor, billing_period=MONTHLY, day=day).end


def _periods(
    *, anchor: datetime.date, billing_period: str, through: datetime.date, until, in_advance: bool
) -> list[tuple[Period, datetime.date, datetime.date]]:
    """(whole period, part start, part end) of each period to charge from `through` on: in
    advance, those starting on or before `until`; in arrears, those ended by `until`. Before the
    anchor (a trial that ended between cycle dates) the part up to the anchor comes first,
    prorated against the period that ends there."""
    found = []
    if through < anchor:
        stub = nth_period(anchor=anchor, billing_period=billing_period, index=-1)
        part_end = anchor
        if (through <= until) if in_advance else (part_end <= until):
            found.append((stub, through, part_end))
            through = anchor
        else:
            return found
    period = period_containing(anchor=anchor, billing_period=billing_period, day=through)
    while (period.start <= until) if in_advance else (period.end <= until):
        found.append((period, max(period.start, through), period.end))
        period = nth_period(anchor=anchor, billing_period=billing_period, index=period.index + 1)
    return found


def _rate(sub: dict, run_date, usage: list[dict]) -> tuple[list[Charge], tuple]:
    """The charges of one due subscription and its update (pk, billed_through, next, status)."""
    status = sub["status"]
    in_advance = sub["billing_type"] != Product.BillingType.USAGE
    closing = status == SubscriptionStatus.PENDING_CANCELLATION
    closed = (sub["pk"], sub["billed_through"], None, SubscriptionStatus.CANCELLED, sub["quantity"])
    if closing and in_advance:
        return [], closed  # its last period was billed in advance: it ends here
    if status == SubscriptionStatus.TRIAL:
        status = SubscriptionStatus.ACTIVE
    through = sub["billed_through"] or sub["next_billing_date"]
    anchor = sub["billing_anchor"] or sub["start_date"]
    period_kind = sub["billing_period"]
    parts = _periods(
        anchor=anchor,
        billing_period=period_kind,
        through=through,
        until=run_date,
        in_advance=in_advance,
    )
    if not parts:
        return [], closed if closing else ()
    sides = charge_sides(
        holder_id=sub["account_id"],
        credit_account_id=sub["credit_account_id"],
        unit_price=sub["unit_price"],
        unit_cost=sub["unit_cost"],
    )
    buys_itself = len(sides) == 1
    quantity = Decimal(sub["renewal_quantity"] or sub["quantity"])
    currency = sub["currency"]
    charges: list[Charge] = []

    def add(account_id, kind, description, amount, unit, qty, period, start, end):
        charges.append(
            Charge(
                account_id=account_id,
                kind=kind,
                description=description,
                amount=amount,
                currency=currency,
                charge_date=start if in_advance else end,
                subscription_id=sub["pk"],
                holder_id=sub["account_id"],
                quantity=qty,
                unit_price=unit,
                period_start=start,
                period_end=end,
                tax_category=sub["tax_category"],
                reference=f"subscription:{sub['pk']}",
                suspended=status == SubscriptionStatus.SUSPENDED,
            )
        )

    for period, start, end in parts:
        prorated = prorated_note(period=period, start=start, end=end)
        note = f" ({prorated})" if prorated else ""
        name = sub["product_name"]
        if in_advance:
            kind = ResellerTransaction.Kind.RECURRING
            for side in sides:
                account_id, unit = side.account_id, side.unit_price
                description = name if side.is_holder else f"{name} for {sub['holder_name']}"
                amount = period_charge(
                    quantity=quantity, unit_price=unit, period=period, start=start, end=end,
                    currency=currency,
                )  # fmt: skip
                add(
                    account_id, kind, description + note, amount, unit, quantity, period, start, end
                )
        else:
            kind = ResellerTransaction.Kind.USAGE
            used = [u for u in usage if start <= u["usage_date"] < end]
            measured = sum((u["quantity"] for u in used if u["quantity"] is not None), ZERO)
            for side in sides:
                amount = usage_charge(
                    side=side, buys_itself=buys_itself, records=used, currency=currency
                )
                if amount:
                    description = (
                        f"{name}: usage"
                        if side.is_holder
                        else f"{name}: usage for {sub['holder_name']}"
                    )
                    add(side.account_id, kind, description, amount, side.unit_price, measured,
                        period, start, end)  # fmt: skip
    billed_through = parts[-1][2]
    if in_advance:
        next_date = billed_through
    else:
        next_date = period_containing(anchor=anchor, billing_period=period_kind, day=billed_through)
        next_date = next_date.end
    if closing:  # usage, in arrears: its last period's usage is billed, then it ends
        return charges, (sub["pk"], billed_through, None, SubscriptionStatus.CANCELLED,
                         int(quantity))  # fmt: skip
    return charges, (sub["pk"], billed_through, next_date, status, int(quantity))


def _line_order(charge: Charge, run_date) -> tuple:
    """An invoice's lines: the account's own first, then by period, holder and subscription (the
    same order whichever chunk wrote which charge first)."""
    return (
        not charge.own,
        charge.period_start or charge.charge_date or run_date,
        charge.holder_id or 0,
        charge.subscription_id or 0,
    )


def plan_billing_chunk(
    *,
    account_ids: Sequence[int],
    run_date: datetime.date,
    lock: bool,
    pending: dict[int, list[Charge]] | None = None,
) -> ChunkPlan:
    """Everything the billing run would do for these accounts on `run_date` (reads only). With
    `lock`, inside the caller's transaction, the accounts and their due subscriptions are locked
    first, so the plan stays true until the caller applies it. `pending`: charges a dry run's
    first phase planned for these accounts (the real run finds them written)."""
    plan = ChunkPlan(run_date=run_date, key=f"billing:{run_date.isoformat()}", account_ids=[])
    accounts = _account_rows(account_ids, lock)
    plan.account_ids = list(accounts)
    subscriptions = _subscription_rows(list(accounts), run_date, lock)
    usage = _usage(subscriptions, run_date)
    waiting = _waiting_charges(list(accounts))
    for account_id, charges in (pending or {}).items():
        if account_id in accounts:
            waiting[account_id].extend(charges)
    taken = _keys_taken(list(accounts), plan.key)
    suspended_own = _suspended_own(accounts)
    for sub in subscriptions:
        charges, update = _rate(sub, run_date, usage.get(sub["pk"], []))
        if update:
            plan.subscription_updates.append(update)
        if charges:
            plan.new_charges.extend(charges)
            for charge in charges:
                if charge.account_id in accounts:
                    waiting[charge.account_id].append(charge)
    for account_id, account in accounts.items():
        cycle_due = account["next_billing_date"] is not None and (
            account["next_billing_date"] <= run_date
        )
        if account["kind"] == Account.Kind.RESELLER and account_id in suspended_own:
            plan.held.append(account_id)  # on hold, off: the whole billing order waits
            continue
        charges = [c for c in waiting.get(account_id, []) if _eligible(c, account, run_date)]
        invoice_now = cycle_due or (account["kind"] != Account.Kind.RESELLER and charges)
        if account_id in taken:  # invoiced for this date already: what came since waits
            invoice_now = False
        if invoice_now and charges and account["issuer_id"] is not None:
            charges.sort(key=lambda c: _line_order(c, run_date))
            plan.invoices.append(planned_invoice(account, charges, run_date))
        if cycle_due:
            anchor = account["billing_anchor"] or account["next_billing_date"]
            plan.cycle_updates.append((account_id, _next_cycle_after(anchor, run_date)))
    _tax(plan)
    return plan

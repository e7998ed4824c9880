"""How the panels word things. No queries here: plain functions of what the selectors returned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages

# The document sheet's wording is shared with its PDF, which the API serves too, so it lives in
# billing (nothing imports dashboard); the panels use the same names, re-exported here.
from billing.document_layout import DASH as DASH
from billing.document_layout import day as day
from billing.document_layout import document_status as document_status
from billing.document_layout import moment as moment
from billing.document_layout import money as money
from billing.document_layout import plain_decimal as plain_decimal
from billing.document_layout import unit_money as unit_money
from billing.models import Application, Document
from orders.models import Order, OrderStatus
from orders.selectors import unexecuted_advice
from orders.workflow import order_status_shown

# Seed 000, "Daily Invoicing": what each mode does, shown beside the dropdown.
DAILY_INVOICING_HELP = {
    "prepaid_only": (
        "The reseller is invoiced daily only for the orders it pays by credit card and the "
        "orders its customers place based on delegated service plans. This option is effective "
        "only for orders pre-paid by a single payment that fully covers the respective order."
    ),
    "all": (
        "The reseller is invoiced daily for all its own orders and all orders placed by its "
        "customers based on delegated service plans."
    ),
    "disabled": "The reseller is not invoiced daily for any such orders.",
}
DAILY_INVOICING_IMPORTANT = (
    "If Prepaid purchases only is selected, daily invoicing does not cover orders placed by the "
    "reseller itself (direct purchases made by the reseller from its provider, where reselling "
    "does not occur)."
)


def possessive(name: str) -> str:
    """A name's possessive: "Contoso Ltd's", and "Wide World Importers'" for a name ending in s
    (an apostrophe alone, as English writes it after a plural or a name ending in s)."""
    name = str(name)
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"


def document_open_amount(document: Document, *, provider_view: bool) -> str:
    if document.reads_closed(provider_view=provider_view):
        return DASH
    return money(document.open_amount, document.currency)


# --- messages after ledger actions ------------------------------------------------------------


def applied_sentence(application: Application) -> str:
    """`Applied 50.00 USD of PAY-000003 to INV-000007.`"""
    return (
        f"Applied {money(application.amount, application.currency)} of "
        f"{application.credit_document.display_number} to "
        f"{application.debit_document.display_number}."
    )


def unlinked_sentence(application: Application) -> str:
    """`Unlinked 50.00 USD of PAY-000003 from INV-000007.`"""
    return (
        f"Unlinked {money(application.amount, application.currency)} of "
        f"{application.credit_document.display_number} from "
        f"{application.debit_document.display_number}."
    )


def payment_recorded_message(payment: Document, applications: Iterable[Application]) -> str:
    """What recording an offline payment did: the payment, each application, what is left."""
    parts = [
        f"Recorded payment {payment.display_number} of {money(payment.total, payment.currency)} "
        f"from {payment.recipient.name}."
    ]
    parts += [applied_sentence(a) for a in applications]
    if payment.open_amount > 0:
        parts.append(f"{money(payment.open_amount, payment.currency)} remains as credit balance.")
    return " ".join(parts)


def credit_paid_message(applications: Sequence[Application], *, provider_view: bool) -> str:
    """What paying with the credit balance did. Provider staff read each application; a
    reseller or customer reads what was paid per document, since to them the credit balance is
    one sum (seed 002: its credit memos read closed)."""
    if not applications:
        return "Nothing was applied: there is no credit balance left to apply."
    if provider_view:
        return " ".join(applied_sentence(a) for a in applications)
    currency = applications[0].currency
    paid: dict[int, tuple[Document, Decimal]] = {}
    for application in applications:
        debit = application.debit_document
        _, so_far = paid.get(debit.pk, (debit, Decimal(0)))
        paid[debit.pk] = (debit, so_far + application.amount)
    total = sum((amount for _, amount in paid.values()), Decimal(0))
    each = [
        f"{money(amount, currency)} to {debit.display_number} "
        + (
            f"({money(debit.open_amount, currency)} still open)"
            if debit.open_amount > 0
            else "(paid)"
        )
        for debit, amount in paid.values()
    ]
    return f"Paid {money(total, currency)} with your credit balance: {'; '.join(each)}."


# --- orders -----------------------------------------------------------------------------------

_STATUS_TONE = {
    OrderStatus.COMPLETED: "ok",
    OrderStatus.UNEXECUTED_CREDIT: "warn",
    OrderStatus.PENDING: "warn",
    OrderStatus.PENDING_APPROVAL: "warn",
    OrderStatus.CANCELLED: "muted",
}


def order_status(order: Order, *, user) -> str:
    """The status `user` is shown (orders.workflow.order_status_shown, as the API's)."""
    return order_status_shown(user=user, order=order)[1]


def order_status_tone(order: Order, *, user) -> str:
    """The badge's CSS class for the shown status."""
    return _STATUS_TONE.get(order_status_shown(user=user, order=order)[0], "")


def order_outcome(order: Order, *, action: str, own: bool = True) -> tuple[int, str]:
    """What an action (`"submitted"`, `"accepted"`, `"executed"`, `"cancelled"`) left the order
    as, for the credit side (`own`: a user of the credit account, else provider staff): a message
    level and one or more sentences. A pending order carries seed 004's exact warning in its
    status message; one unexecuted for lack of credit says the rule and what would work
    (orders.selectors.credit_shortfall)."""
    head = f"Order {order.display_number} was {action}"
    status = order.status
    if status == OrderStatus.COMPLETED:
        return messages.SUCCESS, f"{head} and is completed."
    if status == OrderStatus.SUBMITTED_TO_DISTRIBUTOR:
        return messages.SUCCESS, f"{head} and submitted to the distributor for manual execution."
    if status == OrderStatus.SUBMITTED:
        return messages.SUCCESS, f"{head}; its sub-orders proceed separately (see its page)."
    if status == OrderStatus.PENDING_APPROVAL:
        return messages.SUCCESS, f"{head} and is waiting for approval."
    if status == OrderStatus.UNEXECUTED_CREDIT:
        reason = order.status_message or "Not executed: there is not enough available credit."
        advice = unexecuted_advice(order=order, own=own)
        return messages.WARNING, f"{head}. {reason} {advice}"
    if status == OrderStatus.PENDING:
        return messages.WARNING, f"{head} but is pending. {order.status_message}".strip()
    return messages.SUCCESS, f"{head}."


def order_submitted_message(order: Order) -> str:
    """seed 004: the customer's submission confirmation."""
    return (
        f"Your order {order.display_number} was submitted. "
        "We emailed you a link to follow its status."
    )


# --- billing runs -----------------------------------------------------------------------------


def run_duration(duration) -> str:
    """`0.4 s`, `12 s`, `3 min 5 s`, `1 h 2 min`; a dash while it runs."""
    if duration is None:
        return DASH
    seconds = duration.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def run_amounts(amounts: dict) -> str:
    """A run's invoiced totals by currency, in currency order: `30.00 EUR; 1,520.00 USD`."""
    if not amounts:
        return DASH
    return "; ".join(money(Decimal(amounts[currency]), currency) for currency in sorted(amounts))


def run_status(run, *, stalled: bool) -> str:
    """`Completed`, `Completed with failures`, `Running (2 of 5 chunks)`, or, for a run whose
    chunks stopped reporting (billing.runs.reports.run_stalled), `Stalled / interrupted`."""
    if stalled:
        return f"Stalled / interrupted ({run.chunks_done} of {run.chunks_total} chunks)"
    if run.status == "running":
        return f"Running ({run.chunks_done} of {run.chunks_total} chunks)"
    return run.get_status_display()


def run_status_tone(run, *, stalled: bool) -> str:
    if stalled or run.status == "failed":
        return "warn"
    return "ok" if run.status == "completed" else "muted"


# How a run was started (`BillingRun.trigger`), in a word or two for the runs table.
RUN_TRIGGERS = {
    "panel": "panel",
    "api": "API",
    "beat": "scheduler",
    "command": "command",
    "demo": "demo data",
    "reactivation": "reactivation catch-up",
}
REACTIVATION = "reactivation"


def run_started_by(run) -> str:
    """Who started a run and how: `user1 · panel`, `scheduler`, `reactivation catch-up`; an
    unknown trigger as it is stored."""
    how = RUN_TRIGGERS.get(run.trigger, run.trigger)
    if run.started_by_id is None:
        return how
    return f"{run.started_by.get_username()} · {how}"


def tax_rate_percent(rate: Decimal) -> str:
    """A stored rate (a fraction) as people read it: 0.0725 -> "7.25 %", 0.2000 -> "20 %"."""
    return f"{format((rate * 100).normalize(), 'f')} %"


def correction_message(order: Order, correction: Order, sides) -> str:
    """What a correcting order did, side by side: `SO-000012 was corrected by SO-000015: Reseller
    R 100.00 USD -> 0.00 USD (credit memo CM-000003); ...`."""
    parts = []
    for side in sides:
        if side.how == "unchanged":
            continue
        docs = ", ".join(d.display_number for d in side.documents)
        how = f"{side.how} {docs}".strip() if docs else side.how
        note = f"; {side.note}" if side.note else ""
        parts.append(
            f"{side.account.name} {money(side.before, order.currency)} -> "
            f"{money(side.after, order.currency)} ({how}{note})"
        )
    done = "; ".join(parts) if parts else "nothing to charge or give back"
    return f"{order.display_number} was corrected by {correction.display_number}: {done}."


def percent(fraction) -> str:
    """A fraction (Decimal, 0 to 1) as a percentage with one decimal: 0.4375 -> "43.8 %"."""
    if fraction in (None, ""):
        return ""
    value = (Decimal(fraction) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value} %"

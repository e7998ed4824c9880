"""How the panels word things. No queries here: plain functions of what the selectors returned."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from billing.models import Application, Document, DocumentStatus, DocumentType
from billing.money import Money

DASH = "—"

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


def money(amount: Decimal | None, currency: str) -> str:
    """`1,234.50 USD`, or a dash for no amount."""
    if amount is None:
        return DASH
    return str(Money(amount, currency))


def credit_memo_closed(document: Document, *, provider_view: bool) -> bool:
    """Seed 002: to a reseller a credit memo is always "closed"; its value lives in the credit
    balance. Outside the provider panel (reseller and customer users alike) a credit memo reads
    closed and shows no open amount of its own."""
    return not provider_view and document.doc_type == DocumentType.CREDIT_MEMO


def document_status(
    document: Document, *, provider_view: bool, as_of: datetime.date | None = None
) -> str:
    """The status a user is shown: a credit memo reads closed outside the provider panel, and an
    unpaid debit document past its due date reads "Overdue" (on `as_of`, today at the edge)."""
    if credit_memo_closed(document, provider_view=provider_view):
        return DocumentStatus.CLOSED.label
    if as_of is not None and document.is_overdue(as_of=as_of):
        return "Overdue"
    return document.get_status_display()


def document_open_amount(document: Document, *, provider_view: bool) -> str:
    if credit_memo_closed(document, provider_view=provider_view):
        return DASH
    return money(document.open_amount, document.currency)


def plain_decimal(value: Decimal, *, min_places: int = 0) -> str:
    """A quantity or unit price without padding zeros: 1.5000 -> `1.5`, or `1.50` with
    `min_places=2`. Formatting only: nothing is rounded."""
    whole, _, fraction = f"{value:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    return f"{whole}.{fraction}" if fraction else whole


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

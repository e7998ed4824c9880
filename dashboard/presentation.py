"""How the panels word things. No queries here: plain functions of what the selectors returned."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Document, DocumentStatus, DocumentType
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


def document_status(document: Document, *, provider_view: bool) -> str:
    if credit_memo_closed(document, provider_view=provider_view):
        return DocumentStatus.CLOSED.label
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

"""A document as people read it: the invoice sheet shown on the panels' document page and printed
in its PDF (billing.documents_pdf), so both say the same thing. Plain functions of what the
selectors returned: no queries, no rounding (amounts are shown to their stored digits).

What a user is shown depends on who they are (`provider_view`) and on today (`as_of`, read at the
edge by the view): a credit memo reads closed outside the provider panel (seed 002: its value lives
in the credit balance), and an unpaid debit document past its due date reads "Overdue".

Line periods are stored with an exclusive end (STYLE.md); an invoice shows the last day billed,
so a line stored as 1 Dec 2026 to 1 Jan 2027 reads "1 Dec 2026 - 31 Dec 2026" (with an en dash).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

from billing.models import (
    LIVE_STATUSES,
    BillingRun,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
)
from billing.money import Money, minor_unit
from resellers.models import Contact

DASH = "—"
ONE_DAY = datetime.timedelta(days=1)
EN_DASH = "\u2013"


# --- formatting -------------------------------------------------------------------------------


def money(amount: Decimal | None, currency: str) -> str:
    """`1,234.50 USD`, or a dash for no amount."""
    if amount is None:
        return DASH
    return str(Money(amount, currency))


def plain_decimal(value: Decimal, *, min_places: int = 0) -> str:
    """A quantity or unit price without padding zeros: 1.5000 -> `1.5`, or `1.50` with
    `min_places=2`. Formatting only: nothing is rounded."""
    whole, _, fraction = f"{value:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    return f"{whole}.{fraction}" if fraction else whole


def unit_money(amount: Decimal, currency: str) -> str:
    """A unit price with its currency, to its own digits: 12.5000 -> `12.50 USD`, 0.1234 kept."""
    return f"{plain_decimal(amount, min_places=minor_unit(currency))} {currency}"


def percent(rate: Decimal) -> str:
    """A tax rate stored as a fraction, as a percentage: 0.2000 -> `20%`, 0.0825 -> `8.25%`.
    Exact: moving the decimal point is not rounding."""
    return f"{plain_decimal(rate.scaleb(2))}%"


def day(value: datetime.date | None) -> str:
    """A date in the settings' DATE_FORMAT, the one format of the panels and the PDFs
    (config/formats): `1 Dec 2026`; a dash for none. A datetime gives its day in the current
    time zone."""
    if value is None:
        return DASH
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value)


def moment(value: datetime.datetime | None) -> str:
    """A point in time, in the current time zone, in the settings' DATETIME_FORMAT:
    `1 Dec 2026 13:05`; a dash for none."""
    if value is None:
        return DASH
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def period(start: datetime.date | None, end: datetime.date | None) -> str:
    """A line's billing period, inclusive: the stored end is exclusive, so the last day shown is
    the day before it. Empty for a line without a period (a one-off charge)."""
    if start is None or end is None:
        return ""
    return f"{day(start)} {EN_DASH} {day(end - ONE_DAY)}"


# --- what a user is shown ---------------------------------------------------------------------


def billing_run_text(run: BillingRun | None, *, provider_view: bool) -> str:
    """Which run issued a document: `Issued by billing run #12 (Billing date, 1 Dec 2026)` for
    provider staff, who may open the run; `Billing run of 1 Dec 2026` for everyone else, who may
    not. Empty for a document no run issued."""
    if run is None:
        return ""
    if provider_view:
        return f"Issued by billing run #{run.pk} ({run.get_kind_display()}, {day(run.run_date)})"
    return f"Billing run of {day(run.run_date)}"


def document_status(
    document: Document, *, provider_view: bool, as_of: datetime.date | None = None
) -> str:
    """The status a user is shown: a credit memo reads closed outside the provider panel, and an
    unpaid debit document past its due date reads "Overdue" (on `as_of`, today at the edge)."""
    if document.reads_closed(provider_view=provider_view):
        return DocumentStatus.CLOSED.label
    if as_of is not None and document.is_overdue(as_of=as_of):
        return "Overdue"
    return document.get_status_display()


@dataclass(frozen=True)
class LineRow:
    description: str
    period: str  # "" when the line has none
    quantity: str
    unit_price: str  # to its own digits, without the currency (the amounts carry it)
    amount: str
    tax_rate: str
    tax_amount: str


@dataclass(frozen=True)
class HowToPay:
    """What a debit document the recipient still owes tells it about paying: the amount due, by
    when (and the terms that set that date), the reference that matches the money to this
    document (its number), and the issuer's payment instructions (bank details); empty when the
    issuer has stored none, so the sheet asks the recipient to contact it."""

    amount_due: str
    due_date: str
    terms: str  # "Net 30 days", or "Due on receipt"
    reference: str
    instructions: str


@dataclass(frozen=True)
class DocumentLayout:
    """The invoice sheet of one document, every value already worded."""

    document: Document
    title: str  # "Invoice", "Credit memo", ...
    number: str  # INV-000012, or INV-DRAFT-7 for a draft
    status: str
    is_draft: bool
    is_overdue: bool
    issuer_label: str  # "Issued by", or "Received by" on a payment
    recipient_label: str  # "Issued to", or "Paid by" on a payment
    issuer_name: str
    recipient_name: str
    issuer_address: tuple[str, ...]  # the issuer's letterhead: its postal address, lines
    issuer_tax_id: str
    recipient_address: tuple[str, ...]  # the address billed
    bill_to: Contact | None
    issue_date: str
    due_date: str | None  # None on credit documents, which fall due never
    currency: str
    lines: tuple[LineRow, ...]
    subtotal: str
    tax_total: str
    total: str
    settled_label: str  # "Amount paid" on debit documents, "Applied" on credit documents
    settled: str
    open_amount: str
    billing_run: BillingRun | None  # the run that issued it (None: issued by hand)
    billing_run_text: str  # "" when no run issued it
    how_to_pay: HowToPay | None  # None unless it is an issued debit document still owed

    @property
    def filename(self) -> str:
        """`INV-000012.pdf`; a draft's says so: `INV-DRAFT-7.pdf`."""
        return f"{self.number}.pdf"


def _settled(document: Document, *, memo_closed: bool) -> Decimal | None:
    """What applications took off the total: paid on a debit document, applied of a credit one.
    None where it means nothing: a draft or cancelled document, or a credit memo read closed."""
    if memo_closed or document.status not in LIVE_STATUSES:
        return None
    return document.total - document.open_amount


def payment_terms(issue_date: datetime.date, due_date: datetime.date) -> str:
    """`Net 30 days` from the days between issue and due date; `Due on receipt` for none."""
    days = (due_date - issue_date).days
    if days <= 0:
        return "Due on receipt"
    return f"Net {days} day{'s' if days != 1 else ''}"


def how_to_pay(document: Document, *, memo_closed: bool) -> HowToPay | None:
    """The payment block of an issued invoice or debit memo with an amount still open; None
    for anything else (a draft, a paid or cancelled document, a credit document, a refund, which
    the issuer pays out)."""
    payable = document.doc_type in (DocumentType.INVOICE, DocumentType.DEBIT_MEMO)
    if not payable or memo_closed or document.is_draft or document.status not in LIVE_STATUSES:
        return None
    if document.open_amount <= 0 or document.due_date is None:
        return None
    return HowToPay(
        amount_due=money(document.open_amount, document.currency),
        due_date=day(document.due_date),
        terms=payment_terms(document.issue_date, document.due_date),
        reference=document.display_number,
        instructions=document.issuer.payment_instructions,
    )


def document_layout(
    *,
    document: Document,
    lines: Iterable[DocumentLine],
    bill_to: Contact | None,
    provider_view: bool,
    as_of: datetime.date,
) -> DocumentLayout:
    """The sheet of `document` (with its `lines` and the recipient's bill-to contact) as the
    user is shown it on `as_of`."""
    currency = document.currency
    lines = list(lines)
    memo_closed = document.reads_closed(provider_view=provider_view)
    is_payment = document.doc_type == DocumentType.PAYMENT
    drafted = document.is_draft
    subtotal, tax_total, total = document.subtotal, document.tax_total, document.total
    if drafted:
        # A draft's totals are computed and stored when it is issued (document_issue); until then
        # the sheet shows the sums of its lines, each already rounded, so nothing rounds here.
        subtotal = sum((line.amount for line in lines), Decimal(0))
        tax_total = sum((line.tax_amount for line in lines), Decimal(0))
        total = subtotal + tax_total
    return DocumentLayout(
        document=document,
        title=document.get_doc_type_display(),
        number=document.display_number,
        status=document_status(document, provider_view=provider_view, as_of=as_of),
        is_draft=drafted,
        is_overdue=not memo_closed and document.is_overdue(as_of=as_of),
        issuer_label="Received by" if is_payment else "Issued by",
        recipient_label="Paid by" if is_payment else "Issued to",
        issuer_name=document.issuer.name,
        recipient_name=document.recipient.name,
        issuer_address=document.issuer.address_lines,
        issuer_tax_id=document.issuer.tax_id,
        recipient_address=document.recipient.address_lines,
        bill_to=bill_to,
        issue_date="Not issued yet" if drafted else day(document.issue_date),
        due_date=day(document.due_date) if document.is_debit else None,
        currency=currency,
        lines=tuple(
            LineRow(
                description=line.description,
                period=period(line.period_start_date, line.period_end_date),
                quantity=plain_decimal(line.quantity),
                unit_price=plain_decimal(line.unit_price, min_places=minor_unit(currency)),
                amount=money(line.amount, currency),
                tax_rate=percent(line.tax_rate),
                tax_amount=money(line.tax_amount, currency),
            )
            for line in lines
        ),
        subtotal=money(subtotal, currency),
        tax_total=money(tax_total, currency),
        total=money(total, currency),
        settled_label="Amount paid" if document.is_debit else "Applied",
        settled=money(_settled(document, memo_closed=memo_closed), currency),
        open_amount=DASH if memo_closed or drafted else money(document.open_amount, currency),
        billing_run=document.billing_run,
        billing_run_text=billing_run_text(document.billing_run, provider_view=provider_view),
        how_to_pay=how_to_pay(document, memo_closed=memo_closed),
    )

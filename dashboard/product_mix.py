"""The reseller dashboard's Product Mix (seed 004): what an account bought in a period, by
product, as shares of its total purchase volume.

From the debit invoices billed to the account (recipient) with an issue date in the period,
issued or paid, never drafts or cancelled ones; before tax. Each invoice line's product is that
of the charge it invoices (the reseller transaction's order detail or subscription), or, for a
line made by hand, the product it names; a line with neither counts as "Other" when no filter is
set.
Filtered by product type and billing type, the total is what the filters keep, so the shares
add up to 1.

Periods: `this_month` (the 1st to today), `last_month` (the whole calendar month before), and
`last_3_months` (the three whole calendar months before this one).

Four queries whatever the data: the invoices' total, the charges grouped by product, the lines
made by hand grouped by product, the products.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce

from billing.models import (
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    ResellerTransaction,
)
from billing.money import ZERO
from orders.models import Product
from resellers.models import Account
from resellers.prepared import PreparedQuery, aggregate_row

PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_3_months": "Last 3 months",
}
SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Slice:
    product: str
    product_id: int | None
    product_type: str
    billing_type: str
    amount: Decimal
    share: Decimal  # a fraction of the total, 0 to 1

    @property
    def product_type_label(self) -> str:
        return Product.ProductType(self.product_type).label if self.product_type else ""

    @property
    def billing_type_label(self) -> str:
        return Product.BillingType(self.billing_type).label if self.billing_type else ""


@dataclass(frozen=True)
class ProductMix:
    currency: str
    period: str
    start: datetime.date
    end: datetime.date  # inclusive
    total: Decimal
    slices: list[Slice] = field(default_factory=list)


def period_dates(period: str, *, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day (inclusive) of `period` (a key of PERIODS) as of `today`."""
    this_month = today.replace(day=1)
    if period == "this_month":
        return this_month, today
    last_day = this_month - datetime.timedelta(days=1)
    if period == "last_month":
        return last_day.replace(day=1), last_day
    if period == "last_3_months":
        start = last_day.replace(day=1)
        for _ in range(2):
            start = (start - datetime.timedelta(days=1)).replace(day=1)
        return start, last_day
    raise ValueError(f"Unknown period {period!r}: one of {', '.join(PERIODS)}.")


def _invoices(pk: int, start: datetime.date, end: datetime.date) -> QuerySet[Document]:
    """The purchases: the debit invoices billed to `pk` issued from `start` to `end`, paid or
    unpaid, cancelled (and drafts) left out."""
    return Document.objects.filter(
        recipient_id=pk,
        doc_type=DocumentType.INVOICE,
        status__in=[DocumentStatus.ISSUED, DocumentStatus.PAID],
        issue_date__gte=start,
        issue_date__lte=end,
    )


# Compiled once per process (resellers.prepared): read on every dashboard request.
_INVOICED = PreparedQuery(
    lambda pk, start, end: aggregate_row(
        _invoices(pk, start, end), s=Coalesce(Sum("subtotal"), ZERO)
    ),
    "pk",
    "start",
    "end",
)
# What each product's charges invoiced (an order item's or a subscription's product)...
_CHARGED = PreparedQuery(
    lambda pk, start, end: (
        ResellerTransaction.objects.filter(invoice__in=_invoices(pk, start, end).values("pk"))
        .annotate(product_ref=Coalesce(F("order_item__product_id"), F("subscription__product_id")))
        .values("product_ref")
        .annotate(amount=Sum("amount"))
        .order_by()
    ),
    "pk",
    "start",
    "end",
)
# ... and the lines made by hand that name their product.
_BY_HAND = PreparedQuery(
    lambda pk, start, end: (
        DocumentLine.objects.filter(
            document__in=_invoices(pk, start, end).values("pk"), product__isnull=False
        )
        .values("product_id")
        .annotate(amount=Sum("amount"))
        .order_by()
    ),
    "pk",
    "start",
    "end",
)


def product_mix(
    *,
    account: Account,
    period: str,
    today: datetime.date,
    product_type: str = "",
    billing_type: str = "",
) -> ProductMix:
    """`account`'s Product Mix for `period`. Authorization is the caller's
    (dashboard.selectors.statistics_account)."""
    start, end = period_dates(period, today=today)
    values = {"pk": account.pk, "start": start, "end": end}
    invoiced = _INVOICED.rows(**values)[0]["s"]
    amounts = {row["product_ref"]: row["amount"] for row in _CHARGED.rows(**values)}
    for row in _BY_HAND.rows(**values):  # lines made by hand that name their product
        amounts[row["product_id"]] = amounts.get(row["product_id"], ZERO) + row["amount"]
    products = Product.objects.in_bulk([pk for pk in amounts if pk is not None])
    kept = []
    for pk, amount in amounts.items():
        product = products.get(pk)
        if product is None or not amount:
            continue
        if product_type and product.product_type != product_type:
            continue
        if billing_type and product.billing_type != billing_type:
            continue
        kept.append((product, amount))
    other = invoiced - sum(amounts.values(), ZERO)
    filtered = bool(product_type or billing_type)
    total = sum((amount for _, amount in kept), ZERO) + (other if not filtered else ZERO)
    slices = [
        Slice(
            product=product.name,
            product_id=product.pk,
            product_type=product.product_type,
            billing_type=product.billing_type,
            amount=amount,
            share=_share(amount, total),
        )
        for product, amount in sorted(kept, key=lambda pair: (-pair[1], pair[0].name))
    ]
    if other and not filtered:
        slices.append(Slice("Other", None, "", "", other, _share(other, total)))
    return ProductMix(account.currency, period, start, end, total, _adjusted(slices))


def _share(amount: Decimal, total: Decimal) -> Decimal:
    return (amount / total).quantize(SHARE_PLACES) if total else ZERO


def _adjusted(slices: list[Slice]) -> list[Slice]:
    """Shares rounded to four places that add up to exactly 1: the largest slice takes the
    rounding difference."""
    if not slices:
        return slices
    gap = Decimal(1) - sum(s.share for s in slices)
    if gap:
        slices[0] = replace(slices[0], share=slices[0].share + gap)
    return slices

"""Seed 003's reseller reports, for a period [start, end] (both days included):

- sales: the provider's sales before tax (invoices and debit memos issued, less credit memos;
  drafts and cancelled ones left out), by the reseller that drove them: a resale reseller's own
  purchases (it resells them), a referral reseller's customers' purchases (it brought them);
  sales to the provider's direct customers are the non-reseller sales;
- payouts: billing.payouts (per referral reseller: the sales its customers paid, the rate, the
  payout, and whether it was marked paid);
- acquisitions: the customers each reseller brought in the period (signed up under it).

Each is one grouped query (payouts: three), served by the provider panel, the API and, for a
referral reseller, its own statement. Authorization is the caller's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce

from billing.models import Document, DocumentStatus, DocumentType
from billing.money import ZERO
from billing.payouts import PayoutLine, referral_payouts
from resellers.exceptions import ApplicationError
from resellers.models import Account


@dataclass(frozen=True)
class SalesRow:
    reseller: Account | None  # None: the provider's direct customers
    sales: Decimal

    @property
    def model(self) -> str:
        return self.reseller.get_reseller_model_display() if self.reseller else "Direct"


@dataclass(frozen=True)
class SalesReport:
    start: datetime.date
    end: datetime.date
    currency: str
    rows: list[SalesRow] = field(default_factory=list)
    reseller_driven: Decimal = ZERO
    non_reseller: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.reseller_driven + self.non_reseller


@dataclass(frozen=True)
class AcquisitionRow:
    reseller: Account
    customers: int


def check_period(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise ApplicationError("The period ends before it starts.", field="period_end")


def _provider() -> Account:
    provider = Account.objects.filter(kind=Account.Kind.PROVIDER).order_by("pk").first()
    if provider is None:
        raise Account.DoesNotExist("No provider yet.")
    return provider


def sales_report(*, start: datetime.date, end: datetime.date) -> SalesReport:
    check_period(start, end)
    provider = _provider()
    reseller = Account.Kind.RESELLER
    driver = Case(
        When(recipient__kind=reseller, then="recipient_id"),
        When(recipient__parent__kind=reseller, then="recipient__parent_id"),
        default=None,
        output_field=IntegerField(),
    )
    live = ~Q(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED])
    debit = Q(doc_type__in=[DocumentType.INVOICE, DocumentType.DEBIT_MEMO])
    rows = (
        Document.objects.filter(
            live,
            issuer_id=provider.pk,
            currency=provider.currency,
            issue_date__gte=start,
            issue_date__lte=end,
        )
        .annotate(driver=driver)
        .values("driver")
        .annotate(
            debits=Coalesce(Sum("subtotal", filter=debit), ZERO),
            credits=Coalesce(Sum("subtotal", filter=Q(doc_type=DocumentType.CREDIT_MEMO)), ZERO),
        )
        .order_by()
    )
    amounts = {row["driver"]: row["debits"] - row["credits"] for row in rows}
    resellers = Account.objects.in_bulk([pk for pk in amounts if pk is not None])
    lines = sorted(
        (SalesRow(resellers[pk], amount) for pk, amount in amounts.items() if pk is not None),
        key=lambda row: (-row.sales, row.reseller.name),
    )
    direct = amounts.get(None, ZERO)
    if None in amounts:
        lines.append(SalesRow(None, direct))
    driven = sum((row.sales for row in lines if row.reseller is not None), ZERO)
    return SalesReport(start, end, provider.currency, lines, driven, direct)


def payouts_report(
    *, start: datetime.date, end: datetime.date, resellers: QuerySet[Account] | None = None
) -> list[PayoutLine]:
    return referral_payouts(start=start, end=end, resellers=resellers)


def acquisitions_report(
    *, start: datetime.date, end: datetime.date, resellers: QuerySet[Account] | None = None
) -> list[AcquisitionRow]:
    """Per reseller (of `resellers`, default all) the customers that signed up under it in the
    period; resellers that brought none are listed with 0."""
    check_period(start, end)
    chosen = (resellers if resellers is not None else Account.objects.all()).filter(
        kind=Account.Kind.RESELLER
    )
    window = Q(
        children__kind=Account.Kind.CUSTOMER,
        children__created_at__date__gte=start,
        children__created_at__date__lte=end,
    )
    rows = chosen.annotate(acquired=Count("children", filter=window))
    return [
        AcquisitionRow(account, account.acquired)
        for account in rows.order_by("-acquired", "name", "pk")
    ]


def acquired_customers(
    *, reseller: Account, start: datetime.date, end: datetime.date
) -> QuerySet[Account]:
    """The customers `reseller` brought in the period, newest first (a referral reseller sees
    these details, nothing of their billing)."""
    check_period(start, end)
    return Account.objects.filter(
        parent_id=reseller.pk,
        kind=Account.Kind.CUSTOMER,
        created_at__date__gte=start,
        created_at__date__lte=end,
    ).order_by("-created_at", "-pk")

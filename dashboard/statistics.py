"""The reseller dashboard's General Statistics (seed 004), by the seed's definitions.

One selector, `general_statistics`, serves the panels (the reseller's home page, the provider's
page of a reseller, the provider-wide figures on the Billing page) and
`GET /api/v1/dashboard/statistics/`. Its nine figures, for an account (or, provider-wide, every
account the provider bills):

- monthly_costs: this month to date, the total before tax of the debit documents the account
  received (invoices and debit memos) less that of its credit memos; cancelled and draft ones
  left out; may be negative. Payments and refunds are money, not costs.
- account_balance: every invoice, memo, payment and refund since the account began: its credit
  balance less its open debt (negative while it owes), from the cached balance.
- subscriptions_sold: subscriptions it sold this month to date (started from a sales order, any
  status now), renewals (trial conversions) and trials of any form left out. "Sold by" an
  account: the subscriptions it pays for upstream (its own and, for a resale reseller, its
  customers') or holds.
- licenses_sold: the licences in those sales, as quantities: the subscriptions of the licence
  product types (software subscriptions, reserved instances, ESD licences), plus licences
  sold one-off (an ESD key) by this month's executed sales orders.
- active_subscriptions: active or pending cancellation today, trials left out.
- suspended_subscriptions: suspended today.
- overdue_payments: the open amount of its debit documents past their due date.
- credit_limit and available_credit: as the credit check computes them (billing.selectors).

For an account: four queries whatever the data, the documents, the cached balance with the
credit figures, the subscriptions, the one-off licences, each an aggregate over an index
(bench/dashboard.py measures them at a million documents), each compiled once per process
(resellers.prepared: building and compiling them cost more than PostgreSQL spent running them).

Provider-wide, the same aggregates run over every account the provider bills: hundreds of
thousands of rows at a million documents, too slow for a page. A job
(`dashboard.tasks.refresh_provider_statistics`, every minute) stores them in a
StatisticsSnapshot; `general_statistics(account=None)` reads it when it is for today and at
most DASHBOARD_STATISTICS_MAX_AGE seconds old, and computes the figures live otherwise. Counters
kept by the services that write documents would put one row, the provider's, in every ledger
write's transaction (each billing-run worker and order would queue on its lock), and overdue is
a matter of the day, not of a write.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, fields
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import Document, DocumentStatus, DocumentType
from billing.money import ZERO
from billing.selectors import account_financials, issuer_credit_totals
from dashboard.models import StatisticsSnapshot
from orders.models import (
    DeliveryStatus,
    OrderItem,
    OrderType,
    Product,
    Subscription,
    SubscriptionStatus,
)
from resellers.models import Account
from resellers.prepared import PreparedQuery, aggregate_row

LICENCE_TYPES = (
    Product.ProductType.SOFTWARE_SUBSCRIPTION,
    Product.ProductType.RESERVED_INSTANCE,
    Product.ProductType.ESD_LICENCE,
)


@dataclass(frozen=True)
class GeneralStatistics:
    currency: str
    monthly_costs: Decimal
    account_balance: Decimal
    subscriptions_sold: int
    licenses_sold: int
    active_subscriptions: int
    suspended_subscriptions: int
    overdue_payments: Decimal
    credit_limit: Decimal
    available_credit: Decimal
    # Provider-wide figures read from the refresh job's snapshot: when it computed them.
    # None: computed for this request.
    as_of: datetime.datetime | None = None

    def as_dict(self) -> dict:
        return asdict(self)


FIGURES = tuple(f.name for f in fields(GeneralStatistics) if f.name not in ("currency", "as_of"))


def _money(expression, *, filter: Q):
    return Coalesce(Sum(expression, filter=filter), ZERO)


def _document_totals(
    documents: QuerySet[Document], *, first: datetime.date, today: datetime.date
) -> QuerySet:
    """debits, credits (this month to `today`, from `first`) and overdue (before `today`)."""
    month = Q(issue_date__gte=first, issue_date__lte=today)
    live = ~Q(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED])
    debit = Q(doc_type__in=[DocumentType.INVOICE, DocumentType.DEBIT_MEMO])
    credit = Q(doc_type=DocumentType.CREDIT_MEMO)
    overdue = Q(
        doc_type__in=[DocumentType.INVOICE, DocumentType.DEBIT_MEMO, DocumentType.REFUND],
        status=DocumentStatus.ISSUED,
        open_amount__gt=0,
        due_date__lt=today,
    )
    # Only this month's documents and the overdue ones count in a figure: reading those alone
    # keeps to two index ranges, (recipient or issuer, issue date) and the open documents'.
    return aggregate_row(
        documents.filter(month | overdue),
        debits=_money("subtotal", filter=month & live & debit),
        credits=_money("subtotal", filter=month & live & credit),
        overdue=_money("open_amount", filter=overdue),
    )


def _subscription_totals(
    subscriptions: QuerySet[Subscription], *, first: datetime.date, today: datetime.date
) -> QuerySet:
    """sold and licences (started from `first` to `today`), active and suspended (now)."""
    sold = Q(
        start_date__gte=first,
        start_date__lte=today,
        order__order_type=OrderType.SALES,
        trial_end_date__isnull=True,
    )
    licences = sold & Q(product__product_type__in=LICENCE_TYPES)
    running = [SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING_CANCELLATION]
    return aggregate_row(
        subscriptions,
        sold=Count("pk", filter=sold),
        licences=Coalesce(Sum("quantity", filter=licences), 0),
        active=Count("pk", filter=Q(status__in=running)),
        suspended=Count("pk", filter=Q(status=SubscriptionStatus.SUSPENDED)),
    )


def _one_off_totals(
    items: QuerySet[OrderItem], *, start: datetime.datetime, end: datetime.datetime
) -> QuerySet:
    """n: the licences sold one-off by sales orders submitted from `start` to before `end`."""
    return aggregate_row(
        items.filter(
            order__order_type=OrderType.SALES,
            order__submitted_at__gte=start,
            order__submitted_at__lt=end,
            delivery_status=DeliveryStatus.DELIVERED,
            subscription__isnull=True,
            product__billing_type=Product.BillingType.ONE_TIME,
            product__product_type__in=LICENCE_TYPES,
        ),
        n=Coalesce(Sum("quantity"), 0),
    )


def _month_instants(today: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first of the month to the end of `today` in the current time zone, as a range of
    instants, which an index on submitted_at can read (a date cast cannot)."""
    start = timezone.make_aware(datetime.datetime.combine(today.replace(day=1), datetime.time()))
    end = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time())
    )
    return start, end


# An account's figures, compiled once per process (resellers.prepared): the querysets above
# stay their one definition, shared with the provider-wide figures.
_ACCOUNT_DOCUMENTS = PreparedQuery(
    lambda pk, first, today: _document_totals(
        Document.objects.filter(recipient_id=pk), first=first, today=today
    ),
    "pk",
    "first",
    "today",
)
_ACCOUNT_SUBSCRIPTIONS = PreparedQuery(
    lambda pk, first, today: _subscription_totals(
        Subscription.objects.filter(Q(credit_account_id=pk) | Q(account_id=pk)),
        first=first,
        today=today,
    ),
    "pk",
    "first",
    "today",
)
_ACCOUNT_ONE_OFF = PreparedQuery(
    lambda pk, start, end: _one_off_totals(
        OrderItem.objects.filter(order__credit_account_id=pk), start=start, end=end
    ),
    "pk",
    "start",
    "end",
)


def _figures(
    *,
    docs: dict,
    subs: dict,
    one_off: int,
    credit: tuple[Decimal, Decimal, Decimal],
    currency: str,
) -> GeneralStatistics:
    return GeneralStatistics(
        currency=currency,
        monthly_costs=docs["debits"] - docs["credits"],
        account_balance=credit[0],
        subscriptions_sold=subs["sold"],
        licenses_sold=subs["licences"] + one_off,
        active_subscriptions=subs["active"],
        suspended_subscriptions=subs["suspended"],
        overdue_payments=docs["overdue"],
        credit_limit=credit[1],
        available_credit=credit[2],
    )


def _provider() -> Account:
    provider = Account.objects.filter(kind=Account.Kind.PROVIDER).order_by("pk").first()
    if provider is None:
        raise Account.DoesNotExist("No provider yet.")
    return provider


def _provider_live(provider: Account, *, today: datetime.date) -> GeneralStatistics:
    currency = provider.currency
    first = today.replace(day=1)
    totals = issuer_credit_totals(issuer=provider)
    documents = Document.objects.filter(issuer_id=provider.pk, currency=currency)
    items = OrderItem.objects.filter(order__currency=currency)
    subscriptions = Subscription.objects.filter(currency=currency)
    start, end = _month_instants(today)
    return _figures(
        docs=_document_totals(documents, first=first, today=today).get(),
        subs=_subscription_totals(subscriptions, first=first, today=today).get(),
        one_off=_one_off_totals(items, start=start, end=end).get()["n"],
        credit=(totals.balance, totals.credit_limit, totals.available_credit),
        currency=currency,
    )


def general_statistics(*, account: Account | None, today: datetime.date) -> GeneralStatistics:
    """The nine figures of `account`, or with None provider-wide (every account the provider
    bills: its resellers, and its referral and direct customers; in the provider's currency),
    from the refresh job's snapshot when it is fresh. Authorization is the caller's
    (dashboard.selectors.statistics_account)."""
    if account is None:
        return provider_statistics(today=today)
    fin = account_financials(account=account)
    first = today.replace(day=1)
    start, end = _month_instants(today)
    return _figures(
        docs=_ACCOUNT_DOCUMENTS.rows(pk=account.pk, first=first, today=today)[0],
        subs=_ACCOUNT_SUBSCRIPTIONS.rows(pk=account.pk, first=first, today=today)[0],
        one_off=_ACCOUNT_ONE_OFF.rows(pk=account.pk, start=start, end=end)[0]["n"],
        credit=(fin.balance, fin.credit_limit, fin.available_credit),
        currency=account.currency,
    )


def provider_statistics(*, today: datetime.date) -> GeneralStatistics:
    """The provider-wide figures for `today`: the snapshot when it is for `today` and at most
    DASHBOARD_STATISTICS_MAX_AGE seconds old (`as_of` says when it was computed), else computed
    now. Raises Account.DoesNotExist before there is a provider."""
    provider = _provider()
    oldest = timezone.now() - datetime.timedelta(seconds=settings.DASHBOARD_STATISTICS_MAX_AGE)
    snapshot = StatisticsSnapshot.objects.filter(
        issuer_id=provider.pk, currency=provider.currency, day=today, computed_at__gte=oldest
    ).first()
    if snapshot is None:
        return _provider_live(provider, today=today)
    return GeneralStatistics(
        currency=snapshot.currency,
        as_of=snapshot.computed_at,
        **{name: getattr(snapshot, name) for name in FIGURES},
    )


def provider_statistics_refresh(*, today: datetime.date) -> StatisticsSnapshot:
    """Compute the provider-wide figures for `today` and store them as the snapshot (one row
    per provider and currency, replaced in one statement: running it twice, or two at once,
    leaves one row). Raises Account.DoesNotExist before there is a provider."""
    provider = _provider()
    figures = _provider_live(provider, today=today)
    values = {name: getattr(figures, name) for name in FIGURES}
    [snapshot] = StatisticsSnapshot.objects.bulk_create(
        [
            StatisticsSnapshot(
                issuer=provider,
                currency=figures.currency,
                day=today,
                computed_at=timezone.now(),
                **values,
            )
        ],
        update_conflicts=True,
        unique_fields=["issuer", "currency"],
        update_fields=["day", "computed_at", *values],
    )
    return snapshot

"""What a chunk reads before it plans: its accounts and due subscriptions (locked, for a real
run, until the chunk's transaction ends), their usage, the charges waiting for an invoice, and
which accounts a run's key has invoiced already."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import F

from billing.models import Document, DocumentStatus, ResellerTransaction
from billing.runs.plans import BILLABLE, CHARGE_COLUMNS, UNINVOICED, Charge
from orders.models import Product, Subscription, SubscriptionStatus, UsageRecord
from resellers.models import Account


def _account_rows(account_ids: Sequence[int], lock: bool) -> dict[int, dict]:
    rows = Account.objects.filter(pk__in=account_ids).order_by("pk")
    if lock:
        # NO KEY UPDATE: it still serialises runs and ledger writers on the account, but not the
        # foreign-key checks of other chunks' documents that name it as their issuer (with FOR
        # UPDATE, a chunk holding a reseller's row and one numbering its customers' invoices
        # deadlocked: the bench found it).
        rows = rows.select_for_update(of=("self",), no_key=True)
    return {
        row["pk"]: row
        for row in rows.values(
            "pk",
            "name",
            "kind",
            "issuer_id",
            "currency",
            "credit_terms",
            "payment_terms_days",
            "next_billing_date",
            "billing_anchor",
            "daily_invoicing",
            on_hold=F("customer_class__bill_for_subscriptions_on_hold"),
        )
    }


def _subscription_rows(account_ids, run_date, lock: bool) -> list[dict]:
    rows = Subscription.objects.filter(
        account_id__in=account_ids, next_billing_date__lte=run_date, status__in=BILLABLE
    ).order_by("account_id", "pk")
    if lock:
        rows = rows.select_for_update(of=("self",), no_key=True)
    return list(
        rows.values(
            "pk",
            "account_id",
            "credit_account_id",
            "status",
            "billing_period",
            "unit_cost",
            "unit_price",
            "quantity",
            "renewal_quantity",
            "currency",
            "start_date",
            "billing_anchor",
            "billed_through",
            "next_billing_date",
            "product_id",
            product_name=F("product__name"),
            billing_type=F("product__billing_type"),
            tax_category=F("product__tax_category"),
            holder_name=F("account__name"),
        )
    )


def _usage(subscriptions: list[dict], run_date) -> dict[int, list[dict]]:
    usage_subs = [s for s in subscriptions if s["billing_type"] == Product.BillingType.USAGE]
    if not usage_subs:
        return {}
    since = min(s["billed_through"] or s["start_date"] for s in usage_subs)
    found: dict[int, list[dict]] = defaultdict(list)
    rows = UsageRecord.objects.filter(
        subscription_id__in=[s["pk"] for s in usage_subs],
        usage_date__gte=since,
        usage_date__lt=run_date,
    ).values("subscription_id", "usage_date", "quantity", "amount", "cost")
    for row in rows:
        found[row["subscription_id"]].append(row)
    return found


def _waiting_charges(account_ids, *, prepaid: bool = False) -> dict[int, list[Charge]]:
    """The accounts' uninvoiced charges; a prepaid order's (its payment set aside for it) only
    with `prepaid`: those wait for the daily invoicing run, which settles them."""
    found: dict[int, list[Charge]] = defaultdict(list)
    rows = ResellerTransaction.objects.filter(account_id__in=account_ids, status=UNINVOICED)
    if not prepaid:
        rows = rows.exclude(prepaid_by__status="active")
    rows = rows.order_by("account_id", "charge_date", "pk").values(
        "pk",
        *CHARGE_COLUMNS,
        holder_id=F("subscription__account_id"),
        subscription_status=F("subscription__status"),
    )
    for row in rows:
        found[row["account_id"]].append(
            Charge(
                pk=row["pk"],
                account_id=row["account_id"],
                kind=row["kind"],
                description=row["description"],
                amount=row["amount"],
                currency=row["currency"],
                charge_date=row["charge_date"],
                subscription_id=row["subscription_id"],
                holder_id=row["holder_id"],
                quantity=row["quantity"],
                unit_price=row["unit_price"],
                period_start=row["period_start_date"],
                period_end=row["period_end_date"],
                tax_category=row["tax_category"],
                reference=row["reference"],
                suspended=row["subscription_status"] == SubscriptionStatus.SUSPENDED,
            )
        )
    return found


def _keys_taken(account_ids, key: str) -> set[int]:
    return set(
        Document.objects.filter(recipient_id__in=account_ids, billing_key=key)
        .exclude(status=DocumentStatus.CANCELLED)
        .values_list("recipient_id", flat=True)
    )

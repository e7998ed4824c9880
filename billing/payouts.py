"""Referral resellers' payouts (seed 003, "Settling Bills with Resellers"): the provider bills a
referral reseller's customers directly and settles with the reseller offline, from a payout
report. Per referral reseller and period:

- paid sales: the provider's invoices and debit memos to the reseller's customers issued in the
  period and paid in full, less the credit memos issued to them in the period; before tax;
- the reseller's commission rate (resellers.Account.commission_rate);
- the payout: paid sales x rate, rounded half up to the cent (never below zero).

Provider staff mark a period's payout paid once it is settled offline: a ReferralPayout keeps the
figures as they stood then, with a reference, audited; a period is paid once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from billing.models import Document, DocumentStatus, DocumentType, ReferralPayout
from billing.money import ZERO, round_money
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.services import audit_record
from resellers.tenancy import require_provider_staff


@dataclass(frozen=True)
class PayoutLine:
    reseller: Account
    start: datetime.date
    end: datetime.date
    paid_sales: Decimal
    commission_rate: Decimal
    amount: Decimal
    paid: ReferralPayout | None  # marked paid: the figures as they stood then

    @property
    def currency(self) -> str:
        return self.reseller.currency


def _check_period(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise ApplicationError("The period ends before it starts.", field="period_end")


def referral_payouts(
    *, start: datetime.date, end: datetime.date, resellers: QuerySet[Account] | None = None
) -> list[PayoutLine]:
    """A payout line per referral reseller (of `resellers`, default all) for [start, end].
    Three queries: the resellers, their customers' documents grouped by reseller, the payouts
    already marked paid."""
    _check_period(start, end)
    referral = (resellers if resellers is not None else Account.objects.all()).filter(
        kind=Account.Kind.RESELLER, reseller_model=Account.ResellerModel.REFERRAL
    )
    referral = list(referral.order_by("name", "pk"))
    in_period = Q(issue_date__gte=start, issue_date__lte=end)
    sales = {
        row["recipient__parent_id"]: row
        for row in Document.objects.filter(
            in_period,
            issuer_id__in=[r.issuer_id for r in referral],
            recipient__parent_id__in=[r.pk for r in referral],
        )
        .values("recipient__parent_id")
        .annotate(
            paid=Coalesce(
                Sum(
                    "subtotal",
                    filter=Q(
                        doc_type__in=[DocumentType.INVOICE, DocumentType.DEBIT_MEMO],
                        status=DocumentStatus.PAID,
                    ),
                ),
                ZERO,
            ),
            credited=Coalesce(
                Sum(
                    "subtotal",
                    filter=Q(doc_type=DocumentType.CREDIT_MEMO)
                    & ~Q(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED]),
                ),
                ZERO,
            ),
        )
        .order_by()
    }
    paid = {
        p.reseller_id: p
        for p in ReferralPayout.objects.filter(
            reseller__in=referral, period_start=start, period_end=end
        )
    }
    lines = []
    for reseller in referral:
        row = sales.get(reseller.pk)
        net = max(row["paid"] - row["credited"], ZERO) if row else ZERO
        amount = round_money(net * reseller.commission_rate, reseller.currency)
        lines.append(
            PayoutLine(
                reseller, start, end, net, reseller.commission_rate, amount, paid.get(reseller.pk)
            )
        )
    return lines


def referral_payout_mark_paid(
    *,
    reseller: Account,
    start: datetime.date,
    end: datetime.date,
    reference: str,
    acting_user: User | None,
) -> ReferralPayout:
    """Record that the period's payout was settled offline, with the figures as they stand now.
    Provider staff only; a period already marked paid answers ApplicationError (`period`)."""
    require_provider_staff(acting_user, "mark payouts paid")
    if not reseller.is_referral_reseller:
        raise ApplicationError("Only a referral reseller is paid out.", field="reseller")
    with transaction.atomic():
        reseller = Account.objects.select_for_update().get(pk=reseller.pk)
        line = referral_payouts(
            start=start, end=end, resellers=Account.objects.filter(pk=reseller.pk)
        )[0]
        if line.paid is not None:
            raise ApplicationError(
                f"This period's payout was marked paid on {line.paid.paid_at:%Y-%m-%d}.",
                field="period",
            )
        try:
            with transaction.atomic():
                payout = ReferralPayout.objects.create(
                    reseller=reseller,
                    period_start=start,
                    period_end=end,
                    paid_sales=line.paid_sales,
                    commission_rate=line.commission_rate,
                    amount=line.amount,
                    currency=reseller.currency,
                    reference=reference.strip()[:120],
                    paid_by=acting_user if acting_user is not None and acting_user.pk else None,
                )
        except IntegrityError:
            raise ApplicationError(
                "This period's payout is already marked paid.", field="period"
            ) from None
        audit_record(
            actor=acting_user,
            action="referral_payout.paid",
            obj=payout,
            account=reseller,
            details={
                "period": [str(start), str(end)],
                "paid_sales": str(line.paid_sales),
                "rate": str(line.commission_rate),
                "amount": str(line.amount),
                "reference": payout.reference,
            },
        )
    return payout

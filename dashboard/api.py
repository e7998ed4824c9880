"""The dashboard's REST API (issue 12): the figures the panels show, from the same selectors.

`GET /api/v1/dashboard/statistics/?account=ID`: seed 004's General Statistics
(dashboard.statistics). Without `account`: the user's own account, or for provider staff the
provider-wide figures. An account the user may not see, or whose figures it may not see: 404.

`GET /api/v1/dashboard/product-mix/?account=ID&period=&product_type=&billing_type=`: seed 004's
Product Mix (dashboard.product_mix), scoped the same way.
"""

from __future__ import annotations

from dataclasses import asdict

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import selectors
from dashboard.product_mix import PERIODS, product_mix
from dashboard.reports import (
    acquired_customers,
    acquisitions_report,
    payouts_report,
    sales_report,
)
from dashboard.statistics import general_statistics
from orders.models import Product
from resellers.models import Account
from resellers.tenancy import is_provider_staff


def _money(help_text: str = ""):
    return serializers.DecimalField(max_digits=19, decimal_places=2, help_text=help_text)


class StatisticsSerializer(serializers.Serializer):
    account = serializers.IntegerField(allow_null=True, help_text="Null: provider-wide.")
    currency = serializers.CharField()
    monthly_costs = _money("This month to date: debit documents less credit memos, before tax.")
    account_balance = _money("Credits less debits since the account began (negative: owes).")
    subscriptions_sold = serializers.IntegerField()
    licenses_sold = serializers.IntegerField()
    active_subscriptions = serializers.IntegerField()
    suspended_subscriptions = serializers.IntegerField()
    overdue_payments = _money("Open amount of overdue debit documents.")
    credit_limit = _money()
    available_credit = _money()
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="Provider-wide figures from the snapshot refreshed every minute: when they "
        "were computed. Null: computed for this request.",
    )


def account_param(request) -> int | None:
    """The `account` query parameter as an id, or None; 400 naming it when it is not one."""
    raw = request.query_params.get("account")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({"account": ["An account id (a whole number)."]}) from None


def account_for(request) -> Account | None:
    try:
        return selectors.statistics_account(user=request.user, account_id=account_param(request))
    except Account.DoesNotExist:
        raise NotFound() from None


class StatisticsView(APIView):
    @extend_schema(
        tags=["dashboard"],
        parameters=[OpenApiParameter("account", int, description="Default: your own account.")],
        responses={
            200: StatisticsSerializer,
            400: OpenApiResponse(description="`account` is not an id."),
            404: OpenApiResponse(description="Not an account whose figures you may see."),
        },
    )
    def get(self, request):
        account = account_for(request)
        figures = general_statistics(account=account, today=timezone.localdate())
        data = {"account": account.pk if account else None, **figures.as_dict()}
        return Response(StatisticsSerializer(data).data)


class SliceSerializer(serializers.Serializer):
    product = serializers.CharField(help_text='The product\'s name, or "Other".')
    product_id = serializers.IntegerField(allow_null=True)
    product_type = serializers.CharField()
    billing_type = serializers.CharField()
    amount = _money("Before tax.")
    share = serializers.DecimalField(
        max_digits=5, decimal_places=4, help_text="A fraction of the total; they add up to 1."
    )


class ProductMixSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    currency = serializers.CharField()
    period = serializers.ChoiceField(choices=list(PERIODS))
    start = serializers.DateField()
    end = serializers.DateField(help_text="Inclusive.")
    total = _money("The purchase volume the filters keep, before tax.")
    slices = SliceSerializer(many=True)


class ProductMixQuerySerializer(serializers.Serializer):
    account = serializers.IntegerField(required=False)
    period = serializers.ChoiceField(choices=list(PERIODS), default="this_month")
    product_type = serializers.ChoiceField(
        choices=Product.ProductType.choices, required=False, allow_blank=True
    )
    billing_type = serializers.ChoiceField(
        choices=Product.BillingType.choices, required=False, allow_blank=True
    )


class ProductMixView(APIView):
    @extend_schema(
        tags=["dashboard"],
        parameters=[ProductMixQuerySerializer],
        responses={
            200: ProductMixSerializer,
            400: OpenApiResponse(description="A bad `period`, `product_type` or `billing_type`."),
            404: OpenApiResponse(description="Not an account whose figures you may see."),
        },
    )
    def get(self, request):
        """Seed 004's Product Mix: what the account bought in the period (debit invoices billed
        to it, issued or paid, before tax), by product, each slice a share of the total."""
        query = ProductMixQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = account_for(request)
        if account is None:
            raise ValidationError({"account": ["Provider staff name the account."]})
        mix = product_mix(
            account=account,
            period=query.validated_data["period"],
            product_type=query.validated_data.get("product_type", ""),
            billing_type=query.validated_data.get("billing_type", ""),
            today=timezone.localdate(),
        )
        data = {"account": account.pk, **asdict(mix)}
        return Response(ProductMixSerializer(data).data)


# --- seed 003's reports ----------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    period_start = serializers.DateField(
        required=False, help_text="First day (default: the 1st of this month)."
    )
    period_end = serializers.DateField(
        required=False, help_text="Last day, included (default: today)."
    )

    def validate(self, attrs):
        today = timezone.localdate()
        attrs.setdefault("period_start", today.replace(day=1))
        attrs.setdefault("period_end", today)
        if attrs["period_end"] < attrs["period_start"]:
            raise ValidationError({"period_end": ["The period ends before it starts."]})
        return attrs


def _period(request) -> tuple:
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["period_start"], query.validated_data["period_end"]


class SalesRowSerializer(serializers.Serializer):
    reseller = serializers.IntegerField(allow_null=True, help_text="Null: direct customers.")
    name = serializers.CharField()
    model = serializers.CharField(help_text="Resale, Referral, or Direct.")
    sales = _money("Before tax: invoices and debit memos less credit memos.")


class SalesReportSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    currency = serializers.CharField()
    reseller_driven = _money()
    non_reseller = _money()
    total = _money()
    rows = SalesRowSerializer(many=True)


class PayoutRowSerializer(serializers.Serializer):
    reseller = serializers.IntegerField()
    name = serializers.CharField()
    currency = serializers.CharField()
    paid_sales = _money("What its customers paid of the period's sales, before tax.")
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    payout = _money()
    paid = serializers.BooleanField(help_text="Marked paid offline by provider staff.")
    paid_at = serializers.DateTimeField(allow_null=True)
    reference = serializers.CharField(allow_blank=True)


class PayoutsReportSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    rows = PayoutRowSerializer(many=True)


class AcquiredSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    signed_up = serializers.DateTimeField(source="created_at")


class AcquisitionRowSerializer(serializers.Serializer):
    reseller = serializers.IntegerField()
    name = serializers.CharField()
    model = serializers.CharField()
    customers = serializers.IntegerField()


class AcquisitionsReportSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    rows = AcquisitionRowSerializer(many=True)
    acquired = AcquiredSerializer(
        many=True, required=False, help_text="For a reseller's own report: who signed up."
    )


def _own_reseller(request, *, referral_only: bool) -> Account | None:
    """None for provider staff (every reseller); a reseller user's own account; else 403."""
    user = request.user
    if is_provider_staff(user):
        return None
    account = user.account if user.account_id else None
    if account is None or not account.is_reseller:
        raise PermissionDenied("Only provider staff and resellers see this report.")
    if referral_only and not account.is_referral_reseller:
        raise PermissionDenied("Payouts are for referral resellers.")
    return account


class SalesReportView(APIView):
    @extend_schema(
        tags=["reports"],
        parameters=[PeriodQuerySerializer],
        responses={200: SalesReportSerializer, 403: OpenApiResponse(description="Staff only.")},
    )
    def get(self, request):
        """Seed 003's total reseller-driven sales and non-reseller sales, by reseller."""
        if not is_provider_staff(request.user):
            raise PermissionDenied("Only provider staff see the sales report.")
        start, end = _period(request)
        report = sales_report(start=start, end=end)
        rows = [
            {
                "reseller": row.reseller.pk if row.reseller else None,
                "name": row.reseller.name if row.reseller else "Direct customers",
                "model": row.model,
                "sales": row.sales,
            }
            for row in report.rows
        ]
        data = {
            "period_start": start,
            "period_end": end,
            "currency": report.currency,
            "reseller_driven": report.reseller_driven,
            "non_reseller": report.non_reseller,
            "total": report.total,
            "rows": rows,
        }
        return Response(SalesReportSerializer(data).data)


class PayoutsReportView(APIView):
    @extend_schema(
        tags=["reports"],
        parameters=[PeriodQuerySerializer],
        responses={200: PayoutsReportSerializer, 403: OpenApiResponse(description="")},
    )
    def get(self, request):
        """Seed 003's reseller payouts: per referral reseller, the sales its customers paid,
        its commission rate and the payout. A referral reseller sees its own statement."""
        own = _own_reseller(request, referral_only=True)
        start, end = _period(request)
        scope = Account.objects.filter(pk=own.pk) if own else None
        rows = [
            {
                "reseller": line.reseller.pk,
                "name": line.reseller.name,
                "currency": line.currency,
                "paid_sales": line.paid_sales,
                "commission_rate": line.commission_rate,
                "payout": line.paid.amount if line.paid else line.amount,
                "paid": line.paid is not None,
                "paid_at": line.paid.paid_at if line.paid else None,
                "reference": line.paid.reference if line.paid else "",
            }
            for line in payouts_report(start=start, end=end, resellers=scope)
        ]
        data = {"period_start": start, "period_end": end, "rows": rows}
        return Response(PayoutsReportSerializer(data).data)


class AcquisitionsReportView(APIView):
    @extend_schema(
        tags=["reports"],
        parameters=[PeriodQuerySerializer],
        responses={200: AcquisitionsReportSerializer, 403: OpenApiResponse(description="")},
    )
    def get(self, request):
        """Seed 003's customers acquired via resellers, per reseller and period. A reseller
        sees its own row and who signed up."""
        own = _own_reseller(request, referral_only=False)
        start, end = _period(request)
        scope = Account.objects.filter(pk=own.pk) if own else None
        rows = [
            {
                "reseller": row.reseller.pk,
                "name": row.reseller.name,
                "model": row.reseller.get_reseller_model_display(),
                "customers": row.customers,
            }
            for row in acquisitions_report(start=start, end=end, resellers=scope)
        ]
        data = {"period_start": start, "period_end": end, "rows": rows}
        if own is not None:
            data["acquired"] = list(acquired_customers(reseller=own, start=start, end=end))
        return Response(AcquisitionsReportSerializer(data).data)

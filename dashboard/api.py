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
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import selectors
from dashboard.product_mix import PERIODS, product_mix
from dashboard.statistics import general_statistics
from orders.models import Product
from resellers.models import Account


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

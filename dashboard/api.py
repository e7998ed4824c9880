"""The dashboard's REST API (issue 12): the figures the panels show, from the same selectors.

`GET /api/v1/dashboard/statistics/?account=ID`: seed 004's General Statistics
(dashboard.statistics). Without `account`: the user's own account, or for provider staff the
provider-wide figures. An account the user may not see, or whose figures it may not see: 404.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import selectors
from dashboard.statistics import general_statistics
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

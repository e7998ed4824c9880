"""Dunning in the API (issue 13, items 5 and 8):

- `GET /api/v1/accounts/{id}/dunning/`: where the account stands on its issuer's dunning path
  (`stage`, `since`), what is overdue, and the `next_step` if nothing is paid. The account's own
  users, its resale reseller and provider staff; anyone else 404.
- `GET|PUT /api/v1/accounts/{id}/dunning-policy/`: an issuer's policy for the accounts it bills
  (the provider's by its staff, a resale reseller's by its own users); a field sent as null
  takes the provider's policy, then the settings. `effective` shows what applies.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.dunning import POLICY_FIELDS, dunning_status, policy_of, policy_set
from billing.models import DunningPolicy
from resellers.models import Account
from resellers.tenancy import FINANCIAL, account_ids

NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see.")


def accounts_visible(user):
    ids = account_ids(user, level=FINANCIAL)
    accounts = Account.objects.select_related("issuer")
    return accounts if ids is None else accounts.filter(pk__in=ids)


class NextStepSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="overdue, credit_hold, suspension or reactivation")
    on_date = serializers.DateField()


class PolicySerializer(serializers.Serializer):
    reminder_days_before = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=365),
        allow_null=True,
        max_length=10,
    )
    reminder_days_after = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=365),
        allow_null=True,
        max_length=10,
    )
    credit_hold_days = serializers.IntegerField(min_value=1, max_value=365, allow_null=True)
    suspension_days = serializers.IntegerField(min_value=1, max_value=365, allow_null=True)


class DunningStatusSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    stage = serializers.CharField(help_text="current, overdue, credit_hold or suspended")
    since = serializers.DateField(allow_null=True)
    credit_hold = serializers.BooleanField(source="account.credit_hold")
    oldest_due_date = serializers.DateField(allow_null=True)
    days_overdue = serializers.IntegerField()
    overdue_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    next_step = NextStepSerializer(allow_null=True)
    policy = PolicySerializer()


class DunningView(APIView):
    @extend_schema(
        tags=["billing"], responses={200: DunningStatusSerializer, 404: NOT_FOUND}
    )  # fmt: skip
    def get(self, request, pk: int):
        account = get_object_or_404(accounts_visible(request.user), pk=pk)
        status = dunning_status(account=account, today=timezone.localdate())
        return Response(DunningStatusSerializer(status).data)


def _policy_body(issuer: Account) -> dict:
    row = DunningPolicy.objects.filter(issuer=issuer).first()
    own = {name: getattr(row, name) if row else None for name in POLICY_FIELDS}
    effective = policy_of(issuer)
    return {
        "issuer": issuer.pk,
        **own,
        "effective": {
            name: list(v) if isinstance(v := getattr(effective, name), tuple) else v
            for name in POLICY_FIELDS
        },
    }


class DunningPolicyView(APIView):
    @extend_schema(tags=["billing"], responses={200: PolicySerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        issuer = get_object_or_404(accounts_visible(request.user), pk=pk)
        return Response(_policy_body(issuer))

    @extend_schema(
        tags=["billing"],
        request=PolicySerializer,
        responses={
            200: PolicySerializer,
            400: OpenApiResponse(description="Bad input, naming the field; nothing saved."),
            403: OpenApiResponse(description="Not your policy to set."),
            404: NOT_FOUND,
        },
    )
    def put(self, request, pk: int):
        issuer = get_object_or_404(accounts_visible(request.user), pk=pk)
        serializer = PolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy_set(issuer=issuer, acting_user=request.user, **serializer.validated_data)
        return Response(_policy_body(issuer))

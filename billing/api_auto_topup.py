"""REST API `resellers/{id}/auto-topup/`: a reseller's automatic top-up (seed 001 §2), its settings
(GET reads what PUT wrote: `enabled`, `threshold`, `mode`, `amount`, `target`,
`payment_method`) and, read-only, where it stands now (`status`, `since`, `next_attempt_at`,
`last_attempt`: billing.auto_topups.auto_topup_state, the same the panel shows).

Here rather than in `resellers.api` because it reads the ledger's automatic top-up, and
`resellers` imports no other app. Another tenant's reseller answers 404; bad input answers 400
naming the field, with nothing saved.
"""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.auto_topups import AutoTopupState, auto_topup_state
from billing.models import AutoTopupAttempt
from resellers.api import NOT_FOUND
from resellers.exceptions import ApplicationError
from resellers.models import Account
from resellers.selectors import payment_methods_visible, resellers_visible
from resellers.services import account_update_financials

STATUSES = ("idle", "charging", "retry_scheduled", "charged", "failed")


def _money_field(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=19,
        decimal_places=2,
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
        help_text=help_text,
    )


class AutoTopupAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = AutoTopupAttempt
        fields = [
            "number",
            "status",
            "message",
            "amount",
            "payment_method",
            "fallback",
            "started_at",
            "finished_at",
            "payment",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "`pending` (under way, or the same key next run), `succeeded`, "
                "`declined`, `refused` (not sent: no card, nothing to charge)."
            },
            "message": {"help_text": "Why it failed (the gateway's decline reason, ...)."},
            "fallback": {"help_text": "Charged to the default payment method, after the retries."},
            "payment": {"help_text": "The top-up payment document it booked."},
        }


class AutoTopupSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    threshold = _money_field(
        "Top up when the available credit (credit limit + balance, less what orders hold) "
        "falls below this."
    )
    mode = serializers.ChoiceField(
        choices=Account.TopupMode.choices,
        default=Account.TopupMode.FIXED,
        help_text="`fixed`: charge `amount` each time; `target`: charge what brings the "
        "balance to `target`.",
    )
    amount = _money_field("For `fixed`: the amount charged.")
    target = _money_field("For `target`: the balance to reach, above the threshold.")
    payment_method = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="One of the account's cards, whatever its usual way of paying (seed 001 §2); "
        "null: its default payment method.",
    )
    # Read-only: where the automatic top-up stands (billing.auto_topups.AutoTopupState).
    status = serializers.ChoiceField(
        choices=STATUSES,
        read_only=True,
        help_text="`idle` (not below the threshold), `charging`, `retry_scheduled` (the last "
        "attempt failed; the next at `next_attempt_at`), `charged` or `failed` (nothing more "
        "until the available credit is back at or above the threshold and falls again).",
    )
    since = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it fell below the threshold."
    )
    next_attempt_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the next attempt is due."
    )
    last_attempt = AutoTopupAttemptSerializer(
        read_only=True, allow_null=True, help_text="The newest charge attempted."
    )


AUTO_TOPUP_FIELDS = {  # the service's field -> this API's name
    "auto_topup_enabled": "enabled",
    "auto_topup_threshold": "threshold",
    "auto_topup_mode": "mode",
    "auto_topup_amount": "amount",
    "auto_topup_target": "target",
    "auto_topup_payment_method": "payment_method",
}


def _auto_topup_body(account: Account) -> dict:
    state: AutoTopupState = auto_topup_state(account=account)
    settings = {
        name: getattr(account, f"{field}_id" if name == "payment_method" else field)
        for field, name in AUTO_TOPUP_FIELDS.items()
    }
    return AutoTopupSerializer(
        {
            **settings,
            "status": state.status,
            "since": state.since,
            "next_attempt_at": state.next_attempt_at,
            "last_attempt": state.last_attempt,
        }
    ).data


class AutoTopupView(APIView):
    """A reseller's automatic top-up (seed 001 §2): when its available credit falls below
    `threshold`, charge `payment_method` a fixed `amount`, or what brings the balance to
    `target`, once per fall; a declined card is retried on a schedule, then the default payment
    method once. The reseller's own users or provider staff set it; another tenant's reseller
    answers 404."""

    @extend_schema(tags=["resellers"], responses={200: AutoTopupSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        reseller = get_object_or_404(resellers_visible(user=request.user), pk=pk)
        return Response(_auto_topup_body(reseller))

    @extend_schema(
        tags=["resellers"],
        request=AutoTopupSerializer,
        responses={
            200: AutoTopupSerializer,
            400: OpenApiResponse(
                description="Bad input, naming the field (`threshold`, `mode`, `amount`, "
                "`target`, `payment_method`); nothing saved."
            ),
            403: OpenApiResponse(description="Not your account."),
            404: NOT_FOUND,
        },
    )
    def put(self, request, pk: int):
        reseller = get_object_or_404(resellers_visible(user=request.user), pk=pk)
        serializer = AutoTopupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        method = None
        if data.get("payment_method") is not None:
            method = (
                payment_methods_visible(user=request.user)
                .filter(account_id=reseller.pk, pk=data["payment_method"])
                .first()
            )
            if method is None:
                raise ValidationError(
                    {"payment_method": ["Choose one of the account's payment methods."]}
                )
        try:
            reseller = account_update_financials(
                account=reseller,
                acting_user=request.user,
                auto_topup_enabled=data["enabled"],
                auto_topup_threshold=data.get("threshold"),
                auto_topup_mode=data["mode"],
                auto_topup_amount=data.get("amount"),
                auto_topup_target=data.get("target"),
                auto_topup_payment_method=method,
            )
        except ApplicationError as exc:
            exc.field = AUTO_TOPUP_FIELDS.get(exc.field, exc.field)
            raise
        return Response(_auto_topup_body(reseller))

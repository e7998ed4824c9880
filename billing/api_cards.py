"""REST API `payment-methods/`: the payment methods you may see (resellers.api), and an account's
own cards managed through it (issue 13, item 3).

- `POST payment-methods/` keeps a card the client had the gateway tokenise on its side:
  `gateway_token`, an optional `label` and `make_default`, and for provider staff the reseller's
  `account` (`billing.cards.card_add_token`). The token is never returned.
- `DELETE payment-methods/{id}/` removes one (`resellers.services.payment_method_remove`): it
  stays on the documents that name it, inactive, no longer the default nor the top-up method.
- `POST payment-methods/{id}/make-default/` chooses the account's default.

Another tenant's method answers 404; a method of an account you may see but not act for (a
reseller's customer's) 403. POSTs honour an Idempotency-Key (`billing.idempotency`).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import idempotency
from billing.api_payments import acting_for, key_parameter
from billing.cards import card_add_token
from resellers.api import PaymentMethodViewSet as ReadOnlyPaymentMethodViewSet
from resellers.models import Account, User
from resellers.serializers import PaymentMethodSerializer
from resellers.services import payment_method_remove, payment_method_set_default

KEY_PARAMETER = key_parameter(
    "New for each card, scoped to you: a retry with the same key and body answers "
    "200 with the same payment method (`Idempotent-Replayed: true`)."
)


class CardCreateSerializer(serializers.Serializer):
    gateway_token = serializers.CharField(
        max_length=200,
        write_only=True,
        help_text="The token the payment gateway gave your client for the card. Never returned.",
    )
    label = serializers.CharField(max_length=60, required=False, default="", allow_blank=True)
    make_default = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Make it the account's default payment method (orders are then charged to "
        "it). The account's first method is its default anyway.",
    )
    account = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Provider staff: the reseller whose card it is. Others add their own.",
    )


def _card_account(user: User, account_id: int | None) -> Account:
    return acting_for(
        user,
        account_id,
        unnamed="Name the reseller whose card it is.",
        not_own="You can add cards to your own account only.",
    )


class PaymentMethodViewSet(ReadOnlyPaymentMethodViewSet):
    """Payment methods of the accounts whose finances you may see (cards show the last four
    digits and the expiry, never the gateway token); POST adds a card by its gateway token,
    DELETE removes a method, `make-default/` chooses the default."""

    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_serializer_class(self):
        if self.action == "create":
            return CardCreateSerializer
        return PaymentMethodSerializer

    @extend_schema(
        tags=["payment-methods"],
        request=CardCreateSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: OpenApiResponse(PaymentMethodSerializer, description="The card, kept."),
            200: OpenApiResponse(PaymentMethodSerializer, description="A replay of the key."),
            400: OpenApiResponse(
                description="`gateway_token` (unknown to the gateway, expired, already held), "
                "`account` (its issuer takes no cards, or not yours); nothing written."
            ),
            403: OpenApiResponse(description="Not an account you may add cards to."),
        },
    )
    def create(self, request):
        """Keep a card of your account (or, for provider staff, of a reseller): tokenised by the
        gateway on the client, as real gateways work, so the number never reaches us; the
        gateway tells its last four digits and expiry."""
        serializer = CardCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def work(record):
            method = card_add_token(
                account=_card_account(request.user, data.get("account")),
                gateway_token=data["gateway_token"],
                label=data["label"],
                make_default=data["make_default"],
                acting_user=request.user,
                today=timezone.localdate(),
            )
            body = PaymentMethodSerializer(self.get_queryset().get(pk=method.pk)).data
            return status.HTTP_201_CREATED, idempotency.json_ready(body)

        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint="POST payment-methods/",
            work=work,
        )
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    @extend_schema(
        tags=["payment-methods"],
        responses={
            204: OpenApiResponse(description="Removed (kept inactive on its documents)."),
            403: OpenApiResponse(description="Not your account's method."),
            404: OpenApiResponse(description="No such payment method among those you may see."),
        },
    )
    def destroy(self, request, pk=None):
        """Remove a payment method: inactive from now on, no longer the default nor the
        automatic top-up's method; the documents it paid still name it."""
        payment_method_remove(payment_method=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["payment-methods"],
        request=None,
        responses={
            200: PaymentMethodSerializer,
            400: OpenApiResponse(description="A removed method cannot be the default."),
            403: OpenApiResponse(description="Not your account's method."),
            404: OpenApiResponse(description="No such payment method among those you may see."),
        },
    )
    @action(detail=True, methods=["post"], url_path="make-default")
    def make_default(self, request, pk=None):
        """Make this method its account's default (orders are charged to a default card)."""
        method = payment_method_set_default(
            payment_method=self.get_object(), acting_user=request.user
        )
        return Response(PaymentMethodSerializer(self.get_queryset().get(pk=method.pk)).data)

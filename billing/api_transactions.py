"""REST API `reseller-transactions/` (issue 11, item 3): the charges recorded against accounts
until an invoice picks them up. Provider staff list every account's and correct or cancel one not
yet invoiced, with a reason (billing.ledger.corrections); any other user reads its own account's.
An invoiced transaction is corrected by a correcting order of its order instead (400 naming
`status`, which says so)."""

from __future__ import annotations

import uuid

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import idempotency, ledger
from billing.models import ResellerTransaction
from billing.selectors import reseller_transactions_visible, transactions_overlapping
from billing.serializers import (
    ResellerTransactionSerializer,
    TransactionCancelSerializer,
    TransactionCorrectSerializer,
)
from resellers.api import NOT_FOUND, IdFilter
from resellers.exceptions import ApplicationError, PermissionDenied
from resellers.models import PaymentMethod
from resellers.tenancy import is_provider_staff


class TransactionFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    period_start = django_filters.DateFilter(
        method="_overlap", help_text="Transactions whose period overlaps [period_start, ...)."
    )
    period_end = django_filters.DateFilter(
        method="_overlap", help_text="... and ends after `period_end` (exclusive)."
    )

    class Meta:
        model = ResellerTransaction
        fields = ["account", "status", "kind"]

    def _overlap(self, queryset, name, value):
        return transactions_overlapping(
            queryset, **({"start": value} if name == "period_start" else {"end": value})
        )


def _refund_method(tx: ResellerTransaction, method_id: int | None) -> PaymentMethod:
    """The account's payment method to refund to: the one given, or its default."""
    methods = PaymentMethod.objects.filter(account_id=tx.account_id, is_active=True)
    method = (
        methods.filter(pk=method_id).first()
        if method_id is not None
        else methods.filter(is_default=True).first()
    )
    if method is None:
        raise ApplicationError(
            "Not one of the account's payment methods."
            if method_id is not None
            else "The account has no default payment method: give `payment_method`.",
            field="payment_method",
        )
    return method


def _staff_only(user, what: str) -> None:
    if not is_provider_staff(user):
        raise PermissionDenied(f"Only provider staff {what} reseller transactions.")


@extend_schema_view(
    list=extend_schema(tags=["reseller-transactions"]),
    retrieve=extend_schema(tags=["reseller-transactions"]),
)
class ResellerTransactionViewSet(viewsets.ReadOnlyModelViewSet):
    """Reseller transactions, newest first: provider staff see every account's, anyone else its
    own account's. Filter by `account`, `status`, `kind`, and a billing period
    (`period_start`, `period_end`: transactions whose period overlaps it; one without a period
    counts on its charge date)."""

    queryset = ResellerTransaction.objects.none()
    serializer_class = ResellerTransactionSerializer
    filterset_class = TransactionFilter
    ordering_fields = ["charge_date", "amount", "id"]

    def get_queryset(self):
        return reseller_transactions_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "correct":
            return TransactionCorrectSerializer
        if self.action == "cancel":
            return TransactionCancelSerializer
        return ResellerTransactionSerializer

    def _answer(self, tx: ResellerTransaction) -> Response:
        return Response(ResellerTransactionSerializer(self.get_queryset().get(pk=tx.pk)).data)

    @extend_schema(
        tags=["reseller-transactions"],
        request=TransactionCorrectSerializer,
        responses={
            200: ResellerTransactionSerializer,
            400: OpenApiResponse(
                description="`amount` (unchanged, too many decimals), `reason`, `refund` (a "
                "charge is never refunded), `payment_method`, or `status`: already invoiced (a "
                "correcting order corrects it), cancelled, or prepaid. Nothing written."
            ),
            402: OpenApiResponse(description="The gateway declined the refund: nothing written."),
            503: OpenApiResponse(description="The gateway failed: nothing written."),
            403: OpenApiResponse(description="Provider staff only."),
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        """Give a transaction not yet invoiced its corrected amount, with a reason (audited
        with the amount before and after). It reaches the account's next billing order with the
        new amount; its available credit follows at once. With `refund` a credit (a negative
        amount) is refunded at once to the account's payment method instead: a credit memo and
        its refund settle the transaction, which never reaches the billing order. Takes an
        `Idempotency-Key`."""
        tx = self.get_object()
        _staff_only(request.user, "correct")
        serializer = TransactionCorrectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def work(_record):
            method = _refund_method(tx, data["payment_method"]) if data["refund"] else None
            ledger.reseller_transaction_correct(
                transaction_=tx,
                amount=data["amount"],
                reason=data["reason"],
                acting_user=request.user,
                refund_to=method,
                idempotency_key=f"user{request.user.pk}:transaction{tx.pk}:"
                f"{request.headers.get(idempotency.KEY_HEADER) or uuid.uuid4().hex}",
                issue_date=timezone.localdate(),
            )
            body = ResellerTransactionSerializer(self.get_queryset().get(pk=tx.pk)).data
            return status.HTTP_200_OK, idempotency.json_ready(body)

        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(idempotency.KEY_HEADER),
            data=request.data,
            endpoint=f"POST reseller-transactions/{tx.pk}/correct/",
            work=work,
        )  # a declined refund answers 402, a failed one 503 (config.api)
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    @extend_schema(
        tags=["reseller-transactions"],
        request=TransactionCancelSerializer,
        responses={
            200: ResellerTransactionSerializer,
            400: OpenApiResponse(description="`reason`, or `status` (see correct/)."),
            403: OpenApiResponse(description="Provider staff only."),
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a transaction not yet invoiced, with a reason: it reaches no invoice and no
        longer counts against available credit."""
        tx = self.get_object()
        _staff_only(request.user, "cancel")
        serializer = TransactionCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ledger.reseller_transaction_cancel(
            transaction_=tx, reason=serializer.validated_data["reason"], acting_user=request.user
        )
        return self._answer(tx)

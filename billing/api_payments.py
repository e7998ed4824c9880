"""REST API `payments/`: the payment documents you may see, and top-ups (POST).

Reads go through `billing.topups.payments_visible` (`documents_visible`, so tenant-scoped: another
tenant's id answers 404). A POST is one top-up (`billing.topups.topup_pay`): a card of the account
charged through the payment gateway and booked as a payment document, reference "Top-up".

Errors: bad input answers 400 naming the field (`amount`, `payment_method`, `account`,
`Idempotency-Key`); a payment method that is not one of the account's own answers exactly like an
id that does not exist, so nothing about other tenants leaks. A declined card answers 400 on
`payment_method`; a failing or silent gateway 503 (nothing recorded; after a timeout, retry with
the same Idempotency-Key, which the body repeats).

Idempotency-Key: the one mechanism of `billing.idempotency`, shared with orders/ (keys per user;
one 201, replays 200 with `Idempotent-Replayed: true`, 409 while the first is still running after
30 s, 422 for the same key with another body). Underneath, `topup_pay` books one charge per
(account, key) by itself, so two users of one account who happen to send one key get the one
top-up (the second a replay, 200) or 422, never two charges.
"""

from __future__ import annotations

import uuid

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from billing import idempotency
from billing.card_payments import documents_pay, payment_by_key, wallet_pay
from billing.fields import AmountField
from billing.models import Document, DocumentStatus
from billing.selectors import documents_visible
from billing.serializers import DocumentSerializer
from billing.topups import (
    MAX_KEY_LENGTH,
    TopupGatewayError,
    TopupKeyReused,
    payments_visible,
    topup_by_key,
    topup_pay,
)
from resellers.api import NOT_FOUND, IdFilter
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.selectors import payment_methods_visible, resellers_visible
from resellers.tenancy import is_provider_staff

KEY_HEADER = idempotency.KEY_HEADER
REPLAYED_HEADER = idempotency.REPLAYED_HEADER
CREATE_ENDPOINT = "POST payments/"
NO_SUCH_METHOD = "Choose one of the account's payment methods."


def key_parameter(description: str) -> OpenApiParameter:
    """The Idempotency-Key header of a POST (`billing.idempotency`), as the schema shows it."""
    return OpenApiParameter(
        name=KEY_HEADER,
        type=OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=False,
        description=description,
    )


class PaymentSerializer(DocumentSerializer):
    """A payment document, with the payment method it came from and whether it is a top-up."""

    payment_method = serializers.IntegerField(
        source="payment_method_id", read_only=True, allow_null=True
    )
    is_topup = serializers.BooleanField(
        read_only=True, help_text="Paid in as a top-up (reference 'Top-up')."
    )

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "payment_method", "is_topup"]
        read_only_fields = fields


class TopupCreateSerializer(serializers.Serializer):
    payment_method = serializers.IntegerField(
        min_value=1, help_text="One of the account's cards (see payment-methods/)."
    )
    amount = AmountField(
        positive=True,
        required=False,
        help_text="More than zero, ASCII digits with at most the currency's decimals and 12 "
        'digits before the point, as a string, e.g. "300.00". Required, but with `documents`, '
        "where it defaults to their open total.",
    )
    account = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Provider staff: the reseller to top up. Others top up their own account "
        "and may leave it out.",
    )
    documents = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=100,
        help_text="Pay these open invoices and debit memos of the account: the payment is "
        "applied to them, oldest due first; what is left over stays as credit balance.",
    )
    apply_to = serializers.ChoiceField(
        choices=["oldest_due"],
        required=False,
        help_text='"oldest_due": a wallet payment, applied to all the account\'s open invoices '
        "and debit memos, oldest due first; what is left over stays as credit balance.",
    )

    def validate(self, data):
        if "documents" in data and "apply_to" in data:
            raise serializers.ValidationError(
                {"apply_to": ["Send either `documents` or `apply_to`, not both."]}
            )
        if "amount" not in data and "documents" not in data:
            raise serializers.ValidationError({"amount": ["This field is required."]})
        return data


class DocumentPaySerializer(serializers.Serializer):
    payment_method = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="One of the document's recipient's cards (see payment-methods/).",
    )
    amount = AmountField(
        positive=True,
        required=False,
        help_text="Default: the document's open amount. Less pays part of it; more leaves the "
        "rest as credit balance.",
    )
    from_credit_balance = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Pay it with the account's credit balance instead of a card (seed 002).",
    )

    def validate(self, data):
        if data["from_credit_balance"]:
            if "payment_method" in data or "amount" in data:
                raise serializers.ValidationError(
                    {"from_credit_balance": ["Pay by card or from the credit balance, not both."]}
                )
        elif "payment_method" not in data:
            raise serializers.ValidationError(
                {"payment_method": ["Choose a card, or send from_credit_balance."]}
            )
        return data


class PaymentFilter(django_filters.FilterSet):
    recipient = IdFilter(field_name="recipient_id")
    status = django_filters.ChoiceFilter(field_name="shown_status", choices=DocumentStatus.choices)
    is_topup = django_filters.BooleanFilter(field_name="is_topup")
    issued_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")

    class Meta:
        model = Document
        fields = ["recipient", "status", "is_topup", "issued_from", "issued_to"]


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


KEY_PARAMETER = key_parameter(
    f"1 to {MAX_KEY_LENGTH} printable characters, new for each new top-up, scoped "
    "to you (your user). A retry with the same key and body returns the same payment (200, "
    "header `Idempotent-Replayed: true`) and charges nothing; while the first is still running, "
    "a retry waits for it (409 after 30 s: retry later); after a gateway timeout (503) it "
    "completes the top-up without charging twice. The same key with another body answers 422."
)


def acting_for(user: User, account_id: int | None, *, unnamed: str, not_own: str) -> Account:
    """The account an API request acts for (`account` in its body): provider staff must name a
    reseller (else `unnamed`), anyone else acts for its own account only (else `not_own`)."""
    if is_provider_staff(user):
        if account_id is None:
            raise ApplicationError(unnamed, field="account")
        account = resellers_visible(user=user).filter(pk=account_id).first()
        if account is None:
            raise ApplicationError("No such reseller.", field="account")
        return account
    if account_id is not None and account_id != user.account_id:
        raise ApplicationError(not_own, field="account")
    return user.account


def _topup_account(user: User, account_id: int | None) -> Account:
    """Whose top-up: staff name a reseller; everyone else tops up its own account."""
    return acting_for(
        user,
        account_id,
        unnamed="Name the reseller to top up.",
        not_own="You can top up only your own account.",
    )


@extend_schema_view(
    list=extend_schema(tags=["payments"]),
    retrieve=extend_schema(tags=["payments"], responses={200: PaymentSerializer, 404: NOT_FOUND}),
)
class PaymentViewSet(viewsets.ReadOnlyModelViewSet):
    """Payments (credit documents) of the accounts whose finances you may see, top-ups included
    (`is_topup`). POST tops up an account by card."""

    queryset = Document.objects.none()
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    search_fields = ["reference", "recipient__name"]
    ordering_fields = ["issue_date", "total", "id"]

    def get_queryset(self):
        return payments_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return TopupCreateSerializer
        return PaymentSerializer

    @extend_schema(
        tags=["payments"],
        request=TopupCreateSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: OpenApiResponse(PaymentSerializer, description="Charged and booked."),
            200: OpenApiResponse(
                PaymentSerializer,
                description="A replay of an Idempotency-Key already booked: the same payment, "
                "nothing charged (`Idempotent-Replayed: true`).",
            ),
            400: OpenApiResponse(
                description="Bad input, naming the field: `amount` (zero, negative, too many "
                "decimals), `payment_method` (not one of the account's cards, no active token, "
                "an offline method, or the card was declined), `account`, `Idempotency-Key`."
            ),
            403: OpenApiResponse(description="You may not top up that account."),
            409: OpenApiResponse(
                description="A request with this Idempotency-Key is still in progress (waited "
                "30 s for it): retry later with the same key and body."
            ),
            422: OpenApiResponse(
                description="This Idempotency-Key was already used with a different request "
                "(another body, e.g. amount or card, or another endpoint)."
            ),
            503: OpenApiResponse(
                description="The payment gateway failed or did not answer; nothing was recorded. "
                "The body repeats the `idempotency_key` to retry with."
            ),
        },
    )
    def create(self, request):
        """Top up an account: charge one of its cards through the payment gateway and book the
        money as a payment document (a credit document; reference "Top-up"). The balance rises
        by the amount. A prepaid account's open documents are paid from it at once, oldest due
        first; a net-terms account keeps it as credit balance.

        Only cards are charged online: cash, deposit and bank transfer are paid offline and
        recorded by provider staff. Provider staff may top up any reseller (`account`).

        With `documents` (seed 003's first way), the payment pays those open invoices and debit
        memos of one account: applied to them oldest due first, each up to its open amount, the
        rest left as credit balance; `amount` defaults to their open total. With `apply_to:
        "oldest_due"` (the wallet's bulk payment, seed 003's second way), it pays all the
        account's open documents that way. Either is paid to the account's issuer: the provider
        takes cards, a resale reseller only with card payments on (400 on `payment_method`
        otherwise). A document you may not see answers 404.

        With an Idempotency-Key (`billing.idempotency`), the request runs once per (you, key):
        racing requests with one key make one payment, answered 201 once and replayed (200) to
        the others. A refused request or a gateway failure (400, 503) keeps nothing under the
        key."""
        serializer = TopupCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "documents" in data or "apply_to" in data:

            def payer():
                if "documents" in data:
                    return _chosen_documents(request.user, data["documents"], data.get("account"))
                # the wallet: billing.card_payments.wallet_pay picks the open documents
                return _topup_account(request.user, data.get("account")), None

            return card_payment_response(
                request=request,
                payer=payer,
                payment_method_id=data["payment_method"],
                amount=data.get("amount"),
                endpoint=CREATE_ENDPOINT,
            )

        def top_up(account, method, key):
            payment = topup_pay(
                account=account,
                payment_method=method,
                amount=data["amount"],
                idempotency_key=key,
                acting_user=request.user,
                today=timezone.localdate(),
            )
            return payment

        return _charge_response(
            request=request,
            account_of=lambda: _topup_account(request.user, data.get("account")),
            payment_method_id=data["payment_method"],
            booked=lambda account, key: topup_by_key(account=account, idempotency_key=key),
            charge=top_up,
            endpoint=CREATE_ENDPOINT,
        )


def _charge_response(*, request, account_of, payment_method_id, booked, charge, endpoint):
    """A card charge (`charge(account, method, key)`) run once per Idempotency-Key
    (`billing.idempotency`): 201 with the payment, 200 replaying it (`Idempotent-Replayed`),
    422 for a key reused with another body or charge, 503 with the key after a gateway failure
    (nothing recorded: retry with the same key)."""
    sent = {"key": None, "booked_before": False}  # what work() used, for the answers below

    def work(record):
        account = account_of()
        method = (
            payment_methods_visible(user=request.user)
            .filter(account_id=account.pk, pk=payment_method_id)
            .first()
        )
        if method is None:
            raise ApplicationError(NO_SUCH_METHOD, field="payment_method")
        key = sent["key"] = record.key if record is not None else uuid.uuid4().hex
        # Booked before this request (by a request whose answer was lost, or by another user of
        # the account with the same key): the charge returns it, charging nothing.
        sent["booked_before"] = record is not None and booked(account, key) is not None
        payment = charge(account, method, key)
        body = PaymentSerializer(payments_visible(user=request.user).get(pk=payment.pk)).data
        answer = status.HTTP_200_OK if sent["booked_before"] else status.HTTP_201_CREATED
        return answer, idempotency.json_ready(body)

    try:
        outcome = idempotency.run_request(
            user=request.user,
            header=request.headers.get(KEY_HEADER),
            data=request.data,
            endpoint=endpoint,
            work=work,
            max_key_length=MAX_KEY_LENGTH,
        )
    except TopupKeyReused as exc:
        raise Unprocessable(exc.message) from exc
    except TopupGatewayError as exc:
        return Response(
            {"detail": exc.message, "idempotency_key": sent["key"]},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    replayed = outcome.replayed or sent["booked_before"]
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return Response(outcome.body, status=outcome.status, headers=headers)


def card_payment_response(*, request, payer, payment_method_id, amount, endpoint) -> Response:
    """Pay chosen documents by card (`billing.card_payments.documents_pay`): `payer()` gives the
    account and its documents, or None for all its open ones, oldest due first (the wallet,
    `wallet_pay`). Answers as `_charge_response`."""
    chosen: dict = {}

    def account_of():
        chosen["account"], chosen["documents"] = payer()
        return chosen["account"]

    def pay(account, method, key):
        charge = {
            "account": account,
            "payment_method": method,
            "amount": amount,
            "idempotency_key": key,
            "acting_user": request.user,
            "today": timezone.localdate(),
        }
        if chosen["documents"] is None:
            return wallet_pay(**charge)
        return documents_pay(documents=chosen["documents"], **charge)

    return _charge_response(
        request=request,
        account_of=account_of,
        payment_method_id=payment_method_id,
        booked=lambda account, key: payment_by_key(account=account, idempotency_key=key),
        charge=pay,
        endpoint=endpoint,
    )


def _chosen_documents(user: User, ids: list[int], account_id: int | None):
    """The account whose documents `ids` are, and the documents: 404 when one is not among those
    `user` may see (another tenant's answers like one that does not exist)."""
    documents = list(documents_visible(user=user).filter(pk__in=ids).select_related("recipient"))
    if len(documents) != len(set(ids)):
        raise exceptions.NotFound("No such document.")
    accounts = {d.recipient_id for d in documents}
    if len(accounts) > 1:
        raise ApplicationError("Pay one account's documents at a time.", field="documents")
    account = documents[0].recipient
    if account_id is not None and account_id != account.pk:
        raise ApplicationError("Those documents are not that account's.", field="account")
    return account, documents

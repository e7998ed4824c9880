"""REST API on accounts: token auth, contacts, payment methods, and a reseller's daily invoicing.

Views are thin: they take their querysets from `resellers.selectors` (every one through
`resellers.tenancy.scope`, so another tenant's object answers 404), call one service, and let
`config.api.exception_handler` turn domain errors into 400/403.

The `resellers/` and `customers/` read endpoints live in `billing.api`: their detail carries the
ledger's figures, and `resellers` imports no other app (DESIGN.md, "Architecture").
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from resellers.exceptions import ApplicationError
from resellers.logins import lockout_message, log_lockout, retry_after_seconds
from resellers.models import Account, AuditEvent, Contact, PaymentMethod
from resellers.selectors import (
    audit_events_visible,
    contacts_visible,
    payment_methods_visible,
    resellers_visible,
)
from resellers.serializers import (
    AuditEventSerializer,
    ContactSerializer,
    DailyInvoicingSerializer,
    LockedOutSerializer,
    PaymentMethodSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from resellers.services import account_set_daily_invoicing, account_update_financials
from resellers.tenancy import is_provider_staff
from resellers.tokens import api_token_create, api_token_revoke

NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see.")


class ObtainTokenView(APIView):
    """`POST auth/token/` with `username` and `password` (form or JSON) answers
    `{"token": ..., "expiry": ...}` with a new token; send it as `Authorization: Token <token>`.
    Bad credentials answer 400; a username + address locked out after too many failures answers
    429 (resellers.logins), even with the right password. `DELETE auth/token/` revokes the token
    that makes the call (204); it answers 401 from then on. Lifetime and storage: resellers.tokens.
    """

    authentication_classes = [KnoxTokenAuthentication]
    serializer_class = TokenRequestSerializer

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    def perform_authentication(self, request):
        # POST authenticates by username and password: a stale token in the header of a client
        # asking for a new one must not turn the request into a 401.
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Missing or wrong username or password."),
            429: OpenApiResponse(
                response=LockedOutSerializer,
                description="Too many failed attempts for this username from this address.",
            ),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):  # set by axes on this request
                log_lockout(request, request.data.get("username"))
                return Response(
                    {"detail": lockout_message()},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(retry_after_seconds())},
                )
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        instance, token = api_token_create(user=user, via="api")
        # Axes records the successful login and clears the failures; Django sets last_login.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)

    @extend_schema(
        tags=["auth"],
        request=None,
        responses={
            204: OpenApiResponse(description="The token making the call is revoked."),
            401: OpenApiResponse(description="No valid token."),
        },
    )
    def delete(self, request, *args, **kwargs):
        api_token_revoke(token=request.auth, acting_user=request.user, via="api")
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An account id. Not a ModelChoiceFilter: that would validate the id against every
    account and so tell a caller which ids exist in other tenants."""

    field_class = forms.IntegerField


class ContactFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")

    class Meta:
        model = Contact
        fields = ["account", "is_bill_to", "is_primary"]


class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    """Contacts of the accounts you may see (a referral reseller sees its customers' too)."""

    queryset = Contact.objects.none()  # the model, for the schema; rows come from the selector
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "email"]
    ordering_fields = ["created_at", "name", "id"]

    def get_queryset(self):
        return contacts_visible(user=self.request.user)


class AuditEventFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    action = django_filters.CharFilter(
        field_name="action",
        lookup_expr="startswith",
        help_text="An action or its prefix: `order.cancel`, or `order.` for every order action.",
    )
    actor = django_filters.CharFilter(field_name="actor__username", help_text="A username.")
    object_type = django_filters.CharFilter(help_text="`orders.order`, `billing.document`...")
    object_id = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["account", "action", "actor", "object_type", "object_id"]


class ProviderStaffOnly(BasePermission):
    message = "Audit events are for provider staff."

    def has_permission(self, request, view) -> bool:
        return is_provider_staff(request.user)


@extend_schema_view(
    list=extend_schema(tags=["audit-events"]), retrieve=extend_schema(tags=["audit-events"])
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Who did what, when, and why, across the accounts: provider staff only (403 to others).
    Every service that changes an account's state writes one row in its transaction; filter by
    `account`, `action` (or its prefix), `actor`, the object, and `created_after` /
    `created_before` (ISO date-times). Newest first."""

    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    permission_classes = [IsAuthenticated, ProviderStaffOnly]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return audit_events_visible(user=self.request.user)


class PaymentMethodFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")

    class Meta:
        model = PaymentMethod
        fields = ["account", "kind", "is_default", "is_active"]


class PaymentMethodViewSet(viewsets.ReadOnlyModelViewSet):
    """Payment methods of the accounts whose finances you may see. Cards show the last four
    digits and the expiry, never the gateway token."""

    queryset = PaymentMethod.objects.none()
    serializer_class = PaymentMethodSerializer
    filterset_class = PaymentMethodFilter
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return payment_methods_visible(user=self.request.user)


class IsProviderStaff(BasePermission):
    """Checked on the object, so that another tenant's object answers 404 before this 403."""

    message = "Only provider staff can change a reseller's daily invoicing."

    def has_object_permission(self, request, view, obj) -> bool:
        return is_provider_staff(request.user)


class DailyInvoicingView(APIView):
    """Set how a reseller is invoiced daily: `prepaid_only` (only its customers' orders prepaid
    by a single payment), `all` (every order of the reseller and its customers) or `disabled`.
    Provider staff only. Referral resellers are not invoiced daily and accept `disabled` only."""

    # Seed 000's ResellerDailyInvoicingSet_API; the service writes the audit row.

    permission_classes = [IsAuthenticated, IsProviderStaff]

    @extend_schema(
        tags=["resellers"],
        request=DailyInvoicingSerializer,
        responses={
            200: DailyInvoicingSerializer,
            400: OpenApiResponse(description="Bad mode; the body names the field `mode`."),
            403: OpenApiResponse(description="Only provider staff may change it."),
            404: NOT_FOUND,
        },
    )
    def put(self, request, pk: int):
        reseller = get_object_or_404(resellers_visible(user=request.user), pk=pk)
        self.check_object_permissions(request, reseller)
        serializer = DailyInvoicingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            reseller = account_set_daily_invoicing(
                account=reseller, mode=serializer.validated_data["mode"], acting_user=request.user
            )
        except ApplicationError as exc:
            if exc.field == "daily_invoicing":  # the service's name for what this API calls mode
                exc.field = "mode"
            raise
        return Response(
            DailyInvoicingSerializer({"id": reseller.pk, "mode": reseller.daily_invoicing}).data
        )


def _money_field(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=19,
        decimal_places=2,
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
        help_text=help_text,
    )


class AutoTopupSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    threshold = _money_field("Top up when the balance falls below this.")
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


AUTO_TOPUP_FIELDS = {  # the service's field -> this API's name
    "auto_topup_enabled": "enabled",
    "auto_topup_threshold": "threshold",
    "auto_topup_mode": "mode",
    "auto_topup_amount": "amount",
    "auto_topup_target": "target",
    "auto_topup_payment_method": "payment_method",
}


def _auto_topup_body(account: Account) -> dict:
    return AutoTopupSerializer(
        {
            name: getattr(account, f"{field}_id" if name == "payment_method" else field)
            for field, name in AUTO_TOPUP_FIELDS.items()
        }
    ).data


class AutoTopupView(APIView):
    """A reseller's automatic top-up (seed 001 §2): when its balance falls below `threshold`,
    charge `payment_method` a fixed `amount`, or what brings the balance to `target`. The
    reseller's own users or provider staff set it; another tenant's reseller answers 404."""

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

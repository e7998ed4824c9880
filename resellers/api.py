"""REST API on accounts: token auth, contacts, payment methods, and a reseller's daily invoicing.

Views are thin: they take their querysets from `resellers.selectors` (every one through
`resellers.tenancy.scope`, so another tenant's object answers 404), call one service, and let
`config.api.exception_handler` turn domain errors into 400/403.

The `resellers/` and `customers/` read endpoints live in `billing.api`, and a reseller's
`auto-topup/` in `billing.api_auto_topup`: they carry the ledger's figures or its automatic
top-up's state, and `resellers` imports no other app (DESIGN.md, "Architecture").
"""

from __future__ import annotations

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
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from resellers.exceptions import ApplicationError
from resellers.logins import lockout_message, log_lockout, retry_after_seconds
from resellers.models import AuditEvent, Contact, PaymentMethod
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
from resellers.services import account_set_daily_invoicing
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

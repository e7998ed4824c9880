"""API shapes of accounts. Serializers only shape data; rules live in services and selectors.

Payment methods never carry the gateway token out: last four digits and expiry only.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer

from resellers.models import Account, AuditEvent, Contact, PaymentMethod
from resellers.services import FINANCIAL_FIELDS


class TokenRequestSerializer(AuthTokenSerializer):
    """`username` and `password` (form or JSON); `validate` authenticates them with the request,
    so failed attempts count towards the lockout (resellers.logins)."""

    token = None  # DRF's field for its own response; ours is TokenSerializer


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True, help_text="Send as `Authorization: Token <token>`."
    )
    expiry = serializers.DateTimeField(
        read_only=True, help_text="When the token stops working (API_TOKEN_TTL_DAYS after now)."
    )


class LockedOutSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "email",
            "phone",
            "is_bill_to",
            "is_primary",
            "created_at",
        ]
        read_only_fields = fields


class NestedContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "is_bill_to", "is_primary", "created_at"]
        read_only_fields = fields


class PaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = [
            "id",
            "account",
            "kind",
            "label",
            "card_last4",
            "expiry_date",
            "is_default",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class AccountRefSerializer(serializers.ModelSerializer):
    """Another account, by id and name."""

    class Meta:
        model = Account
        fields = ["id", "name"]
        read_only_fields = fields


class _AccountDetailsSerializer(serializers.ModelSerializer):
    """What anyone who may see the account sees: name, status, currency, sign-up date."""

    signed_up_at = serializers.DateTimeField(source="created_at", read_only=True)


class ResellerSerializer(_AccountDetailsSerializer):
    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "status",
            "currency",
            "reseller_model",
            "reseller_code",
            "signed_up_at",
        ]
        read_only_fields = fields


class CustomerSerializer(_AccountDetailsSerializer):
    reseller = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["id", "name", "status", "currency", "reseller", "signed_up_at"]
        read_only_fields = fields

    def get_reseller(self, account: Account) -> int | None:
        """The reseller the customer signed up with (resale or referral); null if direct."""
        parent = account.parent
        return parent.pk if parent is not None and parent.is_reseller else None


class FinancialSettingsSerializer(serializers.ModelSerializer):
    """An account's financial information: credit terms, limit, daily invoicing, top-up."""

    class Meta:
        model = Account
        fields = list(FINANCIAL_FIELDS)
        read_only_fields = fields


class DailyInvoicingSerializer(serializers.Serializer):
    """A reseller's daily invoicing mode."""

    id = serializers.IntegerField(read_only=True)
    mode = serializers.ChoiceField(choices=Account.DailyInvoicing.choices)


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit row: who (`actor`, null for a scheduled job), the account it concerns, what
    (`action`, e.g. `order.cancel`), which object, when, and the details the service recorded
    (a reason, before and after)."""

    actor = serializers.SerializerMethodField()
    account_name = serializers.CharField(source="account.name", read_only=True, default=None)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "account",
            "account_name",
            "action",
            "object_type",
            "object_id",
            "details",
        ]
        read_only_fields = fields

    def get_actor(self, event: AuditEvent) -> str | None:
        return event.actor.username if event.actor_id else None

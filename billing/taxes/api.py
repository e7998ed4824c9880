"""REST API `tax-rules/` and `tax-rates/`: taxation rules and built-in rates (docs/decisions.md
"Taxes").

Reads go through `billing.taxes.selectors` (tenant-scoped: provider staff see every owner's, a
resale reseller its own; another tenant's id answers 404). Writes call the services
(`tax_rule_create`, `tax_rule_delete`, `tax_rate_create`), which decide who may: provider staff
for the provider and any resale reseller, a resale reseller's users for their own; referral
resellers and customers 403.

`owner` on a POST: provider staff name the owner (the provider's account id, or a resale
reseller's; default the provider); everyone else defines its own and may leave it out.
Errors: bad input answers 400 naming the field (`jurisdiction`, `tax_category`, `method`,
`engine_account`, `name`, `rate`, `valid_from_date`, `valid_to_date`, `owner`). A rule or rate
for a scope that already has one answers 400 (one rule per owner, jurisdiction and category; rates
of one scope never overlap), so a retried POST never makes a second one.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from billing.taxes.models import RATE, TaxEngineAccount, TaxMethod, TaxRate, TaxRule
from billing.taxes.selectors import (
    tax_engine_accounts_usable,
    tax_rates_visible,
    tax_rules_visible,
)
from billing.taxes.services import tax_rate_create, tax_rule_create, tax_rule_delete
from resellers.api import NOT_FOUND, IdFilter
from resellers.exceptions import ApplicationError
from resellers.models import Account, User
from resellers.selectors import account_visible
from resellers.serializers import AccountRefSerializer
from resellers.tenancy import is_provider_staff

FORBIDDEN = OpenApiResponse(
    description="Only provider staff and resale resellers define taxation (not referral "
    "resellers or customers), each its own."
)
JURISDICTION_HELP = 'A country ("DE"), a country-region ("US-CA"), or "*" for everywhere.'
CATEGORY_HELP = 'A product tax category ("standard"), or "*" for every category.'
OWNER_HELP = (
    "Provider staff: the owner (the provider, or a resale reseller; default the provider). "
    "Others define their own and may leave it out."
)


class TaxRuleSerializer(serializers.ModelSerializer):
    owner = AccountRefSerializer(read_only=True)
    engine_account = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = TaxRule
        fields = [
            "id",
            "owner",
            "jurisdiction",
            "tax_category",
            "method",
            "engine_account",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TaxRuleCreateSerializer(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, required=False, help_text=OWNER_HELP)
    jurisdiction = serializers.CharField(max_length=10, help_text=JURISDICTION_HELP)
    tax_category = serializers.CharField(max_length=40, help_text=CATEGORY_HELP)
    method = serializers.ChoiceField(
        choices=TaxMethod.choices,
        help_text="`builtin` (the owner's rates), or an external engine if installed.",
    )
    engine_account = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="External methods only: the owner's engine account, or one the provider "
        "shares with resellers.",
    )


class TaxRateSerializer(serializers.ModelSerializer):
    owner = AccountRefSerializer(read_only=True)
    rate = serializers.DecimalField(
        **RATE,
        read_only=True,
        help_text='A fraction, not a percentage: "0.0725" is 7.25 %.',
    )

    class Meta:
        model = TaxRate
        fields = [
            "id",
            "owner",
            "jurisdiction",
            "tax_category",
            "name",
            "rate",
            "valid_from_date",
            "valid_to_date",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "valid_from_date": {"help_text": "Inclusive."},
            "valid_to_date": {"help_text": "Exclusive; null means open-ended."},
        }


class TaxRateCreateSerializer(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, required=False, help_text=OWNER_HELP)
    jurisdiction = serializers.CharField(max_length=10, help_text=JURISDICTION_HELP)
    tax_category = serializers.CharField(max_length=40, help_text=CATEGORY_HELP)
    name = serializers.CharField(max_length=60, help_text='Shown on documents: "VAT".')
    rate = serializers.DecimalField(
        **RATE,
        help_text="A fraction from 0 to 1 with at most four decimals, not a percentage: "
        '"0.0725" is 7.25 %.',
    )
    valid_from_date = serializers.DateField(help_text="YYYY-MM-DD, inclusive.")
    valid_to_date = serializers.DateField(
        required=False, allow_null=True, help_text="YYYY-MM-DD, exclusive; omit for open-ended."
    )


class TaxRuleFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = TaxRule
        fields = ["owner", "jurisdiction", "tax_category", "method"]


class TaxRateFilter(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = TaxRate
        fields = ["owner", "jurisdiction", "tax_category"]


def _owner(user: User, owner_id: int | None) -> Account:
    """Whose taxation: staff may name any account they see (the services refuse those that
    cannot own taxation); everyone else its own."""
    if owner_id is None:
        if user.account is None:
            raise ApplicationError("Name the owner.", field="owner")
        return user.account
    if is_provider_staff(user):
        try:
            return account_visible(user=user, pk=owner_id)
        except Account.DoesNotExist as exc:
            raise ApplicationError("No such account.", field="owner") from exc
    if owner_id != user.account_id:
        raise ApplicationError("You define only your own taxation.", field="owner")
    return user.account


def _engine_account(owner: Account, engine_account_id: int | None) -> TaxEngineAccount | None:
    """One the owner's rules may use; any other id answers like one that does not exist."""
    if engine_account_id is None:
        return None
    found = tax_engine_accounts_usable(owner=owner).filter(pk=engine_account_id).first()
    if found is None:
        raise ApplicationError(
            "No such engine account among yours and the provider's shared ones.",
            field="engine_account",
        )
    return found


@extend_schema_view(
    list=extend_schema(tags=["taxes"]),
    retrieve=extend_schema(tags=["taxes"], responses={200: TaxRuleSerializer, 404: NOT_FOUND}),
)
class TaxRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Taxation rules: which method taxes an owner's lines for a (jurisdiction, tax category).
    The most specific matching rule wins; no matching rule means no tax."""

    queryset = TaxRule.objects.none()  # the model, for the schema; rows come from the selector
    serializer_class = TaxRuleSerializer
    filterset_class = TaxRuleFilter
    ordering_fields = ["jurisdiction", "tax_category", "created_at", "id"]
    search_fields = ["jurisdiction", "tax_category"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return tax_rules_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return TaxRuleCreateSerializer
        return TaxRuleSerializer

    @extend_schema(
        tags=["taxes"],
        request=TaxRuleCreateSerializer,
        responses={
            201: TaxRuleSerializer,
            400: OpenApiResponse(
                description="Bad input, naming the field: `jurisdiction` (not a code, or a rule "
                "for that jurisdiction and category exists), `tax_category`, `method` (unknown or "
                "not installed), `engine_account`, `owner`."
            ),
            403: FORBIDDEN,
        },
    )
    def create(self, request):
        """Add a rule for the owner (see `owner`)."""
        serializer = TaxRuleCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = _owner(request.user, data.get("owner"))
        rule = tax_rule_create(
            owner=owner,
            jurisdiction=data["jurisdiction"],
            tax_category=data["tax_category"],
            method=data["method"],
            engine_account=_engine_account(owner, data.get("engine_account")),
            acting_user=request.user,
        )
        body = TaxRuleSerializer(self.get_queryset().get(pk=rule.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["taxes"],
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def destroy(self, request, pk=None):
        """Delete a rule. Lines it taxed are then taxed by the next matching rule, or not at all;
        issued documents keep their tax."""
        tax_rule_delete(rule=self.get_object(), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(tags=["taxes"]),
    retrieve=extend_schema(tags=["taxes"], responses={200: TaxRateSerializer, 404: NOT_FOUND}),
)
class TaxRateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Built-in tax rates, each in force from `valid_from_date` (inclusive) to `valid_to_date`
    (exclusive). `rate` is a fraction: "0.2000" is 20 %."""

    queryset = TaxRate.objects.none()
    serializer_class = TaxRateSerializer
    filterset_class = TaxRateFilter
    ordering_fields = ["jurisdiction", "tax_category", "valid_from_date", "id"]
    search_fields = ["jurisdiction", "tax_category", "name"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return tax_rates_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return TaxRateCreateSerializer
        return TaxRateSerializer

    @extend_schema(
        tags=["taxes"],
        request=TaxRateCreateSerializer,
        responses={
            201: TaxRateSerializer,
            400: OpenApiResponse(
                description="Bad input, naming the field: `jurisdiction`, `tax_category`, "
                "`name`, `rate` (not a fraction from 0 to 1 with at most four decimals), "
                "`valid_from_date` (another rate of that scope is in force then), "
                "`valid_to_date` (not after the start), `owner`."
            ),
            403: FORBIDDEN,
        },
    )
    def create(self, request):
        """Add a built-in rate for the owner (see `owner`)."""
        serializer = TaxRateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tax_rate = tax_rate_create(
            owner=_owner(request.user, data.get("owner")),
            jurisdiction=data["jurisdiction"],
            tax_category=data["tax_category"],
            name=data["name"],
            rate=data["rate"],
            valid_from_date=data["valid_from_date"],
            valid_to_date=data.get("valid_to_date"),
            acting_user=request.user,
        )
        body = TaxRateSerializer(self.get_queryset().get(pk=tax_rate.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

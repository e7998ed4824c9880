"""Input fields for money, for the API and the panel: thin wrappers of `billing.money.parse_amount`,
the one money-input parser (no other place turns typed text into an amount)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.money import MAX_INTEGER_DIGITS, AmountError, parse_amount

AMOUNT_PATTERN = rf"^[0-9]{{0,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{0,3}})?$"


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": AMOUNT_PATTERN,
        "example": "300.00",
    }
)
class AmountField(serializers.Field):
    """An amount in a request: a string of ASCII digits with at most one point (a JSON integer is
    taken too), parsed by `parse_amount`; a 400 names the field. Goes out as a string."""

    def __init__(self, *, positive: bool = False, signed: bool = False, **kwargs):
        self.positive = positive
        self.signed = signed
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        try:
            return parse_amount(
                data, positive=self.positive, signed=self.signed, field=self.field_name
            )
        except AmountError as exc:
            raise serializers.ValidationError(exc.message) from exc

    def to_representation(self, value) -> str:
        return str(value)


class MoneyFormField(forms.Field):
    """An amount typed in a panel form: `parse_amount` with grouping commas (1,234.50) and the
    currency's decimals when the form knows the currency (`currency`, settable after creation:
    forms set it in __init__ once they know the account)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(
        self,
        *,
        currency: str | None = None,
        positive: bool = False,
        signed: bool = False,
        **kwargs,
    ):
        self.currency = currency
        self.positive = positive
        self.signed = signed
        super().__init__(**kwargs)

    def to_python(self, value) -> Decimal | None:
        if value in self.empty_values:
            return None
        try:
            return parse_amount(
                value,
                currency=self.currency,
                grouping=True,
                positive=self.positive,
                signed=self.signed,
            )
        except AmountError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc

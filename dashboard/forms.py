"""Forms of the panels. They validate input (types, formats, choices) only; business rules are
the services' (`account_update_financials`), whose errors the views put back on these forms."""

from __future__ import annotations

from django import forms

from resellers.models import Account, PaymentMethod

AMOUNT = {"max_digits": 17, "decimal_places": 2}


class FinancialInformationForm(forms.Form):
    """Seed 000's Edit window of a reseller's Financial Information."""

    credit_terms = forms.ChoiceField(choices=Account.CreditTerms.choices)
    credit_limit = forms.DecimalField(**AMOUNT, label="Credit limit")
    payment_terms_days = forms.IntegerField(label="Payment terms (days)", max_value=3650)
    daily_invoicing = forms.ChoiceField(
        choices=Account.DailyInvoicing.choices, label="Daily Invoicing"
    )
    credit_hold = forms.BooleanField(required=False, label="Credit hold")
    auto_topup_enabled = forms.BooleanField(required=False, label="Automatic top-up enabled")
    auto_topup_threshold = forms.DecimalField(
        **AMOUNT,
        required=False,
        label="Top-up threshold",
        help_text="Top up when the balance falls below this amount.",
    )
    auto_topup_amount = forms.DecimalField(**AMOUNT, required=False, label="Top-up amount")
    auto_topup_payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        required=False,
        label="Top-up payment method",
        empty_label="The account's default payment method",
    )

    def __init__(self, *args, payment_methods, **kwargs):
        """`payment_methods`: the account's own methods, the only valid top-up choices."""
        super().__init__(*args, **kwargs)
        self.fields["auto_topup_payment_method"].queryset = payment_methods

    @staticmethod
    def initial_for(account: Account) -> dict:
        return {
            "credit_terms": account.credit_terms,
            "credit_limit": account.credit_limit,
            "payment_terms_days": account.payment_terms_days,
            "daily_invoicing": account.daily_invoicing,
            "credit_hold": account.credit_hold,
            "auto_topup_enabled": account.auto_topup_enabled,
            "auto_topup_threshold": account.auto_topup_threshold,
            "auto_topup_amount": account.auto_topup_amount,
            "auto_topup_payment_method": account.auto_topup_payment_method_id,
        }

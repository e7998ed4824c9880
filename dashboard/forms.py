"""Forms of the panels. They validate input (types, formats, choices) only; business rules are
the services' (`account_update_financials`, `application_create`, `payment_record`,
`credit_balance_apply`), whose errors the views put back on these forms.

Choices of documents and payment methods are querysets the view passes in from the scoped
selectors, so an id from another account (a tampered POST) is "not one of the available choices".
Money amounts are `billing.fields.MoneyFormField`: the one money parser (`billing.money.
parse_amount`), with grouping commas (1,234.50) and at most the currency's decimals.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.db.models import QuerySet
from django.utils import timezone

from billing.fields import MoneyFormField
from billing.models import Document, ResellerTransaction
from billing.taxes.models import TaxEngineAccount
from dashboard.presentation import day, money
from dashboard.product_mix import PERIODS
from orders.models import Product
from orders.quantities import MAX_QUANTITY, MAX_QUANTITY_MESSAGE, QUANTITY_MESSAGE
from orders.selectors import cancelled_by, item_charged_period
from resellers.models import Account, CustomerClass, PaymentMethod
from resellers.services import BILLING_DETAILS_FIELDS

AUTO_TOPUP_FIELDS = (
    "auto_topup_enabled",
    "auto_topup_threshold",
    "auto_topup_mode",
    "auto_topup_amount",
    "auto_topup_target",
    "auto_topup_payment_method",
)


class AutoTopupForm(forms.Form):
    """An account's automatic top-up (seed 001 §2): when its available credit falls below the
    threshold, charge the chosen card a fixed amount or what brings the balance to the target
    (billing.auto_topups)."""

    auto_topup_enabled = forms.BooleanField(required=False, label="Automatic top-up enabled")
    auto_topup_threshold = MoneyFormField(
        required=False,
        label="Top-up threshold",
        help_text="Top up when the available credit (credit limit and balance, less what orders "
        "hold) falls below this amount.",
    )
    auto_topup_mode = forms.TypedChoiceField(
        choices=Account.TopupMode.choices,
        label="Top up",
        required=False,
        empty_value=Account.TopupMode.FIXED,
        initial=Account.TopupMode.FIXED,
    )
    auto_topup_amount = MoneyFormField(
        required=False, label="Top-up amount", help_text="For a fixed amount."
    )
    auto_topup_target = MoneyFormField(
        required=False,
        label="Target balance",
        help_text="For a target: each top-up charges what brings the balance to it.",
    )
    auto_topup_payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        required=False,
        label="Top-up payment method",
        empty_label="The account's default payment method",
    )

    def __init__(self, *args, payment_methods, currency: str | None = None, **kwargs):
        """`payment_methods`: the account's own cards, the only valid top-up choices."""
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, MoneyFormField):
                field.currency = currency
        self.fields["auto_topup_payment_method"].queryset = payment_methods

    @staticmethod
    def initial_for(account: Account) -> dict:
        return {name: getattr(account, name) for name in AUTO_TOPUP_FIELDS} | {
            "auto_topup_payment_method": account.auto_topup_payment_method_id
        }


class FinancialInformationForm(AutoTopupForm):
    """Seed 000's Edit window of a reseller's Financial Information."""

    credit_terms = forms.ChoiceField(choices=Account.CreditTerms.choices)
    credit_limit = MoneyFormField(label="Credit limit")
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)",
        min_value=0,
        max_value=3650,
        error_messages={"min_value": "Payment terms cannot be negative."},
    )
    daily_invoicing = forms.ChoiceField(
        choices=Account.DailyInvoicing.choices, label="Daily Invoicing"
    )
    credit_hold = forms.BooleanField(required=False, label="Credit hold")

    @staticmethod
    def initial_for(account: Account) -> dict:
        return {
            "credit_terms": account.credit_terms,
            "credit_limit": account.credit_limit,
            "payment_terms_days": account.payment_terms_days,
            "daily_invoicing": account.daily_invoicing,
            "credit_hold": account.credit_hold,
            **AutoTopupForm.initial_for(account),
        }


class BillingDetailsForm(forms.Form):
    """An account's address, tax ID and payment instructions (`BILLING_DETAILS_FIELDS`): its
    letterhead on the documents it issues, and how to pay them. Each field is the Account
    field's own (label, help text, length; a textarea for the instructions); whether the country
    is an ISO code is `account_billing_details_set`'s rule."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in BILLING_DETAILS_FIELDS:
            self.fields[name] = Account._meta.get_field(name).formfield()
        self.fields["payment_instructions"].widget.attrs["rows"] = 6

    @staticmethod
    def initial_for(account: Account) -> dict:
        return {name: getattr(account, name) for name in BILLING_DETAILS_FIELDS}


def document_choice_label(document: Document) -> str:
    """`Payment PAY-000003 · 1 Feb 2026 · 50.00 USD open`; debit documents show their due date."""
    when = document.due_date if document.is_debit else document.issue_date
    prefix = "due " if document.is_debit else ""
    return (
        f"{document.get_doc_type_display()} {document.display_number} · "
        f"{prefix}{day(when)} · {money(document.open_amount, document.currency)} open"
    )


class DocumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return document_choice_label(obj)


class DocumentsChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return document_choice_label(obj)


class ApplicationForm(forms.Form):
    """Link part of this document to an open document on the other side (provider staff)."""

    counterpart = DocumentChoiceField(queryset=Document.objects.none(), empty_label=None)
    amount = MoneyFormField(
        required=False,
        positive=True,
        label="Amount",
        help_text="Leave blank to apply the smaller of the two open amounts.",
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "placeholder": "Smaller open amount"}
        ),
    )

    def __init__(self, *args, document: Document, counterparts: QuerySet[Document], **kwargs):
        """`counterparts`: `billing.selectors.application_counterparts` of `document`."""
        super().__init__(*args, **kwargs)
        self.document = document
        field = self.fields["counterpart"]
        field.queryset = counterparts
        field.label = "Payment or credit memo" if document.is_debit else "Document to pay"
        self.fields["amount"].label = f"Amount ({document.currency})"
        self.fields["amount"].currency = document.currency

    def clean(self):
        data = super().clean()
        other = data.get("counterpart")
        if other is not None and data.get("amount") is None and "amount" not in self.errors:
            data["amount"] = min(self.document.open_amount, other.open_amount)
        return data

    def credit_and_debit(self) -> tuple[Document, Document]:
        other = self.cleaned_data["counterpart"]
        return (other, self.document) if self.document.is_debit else (self.document, other)


class PaymentRecordForm(forms.Form):
    """An offline payment received from the account (provider staff)."""

    amount = MoneyFormField(label="Amount", positive=True)
    received_date = forms.DateField(
        label="Received on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        required=False,
        label="Payment method",
        empty_label="Not recorded",
    )
    reference = forms.CharField(
        max_length=100, required=False, label="Reference", help_text="E.g. the bank reference."
    )
    apply_to = DocumentsChoiceField(
        queryset=Document.objects.none(),
        required=False,
        label="Apply to",
    )
    # One token per rendered form: a double click or a resubmitted page records one payment.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        *args,
        currency: str,
        payment_methods: QuerySet[PaymentMethod],
        open_documents: QuerySet[Document] | None,
        today: datetime.date,
        **kwargs,
    ):
        """`payment_methods`: the account's own; `open_documents`: its unpaid documents, oldest
        due first, or None when its credit balance is applied automatically (prepaid)."""
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["amount"].label = f"Amount ({currency})"
        self.fields["amount"].currency = currency
        self.fields["payment_method"].queryset = payment_methods
        if open_documents is None:
            del self.fields["apply_to"]
        else:
            self.fields["apply_to"].queryset = open_documents

    @staticmethod
    def initial_for(*, today: datetime.date) -> dict:
        return {"received_date": today, "submission_key": uuid.uuid4().hex}

    def clean_received_date(self):
        received = self.cleaned_data["received_date"]
        if received > self.today:
            raise forms.ValidationError("A payment cannot be received in the future.")
        return received

    def service_kwargs(self) -> dict:
        """The cleaned data as `payment_record` takes it; `apply_to` in oldest-due order."""
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "received_date": data["received_date"],
            "payment_method": data["payment_method"],
            "reference": data["reference"],
            "apply_to": list(data.get("apply_to") or ()),
            "idempotency_key": f"panel-payment:{data['submission_key']}",
        }


class CreditBalancePayForm(forms.Form):
    """Seed 002: pay unpaid documents with the credit balance. The system picks the order."""

    documents = DocumentsChoiceField(
        queryset=Document.objects.none(),
        label="Documents to pay",
        error_messages={"required": "Choose at least one document to pay."},
    )

    def __init__(self, *args, unpaid: QuerySet[Document], **kwargs):
        """`unpaid`: the account's unpaid documents, oldest due first. All are ticked unless
        the form is bound."""
        kwargs.setdefault("initial", {"documents": [d.pk for d in unpaid]})
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = unpaid


# --- ordering ----------------------------------------------------------------------------------

QUANTITY_ERRORS = {
    "required": "Enter a quantity.",
    "invalid": QUANTITY_MESSAGE,
    "min_value": QUANTITY_MESSAGE,
    "max_value": MAX_QUANTITY_MESSAGE,
}


class QuantityField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_QUANTITY)
        kwargs.setdefault("error_messages", QUANTITY_ERRORS)
        kwargs.setdefault(
            "widget", forms.NumberInput(attrs={"class": "qty", "min": 1, "max": MAX_QUANTITY})
        )
        super().__init__(**kwargs)


class BasketAddForm(forms.Form):
    """Put a product of the party's catalogue in the basket. `products`: the catalogue, so a
    product id from elsewhere (a tampered POST) is refused."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose a product.",
            "invalid_choice": "That product is not in your catalogue.",
        },
    )
    quantity = QuantityField(label="Quantity", initial=1)

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products


class BasketUpdateForm(forms.Form):
    """The basket's quantities, one field per line (`qty_<product id>`)."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line.product.pk)] = QuantityField(
                label=f"Quantity of {line.product.name}", initial=line.quantity
            )

    @staticmethod
    def field_name(product_id: int) -> str:
        return f"qty_{product_id}"

    def rows(self):
        """(line, bound field) pairs, for the template."""
        return [(line, self[self.field_name(line.product.pk)]) for line in self.lines]

    def quantities(self) -> dict[int, int]:
        return {
            line.product.pk: self.cleaned_data[self.field_name(line.product.pk)]
            for line in self.lines
        }


class OrderReviewForm(forms.Form):
    """The review page: billing information, notes, and the one-time submission token."""

    billing_contact_name = forms.CharField(max_length=200, label="Name")
    billing_contact_email = forms.EmailField(
        label="Email", help_text="We email the link to follow your order here."
    )
    notes = forms.CharField(
        max_length=2000,
        required=False,
        label="Notes (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # One token per rendered form: a double click or a resubmitted page places one order.
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    # The total the buyer saw: the order is refused if prices moved in between.
    reviewed_total = MoneyFormField(widget=forms.HiddenInput)

    @staticmethod
    def initial_for(contact, *, reviewed_total) -> dict:
        initial = {"submission_key": uuid.uuid4().hex, "reviewed_total": reviewed_total}
        if contact is not None:
            initial.update(billing_contact_name=contact.name, billing_contact_email=contact.email)
        return initial


class OrderApprovalForm(forms.Form):
    """Seed 004's per-customer Order Approval toggle: the state to switch it to."""

    required = forms.ChoiceField(
        choices=[("on", "On"), ("off", "Off")],
        error_messages={"required": "Say on or off.", "invalid_choice": "Say on or off."},
    )

    def required_value(self) -> bool:
        return self.cleaned_data["required"] == "on"


class SubscriptionSuspendForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, strip=True)


# --- taxes -------------------------------------------------------------------------------------

JURISDICTION_HELP = 'A country ("DE"), a country-region ("US-CA"), or "*" for everywhere.'
CATEGORY_HELP = 'A product tax category ("standard"), or "*" for every category.'


class OptionsSelect(forms.Select):
    """A select whose options in `disabled` are shown but cannot be chosen."""

    def __init__(self, *args, disabled=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled = set(disabled)

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.disabled:
            option["attrs"]["disabled"] = True
        return option


class TaxRuleForm(forms.Form):
    """A taxation rule of the page's owner. `methods`: every method, those not installed shown
    but disabled (`not_installed`; the service refuses them too); `engine accounts`: those a
    rule of the owner may use (its own, the provider's shared ones)."""

    jurisdiction = forms.CharField(max_length=10, label="Jurisdiction", help_text=JURISDICTION_HELP)
    tax_category = forms.CharField(max_length=40, label="Tax category", help_text=CATEGORY_HELP)
    method = forms.ChoiceField(label="Method")
    engine_account = forms.ModelChoiceField(
        queryset=TaxEngineAccount.objects.none(),
        required=False,
        label="Engine account",
        empty_label="None (built-in rates)",
        help_text="For AvaTax and Vertex only.",
    )
    # One token per rendered form: a double click or a resubmitted page adds one rule.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self, *args, methods: list[tuple[str, str]], engine_accounts, not_installed=(), **kwargs
    ):
        kwargs.setdefault("initial", {"jurisdiction": "*", "tax_category": "*"})
        kwargs["initial"].setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["method"].widget = OptionsSelect(disabled=not_installed)
        self.fields["method"].choices = methods
        if engine_accounts.exists():
            self.fields["engine_account"].queryset = engine_accounts
        else:
            del self.fields["engine_account"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "jurisdiction": data["jurisdiction"],
            "tax_category": data["tax_category"],
            "method": data["method"],
            "engine_account": data.get("engine_account"),
        }


class TaxEngineAccountForm(forms.Form):
    """An account with an installed external engine (AvaTax, Vertex) for the page's owner;
    sharing with resellers is the provider's only."""

    engine = forms.ChoiceField(label="Engine")
    label = forms.CharField(max_length=100, label="Label")
    company_code = forms.CharField(
        max_length=64, required=False, label="Company code",
        help_text="The engine's company (AvaTax companyCode, Vertex seller company). Empty: the "
        "installation's default.",
    )  # fmt: skip
    settings_key = forms.CharField(
        max_length=64, required=False, label="Credentials key",
        help_text="The name of a credentials entry in the installation's TAX_ENGINE_CREDENTIALS. "
        "Empty: the installation's credentials. Keys and secrets are never typed here.",
    )  # fmt: skip
    shared_with_resellers = forms.BooleanField(
        required=False, label="Shared with resellers",
        help_text="Resale resellers' rules may use this account.",
    )  # fmt: skip
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, engines: list[tuple[str, str]], can_share: bool, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["engine"].choices = engines
        if not can_share:
            del self.fields["shared_with_resellers"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "engine": data["engine"],
            "label": data["label"],
            "company_code": data["company_code"],
            "settings_key": data["settings_key"],
            "shared_with_resellers": data.get("shared_with_resellers", False),
        }


class TaxRateForm(forms.Form):
    """A built-in rate, typed as a percentage (7.25 means 7.25 %; stored as the fraction
    0.0725)."""

    jurisdiction = forms.CharField(max_length=10, label="Jurisdiction", help_text=JURISDICTION_HELP)
    tax_category = forms.CharField(max_length=40, label="Tax category", help_text=CATEGORY_HELP)
    name = forms.CharField(max_length=60, label="Name", help_text='Shown on documents: "VAT".')
    rate = forms.DecimalField(
        label="Rate (%)",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        help_text="A percentage: 7.25 for 7.25 %, 20 for 20 %.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    valid_from_date = forms.DateField(
        label="Valid from", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    valid_to_date = forms.DateField(
        label="Valid to",
        required=False,
        help_text="Exclusive; leave blank for open-ended.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"jurisdiction": "*", "tax_category": "*"})
        kwargs["initial"].setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "jurisdiction": data["jurisdiction"],
            "tax_category": data["tax_category"],
            "name": data["name"],
            "rate": data["rate"] / 100,
            "valid_from_date": data["valid_from_date"],
            "valid_to_date": data["valid_to_date"],
        }


class TaxProfileForm(forms.Form):
    """Where an account is taxed, and whether it is exempt (provider staff, or its issuer)."""

    jurisdiction = forms.CharField(
        max_length=10, label="Jurisdiction", help_text='A country ("DE") or region ("US-CA").'
    )
    exempt = forms.BooleanField(required=False, label="Tax exempt")
    exemption_number = forms.CharField(
        max_length=64, required=False, label="Exemption number", help_text="Exempt accounts only."
    )


# --- reseller transactions ---------------------------------------------------------------------


class TransactionFilterForm(forms.Form):
    """The provider's filters on the reseller transactions list (all optional)."""

    account = forms.IntegerField(required=False, min_value=1, label="Account id")
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any kind"), *ResellerTransaction.Kind.choices]
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *ResellerTransaction.Status.choices]
    )
    period_start = forms.DateField(
        required=False, label="Period from", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        required=False, label="to (exclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )


class TransactionCorrectForm(forms.Form):
    amount = MoneyFormField(
        label="Corrected amount",
        signed=True,
        help_text="A charge, or with a minus a credit to the account (e.g. -25.00).",
    )
    reason = forms.CharField(max_length=300, label="Reason", help_text="Kept in the audit log.")
    refund = forms.BooleanField(
        required=False,
        label="Refund a credit at once",
        help_text="A credit (a negative amount) is paid back now to the payment method below, "
        "instead of through the next billing order. A charge is never refunded.",
    )
    payment_method = forms.ModelChoiceField(
        queryset=None, required=False, label="Refund to", empty_label="The account's default"
    )
    # One token per rendered form: a double click or a resubmitted page refunds once.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, currency: str, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency
        self.fields["payment_method"].queryset = methods


class TransactionCancelForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason", help_text="Kept in the audit log.")


class UsageCorrectForm(forms.Form):
    """A usage record's real value, as it was reported (money, or a quantity); why; and what a
    lower invoiced charge gives back (orders.services.usage_correct)."""

    quantity = forms.DecimalField(
        max_digits=19, decimal_places=4, min_value=Decimal(0), required=False, label="Quantity"
    )
    amount = MoneyFormField(label="Amount", required=False)
    cost = MoneyFormField(
        label="Cost upstream",
        required=False,
        help_text="Leave empty: it follows the amount where the report gave no cost.",
    )
    outcome = forms.ChoiceField(
        choices=[
            ("credit_memo", "Credit memo (raises the account's credit balance)"),
            ("refund", "Refund to the card that paid (a credit memo where it paid otherwise)"),
        ],
        widget=forms.RadioSelect,
        initial="credit_memo",
        label="What a lower invoiced charge gives back",
    )
    reason = forms.CharField(max_length=300, label="Reason", help_text="Kept in the audit log.")

    def __init__(self, *args, as_money: bool, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        if as_money:
            del self.fields["quantity"]
            self.fields["amount"].required = True
            self.fields["amount"].currency = currency
            self.fields["amount"].label = f"Amount ({currency})"
            self.fields["cost"].currency = currency
        else:
            del self.fields["amount"]
            del self.fields["cost"]
            self.fields["quantity"].required = True


# --- correcting orders -------------------------------------------------------------------------

UNIT = {"max_digits": 19, "decimal_places": 4, "min_value": Decimal(0), "required": False}


class OrderCorrectForm(forms.Form):
    """Seed 001 §4 in the provider panel: per detail, a corrected unit price (the customer's),
    unit cost (the reseller's), quantity, service period (for a charge that covers one), or
    cancel; what a lower invoiced charge gives back; and why. Left as they are, a detail's
    fields change nothing."""

    outcome = forms.ChoiceField(
        choices=[
            ("credit_memo", "Credit memo (raises the account's credit balance)"),
            ("refund", "Refund to the card that paid (a credit memo where it paid otherwise)"),
        ],
        widget=forms.RadioSelect,
        initial="credit_memo",
        label="What a lower invoiced charge gives back",
    )
    reason = forms.CharField(max_length=300, label="Reason", help_text="Kept in the audit log.")

    def __init__(self, *args, states: list, **kwargs):
        """`states`: (detail, its corrected state) per detail of the order."""
        super().__init__(*args, **kwargs)
        self.states = states
        self.charged = {}
        for item, state in states:
            if cancelled_by(state) is not None:  # nothing left to correct: no fields
                continue
            name = item.product.name
            self.fields[f"unit_price_{item.pk}"] = forms.DecimalField(
                **UNIT, initial=state.unit_price, label=f"{name}: unit price"
            )
            self.fields[f"unit_cost_{item.pk}"] = forms.DecimalField(
                **UNIT, initial=state.unit_cost, label=f"{name}: unit cost"
            )
            self.fields[f"quantity_{item.pk}"] = forms.IntegerField(
                min_value=1, max_value=MAX_QUANTITY, required=False, initial=state.quantity,
                label=f"{name}: quantity",
            )  # fmt: skip
            self.charged[item.pk] = charged = item_charged_period(item=item, state=state)
            if charged is not None:  # the service period its charge covers
                self.fields[f"period_start_{item.pk}"] = forms.DateField(
                    required=False, initial=charged.start, label=f"{name}: service from",
                    widget=forms.DateInput(attrs={"type": "date"}),
                )  # fmt: skip
                self.fields[f"period_end_{item.pk}"] = forms.DateField(
                    required=False, initial=charged.end, label=f"{name}: service to (exclusive)",
                    widget=forms.DateInput(attrs={"type": "date"}),
                )  # fmt: skip
            self.fields[f"cancel_{item.pk}"] = forms.BooleanField(
                required=False, label=f"Cancel {name}"
            )
        for name, form_field in self.fields.items():
            if name not in ("outcome", "reason"):  # in a table: labelled by aria-label
                form_field.widget.attrs["aria-label"] = form_field.label

    def rows(self) -> list[dict]:
        """Per detail, for the template: the detail, its corrected state and its four fields."""
        rows = []
        for item, state in self.states:
            row = {"item": item, "corrected": state is not item}
            row["cancelled_by"] = cancelled_by(state)
            if row["cancelled_by"] is None:
                for key in ("unit_price", "unit_cost", "quantity", "cancel"):
                    row[key] = self[f"{key}_{item.pk}"]
                if self.charged.get(item.pk) is not None:
                    row["period_start"] = self[f"period_start_{item.pk}"]
                    row["period_end"] = self[f"period_end_{item.pk}"]
            rows.append(row)
        return rows

    def lines(self) -> list[dict]:
        """The details the form changes, as the service's lines."""
        found = []
        for item, state in self.states:
            if cancelled_by(state) is not None:
                continue
            data = self.cleaned_data
            line: dict = {"item_id": item.pk}
            if data[f"cancel_{item.pk}"]:
                line["cancel"] = True
            for key, current in (
                ("unit_price", state.unit_price),
                ("unit_cost", state.unit_cost),
                ("quantity", state.quantity),
            ):
                value = data[f"{key}_{item.pk}"]
                if value is not None and value != current:
                    line[key] = value
            if (charged := self.charged.get(item.pk)) is not None:
                for key, current in (("period_start", charged.start), ("period_end", charged.end)):
                    value = data[f"{key}_{item.pk}"]
                    if value is not None and value != current:
                        line[key] = value
            if len(line) > 1:
                found.append(line)
        return found

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.lines():
            raise forms.ValidationError("Change at least one detail, or cancel it.")
        return cleaned


class ProductMixForm(forms.Form):
    """The Product Mix widget's choices (seed 004): the period, and optional filters by product
    type and billing type. Read from the page's query string (`mix-` prefixed)."""

    prefix = "mix"
    period = forms.ChoiceField(choices=list(PERIODS.items()), initial="this_month", required=False)
    product_type = forms.ChoiceField(
        choices=[("", "All product types"), *Product.ProductType.choices], required=False
    )
    billing_type = forms.ChoiceField(
        choices=[("", "All billing types"), *Product.BillingType.choices], required=False
    )

    def choices(self) -> dict:
        """The chosen period and filters, the defaults where the query string is missing or
        wrong."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "period": data.get("period") or "this_month",
            "product_type": data.get("product_type", ""),
            "billing_type": data.get("billing_type", ""),
        }


class ReportPeriodForm(forms.Form):
    """A report's period, both days included; this month to date unless chosen."""

    period_start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        required=False, label="To (included)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        cleaned["period_start"] = cleaned.get("period_start") or today.replace(day=1)
        cleaned["period_end"] = cleaned.get("period_end") or today
        if cleaned["period_end"] < cleaned["period_start"]:
            self.add_error("period_end", "The period ends before it starts.")
        return cleaned

    def period(self) -> tuple:
        """The chosen period, or this month to date when the form is not valid."""
        if self.is_valid():
            return self.cleaned_data["period_start"], self.cleaned_data["period_end"]
        today = timezone.localdate()
        return today.replace(day=1), today


class PayoutPaidForm(forms.Form):
    """Provider staff mark a referral reseller's payout for a period paid (settled offline)."""

    reseller = forms.IntegerField(widget=forms.HiddenInput)
    period_start = forms.DateField(widget=forms.HiddenInput)
    period_end = forms.DateField(widget=forms.HiddenInput)
    reference = forms.CharField(
        max_length=120, required=False, label="Reference", help_text="A bank transfer's, say."
    )


class CommissionRateForm(forms.Form):
    """A referral reseller's commission, in percent (10 = 10 %)."""

    percent = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=2, label="Commission (%)"
    )


class SignUpForm(forms.Form):
    """Seed 003's sign-up: a new customer, tagged to the referral reseller whose code it enters."""

    name = forms.CharField(max_length=200, label="Company name")
    contact_name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(label="Email")
    username = forms.CharField(max_length=150, label="Username")
    password = forms.CharField(widget=forms.PasswordInput, label="Password")
    reseller_code = forms.CharField(
        max_length=32, required=False, label="Reseller code",
        help_text="The code your reseller gave you, if any.",
    )  # fmt: skip

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class CustomerCreateForm(forms.Form):
    """Provider staff create a customer (seed 003): with a referral reseller's code it is tagged
    to that reseller; a login is optional (username and password together)."""

    name = forms.CharField(max_length=200, label="Company name")
    contact_name = forms.CharField(max_length=200, label="Contact name")
    email = forms.EmailField(label="Contact email")
    reseller_code = forms.CharField(
        max_length=32, required=False, label="Reseller code",
        help_text="A referral reseller's code: the customer is tagged to it. Empty: a direct "
        "customer of the provider.",
    )  # fmt: skip
    username = forms.CharField(
        max_length=150, required=False, label="Username",
        help_text="Optional: a login for the customer now.",
    )  # fmt: skip
    password = forms.CharField(widget=forms.PasswordInput, required=False, label="Password")

    def clean(self):
        data = super().clean()
        username, password = data.get("username", ""), data.get("password", "")
        if username and not password:
            self.add_error("password", "Give the login a password, or leave the username empty.")
        elif password and not username:
            self.add_error("username", "Give the login a username, or leave the password empty.")
        elif password:
            try:
                validate_password(password)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class CustomerClassForm(forms.Form):
    """A customer class's name and billing policies (seed 001 §3, §4)."""

    name = forms.CharField(max_length=100, label="Name")
    bill_for_subscriptions_on_hold = forms.BooleanField(
        required=False, label="Bill for subscriptions on hold",
        help_text=CustomerClass._meta.get_field("bill_for_subscriptions_on_hold").help_text,
    )  # fmt: skip
    refund_on_cancel = forms.BooleanField(
        required=False, label="Refund on cancel",
        help_text=CustomerClass._meta.get_field("refund_on_cancel").help_text,
    )  # fmt: skip

    @staticmethod
    def initial_for(customer_class: CustomerClass) -> dict:
        return {
            "name": customer_class.name,
            "bill_for_subscriptions_on_hold": customer_class.bill_for_subscriptions_on_hold,
            "refund_on_cancel": customer_class.refund_on_cancel,
        }


class AccountClassForm(forms.Form):
    """Which customer class an account is in."""

    customer_class = forms.ModelChoiceField(
        queryset=CustomerClass.objects.all(), empty_label=None, label="Customer class"
    )

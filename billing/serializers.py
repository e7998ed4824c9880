"""API shapes of the ledger: documents with their lines, and an account's figures.

Serializers only shape data. Money goes out as strings (DRF's DecimalField), never floats. What a
user is shown of a document (a credit memo is always closed to anyone but provider staff) is
decided by `billing.selectors.documents_visible`, which annotates `shown_status` and
`shown_open_amount`; the serializer only prints them.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.fields import AmountField
from billing.models import (
    MONEY,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    ResellerTransaction,
)
from resellers.models import Account
from resellers.serializers import (
    AccountRefSerializer,
    CustomerSerializer,
    NestedContactSerializer,
    ResellerSerializer,
)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, read_only=True, **kwargs)


class FinancialsSerializer(serializers.Serializer):
    """An account's financial information and its figures towards the account that bills it."""

    # Serializes {"account": Account, "figures": billing.selectors.Financials}.

    currency = serializers.CharField(source="figures.currency", read_only=True)
    credit_terms = serializers.ChoiceField(
        choices=Account.CreditTerms.choices, source="account.credit_terms", read_only=True
    )
    credit_limit = _money(source="figures.credit_limit")
    payment_terms_days = serializers.IntegerField(
        source="account.payment_terms_days", read_only=True
    )
    credit_hold = serializers.BooleanField(source="account.credit_hold", read_only=True)
    balance = _money(source="figures.balance", help_text="Credit balance minus open debt.")
    credit_balance = _money(
        source="figures.credit_balance",
        help_text="Open amounts of payments and credit memos.",
    )
    open_debt = _money(
        source="figures.open_debt",
        help_text="Open amounts of invoices, debit memos and refunds.",
    )
    uninvoiced = _money(
        source="figures.uninvoiced", help_text="Reseller transactions not yet invoiced."
    )
    reserved = _money(source="figures.reserved", help_text="Credit held for accepted orders.")
    available_credit = _money(
        source="figures.available_credit",
        help_text="Credit limit minus open debt, uninvoiced transactions and reservations.",
    )
    auto_topup_enabled = serializers.BooleanField(
        source="account.auto_topup_enabled", read_only=True
    )
    auto_topup_threshold = _money(source="account.auto_topup_threshold", allow_null=True)
    auto_topup_amount = _money(source="account.auto_topup_amount", allow_null=True)
    auto_topup_payment_method = serializers.IntegerField(
        source="account.auto_topup_payment_method_id", read_only=True, allow_null=True
    )


class ResellerFinancialsSerializer(FinancialsSerializer):
    daily_invoicing = serializers.ChoiceField(
        choices=Account.DailyInvoicing.choices, source="account.daily_invoicing", read_only=True
    )


class _FinancialsFromContext:
    """`financials`: the figures the view put in the context, or null when the user may not see
    them (a referral reseller looking at its customers)."""

    financials_serializer_class: type[FinancialsSerializer] = FinancialsSerializer

    def get_financials(self, account: Account) -> dict | None:
        figures = self.context.get("figures")
        if figures is None:
            return None
        return self.financials_serializer_class({"account": account, "figures": figures}).data


class ResellerDetailSerializer(_FinancialsFromContext, ResellerSerializer):
    """A reseller with its contacts and, when you may see them, its financial information and
    figures (`financials`; null otherwise)."""

    contacts = NestedContactSerializer(many=True, read_only=True)
    financials = serializers.SerializerMethodField()
    financials_serializer_class = ResellerFinancialsSerializer

    class Meta(ResellerSerializer.Meta):
        fields = [*ResellerSerializer.Meta.fields, "contacts", "financials"]
        read_only_fields = fields

    @extend_schema_field(ResellerFinancialsSerializer(allow_null=True))
    def get_financials(self, account: Account) -> dict | None:
        return super().get_financials(account)


class CustomerDetailSerializer(_FinancialsFromContext, CustomerSerializer):
    """A customer with its contacts and, when you may see them, its financial information and
    figures towards its issuer (`financials`; null to a referral reseller)."""

    contacts = NestedContactSerializer(many=True, read_only=True)
    financials = serializers.SerializerMethodField()

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "contacts", "financials"]
        read_only_fields = fields

    @extend_schema_field(FinancialsSerializer(allow_null=True))
    def get_financials(self, account: Account) -> dict | None:
        return super().get_financials(account)


class DocumentLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "tax_rate",
            "tax_amount",
            "period_start_date",
            "period_end_date",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    """A document as the requesting user is shown it (see `documents_visible`)."""

    number = serializers.CharField(
        source="display_number",
        read_only=True,
        help_text="e.g. INV-000042 (drafts: INV-DRAFT-<id>).",
    )
    type = serializers.ChoiceField(source="doc_type", choices=DocumentType.choices, read_only=True)
    status = serializers.ChoiceField(
        source="shown_status", choices=DocumentStatus.choices, read_only=True
    )
    open_amount = _money(source="shown_open_amount")
    issuer = AccountRefSerializer(read_only=True)
    recipient = AccountRefSerializer(read_only=True)
    lines = DocumentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "number",
            "type",
            "status",
            "issuer",
            "recipient",
            "currency",
            "issue_date",
            "due_date",
            "subtotal",
            "tax_total",
            "total",
            "open_amount",
            "reference",
            "billing_key",
            "billing_run",
            "lines",
        ]
        read_only_fields = fields


class MemoLineSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    quantity = serializers.DecimalField(
        max_digits=19, decimal_places=4, min_value=Decimal("0.0001"), default=Decimal("1")
    )
    unit_price = serializers.DecimalField(
        max_digits=19,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        help_text="Before tax, in the recipient's currency.",
    )
    tax_category = serializers.CharField(
        max_length=40, default="standard", help_text="As on invoice lines (billing.taxes)."
    )


class MemoCreateSerializer(serializers.Serializer):
    """`POST documents/`: a debit or credit memo by hand (provider staff)."""

    doc_type = serializers.ChoiceField(
        choices=[(DocumentType.DEBIT_MEMO, "Debit memo"), (DocumentType.CREDIT_MEMO, "Credit memo")]
    )
    recipient = serializers.IntegerField(help_text="The account it is issued to.")
    lines = MemoLineSerializer(many=True, allow_empty=False)
    reason = serializers.CharField(max_length=300, help_text="Why; kept in the audit log.")


class RefundCreateSerializer(serializers.Serializer):
    """`POST documents/{id}/refund/`: pay back part or all of a credit document's unapplied
    amount (provider staff)."""

    amount = AmountField(positive=True, help_text="At most the document's unapplied (open) amount.")
    payment_method = serializers.IntegerField(
        help_text="One of the recipient's payment methods: a card refunds through the gateway "
        "(only a payment taken from that card); cash, deposit or bank transfer records money "
        "paid back offline."
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ResellerTransactionSerializer(serializers.ModelSerializer):
    """A charge recorded against an account until an invoice picks it up (docs/glossary.md)."""

    account = AccountRefSerializer(read_only=True)
    invoice_number = serializers.CharField(
        source="invoice.display_number", read_only=True, default=None
    )

    class Meta:
        model = ResellerTransaction
        fields = [
            "id",
            "account",
            "kind",
            "status",
            "description",
            "amount",
            "currency",
            "quantity",
            "unit_price",
            "charge_date",
            "period_start_date",
            "period_end_date",
            "reference",
            "subscription",
            "invoice",
            "invoice_number",
        ]
        read_only_fields = fields


class TransactionCorrectSerializer(serializers.Serializer):
    amount = AmountField(
        signed=True,
        help_text="The corrected amount, in the account's currency: a charge, or with a minus "
        'a credit to the account (e.g. "-25.00", a refund adjustment).',
    )
    reason = serializers.CharField(max_length=300)
    refund = serializers.BooleanField(
        default=False,
        help_text="With a credit (a negative amount): refund it at once to the account's "
        "payment method instead of through the billing order (a credit memo and its refund; "
        "the transaction never reaches the billing order). A charge is never refunded (400).",
    )
    payment_method = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With `refund`: one of the account's payment methods (default: its default).",
    )


class TransactionCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)

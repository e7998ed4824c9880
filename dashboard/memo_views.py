"""Memos and refunds by hand in the provider control panel (provider staff; 404 out of scope
first, then 403 for anyone else, like every /billing/ page and the document actions).

- /billing/resellers/<pk>/memos/new/ and /billing/customers/<pk>/memos/new/: issue a debit memo
  or a credit memo (`billing.ledger.memo_issue`): a reason, and up to MEMO_ROWS lines
  (description, quantity, unit price, tax category); blank rows are ignored. Issued today (the
  date is read here, at the edge, as the API's `POST documents/` does: the panel offers no
  back-dating the API does not). Success opens the memo's page, naming its number.
- /documents/<pk>/refund/: pay back part or all of a payment's or credit memo's unapplied amount
  (`billing.ledger.credit_refund`) to one of the recipient's payment methods: to the card that
  paid it through the gateway, or offline. Success opens the refund's page.

A service's ApplicationError goes on the field it names (else on the form) and nothing is
written. A failing tax engine issues no memo; a declined card or a failing gateway refunds
nothing, each said on the form.

One-time submission tokens (dashboard.submissions): each rendered form carries a token. The first
POST claims it in the session and remembers the document it made; a second POST of the same form
(a double click, a reload) makes nothing and goes to that document. A refund's token is also its
gateway idempotency key, so a retry after a gateway failure refunds once; after a decline the
form gets a new token (nothing was refunded: the next submit is a new request).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView

from billing import ledger
from billing.fields import MoneyFormField
from billing.gateway import CardDeclined, GatewayError
from billing.models import Document, DocumentType
from billing.taxes.engines import TaxEngineError
from dashboard import selectors
from dashboard.access import require_provider_panel
from dashboard.presentation import money
from dashboard.submissions import claim, form_error, remember
from resellers import exceptions as domain
from resellers.models import Account, PaymentMethod

MEMO_ROWS = 3
MEMO_SUBMISSIONS = "memo_submissions"
REFUND_SUBMISSIONS = "refund_submissions"
# As the API's memo lines (billing.serializers.MemoLineSerializer): unit prices carry 4 digits.
LINE_DECIMAL = {"max_digits": 19, "decimal_places": 4, "min_value": Decimal("0.0001")}
POSITIVE = "Enter a positive number."
LINE_KEYS = ("description", "quantity", "unit_price", "tax_category")


def _or_404(read, **kwargs):
    try:
        return read(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


class _OneTimeForm(forms.Form):
    # One token per rendered form: a double click or a resubmitted page issues one document.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def renew_key(self) -> None:
        """A fresh token for the form shown again: the next submit is a new request."""
        self.data = self.data.copy()
        self.data[self.add_prefix("submission_key")] = uuid.uuid4().hex


class MemoForm(_OneTimeForm):
    """A debit or credit memo: its type, why, and up to MEMO_ROWS lines (`line<i>_<field>`). A
    row with neither a description nor a unit price is blank and ignored."""

    doc_type = forms.ChoiceField(
        choices=[
            (DocumentType.CREDIT_MEMO, "Credit memo (the account owes less)"),
            (DocumentType.DEBIT_MEMO, "Debit memo (the account owes more)"),
        ],
        widget=forms.RadioSelect,
        initial=DocumentType.CREDIT_MEMO,
        label="Type",
    )
    reason = forms.CharField(
        max_length=300,
        label="Reason",
        help_text="Why it is issued; kept in the audit log.",
        error_messages={"required": "Say why the memo is issued."},
    )

    def __init__(self, *args, currency: str, tax_categories: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(category, category) for category in tax_categories]
        for i in range(1, MEMO_ROWS + 1):
            self.fields[f"line{i}_description"] = forms.CharField(
                max_length=300, required=False, label=f"Line {i}: description"
            )
            self.fields[f"line{i}_quantity"] = forms.DecimalField(
                **LINE_DECIMAL,
                required=False,
                initial=1,
                label=f"Line {i}: quantity",
                error_messages={"min_value": POSITIVE},
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "qty"}),
            )
            self.fields[f"line{i}_unit_price"] = forms.DecimalField(
                **LINE_DECIMAL,
                required=False,
                label=f"Line {i}: unit price ({currency}, before tax)",
                error_messages={"min_value": POSITIVE},
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields[f"line{i}_tax_category"] = forms.ChoiceField(
                choices=choices, initial="standard", required=False, label=f"Line {i}: tax category"
            )
        for name, form_field in self.fields.items():
            if name.startswith("line"):  # in a table: labelled by aria-label
                form_field.widget.attrs["aria-label"] = form_field.label

    def rows(self) -> list[dict]:
        """Per line row, for the template: its four bound fields."""
        return [{key: self[f"line{i}_{key}"] for key in LINE_KEYS} for i in range(1, MEMO_ROWS + 1)]

    def clean(self):
        cleaned = super().clean()
        self.memo_lines: list[ledger.MemoLine] = []
        for i in range(1, MEMO_ROWS + 1):
            names = {key: f"line{i}_{key}" for key in ("description", "quantity", "unit_price")}
            if any(name in self.errors for name in names.values()):
                continue
            description = (cleaned.get(names["description"]) or "").strip()
            unit_price = cleaned.get(names["unit_price"])
            if not description and unit_price is None:
                continue  # a blank row
            if not description:
                self.add_error(names["description"], "Describe the line.")
                continue
            if unit_price is None:
                self.add_error(names["unit_price"], "Enter the line's unit price.")
                continue
            self.memo_lines.append(
                ledger.MemoLine(
                    description=description,
                    unit_price=unit_price,
                    quantity=cleaned.get(names["quantity"]) or Decimal("1"),
                    tax_category=cleaned.get(f"line{i}_tax_category") or "standard",
                )
            )
        if not self.errors and not self.memo_lines:
            raise forms.ValidationError("A memo needs at least one line: fill in a row.")
        return cleaned


class RefundForm(_OneTimeForm):
    """How much of the credit document goes back, to which of the recipient's payment methods."""

    amount = MoneyFormField(
        label="Amount",
        positive=True,
        error_messages={"required": "Enter the amount to refund."},
    )
    payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        empty_label=None,
        label="Refund to",
        help_text="A card gets the money back through the payment gateway (only a payment taken "
        "from that card); cash, deposit or bank transfer records money paid back offline.",
        error_messages={
            "required": "Choose where the money goes back to.",
            "invalid_choice": "Choose one of the account's payment methods.",
        },
    )
    reason = forms.CharField(
        max_length=300, required=False, label="Reason", help_text="Kept in the audit log."
    )

    def __init__(self, *args, currency: str, payment_methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency
        self.fields["amount"].label = f"Amount ({currency})"
        self.fields["payment_method"].queryset = payment_methods


class _OneTimeFormView(LoginRequiredMixin, FormView):
    """A form whose POST makes one document once (see the module's docstring)."""

    slot = ""

    def form_valid(self, form):
        key = form.cleaned_data["submission_key"]
        claimed, document_id = claim(self.request, self.slot, key)
        if not claimed:
            if document_id is None:
                messages.info(self.request, "That form was already sent and is still at work.")
                return redirect(self.back_url())
            messages.info(self.request, "That form was already sent: here is what it made.")
            return redirect("document_detail", pk=document_id)
        try:
            document = self.act(form)
        except domain.ApplicationError as exc:
            remember(self.request, self.slot, key, None)
            self.refused(form, exc)
            return self.form_invalid(form)
        except Exception:
            remember(self.request, self.slot, key, None)
            raise
        remember(self.request, self.slot, key, document.pk)
        messages.success(self.request, self.message(document))
        return redirect("document_detail", pk=document.pk)

    def back_url(self) -> str:
        raise NotImplementedError

    def act(self, form) -> Document:
        raise NotImplementedError

    def refused(self, form, exc: domain.ApplicationError) -> None:
        form_error(form, exc)

    def message(self, document: Document) -> str:
        raise NotImplementedError


class MemoIssueView(_OneTimeFormView):
    """Issue a debit or credit memo to a reseller (`kind`) or a customer, from its issuer."""

    template_name = "dashboard/memo_issue.html"
    form_class = MemoForm
    kind = Account.Kind.RESELLER
    slot = MEMO_SUBMISSIONS

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.account = _or_404(
                selectors.memo_recipient, user=request.user, pk=kwargs["pk"], kind=self.kind
            )
            require_provider_panel(request.user)
        return super().dispatch(request, *args, **kwargs)

    def back_url(self) -> str:
        name = "reseller_detail" if self.kind == Account.Kind.RESELLER else "customer_detail"
        return reverse(name, args=[self.account.pk])

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["currency"] = self.account.currency
        kwargs["tax_categories"] = selectors.memo_tax_categories(
            user=self.request.user, issuer=self.account.issuer or self.account
        )
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            account_url=self.back_url(),
            issue_date=timezone.localdate(),
            **kwargs,
        )

    def act(self, form) -> Document:
        data = form.cleaned_data
        return ledger.memo_issue(
            doc_type=data["doc_type"],
            recipient=self.account,
            lines=form.memo_lines,
            reason=data["reason"],
            issue_date=timezone.localdate(),
            acting_user=self.request.user,
        )

    def refused(self, form, exc: domain.ApplicationError) -> None:
        if isinstance(exc, TaxEngineError):
            form.add_error(
                None, f"The tax engine failed, so nothing was issued: {exc.message} Try again."
            )
        else:
            form_error(form, exc)

    def message(self, document: Document) -> str:
        return (
            f"{document.get_doc_type_display()} {document.display_number} of "
            f"{money(document.total, document.currency)} issued to {self.account.name}."
        )


class CustomerMemoIssueView(MemoIssueView):
    kind = Account.Kind.CUSTOMER


class DocumentRefundView(_OneTimeFormView):
    """Refund part or all of a payment's or credit memo's unapplied amount."""

    template_name = "dashboard/document_refund.html"
    form_class = RefundForm
    slot = REFUND_SUBMISSIONS

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.page = _or_404(selectors.document_page, user=request.user, pk=kwargs["pk"])
            require_provider_panel(request.user)
            self.document = self.page.document
        return super().dispatch(request, *args, **kwargs)

    def back_url(self) -> str:
        return reverse("document_detail", args=[self.document.pk])

    def get_initial(self):
        # the open amount, back to the method that paid it (the card of a card payment)
        return {
            **super().get_initial(),
            "amount": self.document.open_amount,
            "payment_method": self.document.payment_method_id,
        }

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["currency"] = self.document.currency
        kwargs["payment_methods"] = selectors.payment_methods_of(
            user=self.request.user, account=self.document.recipient
        )
        return kwargs

    def get_context_data(self, **kwargs):
        refundable = selectors.document_refundable(user=self.request.user, document=self.document)
        return super().get_context_data(
            document=self.document,
            refundable=refundable,
            open_amount=money(self.document.open_amount, self.document.currency),
            back_url=self.back_url(),
            **kwargs,
        )

    def act(self, form) -> Document:
        data = form.cleaned_data
        return ledger.credit_refund(
            credit_document=self.document,
            amount=data["amount"],
            payment_method=data["payment_method"],
            idempotency_key=f"panel-refund:{data['submission_key']}",
            issue_date=timezone.localdate(),
            acting_user=self.request.user,
            reason=data["reason"],
        )

    def refused(self, form, exc: domain.ApplicationError) -> None:
        if isinstance(exc, CardDeclined):
            form.renew_key()  # nothing was refunded with it: the next submit is a new refund
            form.add_error(
                None, f"The card issuer declined the refund: nothing was refunded. {exc.message}"
            )
        elif isinstance(exc, GatewayError):
            # The same token again: if the gateway did refund, a retry gets that refund back.
            form.add_error(
                None,
                f"The payment gateway failed, so nothing was refunded: {exc.message} "
                "Please try again.",
            )
        else:
            form_error(form, exc)

    def message(self, document: Document) -> str:
        return (
            f"Refund {document.display_number} of {money(document.total, document.currency)} "
            f"issued against {self.document.display_number}."
        )

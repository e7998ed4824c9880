"""Paying chosen documents by card from the panel: /account/pay/ (GET the form, POST pay), seed
003's first way. An account's user ticks open invoices and debit memos (a document's page links
here with it ticked), chooses one of its cards and, optionally, an amount (default: their open
total); `billing.card_payments.documents_pay` charges the card and applies the payment to them,
oldest due first, the rest left as credit balance.

Thin, like dashboard/topup_views.py, and with its one-time submission token as the idempotency
key: renewed after a decline (nothing was charged), kept after a gateway failure or timeout, so
submitting again completes the same payment without charging twice. When the account's issuer
takes no cards (a resale reseller without card payments), the page says how to pay it instead.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View
from django.views.generic import FormView

from billing.card_payments import card_payment_refusal, documents_pay, open_payable_documents
from billing.fields import MoneyFormField
from billing.models import Document
from billing.selectors import account_financials, active_applications
from dashboard.access import own_account_or_404
from dashboard.forms import DocumentsChoiceField
from dashboard.presentation import money
from dashboard.topup_views import TopupForm, charge_refused
from resellers import exceptions as domain
from resellers.models import Account, PaymentMethod
from resellers.selectors import payment_methods_visible
from resellers.services import reseller_set_card_payments


class PayForm(TopupForm):
    """Which open documents, which of the account's cards, and how much (optional)."""

    documents = DocumentsChoiceField(
        queryset=Document.objects.none(),
        label="Documents to pay",
        error_messages={"required": "Choose at least one document to pay."},
    )
    amount = MoneyFormField(
        label="Amount",
        positive=True,
        required=False,
        help_text="Leave it empty to pay the documents' open total. Less pays the oldest due "
        "first; more stays as credit balance.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args, open_documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = open_documents


def paid_message(payment, account: Account) -> str:
    """What the payment did: the documents it paid and what is left as credit balance."""
    applied = active_applications(document=payment).select_related("debit_document")
    paid = ", ".join(
        f"{a.debit_document.display_number} ({money(a.amount, payment.currency)})" for a in applied
    )
    total_applied = applied.aggregate(s=Sum("amount"))["s"] or 0
    text = (
        f"Payment {payment.display_number} of {money(payment.total, payment.currency)} charged "
        f"to {payment.payment_method}: paid {paid or 'nothing'}."
    )
    left = payment.total - total_applied
    if left:
        fin = account_financials(account=account)
        text += (
            f" {money(left, payment.currency)} stays as credit balance (now "
            f"{money(fin.credit_balance, fin.currency)})."
        )
    return text


class PayView(LoginRequiredMixin, FormView):
    template_name = "dashboard/pay.html"
    form_class = PayForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.account = own_account_or_404(
                request.user, allowed=lambda user, account: not account.is_provider
            )
            self.open_documents = open_payable_documents(account=self.account).select_related(
                "issuer"
            )
            self.cards = payment_methods_visible(user=request.user).filter(
                account_id=self.account.pk, is_active=True, kind=PaymentMethod.Kind.CARD
            )
            self.refusal = card_payment_refusal(account=self.account)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        chosen = [int(pk) for pk in self.request.GET.getlist("document") if pk.isdigit()]
        chosen = [pk for pk in chosen if self.open_documents.filter(pk=pk).exists()]
        first = self.cards.first()
        return {
            "documents": chosen or [d.pk for d in self.open_documents],
            "payment_method": first and first.pk,
            "submission_key": uuid.uuid4().hex,
        }

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "open_documents": self.open_documents,
            "cards": self.cards,
            "currency": self.account.currency,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            financials=account_financials(account=self.account),
            has_open=self.open_documents.exists(),
            has_cards=self.cards.exists(),
            refusal=self.refusal.message if self.refusal is not None else "",
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if self.refusal is not None:
            raise Http404("This account's issuer takes no card payments online.")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            payment = documents_pay(
                account=self.account,
                documents=list(data["documents"]),
                payment_method=data["payment_method"],
                amount=data["amount"],
                idempotency_key=f"panel:{data['submission_key']}",
                acting_user=self.request.user,
                today=timezone.localdate(),
            )
        except domain.PermissionDenied as exc:
            raise Http404("Not found.") from exc
        except domain.ApplicationError as exc:
            charge_refused(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, paid_message(payment, self.account))
        return redirect("document_detail", pk=payment.pk)


class CardPaymentsToggleView(LoginRequiredMixin, View):
    """POST: a resale reseller's user turns card payments from its customers on or off
    (`resellers.services.reseller_set_card_payments`); back to My account with what it means."""

    http_method_names = ["post"]

    def post(self, request):
        account = own_account_or_404(
            request.user,
            allowed=lambda user, account: account.is_reseller and not account.is_referral_reseller,
        )
        enabled = request.POST.get("enabled") == "on"
        try:
            reseller_set_card_payments(reseller=account, enabled=enabled, acting_user=request.user)
        except domain.ApplicationError as exc:
            raise Http404("Not found.") from exc
        messages.success(
            request,
            "Your customers may now pay you by card online: their cards are charged through the "
            "gateway and the payments booked to you."
            if enabled
            else "Your customers now pay you offline, as your invoices' payment details say.",
        )
        return redirect("account")

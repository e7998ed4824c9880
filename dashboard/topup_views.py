"""Top up from the panel: /account/topup/ (GET the form, POST pay), and /account/auto-topup/ (a
reseller sets its automatic top-up). An account whose issuer takes cards (a reseller, a customer
the provider bills, a customer of a resale reseller with card payments on;
`billing.topups.topup_refusal`) charges one of its own cards through the payment gateway
(`billing.topups.topup_pay`); the money is booked as a payment document, reference "Top-up".

Thin, like dashboard/views.py: the form validates input, one service call, its ApplicationError
goes back on the field it names with nothing written. Each rendered form carries a one-time
submission token, the top-up's idempotency key, so a double click or a resubmitted page charges
and records once. After a decline the token is renewed (nothing was charged; the next attempt is
a new request); after a gateway failure or timeout it is kept, so submitting again completes the
same top-up without charging twice. Provider staff top up a reseller through the API
(`POST /api/v1/payments/` with `account`), not here.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView

from billing.auto_topups import auto_topup_state, retry_hours
from billing.fields import MoneyFormField
from billing.selectors import account_financials, active_applications
from billing.topups import (
    TopupDeclined,
    TopupGatewayError,
    TopupKeyReused,
    topup_allowed,
    topup_pay,
)
from dashboard.access import own_account_or_404
from dashboard.forms import AUTO_TOPUP_FIELDS, AutoTopupForm
from dashboard.presentation import money
from dashboard.selectors import top_up_cards_of
from dashboard.submissions import form_error
from resellers import exceptions as domain
from resellers.models import Account, PaymentMethod
from resellers.selectors import payment_methods_visible
from resellers.services import account_update_financials
from resellers.tenancy import is_provider_staff


class TopupForm(forms.Form):
    """Which of the account's cards to charge, and how much."""

    payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        empty_label=None,
        label="Card",
        error_messages={
            "required": "Choose a card.",
            "invalid_choice": "Choose one of your cards.",
        },
    )
    amount = MoneyFormField(
        label="Amount",
        positive=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "300.00"}),
        error_messages={"required": "Enter an amount."},
    )
    # One token per rendered form: a double click or a resubmitted page charges once.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, cards, currency: str, **kwargs):
        """`cards`: the account's own active cards, the only valid choices."""
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].queryset = cards
        self.fields["amount"].label = f"Amount ({currency})"
        self.fields["amount"].currency = currency

    @staticmethod
    def initial_for(cards) -> dict:
        first = cards.first()
        return {"submission_key": uuid.uuid4().hex, "payment_method": first and first.pk}

    def renew_key(self) -> None:
        """A fresh token for the form shown again after a decline."""
        self.data = self.data.copy()
        self.data[self.add_prefix("submission_key")] = uuid.uuid4().hex


def charge_refused(form: TopupForm, exc: domain.ApplicationError) -> None:
    """A refused card charge on its form: on the field it names (a gateway failure on the
    form). After a decline or a reused key nothing was charged with the form's token, so it is
    renewed (the next submit is a new charge); after a gateway failure or timeout it is kept,
    so submitting again completes the same charge without charging twice."""
    if isinstance(exc, TopupDeclined | TopupKeyReused):
        form.renew_key()
    field = exc.field if exc.field in form.fields else None
    if isinstance(exc, TopupGatewayError):
        field = None
    form.add_error(field, exc.message)


def topup_message(payment, account: Account) -> str:
    """What the top-up did: the payment, what was applied at once (prepaid), the new figures."""
    fin = account_financials(account=account)
    text = (
        f"Top-up {payment.display_number} of {money(payment.total, payment.currency)} "
        f"charged to {payment.payment_method}."
    )
    applied = active_applications(document=payment).aggregate(s=Sum("amount"))["s"]
    if applied:
        text += f" {money(applied, payment.currency)} of it paid your open documents."
    return (
        f"{text} Your credit balance is now {money(fin.credit_balance, fin.currency)}; "
        f"balance {money(fin.balance, fin.currency)}."
    )


class TopupView(LoginRequiredMixin, FormView):
    template_name = "dashboard/topup.html"
    form_class = TopupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if is_provider_staff(request.user):
                return redirect("billing")
            self.account = own_account_or_404(request.user, allowed=topup_allowed)
            methods = payment_methods_visible(user=request.user).filter(
                account_id=self.account.pk, is_active=True
            )
            self.cards = methods.filter(kind=PaymentMethod.Kind.CARD)
            self.offline = methods.exclude(kind=PaymentMethod.Kind.CARD)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return TopupForm.initial_for(self.cards)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "cards": self.cards, "currency": self.account.currency}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            financials=account_financials(account=self.account),
            has_cards=self.cards.exists(),
            offline_methods=list(self.offline),
            **kwargs,
        )

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            payment = topup_pay(
                account=self.account,
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
        messages.success(self.request, topup_message(payment, self.account))
        return redirect(reverse("account"))


class AutoTopupEditView(LoginRequiredMixin, FormView):
    """/account/auto-topup/: a reseller's own users set its automatic top-up (seed 001 §2): the
    threshold, a fixed amount or a target balance, and the card to charge, whatever its usual
    way of paying. One service call (`account_update_financials`, which audits it); its
    refusal goes back on the field it names with nothing saved. Above the form, where it stands
    now (`billing.auto_topups.auto_topup_state`, as the API's GET says): a charge under way, a
    retry due at a time, charged, failed, and the last attempt's outcome."""

    template_name = "dashboard/auto_topup_edit.html"
    form_class = AutoTopupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if is_provider_staff(request.user):
                return redirect("billing")
            self.account = own_account_or_404(
                request.user, allowed=lambda user, account: account.is_reseller
            )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return AutoTopupForm.initial_for(self.account)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "payment_methods": top_up_cards_of(user=self.request.user, account=self.account),
            "currency": self.account.currency,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            state=auto_topup_state(account=self.account),
            retry_hours=retry_hours(),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            account_update_financials(
                account=self.account,
                acting_user=self.request.user,
                **{name: form.cleaned_data[name] for name in AUTO_TOPUP_FIELDS},
            )
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Automatic top-up saved.")
        return redirect(reverse("account"))

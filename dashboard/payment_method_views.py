"""Payment methods from the panel: /account/cards/add/ (GET the form, POST add). An account the
provider bills (a reseller of either model, a direct or referral customer) adds a credit card to
its own account, whatever its usual way of paying: the gateway tokenises the number on the
server (`billing.cards.card_add`) and only the token, the last four digits and the expiry are
kept. The card then tops up (/account/topup/) and, made the default payment method, pays the
account's orders (seed 004's active-token check).

Thin, like dashboard/topup_views.py: the form validates input, one service call, its
ApplicationError goes back on the field it names with nothing written. The card number is never
shown back: a form shown again asks for it anew. Provider staff have no card form here.
"""

from __future__ import annotations

import calendar
import datetime
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView

from billing.cards import card_add, card_refusal
from dashboard.access import own_account_or_404
from dashboard.confirmations import Confirmation
from resellers import exceptions as domain
from resellers.models import Account, PaymentMethod
from resellers.selectors import default_payment_method, payment_methods_visible
from resellers.services import payment_method_remove, payment_method_set_default
from resellers.tenancy import is_provider_staff

EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


def expiry_last_day(text: str) -> datetime.date | None:
    """`MM/YY` or `MM/YYYY` as the last day a card can be charged (its month's last day), or
    None when it is not such a date."""
    found = EXPIRY.match(text or "")
    if found is None:
        return None
    month, year = int(found.group(1)), int(found.group(2))
    if len(found.group(2)) == 2:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


class CardNumberInput(forms.TextInput):
    """Never renders a value back: a card number is typed, not echoed."""

    def format_value(self, value):
        return None


class CardAddForm(forms.Form):
    card_number = forms.CharField(
        label="Card number",
        max_length=30,
        widget=CardNumberInput(
            attrs={"inputmode": "numeric", "autocomplete": "cc-number", "placeholder": "4242 …"}
        ),
        error_messages={"required": "Enter the card number."},
    )
    expiry = forms.CharField(
        label="Expiry (MM/YY)",
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "12/29"}),
        error_messages={"required": "Enter the expiry month and year, e.g. 12/29."},
    )
    label = forms.CharField(
        label="Name (optional)",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Visa"}),
    )
    make_default = forms.BooleanField(label="Make it my default payment method", required=False)
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_expiry(self) -> datetime.date:
        last_day = expiry_last_day(self.cleaned_data["expiry"])
        if last_day is None:
            raise forms.ValidationError("Enter the expiry as month/year, e.g. 12/29.")
        return last_day

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "card_number": data["card_number"],
            "expiry_date": data["expiry"],
            "label": data["label"],
            "make_default": data["make_default"],
        }


FIELD_OF = {"expiry_date": "expiry", "card_number": "card_number"}


def card_added_message(method: PaymentMethod, *, default: PaymentMethod | None) -> str:
    """What adding the card did, and what it is for now."""
    text = f"Added {method} (valid to {method.expiry_date:%m/%Y})."
    if method.is_default:
        return f"{text} It is your default payment method: your orders are charged to it."
    how = default.get_kind_display().lower() if default is not None else "your default method"
    return f"{text} You still pay by {how}; the card is there to top up with."


class CardAddView(LoginRequiredMixin, FormView):
    template_name = "dashboard/card_add.html"
    form_class = CardAddForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if is_provider_staff(request.user):
                return redirect("billing")
            self.account = own_account_or_404(
                request.user,
                allowed=lambda user, account: card_refusal(user=user, account=account) is None,
            )
            self.default = default_payment_method(account=self.account)
        return super().dispatch(request, *args, **kwargs)

    def _next(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return reverse("account")

    def get_initial(self):
        # Replacing a card that pays the orders: the new one takes over. A cash or deposit payer
        # keeps its way of paying unless it says otherwise.
        pays_by_card = self.default is None or self.default.kind == PaymentMethod.Kind.CARD
        return {"make_default": pays_by_card, "next": self._next()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            default=self.default,
            pays_by_card=self.default is not None and self.default.kind == PaymentMethod.Kind.CARD,
            is_reseller=self.account.kind == Account.Kind.RESELLER,
            back_url=self._next(),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            method = card_add(
                account=self.account,
                acting_user=self.request.user,
                today=timezone.localdate(),
                **form.service_kwargs(),
            )
        except domain.PermissionDenied as exc:
            raise Http404("Not found.") from exc
        except domain.ApplicationError as exc:
            form.add_error(FIELD_OF.get(exc.field), exc.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            card_added_message(method, default=default_payment_method(account=self.account)),
        )
        return redirect(self._next())


def _own_method(request, pk: int) -> PaymentMethod:
    """One of the user's own account's active payment methods, or 404 (another tenant's, a
    customer's seen by its reseller, a removed one)."""
    method = (
        payment_methods_visible(user=request.user)
        .filter(account_id=request.user.account_id, is_active=True, pk=pk)
        .first()
    )
    if method is None:
        raise Http404("Not found.")
    return method


class PaymentMethodRemoveView(LoginRequiredMixin, View):
    """GET: what removing one of your payment methods does (nothing changes); POST: remove it
    (`resellers.services.payment_method_remove`): inactive, no longer the default nor the
    automatic top-up's method; the documents it paid still name it."""

    http_method_names = ["get", "post"]

    def get(self, request, pk: int):
        method = _own_method(request, pk)
        account = method.account
        consequences = [f"{method} can no longer be charged; the documents it paid still name it."]
        if method.is_default:
            consequences.append(
                "It is your default payment method: you have none until you choose another."
            )
        if account.auto_topup_payment_method_id == method.pk:
            consequences.append("Automatic top-up will charge your default payment method.")
        confirm = Confirmation(
            title=f"Remove {method}?",
            consequences=consequences,
            button="Yes, remove it",
            back_url=reverse("account"),
        )
        return render(request, "dashboard/confirm.html", {"confirm": confirm})

    def post(self, request, pk: int):
        method = payment_method_remove(
            payment_method=_own_method(request, pk), acting_user=request.user
        )
        messages.success(request, f"Removed {method}.")
        return redirect("account")


class PaymentMethodDefaultView(LoginRequiredMixin, View):
    """POST: make one of your payment methods your default (orders are charged to a default
    card)."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        method = payment_method_set_default(
            payment_method=_own_method(request, pk), acting_user=request.user
        )
        messages.success(request, f"{method} is now your default payment method.")
        return redirect("account")

"""The provider panel's reseller transactions (issue 11, item 3): every account's charges not
yet invoiced or invoiced, filtered by account, kind, status and billing period; Correct (a new
amount, with a reason) and Cancel (with a reason) for one not yet invoiced. The services decide
(billing.ledger.corrections); an invoiced one says which invoice and that a correcting order
corrects it. Provider staff only (403)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView
from django_tables2 import SingleTableView

from billing import ledger
from billing.gateway import CardDeclined, GatewayError
from billing.models import ResellerTransaction
from billing.selectors import reseller_transactions_visible, transactions_overlapping
from dashboard.access import require_provider_panel
from dashboard.exports import CsvExportMixin
from dashboard.forms import TransactionCancelForm, TransactionCorrectForm, TransactionFilterForm
from dashboard.presentation import money, possessive
from dashboard.submissions import form_error
from dashboard.tables import TransactionTable
from resellers import exceptions as domain
from resellers.models import PaymentMethod

PER_PAGE = 50


class TransactionListView(LoginRequiredMixin, CsvExportMixin, SingleTableView):
    template_name = "dashboard/transactions.html"
    table_class = TransactionTable
    table_pagination = {"per_page": PER_PAGE}

    def get_queryset(self):
        require_provider_panel(self.request.user)
        qs = reseller_transactions_visible(user=self.request.user)
        self.filters = TransactionFilterForm(self.request.GET or None)
        if self.filters.is_valid():
            data = self.filters.cleaned_data
            if data["account"]:
                qs = qs.filter(account_id=data["account"])
            if data["kind"]:
                qs = qs.filter(kind=data["kind"])
            if data["status"]:
                qs = qs.filter(status=data["status"])
            qs = transactions_overlapping(qs, start=data["period_start"], end=data["period_end"])
        return qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filters=self.filters, **kwargs)


class _TransactionFormView(LoginRequiredMixin, FormView):
    template_name = "dashboard/transaction_form.html"
    title = button = ""

    def dispatch(self, request, *args, **kwargs):
        require_provider_panel(request.user)
        try:
            self.tx = reseller_transactions_visible(user=request.user).get(pk=kwargs["pk"])
        except ResellerTransaction.DoesNotExist as exc:
            raise Http404("Not found.") from exc
        return super().dispatch(request, *args, **kwargs)

    def back_url(self) -> str:
        target = self.request.GET.get("next") or self.request.POST.get("next") or ""
        if url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()}):
            return target
        return reverse("transactions")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tx=self.tx,
            tx_amount=money(self.tx.amount, self.tx.currency),
            title=self.title,
            button=self.button,
            back_url=self.back_url(),
            **kwargs,
        )

    def act(self, form) -> str:
        raise NotImplementedError

    def form_valid(self, form):
        try:
            text = self.act(form)
        except domain.ApplicationError as exc:
            form_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, text)
        return redirect(self.back_url())


class TransactionCorrectView(_TransactionFormView):
    form_class = TransactionCorrectForm
    title, button = "Correct transaction", "Save the corrected amount"

    def get_form_kwargs(self):
        methods = PaymentMethod.objects.filter(account_id=self.tx.account_id, is_active=True)
        return {**super().get_form_kwargs(), "currency": self.tx.currency, "methods": methods}

    def get_initial(self):
        return {"amount": self.tx.amount, "submission_key": uuid.uuid4().hex}

    def act(self, form) -> str:
        data = form.cleaned_data
        method = None
        if data["refund"]:
            method = data["payment_method"] or (
                PaymentMethod.objects.filter(
                    account_id=self.tx.account_id, is_active=True, is_default=True
                ).first()
            )
            if method is None:
                raise domain.ApplicationError(
                    "The account has no default payment method: choose one.",
                    field="payment_method",
                )
        try:
            tx = ledger.reseller_transaction_correct(
                transaction_=self.tx,
                amount=data["amount"],
                reason=data["reason"],
                acting_user=self.request.user,
                refund_to=method,
                # one refund per form shown: a double submit sends the same key
                idempotency_key=f"panel:user{self.request.user.pk}:transaction{self.tx.pk}:"
                f"{data['submission_key'] or uuid.uuid4().hex}",
                issue_date=timezone.localdate(),
            )
        except CardDeclined as exc:
            raise domain.ApplicationError(
                f"The card issuer declined the refund: {exc.message} Nothing was changed.",
                field="payment_method",
            ) from exc
        except GatewayError as exc:
            raise domain.ApplicationError(
                f"The payment gateway failed: {exc.message} Nothing was changed; try again.",
                field="payment_method",
            ) from exc
        if method is not None:
            return (
                f"The transaction now reads {money(tx.amount, tx.currency)}, refunded at once "
                f"to {method} with credit memo {tx.invoice.display_number}: it will not reach "
                "the billing order."
            )
        return (
            f"The transaction now reads {money(tx.amount, tx.currency)}; "
            f"{possessive(tx.account.name)} next billing order carries it."
        )


class TransactionCancelView(_TransactionFormView):
    form_class = TransactionCancelForm
    title, button = "Cancel transaction", "Yes, cancel the transaction"

    def act(self, form) -> str:
        tx = ledger.reseller_transaction_cancel(
            transaction_=self.tx, reason=form.cleaned_data["reason"], acting_user=self.request.user
        )
        return f"The transaction of {money(tx.amount, tx.currency)} is cancelled: nobody is billed."
